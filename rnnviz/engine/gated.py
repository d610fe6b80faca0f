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
sigmoid gates come first (LSTM: i, f, o, g; GRU: r, z | n) so one sigmoid call covers them.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np

from .model import check_architecture, check_loss, input_steps, target_steps
from .trace import Trace

LSTM_GATES = ("i", "f", "g", "o")  # PyTorch's order in weight_ih_l0 / weight_hh_l0
GRU_GATES = ("r", "z", "n")
LSTM_PARAM_NAMES = ("W_xi", "W_xf", "W_xg", "W_xo", "W_hi", "W_hf", "W_hg", "W_ho",
                    "b_i", "b_f", "b_g", "b_o", "W_hy", "b_y")
GRU_PARAM_NAMES = ("W_xr", "W_xz", "W_xn", "W_hr", "W_hz", "W_hn", "b_r", "b_z", "b_xn", "b_hn", "W_hy", "b_y")
CELLS = ("rnn", "lstm", "gru")
_LSTM_ORDER = ("i", "f", "o", "g")  # internal stacking: the three sigmoid gates, then g


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
    from .model import init_rnn

    if _check_cell(cell) == "rnn":
        return init_rnn(input_size, hidden_size, output_size, activation=activation, **kw)
    if activation != "tanh":
        raise ValueError(f"{'an' if cell == 'lstm' else 'a'} {cell.upper()} has fixed nonlinearities; the activation {activation!r} applies to the vanilla cell only")
    return (init_lstm if cell == "lstm" else init_gru)(input_size, hidden_size, output_size, **kw)


# ------------------------------------------------------------------------------------------
# the pass

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


def _flows(t: int, T: int, tbptt: int | None) -> bool:
    """Does the gradient reach step t from step t+1 (not across a TBPTT window start)?"""
    return t + 1 < T and (tbptt is None or (t + 1) % tbptt != 0)


def run_gated(model, x: np.ndarray, targets: np.ndarray | None = None, *, steps: int | None = None,
              tbptt: int | None = None, h0: np.ndarray | None = None, c0: np.ndarray | None = None,
              gain_sequences: int | None = None) -> Trace:
    """Forward + BPTT of an LSTM or GRU, everything recorded (see `rnn.run` for the arguments;
    c0: (H,) or (B, H) initial cell state of an LSTM, default the model's c0)."""
    from .rnn import GAIN_SEQUENCES, _loss, prepare_inputs, prepare_targets

    if tbptt is not None and tbptt < 1:
        raise ValueError(f"the truncation window must be at least 1 step, got {tbptt}")
    if c0 is not None and model.cell != "lstm":
        raise ValueError("c0 is the initial cell state of an LSTM; a GRU has none")
    x = prepare_inputs(model, x, steps)
    T, B, _ = x.shape
    tgt = None if targets is None else prepare_targets(model, targets, T, B)
    h0 = model.h0 if h0 is None else _state(h0, model, B, "h0")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        if model.cell == "lstm":
            c0 = model.c0 if c0 is None else _state(c0, model, B, "c0")
            fwd = _lstm_forward(model, x, h0, c0)
        else:
            fwd = _gru_forward(model, x, h0)
        h = fwd["h"]
        H, O = model.hidden_size, model.output_size
        y = (h[1:].reshape(T * B, H) @ model.W_hy + model.b_y).reshape(T, B, O)
        probs, loss, loss_t, dL_dy = _loss(model, y, tgt)
        dL_dh_out = (dL_dy.reshape(T * B, O) @ model.W_hy.T).reshape(T, B, H)
        back = (_lstm_backward if model.cell == "lstm" else _gru_backward)(model, fwd, dL_dh_out, tbptt)
        grads, step_norms = _param_grads(model, x, h, dL_dy, back)
        # the gradient-gain probe: a unit signal at h_T carried back through the whole state, for
        # the first P sequences (as the vanilla cell's; see rnn._backward)
        P = min(B, GAIN_SEQUENCES if gain_sequences is None else int(gain_sequences))
        g_T = dL_dh_out[-1, :P] if tgt is not None else None
        n = None if g_T is None else np.linalg.norm(g_T, axis=1, keepdims=True)
        u = (np.full((P, H), 1.0 / np.sqrt(H), dtype=model.dtype) if g_T is None
             else np.where(n > 0, g_T / np.where(n > 0, n, 1.0), 1.0 / np.sqrt(H)))
        seed = np.zeros((T, P, H), dtype=model.dtype)
        seed[-1] = u
        first = {k: v[:, :P] if isinstance(v, np.ndarray) and v.ndim == 3 else v for k, v in fwd.items()}
        probe = (_lstm_backward if model.cell == "lstm" else _gru_backward)(model, first, seed, None)
    if model.cell == "lstm":
        a_name = "g"
        extra = {"tanh_c": fwd["tc"], "grad_gain_c": np.linalg.norm(probe["dc"], axis=2).mean(axis=1)}
    else:
        a_name = "n"
        extra = {"n_h": fwd["nh"], "dL_dn_h": back["dnh"]}
    return Trace(
        activation="tanh", architecture=model.architecture, loss_name=model.loss,
        params={k: v.copy() for k, v in model.params().items()},
        x=x, targets=tgt, input_mask=input_steps(model.architecture, T), target_mask=target_steps(model.architecture, T),
        a=fwd["pre"][a_name], h=h, y=y, probs=probs, loss=loss, loss_t=loss_t,
        dL_dy=dL_dy, _dL_dh_out=dL_dh_out, dL_dh=back["dh"], dL_da=back["dpre"][a_name],
        grads=grads, step_grad_norms=step_norms, grad_gain=np.linalg.norm(probe["dh"], axis=2).mean(axis=1),
        tbptt=tbptt, extra=extra, cell=model.cell, gates=fwd["act"], gate_pre=fwd["pre"], dL_dgate_pre=back["dpre"],
        c=fwd.get("c"), dL_dc=back.get("dc"),
    )


