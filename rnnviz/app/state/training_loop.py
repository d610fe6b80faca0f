"""The part of live training that runs on the worker thread, and the records it keeps.

Nothing here touches Qt: `worker.TrainingWorker` starts and joins the threads. The worker owns
the engine `Trainer` while it runs; the UI thread only ever sees `Snapshot`s, which hold copies.
Settings changed during a run (learning rate, clipping, ...) are posted to a `Mailbox` and
applied by the worker between two iterations. The trainer's whole state (for the recovery
file) is asked for the same way and handed over by the worker between two iterations, so the
UI thread never pauses the run or copies the optimizer's moments and the history itself.
"""
from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field

import numpy as np

from rnnviz.engine import DivergenceError, NonFiniteError, Trainer, make_optimizer, run
from rnnviz.engine.history import Series

HIDDEN_MAX_RECORDS = 512  # h records a run keeps at most (the record halves when full)
HIDDEN_MAX_BYTES = 32 * 2**20


@dataclass(frozen=True)
class TrainingSettings:
    """What the training panel sets."""

    optimizer: str = "adam"
    lr: float = 0.01
    momentum: float = 0.0  # sgd only
    clip: float | None = None  # global-norm clipping threshold; None: off
    batch_size: int | None = None  # None: every training sequence in each batch
    iterations: int | None = 500  # the budget; None: until paused
    on_divergence: str = "stop"  # engine.guards.ON_DIVERGENCE: stop, or warn once and go on
    # the conventions of hand-written RNNs (engine.trainer): PyTorch's by default
    loss_reduction: str = "mean"  # over time steps: "mean" (PyTorch) or "sum" (min-char-rnn)
    clip_mode: str = "norm"  # "norm": global norm; "value": each gradient entry to [-clip, clip]
    stateful: bool = False  # carry the hidden state from one batch to the next (min-char-rnn's hprev)
    adagrad_eps: str = "outside"  # Adagrad's epsilon "outside" (PyTorch) or "inside" the square root


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


def hidden_record(shape: tuple[int, ...], max_bytes: int = HIDDEN_MAX_BYTES,
                  max_records: int = HIDDEN_MAX_RECORDS) -> Series:
    """An empty record of one sequence's h (`shape` (T+1, H)) at each update of a run: at most
    `max_records` records and about `max_bytes`, halving as it fills so it always spans the
    whole run, with the run's start and the newest record always in it."""
    size = int(np.prod(shape))
    capacity = int(max(8, min(max_records, max_bytes // max(1, size * 8))))
    return Series(capacity, shape=shape, keep_ends=True)


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
    warning: str = ""  # warn mode: the run's one divergence warning, once it was given
    starts: dict = field(default_factory=dict)  # stateful: sequence -> its carried h0 (c0) for the next iteration
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
            warning="" if trainer.divergence is None else str(trainer.divergence),
            starts=trainer.carried_starts(),
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
        elif name == "on_divergence":
            trainer.set_on_divergence(value)
        elif name == "loss_reduction":
            trainer.set_loss_reduction(value)
        elif name == "clip_mode":
            trainer.set_clip_mode(value)
        elif name == "stateful":
            trainer.set_stateful(value)
        elif name == "adagrad_eps":
            trainer.set_adagrad_eps(value)
        elif name == "batch_size":
            N = trainer.x.shape[1]
            trainer.batch_size = None if value is None or value >= N else max(1, int(value))
        elif name == "optimizer":
            if value != trainer.optimizer_name:
                # a fresh optimizer from here on; Reset starts the whole run with it
                trainer.optimizer_name = value
                trainer.optimizer = make_optimizer(value, trainer.lr, trainer.momentum, trainer.adagrad_eps)


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


def describe_failure(error: BaseException, trainer: Trainer | None) -> tuple[str, int | None]:
    """What the person is told when a run stops on an error, and the 1-based time step that
    the message names (None: it names none)."""
    if not isinstance(error, NonFiniteError):
        return f"training stopped: {type(error).__name__}: {error}", None
    if isinstance(error, DivergenceError):
        return str(error), None  # it names the iteration, the quantity and its value; no time step
    message, step = str(error), error.step
    if step is None and error.what == "the loss" and trainer is not None:
        step = first_bad_loss_step(trainer)
        if step is not None:
            message = message.replace("in the loss", f"in the loss at time step t={step}", 1)
    return message, step


def first_bad_loss_step(trainer: Trainer) -> int | None:
    """The loss overflowed although every a, h, y was finite (e.g. y_t² too large): the first
    time step whose loss is not finite, on the weights kept (those that failed)."""
    with np.errstate(all="ignore"):
        trace = run(trainer.model, trainer.x, trainer.targets)
    bad = np.flatnonzero(~np.isfinite(trace.loss_t))
    return int(bad[0]) + 1 if bad.size else None


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
        self.state_wanted = threading.Event()  # the UI thread asks for a copy of the trainer's state
        self._state: tuple[dict, dict[str, np.ndarray]] | None = None

    def post(self, name: str, value: object) -> None:
        with self.lock:
            self._pending[name] = value

    def has_settings(self) -> bool:
        """Whether settings wait to be taken (an unlocked peek: take_settings locks)."""
        return bool(self._pending)

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

    def request_state(self) -> None:
        """Ask the worker for `Trainer.state_dict()` (copies), taken between two iterations (or
        at the run's end): the UI thread then takes it with `take_state`, without ever waiting
        for the worker or copying the run's optimizer state and history itself."""
        self.state_wanted.set()

    def hand_state(self, trainer: Trainer) -> None:
        """The worker: answer a request with the trainer's state as it is now."""
        state = trainer.state_dict()  # copies: the run goes on changing its own arrays
        with self.lock:
            self._state = state
            self.state_wanted.clear()

    def take_state(self) -> tuple[dict, dict[str, np.ndarray]] | None:
        with self.lock:
            state, self._state = self._state, None
        return state


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
                if box.has_settings():
                    apply_settings(trainer, box.take_settings())
                if box.state_wanted.is_set():
                    box.hand_state(trainer)
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
            if box.state_wanted.is_set():  # asked during the last iteration: answered all the same
                box.hand_state(trainer)
        finally:
            box.done.set()
