"""The vanilla RNN's pass: forward, BPTT with the gradient-gain probe, and the per-step weight
gradients, recording every step.

The time loop is the only Python loop, and it costs two NumPy calls per step each way: forward,
[h_{t-1} | 1 | x_t] times one stacked weight matrix, then f (for large steps one more, f' while
the step is in the cache); backward, one product for BPTT and the gain probe together (the probe
as extra rows of the same block), then ⊙ f'.  Everything that does not depend on the previous
step (the outputs, the loss, the weight gradients and their per-step contributions) is done a
few steps or all steps at once, the weight matrices the per-step products read are 64-byte
aligned, and the big arrays are reused from one run to the next (kernels.Workspace).
bench/README.md has the measurements behind each of these choices.
"""
from __future__ import annotations

import numpy as np

from rnnviz.engine import activations
from rnnviz.engine.inputs import prepare_inputs, prepare_targets
from rnnviz.engine.kernels import Arrays, aligned_stack, output_loss, outputs, step_products, step_rows, workspace
from rnnviz.engine.model import RNN, input_steps, target_steps
from rnnviz.engine.trace import Trace, from_outputs


# The forward pass works out f'(a_t) step by step from B·H = 4096 entries per step and 2^18 in
# all (measured: from there on it saves up to 10 %; below, the one pass afterwards is cheaper).
FPRIME_IN_FORWARD_FROM = 1 << 12
FPRIME_IN_FORWARD_TBH = 1 << 18


def run_vanilla(model: RNN, x: np.ndarray, targets: np.ndarray | None, *, steps: int | None, tbptt: int | None,
                h0: np.ndarray | None, gain_sequences: int) -> Trace:
    """One forward pass and (when targets are given) one BPTT pass of a vanilla RNN, everything
    recorded (run.run checks gain_sequences and explains the arguments)."""
    if tbptt is not None and tbptt < 1:
        raise ValueError(f"the truncation window must be at least 1 step, got {tbptt}")
    x = prepare_inputs(model, x, steps)
    T, B, _ = x.shape
    if h0 is not None and np.shape(h0) not in ((model.hidden_size,), (B, model.hidden_size)):
        raise ValueError(f"h0 must have shape ({model.hidden_size},) or ({B}, {model.hidden_size}), got {np.shape(h0)}")
    tgt = None if targets is None else prepare_targets(model, targets, T, B)
    target_mask = target_steps(model.architecture, T)
    H = model.hidden_size
    ws = workspace(T * B * H)
    # f'(a_t) for BPTT, one row per row of the backward block (see _backward).  With large
    # steps the forward pass works it out as it goes, while a_t and h_t are in the cache (a pass
    # over all steps afterwards reads them back from memory: 7 ms of a 63 ms run at T=500,
    # B=32, H=128); with small ones the per-step calls would cost more than that pass.
    P = min(B, int(gain_sequences))
    fp = ws.get("fprime", (T, B + P, H), model.dtype)  # the probed sequences' f' again in rows B..
    fp_in_forward = B * H >= FPRIME_IN_FORWARD_FROM and T * B * H >= FPRIME_IN_FORWARD_TBH
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        a, h, y, rows = _forward(model, x, h0, ws, fp[:, :B] if fp_in_forward else None)
        probs, loss, loss_t, dL_dy = output_loss(model, y, tgt, target_mask)
        back = _backward(model, rows, a, dL_dy, tbptt, has_targets=tgt is not None, ws=ws, fp=fp,
                         fp_done=fp_in_forward, P=P)
    return Trace(
        activation=model.activation,
        architecture=model.architecture,
        loss_name=model.loss,
        params={k: v.copy() for k, v in model.params().items()},
        x=x,
        targets=tgt,
        input_mask=input_steps(model.architecture, T),
        target_mask=target_mask,
        a=a,
        h=h,
        y=y,
        probs=probs,
        loss=loss,
        loss_t=loss_t,
        tbptt=tbptt,
        **back,
    )


def forward_loss_vanilla(model: RNN, x: np.ndarray, targets: np.ndarray) -> float:
    """run_vanilla(...).loss from the forward pass alone (run.forward_loss)."""
    x = prepare_inputs(model, x)
    T, B, _ = x.shape
    tgt = prepare_targets(model, targets, T, B)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        _, _, y, _ = _forward(model, x, None, workspace(T * B * model.hidden_size))
        return output_loss(model, y, tgt, target_steps(model.architecture, T))[1]


