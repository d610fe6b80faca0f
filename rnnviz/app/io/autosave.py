"""When and how the recovery file is written, without stalling the UI.

`AutosaveSchedule` decides *when*: nothing is written while nothing changes; the first change
is written within `first_ms` (10 s), and while changes go on, every change is on disk within
`interval_ms` (30 s) of being made: a crash loses at most that. A pause of training is written
at once (at most once a second).

`BackgroundWriter` decides *how*: the caller takes a snapshot on the UI thread (plain data and
copies of the arrays, see session_snapshot.capture) and hands it over; the writer serialises and
writes it on a thread of its own, one file at a time (a snapshot handed over while one is being
written waits, and a newer one replaces it), and tells the UI thread how it went with the
queued signal `done`.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal

FIRST_WRITE_MS = 10_000  # the first change is on disk within this (well inside 30 s)
AUTOSAVE_MS = 30_000  # while changes go on, each one is on disk within this
PAUSE_GAP_MS = 1_000  # pauses of training written at most this often


class AutosaveSchedule(QObject):
    """Tracks whether anything changed since the last snapshot and emits `due` when the
    recovery file should be written. `clock` (seconds, monotonic) can be injected by tests."""

    due = Signal()

    def __init__(self, first_ms: int = FIRST_WRITE_MS, interval_ms: int = AUTOSAVE_MS, parent: QObject | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self.first_ms = int(first_ms)
        self.interval_ms = max(int(interval_ms), self.first_ms)
        self.clock = clock
        self.dirty = False  # something changed since the last snapshot
        self.enabled = False
        self.last: float | None = None  # clock() at the last snapshot
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setTimerType(Qt.PreciseTimer)  # a coarse 30 s timer may come 1.5 s late
        self.timer.timeout.connect(self._fire)

    def start(self) -> None:
        self.enabled = True
        if self.dirty:
            self._arm(self._delay())

    def stop(self) -> None:
        self.enabled = False
        self.timer.stop()

    def changed(self) -> None:
        """Something the recovery file holds changed."""
        self.dirty = True
        if self.enabled and not self.timer.isActive():
            self._arm(self._delay())

    def paused(self) -> None:
        """Training paused: write what it reached now (at most every PAUSE_GAP_MS)."""
        self.dirty = True
        if not self.enabled:
            return
        since = None if self.last is None else (self.clock() - self.last) * 1000
        self._arm(0 if since is None else max(0, round(PAUSE_GAP_MS - since)), sooner_only=True)

    def snapshot_taken(self) -> None:
        """The state up to now is being written: changes from here on make it dirty again."""
        self.dirty = False
        self.last = self.clock()
        self.timer.stop()

    def failed(self) -> None:
        """The write failed: try again after the interval."""
        self.dirty = True
        if self.enabled:
            self._arm(self.interval_ms)

    def _delay(self) -> int:
        """first_ms after the first change; never sooner than first_ms and never later than
        interval_ms after the last snapshot, so every change is written within interval_ms."""
        if self.last is None:
            return self.first_ms
        since = (self.clock() - self.last) * 1000
        return max(self.first_ms, round(self.interval_ms - since))

    def _arm(self, ms: int, sooner_only: bool = False) -> None:
        if sooner_only and self.timer.isActive() and self.timer.remainingTime() <= ms:
            return
        self.timer.start(max(0, ms))

    def _fire(self) -> None:
        if self.enabled and self.dirty:
            self.due.emit()


class BackgroundWriter(QObject):
    """Writes (doc, arrays) snapshots with `write(path, doc, arrays)` on a thread of its own,
    one at a time. `done(path, error)` arrives on the UI thread (error "" when written)."""

    done = Signal(str, str)
    _finished = Signal(int, str, str)  # job, path, error: from the writing thread, queued to the UI thread

    def __init__(self, write: Callable[[Path, dict, dict[str, np.ndarray]], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._write = write
        self._thread: threading.Thread | None = None
        self._job = 0  # the number of the write under way (or the last one)
        self._pending: tuple[Path, dict, dict[str, np.ndarray]] | None = None
        self.writing_thread: str | None = None  # the name of the thread the last write ran on (tests)
        self._finished.connect(self._on_finished, Qt.QueuedConnection)

    @property
    def busy(self) -> bool:
        """A write is under way or waiting."""
        return self._thread is not None or self._pending is not None

    def submit(self, path: str | os.PathLike, doc: dict, arrays: dict[str, np.ndarray]) -> None:
        """Write this snapshot (which must not be changed afterwards: copies) once the write under
        way, if any, is done; a snapshot still waiting is replaced by this newer one."""
        self._pending = (Path(path), doc, arrays)
        if self._thread is None:
            self._start_next()

    def wait(self) -> None:
        """Block until the write under way (if any) is done; a waiting snapshot is dropped.
        For a clean exit or a synchronous save of the same file: never two writes at once.
        (Its `done` still arrives, later, from the event loop.)"""
        self._pending = None
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()

    def _start_next(self) -> None:
        job, self._pending = self._pending, None
        if job is None:
            return
        self._job += 1
        self._thread = threading.Thread(target=self._run, args=(self._job, *job), name="rnnviz-autosave")
        self._thread.start()  # not a daemon: a write under way at exit is finished, never cut

    def _run(self, job: int, path: Path, doc: dict, arrays: dict[str, np.ndarray]) -> None:
        self.writing_thread = threading.current_thread().name
        try:
            self._write(path, doc, arrays)
            error = ""
        except (OSError, ValueError) as e:
            error = str(e) or type(e).__name__
        except Exception as e:  # noqa: BLE001 - a thread must report, never die silently
            error = f"{type(e).__name__}: {e}"
        try:
            self._finished.emit(job, str(path), error)
        except RuntimeError:  # the writer is gone (the app is closing): nobody to tell
            pass

    def _on_finished(self, job: int, path: str, error: str) -> None:
        if job == self._job and self._thread is not None:
            self._thread.join()  # it has emitted: it ends at once
            self._thread = None
        self.done.emit(path, error)
        if self._thread is None:
            self._start_next()
