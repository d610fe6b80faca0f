"""LSTM and GRU cells with PyTorch's gate equations, recorded step by step like the vanilla cell.

Row-vector convention, as the vanilla cell (x_t (B, I), h_t (B, H), weights (in, out)):

LSTM (nn.LSTM; gates i, f, g, o)
    i_t = σ(x_t·W_xi + h_{t-1}·W_hi + b_i)       f_t = σ(x_t·W_xf + h_{t-1}·W_hf + b_f)
    g_t = tanh(x_t·W_xg + h_{t-1}·W_hg + b_g)    o_t = σ(x_t·W_xo + h_{t-1}·W_ho + b_o)
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t              h_t = o_t ⊙ tanh(c_t)

GRU (nn.GRU; gates r, z, n)
    r_t = σ(x_t·W_xr + h_{t-1}·W_hr + b_r)       z_t = σ(x_t·W_xz + h_{t-1}·W_hz + b_z)
    n_t = tanh(x_t·W_xn + b_xn + r_t ⊙ (h_{t-1}·W_hn + b_hn))
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}

and, for both, y_t = h_t·W_hy + b_y.  PyTorch's two biases per gate are summed where the
equations allow it (b_i = bias_ih_i + bias_hh_i, ...); the GRU's n gate keeps b_xn (= b_in)
and b_hn apart because r_t multiplies only b_hn.

Inputs, targets, architectures and the loss are the vanilla cell's (rnn.prepare_inputs,
rnn.prepare_targets, rnn._loss).  `rnn.run` dispatches here on `model.cell`.

Internally the gates are stacked along the last axis (one matmul per step each way); the
sigmoid gates come first (LSTM: o, i, f, g; GRU: r, z | n) so one sigmoid call covers them.
"the pass" below says how the arrays are laid out and why.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np

from rnnviz.engine.model import check_architecture, check_loss, input_steps, target_steps
from rnnviz.engine.trace import Trace

LSTM_GATES = ("i", "f", "g", "o")  # PyTorch's order in weight_ih_l0 / weight_hh_l0
GRU_GATES = ("r", "z", "n")
LSTM_PARAM_NAMES = ("W_xi", "W_xf", "W_xg", "W_xo", "W_hi", "W_hf", "W_hg", "W_ho",
                    "b_i", "b_f", "b_g", "b_o", "W_hy", "b_y")
GRU_PARAM_NAMES = ("W_xr", "W_xz", "W_xn", "W_hr", "W_hz", "W_hn", "b_r", "b_z", "b_xn", "b_hn", "W_hy", "b_y")
CELLS = ("rnn", "lstm", "gru")
_LSTM_ORDER = ("o", "i", "f", "g")  # internal stacking: the three sigmoid gates (o first: BPTT
#                                      multiplies it by dL/dh, i, f, g by dL/dc), then g


def _check_cell(name: str) -> str:
    if name not in CELLS:
        raise ValueError(f"unknown cell {name!r}; choose one of {', '.join(CELLS)}")
    return name


class _Gated:
    """What LSTM and GRU share: parameters by name, copies, sizes, meta."""

    PARAM_NAMES: ClassVar[tuple[str, ...]] = ()
    STATE_NAMES: ClassVar[tuple[str, ...]] = ("h0",)
    CELL: ClassVar[str] = ""
    GATES: ClassVar[tuple[str, ...]] = ()

    def _check(self) -> None:
        if self.cell != self.CELL:
            raise ValueError(f"a {type(self).__name__} has cell {self.CELL!r}, not {self.cell!r}")
        if self.activation != "tanh":
            raise ValueError(f"{'an' if self.CELL == 'lstm' else 'a'} {self.CELL.upper()} has fixed nonlinearities (σ and tanh); activation must be 'tanh', "
                             f"got {self.activation!r}")
        check_architecture(self.architecture)
        check_loss(self.loss)
        I, H = getattr(self, self.PARAM_NAMES[0]).shape
        O = self.W_hy.shape[1] if self.W_hy.ndim == 2 else -1
        for name in (*self.PARAM_NAMES, *self.STATE_NAMES):
            arr = getattr(self, name)
            want = ((I, H) if name.startswith("W_x") else (H, H) if name.startswith("W_h") and name != "W_hy"
                    else (H, O) if name == "W_hy" else (O,) if name == "b_y" else (H,))
            if arr.shape != want:
                raise ValueError(f"inconsistent {self.CELL.upper()} sizes: {name} has shape {arr.shape}, expected {want} "
                                 f"(I={I}, H={H}, O={O})")

    @property
    def input_size(self) -> int:
        return getattr(self, self.PARAM_NAMES[0]).shape[0]

    @property
    def hidden_size(self) -> int:
        return self.W_hy.shape[0]

    @property
    def output_size(self) -> int:
        return self.W_hy.shape[1]

    @property
    def dtype(self) -> np.dtype:
        return self.W_hy.dtype

    def params(self) -> dict[str, np.ndarray]:
        """The trainable parameters by name (the arrays themselves, not copies)."""
        return {name: getattr(self, name) for name in self.PARAM_NAMES}

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        for name in self.PARAM_NAMES:
            getattr(self, name)[...] = params[name]

    def copy(self):
        return replace(self, **{n: getattr(self, n).copy() for n in (*self.PARAM_NAMES, *self.STATE_NAMES)},
                       extra_meta=dict(self.extra_meta))

    def astype(self, dtype: np.dtype | type):
        return replace(self, **{n: getattr(self, n).astype(dtype) for n in (*self.PARAM_NAMES, *self.STATE_NAMES)})

    def meta(self) -> dict:
        """What the model file's `meta` JSON holds."""
        return {**self.extra_meta, "cell": self.cell, "activation": self.activation, "architecture": self.architecture,
                "loss": self.loss, "input_size": self.input_size, "hidden_size": self.hidden_size,
                "output_size": self.output_size}