def _forward(
    model: RNN,
    x: np.ndarray,
    h0: np.ndarray | None,
    ws: Arrays,
    fprime: np.ndarray | None = None,
) -> tuple[np.ndarray, ...]:
    """a (T, B, H), h (T+1, B, H), y (T, B, O) and the rows [h_t | 1 | x_{t+1}] (T+1, B, H+1+I)
    that h is a view of.  fprime: when given, a (T, B, H) array that receives f'(a_t) step by
    step (BPTT needs it; see run_vanilla for when that is done here)."""
    T, B, _ = x.shape
    H = model.hidden_size
    dt = model.dtype
    # One row per step and sequence, [h_{t-1} | 1 | x_t], so that the pre-activation is one
    # product per step, a_t = [h_{t-1}, 1, x_t]·[W_hh; b_h; W_xh], and f writes h_t straight
    # into the next row.  z[t] holds h_t in its first H columns (z[0]: h_0, z[T]: h_T).
    z = step_rows(x, model.h0 if h0 is None else np.asarray(h0, dtype=dt), H, ws, "forward")  # (T+1, B, H+1+I)
    w = aligned_stack(model.W_hh, model.b_h[None, :], model.W_xh)  # (H+1+I, H)
    a = ws.get("a", (T, B, H), dt)  # (T, B, H)
    act = activations.FORWARD[model.activation]
    matmul = np.matmul
    if fprime is None:
        for z_prev, a_t, h_t in zip(z, a, z[1:, :, :H]):  # 2 NumPy calls per step
            matmul(z_prev, w, out=a_t)  # a_t = x_t·W_xh + h_{t-1}·W_hh + b_h
            act(a_t, out=h_t)  # h_t = f(a_t)
    else:
        act_prime = activations.DERIVATIVE_STEP[model.activation]
        for z_prev, a_t, h_t, f_t in zip(z, a, z[1:, :, :H], fprime):
            matmul(z_prev, w, out=a_t)
            act(a_t, out=h_t)
            act_prime(a_t, h_t, f_t)  # f'(a_t) while a_t and h_t are in the cache
    h = z[:, :, :H]  # (T+1, B, H)
    y = outputs(z, model.W_hy, model.b_y)  # (T, B, O)
    return a, h, y, z


def _backward(
    model: RNN,
    rows: np.ndarray,
    a: np.ndarray,
    dL_dy: np.ndarray,
    tbptt: int | None,
    has_targets: bool,
    ws: Arrays,
    fp: np.ndarray,
    fp_done: bool,
    P: int,
) -> dict:
    """BPTT and the gain probe.  rows: the forward pass's (T+1, B, H+1+I) [h_t | 1 | x_{t+1}]
    (see _forward), whose first H columns are h and whose first T rows are the inputs of each
    step's product (so the weight gradients come from them directly: _grads_and_step_norms).
    fp: (T, B+P, H) for f'(a_t), its first B rows already filled when fp_done (by the forward
    pass).  P = min(B, gain_sequences): the sequences the gain probe follows."""
    T, B, H = a.shape
    O = model.output_size
    dt = a.dtype
    K = H + O
    h = rows[:, :, :H]  # (T+1, B, H)
    W_hy_T = model.W_hy.T
    dL_dh_T = from_outputs(dL_dy[T - 1], W_hy_T)  # (B, H) the last step's dL/dh, all from y_T
    # Two chains run back in time:
    #   BPTT:           dL/dh_t = [dL/da_{t+1} | dL/dy_t]·[W_hhᵀ; W_hyᵀ],  dL/da_t = dL/dh_t ⊙ f'(a_t)
    #   the gain probe: g_t = (g_{t+1} ⊙ f'(a_{t+1}))·W_hhᵀ, g_T = dL/dh_T/‖dL/dh_T‖ per sequence
    #                   (see gradient_gain), for the first P = min(B, gain_sequences) sequences.
    # They share one block of B + P rows per step, the probe's rows after the batch's (with 0 for
    # their dL/dy part), so each step costs one product and one multiplication for both (_chain):
    # e_t = [dL/da_t | dL/dy_{t-1}] (the rows of the next product), z_t = dL/dh_t.
    # The probe costs as much per sequence as BPTT itself, and its mean over a few sequences
    # reads the same as over a whole batch (W_hh and how saturated the units are set it), so a
    # large batch probes only its first P sequences.
    R = B + P
    w = aligned_stack(model.W_hh.T, W_hy_T)  # (K, H)
    if not fp_done:
        activations.derivative(model.activation, a, h[1:], out=fp[:, :B])
    fp[:, B:] = fp[:, :P]
    e = ws.get("e", (T, R, K), dt)
    e[1:, :B, H:] = dL_dy[:-1]
    e[0, :B, H:] = 0.0
    e[:, B:, H:] = 0.0
    z = ws.get("z", (T, R, H), dt)
    z[T - 1, :B] = dL_dh_T  # the last step has no future
    z[T - 1, B:] = _gain_start(dL_dh_T[:P] if has_targets else None, P, H, dt)
    np.multiply(z[T - 1], fp[T - 1], out=e[T - 1, :, :H])
    dL_dh = z[:, :B]  # (T, B, H)
    cut = None if tbptt is None or tbptt >= T else (tbptt, dL_dh, dL_dy, W_hy_T)
    _chain(e, z, fp, w, H, cut)
    g = z[:, B:]  # (T, P, H)
    dL_da = e[:, :B, :H]  # (T, B, H)
    grad_gain = np.add.reduce(np.sqrt(np.einsum("tph,tph->tp", g, g)), axis=1) / P  # (T,)
    grads, step_grad_norms = _grads_and_step_norms(rows, dL_da, dL_dy, ws)
    return {
        "dL_dy": dL_dy,
        "dL_dh": dL_dh,
        "dL_da": dL_da,
        "grads": grads,
        "step_grad_norms": step_grad_norms,
        "grad_gain": grad_gain,
    }


