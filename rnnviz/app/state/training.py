"""Live training of the session's network, off the UI thread.

`TrainingController` owns an engine `Trainer` that trains a *copy* of the session's model.
Train hands it to a `TrainingWorker` (worker.py), which loops `trainer.step()` on a thread of
its own and delivers only copies, at most every ~33 ms and paced so drawing keeps to a share
of the time (however fast iterations come, the UI sees ≤ ~30 updates a second). On each update
the controller pushes the weights into the session (`session.set_params`), so every view of the
trace follows training, and emits `progressed` / `updated` for the status bar and the plots.
It also keeps `hidden`: h_t of the watched sequence at each update, over the whole run.

Settings that change while training runs (learning rate, clipping, momentum, optimizer, batch
size, budget, what to do on divergence) are posted to the worker and applied between two
iterations: no reset needed.

A run that diverges (engine.guards) fails like a NaN, showing the weights from before the update
that blew up; or, with "warn" chosen, `warned` says so once and the run goes on.
A new network (session.networkChanged) discards the run; ask `has_progress()` first.
"""
from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, Signal

from rnnviz.engine import NonFiniteError, Trainer, make_optimizer
from rnnviz.engine.guards import check_on_divergence
from rnnviz.engine.model import check_loss_reduction
from rnnviz.engine.optim import check_adagrad_eps, check_clip, check_clip_mode, check_lr, check_momentum, check_optimizer
from rnnviz.app.state.session import Session
from rnnviz.app.state.training_loop import (
    Snapshot,
    SmoothedLoss,
    TrainingSettings,
    apply_settings,
    describe_failure,
    hidden_record,
    optimizer_is_finite,
)
from rnnviz.app.state.worker import UPDATE_MS, Delivery, RunEnd, TrainingWorker

UI_SHARE = 0.2  # at most this share of a core for drawing updates; slower frames, fewer of them
RUN = "network"  # the name of the controller's one run in its worker