@dataclass
class LSTM(_Gated):
    """An LSTM cell plus a linear output layer (nn.LSTM + nn.Linear in row-vector form)."""

    W_xi: np.ndarray  # (I, H)
    W_xf: np.ndarray
    W_xg: np.ndarray
    W_xo: np.ndarray
    W_hi: np.ndarray  # (H, H)
    W_hf: np.ndarray
    W_hg: np.ndarray
    W_ho: np.ndarray
    b_i: np.ndarray  # (H,)  bias_ih + bias_hh of that gate
    b_f: np.ndarray
    b_g: np.ndarray
    b_o: np.ndarray
    W_hy: np.ndarray  # (H, O)
    b_y: np.ndarray  # (O,)
    h0: np.ndarray  # (H,)  initial hidden state, not trained
    c0: np.ndarray  # (H,)  initial cell state, not trained
    activation: str = "tanh"  # fixed: σ for the gates, tanh for g and the cell output
    architecture: str = "many-to-many"
    loss: str = "mse"
    extra_meta: dict = field(default_factory=dict)
    cell: str = "lstm"

    PARAM_NAMES: ClassVar[tuple[str, ...]] = LSTM_PARAM_NAMES
    STATE_NAMES: ClassVar[tuple[str, ...]] = ("h0", "c0")
    CELL: ClassVar[str] = "lstm"
    GATES: ClassVar[tuple[str, ...]] = LSTM_GATES

    def __post_init__(self) -> None:
        self._check()


@dataclass
class GRU(_Gated):
    """A GRU cell plus a linear output layer (nn.GRU + nn.Linear in row-vector form)."""

    W_xr: np.ndarray  # (I, H)
    W_xz: np.ndarray
    W_xn: np.ndarray
    W_hr: np.ndarray  # (H, H)
    W_hz: np.ndarray
    W_hn: np.ndarray
    b_r: np.ndarray  # (H,)  bias_ih_r + bias_hh_r
    b_z: np.ndarray  # (H,)  bias_ih_z + bias_hh_z
    b_xn: np.ndarray  # (H,)  bias_ih_n (outside r ⊙ ...)
    b_hn: np.ndarray  # (H,)  bias_hh_n (inside r ⊙ (h·W_hn + b_hn))
    W_hy: np.ndarray  # (H, O)
    b_y: np.ndarray  # (O,)
    h0: np.ndarray  # (H,)
    activation: str = "tanh"
    architecture: str = "many-to-many"
    loss: str = "mse"
    extra_meta: dict = field(default_factory=dict)
    cell: str = "gru"

    PARAM_NAMES: ClassVar[tuple[str, ...]] = GRU_PARAM_NAMES
    STATE_NAMES: ClassVar[tuple[str, ...]] = ("h0",)
    CELL: ClassVar[str] = "gru"
    GATES: ClassVar[tuple[str, ...]] = GRU_GATES

    def __post_init__(self) -> None:
        self._check()


def _init(cls, input_size, hidden_size, output_size, architecture, loss, seed, dtype, recurrent_scale, **kw):
    for name, n in (("input_size", input_size), ("hidden_size", hidden_size), ("output_size", output_size)):
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"{name} must be a positive integer, got {n!r}")
    rng = np.random.default_rng(seed)
    k = 1.0 / np.sqrt(hidden_size)
    arrays = {}
    for name in cls.PARAM_NAMES:  # every weight ~ U(-1/√H, 1/√H), as PyTorch
        shape = ((input_size, hidden_size) if name.startswith("W_x") else (hidden_size, output_size) if name == "W_hy"
                 else (hidden_size, hidden_size) if name.startswith("W_h") else (output_size,) if name == "b_y"
                 else (hidden_size,))
        a = rng.uniform(-k, k, size=shape)
        if name.startswith("W_h") and name != "W_hy":
            a = a * recurrent_scale
        arrays[name] = a.astype(dtype)
    states = {n: np.zeros(hidden_size, dtype=dtype) for n in cls.STATE_NAMES}
    return cls(**arrays, **states, architecture=architecture, loss=loss, **kw)


def init_lstm(input_size: int, hidden_size: int, output_size: int, *, architecture: str = "many-to-many",
              loss: str = "mse", seed: int | None = 0, dtype: np.dtype | type = np.float64,
              recurrent_scale: float = 1.0) -> LSTM:
    """A fresh LSTM, PyTorch-style: every weight and bias ~ U(-1/√H, 1/√H); h0 = c0 = 0.
    `recurrent_scale` multiplies the four W_h* matrices."""
    return _init(LSTM, input_size, hidden_size, output_size, architecture, loss, seed, dtype, recurrent_scale)


def init_gru(input_size: int, hidden_size: int, output_size: int, *, architecture: str = "many-to-many",
             loss: str = "mse", seed: int | None = 0, dtype: np.dtype | type = np.float64,
             recurrent_scale: float = 1.0) -> GRU:
    """A fresh GRU, PyTorch-style: every weight and bias ~ U(-1/√H, 1/√H); h0 = 0.
    `recurrent_scale` multiplies the three W_h* matrices."""
    return _init(GRU, input_size, hidden_size, output_size, architecture, loss, seed, dtype, recurrent_scale)


def init_model(cell: str, input_size: int, hidden_size: int, output_size: int, *, activation: str = "tanh", **kw):
    """init_rnn / init_lstm / init_gru by cell name (activation only matters for 'rnn')."""
    from rnnviz.engine.model import init_rnn

    if _check_cell(cell) == "rnn":
        return init_rnn(input_size, hidden_size, output_size, activation=activation, **kw)
    if activation != "tanh":
        raise ValueError(f"{'an' if cell == 'lstm' else 'a'} {cell.upper()} has fixed nonlinearities; the activation {activation!r} applies to the vanilla cell only")
    return (init_lstm if cell == "lstm" else init_gru)(input_size, hidden_size, output_size, **kw)


