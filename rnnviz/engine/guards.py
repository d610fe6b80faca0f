"""What stops training when its numbers go bad, and the message that says why.

Two failures, both raised by `Trainer.step()` with the weights left at the last good ones:

- `NonFiniteError`: NaN or Inf in the loss, the forward pass, the gradients or the updated
  weights (`first_nonfinite_step` finds the time step to name).
- `DivergenceError` (a NonFiniteError, so whatever catches the NaN failure catches this one):
  every number is still finite but training is blowing up. The loss went past `loss_factor`
  times its value at the start of the run, or a weight or a gradient entry past its bound
  (`DivergenceLimits`). Caught long before the floats overflow: a run at lr = 1e6 is stopped
  at its first update, not at iteration 24 with weights of 1e159.

Why the loss is compared with its *starting* value and not with the best so far: training
drives the best towards 0, and then the ordinary ups and downs of a noisy run (a hard
mini-batch, a spike a clipped RNN recovers from) are huge multiples of it; the starting loss is
the level of an untrained network, which a diverging run overshoots by orders of magnitude.
`loss_floor` keeps a network that starts almost perfect (a trained model file) from being
stopped for noise at the 1e-8 level.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from rnnviz.engine.trace import Trace

ON_DIVERGENCE = ("stop", "warn")  # stop (weights before the explosion kept) / warn once and go on
ADVICE = "lower the learning rate, clip the gradients, or reset"


def check_on_divergence(mode: str) -> str:
    """Return mode if it is one of ON_DIVERGENCE; raise ValueError naming the choices otherwise."""
    if mode not in ON_DIVERGENCE:
        raise ValueError(f"on divergence: choose one of {', '.join(ON_DIVERGENCE)}, got {mode!r}")
    return mode


class NonFiniteError(ArithmeticError):
    """Training met NaN or Inf; says at which iteration, in what and at which time step."""

    def __init__(self, iteration: int, what: str, step: int | None) -> None:
        self.iteration = iteration
        self.what = what
        self.step = step  # 1-based time step t, or None when it is not tied to a step
        where = f" at time step t={step}" if step is not None else ""
        super().__init__(f"iteration {iteration}: non-finite value in {what}{where}; training stopped ({ADVICE})")


class DivergenceError(NonFiniteError):
    """Training diverged: `what` ("the loss", "the weight W_hh[2, 0]", "the gradient of b_y[0]")
    reached `value`, past `limit`, at `iteration`. `kept` says which weights training was left
    with (stop mode), or "" when it warned and went on."""

    def __init__(self, iteration: int, what: str, value: float, limit: float, reason: str, kept: str = "") -> None:
        self.iteration = iteration
        self.what = what
        self.step = None  # divergence is a matter of the whole run, not of one time step
        self.value = value
        self.limit = limit
        self.reason = reason  # e.g. "over 1000× its starting value 0.57"
        self.kept = kept
        then = (f"training stopped and {kept} kept ({ADVICE})" if kept
                else "training goes on as asked (this is the only warning)")
        ArithmeticError.__init__(self, f"iteration {iteration}: training diverged: {what} reached {value:.3g}, "
                                       f"{reason}; {then}")

    def warning(self) -> "DivergenceError":
        """The same finding, worded as the warning of a run that goes on."""
        return DivergenceError(self.iteration, self.what, self.value, self.limit, self.reason)


@dataclass(frozen=True)
class DivergenceLimits:
    """When a run counts as diverging. The defaults sit two to three orders of magnitude above
    anything the built-in tasks reach at their default settings with any cell (largest weight
    ≈ 5, gradient entry ≈ 3, loss never above its start; bench/bench_divergence.py), and below
    what the first update at lr = 1e6 makes of the weights with any optimizer (≥ 1e4)."""

    loss_factor: float = 1e3  # the loss may reach this many times its starting value ...
    loss_floor: float = 1e-2  # ... or this many times loss_floor, whichever is larger
    max_weight: float = 1e3  # largest |entry| of any weight or bias
    max_grad: float = 1e5  # largest |entry| of any gradient (unclipped runs only)

    def __post_init__(self) -> None:
        for name in ("loss_factor", "loss_floor", "max_weight", "max_grad"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
                raise ValueError(f"the divergence limit {name} must be a positive number, got {v!r}")

    def for_data(self, x: np.ndarray, targets: np.ndarray, loss: str) -> "DivergenceLimits":
        """These limits scaled to data that is not normalised: weights may need to grow as large
        as the targets (an mse output of 300 needs a bias near 300), and gradients grow with the
        inputs and the targets. Data within ±1 leaves the limits as they are."""
        x_scale = max(1.0, _largest_abs(x))
        y_scale = max(1.0, _largest_abs(targets)) if loss == "mse" else 1.0
        if x_scale == y_scale == 1.0:
            return self
        return replace(self, max_weight=self.max_weight * y_scale, max_grad=self.max_grad * x_scale * y_scale)

    def loss_limit(self, start: float) -> float:
        """The largest loss a run that started at `start` may reach."""
        return self.loss_factor * max(start, self.loss_floor)


def _largest_abs(a: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64)
    m = float(np.max(np.abs(a))) if a.size else 0.0
    return m if np.isfinite(m) else 1.0


def largest_entries(arrays: dict[str, np.ndarray]) -> tuple[str, float]:
    """The array whose largest |entry| is the largest, and that |entry|: NaN if any entry is
    NaN, Inf if any is infinite (max propagates both), so this one pass per array is the
    finiteness check too."""
    name, top = "", 0.0
    for key, a in arrays.items():
        m = float(np.max(np.abs(a))) if a.size else 0.0
        if not m <= top:  # larger, or NaN: NaN wins and stays
            name, top = key, m
            if m != m:
                break
    return name, top


def entry_name(name: str, a: np.ndarray) -> str:
    """`name[i, j]` of a's entry with the largest |value| (the first NaN, if any)."""
    flat = np.abs(np.asarray(a, dtype=np.float64)).ravel()
    nan = np.flatnonzero(np.isnan(flat))
    i = int(nan[0]) if nan.size else int(np.argmax(flat))
    index = np.unravel_index(i, a.shape)
    return f"{name}[{', '.join(str(int(k)) for k in index)}]" if index else name


def first_nonfinite_step(trace: Trace, backward: bool = False) -> tuple[str, int | None]:
    """Where a non-finite value first appears in a trace: (array name, 1-based step).

    Forward: the earliest step in a, h, y and the per-step loss (an mse whose square
    overflows while y is still finite).  Backward: the first step the backward pass reached,
    i.e. the latest t, in dL/dy, dL/dh, dL/da."""
    names = ("dL_dy", "dL_dh", "dL_da") if backward else ("a", "h", "y", "loss_t")
    best: tuple[str, int | None] = (names[0], None)
    best_t = None
    for name in names:
        arr = getattr(trace, name)
        if name == "h":
            arr = arr[1:]
        bad_t = np.flatnonzero(~np.isfinite(arr.reshape(arr.shape[0], -1)).all(axis=1))
        if bad_t.size:
            t = int(bad_t[-1] if backward else bad_t[0])
            if best_t is None or (t > best_t if backward else t < best_t):
                best, best_t = (name if name != "h" else "h", t + 1), t
    return best
