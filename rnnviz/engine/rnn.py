"""Forward pass and backpropagation through time for the vanilla RNN, recording every step.

The time loop is the only Python loop, and it costs two NumPy calls per step each way: forward,
[h_{t-1} | 1 | x_t] times one stacked weight matrix, then f (for large steps one more, f' while
the step is in the cache); backward, one product for BPTT and the gain probe together (the probe
as extra rows of the same block), then ⊙ f'.  Everything that does not depend on the previous
step (the outputs, the loss, the weight gradients and their per-step contributions) is done a
few steps or all steps at once, the weight matrices the per-step products read are 64-byte
aligned, and the big arrays are reused from one run to the next (`_Workspace`).  bench/README.md
has the measurements behind each of these choices.
"""
from __future__ import annotations

import sys
import threading

import numpy as np

from rnnviz.engine import activations
from rnnviz.engine.model import RNN, input_steps, target_steps
from rnnviz.engine.trace import Trace, from_outputs


GAIN_SEQUENCES = 4  # grad_gain follows the first min(B, 4) sequences of a batch by default (see _backward)


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
    gain_sequences: int = GAIN_SEQUENCES,
) -> Trace:
    """One forward pass and (when targets are given) one BPTT pass, with everything recorded.

    x: (T, B, I) or (T, I).  targets: see `prepare_targets`.  tbptt: truncation window k —
    gradients do not flow back across the boundaries of consecutive windows of k steps.
    h0: (H,) or (B, H) initial state; default the model's h0.  c0: an LSTM's initial cell state.
    gain_sequences: `grad_gain` is the mean over the first min(B, gain_sequences) sequences
    (the probe costs as much per sequence as BPTT; see _backward).
    An LSTM or GRU model (model.cell 'lstm' / 'gru') runs through engine/gated.py.
    """
    if isinstance(gain_sequences, bool) or not isinstance(gain_sequences, (int, np.integer)) or gain_sequences < 1:
        raise ValueError(f"gain_sequences must be a whole number of at least 1, got {gain_sequences!r}")
    if getattr(model, "cell", "rnn") != "rnn":
        from rnnviz.engine.gated import run_gated

        return run_gated(model, x, targets, steps=steps, tbptt=tbptt, h0=h0, c0=c0, gain_sequences=gain_sequences)
    if c0 is not None:
        raise ValueError("c0 is the initial cell state of an LSTM; a vanilla RNN has none")
    if tbptt is not None and tbptt < 1:
        raise ValueError(f"the truncation window must be at least 1 step, got {tbptt}")
    x = prepare_inputs(model, x, steps)
    T, B, _ = x.shape
    if h0 is not None and np.shape(h0) not in ((model.hidden_size,), (B, model.hidden_size)):
        raise ValueError(f"h0 must have shape ({model.hidden_size},) or ({B}, {model.hidden_size}), got {np.shape(h0)}")
    tgt = None if targets is None else prepare_targets(model, targets, T, B)
    target_mask = target_steps(model.architecture, T)
    H = model.hidden_size
    ws = _workspace(T * B * H)
    # f'(a_t) for BPTT, one row per row of the backward block (see _backward).  With large
    # steps the forward pass works it out as it goes, while a_t and h_t are in the cache (a pass
    # over all steps afterwards reads them back from memory: 7 ms of a 63 ms run at T=500,
    # B=32, H=128); with small ones the per-step calls would cost more than that pass.
    P = min(B, int(gain_sequences))
    fp = ws.get("fprime", (T, B + P, H), model.dtype)  # the probed sequences' f' again in rows B..
    fp_in_forward = B * H >= _FPRIME_IN_FORWARD_FROM and T * B * H >= _FPRIME_IN_FORWARD_TBH
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        a, h, y, rows = _forward(model, x, h0, ws, fp[:, :B] if fp_in_forward else None)
        probs, loss, loss_t, dL_dy = _loss(model, y, tgt, target_mask)
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