# ------------------------------------------------------------------------------------------
# the pass
#
# How the arrays are laid out, which is what makes the per-step loops cheap (bench/README.md
# has the vanilla cell's measurements behind the same choices):
# * rows (T+1, B, K = H+1+I) hold [h_{t-1} | 1 | x_t], as in the vanilla cell: a step's gate
#   pre-activations are one product rows[t]·W with W = [W_h; b; W_x] (the gates side by side,
#   64-byte aligned), and the step writes h_t straight into rows[t+1] (h = rows[:, :, :H]).
#   The weight gradients are products of the same rows with the gates' gradients.
# * The activations go to contiguous arrays of their own (the σ gates together, the tanh
#   candidate apart): ufuncs that write into strided views cost about twice as much (σ of
#   (32, 384): 41 µs into a (32, 512) array's columns, 22 µs into a (32, 384) one).
# * BPTT multiplies by coefficients worked out for all steps at once after the forward pass
#   (the gates' derivatives times what each gate's gradient picks up), so a step costs one
#   product and 3 (GRU) or 6 (LSTM) ufunc calls.  The rows of e hold [the gates' gradients | dL/dy_{t-1}], so
#   that e[t+1]·[W_hᵀ; W_hyᵀ] is all of dL/dh_t in one product.
# * The gradient-gain probe reuses those coefficients (its first P rows).
# * The per-step gradient norms come from Gram matrices or chunks of per-step products
#   (_step_products), the totals with them.
# * The big arrays come from rnn's workspace pool: fresh ones above malloc's mmap threshold cost
#   their page faults on every run.

