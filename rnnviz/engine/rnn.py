"""Forward pass and backpropagation through time for the vanilla RNN, recording every step.

The time loop is the only Python loop and it costs three NumPy calls per step each way;
everything that does not depend on the previous step (the input projection, the outputs,
the loss, the weight gradients) is done for all steps in one product.
"""
from __future__ import annotations

import numpy as np

from . import activations
from .model import RNN, input_steps, target_steps
from .trace import Trace


def prepare_inputs(model: RNN, x: np.ndarray, steps: int | None = None) -> np.ndarray:
    """Inputs as the architecture feeds them: (T, B, I) in the model's dtype.

    Accepts (T, B, I) or (T, I).  one-to-many: x may hold only the first step when `steps`
    says how many steps to run; later steps are fed zeros whatever x holds there.
    one-to-one: exactly one step.
    """
    x = np.asarray(x)
    if x.ndim == 2:
        x = x[:, None, :]
    if x.ndim != 3:
        raise ValueError(f"inputs must have shape (T, B, I) or (T, I), got {x.shape}")
    if x.shape[2] != model.input_size:
        raise ValueError(f"inputs have {x.shape[2]} features but the model takes {model.input_size}")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise ValueError(f"inputs must be real numbers, got dtype {x.dtype}")
    if x.shape[0] < 1:
        raise ValueError("inputs hold no time steps")
    if x.shape[1] < 1:
        raise ValueError("inputs hold no sequences (the batch dimension B is 0)")
    x = x.astype(model.dtype, copy=True)
    if model.architecture == "one-to-many" and steps is not None and steps != x.shape[0]:
        if steps < 1:
            raise ValueError(f"steps must be at least 1, got {steps}")
        full = np.zeros((steps, x.shape[1], x.shape[2]), dtype=model.dtype)
        full[0] = x[0]
        x = full
    if model.architecture == "one-to-one" and x.shape[0] != 1:
        raise ValueError(f"a one-to-one network runs exactly one step, but the inputs have {x.shape[0]}")
    x[~input_steps(model.architecture, x.shape[0])] = 0.0
    return x


def prepare_targets(model: RNN, targets: np.ndarray, T: int, B: int) -> np.ndarray:
    """Targets laid out over all T steps: (T, B, O) float for mse, (T, B) int for cross-entropy.

    many-to-one takes one target per sequence, (B, O) / (B,) (or the full layout); the steps
    without a target hold zeros and are masked out of the loss.
    """
    targets = np.asarray(targets)
    mask = target_steps(model.architecture, T)
    O = model.output_size
    if model.loss == "mse":
        if not np.issubdtype(targets.dtype, np.number) or np.issubdtype(targets.dtype, np.complexfloating):
            raise ValueError(f"mse targets must be real numbers, got dtype {targets.dtype}")
        full_shape, step_shape = (T, B, O), (B, O)
        dtype = model.dtype
    else:
        if not np.issubdtype(targets.dtype, np.integer):
            if np.issubdtype(targets.dtype, np.floating) and np.all(np.isfinite(targets)) and np.all(targets == np.round(targets)):
                targets = targets.astype(np.int64)
            else:
                raise ValueError(f"cross-entropy targets must be integer class indices, got dtype {targets.dtype}")
        full_shape, step_shape = (T, B), (B,)
        dtype = np.int64
    if targets.shape == full_shape:
        full = targets.astype(dtype, copy=True)
    elif B == 1 and targets.shape == (T, *step_shape[1:]):  # (T, O) or (T,) for a single sequence
        full = targets.astype(dtype).reshape(full_shape).copy()
    elif mask.sum() == 1 and targets.shape == step_shape:  # one target per sequence
        full = np.zeros(full_shape, dtype=dtype)
        full[-1] = targets
    elif mask.sum() == 1 and B == 1 and targets.shape == step_shape[1:]:
        full = np.zeros(full_shape, dtype=dtype)
        full[-1] = targets
    else:
        raise ValueError(
            f"targets have shape {targets.shape}; expected {full_shape}"
            + (f" or {step_shape}" if mask.sum() == 1 else "")
        )
    if model.loss == "cross-entropy":
        bad = (full < 0) | (full >= O)
        if np.any(bad & mask[:, None]):
            raise ValueError(f"class targets must lie in 0..{O - 1}, got {int(full[bad & mask[:, None]].flat[0])}")
        full[~mask] = 0
    else:
        full[~mask] = 0.0
    return full


