"""Keeping what the person made: save and open whole sessions (`.rnnviz`, see session_file),
autosave to a recovery file, and the list of recent files.

Capturing a session as data and arrays, saving it and restoring it live in session_snapshot.py;
`SessionStore` adds the Qt parts: the autosave timer, the recovery file in the app-data folder
(`RNNVIZ_DATA_DIR` overrides it) and recent files in QSettings (`RNNVIZ_CONFIG_DIR` overrides
where the settings live: tests set both).  Each running window autosaves to a recovery file of
its own, held with a lock file while it runs; a recovery file whose lock nobody holds any more
(its app crashed) is what the next start offers to restore.  Autosaving follows the changes
(autosave.AutosaveSchedule: the first within 10 s, then each within 30 s, and every pause of
training): a snapshot is captured on the UI thread and written on another
(autosave.BackgroundWriter); while training runs, the trainer's part of it (optimizer moments,
history) is copied by the training worker between two iterations, never on the UI thread.  At start, temporary files left by saves that were interrupted
(the app killed mid-write) are removed from the folders the app writes to (`remove_litter`).
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QLockFile, QObject, QSettings, QStandardPaths, Signal

from rnnviz.engine.io.npz import FileFormatError, remove_stale_temporaries
from rnnviz.app.io import session_file
from rnnviz.app.io.autosave import AUTOSAVE_MS, FIRST_WRITE_MS, AutosaveSchedule, BackgroundWriter
from rnnviz.app.io.session_snapshot import capture, restore, save
from rnnviz.app.state.session import Session
from rnnviz.app.state.training import TrainingController

RECOVERY_PATTERN = "recovery-*.rnnviz"  # one per running window: recovery-<pid>-<random>.rnnviz
OLD_RECOVERY_NAME = "recovery.rnnviz"  # the single file of rnnviz 0.1 before this: offered too
MAX_RECENT = 8


# the Qt side: autosave, recovery, recent files -------------------------------------------------
def app_settings() -> QSettings:
    """The app's QSettings; RNNVIZ_CONFIG_DIR puts them in an .ini file there (tests)."""
    d = os.environ.get("RNNVIZ_CONFIG_DIR")
    if d:
        return QSettings(str(Path(d) / "rnnviz.ini"), QSettings.IniFormat)
    return QSettings("rnnviz", "rnnviz")


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:  # gone already, or not ours to delete: nothing the person can act on
        pass


def data_dir() -> Path:
    d = os.environ.get("RNNVIZ_DATA_DIR") or QStandardPaths.writableLocation(QStandardPaths.AppDataLocation)
    return Path(d or Path.home() / ".rnnviz")


