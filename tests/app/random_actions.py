"""A seeded random-action driver for the real main window (issue 13), shared by
tests/app/test_random_use.py (a bounded run that fails on any exception or Qt warning) and
bench/bench_random_use.py (thousands of actions per seed, with stalls and memory).

`RandomUse(window, seed, folder)` picks actions from one table (`RandomUse.table`): training
(train/pause, step, reset, learning rate, clipping), the network (hidden size, task,
architecture, cell, activation, seed), playback (play, step, seek, backward pass), the view
(rolled, gates, presentation mode, hidden controls, theme, zoom, a plot tab to the front,
resizing), the inspector (a selection, a click in the view), lessons, and sessions saved to and
opened from `folder`. Every action goes through the widgets, actions and methods the person
reaches (buttons, spin boxes, combo boxes, QActions, the File actions' `save_session` /
`open_session`); never through private attributes.

`Recorder` collects what went wrong while it is active: exceptions reaching sys.excepthook,
and Qt warnings (through a Qt message handler that chains to the one before it).
"""
from __future__ import annotations

import random
import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QPointF, QtMsgType, qInstallMessageHandler
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

# learning rates a person tries; `wild` adds the ones that make training blow up
TAME_LRS = (1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3)
WILD_LRS = (1.0, 10.0, 1e3, 1e6)
HIDDEN_SIZES = (1, 2, 3, 4, 5, 8, 12, 16)
# Qt messages that are not faults: the offscreen platform has no window manager (as in pyproject.toml)
IGNORED_QT = (re.compile("^This plugin does not support "),)
SIZES = ((1360, 840), (1024, 700), (800, 600), (1600, 1000), (640, 480), (1920, 1200))


@dataclass
class Recorder:
    """Exceptions (sys.excepthook) and Qt warnings seen while active (`with Recorder() as r:`).
    `current` names the action being run, so each record says what preceded it."""

    exceptions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    current: str = ""
    _previous_hook: Callable | None = None
    _previous_handler: Callable | None = None

    def __enter__(self) -> "Recorder":
        self._previous_hook = sys.excepthook
        sys.excepthook = self._hook
        self._previous_handler = qInstallMessageHandler(self._handler)
        return self

    def __exit__(self, *exc) -> None:
        sys.excepthook = self._previous_hook
        qInstallMessageHandler(self._previous_handler)

    def _hook(self, etype, value, tb) -> None:
        text = "".join(traceback.format_exception(etype, value, tb))
        self.exceptions.append(f"after {self.current}:\n{text}")
        sys.stderr.write(text)

    def _handler(self, kind, context, message: str) -> None:
        if kind in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg) and not any(
                p.search(message) for p in IGNORED_QT):
            self.warnings.append(f"after {self.current}: {message}")
        if self._previous_handler is not None:
            self._previous_handler(kind, context, message)


