"""The vanilla (Elman) RNN's parameters, its architecture and how inputs and targets are laid out.

Row-vector convention throughout:  a_t = x_t·W_xh + h_{t-1}·W_hh + b_h,  h_t = f(a_t),
y_t = h_t·W_hy + b_y.  One set of parameters serves every time step (parameter sharing).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from rnnviz.engine.activations import check_activation

ARCHITECTURES = ("many-to-many", "many-to-one", "one-to-many", "one-to-one")
LOSSES = ("mse", "cross-entropy")
PARAM_NAMES = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


def check_architecture(name: str) -> str:
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; choose one of {', '.join(ARCHITECTURES)}")
    return name


def check_loss(name: str) -> str:
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
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

    def __post_init__(self) -> None:
        check_activation(self.activation)
        check_architecture(self.architecture)
        check_loss(self.loss)
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