class SessionStore(QObject):
    """Save / open / autosave for one session; the main window wires it to the File menu."""

    saved = Signal(str)
    opened = Signal(str)
    recentChanged = Signal()

    def __init__(self, session: Session, controller: TrainingController | None = None, view_state: Callable[[], dict] | None = None,
                 apply_view: Callable[[dict], None] | None = None, parent: QObject | None = None,
                 interval_ms: int = AUTOSAVE_MS, first_ms: int = FIRST_WRITE_MS) -> None:
        super().__init__(parent)
        self.session = session
        self.controller = controller  # the training run saved with the session (None: weights and view only)
        self.view_state = view_state or (lambda: {})
        self.apply_view = apply_view or (lambda view: None)
        self.path: Path | None = None  # the file the session was last saved to or opened from
        # autosave: what changed decides when; the recovery file is written off the UI thread
        self.schedule = AutosaveSchedule(min(first_ms, interval_ms), interval_ms, parent=self)
        self.schedule.due.connect(self.autosave_in_background)
        self.writer = BackgroundWriter(session_file.write_session, parent=self)
        self.writer.done.connect(self._autosaved)
        self._capturing = False  # capture() pauses and resumes a running training: not a change
        self._autosave_error = ""  # the last failure told, so that a failing disk is told once
        for signal in (session.networkChanged, session.traceChanged, session.selectionChanged,
                       session.appearanceChanged):
            signal.connect(self._changed)
        if controller is not None:
            controller.settingsChanged.connect(self._changed)
            controller.stateChanged.connect(self._training_state)
            controller.trainerState.connect(self._trainer_state_ready)
        self._awaiting_state = False  # the running training's worker was asked for its trainer's state
        # this window's recovery file: unique, as a later run may get a crashed one's pid
        self._recovery_name = f"recovery-{os.getpid()}-{uuid.uuid4().hex[:12]}.rnnviz"
        self._lock: QLockFile | None = None  # held on this window's recovery file once it exists
        self._orphan: tuple[Path | None, QLockFile | None] = (None, None)  # from orphaned_recovery

    @property
    def recovery_path(self) -> Path:
        """This window's recovery file (the one it autosaves to)."""
        return data_dir() / self._recovery_name

    def _hold_recovery_lock(self) -> None:
        """Lock this window's recovery file for as long as it runs, so that another rnnviz
        started meanwhile does not take it for one left by a crash."""
        if self._lock is None:
            self._lock = QLockFile(str(self.recovery_path.with_suffix(".lock")))
            self._lock.tryLock(0)

    def orphaned_recovery(self) -> Path | None:
        """The newest recovery file whose window is gone (its lock is free), None if there is
        none.  Its lock is taken, so two windows starting at once do not both offer it."""
        folder = data_dir()
        found = [p for p in folder.glob(RECOVERY_PATTERN) if p != self.recovery_path]
        if (folder / OLD_RECOVERY_NAME).is_file():
            found.append(folder / OLD_RECOVERY_NAME)
        for path in sorted(found, key=_mtime, reverse=True):
            lock = QLockFile(str(path.with_suffix(".lock")))
            if lock.tryLock(0):
                self._orphan = (path, lock)
                return path
        return None

    # saving and opening ---------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> bool:
        path = Path(path)
        try:
            save(path, self.session, self.controller, self.view_state())
        except (OSError, ValueError) as e:
            self.session.error.emit(f"Could not save {path}: {e}")
            return False
        self.path = path
        self.add_recent(path)
        self.session.message.emit(f"Saved the session to {path.name}")
        self.saved.emit(str(path))
        return True

    def open(self, path: str | os.PathLike, *, remember: bool = True) -> bool:
        path = Path(path)
        try:
            view = restore(path, self.session, self.controller)
        except FileFormatError as e:
            self.session.error.emit(str(e))
            return False
        self.apply_view(view)
        if remember:
            self.path = path
            self.add_recent(path)
        self.session.message.emit(f"Opened the session {path.name}")
        self.opened.emit(str(path))
        return True

    # autosave and recovery -----------------------------------------------------------------
    def start_autosave(self, interval_ms: int | None = None, first_ms: int | None = None) -> None:
        """Autosave from now on (each change within `interval_ms`, the first within `first_ms`)."""
        sch = self.schedule
        if first_ms is not None:
            sch.first_ms = int(first_ms)
        if interval_ms is not None:
            sch.interval_ms = int(interval_ms)
        sch.first_ms = min(sch.first_ms, sch.interval_ms)
        sch.start()

    def stop_autosave(self) -> None:
        self.schedule.stop()

    def _changed(self, *_args) -> None:
        if not self._capturing:
            self.schedule.changed()

    def _training_state(self, state: str) -> None:
        if self._capturing:
            return
        if state == "paused":
            self.schedule.paused()
        else:
            self.schedule.changed()

    def _snapshot(self, trainer_state: tuple[dict, dict[str, np.ndarray]] | None = None) -> tuple[Path, dict, dict[str, np.ndarray]]:
        """The recovery file's path and what goes in it, captured now (UI thread); the recovery
        file's lock is held from here on. Raises OSError / ValueError."""
        path = self.recovery_path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._hold_recovery_lock()
        self._capturing = True
        try:
            doc, arrays = capture(self.session, self.controller, self.view_state(), trainer_state)
        finally:
            self._capturing = False
        self.schedule.snapshot_taken()
        return path, doc, arrays

    def autosave(self) -> bool:
        """Write the recovery file now, on this thread (after any background write of it)."""
        self.writer.wait()
        try:
            path, doc, arrays = self._snapshot()
            session_file.write_session(path, doc, arrays)
        except (OSError, ValueError) as e:
            self._autosaved(str(self.recovery_path), str(e))
            return False
        self._autosaved(str(path), "")
        return True

    def autosave_in_background(self, trainer_state: tuple[dict, dict[str, np.ndarray]] | None = None) -> bool:
        """Capture the session now and write the recovery file on the writer's thread (a
        write already under way finishes first). False when the capture failed (told).
        While training runs, the worker is first asked for its trainer's state (taken between
        two iterations, see controller.request_state): the capture follows when it comes."""
        if trainer_state is None and self.controller is not None and self.controller.request_state():
            self._awaiting_state = True
            self.schedule.snapshot_taken()  # changes from here on are the next snapshot's
            return True
        self._awaiting_state = False
        try:
            path, doc, arrays = self._snapshot(trainer_state)
        except (OSError, ValueError) as e:
            self._autosaved(str(self.recovery_path), str(e))
            return False
        self.writer.submit(path, doc, arrays)
        return True

    def _trainer_state_ready(self, state: tuple[dict, dict[str, np.ndarray]]) -> None:
        """The worker handed over its trainer's state: capture the rest and write."""
        if self._awaiting_state:
            self.autosave_in_background(state)

    def _autosaved(self, path: str, error: str) -> None:
        """How a write of the recovery file went: a failure is told (once until it works again)
        and tried again later."""
        if not error:
            self._autosave_error = ""
            return
        self.schedule.failed()
        if error != self._autosave_error:
            self._autosave_error = error
            self.session.message.emit(f"Autosave failed: {error}")

    def litter_folders(self) -> list[Path]:
        """The folders this app writes to: the recovery folder and the recent files' folders."""
        return sorted({data_dir()} | {Path(p).parent for p in self.recent()})

    @staticmethod
    def remove_litter(folders: list[Path]) -> list[Path]:
        """Delete the temporary files that saves interrupted by a crash left in `folders` (see
        litter_folders): only rnnviz's own (npz.remove_stale_temporaries), never a person's
        file. Touches no Qt object: may run on any thread. Returns those deleted."""
        removed: list[Path] = []
        for folder in folders:
            removed += remove_stale_temporaries(folder)
        return removed

    def has_recovery(self) -> bool:
        """Has this window autosaved (is there a recovery file of its own)?"""
        return self.recovery_path.is_file()

    def recover(self, path: Path | None = None) -> bool:
        """Open a recovery file (default: the orphan found last by `orphaned_recovery`)."""
        path = path or self._orphan[0]
        if path is None:
            return False
        ok = self.open(path, remember=False)
        if ok:
            self.session.message.emit("Restored the session from before the last unclean exit")
        return ok

    def discard_orphan(self) -> None:
        """Delete the orphaned recovery file found by `orphaned_recovery` (restored or declined)."""
        path, lock = self._orphan
        if path is not None:
            _remove(path)
            lock.unlock()
            self._orphan = (None, None)

    def discard_recovery(self) -> None:
        """Delete this window's own recovery file and its lock (once no write of it is under way)."""
        self.writer.wait()
        _remove(self.recovery_path)
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None

    def clean_exit(self) -> None:
        """A normal quit: no recovery file is left to offer next time."""
        self.stop_autosave()
        self.discard_recovery()

    # recent files ------------------------------------------------------------------------------
    def recent(self) -> list[str]:
        value = app_settings().value("recentFiles", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or []) if isinstance(v, str)][:MAX_RECENT]

    def add_recent(self, path: str | os.PathLike) -> None:
        p = str(Path(path).resolve())
        items = [p] + [r for r in self.recent() if r != p]
        s = app_settings()
        s.setValue("recentFiles", items[:MAX_RECENT])
        s.sync()
        self.recentChanged.emit()

    def clear_recent(self) -> None:
        s = app_settings()
        s.remove("recentFiles")
        s.sync()
        self.recentChanged.emit()
