"""The pieces every cell's pass is built from: pooled work arrays, 64-byte aligned weight blocks,
the rows [h_{t-1} | 1 | x_t] a step's product reads, the outputs and the loss, and the per-step
weight-gradient products made a chunk of steps at a time.

Why each exists is measured in bench/README.md: fresh arrays above malloc's mmap threshold cost
their page faults on every run (`Workspace`), OpenBLAS runs about a third faster on aligned
weights (`aligned_empty`), and T per-step products written out at once cost more than the
arithmetic (`step_products`).
"""
from __future__ import annotations

import sys
import threading

import numpy as np

from rnnviz.engine.model import Model, target_steps


class Workspace(threading.local):
    """The big arrays of a pass, kept between runs of one thread and handed out again once
    nothing else refers to them.

    A fresh array costs its page faults on first touch, and for a large batch and many steps
    that can be as much time as all the arithmetic.  Traces hold (views of) these arrays, so
    an array is reused only when its reference count shows no view, trace or caller still
    holds it; otherwise a new one is made.  Each role keeps at most two arrays (so that
    `trace = run(...)` in a loop, where the previous trace is alive during the next run,
    reuses them as well), and arrays above `MAX_BYTES` are never kept.  So a thread holds on to
    at most two runs' worth of these arrays (measured after runs with T=500, B=32, H=128:
    170 MB for the vanilla cell, 550 MB for a GRU, 670 MB for an LSTM).  Vanilla runs below
    `POOL_FROM` do not use it at all; gated runs keep their (small) weight blocks and
    gradient totals in it whatever their size (`pool`).
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


class Fresh:
    """The same interface as `Workspace`, allocating every time (for small runs, where the
    allocator recycles memory by itself and the bookkeeping would cost more than it saves)."""

    @staticmethod
    def get(role: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        return np.empty(shape, dtype=dtype)


Arrays = Workspace | Fresh  # where a pass takes its big arrays from

_workspaces = Workspace()
FRESH = Fresh()
POOL_FROM = 1 << 12  # T·B·H entries from which fresh arrays (up to 4× that) start to cost page faults


def workspace(size: int = 0) -> Arrays:
    """The thread's pool for a pass of `size` = T·B·H entries, or FRESH below POOL_FROM."""
    return _workspaces if size >= POOL_FROM else FRESH


def pool() -> Workspace:
    """The thread's pool whatever the run's size: for the gated cells' weight blocks and gradient
    totals, which are above malloc's mmap threshold (page faults when fresh) from H ≈ 64 on."""
    return workspace(1 << 62)


ALIGN_FROM = 1 << 14  # bytes: smaller weight blocks are overhead-bound, where aligning costs more than it saves


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
    if out.nbytes < ALIGN_FROM or out.ctypes.data % 64 == 0:
        return out
    aligned = aligned_empty(out.shape, out.dtype)
    aligned[...] = out
    return aligned


def weight_block(role: str, shape: tuple[int, int], dtype, blocks: list[list[np.ndarray]]) -> np.ndarray:
    """(shape) 64-byte aligned matrix made of `blocks`, a list of block rows (as np.block), in a
    pooled buffer (OpenBLAS is faster on aligned weights; see aligned_empty)."""
    out = aligned_empty(shape, dtype, lambda size, dt: pool().get(role, size, dt))
    r = 0
    for block_row in blocks:
        c = 0
        for blk in block_row:
            blk = np.atleast_2d(blk)
            out[r:r + blk.shape[0], c:c + blk.shape[1]] = blk
            c += blk.shape[1]
        r += np.atleast_2d(block_row[0]).shape[0]
    return out


def step_rows(x: np.ndarray, h0: np.ndarray, H: int, ws: Arrays, role: str) -> np.ndarray:
    """(T+1, B, H+1+I) [h_{t-1} | 1 | x_t] with h_0 filled in (the last row's x part is 0): one
    row per step and sequence, so that a step's pre-activations are one product rows[t]·[W_h; b; W_x]
    and the step writes h_t straight into rows[t+1] (h = rows[:, :, :H])."""
    T, B, I = x.shape
    rows = ws.get(role, (T + 1, B, H + 1 + I), x.dtype)
    rows[0, :, :H] = h0
    rows[:, :, H] = 1.0
    rows[:T, :, H + 1:] = x
    rows[T, :, H + 1:] = 0.0
    return rows


