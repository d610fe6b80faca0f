"""A trainer that advances one iteration at a time, so a GUI (or a CLI loop) can drive it.

`step()` runs one forward + BPTT pass on a batch, checks every number, clips and updates.
Reset gives back the initial weights and the same random stream, so the same seed gives the
same run. Nothing here knows about threads: a caller that runs it on a worker thread should
hand copies of what it reads to other threads.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from .history import History
from .model import RNN
from .optim import Optimizer, clip_grad_norm, make_optimizer
from .rnn import prepare_inputs, prepare_targets, run
from .trace import Trace


class NonFiniteError(ArithmeticError):
    """Training met NaN or Inf; says at which iteration, in what and at which time step."""

    def __init__(self, iteration: int, what: str, step: int | None) -> None:
        self.iteration = iteration
        self.what = what
        self.step = step  # 1-based time step t, or None when it is not tied to a step
        where = f" at time step t={step}" if step is not None else ""
        super().__init__(f"iteration {iteration}: non-finite value in {what}{where}; training stopped "
                         "(lower the learning rate, clip the gradients, or reset)")


@dataclass
class StepResult:
    iteration: int
    loss: float
    grad_norm: float  # global gradient norm before clipping
    clipped: bool
    trace: Trace  # the batch's trace (taken before the update)


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


class Trainer:
    """Trains `model` (in place) on inputs (T, N, I) and targets in the engine's layout."""

    def __init__(
        self,
        model: RNN,
        x: np.ndarray,
        targets: np.ndarray,
        *,
        optimizer: str = "adam",
        lr: float = 0.01,
        momentum: float = 0.0,
        clip: float | None = None,
        batch_size: int | None = None,
        seed: int = 0,
        tbptt: int | None = None,
        x_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        val_every: int = 10,
        history: History | None = None,
    ) -> None:
        self.model = model
        self.x = prepare_inputs(model, x)  # (T, N, I)
        T, N, _ = self.x.shape
        self.targets = prepare_targets(model, targets, T, N)
        if batch_size is not None and not 1 <= batch_size <= N:
            raise ValueError(f"the batch size must lie between 1 and the {N} training sequences, got {batch_size}")
        if x_val is not None and y_val is not None:
            self.x_val = prepare_inputs(model, x_val)
            self.y_val = prepare_targets(model, y_val, *self.x_val.shape[:2])
        else:
            self.x_val = self.y_val = None
        self.optimizer_name = optimizer
        self.lr = lr
        self.momentum = momentum
        self.clip = clip
        self.batch_size = batch_size
        self.seed = seed
        self.tbptt = tbptt
        self.val_every = val_every
        self.history = history or History()
        self._initial = model.copy()
        self.reset()

    # control ------------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the initial weights, a fresh optimizer and the same random stream."""
        self.model.set_params(self._initial.params())
        self.optimizer: Optimizer = make_optimizer(self.optimizer_name, self.lr, self.momentum)
        self.rng = np.random.default_rng(self.seed)
        self.iteration = 0
        self._order = np.empty(0, dtype=np.int64)
        self._pos = 0
        self.history.clear()

    def set_lr(self, lr: float) -> None:
        if not np.isfinite(lr) or lr <= 0:
            raise ValueError(f"the learning rate must be a positive number, got {lr}")
        self.lr = lr
        self.optimizer.lr = lr

    def set_clip(self, clip: float | None) -> None:
        if clip is not None and (not np.isfinite(clip) or clip <= 0):
            raise ValueError(f"the clipping threshold must be a positive number, got {clip}")
        self.clip = clip

    def set_momentum(self, momentum: float) -> None:
        self.momentum = momentum
        if hasattr(self.optimizer, "momentum"):
            self.optimizer.momentum = momentum

    # one iteration --------------------------------------------------------------------------
    def next_batch(self) -> np.ndarray:
        """Indices of the next mini-batch (all sequences for full batch)."""
        N = self.x.shape[1]
        if self.batch_size is None or self.batch_size >= N:
            return np.arange(N)
        if self._pos + self.batch_size > len(self._order):
            self._order = self.rng.permutation(N)
            self._pos = 0
        idx = self._order[self._pos : self._pos + self.batch_size]
        self._pos += self.batch_size
        return idx

    def step(self) -> StepResult:
        """One iteration. Raises NonFiniteError (weights left as they were) on NaN/Inf."""
        it = self.iteration + 1
        idx = self.next_batch()
        trace = run(self.model, self.x[:, idx], self.targets[:, idx], tbptt=self.tbptt)
        if not np.isfinite(trace.loss):
            what, t = first_nonfinite_step(trace)
            raise NonFiniteError(it, "the loss" if t is None or what == "loss_t" else f"the forward pass ({what})", t)
        grads = {name[5:]: g.copy() for name, g in trace.grads.items()}  # grad_W_xh -> W_xh
        if not all(np.all(np.isfinite(g)) for g in grads.values()):
            what, t = first_nonfinite_step(trace, backward=True)
            raise NonFiniteError(it, f"the gradients ({what})", t)
        with np.errstate(over="ignore", invalid="ignore"):
            norm = clip_grad_norm(grads, self.clip) if self.clip else trace.grad_norm()
            before = {k: v.copy() for k, v in self.model.params().items()}
            # the optimizer's buffers and step count too, so that after a failed update it
            # carries on (say with a lower rate) as if the step had never been tried
            optimizer_before = (copy.deepcopy(self.optimizer.state), self.optimizer.steps)
            self.optimizer.step(self.model.params(), grads)
        for name, p in self.model.params().items():
            if not np.all(np.isfinite(p)):
                self.model.set_params(before)
                self.optimizer.state, self.optimizer.steps = optimizer_before
                raise NonFiniteError(it, f"the updated weights ({name})", None)
        self.iteration = it
        clipped = bool(self.clip and norm > self.clip)
        self.history.loss.append(it, trace.loss)
        self.history.grad_norm.append(it, norm)
        if self.x_val is not None and (it % self.val_every == 0 or it == 1):
            self.history.val_loss.append(it, self.validation_loss())
        self.history.snapshots.offer(it, self.model.params())
        return StepResult(it, trace.loss, norm, clipped, trace)

    def validation_loss(self) -> float:
        if self.x_val is None:
            return float("nan")
        return run(self.model, self.x_val, self.y_val).loss

    def loss(self) -> float:
        """Loss of the current weights on all training sequences."""
        return run(self.model, self.x, self.targets).loss