class TrainingController(QObject):
    progressed = Signal(int, float, float)  # iteration, loss, iterations per second
    stateChanged = Signal(str)  # "idle" (nothing trained), "running", "paused", "failed"
    failed = Signal(str, int)  # message (names iteration and step), 1-based time step (0: none)
    warned = Signal(str)  # warn mode: the run began to diverge and goes on (once per run)
    finished = Signal(int)  # the iteration budget was reached (iteration)
    updated = Signal()  # a new snapshot: plots pull `controller.snapshot`
    settingsChanged = Signal(object)  # TrainingSettings
    progressChanged = Signal(bool)  # has_progress() changed
    discarded = Signal()  # a run with progress was thrown away (new network)
    trainerState = Signal(object)  # (meta, arrays): the running trainer's state_dict(), asked for by request_state()

    def __init__(self, session: Session, settings: TrainingSettings | None = None,
                 parent: QObject | None = None, update_ms: int = UPDATE_MS, ui_share: float = UI_SHARE) -> None:
        super().__init__(parent)
        self.session = session
        self.settings = settings or self._task_settings(TrainingSettings())
        self._defaults_for = self._task_name()
        self.state = "idle"
        self.message = ""  # the last failure, for the panel
        self.warning = ""  # this run's divergence warning (warn mode), until reset or a new network
        self.trainer: Trainer | None = None
        self.smoothed = SmoothedLoss()
        self.hidden = hidden_record(())  # h (T+1, H) of the watched sequence over training; sized at the first record
        self._hidden_watched = session.watched
        self.snapshot = Snapshot.empty(session.model.params(), self.settings.clip)
        self.its_per_s = 0.0
        self._rate_mark: tuple[float, int] | None = None
        self._had_progress = False
        self.changing_network = False  # True while a network change stops (and discards) the run
        # paced deliveries: drawing the updates takes at most `ui_share` of the UI thread's time
        self.worker = TrainingWorker(self, update_ms, ui_share)
        self.worker.delivered.connect(self._on_delivered)
        session.networkChanged.connect(self._on_network_changed)
        session.traceChanged.connect(self._on_trace_changed)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)  # never leave a worker running at exit
        self._record_hidden()

    # what the status bar shows ---------------------------------------------------------------
    @property
    def iteration(self) -> int:
        return self.snapshot.iteration

    @property
    def loss(self) -> float:
        return self.snapshot.loss

    @property
    def progress(self) -> float | None:
        """Fraction of the iteration budget done, or None for an open-ended run."""
        b = self.settings.iterations
        return None if not b else min(1.0, self.iteration / b)

    @property
    def running(self) -> bool:
        return self.state == "running"

    def has_progress(self) -> bool:
        """Whether there is a run that a new network would throw away."""
        return self.trainer is not None and self.trainer.iteration > 0

    def can_train(self) -> tuple[bool, str]:
        x, y = self.session.data
        if self.session.model is None or x is None:
            return False, "there is no network to train"
        if y is None:
            return False, "these inputs have no targets: open a targets file to train on them"
        return True, ""

    # control ---------------------------------------------------------------------------------
    def train(self) -> None:
        """Start (or resume) training in the background."""
        trainer = self._idle_trainer()
        if trainer is None:
            return
        budget = self.settings.iterations
        if budget is not None and trainer.iteration >= budget:
            self.session.message.emit(f"the budget of {budget} iterations is done: raise it or reset")
            return
        self._rate_mark = (time.perf_counter(), trainer.iteration)
        self.message = ""
        self.worker.start(RUN, trainer, self.smoothed, budget, thread_name="rnnviz-training")
        self._set_state("running")

    def pause(self, wait: bool = False) -> None:
        """Stop after the current iteration; the weights reached so far stay. With `wait`,
        return only once the worker has stopped and its run is settled, so that the caller
        may read the trainer (saving a session, exporting the history)."""
        if not self.worker.active:
            return
        # the worker stops within one iteration: usually well under a frame, so wait a little
        # to settle at once, else the worker's timer settles the run when it is done
        self.worker.stop(timeout=0.2)
        if wait:
            self.worker.stop()

    def request_state(self) -> bool:
        """While training runs: ask the worker for a copy of the trainer's state, taken between
        two iterations (the run is neither paused nor waited for); `trainerState` brings it to
        the UI thread. False when no run is going: then `trainer.state_dict()` may be read."""
        return self.running and self.worker.request_state(RUN)

    def adopt(self, trainer: Trainer) -> None:
        """Continue from `trainer` (a run read back from a session file): its weights, history
        and smoothed loss become this controller's, paused where it stopped."""
        apply_settings(trainer, {"on_divergence": self.settings.on_divergence})  # a setting, not saved with the run
        self.trainer = trainer
        self.warning = ""
        self.smoothed.clear()
        for it, v in zip(trainer.history.loss.iterations, trainer.history.loss.values):
            self.smoothed.add(int(it), float(v))
        self._apply(Snapshot.of(trainer, self.smoothed))
        self._set_state("paused" if trainer.iteration > 0 else "idle")

    def toggle(self) -> None:
        self.pause() if self.running else self.train()

    def step(self) -> None:
        """Exactly one iteration (on this thread: one iteration is short). Not while running."""
        trainer = self._idle_trainer()
        if trainer is None:
            return
        self.message = ""
        try:
            with np.errstate(all="ignore"):
                result = trainer.step()
        except NonFiniteError as e:
            self._apply(Snapshot.of(trainer, self.smoothed))
            self._fail(e)
            return
        except Exception as e:  # noqa: BLE001
            self._fail(e)
            return
        self.smoothed.add(result.iteration, result.loss)
        self.its_per_s = 0.0
        self._apply(Snapshot.of(trainer, self.smoothed))
        self._set_state("paused")

    def reset(self) -> None:
        """Back to the initial weights, a fresh optimizer and the same random stream: the same
        settings give the same losses again."""
        self._abort_run()
        if self.trainer is not None:
            apply_settings(self.trainer, self._trainer_settings())
            self.trainer.reset()  # a fresh optimizer of the current kind, lr and momentum
        self.smoothed.clear()
        self.hidden.clear()
        self.message = ""
        self.warning = ""
        self.its_per_s = 0.0
        params = self.trainer.model.params() if self.trainer is not None else self.session.model.params()
        self._apply(Snapshot.empty(params, self.settings.clip))
        self._set_state("idle")

    def shutdown(self) -> None:
        """Stop the worker and wait for it (the main window calls this when it closes)."""
        self._abort_run()

    # settings: applied between iterations while running ---------------------------------------
    def set_lr(self, lr: float) -> None:
        self._change("lr", check_lr(float(lr)))

    def set_clip(self, clip: float | None) -> None:
        self._change("clip", check_clip(clip))

    def set_momentum(self, momentum: float) -> None:
        self._change("momentum", check_momentum(momentum))

    def set_optimizer(self, name: str) -> None:
        self._change("optimizer", check_optimizer(name))

    def set_on_divergence(self, mode: str) -> None:
        """"stop" (a diverging run stops, the weights before it blew up kept) or "warn"."""
        self._change("on_divergence", check_on_divergence(mode))

    def set_loss_reduction(self, reduction: str) -> None:
        """Average ("mean") or add up ("sum") the per-step losses over time. It is the network's
        own setting (engine.model.LOSS_REDUCTIONS), so the trace the views show follows at once."""
        self._change("loss_reduction", check_loss_reduction(reduction))
        self._sync_reduction()

    def set_clip_mode(self, mode: str) -> None:
        """Clip by global norm ("norm") or each gradient entry to [-clip, clip] ("value")."""
        self._change("clip_mode", check_clip_mode(mode))

    def set_stateful(self, on: bool) -> None:
        """Carry the hidden state from one batch to the next (min-char-rnn's hprev)."""
        self._change("stateful", bool(on))

    def set_adagrad_eps(self, placement: str) -> None:
        """Adagrad's epsilon "outside" (PyTorch) or "inside" (min-char-rnn) the square root."""
        self._change("adagrad_eps", check_adagrad_eps(placement))

    def _sync_reduction(self) -> None:
        """The session's network sums or averages as the settings say (a new one starts at the mean)."""
        s = self.session
        if s.model is not None and s.model.loss_reduction != self.settings.loss_reduction:
            s.model.loss_reduction = self.settings.loss_reduction
            if s.data[0] is not None:
                s.recompute()

    def set_batch_size(self, batch_size: int | None) -> None:
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"the batch size must be at least 1, got {batch_size}")
        self._change("batch_size", batch_size)

    def set_budget(self, iterations: int | None) -> None:
        """The iteration budget (None or 0: until paused)."""
        iterations = int(iterations) if iterations else None
        if iterations == self.settings.iterations:
            return
        self.settings = TrainingSettings(**{**self.settings.__dict__, "iterations": iterations})
        self.worker.set_budget(iterations)
        self.settingsChanged.emit(self.settings)
        self._emit_progress()

    def set_settings(self, settings: TrainingSettings) -> None:
        for name, value in settings.__dict__.items():  # each checked by its setter
            getattr(self, "set_budget" if name == "iterations" else f"set_{name}")(value)

    def _change(self, name: str, value: object) -> None:
        if getattr(self.settings, name) == value:
            return
        self.settings = TrainingSettings(**{**self.settings.__dict__, name: value})
        # a going run applies it before its next iteration; else settle a run that is done first
        if self.trainer is not None and not self.worker.post(RUN, name, value):
            self.worker.stop()
            apply_settings(self.trainer, {name: value})
        self.settingsChanged.emit(self.settings)

    def _trainer_settings(self) -> dict:
        """The settings the trainer holds (all but the budget, which the worker holds)."""
        return {k: v for k, v in self.settings.__dict__.items() if k != "iterations"}

    # the run -----------------------------------------------------------------------------------
    def _ensure_trainer(self) -> Trainer | None:
        if self.trainer is not None:
            return self.trainer
        ok, why = self.can_train()
        if not ok:
            self.session.error.emit(f"Cannot train: {why}")
            return None
        s = self.session
        x, y = s.data
        x_val = y_val = None
        if s.source == "task" and s.task is not None and s.task.x_val is not None:
            x_val, y_val = s.task.x_val, s.task.y_val
        batch = self.settings.batch_size
        if batch is not None and batch >= x.shape[1]:
            batch = None  # every sequence in each batch
        try:
            self.trainer = Trainer(
                s.model.copy(), x, y, optimizer=self.settings.optimizer, lr=self.settings.lr,
                momentum=self.settings.momentum, clip=self.settings.clip, batch_size=batch,
                seed=s.config.seed, x_val=x_val, y_val=y_val, on_divergence=self.settings.on_divergence,
                loss_reduction=self.settings.loss_reduction, clip_mode=self.settings.clip_mode,
                stateful=self.settings.stateful, adagrad_eps=self.settings.adagrad_eps,
            )
        except ValueError as e:
            s.error.emit(f"Cannot train: {e}")
            return None
        self.smoothed.clear()
        return self.trainer

    def _on_delivered(self, delivery: Delivery) -> None:
        """The worker's newest snapshot (show it), and the end of the run (settle it)."""
        snap = delivery.snapshots.get(RUN)
        if snap is not None:
            self._apply(snap)
        state = delivery.states.get(RUN)
        if state is not None:
            self.trainerState.emit(state)
        end = delivery.ended.get(RUN)
        if end is not None:
            self._settle(end)

    def _settle(self, end: RunEnd) -> None:
        self.its_per_s = 0.0
        if end.error is not None:
            self._fail(end.error)
            return
        self._set_state("paused" if self.has_progress() else "idle")
        self.progressed.emit(self.iteration, self.loss, 0.0)
        if end.reached_budget:
            self.finished.emit(self.iteration)

    def _fail(self, error: BaseException) -> None:
        message, step = describe_failure(error, self.trainer)
        t = self.trainer
        if isinstance(error, NonFiniteError) and t is not None and not optimizer_is_finite(t):
            # its state went bad with the weights: start it afresh
            t.optimizer = make_optimizer(t.optimizer_name, t.lr, t.momentum, t.adagrad_eps)
        self.message = message
        self._set_state("failed")
        if step is not None:
            gradients = "gradient" in getattr(error, "what", "")
            self.session.go_to("backward" if gradients else "forward", step)
        self.failed.emit(message, step or 0)

    def _apply(self, snap: Snapshot) -> None:
        """Show a snapshot: weights into the session (views follow), records, signals."""
        self.snapshot = snap
        now = snap.time
        if self.running and self._rate_mark is not None:
            t0, it0 = self._rate_mark
            if now - t0 > 0.25:
                rate = (snap.iteration - it0) / (now - t0)
                self.its_per_s = rate if self.its_per_s == 0 else 0.5 * self.its_per_s + 0.5 * rate
                self._rate_mark = (now, snap.iteration)
        # → traceChanged → _on_trace_changed records h; a stateful run's watched sequence starts
        # from its carried state, shown as a carried h_0
        self.session.set_params(snap.params, snap.starts.get(self.session.watched))
        self.updated.emit()
        self._emit_progress()
        if snap.warning and snap.warning != self.warning:
            self.warning = snap.warning
            self.session.message.emit(snap.warning)
            self.warned.emit(snap.warning)

    def _emit_progress(self) -> None:
        self.progressed.emit(self.iteration, self.loss, self.its_per_s)
        has = self.has_progress()
        if has != self._had_progress:
            self._had_progress = has
            self.progressChanged.emit(has)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.stateChanged.emit(state)

    def _idle_trainer(self) -> Trainer | None:
        """The trainer to start from when no worker runs (a finished one is settled first);
        None while running, or when this network cannot be trained (the reason was shown)."""
        if self.running:
            return None
        self.worker.stop()
        return self._ensure_trainer()

    def _abort_run(self) -> None:
        """Stop the worker and throw its run away: the weights delivered so far stay."""
        self.worker.abort()
        if self.state == "running":
            self._set_state("paused" if self.has_progress() else "idle")

    # the session -------------------------------------------------------------------------------
    def _record_hidden(self) -> None:
        tr = self.session.trace
        if tr is None:
            return
        h = tr.h[:, 0, :]  # (T+1, H)
        if self.hidden.values.shape[1:] != h.shape:
            self.hidden = hidden_record(h.shape)
        if len(self.hidden) and self.hidden.iterations[-1] == self.iteration:
            self.hidden.values[-1] = h  # the same iteration again (e.g. a run's last snapshot)
        else:
            self.hidden.append(self.iteration, h)

    def _on_trace_changed(self) -> None:
        if self.session.watched != self._hidden_watched:
            self._hidden_watched = self.session.watched
            self.hidden.clear()
        self._record_hidden()

    def _on_network_changed(self) -> None:
        had = self.has_progress()
        self.changing_network = True  # listeners of stateChanged: this run is being thrown away
        try:
            self._abort_run()
        finally:
            self.changing_network = False
        self.trainer = None
        self.smoothed.clear()
        self.hidden.clear()
        self._hidden_watched = self.session.watched
        name = self._task_name()
        if name != self._defaults_for:  # another task: its own optimizer, lr and budget
            self._defaults_for = name
            self.settings = self._task_settings(self.settings)
            self.settingsChanged.emit(self.settings)
        self.message = ""
        self.warning = ""
        self.its_per_s = 0.0
        self._sync_reduction()
        self.snapshot = Snapshot.empty(self.session.model.params(), self.settings.clip)
        self._record_hidden()
        self._set_state("idle")
        if had:
            self.discarded.emit()
        self.updated.emit()
        self._emit_progress()

    def _task_name(self) -> str | None:
        s = self.session
        return s.task.name if s.source == "task" and s.task is not None else None

    def _task_settings(self, base: TrainingSettings) -> TrainingSettings:
        s = self.session
        if s.source != "task" or s.task is None:
            return base
        d = s.task.defaults
        return TrainingSettings(**{**base.__dict__, "optimizer": d.get("optimizer", base.optimizer),
                                   "lr": d.get("lr", base.lr), "iterations": d.get("iterations", base.iterations)})
