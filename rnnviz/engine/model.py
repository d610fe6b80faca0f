"""The models: a vanilla (Elman) RNN, an LSTM and a GRU, each a cell plus a linear output layer;
their parameters by name, their initialisation, and which steps take inputs and targets.

Row-vector convention throughout (x_t (B, I), h_t (B, H), weights (in, out)), one set of
parameters for every time step (parameter sharing):

vanilla RNN
    a_t = x_t·W_xh + h_{t-1}·W_hh + b_h          h_t = f(a_t)

LSTM (nn.LSTM; gates i, f, g, o)
    i_t = σ(x_t·W_xi + h_{t-1}·W_hi + b_i)       f_t = σ(x_t·W_xf + h_{t-1}·W_hf + b_f)
    g_t = tanh(x_t·W_xg + h_{t-1}·W_hg + b_g)    o_t = σ(x_t·W_xo + h_{t-1}·W_ho + b_o)
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t              h_t = o_t ⊙ tanh(c_t)

GRU (nn.GRU; gates r, z, n)
    r_t = σ(x_t·W_xr + h_{t-1}·W_hr + b_r)       z_t = σ(x_t·W_xz + h_{t-1}·W_hz + b_z)
    n_t = tanh(x_t·W_xn + b_xn + r_t ⊙ (h_{t-1}·W_hn + b_hn))
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}

and, for all three, y_t = h_t·W_hy + b_y (for the loss "nll", y_t = log_softmax(h_t·W_hy + b_y):
PyTorch's LogSoftmax + NLLLoss, the log-probabilities such a model prints).  PyTorch's two biases per gate are summed where the
equations allow it (b_i = bias_ih_i + bias_hh_i, ...); the GRU's n gate keeps b_xn (= b_in)
and b_hn apart because r_t multiplies only b_hn.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np

from rnnviz.engine.activations import check_activation

ARCHITECTURES = ("many-to-many", "many-to-one", "one-to-many", "one-to-one")
LOSSES = ("mse", "cross-entropy", "nll")
CLASS_LOSSES = ("cross-entropy", "nll")  # targets are class indices
# How the per-step losses make the loss: "mean" over the target steps (PyTorch's default) or
# "sum" (min-char-rnn's `loss += -log p`).  Either way each step's loss is the mean over the
# batch (and, for mse, the output units).  The reduction is an attribute of the model, next to
# `loss`, rather than an argument of `run`: it is part of what the loss *is*, so it changes the
# loss and every gradient, and every pass of the model (the trace the views show, the gradient
# checks, the trainer's steps) must follow it without each caller passing it along.
LOSS_REDUCTIONS = ("mean", "sum")
PARAM_NAMES = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


def check_architecture(name: str) -> str:
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; choose one of {', '.join(ARCHITECTURES)}")
    return name


def check_loss(name: str) -> str:
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    return name


def is_class_loss(loss: str) -> bool:
    """Whether a loss takes class indices as targets: "cross-entropy" (softmax of the outputs,
    which are logits) and "nll" (the outputs are log-probabilities, log_softmax of the readout)."""
    return loss in CLASS_LOSSES


def check_loss_reduction(name: str) -> str:
    if name not in LOSS_REDUCTIONS:
        raise ValueError(f"unknown loss reduction {name!r}; choose one of {', '.join(LOSS_REDUCTIONS)}")
    return name


def input_steps(architecture: str, T: int) -> np.ndarray:
    """(T,) bool: which time steps receive an input (one-to-many: only the first)."""
    mask = np.ones(T, dtype=bool)
    if check_architecture(architecture) == "one-to-many":
        mask[1:] = False
    return mask


def target_steps(architecture: str, T: int) -> np.ndarray:
    """(T,) bool: which time steps carry an output and a target (many-to-one: only the last)."""
    mask = np.ones(T, dtype=bool)
    if check_architecture(architecture) == "many-to-one":
        mask[:-1] = False
    return mask


@dataclass
class RNN:
    """A vanilla RNN: its parameters plus what it is (activation, architecture, loss)."""

    W_xh: np.ndarray  # (I, H)
    W_hh: np.ndarray  # (H, H)
    b_h: np.ndarray  # (H,)
    W_hy: np.ndarray  # (H, O)
    b_y: np.ndarray  # (O,)
    h0: np.ndarray  # (H,)  initial hidden state, not trained
    activation: str = "tanh"
    architecture: str = "many-to-many"
    loss: str = "mse"
    extra_meta: dict = field(default_factory=dict)
    cell: str = "rnn"
    loss_reduction: str = "mean"  # over time steps: "mean" (PyTorch) or "sum" (min-char-rnn); LOSS_REDUCTIONS

    def __post_init__(self) -> None:
        check_activation(self.activation)
        check_architecture(self.architecture)
        check_loss(self.loss)
        check_loss_reduction(self.loss_reduction)
        I, H = self.W_xh.shape
        if self.W_hh.shape != (H, H) or self.b_h.shape != (H,) or self.h0.shape != (H,):
            raise ValueError(
                f"inconsistent hidden size: W_xh {self.W_xh.shape}, W_hh {self.W_hh.shape}, "
                f"b_h {self.b_h.shape}, h0 {self.h0.shape}"
            )
        if self.W_hy.shape[0] != H or self.b_y.shape != (self.W_hy.shape[1],):
            raise ValueError(f"inconsistent output layer: W_hy {self.W_hy.shape}, b_y {self.b_y.shape}")

    # sizes -------------------------------------------------------------------------------
    @property
    def input_size(self) -> int:
        return self.W_xh.shape[0]

    @property
    def hidden_size(self) -> int:
        return self.W_hh.shape[0]

    @property
    def output_size(self) -> int:
        return self.W_hy.shape[1]

    @property
    def dtype(self) -> np.dtype:
        return self.W_hh.dtype

    # parameters as a dict ---------------------------------------------------------------
    def params(self) -> dict[str, np.ndarray]:
        """The trainable parameters by name (the arrays themselves, not copies)."""
        return {name: getattr(self, name) for name in PARAM_NAMES}

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        for name in PARAM_NAMES:
            getattr(self, name)[...] = params[name]

    def copy(self) -> "RNN":
        return replace(
            self,
            **{name: getattr(self, name).copy() for name in (*PARAM_NAMES, "h0")},
            extra_meta=dict(self.extra_meta),
        )

    def astype(self, dtype: np.dtype | type) -> "RNN":
        return replace(
            self, **{name: getattr(self, name).astype(dtype) for name in (*PARAM_NAMES, "h0")}
        )

    def meta(self) -> dict:
        """What the model file's `meta` JSON holds."""
        return {
            **self.extra_meta,
            "cell": self.cell,
            "activation": self.activation,
            "architecture": self.architecture,
            "loss": self.loss,
            "loss_reduction": self.loss_reduction,
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
            "output_size": self.output_size,
        }


