"""Recovery within 30 seconds: the recovery file follows the changes (the first within the
first-write delay, then each within the interval, and every pause of training), is captured on
the UI thread and written on another, one write at a time; a crash (SIGKILL of a real app in a
subprocess) leaves a recovery file the next start offers and restores with the trained run; and
the temporaries of interrupted saves are removed at the next start, never a person's file."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from rnnviz.app.io import session_file, session_snapshot
from rnnviz.app.io.autosave import AutosaveSchedule, BackgroundWriter
from rnnviz.app.io.session_store import SessionStore, data_dir
from rnnviz.engine.io import npz


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch):
    """Recovery file and QSettings in this test's own folder: never the person's."""
    monkeypatch.setenv("RNNVIZ_DATA_DIR", str(tmp_path / "appdata"))
    monkeypatch.setenv("RNNVIZ_CONFIG_DIR", str(tmp_path / "config"))


class Clock:
    """A hand-moved monotonic clock (seconds)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def recovered_iteration(store: SessionStore) -> int | None:
    try:
        trainer = session_file.read_session(store.recovery_path).doc["training"]["trainer"]
    except Exception:  # noqa: BLE001 - not written yet
        return None
    return 0 if trainer is None else trainer["iteration"]


# when ---------------------------------------------------------------------------------------------
def test_the_schedule_writes_the_first_change_soon_and_every_change_within_the_interval(qapp):
    clock = Clock()
    sch = AutosaveSchedule(first_ms=10_000, interval_ms=30_000, clock=clock)
    due = []
    sch.due.connect(lambda: due.append(clock.now))
    sch.start()
    assert not sch.timer.isActive()  # nothing changed: nothing to write
    sch.changed()
    assert sch.timer.isActive() and sch.timer.interval() == 10_000  # the first change: within 10 s
    sch.snapshot_taken()
    assert not sch.timer.isActive() and not sch.dirty
    clock.now += 5
    sch.changed()
    assert sch.timer.interval() == 25_000  # 30 s after the last write, not 10 s after this change
    sch.changed()
    assert sch.timer.interval() == 25_000  # further changes do not put it off
    sch.snapshot_taken()
    clock.now += 25
    sch.changed()
    assert sch.timer.interval() == 10_000  # never sooner than the first-write delay
    sch.snapshot_taken()
    clock.now += 0.4
    sch.paused()
    assert sch.timer.interval() == 600  # a pause: at once, at most once a second
    sch.stop()
    sch.changed()
    assert not sch.timer.isActive() and due == []


def test_the_first_change_is_written_within_the_first_write_delay_off_the_ui_thread(qtbot, session, controller):
    store = SessionStore(session, controller, interval_ms=400, first_ms=50)
    store.start_autosave()
    assert not store.schedule.timer.isActive() and not store.has_recovery()
    session.set_config(hidden=5)  # the first change
    assert store.schedule.timer.isActive() and store.schedule.timer.interval() == 50
    qtbot.waitUntil(store.has_recovery, timeout=10_000)
    assert store.writer.writing_thread == "rnnviz-autosave" != threading.current_thread().name
    doc = session_file.read_session(store.recovery_path).doc
    assert doc["config"]["hidden"] == 5
    qtbot.waitUntil(lambda: not store.writer.busy, timeout=10_000)
    store.clean_exit()
    assert not store.has_recovery()


def test_each_pause_of_training_is_written(qtbot, session, controller):
    store = SessionStore(session, controller, interval_ms=60_000, first_ms=60_000)  # only pauses write soon
    store.start_autosave()
    controller.set_budget(None)
    controller.train()
    qtbot.waitUntil(lambda: controller.iteration >= 3, timeout=20_000)
    controller.pause(wait=True)
    assert controller.state == "paused"
    qtbot.waitUntil(lambda: recovered_iteration(store) == controller.iteration, timeout=10_000)
    store.clean_exit()