def _chain(e: np.ndarray, z: np.ndarray, f: np.ndarray, w: np.ndarray, H: int, cut=None) -> None:
    """Back in time, t = T-2 .. 0:  z_t = e_{t+1}·w,  then e_t[..., :H] = z_t ⊙ f_t.  Time is
    the first axis of e, z and f.  `cut` = (k, dL_dh, dL_dy, W_hyᵀ): a TBPTT window of k steps
    starts at t+1, so dL/dh_t gets only what comes from y_t (dL_dh and dL_dy have time first too)."""
    T = len(z)
    matmul, multiply = np.matmul, np.multiply
    if cut is None:
        for src, dst, f_t, nxt in zip(e[1:][::-1], z[: T - 1][::-1], f[: T - 1][::-1], e[: T - 1, ..., :H][::-1]):
            matmul(src, w, out=dst)
            multiply(dst, f_t, out=nxt)
        return
    k, dL_dh, dL_dy, W_hy_T = cut
    for t in range(T - 2, -1, -1):
        matmul(e[t + 1], w, out=z[t])
        if (t + 1) % k == 0:
            from_outputs(dL_dy[t], W_hy_T, out=dL_dh[t])  # (the gain probe, when stacked in z, is not cut)
        multiply(z[t], f[t], out=e[t, ..., :H])