def init_rnn(
    input_size: int,
    hidden_size: int,
    output_size: int,
    *,
    activation: str = "tanh",
    architecture: str = "many-to-many",
    loss: str = "mse",
    seed: int | None = 0,
    dtype: np.dtype | type = np.float64,
    recurrent_scale: float = 1.0,
) -> RNN:
    """A freshly initialised RNN, PyTorch-style: every weight ~ U(-1/√H, 1/√H).

    `recurrent_scale` multiplies W_hh, to push the network towards vanishing (<1) or
    exploding (>1) gradients on purpose.
    """
    for name, n in (("input_size", input_size), ("hidden_size", hidden_size), ("output_size", output_size)):
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"{name} must be a positive integer, got {n!r}")
    rng = np.random.default_rng(seed)
    k = 1.0 / np.sqrt(hidden_size)

    def u(*shape: int) -> np.ndarray:
        return rng.uniform(-k, k, size=shape).astype(dtype)

    return RNN(
        W_xh=u(input_size, hidden_size),
        W_hh=(u(hidden_size, hidden_size) * recurrent_scale).astype(dtype),
        b_h=u(hidden_size),
        W_hy=u(hidden_size, output_size),
        b_y=u(output_size),
        h0=np.zeros(hidden_size, dtype=dtype),
        activation=activation,
        architecture=architecture,
        loss=loss,
    )


LSTM_GATES = ("i", "f", "g", "o")  # PyTorch's order in weight_ih_l0 / weight_hh_l0
GRU_GATES = ("r", "z", "n")
LSTM_PARAM_NAMES = ("W_xi", "W_xf", "W_xg", "W_xo", "W_hi", "W_hf", "W_hg", "W_ho",
                    "b_i", "b_f", "b_g", "b_o", "W_hy", "b_y")
GRU_PARAM_NAMES = ("W_xr", "W_xz", "W_xn", "W_hr", "W_hz", "W_hn", "b_r", "b_z", "b_xn", "b_hn", "W_hy", "b_y")
CELLS = ("rnn", "lstm", "gru")


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
        check_loss_reduction(self.loss_reduction)
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
                "loss": self.loss, "loss_reduction": self.loss_reduction, "input_size": self.input_size,
                "hidden_size": self.hidden_size, "output_size": self.output_size}


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
    loss_reduction: str = "mean"  # over time steps, as RNN.loss_reduction

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
    loss_reduction: str = "mean"  # over time steps, as RNN.loss_reduction

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


Model = RNN | LSTM | GRU  # what `run` and the trainer accept


def init_model(cell: str, input_size: int, hidden_size: int, output_size: int, *, activation: str = "tanh", **kw) -> Model:
    """init_rnn / init_lstm / init_gru by cell name (activation only matters for 'rnn')."""
    if _check_cell(cell) == "rnn":
        return init_rnn(input_size, hidden_size, output_size, activation=activation, **kw)
    if activation != "tanh":
        raise ValueError(f"{'an' if cell == 'lstm' else 'a'} {cell.upper()} has fixed nonlinearities; the activation {activation!r} applies to the vanilla cell only")
    return (init_lstm if cell == "lstm" else init_gru)(input_size, hidden_size, output_size, **kw)