def _split(arr: np.ndarray, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    H = arr.shape[-1] // len(names)
    return {n: arr[..., k * H:(k + 1) * H] for k, n in enumerate(names)}


def _lstm_forward(model: LSTM, x: np.ndarray, h0: np.ndarray, c0: np.ndarray, nudge: tuple | None = None) -> dict:
    """nudge = (what, t, b, j, delta): add delta to h_t or c_t (0-based step t) once computed,
    before the rest of the pass uses it — for finite differences of dL/dh_t and dL/dc_t."""
    T, B, I = x.shape
    H = model.hidden_size
    dt = model.dtype
    Wx = np.concatenate([getattr(model, "W_x" + g) for g in _LSTM_ORDER], axis=1)  # (I, 4H)
    Wh = np.concatenate([getattr(model, "W_h" + g) for g in _LSTM_ORDER], axis=1)  # (H, 4H)
    b = np.concatenate([getattr(model, "b_" + g) for g in _LSTM_ORDER])  # (4H,)
    pre = (x.reshape(T * B, I) @ Wx + b).reshape(T, B, 4 * H)  # x_t·W_x + b for all steps
    act = np.empty_like(pre)
    h = np.empty((T + 1, B, H), dtype=dt)
    c = np.empty((T + 1, B, H), dtype=dt)
    tc = np.empty((T, B, H), dtype=dt)
    h[0], c[0] = h0, c0
    tmp = np.empty((B, 4 * H), dtype=dt)
    H3 = 3 * H
    for t in range(T):
        np.matmul(h[t], Wh, out=tmp)
        pre[t] += tmp
        _sigmoid(pre[t, :, :H3], out=act[t, :, :H3])  # i, f, o
        np.tanh(pre[t, :, H3:], out=act[t, :, H3:])  # g
        np.multiply(act[t, :, H:2 * H], c[t], out=c[t + 1])  # f ⊙ c_{t-1}
        c[t + 1] += act[t, :, :H] * act[t, :, H3:]  # + i ⊙ g
        if nudge is not None and nudge[0] == "c" and nudge[1] == t:
            c[t + 1, nudge[2], nudge[3]] += nudge[4]
        np.tanh(c[t + 1], out=tc[t])
        np.multiply(act[t, :, 2 * H:H3], tc[t], out=h[t + 1])  # o ⊙ tanh(c_t)
        if nudge is not None and nudge[0] == "h" and nudge[1] == t:
            h[t + 1, nudge[2], nudge[3]] += nudge[4]
    return {"h": h, "c": c, "tc": tc, "stacked_pre": pre, "stacked_act": act, "Wh": Wh,
            "pre": {g: v for g, v in sorted(_split(pre, _LSTM_ORDER).items(), key=lambda kv: LSTM_GATES.index(kv[0]))},
            "act": {g: v for g, v in sorted(_split(act, _LSTM_ORDER).items(), key=lambda kv: LSTM_GATES.index(kv[0]))}}


def _lstm_backward(model: LSTM, fwd: dict, dh_out: np.ndarray, tbptt: int | None) -> dict:
    """BPTT from dL/dh_t's output share: total dL/dh_t, dL/dc_t and the gate pre-activations'
    gradients, stacked like the forward (i, f, o, g)."""
    T, B, H = dh_out.shape
    act, c, tc = fwd["stacked_act"], fwd["c"], fwd["tc"]
    WhT = np.ascontiguousarray(fwd["Wh"].T)  # (4H, H)
    H3 = 3 * H
    deriv = np.empty_like(act)  # σ' = s(1−s) for i, f, o; tanh' = 1−g² for g
    np.multiply(act[..., :H3], 1.0 - act[..., :H3], out=deriv[..., :H3])
    np.multiply(act[..., H3:], act[..., H3:], out=deriv[..., H3:])
    np.subtract(1.0, deriv[..., H3:], out=deriv[..., H3:])
    o_dtc = act[..., 2 * H:H3] * (1.0 - tc * tc)  # ∂h_t/∂c_t = o_t ⊙ (1 − tanh²c_t)
    f = act[..., H:2 * H]
    dh = dh_out.copy()
    dc = np.empty_like(dh)
    dpre = np.empty_like(act)
    tmp = np.empty((B, H), dtype=dh.dtype)
    for t in range(T - 1, -1, -1):
        flows = _flows(t, T, tbptt)
        if flows:
            np.matmul(dpre[t + 1], WhT, out=tmp)  # through the four h_t·W_h* of step t+1
            dh[t] += tmp
        np.multiply(dh[t], o_dtc[t], out=dc[t])
        if flows:
            np.multiply(dc[t + 1], f[t + 1], out=tmp)  # through c_{t+1} = f_{t+1} ⊙ c_t + ...
            dc[t] += tmp
        dp = dpre[t]
        np.multiply(dc[t], act[t, :, H3:], out=dp[:, :H])  # dL/di = dL/dc ⊙ g
        np.multiply(dc[t], c[t], out=dp[:, H:2 * H])  # dL/df = dL/dc ⊙ c_{t-1}
        np.multiply(dh[t], tc[t], out=dp[:, 2 * H:H3])  # dL/do = dL/dh ⊙ tanh(c_t)
        np.multiply(dc[t], act[t, :, :H], out=dp[:, H3:])  # dL/dg = dL/dc ⊙ i
        dp *= deriv[t]
    parts = _split(dpre, _LSTM_ORDER)
    return {"dh": dh, "dc": dc, "stacked": dpre, "dpre": {g: parts[g] for g in LSTM_GATES}}


def _gru_forward(model: GRU, x: np.ndarray, h0: np.ndarray, nudge: tuple | None = None) -> dict:
    T, B, I = x.shape
    H = model.hidden_size
    dt = model.dtype
    Wx = np.concatenate([model.W_xr, model.W_xz, model.W_xn], axis=1)  # (I, 3H)
    Wh = np.concatenate([model.W_hr, model.W_hz, model.W_hn], axis=1)  # (H, 3H)
    b = np.concatenate([model.b_r, model.b_z, model.b_xn])
    pre = (x.reshape(T * B, I) @ Wx + b).reshape(T, B, 3 * H)  # r, z complete after + h·W_h; n gets r ⊙ n_h
    act = np.empty_like(pre)
    nh = np.empty((T, B, H), dtype=dt)  # h_{t-1}·W_hn + b_hn
    h = np.empty((T + 1, B, H), dtype=dt)
    h[0] = h0
    tmp = np.empty((B, 3 * H), dtype=dt)
    H2 = 2 * H
    for t in range(T):
        np.matmul(h[t], Wh, out=tmp)
        pre[t, :, :H2] += tmp[:, :H2]
        _sigmoid(pre[t, :, :H2], out=act[t, :, :H2])  # r, z
        np.add(tmp[:, H2:], model.b_hn, out=nh[t])
        np.multiply(act[t, :, :H], nh[t], out=tmp[:, H2:])
        pre[t, :, H2:] += tmp[:, H2:]
        np.tanh(pre[t, :, H2:], out=act[t, :, H2:])  # n
        n = act[t, :, H2:]
        np.subtract(h[t], n, out=h[t + 1])
        h[t + 1] *= act[t, :, H:H2]
        h[t + 1] += n  # h_t = n + z ⊙ (h_{t-1} − n)
        if nudge is not None and nudge[0] == "h" and nudge[1] == t:
            h[t + 1, nudge[2], nudge[3]] += nudge[4]
    return {"h": h, "nh": nh, "stacked_pre": pre, "stacked_act": act, "Wh": Wh,
            "pre": _split(pre, GRU_GATES), "act": _split(act, GRU_GATES)}


def _gru_backward(model: GRU, fwd: dict, dh_out: np.ndarray, tbptt: int | None) -> dict:
    """BPTT of the GRU: total dL/dh_t, dL/d(pre-activation) of r, z, n and dL/dn_h."""
    T, B, H = dh_out.shape
    act, h, nh = fwd["stacked_act"], fwd["h"], fwd["nh"]
    WhT = np.ascontiguousarray(fwd["Wh"].T)  # (3H, H)
    r, z, n = act[..., :H], act[..., H:2 * H], act[..., 2 * H:]
    a_n = (1.0 - z) * (1.0 - n * n)  # dL/dn_pre = dL/dh ⊙ (1−z) ⊙ (1−n²)
    a_z = (h[:-1] - n) * z * (1.0 - z)  # dL/dz_pre = dL/dh ⊙ (h_{t-1} − n) ⊙ z(1−z)
    a_r = nh * r * (1.0 - r)  # dL/dr_pre = dL/dn_pre ⊙ n_h ⊙ r(1−r)
    dh = dh_out.copy()
    dn = np.empty_like(dh)  # dL/d n_pre
    stack = np.empty_like(act)  # [dL/dr_pre, dL/dz_pre, dL/dn_h]: what multiplies W_hr, W_hz, W_hn
    tmp = np.empty((B, H), dtype=dh.dtype)
    H2 = 2 * H
    for t in range(T - 1, -1, -1):
        if _flows(t, T, tbptt):
            np.matmul(stack[t + 1], WhT, out=tmp)
            dh[t] += tmp
            np.multiply(dh[t + 1], z[t + 1], out=tmp)  # the direct path z ⊙ h_{t}
            dh[t] += tmp
        np.multiply(dh[t], a_n[t], out=dn[t])
        np.multiply(dn[t], a_r[t], out=stack[t, :, :H])
        np.multiply(dh[t], a_z[t], out=stack[t, :, H:H2])
        np.multiply(dn[t], r[t], out=stack[t, :, H2:])
    return {"dh": dh, "stacked": stack, "dn": dn, "dnh": stack[..., H2:],
            "dpre": {"r": stack[..., :H], "z": stack[..., H:H2], "n": dn}}


def _param_grads(model, x: np.ndarray, h: np.ndarray, dL_dy: np.ndarray, back: dict) -> tuple[dict, dict]:
    from .rnn import _per_step_outer_norms

    T, B, I = x.shape
    H, O = model.hidden_size, model.output_size
    xs, hp = x.reshape(T * B, I), h[:-1].reshape(T * B, H)
    d = back["dpre"]
    if model.cell == "lstm":
        x_side = {g: (d[g], "W_x" + g, "b_" + g) for g in LSTM_GATES}
        h_side = {g: (d[g], "W_h" + g) for g in LSTM_GATES}
        gx = xs.T @ back["stacked"].reshape(T * B, 4 * H)  # (I, 4H)
        gh = hp.T @ back["stacked"].reshape(T * B, 4 * H)  # (H, 4H)
        gb = back["stacked"].sum(axis=(0, 1))
        grads = {}
        for k, g in enumerate(_LSTM_ORDER):
            sl = slice(k * H, (k + 1) * H)
            grads["grad_W_x" + g], grads["grad_W_h" + g], grads["grad_b_" + g] = gx[:, sl], gh[:, sl], gb[sl]
    else:
        x_side = {"r": (d["r"], "W_xr", "b_r"), "z": (d["z"], "W_xz", "b_z"), "n": (d["n"], "W_xn", "b_xn")}
        h_side = {"r": (d["r"], "W_hr"), "z": (d["z"], "W_hz"), "n": (back["dnh"], "W_hn")}
        dx = np.concatenate([back["stacked"][..., :2 * H], back["dn"]], axis=2).reshape(T * B, 3 * H)
        gx = xs.T @ dx
        gh = hp.T @ back["stacked"].reshape(T * B, 3 * H)
        grads = {}
        for k, g in enumerate(GRU_GATES):
            sl = slice(k * H, (k + 1) * H)
            grads["grad_W_x" + g], grads["grad_W_h" + g] = gx[:, sl], gh[:, sl]
        grads["grad_b_r"], grads["grad_b_z"] = d["r"].sum(axis=(0, 1)), d["z"].sum(axis=(0, 1))
        grads["grad_b_xn"], grads["grad_b_hn"] = d["n"].sum(axis=(0, 1)), back["dnh"].sum(axis=(0, 1))
    dy2 = dL_dy.reshape(T * B, O)
    grads["grad_W_hy"] = h[1:].reshape(T * B, H).T @ dy2
    grads["grad_b_y"] = dy2.sum(axis=0)
    grads = {"grad_" + n: np.ascontiguousarray(grads["grad_" + n]) for n in model.PARAM_NAMES}
    norms = {}
    for g, (dg, wname, bname) in x_side.items():
        norms[wname] = _per_step_outer_norms(x, dg)
        norms[bname] = np.linalg.norm(dg.sum(axis=1), axis=1)
    for g, (dg, wname) in h_side.items():
        norms[wname] = _per_step_outer_norms(h[:-1], dg)
    if model.cell == "gru":
        norms["b_hn"] = np.linalg.norm(back["dnh"].sum(axis=1), axis=1)
    norms["W_hy"] = _per_step_outer_norms(h[1:], dL_dy)
    norms["b_y"] = np.linalg.norm(dL_dy.sum(axis=1), axis=1)
    return grads, {n: norms[n] for n in model.PARAM_NAMES}


# ------------------------------------------------------------------------------------------
# views and checks

def jacobian_norms_gated(trace: Trace, seq: int = 0, ord: str = "spectral") -> np.ndarray:
    """(T,) exact ‖∂h_T/∂h_t‖ for one sequence of an LSTM or GRU trace (c_t held fixed for
    the LSTM: the partial derivative through the whole state, as dL/dh_t)."""
    T, H = trace.T, trace.hidden_size
    P = trace.params
    one = {"h": np.repeat(trace.h[:, seq:seq + 1], H, axis=1)}  # a batch of H copies of the sequence
    rep = lambda a: np.repeat(a[:, seq:seq + 1], H, axis=1)  # noqa: E731
    if trace.cell == "lstm":
        one.update(c=rep(trace.c), tc=rep(np.tanh(trace.c[1:])),
                   stacked_act=np.concatenate([rep(trace.gates[g]) for g in _LSTM_ORDER], axis=2),
                   Wh=np.concatenate([P["W_h" + g] for g in _LSTM_ORDER], axis=1))
        backward = _lstm_backward
    else:
        one.update(nh=rep(trace.extra["n_h"]), stacked_act=np.concatenate([rep(trace.gates[g]) for g in GRU_GATES], axis=2),
                   Wh=np.concatenate([P["W_hr"], P["W_hz"], P["W_hn"]], axis=1))
        backward = _gru_backward
    seed = np.zeros((T, H, H), dtype=trace.h.dtype)
    seed[-1] = np.eye(H)  # row k: e_k·∂h_T/∂h_t
    dh = backward(None, one, seed, None)["dh"]
    return np.array([np.linalg.norm(dh[t], 2 if ord == "spectral" else "fro") for t in range(T)])


def loss_with_nudge(model, x: np.ndarray, targets: np.ndarray, what: str, t: int, b: int, j: int, delta: float) -> float:
    """The loss when h_t (what='h') or c_t (what='c', LSTM) of sequence b, unit j, at 0-based
    step t is shifted by delta as soon as it is computed (finite differences of dL/dh, dL/dc)."""
    from .rnn import _loss, prepare_inputs, prepare_targets

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