def run(
    model: RNN,
    x: np.ndarray,
    targets: np.ndarray | None = None,
    *,
    steps: int | None = None,
    tbptt: int | None = None,
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
) -> Trace:
    """One forward pass and (when targets are given) one BPTT pass, with everything recorded.

    x: (T, B, I) or (T, I).  targets: see `prepare_targets`.  tbptt: truncation window k —
    gradients do not flow back across the boundaries of consecutive windows of k steps.
    h0: (H,) or (B, H) initial state; default the model's h0.  c0: an LSTM's initial cell state.
    An LSTM or GRU model (model.cell 'lstm' / 'gru') runs through engine/gated.py.
    """
    if getattr(model, "cell", "rnn") != "rnn":
        from .gated import run_gated

        return run_gated(model, x, targets, steps=steps, tbptt=tbptt, h0=h0, c0=c0)
    if c0 is not None:
        raise ValueError("c0 is the initial cell state of an LSTM; a vanilla RNN has none")
    if tbptt is not None and tbptt < 1:
        raise ValueError(f"the truncation window must be at least 1 step, got {tbptt}")
    x = prepare_inputs(model, x, steps)
    T, B, _ = x.shape
    tgt = None if targets is None else prepare_targets(model, targets, T, B)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        a, h, y = _forward(model, x, h0)
        probs, loss, loss_t, dL_dy = _loss(model, y, tgt)
        back = _backward(model, x, a, h, dL_dy, tbptt, has_targets=tgt is not None)
    return Trace(
        activation=model.activation,
        architecture=model.architecture,
        loss_name=model.loss,
        params={k: v.copy() for k, v in model.params().items()},
        x=x,
        targets=tgt,
        input_mask=input_steps(model.architecture, T),
        target_mask=target_steps(model.architecture, T),
        a=a,
        h=h,
        y=y,
        probs=probs,
        loss=loss,
        loss_t=loss_t,
        tbptt=tbptt,
        **back,
    )


def _forward(model: RNN, x: np.ndarray, h0: np.ndarray | None) -> tuple[np.ndarray, ...]:
    T, B, I = x.shape
    H = model.hidden_size
    dt = model.dtype
    h = np.empty((T + 1, B, H), dtype=dt)  # (T+1, B, H)
    h[0] = model.h0 if h0 is None else np.asarray(h0, dtype=dt)
    # Input projection for every step in one product: (T*B, I)·(I, H) + b_h -> (T, B, H)
    a = (x.reshape(T * B, I) @ model.W_xh + model.b_h).reshape(T, B, H)
    W_hh = model.W_hh
    act = activations.FORWARD[model.activation]
    tmp = np.empty((B, H), dtype=dt)
    for t in range(T):
        np.matmul(h[t], W_hh, out=tmp)  # h_{t-1}·W_hh
        a[t] += tmp  # a_t = x_t·W_xh + b_h + h_{t-1}·W_hh
        act(a[t], out=h[t + 1])  # h_t = f(a_t)
    O = model.output_size
    y = (h[1:].reshape(T * B, H) @ model.W_hy + model.b_y).reshape(T, B, O)  # (T, B, O)
    return a, h, y


