"""File ▸ Export: the view, the animation, the trace and the training history, from the window.

`ExportActions` holds the menu's actions and their slots; it is handed what it works with (the
session, the view, the training controller whose history it exports, a parent widget for its
dialogs, and how to show an error and a message) and does the work through
`rnnviz.app.io.export`. Every failure reaches the person through `show_error`; nothing is lost
(writes are atomic: a failed export leaves any previous file untouched).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QApplication, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout, QMenu,
    QProgressDialog, QSpinBox, QWidget,
)

from rnnviz.app.io import export as ex
from rnnviz.app.state.session import Session
from rnnviz.app.state.training import TrainingController
from rnnviz.app.views.unrolled.view import UnrolledView


class ExportOptionsDialog(QDialog):
    """Size (and, for animations, speed and passes) of an export."""

    def __init__(self, parent: QWidget | None, title: str, width: int, height: int, animation: bool = False,
                 speed: float = 3.0) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        form = QFormLayout(self)
        self.width_box = QSpinBox(self)
        self.width_box.setRange(16, ex.MAX_SIDE)
        self.width_box.setValue(int(width))
        self.width_box.setSuffix(" px")
        self.height_box = QSpinBox(self)
        self.height_box.setRange(16, ex.MAX_SIDE)
        self.height_box.setValue(int(height))
        self.height_box.setSuffix(" px")
        form.addRow("Width", self.width_box)
        form.addRow("Height", self.height_box)
        self.speed_box = self.passes_box = None
        if animation:
            self.speed_box = QDoubleSpinBox(self)
            self.speed_box.setRange(0.25, 60.0)
            self.speed_box.setDecimals(2)
            self.speed_box.setValue(float(speed))
            self.speed_box.setSuffix(" steps/s")
            self.passes_box = QComboBox(self)
            self.passes_box.addItems(["both", "forward", "backward"])
            form.addRow("Speed", self.speed_box)
            form.addRow("Passes", self.passes_box)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> dict:
        v = {"width": self.width_box.value(), "height": self.height_box.value()}
        if self.speed_box is not None:
            v["speed"] = self.speed_box.value()
            v["passes"] = self.passes_box.currentText()
        return v


class ExportActions:
    """The actions of File ▸ Export and what they do. `ask_path` and `ask_options` are the two
    questions to the person; tests replace them to run without dialogs."""

    def __init__(self, session: Session, view: UnrolledView, controller: TrainingController | None, parent: QWidget,
                 show_error: Callable[[str], None], show_message: Callable[[str], None]) -> None:
        self.session = session
        self.view = view
        self.controller = controller
        self.parent = parent
        self.show_error = show_error
        self.show_message = show_message
        self.last_dir = ""

        def act(text: str, slot) -> QAction:
            a = QAction(text, parent)
            a.triggered.connect(lambda _=False: slot())
            return a

        self.view_png = act("View as PNG…", lambda: self.export_view("png"))
        self.view_svg = act("View as SVG…", lambda: self.export_view("svg"))
        self.anim_gif = act("Animation as GIF…", lambda: self.export_animation("gif"))
        self.anim_mp4 = act("Animation as MP4…", lambda: self.export_animation("mp4"))
        self.trace_npz = act("Trace as NPZ…", lambda: self.export_trace("npz"))
        self.trace_json = act("Trace as JSON…", lambda: self.export_trace("json"))
        self.history_csv = act("Training history as CSV…", self.export_history)
        self.actions = [self.view_png, self.view_svg, None, self.anim_gif, self.anim_mp4, None,
                        self.trace_npz, self.trace_json, None, self.history_csv]

    def add_to(self, menu: QMenu) -> QMenu:
        """Add the Export submenu to `menu` (the File menu); returns the submenu."""
        sub = menu.addMenu("Export")
        for a in self.actions:
            sub.addSeparator() if a is None else sub.addAction(a)
        return sub

    # questions (replaced in tests) ----------------------------------------------------------------
    def ask_path(self, title: str, name: str, filters: str) -> str | None:
        start = str(Path(self.last_dir) / name) if self.last_dir else name
        path, _ = QFileDialog.getSaveFileName(self.parent, title, start, filters)
        if path:
            self.last_dir = str(Path(path).parent)
        return path or None

    def ask_options(self, title: str, animation: bool) -> dict | None:
        vp = self.view.viewport()
        w, h = max(640, vp.width()), max(400, vp.height())
        d = ExportOptionsDialog(self.parent, title, w, h, animation, self.session.speed)
        return d.values() if d.exec() == QDialog.Accepted else None

    # the exports -----------------------------------------------------------------------------------
    def _run(self, what: str, work) -> Path | None:
        try:
            out = work()
        except (ex.ExportError, OSError, ValueError) as e:
            self.show_error(f"Could not export {what}: {e}")
            return None
        self.show_message(f"Exported {what} to {out}")
        return out

    def export_view(self, fmt: str) -> Path | None:
        path = self.ask_path(f"Export the view as {fmt.upper()}", f"rnnviz-view.{fmt}",
                             "PNG images (*.png)" if fmt == "png" else "SVG drawings (*.svg)")
        if not path:
            return None
        opts = self.ask_options(f"View as {fmt.upper()}", animation=False)
        if opts is None:
            return None
        return self._run("the view", lambda: ex.export_view(self.view, path, opts["width"], opts["height"]))

    def export_animation(self, fmt: str) -> Path | None:
        if fmt == "mp4":
            ok, why = ex.video_available()
            if not ok:
                self.show_error(why)
                return None
        path = self.ask_path(f"Export the animation as {fmt.upper()}", f"rnnviz-animation.{fmt}",
                             "Animated GIF (*.gif)" if fmt == "gif" else "MP4 video (*.mp4)")
        if not path:
            return None
        opts = self.ask_options(f"Animation as {fmt.upper()}", animation=True)
        if opts is None:
            return None
        n = len(ex.animation_positions(self.session.T, opts["passes"]))
        dialog = QProgressDialog("Rendering frames…", "Cancel", 0, n, self.parent)
        dialog.setWindowTitle("Exporting the animation")
        dialog.setWindowModality(Qt.WindowModal)
        dialog.setMinimumDuration(300)

        def progress(done: int, total: int) -> bool:
            dialog.setValue(done)
            QApplication.processEvents()
            return not dialog.wasCanceled()

        try:
            return self._run("the animation", lambda: ex.export_animation(
                self.session, self.view, path, opts["width"], opts["height"], opts["speed"], opts["passes"], progress))
        finally:
            dialog.close()
            dialog.deleteLater()

    def export_trace(self, fmt: str) -> Path | None:
        path = self.ask_path(f"Export the trace as {fmt.upper()}", f"rnnviz-trace.{fmt}",
                             "NumPy archive (*.npz)" if fmt == "npz" else "JSON (*.json)")
        if not path:
            return None
        return self._run("the trace", lambda: ex.export_trace(self.session.trace, path))

    def export_history(self) -> Path | None:
        controller = self.controller
        if not ex.has_history(controller):
            self.show_error("There is no training history yet: train the network first, then export it.")
            return None
        path = self.ask_path("Export the training history as CSV", "rnnviz-history.csv", "CSV (*.csv)")
        if not path:
            return None
        return self._run("the training history", lambda: ex.export_history(controller, path))
