"""Optimizers with PyTorch's update rules, and clipping by global norm or element by element.

Each optimizer updates a dict of parameter arrays in place from a dict of gradients with the
same keys, so that a trainer can swap optimizers without knowing which one it has.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

OPTIMIZERS = ("sgd", "adam", "adagrad")
# Gradient clipping: "norm" scales all gradients together so their global L2 norm is at most c
# (torch.nn.utils.clip_grad_norm_); "value" clips every entry to [-c, c] (np.clip,
# torch.nn.utils.clip_grad_value_; min-char-rnn clips to [-5, 5]).
CLIP_MODES = ("norm", "value")
# Where Adagrad puts its epsilon: "outside" the square root, g/(√s + 1e-10) (torch.optim.Adagrad),
# or "inside", g/√(s + 1e-8) (min-char-rnn), each with its own constant.
ADAGRAD_EPS = {"outside": 1e-10, "inside": 1e-8}


def check_lr(lr: float) -> float:
    """Return lr unchanged if it is a positive finite number; raise ValueError otherwise."""
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"the learning rate must be a positive number, got {lr}")
    return lr


def check_clip(clip: float | None) -> float | None:
    """Return the clipping threshold as a float (None: no clipping) if it is a positive finite
    number; raise ValueError otherwise."""
    if clip is None:
        return None
    clip = float(clip)
    if not np.isfinite(clip) or clip <= 0:
        raise ValueError(f"the clipping threshold must be a positive number, got {clip}")
    return clip


def check_momentum(momentum: float) -> float:
    """Return SGD's momentum as a float if it lies in [0, 1); raise ValueError otherwise."""
    momentum = float(momentum)
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must lie in [0, 1), got {momentum}")
    return momentum


def check_optimizer(name: str) -> str:
    """Return name if it is one of OPTIMIZERS; raise ValueError naming the choices otherwise."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    return name


def check_clip_mode(mode: str) -> str:
    """Return mode if it is one of CLIP_MODES; raise ValueError naming the choices otherwise."""
    if mode not in CLIP_MODES:
        raise ValueError(f"unknown clipping mode {mode!r}; choose one of {', '.join(CLIP_MODES)}")
    return mode


def check_adagrad_eps(placement: str) -> str:
    """Return placement if it is "outside" or "inside"; raise ValueError otherwise."""
    if placement not in ADAGRAD_EPS:
        raise ValueError(f"unknown place for Adagrad's epsilon {placement!r}; choose one of {', '.join(ADAGRAD_EPS)}")
    return placement


def clip_grad_value(grads: dict[str, np.ndarray], clip_value: float) -> float:
    """Clip every gradient entry in place to [-clip_value, clip_value], as np.clip (min-char-rnn)
    and torch.nn.utils.clip_grad_value_. Returns the global L2 norm before clipping."""
    total = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))
    for g in grads.values():
        np.clip(g, -clip_value, clip_value, out=g)
    return total


def clip_grads(grads: dict[str, np.ndarray], clip: float, mode: str = "norm") -> float:
    """Clip grads in place by global norm or by value (CLIP_MODES); the global norm before."""
    return clip_grad_value(grads, clip) if check_clip_mode(mode) == "value" else clip_grad_norm(grads, clip)


def clip_grad_norm(grads: dict[str, np.ndarray], max_norm: float) -> float:
    """Scale grads in place so their global L2 norm is at most max_norm, as
    torch.nn.utils.clip_grad_norm_ (coefficient max_norm/(norm+1e-6), capped at 1).
    Returns the norm before clipping."""
    total = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for g in grads.values():
            g *= coef
    return total


@dataclass
class Optimizer:
    lr: float = 0.01
    state: dict = field(default_factory=dict)
    steps: int = 0
    name = "base"

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.steps += 1
        for key, p in params.items():
            self._update(key, p, grads[key])

    def _update(self, key: str, p: np.ndarray, g: np.ndarray) -> None:  # pragma: no cover
        raise NotImplementedError

    def hyperparameters(self) -> dict:
        return {"lr": self.lr}

    def checkpoint(self) -> tuple[dict, int]:
        """A copy of the buffers (momentum, moments, accumulators) and the step count, for
        `restore`: a dict of array copies, far cheaper than a deepcopy on every iteration."""
        state = {k: tuple(a.copy() for a in v) if isinstance(v, tuple) else v.copy() for k, v in self.state.items()}
        return state, self.steps

    def restore(self, checkpoint: tuple[dict, int]) -> None:
        """Back to a `checkpoint()`, as if the steps since had never been taken (its arrays
        become the optimizer's own: restore a checkpoint once)."""
        self.state, self.steps = checkpoint


@dataclass
class SGD(Optimizer):
    """p ← p − lr·buf, buf ← momentum·buf + g (buf = g on the first step), as torch.optim.SGD."""

    momentum: float = 0.0
    name = "sgd"

    def _update(self, key: str, p: np.ndarray, g: np.ndarray) -> None:
        if self.momentum:
            buf = self.state.get(key)
            if buf is None:
                buf = self.state[key] = g.copy()
            else:
                buf *= self.momentum
                buf += g
            g = buf
        p -= self.lr * g

    def hyperparameters(self) -> dict:
        return {"lr": self.lr, "momentum": self.momentum}


@dataclass
class Adam(Optimizer):
    """torch.optim.Adam with its defaults (betas 0.9/0.999, eps 1e-8, no weight decay)."""

    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    name = "adam"

    def _update(self, key: str, p: np.ndarray, g: np.ndarray) -> None:
        if key not in self.state:
            self.state[key] = (np.zeros_like(p), np.zeros_like(p))
        m, v = self.state[key]
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        bc1 = 1 - self.beta1**self.steps
        bc2 = 1 - self.beta2**self.steps
        denom = np.sqrt(v) / np.sqrt(bc2) + self.eps
        p -= (self.lr / bc1) * m / denom

    def hyperparameters(self) -> dict:
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}


@dataclass
class Adagrad(Optimizer):
    """torch.optim.Adagrad with its defaults (eps 1e-10 outside the square root, no decay,
    initial accumulator 0); or, with eps_placement "inside", min-char-rnn's rule
    p ← p − lr·g/√(s + 1e-8) (ADAGRAD_EPS)."""

    eps: float = ADAGRAD_EPS["outside"]
    eps_placement: str = "outside"
    name = "adagrad"

    def _update(self, key: str, p: np.ndarray, g: np.ndarray) -> None:
        if key not in self.state:
            self.state[key] = np.zeros_like(p)
        s = self.state[key]
        s += g * g
        if self.eps_placement == "inside":
            p -= self.lr * g / np.sqrt(s + self.eps)
        else:
            p -= self.lr * g / (np.sqrt(s) + self.eps)

    def hyperparameters(self) -> dict:
        return {"lr": self.lr, "eps": self.eps, "eps_placement": self.eps_placement}


def make_optimizer(name: str, lr: float, momentum: float = 0.0, adagrad_eps: str = "outside") -> Optimizer:
    """An optimizer by name; `adagrad_eps` ("outside" / "inside", ADAGRAD_EPS) applies to Adagrad only."""
    check_lr(lr)
    check_optimizer(name)
    check_adagrad_eps(adagrad_eps)
    if name == "sgd":
        return SGD(lr=lr, momentum=check_momentum(momentum))
    if name == "adam":
        return Adam(lr=lr)
    return Adagrad(lr=lr, eps=ADAGRAD_EPS[adagrad_eps], eps_placement=adagrad_eps)
