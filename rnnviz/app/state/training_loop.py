"""The part of live training that runs on the worker thread, and the records it keeps.

Nothing here touches Qt. The worker owns the engine `Trainer` while it runs; the UI thread
only ever sees `Snapshot`s, which hold copies. Settings changed during a run (learning rate,
clipping, ...) are posted to a `Mailbox` and applied by the worker between two iterations.
"""
from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field

import numpy as np

from rnnviz.engine import NonFiniteError, Trainer, make_optimizer
from rnnviz.engine.history import Series

OPTIMIZERS = ("sgd", "adam", "adagrad")


@dataclass(frozen=True)
class TrainingSettings:
    """What the training panel sets."""

    optimizer: str = "adam"
    lr: float = 0.01
    momentum: float = 0.0  # sgd only
    clip: float | None = None  # global-norm clipping threshold; None: off
    batch_size: int | None = None  # None: every training sequence in each batch
    iterations: int | None = 500  # the budget; None: until paused


def check_lr(lr: float) -> float:
    lr = float(lr)
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"the learning rate must be a positive number, got {lr}")
    return lr


def check_clip(clip: float | None) -> float | None:
    if clip is None:
        return None
    clip = float(clip)
    if not np.isfinite(clip) or clip <= 0:
        raise ValueError(f"the clipping threshold must be a positive number, got {clip}")
    return clip


class SmoothedLoss:
    """An exponential moving average of the loss (bias-corrected, as TensorBoard's smoothing),
    recorded in a `Series` with the loss series' capacity so both decimate alike."""

    def __init__(self, beta: float = 0.9, capacity: int = 262_144) -> None:
        self.beta = beta
        self.series = Series(capacity)
        self._avg = 0.0
        self._n = 0

    def add(self, iteration: int, loss: float) -> None:
        self._n += 1
        self._avg = self.beta * self._avg + (1 - self.beta) * loss
        self.series.append(iteration, self._avg / (1 - self.beta**self._n))

    def clear(self) -> None:
        self.series.clear()
        self._avg = 0.0
        self._n = 0


def _copy(series: Series) -> tuple[np.ndarray, np.ndarray]:
    return series.iterations.copy(), series.values.copy()


@dataclass
class Snapshot:
    """What the UI thread gets from a run: copies only, safe to keep and to plot."""

    iteration: int
    loss: float  # the last iteration's batch loss (nan before the first)
    params: dict[str, np.ndarray]  # (copies) W_xh, W_hh, b_h, W_hy, b_y
    loss_curve: tuple[np.ndarray, np.ndarray]  # (iterations (n,), values (n,))
    smoothed_curve: tuple[np.ndarray, np.ndarray]
    grad_norm_curve: tuple[np.ndarray, np.ndarray]  # before clipping
    val_curve: tuple[np.ndarray, np.ndarray]  # empty when the data has no held-out set
    clip: float | None = None
    time: float = field(default_factory=time.perf_counter)

    @staticmethod
    def of(trainer: Trainer, smoothed: SmoothedLoss) -> "Snapshot":
        h = trainer.history
        return Snapshot(
            iteration=trainer.iteration,
            loss=h.loss.last(),
            params={k: v.copy() for k, v in trainer.model.params().items()},
            loss_curve=_copy(h.loss),
            smoothed_curve=_copy(smoothed.series),
            grad_norm_curve=_copy(h.grad_norm),
            val_curve=_copy(h.val_loss),
            clip=trainer.clip,
        )

    @staticmethod
    def empty(params: dict[str, np.ndarray], clip: float | None = None) -> "Snapshot":
        none = (np.empty(0, dtype=np.int64), np.empty(0))
        return Snapshot(0, float("nan"), {k: v.copy() for k, v in params.items()}, none, none, none, none, clip)


def apply_settings(trainer: Trainer, changes: dict) -> None:
    """Apply settings between two iterations (never during one)."""
    for name, value in changes.items():
        if name == "lr":
            trainer.set_lr(value)
        elif name == "clip":
            trainer.set_clip(value)
        elif name == "momentum":
            trainer.set_momentum(value)
        elif name == "batch_size":
            N = trainer.x.shape[1]
            trainer.batch_size = None if value is None or value >= N else max(1, int(value))
        elif name == "optimizer":
            if value != trainer.optimizer_name:
                # a fresh optimizer from here on; Reset starts the whole run with it
                trainer.optimizer_name = value
                trainer.optimizer = make_optimizer(value, trainer.lr, trainer.momentum)


def optimizer_is_finite(trainer: Trainer) -> bool:
    """Whether the optimizer's state (momentum buffers, Adam moments) holds only finite numbers."""

    def finite(obj: object) -> bool:
        if isinstance(obj, np.ndarray):
            return bool(np.all(np.isfinite(obj)))
        if isinstance(obj, dict):
            return all(finite(v) for v in obj.values())
        if isinstance(obj, (list, tuple)):
            return all(finite(v) for v in obj)
        if isinstance(obj, float):
            return bool(np.isfinite(obj))
        return True

    return finite(getattr(trainer.optimizer, "state", {}))