def test_an_autosave_during_training_takes_the_trainers_state_on_the_worker_without_pausing(
        qtbot, session, controller, monkeypatch):
    """The trainer's part of the snapshot (optimizer moments, history) is copied by the training
    worker between two iterations: the run is never paused, the UI thread never copies it, and
    the file carries on exactly where the worker took it."""
    from rnnviz.engine import Trainer

    threads: list[str] = []
    real = Trainer.state_dict

    def state_dict(self):
        threads.append(threading.current_thread().name)
        return real(self)

    monkeypatch.setattr(Trainer, "state_dict", state_dict)
    store = SessionStore(session, controller, interval_ms=60_000, first_ms=60_000)
    states: list[str] = []
    controller.stateChanged.connect(states.append)
    controller.set_budget(None)
    controller.train()
    qtbot.waitUntil(lambda: controller.iteration >= 3, timeout=20_000)
    with qtbot.waitSignal(store.writer.done, timeout=20_000) as done:
        assert store.autosave_in_background()
    assert done.args[1] == ""
    assert controller.running and states == ["running"]  # never paused and resumed
    assert threads == ["rnnviz-training"]  # not the UI thread
    assert store.writer.writing_thread == "rnnviz-autosave"
    saved = session_file.read_session(store.recovery_path)
    tdoc = saved.doc["training"]["trainer"]
    assert tdoc["iteration"] >= 3
    controller.pause(wait=True)
    # the saved state is a whole run: a new trainer carries on from it
    tarrays = {k[len("trainer."):]: v for k, v in saved.arrays.items() if k.startswith("trainer.")}
    again = Trainer(session.model.copy(), *session.data, optimizer=tdoc["optimizer"], lr=tdoc["lr"], seed=tdoc["seed"])
    again.load_state_dict(tdoc, tarrays)
    assert again.iteration == tdoc["iteration"]
    assert again.history.loss.iterations[-1] == tdoc["iteration"]
    store.clean_exit()


def test_a_snapshot_shares_nothing_with_the_live_session(session, controller):
    for _ in range(3):
        controller.step()
    doc, arrays = session_snapshot.capture(session, controller)
    kept = {k: v.copy() for k, v in arrays.items()}
    controller.step()
    session.set_watched(1)
    for a in (*session.model.params().values(), *session.data):
        if a is not None:
            assert not any(np.shares_memory(a, v) for v in arrays.values())
    assert all(np.array_equal(kept[k], arrays[k]) for k in kept)
    assert doc["training"]["trainer"]["iteration"] == 3


# how: one write at a time ---------------------------------------------------------------------------
def test_the_writer_writes_one_at_a_time_and_the_newest_waiting_snapshot_wins(qtbot, tmp_path):
    gate, started, written, running, most = threading.Event(), threading.Event(), [], [0], [0]

    def write(path, doc, arrays):
        running[0] += 1
        most[0] = max(most[0], running[0])
        started.set()
        gate.wait(30)
        written.append(doc["n"])
        running[0] -= 1

    writer = BackgroundWriter(write)
    done = []
    writer.done.connect(lambda path, error: done.append((path, error)))
    target = tmp_path / "r.rnnviz"
    writer.submit(target, {"n": 1}, {})
    assert started.wait(30)
    writer.submit(target, {"n": 2}, {})  # waits for the first
    writer.submit(target, {"n": 3}, {})  # replaces the waiting one
    assert writer.busy and written == []
    gate.set()
    qtbot.waitUntil(lambda: len(done) == 2 and not writer.busy, timeout=10_000)
    assert written == [1, 3] and most[0] == 1 and done == [(str(target), "")] * 2


def test_a_failing_write_is_told_once_and_tried_again(qtbot, session, controller, tmp_path, monkeypatch):
    store = SessionStore(session, controller, interval_ms=100, first_ms=20)
    messages = []
    session.message.connect(messages.append)
    calls = []

    def full(path, doc, arrays):
        calls.append(path)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.writer, "_write", full)
    store.start_autosave()
    session.set_config(hidden=4)
    qtbot.waitUntil(lambda: len(calls) >= 3, timeout=10_000)  # tried again, at the interval
    store.stop_autosave()
    store.writer.wait()
    qtbot.waitUntil(lambda: not store.writer.busy, timeout=10_000)
    failures = [m for m in messages if m.startswith("Autosave failed")]
    assert len(failures) == 1 and "No space left" in failures[0]
    assert not store.has_recovery()