class RandomUse:
    """Random actions on `window` (a MainWindow with error dialogs off), seeded: the same seed
    gives the same choices. `folder`: where sessions are saved and opened from. `wild`: also
    learning rates that make training diverge. `settle_ms`: how long the event loop runs after
    each action (training delivers, timers fire); 0 only processes pending events."""

    def __init__(self, window, seed: int, folder: str | Path, *, wild: bool = False, settle_ms: int = 5) -> None:
        self.w = window
        self.rng = random.Random(seed)
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.lrs = TAME_LRS + (WILD_LRS if wild else ())
        self.settle_ms = settle_ms
        self.saved: list[Path] = []
        self.done: list[str] = []  # the names of the actions run, in order
        # a structural change during a run asks whether to discard it: say yes most times
        window.discard_answer = lambda _text: self.rng.random() < 0.8
        self.table: list[tuple[str, float, Callable[[], None]]] = [
            # training
            ("train/pause", 6, lambda: self.w.training_panel.train_button.click()),
            ("step", 3, lambda: self.w.training_panel.step_button.click()),
            ("reset", 1.5, lambda: self.w.training_panel.reset_button.click()),
            ("learning rate", 2, lambda: self.w.training_panel.lr.setValue(self.rng.choice(self.lrs))),
            ("clipping", 1.5, self._clipping),
            # the network
            ("hidden size", 2, lambda: self.w.setup_panel.hidden_spin.setValue(self.rng.choice(HIDDEN_SIZES))),
            ("task", 1.5, lambda: self._pick(self.w.setup_panel.task_combo)),
            ("architecture", 1, lambda: self._pick(self.w.setup_panel.architecture_combo)),
            ("cell", 1.5, lambda: self._pick(self.w.setup_panel.cell_combo)),
            ("activation", 1, lambda: self._pick(self.w.setup_panel.activation_combo)),
            ("re-initialise", 0.5, lambda: self.w.setup_panel.reinit_button.click()),
            # playback
            ("play/pause", 3, lambda: self.w.play_action.trigger()),
            ("step forward", 2, lambda: self.w.step_forward_action.trigger()),
            ("step back", 2, lambda: self.w.step_back_action.trigger()),
            ("seek", 3, self._seek),
            ("backward pass", 2, lambda: self.w.mode_action.trigger()),
            ("to end", 0.5, lambda: self.w.to_end_action.trigger()),
            # the view
            ("rolled", 1.5, lambda: self.w.rolled_action.trigger()),
            ("gates", 1.5, lambda: self.w.gates_action.trigger()),
            ("presentation", 1.5, lambda: self.w.presentation_action.trigger()),
            ("hide controls", 1, lambda: self.w.controls_action.trigger()),
            ("escape", 0.5, lambda: self.w.escape_action.trigger()),
            ("theme", 1, lambda: self.w.theme_actions[self.rng.choice(list(self.w.theme_actions))].trigger()),
            ("zoom", 0.5, lambda: self.rng.choice((self.w.zoom_in_action, self.w.zoom_out_action,
                                                   self.w.fit_action)).trigger()),
            ("plot tab", 2, lambda: self.rng.choice(self.w.plot_docks).raise_()),
            ("panel", 0.7, self._toggle_panel),
            ("resize", 1, lambda: self.w.resize(*self.rng.choice(SIZES))),
            # the inspector
            ("select", 3, self._select),
            ("click in view", 2, self._click_view),
            ("deselect", 0.5, lambda: self.w.session.select(None)),
            # lessons
            ("lessons dock", 1, lambda: self.w.lessons_action.trigger()),
            ("open lesson", 1, self._open_lesson),
            ("lesson next/back", 1.5, lambda: self.rng.choice((self.w.lessons_panel.next,
                                                               self.w.lessons_panel.back))()),
            # sessions
            ("save session", 1, self._save),
            ("open session", 1, self._open),
            # nothing: let training run a little
            ("wait", 3, lambda: QTest.qWait(self.rng.choice((20, 50, 120)))),
        ]
        self._names = [a[0] for a in self.table]
        self._weights = [a[1] for a in self.table]
        self._actions = {a[0]: a[2] for a in self.table}

    # one action ----------------------------------------------------------------------------------
    def next_name(self) -> str:
        return self.rng.choices(self._names, self._weights)[0]

    def run_one(self, name: str | None = None) -> str:
        """Run one action (random unless named), then let the event loop run; its name."""
        name = name or self.next_name()
        self._actions[name]()
        self.done.append(name)
        if self.settle_ms > 0:
            QTest.qWait(self.settle_ms)
        else:
            QApplication.processEvents()
        return name

    # actions with a choice ---------------------------------------------------------------------
    def _pick(self, combo) -> None:
        if combo.isEnabled() and combo.count():
            combo.setCurrentIndex(self.rng.randrange(combo.count()))

    def _clipping(self) -> None:
        p = self.w.training_panel
        if self.rng.random() < 0.5:
            p.clip_on.setChecked(not p.clip_on.isChecked())
        else:
            p.clip.setValue(self.rng.choice((0.1, 1.0, 5.0, 100.0)))

    def _seek(self) -> None:
        slider = self.w.transport.slider
        slider.setValue(self.rng.randint(slider.minimum(), slider.maximum()))

    def _toggle_panel(self) -> None:
        dock = self.rng.choice([self.w.setup_dock, self.w.training_dock, self.w.inspector_dock,
                                self.w.baseline_dock, *self.w.plot_docks])
        dock.toggleViewAction().trigger()

    def _select(self) -> None:
        from rnnviz.app.state.selection import Selection

        s = self.w.session
        m = s.model
        if m is None:
            return
        kind = self.rng.choice(("x", "h", "y", "W_xh", "W_hh", "W_hy"))
        size = {"x": m.input_size, "h": m.hidden_size, "y": m.output_size}.get(kind)
        t = self.rng.randint(0 if kind == "h" else 1, max(s.T, 1))
        unit = self.rng.randrange(size) if size and self.rng.random() < 0.7 else None
        s.select(Selection(kind, t, unit))

    def _click_view(self) -> None:
        """What a click at a random point of the view's scene would select."""
        v = self.w.view
        rect = v.sceneRect()
        p = QPointF(rect.left() + self.rng.random() * rect.width(), rect.top() + self.rng.random() * rect.height())
        self.w.session.select(v.hit_test(p))

    def _open_lesson(self) -> None:
        panel = self.w.lessons_panel
        if panel.lessons:
            panel.open_lesson(self.rng.randrange(len(panel.lessons)))

    def _save(self) -> None:
        path = self.folder / f"session-{len(self.saved) % 4}.rnnviz"
        if self.w.files.save_session(path) and path not in self.saved:
            self.saved.append(path)

    def _open(self) -> None:
        if self.saved:
            self.w.files.open_session(self.rng.choice(self.saved))
