"""The main window: the composition root. It builds the views, the panels (setup, training,
AR baseline, lessons), the plots and the lab, hands each the session and the training
controller, and wires actions to them. Its parts live in app/window/ (header, docks, actions
and shortcuts, dialogs, the status line, presentation mode). What it still decides itself is
window policy: the docks' proportions, whether a change may discard a training run, what Esc
leaves, and where a screenshot goes.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QGraphicsView, QMainWindow, QMessageBox, QSizePolicy, QToolBar, QVBoxLayout, QWidget

from rnnviz.app.io.export_dialog import ExportActions
from rnnviz.app.io.file_actions import FileActions
from rnnviz.app.lab.window import LabWindow
from rnnviz.app.lessons.window_host import WindowLessonHost
from rnnviz.app.panels.baseline import BaselinePanel
from rnnviz.app.panels.lessons import LessonsPanel
from rnnviz.app.panels.setup import SetupPanel
from rnnviz.app.panels.training import TrainingPanel
from rnnviz.app.state.session import Session
from rnnviz.app.state.training import TrainingController
from rnnviz.app.style.appearance import apply_appearance
from rnnviz.app.style.theme import font_scale, theme_for
from rnnviz.app.views.inspector.widget import Inspector
from rnnviz.app.views.plots import make_plot_docks
from rnnviz.app.views.transport import TransportBar
from rnnviz.app.views.unrolled.view import UnrolledView
from rnnviz.engine.io.npz import FileFormatError
from rnnviz.app.window.actions import shortcuts_dialog, show_about, window_action
from rnnviz.app.window.dialogs import (
    ask_discard, ask_discard_network, ask_inputs_paths, ask_model_path, ask_screenshot_path,
)
from rnnviz.app.window.docks import add_dock, scrollable
from rnnviz.app.window.header import Header
from rnnviz.app.window.model_dialog import ModelDialog, dropped_files, probe_with_data
from rnnviz.app.window.presentation import Presentation
from rnnviz.app.window.room import Room
from rnnviz.app.window.status import StatusLine


class MainWindow(QMainWindow):
    """The network in the middle (header, unrolled view, transport), the panels as docks around
    it, the menus; the lab is a window of its own. `allow_fullscreen=False` keeps the asked size
    in presentation mode (headless screenshots)."""

    def __init__(self, session: Session, parent: QWidget | None = None, *, allow_fullscreen: bool = True) -> None:
        super().__init__(parent)
        self.session = session
        self.error_dialogs = True  # tests turn this off: errors then only reach the status bar
        self.last_error: str | None = None
        self.training_error: str | None = None  # the last training failure shown (it goes when training moves on)
        self._error_box: QMessageBox | None = None
        self._shortcuts_dialog: QWidget | None = None
        self._shown_once = False
        self.lab: LabWindow | None = None  # the vanishing-gradient lab, built the first time it is opened
        self.model_dialog: ModelDialog | None = None  # the last open-model dialog
        self.setWindowTitle("rnnviz")
        self.resize(1360, 840)

        # centre: header, view, transport ----------------------------------------------------------
        central = QWidget(self)
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        self.header = Header(central)
        column.addWidget(self.header)
        self.view = UnrolledView(session, central)
        self.view.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        column.addWidget(self.view, 1)
        self.setCentralWidget(central)
        # the transport spans the whole window, under the side panels: the timeline gets room
        self.transport = TransportBar(session)
        self.transport_bar = QToolBar("Playback", self)
        self.transport_bar.setObjectName("transportBar")
        self.transport_bar.setMovable(False)
        self.transport_bar.setFloatable(False)
        self.transport_bar.addWidget(self.transport)
        self.addToolBar(Qt.BottomToolBarArea, self.transport_bar)

        # side panels ------------------------------------------------------------------------------
        self.setup_panel = SetupPanel(session)
        self.setup_dock = add_dock(self, "Setup", "setupDock", scrollable(self.setup_panel), Qt.LeftDockWidgetArea)
        self.inspector = Inspector(session)
        self.inspector_dock = add_dock(self, "Inspector", "inspectorDock", self.inspector, Qt.RightDockWidgetArea)
        # the side panels run the full height; the plots sit under the network only
        self.setCorner(Qt.BottomLeftCorner, Qt.LeftDockWidgetArea)
        self.setCorner(Qt.BottomRightCorner, Qt.RightDockWidgetArea)
        # training: a controller (off the UI thread), its panel under the setup, plots as docks
        self.training = TrainingController(session, parent=self)
        self.training_panel = TrainingPanel(self.training)
        self.training_dock = add_dock(self, "Training", "trainingDock", scrollable(self.training_panel), Qt.LeftDockWidgetArea)
        self.plot_docks = make_plot_docks(session, self.training, self)
        self.plots = {dock.objectName(): dock.widget() for dock in self.plot_docks}  # placed by self.room
        # learning: the AR baseline is one more tab beside the plots (under the inspector: see
        # app/window/room.py); the lessons sit above the inspector, whose numbers they point at, and
        # stay hidden until asked for (Help ▸ Lessons)
        self.baseline_panel = BaselinePanel(session, self.training)
        self.baseline_dock = add_dock(self, "AR baseline", "baselineDock", scrollable(self.baseline_panel),
                                      Qt.RightDockWidgetArea)
        self.lesson_host = WindowLessonHost(session, self, self.training, self.view.is_rolled, self.set_rolled)
        self.lessons_panel = LessonsPanel(self.lesson_host, self.training)
        self.lessons_dock = add_dock(self, "Lessons", "lessonsDock", self.lessons_panel, Qt.RightDockWidgetArea)
        self.splitDockWidget(self.lessons_dock, self.inspector_dock, Qt.Vertical)
        self.resizeDocks([self.lessons_dock, self.inspector_dock], [2, 3], Qt.Vertical)
        self.lessons_dock.hide()
        # the network is the stage: Setup | Training on the left, plots under the inspector
        self.room = Room(self, self.view, self.inspector_dock, (self.setup_dock, self.training_dock),
                         (*self.plot_docks, self.baseline_dock))
        self._raise_first_plot()

        self.status = StatusLine(self.statusBar())  # the last error, the training budget
        self.presentation = Presentation(self, self.inspector_dock, self.lessons_dock,
                                         (self.header, self.transport_bar, self.menuBar(), self.statusBar()),
                                         allow_fullscreen=allow_fullscreen, panels_back=self._raise_first_plot)
        self._build_actions()
        self._build_menus()
        # File: import, sessions, autosave, recent files, the window's layout
        self.files = FileActions(self.session, self.training, self, file_menu=self.file_menu,
                                 is_rolled=self.view.is_rolled, set_rolled=self.set_rolled)

        session.networkChanged.connect(self._network_changed)
        session.traceChanged.connect(self._network_changed)
        session.appearanceChanged.connect(self.refresh_appearance)
        session.message.connect(self.show_message)
        session.error.connect(self.show_error)
        session.may_replace = self.may_discard_training
        session.may_discard_loaded = self.may_discard_loaded
        self.discard_answer = None  # tests: a callable(text) -> bool answering instead of a dialog
        self.training.progressed.connect(self._training_progressed)
        self.training.failed.connect(self._training_failed)
        self.training.stateChanged.connect(self._training_state)
        self._network_changed()
        self.refresh_appearance()
        # a model file dropped anywhere on the window opens it: the graphics views (the network,
        # the plots) would otherwise take the drag (their scenes accept any drag enter) and refuse
        # the drop, so they pass drags on to the window
        self.setAcceptDrops(True)
        for v in self.findChildren(QGraphicsView):
            v.setAcceptDrops(False)
            v.viewport().setAcceptDrops(False)

    # building ---------------------------------------------------------------------------------------
    def _build_actions(self) -> None:
        s, v = self.session, self.view
        self.play_action = window_action(self, "Play / pause", lambda: s.toggle_play(), "Space")
        # a presenter remote sends PageDown / PageUp (some send the arrow keys)
        self.step_forward_action = window_action(self, "Step forward", lambda: s.step_forward(), ["Right", "PgDown"])
        self.step_back_action = window_action(self, "Step back", lambda: s.step_back(), ["Left", "PgUp"])
        self.to_start_action = window_action(self, "To the start", lambda: s.to_start(), "Home")
        self.to_end_action = window_action(self, "To the end", lambda: s.to_end(), "End")
        self.faster_action = window_action(self, "Faster", lambda: s.faster(), ["+", "=", "Shift++"])
        self.slower_action = window_action(self, "Slower", lambda: s.slower(), ["-", "_"])
        self.mode_action = window_action(self, "Forward / backward pass", self.toggle_mode, "B")
        self.loop_action = window_action(self, "Loop", lambda: s.set_loop(not s.loop), "L")
        self.zoom_in_action = window_action(self, "Zoom in", lambda: v.zoom_in(), ["Ctrl++", "Ctrl+="])
        self.zoom_out_action = window_action(self, "Zoom out", lambda: v.zoom_out(), "Ctrl+-")
        self.fit_action = window_action(self, "Fit to window", lambda: v.fit_to_window(), "Ctrl+0")
        self.rolled_action = window_action(self, "Rolled view", self.set_rolled, "R", checkable=True)
        self.gates_action = window_action(self, "Show gates (LSTM / GRU)", v.set_gates_shown, "G", checkable=True)
        v.gatesChanged.connect(self.gates_action.setChecked)
        self.presentation_action = window_action(self, "Presentation mode", s.set_presentation, "F11", checkable=True)
        self.controls_action = window_action(self, "Hide controls", self.set_controls_hidden, "H", checkable=True)
        self.escape_action = window_action(self, "Leave presentation mode", self.escape, "Esc")
        self.open_model_action = window_action(self, "Open model…", self.open_model_dialog, "Ctrl+O")
        self.open_inputs_action = window_action(self, "Open inputs…", self.open_inputs_dialog, "Ctrl+I")
        self.screenshot_action = window_action(self, "Save screenshot…", self.save_screenshot_dialog, "Ctrl+S")
        self.quit_action = window_action(self, "Quit", self.close, "Ctrl+Q")
        self.about_action = window_action(self, "About rnnviz", self.show_about)
        self.shortcuts_action = window_action(self, "Keyboard shortcuts", self.show_shortcuts, "F1")
        self.lab_action = window_action(
            self, "Vanishing-gradient lab…", self.open_lab, "Ctrl+G",
            tip="How far back can a vanilla RNN reach, and an LSTM or GRU? The echo task side by side")
        self.lab_action.setObjectName("openLab")
        self.lessons_action = self.lessons_dock.toggleViewAction()
        self.lessons_action.setText("Lessons")
        self.lessons_action.setShortcut(QKeySequence("Ctrl+L"))
        self.theme_group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for name, text in (("light", "Light"), ("dark", "Dark"), ("contrast", "High contrast")):
            a = QAction(text, self, checkable=True)
            a.triggered.connect(lambda _=False, n=name: s.set_theme(n))
            self.theme_group.addAction(a)
            self.theme_actions[name] = a
        h = self.header
        h.zoom_in_button.clicked.connect(self.zoom_in_action.trigger)
        h.zoom_out_button.clicked.connect(self.zoom_out_action.trigger)
        h.fit_button.clicked.connect(self.fit_action.trigger)
        h.rolled_button.toggled.connect(self.rolled_action.setChecked)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = f = bar.addMenu("&File")
        for a in (self.open_model_action, self.open_inputs_action):
            f.addAction(a)
        f.addSeparator()
        f.addAction(self.screenshot_action)
        # File ▸ Export: view, animation, trace, history
        self.export_actions = ExportActions(self.session, self.view, self.training, self, self.show_error,
                                            self.show_message)
        self.export_menu = self.export_actions.add_to(f)
        f.addSeparator()
        f.addAction(self.quit_action)
        p = bar.addMenu("&Playback")
        for a in (self.play_action, self.step_back_action, self.step_forward_action, self.to_start_action,
                  self.to_end_action, self.mode_action, self.faster_action, self.slower_action, self.loop_action):
            p.addAction(a)
        v = bar.addMenu("&View")
        themes = v.addMenu("Theme")
        for a in self.theme_actions.values():
            themes.addAction(a)
        v.addAction(self.presentation_action)
        v.addAction(self.controls_action)
        v.addSeparator()
        self.panels_menu = v.addMenu("Panels")
        for dock in (self.setup_dock, self.inspector_dock, self.training_dock, *self.plot_docks, self.baseline_dock,
                     self.lessons_dock):
            self.panels_menu.addAction(dock.toggleViewAction())
        v.addSeparator()
        for a in (self.rolled_action, self.gates_action, self.zoom_in_action, self.zoom_out_action, self.fit_action):
            v.addAction(a)
        v.addSeparator()
        v.addAction(self.lab_action)
        h = self.help_menu = bar.addMenu("&Help")
        for a in (self.lessons_action, self.shortcuts_action, self.about_action):
            h.addAction(a)

    # session -> window ------------------------------------------------------------------------------
    def _network_changed(self) -> None:
        label = self.header.show_network(self.session)
        self.setWindowTitle(f"rnnviz — {label}" if label else "rnnviz")
        self._sync_rolled()

    def refresh_appearance(self) -> None:
        """Apply the session's theme and presentation mode to the window, and size the docks for
        the window's current size."""
        s = self.session
        theme = theme_for(s.theme, s.presentation)
        scale = font_scale(s.presentation)
        apply_appearance(self, theme, scale)
        for name, a in self.theme_actions.items():
            a.setChecked(name == s.theme)
        if self.presentation_action.isChecked() != s.presentation:
            self.presentation_action.blockSignals(True)
            self.presentation_action.setChecked(s.presentation)
            self.presentation_action.blockSignals(False)
        self.presentation.step_aside(s.presentation)
        self.header.show_appearance(theme.text, self.fontMetrics().height(), s.presentation)
        self._size_docks()
        self.presentation.full_screen(s.presentation)
        if not s.presentation and self.controls_action.isChecked():
            self.controls_action.setChecked(False)

    def _size_docks(self) -> None:
        """Side panels in proportion to the font (so presentation mode and 2× screens keep the
        text unwrapped) and to the window, leaving the network most of the width."""
        em = self.fontMetrics().horizontalAdvance("M")
        self.setup_panel.setMinimumWidth(round(em * 15))
        for dock in (self.setup_dock, self.training_dock):  # the scroll areas must not squeeze them
            dock.widget().setMinimumWidth(round(em * 15) + dock.widget().verticalScrollBar().sizeHint().width())
        self.inspector.setMinimumWidth(round(em * 22))
        self.room.size_docks(em)  # app/window/room.py: the network keeps at least half the window

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            self._size_docks()

    def may_discard_training(self, what: str) -> bool:
        """Before a structural change: a training run with progress is only thrown away when
        the person says so."""
        if not self.training.has_progress():
            return True
        text = (f"To {what}, the current training run ({self.training.iteration:,} iterations) "
                "will be discarded. Go ahead?")
        if self.discard_answer is not None:
            return bool(self.discard_answer(text))
        return ask_discard(self, text) if self.isVisible() else True

    def may_discard_loaded(self, question: str) -> bool:
        """Before a loaded network gives way to a new random one: the person says so (tests answer
        through `discard_answer`)."""
        if self.discard_answer is not None:
            return bool(self.discard_answer(question))
        return ask_discard_network(self, question) if self.isVisible() else True

    def _raise_first_plot(self) -> None:
        """Before any training the loss plot is empty: open on the hidden states, which the
        trace already has."""
        hidden = [d for d in self.plot_docks if d.objectName() == "plot-hidden-time"]
        if hidden or self.plot_docks:
            (hidden or self.plot_docks)[0].raise_()

    def _training_progressed(self, iteration: int, loss: float, rate: float) -> None:
        self.status.show_training(iteration, loss, rate, self.training.progress)

    def _training_failed(self, message: str, _step: int) -> None:
        self.show_error(message)
        self.training_error = message

    def _training_state(self, state: str) -> None:
        if state == "running":
            self.status.clear_error()
        elif state != "failed" and self.training_error is not None and self.last_error == self.training_error:
            # Reset, a new network or a step that went through: the failure no longer applies
            # (an error of something else, say a file, stays)
            self.status.clear_error()
        if state != "failed":
            self.training_error = None

    def show_message(self, text: str) -> None:
        self.status.show_message(text)

    def show_error(self, text: str) -> None:
        """Errors reach the person: the status bar, and a dialog that does not block."""
        self.last_error = text
        self.status.show_error(text)
        if not self.error_dialogs:
            return
        if self._error_box is None:
            self._error_box = QMessageBox(QMessageBox.Warning, "rnnviz", "", QMessageBox.Ok, self)
        self._error_box.setText(text)
        self._error_box.open()

    # window actions ---------------------------------------------------------------------------------
    def toggle_mode(self) -> None:
        self.session.set_mode("backward" if self.session.mode == "forward" else "forward")

    def set_rolled(self, rolled: bool, animate: bool = True) -> None:
        if self.view.is_rolled() != rolled:
            self.view.set_rolled(rolled, animate)
        self._sync_rolled()

    def _sync_rolled(self) -> None:
        rolled = self.view.is_rolled()
        for w in (self.header.rolled_button, self.rolled_action):
            if w.isChecked() != rolled:
                w.blockSignals(True)
                w.setChecked(rolled)
                w.blockSignals(False)

    def set_controls_hidden(self, hidden: bool) -> None:
        """H: only the network on screen (app/window/presentation.py)."""
        self.presentation.hide_controls(hidden)
        if self.controls_action.isChecked() != hidden:
            self.controls_action.setChecked(hidden)

    def escape(self) -> None:
        if self.session.presentation:
            self.session.set_presentation(False)
        elif self.controls_action.isChecked():
            self.set_controls_hidden(False)
        else:
            self.session.select(None)

    # files ------------------------------------------------------------------------------------------
    def open_model_dialog(self) -> None:
        path = ask_model_path(self)
        if path:
            self.open_model(path)

    def open_model(self, path: str | Path, inputs_path: str | Path | None = None,
                   targets_path: str | Path | None = None) -> ModelDialog | None:
        """Show what the model file holds and ask what it does not (app/window/model_dialog.py),
        window-modal without blocking; the dialog, or None (the problem said) when the file or
        the data cannot be read. Nothing changes until the person presses Open."""
        try:
            probe, x, y = probe_with_data(path, inputs_path, targets_path)
        except (FileFormatError, ValueError) as e:
            self.show_error(str(e) if str(path) in str(e) else f"{Path(path).name}: {e}")
            return None
        if self.model_dialog is not None:
            self.model_dialog.close()
        self.model_dialog = ModelDialog(probe, self.session, self, inputs=x, targets=y,
                                        data_paths=(inputs_path, targets_path))
        self.model_dialog.open()
        return self.model_dialog

    # drag and drop: a model file (with, optionally, its inputs and targets .npy) opens the dialog
    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if dropped_files(event.mimeData())[0] is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        model, inputs, targets = dropped_files(event.mimeData())
        if model is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_model(model, inputs, targets)

    def open_inputs_dialog(self) -> None:
        paths = ask_inputs_paths(self)
        if paths is not None:
            self.session.load_inputs_file(*paths)

    def save_screenshot_dialog(self) -> None:
        path = ask_screenshot_path(self)
        if path:
            self.save_screenshot(path)

    def save_screenshot(self, path: str | Path) -> bool:
        ok = self.grab().save(str(path), "PNG")
        if ok:
            self.show_message(f"Saved {path}")
        else:
            self.show_error(f"Could not write {path}")
        return ok

    # help -------------------------------------------------------------------------------------------
    def show_about(self) -> None:
        show_about(self)

    def show_shortcuts(self) -> None:
        """The F1 list, laid out afresh each time it opens (the font may have changed since:
        presentation mode), so that it fits the screen."""
        if self._shortcuts_dialog is not None and not self._shortcuts_dialog.isVisible():
            self._shortcuts_dialog.deleteLater()
            self._shortcuts_dialog = None
        if self._shortcuts_dialog is None:
            self._shortcuts_dialog = shortcuts_dialog(self, self.screen().availableGeometry().size())
        self._shortcuts_dialog.show()
        self._shortcuts_dialog.raise_()

    def open_lab(self) -> LabWindow:
        """Show the vanishing-gradient lab (a window of its own, built on first use), raised."""
        if self.lab is None:
            self.lab = LabWindow(self.session, self)
        self.lab.show()
        self.lab.raise_()
        self.lab.activateWindow()
        return self.lab

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if self.lab is not None:  # the lab's workers stop with the main window
            self.lab.shutdown()
            self.lab.close()
        self.training.shutdown()
        self.files.on_close()
        self.session.shutdown()
        super().closeEvent(event)