def as_view(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """a.reshape(shape) that is sure to be a view (an `out=` argument must not be a copy)."""
    v = a.reshape(shape)
    if a.size and not np.may_share_memory(v, a):
        raise ValueError(f"no view of shape {shape} on an array of shape {a.shape} and strides {a.strides}")
    return v


def gate_sigmoid(a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """1/(1+e^−a) as torch.sigmoid (e^−a overflowing to inf gives exactly 0), into out."""
    np.negative(a, out=out)
    np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def outputs(rows: np.ndarray, W_hy: np.ndarray, b_y: np.ndarray) -> np.ndarray:
    """y_t = [h_t | 1]·[W_hy; b_y] for all steps in one product: (T, B, O), from the rows
    (T+1, B, H+1+I) of `step_rows` once the pass has filled in h."""
    T1, B, _ = rows.shape
    T, (H, O) = T1 - 1, W_hy.shape
    w_y = np.concatenate((W_hy, b_y[None, :]))  # (H+1, O)
    return (rows[1:, :, : H + 1].reshape(T * B, H + 1) @ w_y).reshape(T, B, O)


def log_softmax(y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """log_softmax over the last axis (the output units), as torch.log_softmax: z − max − log Σ e^(z − max)."""
    z = np.subtract(y, y.max(axis=-1, keepdims=True), out=out)
    z -= np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return z


def readout(model: Model, y: np.ndarray) -> np.ndarray:
    """The outputs the model shows, from the readout's linear outputs y = h·W_hy + b_y (T, B, O):
    for the loss "nll", y is replaced in place by log_softmax(y) (PyTorch's LogSoftmax, so the
    trace's outputs are the log-probabilities the user's model prints); else y as it is.
    Idempotent: log_softmax of log-probabilities gives them back (to rounding)."""
    if model.loss == "nll":
        log_softmax(y, out=y)
    return y


def output_loss(model: Model, y: np.ndarray, tgt: np.ndarray | None, mask: np.ndarray | None = None) -> tuple:
    """(probs, loss, loss_t, dL_dy) of outputs y (T, B, O) against targets laid out by
    prepare_targets, over the steps in mask (default: the architecture's target steps).

    y: the readout's linear outputs; for "nll" they are turned into log-probabilities in place
    first (see `readout`; outputs already turned give the same).  probs (T, B, O): softmax of
    the logits for the class losses ("cross-entropy", "nll"), else None.  loss_t (T,): each
    step's loss, the mean over the batch (and output units for mse), as PyTorch; 0 where no
    target.  loss: loss_t over the target steps, their mean or, with model.loss_reduction
    "sum", their sum (min-char-rnn).  dL_dy (T, B, O): the gradient at the readout's linear
    output — for both class losses (softmax − one-hot)/N, as LogSoftmax has no parameters and
    passes its gradient on to the logits.  No targets: NaN and zeros."""
    T, B, O = y.shape
    if mask is None:
        mask = target_steps(model.architecture, T)
    probs = logp = None
    if model.loss == "cross-entropy":
        logp = log_softmax(y)  # (T, B, O)
        probs = np.exp(logp)
    elif model.loss == "nll":
        logp = readout(model, y)  # (T, B, O) the outputs themselves
        probs = np.exp(logp)
    if tgt is None:
        return probs, float("nan"), np.zeros(T, dtype=y.dtype), np.zeros_like(y)
    n_steps = int(np.count_nonzero(mask))
    # the per-step losses are averaged over the steps (mean) or added up (sum): the gradient of
    # each step's loss is divided by n_steps, or not
    per_step = 1 if model.loss_reduction == "sum" else n_steps
    if model.loss == "mse" and n_steps == T:  # a target at every step: no masking needed
        diff = y - tgt  # (T, B, O)
        loss_t = np.add.reduce(diff * diff, axis=(1, 2)) / (B * O)  # (T,) as np.mean
        dL_dy = np.multiply(diff, 2.0 / (per_step * B * O), out=diff)  # (T, B, O)
        total = float(np.add.reduce(loss_t))
        return probs, total if per_step == 1 else total / T, loss_t, dL_dy
    dL_dy = np.zeros_like(y)  # (T, B, O)
    loss_t = np.zeros(T, dtype=y.dtype)  # (T,)
    if model.loss == "mse":
        diff = y[mask] - tgt[mask]  # (n_steps, B, O)
        loss_t[mask] = np.mean(diff * diff, axis=(1, 2))
        dL_dy[mask] = diff * (2.0 / (per_step * B * O))
    else:
        ym = tgt[mask]  # (n_steps, B) class indices
        nll = -np.take_along_axis(logp[mask], ym[..., None], axis=2)[..., 0]  # (n_steps, B)
        loss_t[mask] = nll.mean(axis=1)
        g = probs[mask].copy()
        np.put_along_axis(g, ym[..., None], np.take_along_axis(g, ym[..., None], axis=2) - 1.0, axis=2)
        dL_dy[mask] = g / (per_step * B)
    loss = float(loss_t[mask].sum() if per_step == 1 else loss_t[mask].mean())
    return probs, loss, loss_t, dL_dy


CHUNK_BYTES = 1 << 20  # per-step products made at once: small enough to stay in the L2 cache


def step_products(A: np.ndarray, D: np.ndarray, ws: Arrays, role: str, G: int = 1) -> tuple[np.ndarray, np.ndarray]:
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
