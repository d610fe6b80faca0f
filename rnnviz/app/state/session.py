"""The one place that holds what the user is looking at: the network, its trace, the playback
position, the selection and the look. Views connect to its signals and draw; they never
compute the math. Signals fire only when something really changed.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QElapsedTimer, QObject, QTimer, Signal

from rnnviz.engine import RNN, Task, Trace, make_task, run
from rnnviz.engine.inputs import prepare_inputs, prepare_targets
from rnnviz.engine.model import init_model, is_class_loss
from rnnviz.engine.io.models import load_any_model
from rnnviz.engine.io.npz import FileFormatError, load_array
from rnnviz.app.state import playback
from rnnviz.app.state.memory import release_freed_memory
from rnnviz.app.state.network_config import NetworkConfig, cell_activation, task_for_architecture
from rnnviz.app.state.selection import Selection

THEMES = ("light", "dark", "contrast")


class Session(QObject):
    networkChanged = Signal()  # a new network or trace layout: views rebuild their items
    traceChanged = Signal()  # new values, same layout: views push new arrays
    positionChanged = Signal(int)
    selectionChanged = Signal(object)  # Selection | None
    hoverChanged = Signal(object)  # Selection | None, a weight arrow under the mouse
    playingChanged = Signal(bool)
    speedChanged = Signal(float)
    loopChanged = Signal(bool)
    appearanceChanged = Signal()  # theme or presentation mode
    message = Signal(str)  # a short status line
    error = Signal(str)  # something the user must be told
    replaceDeclined = Signal()  # the person kept the current network (e.g. to keep a training run)

    def __init__(self, config: NetworkConfig | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.config = config or NetworkConfig()
        # Asked before anything replaces the network (a structural change, a new task, a file):
        # the window answers "may the current training run be discarded?". Tests set their own.
        self.may_replace: Callable[[str], bool] = lambda what: True
        # Asked before a structural change throws away a loaded network (a file's, or one handed
        # over by rnnviz.show()) for a new random one: the window shows the question (Yes / No).
        self.may_discard_loaded: Callable[[str], bool] = lambda question: True
        self.task: Task | None = None
        self.imported: Task | None = None  # a task built from the user's data (File ▸ Import), kept across rebuilds
        self.last_model_report: list[str] = []  # what a PyTorch state dict's arrays were mapped to
        self.model: RNN | None = None
        self.source = "task"  # "task" or "file"
        self.source_label = ""
        self.watched = 0  # which sequence of the data is drawn
        self._x: np.ndarray | None = None  # (T, N, I) data the watched sequence comes from
        self._y: np.ndarray | None = None
        self.trace: Trace | None = None  # B = 1: the watched sequence
        # a stateful training run's carried state for the watched sequence ({"h0": (H,), LSTM
        # "c0"}), the h_0 its next iteration starts from; empty: the model's own h_0
        self.start_state: dict[str, np.ndarray] = {}
        self.position = 0
        self.selection: Selection | None = None
        self.hover: Selection | None = None
        self.playing = False
        self.speed = playback.DEFAULT_SPEED
        self.loop = False
        self.theme = "light"
        self.presentation = False
        self._clock = QTimer(self)
        self._clock.setInterval(15)
        self._clock.timeout.connect(self._tick)
        self._elapsed = QElapsedTimer()
        self._debt = 0.0  # steps owed by the clock, fractional
        self.rebuild()

    # derived ---------------------------------------------------------------------------------
    @property
    def T(self) -> int:
        return self.trace.T if self.trace is not None else 0

    @property
    def frame(self) -> playback.Frame:
        return playback.frame_at(self.position, self.T)

    @property
    def mode(self) -> str:
        return self.frame.mode

    @property
    def frame_count(self) -> int:
        return playback.frame_count(self.T)

    # building the network -------------------------------------------------------------------------
    def set_config(self, **changes: object) -> None:
        """Change what the side panel sets and redraw from a new trace (new weights)."""
        new = replace(self.config, **changes)
        if new == self.config and self.source == "task":
            return
        if not self._may_discard_loaded() or not self._may_replace("change the network"):
            return
        old, old_imported = self.config, self.imported
        if new.task != old.task:
            self.imported = None  # another built-in task replaces imported data
        self.config = new
        try:
            self.rebuild()
        except ValueError as e:
            self.config, self.imported = old, old_imported
            self.error.emit(str(e))

    def rebuild(self) -> None:
        """A fresh network for the current config (its seed), on the task's data."""
        c = self.config
        task = self.imported if self.imported is not None else make_task(c.task, steps=c.steps, seed=c.seed, lag=c.lag)
        arch = c.architecture or task.architecture
        if arch != task.architecture:
            task = task_for_architecture(task, arch)
        model = init_model(c.cell, task.input_size, c.hidden, task.output_size, activation=cell_activation(c),
                           architecture=arch, loss=task.loss, seed=c.seed)
        self.task, self.model, self.source = task, model, "task"
        self.source_label = task.title
        self._x, self._y = task.x_train, task.y_train
        self.watched = 0
        self._new_network()

    def _may_replace(self, what: str) -> bool:
        if self.may_replace(what):
            return True
        self.replaceDeclined.emit()
        return False

    def _may_discard_loaded(self) -> bool:
        """Whether a loaded network may give way to a new random one (always, for a task's)."""
        if self.source != "file" or self.model is None:
            return True
        if self.may_discard_loaded(f"This replaces the loaded network {self.source_label} "
                                   f"(H = {self.model.hidden_size}) with a new random one. Discard it?"):
            return True
        self.replaceDeclined.emit()
        return False

    def load_model_file(self, path: str | Path) -> bool:
        """Show exactly the network in a model file (rnnviz .npz or PyTorch state dict), read with
        the file's own settings or the defaults (the app's open-model dialog asks first; see
        app/window/model_dialog.py). Keeps the current inputs when they fit, else random inputs.
        Errors leave everything as it was (False)."""
        report: list[str] = []
        try:
            model = load_any_model(path, report=report)
        except (FileFormatError, ValueError) as e:
            self.error.emit(str(e))
            return False
        return self.use_model(model, label=Path(path).name, report=report)

    def use_model(self, model: RNN, x: np.ndarray | None = None, y: np.ndarray | None = None, *, label: str,
                  report: list[str] | None = None) -> bool:
        """Show exactly `model` (a file's, or one handed over by rnnviz.show()) on inputs x (T, B, I)
        or (T, I) and targets y (any layout engine.inputs.prepare_targets takes; None: none).
        x None keeps the current inputs (and targets) when they fit the model, else shows random
        inputs and says so. `label` names the network (a file name); `report` lists what was
        found and guessed (kept in `last_model_report`). False, with everything as it was, when
        the data do not fit (error signal naming the problem) or when `may_replace` declines."""
        try:
            x, y, note = self._data_for(model, x, y)
            trace = run(model, x[:, :1], None if y is None else y[:, :1])
        except ValueError as e:
            self.error.emit(f"{label}: {e}")
            return False
        if not self._may_replace(f"open {label}"):
            return False
        self.pause()
        self.model, self.source, self.source_label = model, "file", label
        # the setup panel and a saved session describe the network shown, not the last task's
        self.config = replace(self.config, cell=model.cell, hidden=model.hidden_size,
                              architecture=model.architecture, activation=model.activation, steps=None)
        self._x, self._y, self.watched = x, y, 0
        self._new_network(trace)
        self.last_model_report = list(report or [])
        act = model.activation if model.cell == "rnn" else model.cell.upper()
        self.message.emit(f"Loaded {label}: I={model.input_size}, H={model.hidden_size}, O={model.output_size}, "
                          f"{act}, {model.architecture}, {model.loss}" + (f"; {note}" if note else "")
                          + (f". {'; '.join(report)}" if report else ""))
        return True

    def _data_for(self, model: RNN, x: np.ndarray | None,
                  y: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None, str]:
        """(x (T, B, I), y in the full (T, B[, O]) layout or None, a note) for `model`: the given
        data, checked; or the current data when they fit; or random inputs. ValueError when the
        given data do not fit."""
        if x is None and self._x is not None and self._x.shape[2] == model.input_size:
            try:  # the current inputs, and targets that fit the new model's loss and outputs
                keep_y = y if y is not None else (self._y if self._y_fits(model, self._y) else None)
                xx = prepare_inputs(model, self._x)
                yy = None if keep_y is None else prepare_targets(model, keep_y, xx.shape[0], xx.shape[1])
                dropped = y is None and self._y is not None and yy is None
                return xx, yy, "kept the current inputs" + (" (their targets do not fit it)" if dropped else "")
            except ValueError:
                if y is not None:
                    raise
        if x is None:
            if y is not None:
                raise ValueError("targets were given without inputs")
            T = 1 if model.architecture == "one-to-one" else 10
            x = np.random.default_rng(0).normal(size=(T, 1, model.input_size))
            return prepare_inputs(model, x), None, ("showing random inputs: open an inputs file "
                                                    "(File ▸ Open inputs) to use yours")
        xx = prepare_inputs(model, x)
        if not np.all(np.isfinite(xx)):
            raise ValueError("the inputs hold NaN or infinite values")
        yy = None if y is None else prepare_targets(model, y, xx.shape[0], xx.shape[1])
        if yy is not None and not np.all(np.isfinite(yy)):
            raise ValueError("the targets hold NaN or infinite values")
        return xx, yy, ""

    def use_task(self, task: Task, summary: str = "") -> None:
        """Show and train on an imported task (engine.importers): a fresh network for it that
        keeps the hidden size and activation. Errors leave everything as it was."""
        c = self.config
        try:
            model = init_model(c.cell, task.input_size, c.hidden, task.output_size, activation=cell_activation(c),
                               architecture=task.architecture, loss=task.loss, seed=c.seed)
            trace = run(model, task.x_train[:, :1], task.y_train[:, :1])
        except ValueError as e:
            self.error.emit(f"Cannot use {task.title}: {e}")
            return
        if not self._may_discard_loaded() or not self._may_replace(f"use {task.title}"):
            return
        self.imported, self.task, self.model, self.source = task, task, model, "task"
        self.config = replace(c, architecture=None, steps=None)
        self.source_label = task.title
        self._x, self._y, self.watched = task.x_train, task.y_train, 0
        self._new_network(trace)
        self.message.emit(f"{task.title}: {summary}" if summary else task.title)

    def restore(self, *, config: NetworkConfig, task: Task | None, imported: Task | None, model: RNN,
                x: np.ndarray, y: np.ndarray | None, source: str, source_label: str, watched: int,
                view: dict) -> None:
        """Put back a saved session (app.session_store checks everything before calling this;
        the trace is computed first, so a failure leaves the session as it was)."""
        i = watched
        trace = run(model, x[:, i : i + 1], None if y is None else y[:, i : i + 1])
        self.pause()
        self.config, self.task, self.imported, self.model = config, task, imported, model
        self.source, self.source_label = source, source_label
        self._x, self._y, self.watched = x, y, watched
        self._new_network(trace)
        self.set_position(int(view.get("position", self.position)))
        sel = view.get("selection")
        self.select(Selection(sel["kind"], int(sel["t"]), sel.get("unit")) if sel else None)
        self.set_theme(view.get("theme", self.theme))
        self.set_presentation(bool(view.get("presentation", False)))
        self.set_speed(float(view.get("speed", self.speed)))
        self.set_loop(bool(view.get("loop", self.loop)))

    def view_state(self) -> dict:
        """What the person is looking at, for a session file (plain JSON values)."""
        sel = self.selection
        return {"position": int(self.position), "watched": int(self.watched), "theme": self.theme,
                "presentation": bool(self.presentation), "speed": float(self.speed), "loop": bool(self.loop),
                "selection": None if sel is None else {"kind": sel.kind, "t": int(sel.t), "unit": sel.unit}}

    def load_inputs_file(self, path: str | Path, targets_path: str | Path | None = None) -> None:
        """Feed the current network the inputs (and targets) in .npy files."""
        assert self.model is not None
        try:
            x = load_array(path, "inputs")
            y = load_array(targets_path, "targets") if targets_path else None
            if x.ndim == 2:
                x = x[:, None, :]
            x = prepare_inputs(self.model, x)
            if y is not None:
                y = prepare_targets(self.model, y, x.shape[0], x.shape[1])
            trace = run(self.model, x[:, :1], None if y is None else y[:, :1])
        except (FileFormatError, ValueError) as e:
            self.error.emit(str(e) if isinstance(e, FileFormatError) else f"{path}: {e}")
            return
        if not self._may_replace(f"feed the network {Path(path).name}"):
            return
        self._x, self._y, self.watched = x, y, 0
        self.source_label = f"{self.source_label} on {Path(path).name}"
        self._new_network(trace)
        self.message.emit(f"Inputs from {Path(path).name}: T={x.shape[0]}, {x.shape[1]} sequence(s)")

    def _y_fits(self, model: RNN, y: np.ndarray | None) -> bool:
        if y is None:
            return True
        if is_class_loss(model.loss):
            return y.ndim == 2 and (y.max(initial=0) < model.output_size)
        return y.ndim == 3 and y.shape[2] == model.output_size

    def set_watched(self, index: int) -> None:
        if self._x is None or not 0 <= index < self._x.shape[1] or index == self.watched:
            return
        self.watched = index
        self.start_state = {}  # that was another sequence's
        self.recompute()

    @property
    def data(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(inputs (T, N, I), targets or None): the data the watched sequence comes from, which
        is also what training uses. Read-only for callers."""
        return self._x, self._y

    @property
    def sequence_count(self) -> int:
        return 0 if self._x is None else self._x.shape[1]

    def _watched_trace(self) -> Trace:
        assert self.model is not None and self._x is not None
        i = self.watched
        y = None if self._y is None else self._y[:, i : i + 1]
        trace = run(self.model, self._x[:, i : i + 1], y, **self.start_state)
        trace.h0_carried = bool(self.start_state)
        return trace

    def _new_network(self, trace: Trace | None = None) -> None:
        self.start_state = {}
        self.trace = trace if trace is not None else self._watched_trace()
        self.selection = None
        self.hover = None
        self.position = playback.clamp(self.T, self.T)  # open on the finished forward pass
        self.networkChanged.emit()
        self.selectionChanged.emit(None)
        self.positionChanged.emit(self.position)
        # the old network's trace, records and view items are freed by now: give the pages back
        release_freed_memory()

    def recompute(self) -> None:
        """Re-run the trace after the weights changed (training); same layout."""
        self.trace = self._watched_trace()
        self.traceChanged.emit()

    def set_params(self, params: dict[str, np.ndarray], start: dict[str, np.ndarray] | None = None) -> None:
        """New weights (training); `start`: the watched sequence's carried state in a stateful run
        ({"h0": (H,), LSTM "c0"}), None for the model's h_0."""
        assert self.model is not None
        self.model.set_params(params)
        self.start_state = dict(start or {})
        self.recompute()

    # playback ------------------------------------------------------------------------------------
    def set_position(self, position: int) -> None:
        position = playback.clamp(position, self.T)
        if position != self.position:
            self.position = position
            self.positionChanged.emit(position)

    def step_forward(self) -> None:
        self.set_position(self.position + 1)

    def step_back(self) -> None:
        self.set_position(self.position - 1)

    def to_start(self) -> None:
        self.set_position(0)

    def to_end(self) -> None:
        self.set_position(self.frame_count - 1)

    def set_mode(self, mode: str) -> None:
        """Jump to the start of the forward pass or of the backward pass."""
        self.set_position(0 if mode == "forward" else self.T + 1)

    def go_to(self, mode: str, step: int) -> None:
        self.set_position(playback.position_of(mode, step, self.T))

    def play(self) -> None:
        if self.playing:
            return
        if self.position >= self.frame_count - 1 and not self.loop:
            self.set_position(0)  # playing from the end starts again
        self.playing = True
        self._debt = 0.0
        self._elapsed.start()
        self._clock.start()
        self.playingChanged.emit(True)

    def pause(self) -> None:
        if not self.playing:
            return
        self.playing = False
        self._clock.stop()
        self.playingChanged.emit(False)

    def toggle_play(self) -> None:
        self.pause() if self.playing else self.play()

    def _tick(self) -> None:
        # Steps are owed by elapsed time, not by timer ticks: if drawing fell behind, the
        # owed steps are taken in one jump (frames dropped), never queued.
        self._debt += self._elapsed.restart() / 1000.0 * self.speed
        due = int(self._debt)
        if due < 1:
            return
        self._debt -= due
        self.advance_clock(due)

    def advance_clock(self, steps: int = 1) -> None:
        """What one clock tick does (public so tests can drive playback without timing)."""
        position, keep = playback.advance(self.position, self.T, steps, self.loop)
        self.set_position(position)
        if not keep:
            self.pause()

    def set_speed(self, speed: float) -> None:
        speed = float(min(max(speed, playback.SPEEDS[0]), playback.SPEEDS[-1]))
        if speed != self.speed:
            self.speed = speed
            self.speedChanged.emit(speed)

    def faster(self) -> None:
        self.set_speed(playback.faster(self.speed))

    def slower(self) -> None:
        self.set_speed(playback.slower(self.speed))

    def set_loop(self, loop: bool) -> None:
        if loop != self.loop:
            self.loop = loop
            self.loopChanged.emit(loop)

    # selection -----------------------------------------------------------------------------
    def select(self, selection: Selection | None) -> None:
        if selection != self.selection:
            self.selection = selection
            self.selectionChanged.emit(selection)

    def set_hover(self, selection: Selection | None) -> None:
        if selection != self.hover:
            self.hover = selection
            self.hoverChanged.emit(selection)

    # look ----------------------------------------------------------------------------------
    def set_theme(self, theme: str) -> None:
        if theme not in THEMES:
            raise ValueError(f"unknown theme {theme!r}")
        if theme != self.theme:
            self.theme = theme
            self.appearanceChanged.emit()

    def set_presentation(self, on: bool) -> None:
        if on != self.presentation:
            self.presentation = on
            self.appearanceChanged.emit()

    def shutdown(self) -> None:
        self._clock.stop()
        self.playing = False

