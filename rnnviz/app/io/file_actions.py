"""The File menu's data and session entries: import a time series or text, open and save
sessions, open recent, autosave and recovery, and the window remembering its layout.

`FileActions` is handed what it works with: the session, the training controller (saved with the
session), the main window (a dialogs' parent, and the layout it remembers), the File menu it
adds its entries to, and how to read and set the rolled view. The work itself lives in
methods that take plain arguments (`import_series(path, ...)`, `save_session(path)`,
`offer_recovery(ask=...)`), so tests drive them without dialogs. Every error reaches the
person through `session.error`; a failed import or open leaves the session as it was.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QFileDialog, QMainWindow, QMenu, QMessageBox

from rnnviz.engine.io.column_kinds import proposed_columns
from rnnviz.engine.io.npz import FileFormatError
from rnnviz.engine.io.importers import SeriesFile, import_series, import_text, parse_columns, series_summary
from rnnviz.engine.io.series_windows import default_steps
from rnnviz.app.io import session_file
from rnnviz.app.io.import_dialogs import ImportDialog
from rnnviz.app.io.session_store import AUTOSAVE_MS, SessionStore, app_settings
from rnnviz.app.state.session import Session
from rnnviz.app.state.training import TrainingController

SESSION_FILTER = f"rnnviz sessions (*{session_file.SUFFIX});;All files (*)"


class FileActions(QObject):
    """The File menu's import, session and recent-file entries, autosave and recovery, and the
    window's remembered layout."""

    def __init__(self, session: Session, controller: TrainingController | None, window: QMainWindow, *,
                 file_menu: QMenu, is_rolled: Callable[[], bool], set_rolled: Callable[[bool], None],
                 interval_ms: int = AUTOSAVE_MS) -> None:
        super().__init__(window)
        self.window = window
        self.session = session
        self.is_rolled = is_rolled
        self.set_rolled = set_rolled
        self.store = SessionStore(session, controller, view_state=self._view_state, apply_view=self._apply_view,
                                  parent=self, interval_ms=interval_ms)
        self.last_import_summary = ""
        w = window

        def action(text: str, slot: Callable, shortcut: str | None = None) -> QAction:
            a = QAction(text, w)
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
            a.triggered.connect(slot)
            w.addAction(a)
            return a

        self.import_series_action = action("Import time series…", self.import_series_dialog)
        self.import_text_action = action("Import text…", self.import_text_dialog)
        self.open_session_action = action("Open session…", self.open_session_dialog, "Ctrl+Shift+O")
        self.save_session_action = action("Save session", self.save_session_now, "Ctrl+Shift+S")
        self.save_session_as_action = action("Save session as…", self.save_session_dialog)
        self.recent_menu = QMenu("Open recent", w)
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.store.recentChanged.connect(self._fill_recent)
        self._add_to_menu(file_menu)
        self._fill_recent()

    def _add_to_menu(self, menu: QMenu) -> None:
        """At the top of the File menu: open, recent, save; then the imports."""
        first = menu.actions()[0] if menu.actions() else None
        for a in (self.open_session_action,):
            menu.insertAction(first, a)
        menu.insertMenu(first, self.recent_menu)
        for a in (self.save_session_action, self.save_session_as_action):
            menu.insertAction(first, a)
        menu.insertSeparator(first)
        for a in (self.import_series_action, self.import_text_action):
            menu.insertAction(first, a)

    # view state --------------------------------------------------------------------------------
    def _view_state(self) -> dict:
        return {"rolled": bool(self.is_rolled())}

    def _apply_view(self, state: dict) -> None:
        self.set_rolled(bool(state.get("rolled", False)))

    # import --------------------------------------------------------------------------------------
    def import_series(self, path: str | os.PathLike, columns=None, *, steps: int | None = None,
                      stride: int | None = None, held_out: float = 0.2, normalise: bool = True) -> bool:
        """Import a series (steps / stride None: the defaults for its length); False, with one
        message on session.error and the session as it was, when it cannot be imported."""
        return self._use_imported(path, lambda: import_series(path, columns, steps=steps, stride=stride,
                                                              held_out=held_out, normalise=normalise))

    def import_text(self, path: str | os.PathLike, *, steps: int = 25, held_out: float = 0.1) -> bool:
        return self._use_imported(path, lambda: import_text(path, steps=steps, held_out=held_out))

    def _use_imported(self, path: str | os.PathLike, load) -> bool:
        """Show and train on what `load()` imports ((task, summary)); an error leaves all as it was."""
        try:
            task, summary = load()
        except (FileFormatError, ValueError) as e:
            self.session.error.emit(str(e) if isinstance(e, FileFormatError) else f"{path}: {e}")
            return False
        self.last_import_summary = summary
        self.session.use_task(task, summary)
        return self.session.task is task

    def import_series_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Import a time series", "",
                                              "Time series (*.csv *.txt *.tsv *.npy);;All files (*)")
        if not path:
            return
        d = self.series_dialog(path)
        if d is None or d.exec() != QDialog.Accepted:
            return
        self.import_from_dialog(path, d)

    def series_dialog(self, path: str | os.PathLike) -> ImportDialog | None:
        """The import dialog for a series file, filled in with the proposed columns (an index-like
        column unticked and named so) and the defaults for its length, previewing the import;
        None (and the error said) when the file cannot be read."""
        try:
            series = SeriesFile(path)
        except FileFormatError as e:
            self.session.error.emit(str(e))
            return None
        cache: dict[str, tuple] = {}

        def preview(text: str, steps: int, stride: int | None, held_out: float, normalise: bool) -> str:
            if text not in cache:  # a large CSV is parsed once per choice of columns
                cache.clear()
                try:
                    cache[text] = series.values(parse_columns(text, series.names) or None)
                except FileFormatError as e:
                    cache[text] = e
            got = cache[text]
            if isinstance(got, FileFormatError):
                raise got
            values, names, note = got
            return series_summary(values, names, steps=steps, stride=stride, held_out=held_out,
                                  normalise=normalise, path=series.path, note=note)

        return ImportDialog(self.window, f"Import {series.path.name}", series.names, default_steps(series.n), 0.2,
                            proposed_columns(series.kinds), kinds=series.kinds, preview=preview)

    def import_from_dialog(self, path: str | os.PathLike, d: ImportDialog) -> bool:
        """Import with what the (accepted) dialog holds."""
        columns = parse_columns(d.columns_edit.text(), d.names) if d.columns_edit is not None else None
        return self.import_series(path, columns or None, steps=d.steps_spin.value(), stride=d.stride,
                                  held_out=d.held_spin.value(), normalise=d.normalise)

    def import_text_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Import text", "", "Text (*.txt *.md);;All files (*)")
        if not path:
            return
        d = ImportDialog(self.window, f"Import {Path(path).name}", None, 25, 0.1)
        if d.exec() != QDialog.Accepted:
            return
        self.import_text(path, steps=d.steps_spin.value(), held_out=d.held_spin.value())

    # sessions ------------------------------------------------------------------------------------
    def save_session(self, path: str | os.PathLike) -> bool:
        return self.store.save(path)

    def open_session(self, path: str | os.PathLike) -> bool:
        return self.store.open(path)

    def save_session_now(self) -> None:
        if self.store.path is not None:
            self.store.save(self.store.path)
        else:
            self.save_session_dialog()

    def save_session_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Save session", f"session{session_file.SUFFIX}", SESSION_FILTER)
        if path:
            if not path.endswith(session_file.SUFFIX) and not Path(path).suffix:
                path += session_file.SUFFIX
            self.store.save(path)

    def open_session_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open session", "", SESSION_FILTER)
        if path:
            self.store.open(path)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        items = self.store.recent()
        for p in items:
            a = self.recent_menu.addAction(Path(p).name)
            a.setToolTip(p)
            a.setData(p)
            a.triggered.connect(lambda _=False, p=p: self.store.open(p))
        if items:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear the list", self.store.clear_recent)
        self.recent_menu.setEnabled(bool(items))

    # autosave, recovery, window layout ---------------------------------------------------------
    def start(self) -> None:
        """After the window is shown: restore its layout, start autosaving, and remove what saves
        interrupted by a crash left behind (on a thread: a recent file's folder may be slow)."""
        self.restore_layout()
        self.store.start_autosave()
        threading.Thread(target=SessionStore.remove_litter, args=(self.store.litter_folders(),), name="rnnviz-litter",
                         daemon=True).start()

    def offer_recovery(self, ask: Callable[[str], bool] | None = None) -> bool:
        """After an unclean exit a recovery file is left: ask whether to restore it. `ask`
        (tests) answers instead of a QMessageBox. Returns whether a session was restored."""
        if self.store.orphaned_recovery() is None:
            return False
        text = ("rnnviz did not close cleanly last time. Restore the session autosaved before that?")
        if ask is None:
            answer = QMessageBox.question(self.window, "Restore session?", text,
                                          QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
            yes = answer == QMessageBox.Yes
        else:
            yes = ask(text)
        ok = bool(yes) and self.store.recover()  # a file that cannot be read says so and goes too
        self.store.discard_orphan()
        return ok

    def save_layout(self) -> None:
        s = app_settings()
        s.setValue("window/geometry", self.window.saveGeometry())
        s.setValue("window/state", self.window.saveState())
        s.sync()

    def restore_layout(self) -> bool:
        s = app_settings()
        geometry, state = s.value("window/geometry"), s.value("window/state")
        ok = False
        if geometry is not None:
            ok = bool(self.window.restoreGeometry(geometry))
        if state is not None:
            ok = bool(self.window.restoreState(state)) and ok
        return ok

    def on_close(self) -> None:
        """A clean exit: remember the layout, stop autosaving and leave no recovery file."""
        self.save_layout()
        self.store.clean_exit()