def test_a_clean_exit_during_a_write_leaves_no_recovery_file(qtbot, session, controller, monkeypatch):
    store = SessionStore(session, controller)
    gate, started = threading.Event(), threading.Event()
    real = store.writer._write

    def slow(path, doc, arrays):
        started.set()
        gate.wait(30)
        real(path, doc, arrays)

    monkeypatch.setattr(store.writer, "_write", slow)
    assert store.autosave_in_background()
    assert started.wait(30)
    threading.Timer(0.05, gate.set).start()  # the write ends while clean_exit waits for it
    store.clean_exit()
    assert not store.has_recovery()
    assert not [p for p in store.recovery_path.parent.iterdir() if npz.is_temporary(p.name)]


# litter ---------------------------------------------------------------------------------------------
def old(path):
    t = time.time() - 3600
    os.utime(path, (t, t))
    return path


def test_the_next_start_removes_interrupted_saves_temporaries_and_nothing_else(qtbot, tmp_path, window):
    store = window.files.store
    folder = tmp_path / "work"
    folder.mkdir()
    store.add_recent(folder / "mine.rnnviz")
    data_dir().mkdir(parents=True, exist_ok=True)
    litter = [d / npz.temporary_name(d / n) for d, n in ((data_dir(), "recovery-1-2.rnnviz"), (folder, "mine.rnnviz"))]
    for p in litter:
        p.write_bytes(b"partial")  # as a save killed mid-write leaves it, a while ago
        old(p)
    lookalikes = [folder / ".mine.rnnviz.rnnviz-tmp-notes", folder / "mine.rnnviz.rnnviz-tmp-1-0123456789ab",
                  folder / ".mine.rnnviz.x1y2z3.tmp", folder / "mine.rnnviz"]
    for p in lookalikes:
        p.write_bytes(b"the person's")
        old(p)
    window.files.start()  # what the next start does (on a thread)
    qtbot.waitUntil(lambda: not any(p.exists() for p in litter), timeout=10_000)
    assert all(p.read_bytes() == b"the person's" for p in lookalikes)


KILLED_APP = textwrap.dedent("""
    import sys
    from rnnviz.app.main import make_application
    from rnnviz.app.main_window import MainWindow
    from rnnviz.app.io import session_file
    from rnnviz.app.state.network_config import NetworkConfig
    from rnnviz.app.state.session import Session
    from PySide6.QtCore import QTimer

    app = make_application()
    window = MainWindow(Session(NetworkConfig(task="sine")), allow_fullscreen=False)
    window.error_dialogs = False
    window.show()
    window.files.start()
    store = window.files.store
    store.start_autosave(interval_ms=300, first_ms=100)
    window.training.set_budget(None)
    window.training.train()

    def poll():
        try:
            trainer = session_file.read_session(store.recovery_path).doc["training"]["trainer"]
        except Exception:
            return
        if trainer and trainer["iteration"] >= 20:
            print(trainer["iteration"], flush=True)  # then wait to be killed, training on
            timer.stop()

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(50)
    app.exec()
""")


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
def test_after_a_kill_the_next_start_restores_the_trained_run(qtbot, tmp_path, session):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_APP], stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline().strip()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        proc.stdout.close()
    assert line.isdigit(), f"the app did not autosave: {line!r}"
    saved = int(line)
    from rnnviz.app.main_window import MainWindow

    w = MainWindow(session, allow_fullscreen=False)  # the next start
    w.error_dialogs = False
    qtbot.addWidget(w)
    asked = []
    assert w.files.offer_recovery(ask=lambda text: asked.append(text) or True) is True
    assert asked and w.training.iteration >= saved and w.training.state == "paused"
    assert w.session.task.name == "sine"
