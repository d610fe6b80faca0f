"""Training the lab's two networks at once, off the UI thread.

The same pieces as the main window's training: each network has an engine `Trainer` on a
*copy* of its model, run by the app's `TrainingWorker` (app/state/worker.py) on a thread of its
own. The worker delivers the newest snapshot of both sides every ~33 ms (coalescing: ≤ 30
updates a second however fast the threads go), and each delivery emits `updated` once.
Train / Pause / Reset act on both networks together. What a diverging network does is the
person's choice, as in the main window: stop it (the weights before the blow-up kept, the
reason shown), or warn once and go on (`on_divergence`, engine/guards.py).
"""
from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QObject, Signal

from rnnviz.engine import NonFiniteError, Trainer
from rnnviz.engine.guards import check_on_divergence
from rnnviz.app.state.training_loop import SmoothedLoss, Snapshot
from rnnviz.app.state.worker import UPDATE_MS, Delivery, TrainingWorker


class _Side:
    """One network's run: its trainer and the records the lab draws."""

    def __init__(self, cell: str, trainer: Trainer) -> None:
        self.cell = cell
        self.trainer = trainer
        self.smoothed = SmoothedLoss()
        self.snapshot = Snapshot.empty(trainer.model.params())
        self.error = ""  # why this side stopped (a non-finite value, a divergence), or ""
        self.warning = ""  # warn mode: this side's one divergence warning, or ""


class LabTraining(QObject):
    """Train / Pause / Reset for the lab's networks (any number; the lab uses two)."""

    updated = Signal()  # new snapshots: read `snapshot(cell)`
    stateChanged = Signal(str)  # "idle", "running", "paused", "finished"
    failed = Signal(str, str)  # cell, message
    warned = Signal(str, str)  # cell, message: warn mode, a side began to diverge and goes on (once per run)

    def __init__(self, parent: QObject | None = None, update_ms: int = UPDATE_MS) -> None:
        super().__init__(parent)
        self.sides: dict[str, _Side] = {}
        self.budget = 1000
        self.on_divergence = "stop"  # or "warn": engine.guards.ON_DIVERGENCE
        self.state = "idle"
        self._stopping = False  # pause / shutdown settle the state and emit updated themselves
        self.worker = TrainingWorker(self, update_ms)  # unpaced: every tick delivers
        self.worker.delivered.connect(self._on_delivered)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # setting up ----------------------------------------------------------------------------------
    def setup(self, models: dict[str, object], x, y, *, lr: float, budget: int, seed: int = 0) -> None:
        """New networks (stops any run): each trains a copy of its model, Adam, full batch."""
        self.shutdown()
        self.budget = int(budget)
        self.sides = {cell: _Side(cell, Trainer(m.copy(), x, y, optimizer="adam", lr=lr, seed=seed,
                                                on_divergence=self.on_divergence))
                      for cell, m in models.items()}
        self._set_state("idle")
        self.updated.emit()

    def set_budget(self, budget: int) -> None:
        self.budget = max(1, int(budget))
        self.worker.set_budget(self.budget)

    def set_on_divergence(self, mode: str) -> None:
        """"stop" (a diverging network stops, the weights before the blow-up kept) or "warn"
        (warned once, it goes on): both networks, a going run between two iterations."""
        self.on_divergence = check_on_divergence(mode)
        for side in self.sides.values():
            if not self.worker.post(side.cell, "on_divergence", self.on_divergence):
                side.trainer.set_on_divergence(self.on_divergence)

    def set_lr(self, lr: float) -> None:
        for side in self.sides.values():
            if not self.worker.post(side.cell, "lr", lr):
                side.trainer.set_lr(lr)

    # what the views read -------------------------------------------------------------------------
    def snapshot(self, cell: str) -> Snapshot:
        return self.sides[cell].snapshot

    def iteration(self, cell: str) -> int:
        return self.sides[cell].snapshot.iteration

    def error(self, cell: str) -> str:
        return self.sides[cell].error

    def warning(self, cell: str) -> str:
        return self.sides[cell].warning

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
            self.worker.start(side.cell, side.trainer, side.smoothed, self.budget, thread_name=f"rnnviz-lab-{side.cell}")
            started = True
        self._set_state("running" if started else "finished")

    def pause(self) -> None:
        """Both stop after their current iteration; the weights reached so far stay."""
        self.shutdown()
        self.updated.emit()

    def toggle(self) -> None:
        self.pause() if self.running else self.train()

    def reset(self) -> None:
        """Both back to their initial weights, a fresh optimizer, empty curves."""
        self.shutdown()
        for side in self.sides.values():
            side.trainer.reset()
            side.smoothed.clear()
            side.error = side.warning = ""
            side.snapshot = Snapshot.empty(side.trainer.model.params())
        self._set_state("idle")
        self.updated.emit()

    def shutdown(self) -> None:
        """Stop the workers and wait for them, keeping the weights reached (window closed, new
        networks)."""
        self._stopping = True
        try:
            self.worker.stop()
        finally:
            self._stopping = False
        if self.state == "running":
            self._set_state("paused")

    # the worker's deliveries -------------------------------------------------------------------
    def _on_delivered(self, delivery: Delivery) -> None:
        for cell, snap in delivery.snapshots.items():
            side = self.sides[cell]
            side.snapshot = snap
            if snap.warning and snap.warning != side.warning:
                side.warning = snap.warning
                self.warned.emit(cell, snap.warning)
        for cell, end in delivery.ended.items():
            if end.error is not None:
                side, e = self.sides[cell], end.error
                side.error = str(e) if isinstance(e, NonFiniteError) else f"{type(e).__name__}: {e}"
                self.failed.emit(cell, side.error)
        if self._stopping:
            return
        if not self.worker.active and self.state == "running":
            self._set_state("finished" if all(s.error or s.trainer.iteration >= self.budget
                                              for s in self.sides.values()) else "paused")
        self.updated.emit()

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.stateChanged.emit(state)
