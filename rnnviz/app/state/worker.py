"""Training runs on worker threads, and their snapshots delivered to the UI thread.

`TrainingWorker` is the one place that starts, stops and joins training threads: the main
window's `TrainingController` and the lab's `LabTraining` both use it. Each run is one engine
`Trainer` looped by `training_loop.run_loop` on a thread of its own; the run and the UI thread
share only a `Mailbox`. A UI timer pulls the newest snapshot of every run (coalescing: however
fast iterations come, the UI gets at most one `delivered` per tick) and settles the runs that
have ended: their thread joined, the settings posted too late applied, how they ended reported.

Thread rules: `run_loop` computes inside `np.errstate(all="ignore")`, because `np.seterr` on
the UI thread does not reach a worker thread (a bad number is caught by the engine's checks
and reported as a `NonFiniteError`). BLAS threads: the worker uses NumPy's BLAS pool as the
process set it up (OPENBLAS_NUM_THREADS and its kin); rnnviz does not resize it.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from rnnviz.engine import Trainer
from rnnviz.app.state.training_loop import Mailbox, SmoothedLoss, Snapshot, apply_settings, run_loop

UPDATE_MS = 33  # the UI pulls the newest snapshots this often while a run is going
MAX_GAP = 0.5  # s: however slow drawing is, paced deliveries come at least twice a second


@dataclass(frozen=True)
class RunEnd:
    """How a run ended, once its thread is joined."""

    error: BaseException | None  # a NonFiniteError, or any exception from the loop; None: stopped
    error_text: str  # the traceback of an unexpected exception ("" otherwise)
    reached_budget: bool


@dataclass
class Delivery:
    """What one pull hands the UI thread, keyed by the names the runs were started with."""

    snapshots: dict[str, Snapshot] = field(default_factory=dict)  # the newest of each run that has one
    states: dict[str, tuple[dict, dict[str, np.ndarray]]] = field(default_factory=dict)  # asked for: request_state
    ended: dict[str, RunEnd] = field(default_factory=dict)  # the runs settled by this pull


@dataclass
class _Run:
    trainer: Trainer
    box: Mailbox
    thread: threading.Thread


class TrainingWorker(QObject):
    """Runs trainers on worker threads (any number at once, each under a name) and delivers
    their snapshots to the UI thread, coalesced.

    With `ui_share`, deliveries are paced: the UI thread's CPU time per delivery (applying it
    and the repaints it causes) sets the gap to the next, so that drawing takes at most that
    share of the time and the workers keep the rest (both need Python's GIL); never more often
    than every `update_ms`, never less often than every MAX_GAP. Without it, every tick delivers.
    """

    delivered = Signal(object)  # Delivery, on the UI thread

    def __init__(self, parent: QObject | None = None, update_ms: int = UPDATE_MS,
                 ui_share: float | None = None) -> None:
        super().__init__(parent)
        self._runs: dict[str, _Run] = {}
        self.ui_share = ui_share
        self.min_gap = update_ms / 1000
        self.gap = self.min_gap  # s: the current pace (with ui_share)
        self._frame_mark: tuple[float, float] | None = None  # (wall, UI-thread CPU) at the last delivery
        self._timer = QTimer(self)
        self._timer.setInterval(update_ms)
        self._timer.timeout.connect(self.pull)

    @property
    def active(self) -> bool:
        """Whether any run is going or waits to be settled."""
        return bool(self._runs)

    def is_active(self, name: str) -> bool:
        return name in self._runs

    def start(self, name: str, trainer: Trainer, smoothed: SmoothedLoss, budget: int | None,
              thread_name: str) -> None:
        """Loop `trainer.step()` on a new thread until stopped, the budget is reached or a number
        goes bad. The run owns `trainer` and `smoothed` until it is settled (or aborted)."""
        if name in self._runs:
            raise RuntimeError(f"the run {name!r} is still going")
        box = Mailbox(budget)
        thread = threading.Thread(target=run_loop, args=(trainer, smoothed, box), name=thread_name, daemon=True)
        self._runs[name] = _Run(trainer, box, thread)
        self._frame_mark = None
        self.gap = self.min_gap
        thread.start()
        self._timer.start()

    def set_budget(self, budget: int | None) -> None:
        """Every going run stops at this iteration (None: when told to)."""
        for run in self._runs.values():
            run.box.budget = budget  # a plain attribute, read by the worker each iteration

    def post(self, name: str, setting: str, value: object) -> bool:
        """Hand a setting to a going run, applied between two iterations. False when there is
        no going run of that name: the caller applies it to the trainer itself."""
        run = self._runs.get(name)
        if run is None or run.box.done.is_set():
            return False
        run.box.post(setting, value)
        return True

    def request_state(self, name: str) -> bool:
        """Ask a going run for a copy of its trainer's state (`Trainer.state_dict()`), which its
        worker takes between two iterations; a later `delivered` carries it in `states` (also
        when the run ends first, unless it is aborted). False when no such run is going."""
        run = self._runs.get(name)
        if run is None or run.box.done.is_set():
            return False
        run.box.request_state()
        return True

    def stop(self, timeout: float | None = None) -> None:
        """Tell every run to stop after its current iteration, wait up to `timeout` seconds for
        the threads (None: until they have stopped) and pull: a run that has stopped by then is
        delivered and settled, one that has not is settled by a later tick."""
        for run in self._runs.values():
            run.box.stop.set()
        end = None if timeout is None else time.monotonic() + timeout
        for run in self._runs.values():
            run.thread.join(None if end is None else max(0.0, end - time.monotonic()))
        self.pull()

    def abort(self) -> None:
        """Stop every run, wait for its thread, and forget it: nothing is delivered or settled
        (the run is being thrown away, or the app is closing)."""
        self._timer.stop()
        for run in self._runs.values():
            run.box.stop.set()
        for run in self._runs.values():
            run.thread.join()
        self._runs.clear()

    def pull(self) -> None:
        """The UI timer: take the newest snapshot of each run, settle the runs that are done,
        and emit one `delivered` with both (nothing when there is nothing new)."""
        if not self._runs:
            self._timer.stop()
            return
        done = [name for name, run in self._runs.items() if run.box.done.is_set()]
        now, cpu = time.perf_counter(), time.thread_time()
        if self.ui_share is not None and self._frame_mark is not None and not done:
            wall0, cpu0 = self._frame_mark
            if now - wall0 < self.gap:
                return  # not due: the workers keep replacing their snapshots meanwhile
            cost = cpu - cpu0  # UI CPU since the last delivery: that delivery's drawing and more
            want = min(MAX_GAP, max(self.min_gap, cost / self.ui_share))
            self.gap = 0.6 * self.gap + 0.4 * want
        delivery = Delivery()
        for name, run in self._runs.items():
            snap = run.box.take()
            if snap is not None:
                delivery.snapshots[name] = snap
            state = run.box.take_state()
            if state is not None:
                delivery.states[name] = state
        if delivery.snapshots:
            self._frame_mark = (now, cpu)
        for name in done:
            delivery.ended[name] = self._settle(name)
        if not self._runs:
            self._timer.stop()
        if delivery.snapshots or delivery.states or delivery.ended:
            self.delivered.emit(delivery)

    def _settle(self, name: str) -> RunEnd:
        """Join a run that is done, apply the settings it did not get to, and forget it."""
        run = self._runs.pop(name)
        run.thread.join()
        leftover = run.box.take_settings()
        if leftover:
            apply_settings(run.trainer, leftover)
        return RunEnd(run.box.error, run.box.error_text, run.box.reached_budget)
