"""Hidden-state activations f and their derivatives, written in terms of the output h = f(a).

Expressing f'(a) through h where possible (tanh, sigmoid, identity) saves a pass over `a`
in BPTT; relu needs `a` itself because its derivative at exactly 0 must be 0 (as PyTorch).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

ACTIVATIONS = ("tanh", "relu", "sigmoid", "identity")


def _sigmoid(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    # Split by sign so that exp never overflows: 1/(1+e^-a) for a>=0, e^a/(1+e^a) for a<0.
    out = np.empty_like(a) if out is None else out
    pos = a >= 0
    e = np.exp(-np.abs(a))
    np.divide(1.0, 1.0 + e, out=out, where=pos)
    np.divide(e, 1.0 + e, out=out, where=~pos)
    return out


def _relu(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return np.maximum(a, 0.0, out=out)


def _identity(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    if out is None:
        return a.copy()
    out[...] = a
    return out


FORWARD: dict[str, Callable[..., np.ndarray]] = {
    "tanh": np.tanh,  # the ufunc itself: f(a) or f(a, out=...), with no wrapper to call per step
    "relu": _relu,
    "sigmoid": _sigmoid,
    "identity": _identity,
}


def apply(name: str, a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """h = f(a), elementwise; writes into `out` when given."""
    return FORWARD[check_activation(name)](a, out)


def derivative(name: str, a: np.ndarray, h: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """f'(a) elementwise, given both a and h = f(a) (same shapes); writes into `out` when given."""
    name = check_activation(name)
    if out is None:
        out = np.empty_like(h)
    if name == "tanh":
        np.multiply(h, h, out=out)
        return np.subtract(1.0, out, out=out)  # 1 - h²
    if name == "sigmoid":
        np.subtract(1.0, h, out=out)
        return np.multiply(h, out, out=out)  # h·(1 - h)
    if name == "relu":
        return np.greater(a, 0, out=out, casting="unsafe")  # 1 where a > 0, else 0 (also at 0)
    out[...] = 1.0
    return out


def _tanh_step(a: np.ndarray, h: np.ndarray, out: np.ndarray) -> None:
    np.multiply(h, h, out=out)
    np.subtract(1.0, out, out=out)


def _sigmoid_step(a: np.ndarray, h: np.ndarray, out: np.ndarray) -> None:
    np.subtract(1.0, h, out=out)
    np.multiply(h, out, out=out)


def _relu_step(a: np.ndarray, h: np.ndarray, out: np.ndarray) -> None:
    np.greater(a, 0, out=out, casting="unsafe")


def _identity_step(a: np.ndarray, h: np.ndarray, out: np.ndarray) -> None:
    out[...] = 1.0


# f'(a_t) into `out` for one step, with the least per-call overhead: the forward pass calls one
# of these right after h_t = f(a_t), while a_t and h_t are still in the cache.  Same arithmetic
# as `derivative`, so both give the same bits.
DERIVATIVE_STEP: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], None]] = {
    "tanh": _tanh_step,
    "relu": _relu_step,
    "sigmoid": _sigmoid_step,
    "identity": _identity_step,
}


def formula(name: str) -> str:
    """How the activation is written in formulas shown to people."""
    return {"tanh": "tanh", "relu": "relu", "sigmoid": "σ", "identity": "id"}[check_activation(name)]


def check_activation(name: str) -> str:
    if name not in FORWARD:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return name