class _Workspace(threading.local):
    """The big arrays of `run`, kept between runs of one thread and handed out again once
    nothing else refers to them.

    A fresh array costs its page faults on first touch, and for a large batch and many steps
    that can be as much time as all the arithmetic.  Traces hold (views of) these arrays, so
    an array is reused only when its reference count shows no view, trace or caller still
    holds it; otherwise a new one is made.  Each role keeps at most two arrays (so that
    `trace = run(...)` in a loop, where the previous trace is alive during the next run,
    reuses them as well), and arrays above `MAX_BYTES` are never kept.  So a thread holds on to
    at most two runs' worth of these arrays (measured after runs with T=500, B=32, H=128:
    170 MB for the vanilla cell, 550 MB for a GRU, 670 MB for an LSTM).  Vanilla runs below
    `_POOL_FROM` do not use it at all; gated runs keep their (small) weight blocks and
    gradient totals in it whatever their size.
    """

    MAX_BYTES = 1 << 27  # 128 MiB

    def __init__(self) -> None:
        self.slots: dict[str, list[np.ndarray]] = {}
        self.sentinel = [np.empty(0)]  # never handed out: its count is the "free" baseline

    def get(self, role: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """An array of this shape and dtype, contents undefined."""
        slots = self.slots.setdefault(role, [])
        free = sys.getrefcount(self.sentinel[0])  # referenced by a list only, as slots[i]
        for i in range(len(slots)):
            if slots[i].shape == shape and slots[i].dtype == dtype and sys.getrefcount(slots[i]) <= free:
                return slots[i]
        arr = np.empty(shape, dtype=dtype)
        if arr.nbytes <= self.MAX_BYTES:
            if len(slots) < 2:
                slots.append(arr)
            else:  # replace one that is of another shape, else the older one (still in use)
                i = next((i for i in range(len(slots)) if slots[i].shape != shape or slots[i].dtype != dtype), 0)
                slots.pop(i)
                slots.append(arr)
        return arr


class _Fresh:
    """The same interface as `_Workspace`, allocating every time (for small runs, where the
    allocator recycles memory by itself and the bookkeeping would cost more than it saves)."""

    @staticmethod
    def get(role: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        return np.empty(shape, dtype=dtype)


_workspaces = _Workspace()
_FRESH = _Fresh()
_POOL_FROM = 1 << 12  # T·B·H entries from which fresh arrays (up to 4× that) start to cost page faults


def _workspace(size: int = 0) -> _Workspace | _Fresh:
    return _workspaces if size >= _POOL_FROM else _FRESH


_ALIGN_FROM = 1 << 14  # bytes: smaller weight blocks are overhead-bound, where aligning costs more than it saves


def aligned_empty(shape: tuple[int, ...], dtype, get=None) -> np.ndarray:
    """An uninitialised C-ordered array whose data start on a 64-byte boundary, cut from a 1-D
    buffer 64 bytes longer than needed (`get(shape, dtype)`, e.g. a workspace pool's; default
    np.empty).  OpenBLAS's kernels run about a third faster on a 64-byte aligned weight matrix
    than on one NumPy's allocator happens to place 8 or 16 bytes off ((32, 130)·(130, 128): 12 µs
    against 16-17 µs on the project's machine); which one a run got used to be luck."""
    dt = np.dtype(dtype)
    n = int(np.prod(shape))
    buf = (get or np.empty)((n + 64 // dt.itemsize,), dt)
    start = (-buf.ctypes.data % 64) // dt.itemsize
    return buf[start : start + n].reshape(shape)


def aligned_stack(*blocks: np.ndarray) -> np.ndarray:
    """np.concatenate(blocks) (along the first axis), 64-byte aligned (see aligned_empty) when it
    is large enough for that to pay: the weight matrices the per-step products read."""
    out = np.concatenate(blocks)
    if out.nbytes < _ALIGN_FROM or out.ctypes.data % 64 == 0:
        return out
    aligned = aligned_empty(out.shape, out.dtype)
    aligned[...] = out
    return aligned


def _forward(
    model: RNN,
    x: np.ndarray,
    h0: np.ndarray | None,
    ws: _Workspace | _Fresh | None = None,
    fprime: np.ndarray | None = None,
) -> tuple[np.ndarray, ...]:
    """a (T, B, H), h (T+1, B, H), y (T, B, O) and the rows [h_t | 1 | x_{t+1}] (T+1, B, H+1+I)
    that h is a view of.  fprime: when given, a (T, B, H) array that receives f'(a_t) step by
    step (BPTT needs it; see run for when that is done here)."""
    T, B, I = x.shape
    H = model.hidden_size
    dt = model.dtype
    K = H + 1 + I
    ws = _FRESH if ws is None else ws
    # One row per step and sequence, [h_{t-1} | 1 | x_t], so that the pre-activation is one
    # product per step, a_t = [h_{t-1}, 1, x_t]·[W_hh; b_h; W_xh], and f writes h_t straight
    # into the next row.  z[t] holds h_t in its first H columns (z[0]: h_0, z[T]: h_T).
    z = ws.get("forward", (T + 1, B, K), dt)
    z[0, :, :H] = model.h0 if h0 is None else np.asarray(h0, dtype=dt)
    z[:, :, H] = 1.0
    z[:T, :, H + 1 :] = x
    z[T, :, H + 1 :] = 0.0
    w = aligned_stack(model.W_hh, model.b_h[None, :], model.W_xh)  # (K, H)
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
    O = model.output_size
    # y_t = [h_t, 1]·[W_hy; b_y] for all steps in one product
    w_y = np.concatenate((model.W_hy, model.b_y[None, :]))  # (H+1, O)
    y = (z[1:, :, : H + 1].reshape(T * B, H + 1) @ w_y).reshape(T, B, O)  # (T, B, O)
    return a, h, y, z


def _loss(model: RNN, y: np.ndarray, tgt: np.ndarray | None, mask: np.ndarray | None = None) -> tuple:
    T, B, O = y.shape
    if mask is None:
        mask = target_steps(model.architecture, T)
    probs = None
    if model.loss == "cross-entropy":
        z = y - y.max(axis=2, keepdims=True)
        logsumexp = np.log(np.exp(z).sum(axis=2, keepdims=True))
        logp = z - logsumexp  # (T, B, O) log softmax
        probs = np.exp(logp)
    if tgt is None:
        return probs, float("nan"), np.zeros(T, dtype=y.dtype), np.zeros_like(y)
    n_steps = int(np.count_nonzero(mask))
    if model.loss == "mse" and n_steps == T:  # a target at every step: no masking needed
        diff = y - tgt  # (T, B, O)
        loss_t = np.add.reduce(diff * diff, axis=(1, 2)) / (B * O)  # (T,) as np.mean
        dL_dy = np.multiply(diff, 2.0 / diff.size, out=diff)  # (T, B, O)
        return probs, float(np.add.reduce(loss_t) / T), loss_t, dL_dy
    dL_dy = np.zeros_like(y)  # (T, B, O)
    loss_t = np.zeros(T, dtype=y.dtype)  # (T,)
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


# The forward pass works out f'(a_t) step by step from B·H = 4096 entries per step and 2^18 in
# all (measured: from there on it saves up to 10 %; below, the one pass afterwards is cheaper).
_FPRIME_IN_FORWARD_FROM = 1 << 12
_FPRIME_IN_FORWARD_TBH = 1 << 18


def _backward(
    model: RNN,
    rows: np.ndarray,
    a: np.ndarray,
    dL_dy: np.ndarray,
    tbptt: int | None,
    has_targets: bool,
    ws: _Workspace | _Fresh,
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
    #                   (see _gradient_gain), for the first P = min(B, gain_sequences) sequences.
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
    rows: np.ndarray, dL_da: np.ndarray, dL_dy: np.ndarray, ws: _Workspace | _Fresh
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


CHUNK_BYTES = 1 << 20  # per-step products made at once: small enough to stay in the L2 cache


def step_products(
    A: np.ndarray, D: np.ndarray, ws: _Workspace | _Fresh, role: str, G: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Σ_t A_tᵀ·D_t (M, N), and (T, M, G) the squared norms of each A_tᵀ·D_t's rows, split into G
    blocks of N/G columns (a gated cell's gates; 1 for the vanilla cell), so that a block of rows
    and columns, one weight matrix, has the squared norm of their sum.  A: (T, B, M), D: (T, B, N).
    The (M, N) products are made a chunk of steps at a time and summed while they are still in
    the cache: all T of them at once would be T·M·N numbers to write and read back (13 MB at
    T=100, H=128), which took longer than the arithmetic."""
    T, B, M = A.shape
    N = D.shape[2]
    dt = np.result_type(A, D)
    c = max(1, min(T, CHUNK_BYTES // (M * N * dt.itemsize)))
    buf = ws.get(role, (c, M, N), dt)
    total = np.zeros((M, N), dtype=dt)
    part = ws.get(role + "_sum", (M, N), dt)  # a chunk's sum (a new one each time would be
    row_sq = np.empty((T, M, G), dtype=dt)  # above malloc's mmap threshold at H=128: page faults)
    for s in range(0, T, c):
        n = min(c, T - s)
        C = np.matmul(A[s : s + n].transpose(0, 2, 1), D[s : s + n], out=buf[:n])  # (n, M, N)
        C4 = C.reshape(n, M, G, N // G)
        np.einsum("tmgk,tmgk->tmg", C4, C4, out=row_sq[s : s + n])
        total += np.add.reduce(C, axis=0, out=part)
    return total, row_sq


def _gain_start(g_T: np.ndarray | None, B: int, H: int, dtype) -> np.ndarray:
    """(B, H) unit-length start of the gain probe: dL/dh_T/‖dL/dh_T‖ per sequence, uniform
    when there is no loss or that gradient is zero."""
    if g_T is None:
        return np.full((B, H), 1.0 / np.sqrt(H), dtype=dtype)
    n = np.sqrt(np.einsum("bh,bh->b", g_T, g_T))[:, None]
    if (n > 0).all():
        return g_T / n
    return np.where(n > 0, g_T / np.where(n > 0, n, 1.0), 1.0 / np.sqrt(H)).astype(dtype, copy=False)


def _gradient_gain(g_T: np.ndarray | None, fprime: np.ndarray, W_hh_T: np.ndarray) -> np.ndarray:
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


def jacobian_norms(trace: Trace, seq: int = 0, ord: str = "spectral") -> np.ndarray:
    """(T,) exact ‖∂h_T/∂h_t‖ for one sequence of a trace (spectral or Frobenius norm).

    Costs T·H³; meant for the vanishing-gradient views, not for every pass.
    """
    if trace.cell != "rnn":
        from rnnviz.engine.gated import jacobian_norms_gated

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
