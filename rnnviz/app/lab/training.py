"""Training the lab's two networks at once, off the UI thread.

The same pieces as the main window's training (training_loop): each network has an engine
`Trainer` on a *copy* of its model, a worker thread running `run_loop`, and a `Mailbox` the
worker publishes `Snapshot`s (copies) into. One UI timer pulls the newest snapshot of each side
every ~33 ms (coalescing: ≤ 30 updates a second however fast the workers go) and emits
`updated`. Train / Pause / Reset act on both networks together.
"""
from __future__ import annotations

import threading
import time

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from rnnviz.engine import NonFiniteError, Trainer
from rnnviz.app.state.training_loop import Mailbox, SmoothedLoss, Snapshot, run_loop

UPDATE_MS = 33


class _Side:
    """One network's run: its trainer, records and (while running) worker and mailbox."""

    def __init__(self, cell: str, trainer: Trainer) -> None:
        self.cell = cell
        self.trainer = trainer
        self.smoothed = SmoothedLoss()
        self.snapshot = Snapshot.empty(trainer.model.params())
        self.box: Mailbox | None = None
        self.thread: threading.Thread | None = None
        self.error = ""  # why this side stopped (a non-finite value), or ""

    @property
    def active(self) -> bool:
        return self.box is not None


class LabTraining(QObject):
    """Train / Pause / Reset for the lab's networks (any number; the lab uses two)."""

    updated = Signal()  # new snapshots: read `snapshot(cell)`
    stateChanged = Signal(str)  # "idle", "running", "paused", "finished"
    failed = Signal(str, str)  # cell, message

    def __init__(self, parent: QObject | None = None, update_ms: int = UPDATE_MS) -> None:
        super().__init__(parent)
        self.sides: dict[str, _Side] = {}
        self.budget = 1000
        self.state = "idle"
        self._timer = QTimer(self)
        self._timer.setInterval(update_ms)
        self._timer.timeout.connect(self._pull)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # setting up ----------------------------------------------------------------------------------
    def setup(self, models: dict[str, object], x, y, *, lr: float, budget: int, seed: int = 0) -> None:
        """New networks (stops any run): each trains a copy of its model, Adam, full batch."""
        self.shutdown()
        self.budget = int(budget)
        self.sides = {cell: _Side(cell, Trainer(m.copy(), x, y, optimizer="adam", lr=lr, seed=seed))
                      for cell, m in models.items()}
        self._set_state("idle")
        self.updated.emit()

    def set_budget(self, budget: int) -> None:
        self.budget = max(1, int(budget))
        for side in self.sides.values():
            if side.box is not None:
                side.box.budget = self.budget

    def set_lr(self, lr: float) -> None:
        for side in self.sides.values():
            if side.box is not None and not side.box.done.is_set():
                side.box.post("lr", lr)
            else:
                side.trainer.set_lr(lr)

    # what the views read -------------------------------------------------------------------------
    def snapshot(self, cell: str) -> Snapshot:
        return self.sides[cell].snapshot

    def iteration(self, cell: str) -> int:
        return self.sides[cell].snapshot.iteration

    def error(self, cell: str) -> str:
        return self.sides[cell].error

    @property
    def running(self) -> bool:
        return self.state == "running"

    # control -------------------------------------------------------------------------------------
    def train(self) -> None:
        """Start (or carry on) both networks in the background, up to the budget."""
        if self.running or not self.sides:
            return
        started = False
        for side in self.sides.values():
            if side.error or side.trainer.iteration >= self.budget:
                continue
            side.box = Mailbox(self.budget)
            side.thread = threading.Thread(target=run_loop, args=(side.trainer, side.smoothed, side.box),
                                           name=f"rnnviz-lab-{side.cell}", daemon=True)
            side.thread.start()
            started = True
        if started:
            self._set_state("running")
            self._timer.start()
        else:
            self._set_state("finished")

    def pause(self) -> None:
        """Both stop after their current iteration; the weights reached so far stay."""
        for side in self.sides.values():
            if side.box is not None:
                side.box.stop.set()
        for side in self.sides.values():
            self._settle(side)
        self._timer.stop()
        if self.state == "running":
            self._set_state("paused")
        self.updated.emit()

    def toggle(self) -> None:
        self.pause() if self.running else self.train()

    def reset(self) -> None:
        """Both back to their initial weights, a fresh optimizer, empty curves."""
        self.shutdown()
        for side in self.sides.values():
            side.trainer.reset()
            side.smoothed.clear()
            side.error = ""
            side.snapshot = Snapshot.empty(side.trainer.model.params())
        self._set_state("idle")
        self.updated.emit()

    def shutdown(self) -> None:
        """Stop the workers and the timer, and wait for them (window closed, new networks)."""
        self._timer.stop()
        for side in self.sides.values():
            if side.box is not None:
                side.box.stop.set()
        for side in self.sides.values():
            self._settle(side)
        if self.state == "running":
            self._set_state("paused")

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until every worker is done (tests, scripts); then settle. True if all were."""
        end = time.monotonic() + timeout
        for side in self.sides.values():
            if side.thread is not None:
                side.thread.join(max(0.0, end - time.monotonic()))
        done = all(s.thread is None or not s.thread.is_alive() for s in self.sides.values())
        if done:
            self._pull()
        return done

    # the UI timer ------------------------------------------------------------------------------
    def _pull(self) -> None:
        changed = False
        for side in self.sides.values():
            box = side.box
            if box is None:
                continue
            done = box.done.is_set()
            snap = box.take()
            if snap is not None:
                side.snapshot = snap
                changed = True
            if done:
                self._settle(side)
                changed = True
        if not any(s.active for s in self.sides.values()):
            self._timer.stop()
            if self.state == "running":
                self._set_state("finished" if all(s.error or s.trainer.iteration >= self.budget
                                                  for s in self.sides.values()) else "paused")
        if changed:
            self.updated.emit()

    def _settle(self, side: _Side) -> None:
        """Join a worker that was told to stop (or is done) and keep its last snapshot."""
        box = side.box
        if box is None:
            return
        if side.thread is not None:
            side.thread.join()
        side.thread = None
        side.box = None
        snap = box.take()
        if snap is not None:
            side.snapshot = snap
        leftover = box.take_settings()
        if "lr" in leftover:
            side.trainer.set_lr(leftover["lr"])
        if box.error is not None:
            e = box.error
            side.error = str(e) if isinstance(e, NonFiniteError) else f"{type(e).__name__}: {e}"
            self.failed.emit(side.cell, side.error)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.stateChanged.emit(state)