def _sigmoid(a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """1/(1+e^−a) as torch.sigmoid (e^−a overflowing to inf gives exactly 0)."""
    np.negative(a, out=out)
    np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def _state(value, model, B: int, name: str) -> np.ndarray:
    H = model.hidden_size
    arr = np.asarray(value, dtype=model.dtype)
    if arr.shape not in ((H,), (B, H)):
        raise ValueError(f"{name} must have shape ({H},) or ({B}, {H}), got {arr.shape}")
    return arr


def _view(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """a.reshape(shape) that is sure to be a view (an `out=` argument must not be a copy)."""
    v = a.reshape(shape)
    if a.size and not np.may_share_memory(v, a):
        raise ValueError(f"no view of shape {shape} on an array of shape {a.shape} and strides {a.strides}")
    return v


def _pool():
    """rnn's workspace pool whatever the run's size: for the weight blocks and the gradient
    totals, which are above malloc's mmap threshold (page faults when fresh) from H ≈ 64 on."""
    from rnnviz.engine.rnn import _workspace

    return _workspace(1 << 62)


def _weight_block(role: str, shape: tuple[int, int], dtype, blocks: list[list[np.ndarray]]) -> np.ndarray:
    """(shape) 64-byte aligned matrix made of `blocks`, a list of block rows (as np.block), in a
    pooled buffer (OpenBLAS is faster on aligned weights; see rnn.aligned_stack)."""
    from rnnviz.engine.rnn import aligned_empty

    out = aligned_empty(shape, dtype, lambda size, dt: _pool().get(role, size, dt))
    r = 0
    for block_row in blocks:
        c = 0
        for blk in block_row:
            blk = np.atleast_2d(blk)
            out[r:r + blk.shape[0], c:c + blk.shape[1]] = blk
            c += blk.shape[1]
        r += np.atleast_2d(block_row[0]).shape[0]
    return out


def run_gated(model, x: np.ndarray, targets: np.ndarray | None = None, *, steps: int | None = None,
              tbptt: int | None = None, h0: np.ndarray | None = None, c0: np.ndarray | None = None,
              gain_sequences: int | None = None) -> Trace:
    """Forward + BPTT of an LSTM or GRU, everything recorded (see `rnn.run` for the arguments;
    c0: (H,) or (B, H) initial cell state of an LSTM, default the model's c0)."""
    from rnnviz.engine.rnn import GAIN_SEQUENCES, _loss, _workspace, prepare_inputs, prepare_targets

    if tbptt is not None and tbptt < 1:
        raise ValueError(f"the truncation window must be at least 1 step, got {tbptt}")
    if c0 is not None and model.cell != "lstm":
        raise ValueError("c0 is the initial cell state of an LSTM; a GRU has none")
    x = prepare_inputs(model, x, steps)
    T, B, _ = x.shape
    tgt = None if targets is None else prepare_targets(model, targets, T, B)
    h0 = model.h0 if h0 is None else _state(h0, model, B, "h0")
    H, O = model.hidden_size, model.output_size
    lstm = model.cell == "lstm"
    ws = _workspace(T * B * H)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        if lstm:
            c0 = model.c0 if c0 is None else _state(c0, model, B, "c0")
            fwd = _lstm_forward(model, x, h0, c0, ws=ws)
        else:
            fwd = _gru_forward(model, x, h0, ws=ws)
        rows = fwd["rows"]  # (T+1, B, K) [h_t | 1 | x_{t+1}]
        h = fwd["h"]  # (T+1, B, H)
        w_y = np.concatenate((model.W_hy, model.b_y[None, :]))  # (H+1, O)
        y = (rows[1:, :, :H + 1].reshape(T * B, H + 1) @ w_y).reshape(T, B, O)  # y_t = [h_t | 1]·[W_hy; b_y]
        probs, loss, loss_t, dL_dy = _loss(model, y, tgt)
        back = (_lstm_bptt if lstm else _gru_bptt)(model, fwd, dL_dy, tbptt, ws)
        grads, step_norms = _param_grads(model, rows, dL_dy, back["e"], ws)
        # the gradient-gain probe: a unit signal at h_T carried back through the whole state, for
        # the first P sequences (as the vanilla cell's; see rnn._backward), with BPTT's coefficients
        P = min(B, GAIN_SEQUENCES if gain_sequences is None else int(gain_sequences))
        g_T = back["dh"][-1, :P] if tgt is not None else None  # dL/dh_T = dL/dy_T·W_hyᵀ
        n = None if g_T is None else np.linalg.norm(g_T, axis=1, keepdims=True)
        u = (np.full((P, H), 1.0 / np.sqrt(H), dtype=model.dtype) if g_T is None
             else np.where(n > 0, g_T / np.where(n > 0, n, 1.0), 1.0 / np.sqrt(H)))
        probe = _gain_probe(model, back, u, ws)
    if lstm:
        o, i, f = (fwd["sig"][..., k * H:(k + 1) * H] for k in range(3))
        pre = {g: fwd["pre"][..., k * H:(k + 1) * H] for k, g in enumerate(_LSTM_ORDER)}
        e = back["e"]
        gates = {"i": i, "f": f, "g": fwd["g"], "o": o}
        gate_pre = {g: pre[g] for g in LSTM_GATES}
        dgate = {g: e[..., k * H:(k + 1) * H] for k, g in enumerate(_LSTM_ORDER)}
        dgate = {g: dgate[g] for g in LSTM_GATES}
        a_name = "g"
        extra = {"tanh_c": fwd["tc"], "grad_gain_c": np.linalg.norm(probe["dc"], axis=2).mean(axis=1)}
    else:
        pre, rz, e = fwd["pre"], fwd["rz"], back["e"]
        gates = {"r": rz[..., :H], "z": rz[..., H:], "n": fwd["n"]}
        gate_pre = {"r": pre[..., :H], "z": pre[..., H:2 * H], "n": pre[..., 3 * H:]}
        dgate = {"r": e[..., 2 * H:3 * H], "z": e[..., H:2 * H], "n": e[..., :H]}
        a_name = "n"
        extra = {"n_h": pre[..., 2 * H:3 * H], "dL_dn_h": e[..., 3 * H:4 * H]}
    return Trace(
        activation="tanh", architecture=model.architecture, loss_name=model.loss,
        params={k: v.copy() for k, v in model.params().items()},
        x=x, targets=tgt, input_mask=input_steps(model.architecture, T), target_mask=target_steps(model.architecture, T),
        a=gate_pre[a_name], h=h, y=y, probs=probs, loss=loss, loss_t=loss_t,
        dL_dy=dL_dy, dL_dh=back["dh"], dL_da=dgate[a_name],
        grads=grads, step_grad_norms=step_norms, grad_gain=np.linalg.norm(probe["dh"], axis=2).mean(axis=1),
        tbptt=tbptt, extra=extra, cell=model.cell, gates=gates, gate_pre=gate_pre, dL_dgate_pre=dgate,
        c=fwd.get("c"), dL_dc=back.get("dc"),
    )


def _rows(x: np.ndarray, h0: np.ndarray, H: int, ws, role: str) -> np.ndarray:
    """(T+1, B, H+1+I) [h_{t-1} | 1 | x_t] with h_0 filled in (the last row's x part is 0)."""
    T, B, I = x.shape
    rows = ws.get(role, (T + 1, B, H + 1 + I), x.dtype)
    rows[0, :, :H] = h0
    rows[:, :, H] = 1.0
    rows[:T, :, H + 1:] = x
    rows[T, :, H + 1:] = 0.0
    return rows


def _lstm_forward(model: LSTM, x: np.ndarray, h0: np.ndarray, c0: np.ndarray, nudge: tuple | None = None,
                  ws=None) -> dict:
    """nudge = (what, t, b, j, delta): add delta to h_t or c_t (0-based step t) once computed,
    before the rest of the pass uses it — for finite differences of dL/dh_t and dL/dc_t.
    ws: where the big arrays come from (rnn._workspace), fresh ones by default."""
    from rnnviz.engine.rnn import _FRESH

    T, B, I = x.shape
    H = model.hidden_size
    dt = model.dtype
    ws = _FRESH if ws is None else ws
    H3 = 3 * H
    rows = _rows(x, h0, H, ws, "lstm_rows")  # (T+1, B, K)
    w = _weight_block("lstm_w", (H + 1 + I, 4 * H), dt, [[getattr(model, p + g) for g in _LSTM_ORDER]
                                                         for p in ("W_h", "b_", "W_x")])  # (K, 4H) [W_h; b; W_x]
    pre = ws.get("lstm_pre", (T, B, 4 * H), dt)  # (T, B, 4H) pre-activations of o, i, f, g
    sig = ws.get("lstm_sig", (T, B, H3), dt)  # (T, B, 3H) o, i, f
    # q[t] = [tanh(c_t) | g_t | c_{t-1}], what o, i, f's derivatives get multiplied by in BPTT, side
    # by side in the gates' order: the coefficients then take one pass instead of three
    q = ws.get("lstm_q", (T + 1, B, H3), dt)  # (T+1, B, 3H); q[T] holds only c_T
    tc, g, c = q[:T, :, :H], q[:T, :, H:2 * H], q[:, :, 2 * H:]  # (T, B, H), (T, B, H), (T+1, B, H)
    c[0] = c0
    h = rows[:, :, :H]  # (T+1, B, H)
    tmp = np.empty((B, H), dtype=dt)
    matmul, multiply, tanh = np.matmul, np.multiply, np.tanh
    for t in range(T):
        pre_t, s_t, g_t, c_t = pre[t], sig[t], g[t], c[t + 1]
        matmul(rows[t], w, out=pre_t)  # x_t·W_x + h_{t-1}·W_h + b
        _sigmoid(pre_t[:, :H3], out=s_t)  # o, i, f
        tanh(pre_t[:, H3:], out=g_t)  # g
        multiply(s_t[:, 2 * H:], c[t], out=c_t)  # f ⊙ c_{t-1}
        multiply(s_t[:, H:2 * H], g_t, out=tmp)  # i ⊙ g
        c_t += tmp
        if nudge is not None and nudge[0] == "c" and nudge[1] == t:
            c_t[nudge[2], nudge[3]] += nudge[4]
        tanh(c_t, out=tc[t])
        multiply(s_t[:, :H], tc[t], out=h[t + 1])  # o ⊙ tanh(c_t)
        if nudge is not None and nudge[0] == "h" and nudge[1] == t:
            h[t + 1, nudge[2], nudge[3]] += nudge[4]
    return {"rows": rows, "h": h, "c": c, "tc": tc, "pre": pre, "sig": sig, "g": g, "q": q[:T]}


def _lstm_coefficients(sig: np.ndarray, q: np.ndarray, ws) -> dict:
    """What BPTT multiplies by, for all steps at once.  sig (T, B, 3H): σ of o, i, f; q (T, B, 3H):
    [tanh(c_t) | g_t | c_{t-1}].  dL/d pre of o = dL/dh ⊙ Ks_o, of i, f = dL/dc ⊙ Ks_i, Ks_f, of
    g = dL/dc ⊙ Kcg_g; Kcg_c = ∂h_t/∂c_t (dL/dc_t's share of dL/dh_t); f: c_{t+1}'s share of c_t."""
    T, B, H3 = sig.shape
    H2 = 2 * H3 // 3
    Ks = ws.get("lstm_coef_s", (T, B, H3), sig.dtype)  # (T, B, 3H)
    np.subtract(1.0, sig, out=Ks)
    Ks *= sig  # σ' = σ(1−σ)
    Ks *= q  # o: ⊙ tanh(c_t), i: ⊙ g, f: ⊙ c_{t-1}
    Kcg = ws.get("lstm_coef_cg", (T, B, H2), sig.dtype)  # (T, B, 2H)
    np.square(q[..., :H2], out=Kcg)  # (np.square reads a strided view faster than multiply)
    np.subtract(1.0, Kcg, out=Kcg)
    Kcg *= sig[..., :H2]  # [o ⊙ (1 − tanh²c_t) | i ⊙ (1 − g²)]
    return {"Ks": Ks, "Kcg": Kcg, "f": sig[..., H2:]}


def _lstm_backward(coef: dict, w: np.ndarray, e: np.ndarray, dh: np.ndarray, dc: np.ndarray, cut: tuple | None = None) -> None:
    """BPTT of the LSTM, back from dh[T-1] (set by the caller): fills dh, dc (T, R, H) and the
    gate pre-activations' gradients e[..., :4H] (o, i, f, g).  e (T, R, 4H+O): e[t+1, :, 4H:]
    holds what joins the next product (dL/dy_t, with w = [W_hᵀ; W_hyᵀ] (4H+O, H)), or O = 0.
    coef: _lstm_coefficients (R rows).  cut = (k, dL_dy, W_hyᵀ): a TBPTT window of k steps."""
    from rnnviz.engine.trace import from_outputs

    T, R, H = dh.shape
    Ks, Kcg, f = coef["Ks"], coef["Kcg"], coef["f"]
    Kif = _view(Ks[..., H:], (T, R, 2, H))  # i, f: both times dL/dc_t
    eif = _view(e[..., H:3 * H], (T, R, 2, H))
    tmp = np.empty((R, H), dtype=dh.dtype)
    matmul, multiply = np.matmul, np.multiply
    for t in range(T - 1, -1, -1):
        if t == T - 1:
            multiply(dh[t], Kcg[t, :, :H], out=dc[t])
        elif cut is None or (t + 1) % cut[0] != 0:
            matmul(e[t + 1], w, out=dh[t])  # through the four h_t·W_h* of step t+1, and y_t
            multiply(dh[t], Kcg[t, :, :H], out=dc[t])
            multiply(dc[t + 1], f[t + 1], out=tmp)  # through c_{t+1} = f_{t+1} ⊙ c_t + ...
            dc[t] += tmp
        else:  # a TBPTT window starts at t+1: only y_t's share
            from_outputs(cut[1][t], cut[2], out=dh[t])
            multiply(dh[t], Kcg[t, :, :H], out=dc[t])
        multiply(dh[t], Ks[t, :, :H], out=e[t, :, :H])  # dL/do
        multiply(dc[t][:, None, :], Kif[t], out=eif[t])  # dL/di, dL/df
        multiply(dc[t], Kcg[t, :, H:], out=e[t, :, 3 * H:4 * H])  # dL/dg


def _lstm_bptt(model: LSTM, fwd: dict, dL_dy: np.ndarray, tbptt: int | None, ws) -> dict:
    from rnnviz.engine.trace import from_outputs

    T, B, O = dL_dy.shape
    H = model.hidden_size
    dt = fwd["g"].dtype
    coef = _lstm_coefficients(fwd["sig"], fwd["q"], ws)
    W_hy_T = model.W_hy.T  # (O, H)
    w = _weight_block("lstm_w_back", (4 * H + O, H), dt,
                      [[getattr(model, "W_h" + g).T] for g in _LSTM_ORDER] + [[W_hy_T]])  # (4H+O, H)
    e = ws.get("lstm_e", (T, B, 4 * H + O), dt)  # [dL/d pre o, i, f, g | dL/dy_{t-1}]
    e[1:, :, 4 * H:] = dL_dy[:-1]
    e[0, :, 4 * H:] = 0.0
    dh = ws.get("lstm_dh", (T, B, H), dt)
    dc = ws.get("lstm_dc", (T, B, H), dt)
    from_outputs(dL_dy[T - 1], W_hy_T, out=dh[T - 1])  # the last step has no future
    cut = None if tbptt is None or tbptt >= T else (tbptt, dL_dy, W_hy_T)
    _lstm_backward(coef, w, e, dh, dc, cut)
    return {"e": e, "dh": dh, "dc": dc, "coef": coef, "w": w[:4 * H]}


def _gru_forward(model: GRU, x: np.ndarray, h0: np.ndarray, nudge: tuple | None = None, ws=None) -> dict:
    from rnnviz.engine.rnn import _FRESH

    T, B, I = x.shape
    H = model.hidden_size
    dt = model.dtype
    ws = _FRESH if ws is None else ws
    H2, H3 = 2 * H, 3 * H
    rows = _rows(x, h0, H, ws, "gru_rows")  # (T+1, B, K)
    w = _weight_block("gru_w", (H + 1 + I, 3 * H), dt, [[model.W_hr, model.W_hz, model.W_hn],
                                                        [model.b_r, model.b_z, model.b_hn],
                                                        [model.W_xr, model.W_xz, np.zeros((I, H), dtype=dt)]])  # (K, 3H)
    # [r | z | n_h | n] pre-activations, n_h = h_{t-1}·W_hn + b_hn, n = x_t·W_xn + b_xn + r ⊙ n_h;
    # x_t·W_xn + b_xn does not wait for r_t: all steps in one product
    pre = ws.get("gru_pre", (T, B, 4 * H), dt)
    np.matmul(_view(rows[:T, :, H:], (T * B, 1 + I)), np.concatenate([model.b_xn[None, :], model.W_xn]),
              out=_view(pre[..., H3:], (T * B, H)))
    rz = ws.get("gru_rz", (T, B, H2), dt)  # (T, B, 2H) r, z
    n = ws.get("gru_n", (T, B, H), dt)  # (T, B, H)
    h = rows[:, :, :H]  # (T+1, B, H)
    tmp = np.empty((B, H), dtype=dt)
    matmul, multiply = np.matmul, np.multiply
    for t in range(T):
        p, rz_t, n_t = pre[t], rz[t], n[t]
        matmul(rows[t], w, out=p[:, :H3])
        _sigmoid(p[:, :H2], out=rz_t)  # r, z
        multiply(rz_t[:, :H], p[:, H2:H3], out=tmp)  # r ⊙ n_h
        p[:, H3:] += tmp
        np.tanh(p[:, H3:], out=n_t)  # n
        np.subtract(h[t], n_t, out=tmp)
        tmp *= rz_t[:, H:]
        np.add(tmp, n_t, out=h[t + 1])  # h_t = n + z ⊙ (h_{t-1} − n)
        if nudge is not None and nudge[0] == "h" and nudge[1] == t:
            h[t + 1, nudge[2], nudge[3]] += nudge[4]
    return {"rows": rows, "h": h, "pre": pre, "rz": rz, "n": n}


def _gru_coefficients(rz: np.ndarray, n: np.ndarray, nh: np.ndarray, hp: np.ndarray, ws) -> dict:
    """What BPTT multiplies dL/dh_t by, for all steps at once: C (T, B, 4H) such that
    [dL/dn_pre | dL/dz_pre | dL/dr_pre | dL/dn_h] = dL/dh ⊙ C, and z (the direct path's
    share).  rz (T, B, 2H) r, z; n, n_h (T, B, H); hp: h_{t-1} (T, B, H).  The work is done in
    contiguous scratch arrays and each block of C written once: ufuncs writing into strided
    views cost about twice as much."""
    T, B, H = n.shape
    dt = n.dtype
    C = ws.get("gru_coef", (T, B, 4 * H), dt)
    an, az, ar, anr = (C[..., k * H:(k + 1) * H] for k in range(4))
    r, z = rz[..., :H], rz[..., H:]
    s1 = ws.get("gru_coef_s1", (T, B, H), dt)
    s2 = ws.get("gru_coef_s2", (T, B, H), dt)
    np.square(n, out=s1)
    np.subtract(1.0, s1, out=s1)  # 1 − n²
    np.subtract(1.0, z, out=s2)  # 1 − z
    np.multiply(s2, s1, out=an)  # a_n = (1−z)(1−n²): dL/dn_pre = dL/dh ⊙ a_n
    np.subtract(hp, n, out=s1)
    s1 *= z
    np.multiply(s1, s2, out=az)  # a_z = (h_{t-1} − n) ⊙ z(1−z)
    np.subtract(1.0, r, out=s2)
    s2 *= r
    s2 *= nh
    np.multiply(s2, an, out=ar)  # dL/dr_pre = dL/dn_pre ⊙ n_h ⊙ r(1−r)
    np.multiply(an, r, out=anr)  # dL/dn_h = dL/dn_pre ⊙ r
    return {"C": C, "z": z}


def _gru_backward(coef: dict, w: np.ndarray, e: np.ndarray, dh: np.ndarray, cut: tuple | None = None) -> None:
    """BPTT of the GRU, back from dh[T-1] (set by the caller): fills dh (T, R, H) and
    e[..., :4H] = [dL/dn_pre | dL/dz_pre | dL/dr_pre | dL/dn_h].  e (T, R, 4H+O): e[t+1, :, 4H:]
    holds dL/dy_t for w = [W_hzᵀ; W_hrᵀ; W_hnᵀ; W_hyᵀ] (3H+O, H), or O = 0.  coef:
    _gru_coefficients (R rows).  cut: as _lstm_backward's."""
    from rnnviz.engine.trace import from_outputs

    T, R, H = dh.shape
    C4 = _view(coef["C"], (T, R, 4, H))
    z = coef["z"]
    e4 = _view(e[..., :4 * H], (T, R, 4, H))
    tmp = np.empty((R, H), dtype=dh.dtype)
    matmul, multiply = np.matmul, np.multiply
    for t in range(T - 1, -1, -1):
        if t == T - 1:
            pass
        elif cut is None or (t + 1) % cut[0] != 0:
            matmul(e[t + 1, :, H:], w, out=dh[t])  # through h_t·W_h* of step t+1, and y_t
            multiply(dh[t + 1], z[t + 1], out=tmp)  # the direct path z ⊙ h_t
            dh[t] += tmp
        else:
            from_outputs(cut[1][t], cut[2], out=dh[t])
        multiply(dh[t][:, None, :], C4[t], out=e4[t])


def _gru_bptt(model: GRU, fwd: dict, dL_dy: np.ndarray, tbptt: int | None, ws) -> dict:
    from rnnviz.engine.trace import from_outputs

    T, B, O = dL_dy.shape
    H = model.hidden_size
    dt = fwd["n"].dtype
    coef = _gru_coefficients(fwd["rz"], fwd["n"], fwd["pre"][..., 2 * H:3 * H], fwd["h"][:-1], ws)
    W_hy_T = model.W_hy.T  # (O, H)
    w = _weight_block("gru_w_back", (3 * H + O, H), dt, [[model.W_hz.T], [model.W_hr.T], [model.W_hn.T], [W_hy_T]])  # (3H+O, H)
    e = ws.get("gru_e", (T, B, 4 * H + O), dt)  # [dL/d pre n, z, r | dL/dn_h | dL/dy_{t-1}]
    e[1:, :, 4 * H:] = dL_dy[:-1]
    e[0, :, 4 * H:] = 0.0
    dh = ws.get("gru_dh", (T, B, H), dt)
    from_outputs(dL_dy[T - 1], W_hy_T, out=dh[T - 1])
    cut = None if tbptt is None or tbptt >= T else (tbptt, dL_dy, W_hy_T)
    _gru_backward(coef, w, e, dh, cut)
    return {"e": e, "dh": dh, "coef": coef, "w": w[:3 * H]}


def _gain_probe(model, back: dict, u: np.ndarray, ws) -> dict:
    """BPTT of a unit signal u (P, H) at h_T for the first P sequences, no loss and no
    truncation: dh (and, LSTM, dc) (T, P, H)."""
    T, _, H = back["dh"].shape
    P = u.shape[0]
    dt = back["dh"].dtype
    coef = {k: v[:, :P] for k, v in back["coef"].items()}
    dh = ws.get("probe_dh", (T, P, H), dt)
    dh[T - 1] = u
    e = ws.get("probe_e", (T, P, 4 * H), dt)
    if model.cell == "lstm":
        dc = ws.get("probe_dc", (T, P, H), dt)
        _lstm_backward(coef, back["w"], e, dh, dc)
        return {"dh": dh, "dc": dc}
    _gru_backward(coef, back["w"], e, dh)
    return {"dh": dh}


_GRAM_FACTOR = 2  # Gram matrices when they cost less than 1/_GRAM_FACTOR of the products' passes (measured)


def _step_products(A: np.ndarray, D: np.ndarray, G: int, groups: tuple[slice, ...], ws, role: str
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Σ_t A_tᵀ·D_t (M, N), and (T, len(groups), G) the squared Frobenius norms of each step's
    product, by group of rows and block of N/G columns (a weight matrix: one gate's columns, the
    rows of h, 1 or x).  A: (T, B, M), D: (T, B, N).

    One sequence: every product is an outer product a·dᵀ, of squared norm ‖a‖²·‖d‖².  A batch,
    small against the products: from (B, B) Gram matrices, ‖A_tᵀ·D_t‖² = Σ (A_t·A_tᵀ) ⊙ (D_t·D_tᵀ),
    the totals one product over all steps (at B=32, H=128 an LSTM's are 6.8 ms this way against
    13 ms from the products themselves).  Otherwise the products, a chunk of steps at a time, their
    norms taken and their sum added up while in the cache (rnn.step_products)."""
    T, B, M = A.shape
    N = D.shape[2]
    n_g = N // G
    dt = np.result_type(A, D)
    sq = np.empty((T, len(groups), G), dtype=dt)
    total = _pool().get(role + "_total", (M, N), dt)  # (the caller copies out what it keeps)
    if B == 1:
        a, d = A.reshape(T, M), D.reshape(T, N)
        d3 = d.reshape(T, G, n_g)
        d_sq = np.einsum("tgn,tgn->tg", d3, d3)  # (T, G)
        for k, rows in enumerate(groups):
            a_k = a[:, rows]
            np.multiply(np.einsum("tm,tm->t", a_k, a_k)[:, None], d_sq, out=sq[:, k])
        return np.matmul(a.T, d, out=total), sq
    if _GRAM_FACTOR * B * (M + N) < M * N:
        np.matmul(A.reshape(T * B, M).T, D.reshape(T * B, N), out=total)
        Dg = D.reshape(T, B, G, n_g).transpose(0, 2, 1, 3)  # (T, G, B, N/G)
        gd = np.matmul(Dg, Dg.transpose(0, 1, 3, 2))  # (T, G, B, B)
        for k, rows in enumerate(groups):
            a_k = A[:, :, rows]
            ga = np.matmul(a_k, a_k.transpose(0, 2, 1))  # (T, B, B)
            np.einsum("tij,tgij->tg", ga, gd, out=sq[:, k])
        return total, np.maximum(sq, 0.0, out=sq)  # (a sum of products may round below 0)
    from rnnviz.engine.rnn import step_products

    total, row_sq = step_products(A, D, ws, role, G)  # (M, N), (T, M, G)
    for k, rows in enumerate(groups):
        np.add.reduce(row_sq[:, rows], axis=1, out=sq[:, k])
    return total, sq


def _param_grads(model, rows: np.ndarray, dL_dy: np.ndarray, e: np.ndarray, ws) -> tuple[dict, dict]:
    """The gradients (totals over steps and batch) and name -> (T,) ‖step t's contribution‖.
    rows (T+1, B, H+1+I) [h_t | 1 | x_{t+1}]; e: the backward pass's (T, B, 4H+O) gradients."""
    T, B, O = dL_dy.shape
    H = model.hidden_size
    # [h_{t-1} | 1 | x_t]ᵀ·(the four blocks of e): W_h*, b_*, W_x* of every gate in one go
    total, sq = _step_products(rows[:T], e[..., :4 * H], 4, (slice(0, H), slice(H, H + 1), slice(H + 1, None)),
                               ws, model.cell + "_contrib")  # (K, 4H), (T, 3, 4)
    # block k of e -> the parameters it is the gradient of, by row group (None: not one)
    if model.cell == "lstm":
        blocks = [("W_h" + g, "b_" + g, "W_x" + g) for g in _LSTM_ORDER]
    else:  # e: [dL/dn_pre | dL/dz_pre | dL/dr_pre | dL/dn_h]; h_{t-1}·W_hn + b_hn sits inside r ⊙ (...)
        blocks = [(None, "b_xn", "W_xn"), ("W_hz", "b_z", "W_xz"), ("W_hr", "b_r", "W_xr"), ("W_hn", "b_hn", None)]
    grads, sq_norms = {}, {}
    for k, names in enumerate(blocks):
        sl = slice(k * H, (k + 1) * H)
        for group, (name, rows_of) in enumerate(zip(names, (slice(0, H), H, slice(H + 1, None)))):
            if name is not None:
                grads["grad_" + name], sq_norms[name] = total[rows_of, sl], sq[:, group, k]
    ty, sy = _step_products(rows[1:, :, :H], dL_dy, 1, (slice(0, H),), ws, "gated_contrib_y")  # (H, O), (T, 1, 1)
    grads["grad_W_hy"], sq_norms["W_hy"] = ty, sy[:, 0, 0]
    # b_y: as few numbers as dL/dy; summed as NumPy sums (its gradient often nearly cancels)
    dy_b = dL_dy.sum(axis=1)  # (T, O)
    grads["grad_b_y"], sq_norms["b_y"] = dL_dy.reshape(T * B, O).sum(axis=0), np.einsum("to,to->t", dy_b, dy_b)
    grads = {"grad_" + n: np.array(grads["grad_" + n], order="C") for n in model.PARAM_NAMES}  # copies: totals are pooled
    return grads, {n: np.sqrt(sq_norms[n]) for n in model.PARAM_NAMES}


# ------------------------------------------------------------------------------------------
# views and checks

def jacobian_norms_gated(trace: Trace, seq: int = 0, ord: str = "spectral") -> np.ndarray:
    """(T,) exact ‖∂h_T/∂h_t‖ for one sequence of an LSTM or GRU trace (c_t held fixed for
    the LSTM: the partial derivative through the whole state, as dL/dh_t)."""
    from rnnviz.engine.rnn import _FRESH

    T, H = trace.T, trace.hidden_size
    P = trace.params
    rep = lambda a: np.repeat(a[:, seq:seq + 1], H, axis=1)  # noqa: E731  a batch of H copies of the sequence
    dt = trace.h.dtype
    dh = np.zeros((T, H, H), dtype=dt)
    dh[-1] = np.eye(H)  # row k: e_k·∂h_T/∂h_t
    e = np.empty((T, H, 4 * H), dtype=dt)
    if trace.cell == "lstm":
        c = rep(trace.c)
        sig = np.concatenate([rep(trace.gates[g]) for g in _LSTM_ORDER[:3]], axis=2)
        q = np.concatenate([np.tanh(c[1:]), rep(trace.gates["g"]), c[:-1]], axis=2)  # (T, H, 3H)
        coef = _lstm_coefficients(sig, q, _FRESH)
        _lstm_backward(coef, np.concatenate([P["W_h" + g].T for g in _LSTM_ORDER]), e, dh, np.empty_like(dh))
    else:
        rz = np.concatenate([rep(trace.gates["r"]), rep(trace.gates["z"])], axis=2)
        coef = _gru_coefficients(rz, rep(trace.gates["n"]), rep(trace.extra["n_h"]), rep(trace.h[:-1]), _FRESH)
        _gru_backward(coef, np.concatenate([P["W_hz"].T, P["W_hr"].T, P["W_hn"].T]), e, dh)
    return np.array([np.linalg.norm(dh[t], 2 if ord == "spectral" else "fro") for t in range(T)])


def loss_with_nudge(model, x: np.ndarray, targets: np.ndarray, what: str, t: int, b: int, j: int, delta: float) -> float:
    """The loss when h_t (what='h') or c_t (what='c', LSTM) of sequence b, unit j, at 0-based
    step t is shifted by delta as soon as it is computed (finite differences of dL/dh, dL/dc)."""
    from rnnviz.engine.rnn import _loss, prepare_inputs, prepare_targets

    x = prepare_inputs(model, x)
    T, B, _ = x.shape
    tgt = prepare_targets(model, targets, T, B)
    nudge = (what, t, b, j, delta)
    if model.cell == "lstm":
        fwd = _lstm_forward(model, x, model.h0, model.c0, nudge)
    else:
        fwd = _gru_forward(model, x, model.h0, nudge)
    H, O = model.hidden_size, model.output_size
    y = (fwd["h"][1:].reshape(T * B, H) @ model.W_hy + model.b_y).reshape(T, B, O)
    return _loss(model, y, tgt)[1]