def _grads_and_step_norms(
    rows: np.ndarray, dL_da: np.ndarray, dL_dy: np.ndarray, ws: Arrays
) -> tuple[dict, dict]:
    """The weight gradients, totals over steps and batch, and name -> (T,) ‖contribution of
    step t to that gradient‖.  The contribution of step t to W_hh is Σ_b h_{t-1}ᵀ·dL/da_t
    (W_xh: x_t, dL/da_t; W_hy: h_t, dL/dy_t; b_h, b_y: Σ_b dL/da_t, Σ_b dL/dy_t), so
    [h_{t-1} | 1 | x_t]ᵀ·dL/da_t gives W_hh, b_h and W_xh at once (rows 0..H-1, H, H+1..), and
    [h_t | 1]ᵀ·dL/dy_t gives W_hy and b_y.

    rows: (T+1, B, H+1+I) [h_t | 1 | x_{t+1}] from the forward pass; dL_da (T, B, H);
    dL_dy (T, B, O)."""
    T, B, H = dL_da.shape
    O = dL_dy.shape[2]
    K = rows.shape[2]
    A_in, A_out = rows[:T], rows[1:, :, : H + 1]  # (T, B, K), (T, B, H+1)
    if B == 1:
        # One sequence: every contribution is an outer product u·vᵀ, whose norm is ‖u‖·‖v‖, and
        # the totals are one product each over all steps.
        g_in = A_in.reshape(T, K).T @ dL_da.reshape(T, H)  # (K, H)
        g_out = A_out.reshape(T, H + 1).T @ dL_dy.reshape(T, O)  # (H+1, O)
        h, x = rows[:, :, :H], A_in[:, :, H + 1 :]
        sq = lambda v: np.einsum("tbi,tbi->t", v, v)  # noqa: E731  (T,) squared norms per step
        nh, nda, ndy = sq(h), sq(dL_da), sq(dL_dy)
        norms = {"W_xh": np.sqrt(sq(x) * nda), "W_hh": np.sqrt(nh[:-1] * nda), "b_h": np.sqrt(nda),
                 "W_hy": np.sqrt(nh[1:] * ndy), "b_y": np.sqrt(ndy)}
    else:
        # A batch: the contribution of step t is the product A_tᵀ·D_t, made a few steps at a time
        # (see step_products).  That costs the same arithmetic as the totals alone, while norms
        # from (B, B) Gram matrices would cost B²·(M+N) per step on top.
        g_in, sq_in = step_products(A_in, dL_da, ws, "contrib_in")  # (K, H), (T, K, 1)
        g_out, sq_out = step_products(A_out, dL_dy, ws, "contrib_out")  # (H+1, O), (T, H+1, 1)
        sq_in, sq_out = sq_in[..., 0], sq_out[..., 0]
        norms = {"W_xh": np.sqrt(np.add.reduce(sq_in[:, H + 1 :], axis=1)),
                 "W_hh": np.sqrt(np.add.reduce(sq_in[:, :H], axis=1)), "b_h": np.sqrt(sq_in[:, H]),
                 "W_hy": np.sqrt(np.add.reduce(sq_out[:, :H], axis=1)), "b_y": np.sqrt(sq_out[:, H])}
    grads = {"grad_W_xh": g_in[H + 1 :], "grad_W_hh": g_in[:H], "grad_b_h": g_in[H],
             "grad_W_hy": g_out[:H], "grad_b_y": g_out[H]}
    return grads, {k: norms[k] for k in ("W_xh", "W_hh", "b_h", "W_hy", "b_y")}


def _gain_start(g_T: np.ndarray | None, B: int, H: int, dtype) -> np.ndarray:
    """(B, H) unit-length start of the gain probe: dL/dh_T/‖dL/dh_T‖ per sequence, uniform
    when there is no loss or that gradient is zero."""
    if g_T is None:
        return np.full((B, H), 1.0 / np.sqrt(H), dtype=dtype)
    n = np.sqrt(np.einsum("bh,bh->b", g_T, g_T))[:, None]
    if (n > 0).all():
        return g_T / n
    return np.where(n > 0, g_T / np.where(n > 0, n, 1.0), 1.0 / np.sqrt(H)).astype(dtype, copy=False)


def gradient_gain(g_T: np.ndarray | None, fprime: np.ndarray, W_hh_T: np.ndarray) -> np.ndarray:
    """(T,) how a unit-length signal at h_T shrinks or grows on its way back to h_t:
    ‖u·∂h_T/∂h_t‖ with u = dL/dh_T/‖dL/dh_T‖ per sequence (uniform when that is zero),
    averaged over the sequences given (`run` passes its first min(B, gain_sequences)).
    ∂h_{t+1}/∂h_t = W_hh·diag(f'(a_{t+1})) in row form.  Under TBPTT the chain is not cut:
    this measures the network, not the truncation.

    `run` computes the same probe fused with BPTT (in _backward); this standalone form is
    the reference for it (tests compare the two)."""
    T, B, H = fprime.shape
    g = np.empty((T, B, H), dtype=fprime.dtype)
    g[T - 1] = _gain_start(g_T, B, H, fprime.dtype)
    tmp = np.empty((B, H), dtype=fprime.dtype)
    for t in range(T - 2, -1, -1):
        np.multiply(g[t + 1], fprime[t + 1], out=tmp)
        np.matmul(tmp, W_hh_T, out=g[t])
    return np.linalg.norm(g, axis=2).mean(axis=1)


def jacobian_norms_vanilla(trace: Trace, seq: int = 0, ord: str = "spectral") -> np.ndarray:
    """(T,) exact ‖∂h_T/∂h_t‖ for one sequence of a vanilla trace (spectral or Frobenius norm).
    ∂h_{t+1}/∂h_t = W_hh·diag(f'(a_{t+1})) in row form."""
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
