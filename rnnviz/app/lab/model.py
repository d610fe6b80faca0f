"""What the vanishing-gradient lab shows, computed without Qt: the echo task, a vanilla RNN and
a gated network built from one seed, and the curves drawn for a set of weights.

Every number here is the engine's: `run` for the trace, `jacobian_norms` for ‖∂h_T/∂h_t‖,
`trace.grad_gain` for the batch mean, `trace.dL_dh` for the gradient flow. The lab's views only
draw a `LabCurves`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from rnnviz.engine import Task, init_model, jacobian_norms, make_task, run
from rnnviz.engine.analysis import eigenvalues, largest_modulus
from rnnviz.engine.optim import check_lr

GATED = ("lstm", "gru")
CELL_NAMES = {"rnn": "vanilla RNN", "lstm": "LSTM", "gru": "GRU"}
SCALE_RANGE = (0.25, 3.0)  # the initial scale of W_hh the lab offers (log slider)
STEPS_RANGE = (4, 100)
HIDDEN_RANGE = (2, 64)


@dataclass(frozen=True)
class LabConfig:
    """What the lab's controls set."""

    steps: int = 20  # sequence length T
    lag: int = 8  # echo the input from `lag` steps ago (1 … T−1)
    scale: float = 1.0  # recurrent_scale: multiplies the initial W_hh (every W_h* of the gated cell)
    hidden: int = 16
    seed: int = 0
    gated: str = "lstm"  # the vanilla RNN's opponent: "lstm" or "gru"
    lr: float = 0.01  # Adam
    iterations: int = 1000  # the training budget of both networks
    watched: int = 0  # which training sequence the exact Jacobian curve uses

    def checked(self) -> "LabConfig":
        """The same settings brought into range (the lag always below T)."""
        steps = int(np.clip(self.steps, *STEPS_RANGE))
        if self.gated not in GATED:
            raise ValueError(f"the gated cell must be one of {', '.join(GATED)}, got {self.gated!r}")
        if not np.isfinite(self.scale) or self.scale <= 0:
            raise ValueError(f"the initial scale of W_hh must be a positive number, got {self.scale}")
        check_lr(self.lr)
        return replace(self, steps=steps, lag=int(np.clip(self.lag, 1, steps - 1)),
                       hidden=int(np.clip(self.hidden, *HIDDEN_RANGE)), iterations=max(1, int(self.iterations)),
                       watched=max(0, int(self.watched)))

    @property
    def cells(self) -> tuple[str, str]:
        return ("rnn", self.gated)


def build_task(config: LabConfig) -> Task:
    return make_task("echo", steps=config.steps, lag=config.lag, seed=config.seed)


def build_models(config: LabConfig, task: Task) -> dict[str, object]:
    """Both networks from the same seed and initial scale: {"rnn": RNN, "lstm"|"gru": ...}."""
    return {cell: init_model(cell, task.input_size, config.hidden, task.output_size, architecture=task.architecture,
                             loss=task.loss, seed=config.seed, recurrent_scale=config.scale)
            for cell in config.cells}


@dataclass
class LabCurves:
    """One network's curves for one set of weights. Arrays indexed by time step t = 1 … T
    (index t−1); `distance` = T − t."""

    cell: str
    steps: np.ndarray  # (T,) t = 1 … T
    distance: np.ndarray  # (T,) T − t: T−1 … 0
    jacobian: np.ndarray  # (T,) exact ‖∂h_T/∂h_t‖ (spectral norm) on the watched sequence
    gain: np.ndarray  # (T,) trace.grad_gain: the batch mean of ‖u·∂h_T/∂h_t‖, u = dL/dh_T direction
    dL_dh: np.ndarray  # (T,) batch mean of ‖dL/dh_t‖ (the total gradient reaching h_t)
    loss: float  # on every training sequence, these weights
    eigenvalues: np.ndarray | None  # (H,) complex eigenvalues of W_hh (vanilla only)

    @property
    def spectral_radius(self) -> float | None:
        return None if self.eigenvalues is None else largest_modulus(self.eigenvalues)

    def at_distance(self, d: int, which: str = "jacobian") -> float:
        """The curve's value d steps back from T (d = 0 … T−1)."""
        arr = getattr(self, which)
        return float(arr[len(arr) - 1 - d])

    def by_distance(self, which: str = "jacobian") -> tuple[np.ndarray, np.ndarray]:
        """(distance 0 … T−1, values) in increasing distance."""
        return self.distance[::-1].copy(), getattr(self, which)[::-1].copy()


def compute_curves(model, task: Task, watched: int = 0) -> LabCurves:
    """Run the engine on every training sequence with these weights and read the curves off."""
    with np.errstate(all="ignore"):
        # grad_gain over every training sequence, as the lab's "batch mean" says (run's default
        # probes only the first 4, which is what keeps training fast)
        trace = run(model, task.x_train, task.y_train, gain_sequences=task.x_train.shape[1])
        T = trace.T
        seq = int(np.clip(watched, 0, trace.h.shape[1] - 1))
        jac = jacobian_norms(trace, seq=seq)
        dL_dh = np.linalg.norm(trace.dL_dh, axis=2).mean(axis=1)  # (T,)
        eig = eigenvalues(trace.params["W_hh"]) if trace.cell == "rnn" else None
    t = np.arange(1, T + 1)
    return LabCurves(model.cell, t, T - t, jac, np.asarray(trace.grad_gain).copy(), dL_dh,
                     float(trace.loss), eig)


def zero_loss(task: Task) -> float:
    """The loss of always answering 0 (the mean of y² over the training targets): the line a
    network that has learned nothing about the past sits on."""
    y = np.asarray(task.y_train, dtype=float)
    return float(np.mean(y * y))


def summary(config: LabConfig, curves: dict[str, LabCurves]) -> str:
    """The short comparison: 'vanilla RNN: loss 0.31 at lag 8; LSTM: 0.004'."""
    a, b = (curves.get(c) for c in config.cells)
    if a is None or b is None:
        return ""
    return f"{CELL_NAMES['rnn']}: loss {a.loss:.3g} at lag {config.lag}; {CELL_NAMES[config.gated]}: {b.loss:.3g}"
