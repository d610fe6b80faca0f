"""A session save killed mid-write (SIGKILL of a real subprocess, at a hook): the person's file
is the old one, intact, or the complete new one; the temporary left behind is removed by the
next save into that folder, and by the next start when the folder is a recent file's."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from rnnviz.app.io import session_file, session_snapshot
from rnnviz.app.io.session_store import SessionStore
from rnnviz.engine.io.npz import is_temporary

pytestmark = pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNVIZ_DATA_DIR", str(tmp_path / "appdata"))
    monkeypatch.setenv("RNNVIZ_CONFIG_DIR", str(tmp_path / "config"))


# saves a session with hidden=7 to argv[1] and stops, to be killed, where argv[2] says:
# "arrays" half way through the zip, "rename" after the rename, before the folder's fsync
SAVER = textwrap.dedent("""
    import sys, time, zipfile
    from PySide6.QtCore import QCoreApplication
    from rnnviz.app.io import session_snapshot
    from rnnviz.app.state.network_config import NetworkConfig
    from rnnviz.app.state.session import Session
    from rnnviz.engine.io import npz

    app = QCoreApplication([])
    path, where = sys.argv[1], sys.argv[2]

    def stop_here():
        print("stopped", flush=True)
        time.sleep(120)

    if where == "arrays":
        real = zipfile.ZipFile.writestr
        def writestr(self, name, data, *a, **k):
            if name == "arrays.npz":
                self.fp.flush()
                stop_here()
            return real(self, name, data, *a, **k)
        zipfile.ZipFile.writestr = writestr
    else:
        npz.fsync_folder = lambda folder: stop_here()
    session_snapshot.save(path, Session(NetworkConfig(task="sine", hidden=7)))
""")


def killed_save(path, where: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", SAVER, str(path), where], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    try:
        assert proc.stdout.readline().strip() == "stopped"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        proc.stdout.close()


def temporaries(folder):
    return [p for p in folder.iterdir() if is_temporary(p.name)]


def backdate(paths):
    t = time.time() - 3600  # the kill happened a while ago
    for p in paths:
        os.utime(p, (t, t))


def test_killed_mid_write_the_old_session_stays_and_the_next_save_removes_the_temporary(tmp_path, session, controller):
    path = tmp_path / "work.rnnviz"
    session_snapshot.save(path, session, controller)
    old = path.read_bytes()
    killed_save(path, "arrays")
    assert path.read_bytes() == old
    left = temporaries(tmp_path)
    assert len(left) == 1 and left[0].stat().st_size > 0
    backdate(left)
    store = SessionStore(session, controller)
    assert store.save(tmp_path / "other.rnnviz")  # the next save into that folder
    assert temporaries(tmp_path) == [] and path.read_bytes() == old


def test_killed_after_the_rename_the_new_session_is_complete(tmp_path, session):
    path = tmp_path / "work.rnnviz"
    session_snapshot.save(path, session)
    killed_save(path, "rename")
    assert session_file.read_session(path).doc["config"]["hidden"] == 7
    assert temporaries(tmp_path) == []


def test_the_next_start_removes_it_from_a_recent_files_folder(tmp_path, session, controller):
    folder = tmp_path / "projects"
    folder.mkdir()
    path = folder / "work.rnnviz"
    store = SessionStore(session, controller)
    assert store.save(path)  # now a recent file
    killed_save(path, "arrays")
    left = temporaries(folder)
    assert len(left) == 1
    backdate(left)
    store = SessionStore(session, controller)
    assert folder in store.litter_folders()
    assert store.remove_litter(store.litter_folders()) == left  # what the next start does
    assert temporaries(folder) == [] and session_file.read_session(path).doc["config"]["hidden"] == 8
