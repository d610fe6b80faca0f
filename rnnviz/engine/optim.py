"""Optimizers with PyTorch's update rules, and clipping by global norm or element by element.

Each optimizer updates a dict of parameter arrays in place from a dict of gradients with the
same keys, so that a trainer can swap optimizers without knowing which one it has.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rnnviz.engine.flat import Layout

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


def clip_flat(g: np.ndarray, clip: float | None, mode: str = "norm", squares: np.ndarray | None = None,
              parts: list[np.ndarray] | None = None) -> float:
    """clip_grads on all gradients laid end to end in g (n,), in place (clip None: no clipping);
    the global L2 norm before.  squares: an (n,) buffer for g², and parts: views of it shaped as
    the arrays g holds (flat.Layout.views): the squares are then added up array by array and
    the sums in that order, as clip_grads and Trace.grad_norm do, so that the norm (and so the
    clipping) is the same to the bit."""
    sq = np.multiply(g, g, out=squares)
    if parts is None:
        total = float(np.sqrt(np.add.reduce(sq)))
    else:
        total = float(np.sqrt(sum(float(np.add.reduce(v, axis=None)) for v in parts)))
    if clip is None:
        return total
    if check_clip_mode(mode) == "value":
        np.clip(g, -clip, clip, out=g)
    else:
        coef = clip / (total + 1e-6)
        if coef < 1.0:
            g *= coef
    return total


@dataclass
class Optimizer:
    lr: float = 0.01
    state: dict = field(default_factory=dict)
    steps: int = 0
    name = "base"

    # the flat buffers of step_flat: (the state dict they back, the layout, the buffers); any
    # other change of `state` (step, restore, a caller assigning it) makes them be packed again
    _flat: tuple | None = field(default=None, repr=False, compare=False)

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self._flat = None  # may add entries to state
        self.steps += 1
        for key, p in params.items():
            self._update(key, p, grads[key])

    def buffer_count(self) -> int:
        """How many arrays of state the optimizer keeps per parameter (0: none)."""
        return 0

    def flat_buffers(self, layout: Layout) -> list[np.ndarray]:
        """The state as `buffer_count()` flat (layout.size,) arrays, which `state` then holds
        views of (so it stays readable, and saved, per parameter); a parameter with no state
        yet gets zeros, which each rule treats as its first step does."""
        n = self.buffer_count()
        if n == 0:
            return []
        if self._flat is not None and self._flat[0] is self.state and self._flat[1] is layout and len(self._flat[2]) == n:
            return self._flat[2]
        bufs = [np.zeros(layout.size, dtype=layout.dtype) for _ in range(n)]
        state = {}
        for j, buf in enumerate(bufs):
            for key, view in layout.views(buf).items():
                old = self.state.get(key)
                if old is not None:
                    view[...] = old[j] if isinstance(old, tuple) else old
        for key, *views in zip(layout.names, *(layout.views(b).values() for b in bufs)):
            state[key] = views[0] if n == 1 else tuple(views)
        self.state = state
        self._flat = (state, layout, bufs)
        return bufs

    def step_flat(self, p: np.ndarray, g: np.ndarray, layout: Layout) -> None:
        """`step` on all parameters at once: p and g (layout.size,) the parameters and their
        gradients laid end to end by `layout`.  The same elementwise arithmetic, so the same
        numbers to the bit, in about one parameter's worth of NumPy calls."""
        bufs = self.flat_buffers(layout)
        self.steps += 1
        self._update_flat(p, g, bufs)

    def _update_flat(self, p: np.ndarray, g: np.ndarray, bufs: list[np.ndarray]) -> None:  # pragma: no cover
        raise NotImplementedError

    def save_flat(self, layout: Layout, out: list[np.ndarray] | None) -> tuple[list[np.ndarray] | None, int]:
        """(copies of the flat buffers, the step count), for `restore_flat`: copied into `out`
        when it holds arrays of the right size (a rollback slot reused every iteration, so that
        keeping the last good state allocates nothing), else into new arrays.  None instead of
        the copies when the optimizer has no state yet (restored as no state)."""
        if not self.state:
            return None, self.steps
        bufs = self.flat_buffers(layout)
        if out is None or len(out) != len(bufs) or any(o.shape != b.shape or o.dtype != b.dtype for o, b in zip(out, bufs)):
            out = [b.copy() for b in bufs]
        else:
            for o, b in zip(out, bufs):
                np.copyto(o, b)
        return out, self.steps

    def restore_flat(self, layout: Layout, saved: tuple[list[np.ndarray] | None, int]) -> None:
        """Back to a `save_flat()` (copied in: the saved arrays stay the caller's)."""
        arrays, steps = saved
        if arrays is None:
            self.state, self._flat = {}, None
        else:
            for b, a in zip(self.flat_buffers(layout), arrays):
                np.copyto(b, a)
        self.steps = steps

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
        self._flat = None


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

    def buffer_count(self) -> int:
        return 1 if self.momentum else 0

    def _update_flat(self, p: np.ndarray, g: np.ndarray, bufs: list[np.ndarray]) -> None:
        if self.momentum:  # a buffer of zeros gives g on the first step, as buf = g.copy()
            buf = bufs[0]
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
        self._update_arrays(p, g, m, v)

    def buffer_count(self) -> int:
        return 2

    def _update_flat(self, p: np.ndarray, g: np.ndarray, bufs: list[np.ndarray]) -> None:
        m, v = bufs
        self._update_arrays(p, g, m, v)

    def _update_arrays(self, p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray) -> None:
        """The rule itself (shared by the per-parameter and the flat update)."""
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
        self._update_flat(p, g, [self.state[key]])

    def buffer_count(self) -> int:
        return 1

    def _update_flat(self, p: np.ndarray, g: np.ndarray, bufs: list[np.ndarray]) -> None:
        s = bufs[0]
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