def _loss(model: RNN, y: np.ndarray, tgt: np.ndarray | None) -> tuple:
    T, B, O = y.shape
    mask = target_steps(model.architecture, T)
    dL_dy = np.zeros_like(y)  # (T, B, O)
    loss_t = np.zeros(T, dtype=y.dtype)  # (T,)
    probs = None
    if model.loss == "cross-entropy":
        z = y - y.max(axis=2, keepdims=True)
        logsumexp = np.log(np.exp(z).sum(axis=2, keepdims=True))
        logp = z - logsumexp  # (T, B, O) log softmax
        probs = np.exp(logp)
    if tgt is None:
        return probs, float("nan"), loss_t, dL_dy
    n_steps = int(mask.sum())
    if model.loss == "mse":
        diff = y[mask] - tgt[mask]  # (n_steps, B, O)
        loss_t[mask] = np.mean(diff * diff, axis=(1, 2))
        dL_dy[mask] = diff * (2.0 / diff.size)
    else:
        ym = tgt[mask]  # (n_steps, B) class indices
        nll = -np.take_along_axis(logp[mask], ym[..., None], axis=2)[..., 0]  # (n_steps, B)
        loss_t[mask] = nll.mean(axis=1)
        g = probs[mask].copy()
        np.put_along_axis(g, ym[..., None], np.take_along_axis(g, ym[..., None], axis=2) - 1.0, axis=2)
        dL_dy[mask] = g / (n_steps * B)
    loss = float(loss_t[mask].mean())
    return probs, loss, loss_t, dL_dy


def _backward(
    model: RNN,
    x: np.ndarray,
    a: np.ndarray,
    h: np.ndarray,
    dL_dy: np.ndarray,
    tbptt: int | None,
    has_targets: bool,
) -> dict:
    T, B, I = x.shape
    H, O = model.hidden_size, model.output_size
    W_hh_T = np.ascontiguousarray(model.W_hh.T)
    fprime = activations.derivative(model.activation, a, h[1:])  # (T, B, H) f'(a_t)
    # From the outputs, for all steps at once: dL/dy_t·W_hyᵀ -> (T, B, H)
    dL_dh_out = (dL_dy.reshape(T * B, O) @ model.W_hy.T).reshape(T, B, H)
    dL_dh = dL_dh_out.copy()  # (T, B, H), receives the recurrent part below
    dL_da = np.empty_like(dL_dh)  # (T, B, H)
    tmp = np.empty((B, H), dtype=a.dtype)
    for t in range(T - 1, -1, -1):
        # The future's share arrives through a_{t+1} = ... + h_t·W_hh, unless a TBPTT
        # window starts at t+1 (then the gradient is cut there).
        if t + 1 < T and (tbptt is None or (t + 1) % tbptt != 0):
            np.matmul(dL_da[t + 1], W_hh_T, out=tmp)
            dL_dh[t] += tmp
        np.multiply(dL_dh[t], fprime[t], out=dL_da[t])  # dL/da_t = dL/dh_t ⊙ f'(a_t)

    xs, hs_prev, hs = x.reshape(T * B, I), h[:-1].reshape(T * B, H), h[1:].reshape(T * B, H)
    da2, dy2 = dL_da.reshape(T * B, H), dL_dy.reshape(T * B, O)
    grads = {
        "grad_W_xh": xs.T @ da2,  # (I, H)  Σ_t x_tᵀ·dL/da_t
        "grad_W_hh": hs_prev.T @ da2,  # (H, H)  Σ_t h_{t-1}ᵀ·dL/da_t
        "grad_b_h": da2.sum(axis=0),  # (H,)
        "grad_W_hy": hs.T @ dy2,  # (H, O)  Σ_t h_tᵀ·dL/dy_t
        "grad_b_y": dy2.sum(axis=0),  # (O,)
    }
    step_grad_norms = {
        "W_xh": _per_step_outer_norms(x, dL_da),
        "W_hh": _per_step_outer_norms(h[:-1], dL_da),
        "b_h": np.linalg.norm(dL_da.sum(axis=1), axis=1),
        "W_hy": _per_step_outer_norms(h[1:], dL_dy),
        "b_y": np.linalg.norm(dL_dy.sum(axis=1), axis=1),
    }
    grad_gain = _gradient_gain(dL_dh[-1] if has_targets else None, fprime, W_hh_T, tbptt)
    return {
        "dL_dy": dL_dy,
        "dL_dh_out": dL_dh_out,
        "dL_dh": dL_dh,
        "dL_da": dL_da,
        "grads": grads,
        "step_grad_norms": step_grad_norms,
        "grad_gain": grad_gain,
    }