class Mailbox:
    """The only things the UI thread and the worker share, each behind one lock."""

    def __init__(self, budget: int | None) -> None:
        self.lock = threading.Lock()
        self.budget = budget  # read by the worker each iteration (a plain attribute: atomic)
        self.stop = threading.Event()
        self.done = threading.Event()
        self._pending: dict = {}
        self._latest: Snapshot | None = None
        self.error: BaseException | None = None
        self.error_text = ""
        self.reached_budget = False

    def post(self, name: str, value: object) -> None:
        with self.lock:
            self._pending[name] = value

    def take_settings(self) -> dict:
        with self.lock:
            changes, self._pending = self._pending, {}
        return changes

    def publish(self, snapshot: Snapshot) -> None:
        with self.lock:
            self._latest = snapshot

    def take(self) -> Snapshot | None:
        with self.lock:
            snap, self._latest = self._latest, None
        return snap


def run_loop(trainer: Trainer, smoothed: SmoothedLoss, box: Mailbox, publish_every: float = 0.03) -> None:
    """The worker: iterate until told to stop, the budget is reached or a number goes bad.
    Publishes a snapshot (copies) at most every `publish_every` seconds, and always at the end."""
    last = time.perf_counter()
    try:
        with np.errstate(all="ignore"):
            while not box.stop.is_set():
                budget = box.budget
                if budget is not None and trainer.iteration >= budget:
                    box.reached_budget = True
                    break
                if box._pending:  # unlocked peek; take_settings locks
                    apply_settings(trainer, box.take_settings())
                result = trainer.step()
                smoothed.add(result.iteration, result.loss)
                now = time.perf_counter()
                if now - last >= publish_every:
                    box.publish(Snapshot.of(trainer, smoothed))
                    last = now
    except NonFiniteError as e:
        box.error = e
    except Exception as e:  # noqa: BLE001 - reported to the person, never lost
        box.error = e
        box.error_text = traceback.format_exc()
    finally:
        try:
            box.publish(Snapshot.of(trainer, smoothed))
        finally:
            box.done.set()


class HiddenRecord:
    """h_t of the watched sequence at each UI update of a run: `iterations` (n,) and
    `h` (n, T+1, H). Bounded like the engine's `Series`: when full, every second record is
    dropped (the first, iteration 0, kept) and from then on only every second one offered is
    kept, so it always spans the whole run. The newest record is always at hand (`latest`)."""

    def __init__(self, max_bytes: int = 32 * 2**20, max_items: int = 512) -> None:
        self.max_bytes = max_bytes
        self.max_items = max_items
        self.clear()

    def clear(self) -> None:
        self._it = np.empty(0, dtype=np.int64)
        self._h = np.empty((0, 0, 0))
        self._n = 0
        self._offered = 0
        self.stride = 1
        self.latest: tuple[int, np.ndarray] | None = None

    def __len__(self) -> int:
        return self._n + (0 if self._latest_stored() else 1 if self.latest is not None else 0)

    def _latest_stored(self) -> bool:
        return self.latest is None or (self._n > 0 and self._it[self._n - 1] == self.latest[0])

    def add(self, iteration: int, h: np.ndarray) -> None:
        """h: (T+1, H) for one sequence."""
        if self._n and (self._h.shape[1:] != h.shape):
            self.clear()
        h = np.array(h, dtype=float)
        self.latest = (iteration, h)
        if self._n and iteration == self._it[self._n - 1]:
            self._h[self._n - 1] = h  # same iteration (e.g. another watched sequence): replace
            return
        self._offered += 1
        if (self._offered - 1) % self.stride:
            return
        if self._h.shape[0] == 0:
            cap = int(max(8, min(self.max_items, self.max_bytes // max(1, h.size * 8))))
            self._it = np.empty(cap, dtype=np.int64)
            self._h = np.empty((cap, *h.shape))
        if self._n == len(self._it):
            half = (self._n + 1) // 2
            self._it[:half] = self._it[0 : self._n : 2]
            self._h[:half] = self._h[0 : self._n : 2]
            self._n = half
            self.stride *= 2
        self._it[self._n] = iteration
        self._h[self._n] = h
        self._n += 1

    @property
    def iterations(self) -> np.ndarray:
        """(n,) recorded iterations, the newest included."""
        its = self._it[: self._n]
        if not self._latest_stored():
            its = np.append(its, self.latest[0])
        return its

    def at_step(self, t: int) -> np.ndarray:
        """(n, H): h_t per recorded iteration (aligned with `iterations`), the newest included."""
        cols = self._h[: self._n, t, :]
        if not self._latest_stored():
            cols = np.concatenate([cols, self.latest[1][None, t, :]])
        return cols

    @property
    def steps(self) -> int:
        """T+1: how many h_t each record holds (0 when empty)."""
        return 0 if self.latest is None else self.latest[1].shape[0]

    @property
    def first(self) -> np.ndarray | None:
        """(T+1, H) the oldest record (the start of the run)."""
        if self._n:
            return self._h[0]
        return None if self.latest is None else self.latest[1]