def _per_step_outer_norms(A: np.ndarray, D: np.ndarray) -> np.ndarray:
    """(T,) Frobenius norms of Σ_b A[t,b]ᵀ·D[t,b] without forming the (T, M, N) products
    when the batch is small: ‖AᵀD‖² = Σ (A·Aᵀ) ⊙ (D·Dᵀ) over the (B, B) Gram matrices."""
    T, B, M = A.shape
    N = D.shape[2]
    if B == 1:
        return np.sqrt(np.einsum("tbm,tbm->t", A, A) * np.einsum("tbn,tbn->t", D, D))
    if B * B * (M + N) < M * N * B:
        ga = np.matmul(A, A.transpose(0, 2, 1))  # (T, B, B)
        gd = np.matmul(D, D.transpose(0, 2, 1))  # (T, B, B)
        return np.sqrt(np.maximum(np.einsum("tij,tij->t", ga, gd), 0.0))
    outer = np.matmul(A.transpose(0, 2, 1), D)  # (T, M, N)
    return np.sqrt(np.einsum("tmn,tmn->t", outer, outer))


def _gradient_gain(
    g_T: np.ndarray | None, fprime: np.ndarray, W_hh_T: np.ndarray, tbptt: int | None
) -> np.ndarray:
    """(T,) how a unit-length signal at h_T shrinks or grows on its way back to h_t:
    ‖u·∂h_T/∂h_t‖ with u = dL/dh_T/‖dL/dh_T‖ per sequence (uniform when that is zero),
    averaged over the batch.  ∂h_{t+1}/∂h_t = W_hh·diag(f'(a_{t+1})) in row form.
    Under TBPTT the chain is not cut: this measures the network, not the truncation."""
    T, B, H = fprime.shape
    g = np.empty((T, B, H), dtype=fprime.dtype)
    if g_T is None:
        u = np.full((B, H), 1.0 / np.sqrt(H), dtype=fprime.dtype)
    else:
        n = np.linalg.norm(g_T, axis=1, keepdims=True)
        u = np.where(n > 0, g_T / np.where(n > 0, n, 1.0), 1.0 / np.sqrt(H))
    g[T - 1] = u
    tmp = np.empty((B, H), dtype=fprime.dtype)
    for t in range(T - 2, -1, -1):
        np.multiply(g[t + 1], fprime[t + 1], out=tmp)
        np.matmul(tmp, W_hh_T, out=g[t])
    return np.linalg.norm(g, axis=2).mean(axis=1)


def jacobian_norms(trace: Trace, seq: int = 0, ord: str = "spectral") -> np.ndarray:
    """(T,) exact ‖∂h_T/∂h_t‖ for one sequence of a trace (spectral or Frobenius norm).

    Costs T·H³; meant for the vanishing-gradient views, not for every pass.
    """
    if trace.cell != "rnn":
        from .gated import jacobian_norms_gated

        return jacobian_norms_gated(trace, seq, ord)
    T, _, H = trace.a.shape
    fprime = activations.derivative(trace.activation, trace.a[:, seq], trace.h[1:, seq])  # (T, H)
    W_hh = trace.params["W_hh"]
    J = np.eye(H, dtype=trace.a.dtype)  # ∂h_T/∂h_T, row form: J[i, j] = ∂h_T[j]/∂h_t[i]
    out = np.empty(T, dtype=trace.a.dtype)
    for t in range(T - 1, -1, -1):
        out[t] = np.linalg.norm(J, 2 if ord == "spectral" else "fro")
        if t > 0:
            J = (W_hh * fprime[t]) @ J  # ∂h_{t+1}/∂h_t · ... (rows: h_t units)
    return out
