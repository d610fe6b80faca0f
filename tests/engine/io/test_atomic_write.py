"""Atomic writing leaves no litter: a save killed mid-write (SIGKILL, in a real subprocess)
leaves the old file or the complete new one, and its temporary file is recognisable by name and
removed at the next save into that folder; a temporary a running writer holds, a fresh one, and
a person's file that merely looks like one are never removed."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from rnnviz.engine.io import npz
from rnnviz.engine.io.npz import is_temporary, read_npz, remove_stale_temporaries, save_npz, write_atomic

posix_only = pytest.mark.skipif(os.name == "nt", reason="SIGKILL and flock are POSIX")

# a writer that writes half of a 2 MB file, says so on stdout, then waits to be killed
SLOW_WRITER = textwrap.dedent("""
    import sys, time
    from rnnviz.engine.io.npz import write_atomic

    def write(f):
        f.write(b"n" * 1_000_000)
        f.flush()
        print("half", flush=True)
        time.sleep(120)
        f.write(b"n" * 1_000_000)

    write_atomic(sys.argv[1], write)
""")


def start_slow_writer(path: Path) -> subprocess.Popen:
    """A subprocess half way through write_atomic(path): returns once it has said so."""
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "half"
    return proc


def temporaries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if is_temporary(p.name))


def backdate(path: Path, seconds: float = 3600) -> None:
    """As if the interrupted save happened `seconds` ago."""
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_temporary_names_are_recognisable_and_unique(tmp_path):
    a, b = npz.temporary_name(tmp_path / "s.rnnviz"), npz.temporary_name(tmp_path / "s.rnnviz")
    assert a != b and a.startswith(".s.rnnviz.rnnviz-tmp-") and is_temporary(a) and is_temporary(b)
    for name in ("s.rnnviz", ".s.rnnviz", "s.rnnviz.rnnviz-tmp-1-0123456789ab", ".s.rnnviz.rnnviz-tmp-mine",
                 ".s.rnnviz.rnnviz-tmp-1-0123456789AB", ".s.rnnviz.rnnviz-tmp-1-0123456789abc",
                 ".s.rnnviz.k3j4h5.tmp", ".s.rnnviz.rnnviz-tmp-1-0123456789ab.bak"):
        assert not is_temporary(name), name


@posix_only
def test_a_save_killed_mid_write_leaves_the_old_file_and_the_next_save_removes_its_temporary(tmp_path):
    path = tmp_path / "model.npz"
    save_npz(path, {"w": np.arange(5.0)})
    old = path.read_bytes()
    proc = start_slow_writer(path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert path.read_bytes() == old  # the old file, untouched
    left = temporaries(tmp_path)
    assert len(left) == 1 and left[0].stat().st_size == 1_000_000 and left[0].name.startswith(".model.npz.")
    # a person's files that merely look like one, however old, stay
    lookalikes = [tmp_path / n for n in (".model.npz.rnnviz-tmp-mine", "model.npz.rnnviz-tmp-1-0123456789ab",
                                         ".model.npz.abc123.tmp", ".model.npz.rnnviz-tmp-1-0123456789ab.bak")]
    for p in lookalikes:
        p.write_bytes(b"mine")
        backdate(p)
    backdate(left[0])
    save_npz(path, {"w": np.arange(7.0)})  # the next save into that folder
    assert temporaries(tmp_path) == []
    np.testing.assert_array_equal(read_npz(path)["w"], np.arange(7.0))
    assert all(p.read_bytes() == b"mine" for p in lookalikes)


@posix_only
def test_a_temporary_a_running_writer_holds_is_left_alone(tmp_path):
    """Two rnnviz saving into one folder: one's cleanup never deletes the other's file in progress."""
    path = tmp_path / "a.rnnviz"
    proc = start_slow_writer(path)
    try:
        (tmp,) = temporaries(tmp_path)
        backdate(tmp)  # however old it looks: its writer is alive and holds it
        assert remove_stale_temporaries(tmp_path) == []
        write_atomic(tmp_path / "b.rnnviz", lambda f: f.write(b"b"))
        assert tmp.exists()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
    assert remove_stale_temporaries(tmp_path) == [tmp]  # its writer is gone: now it is litter
    assert not path.exists() and (tmp_path / "b.rnnviz").read_bytes() == b"b"


def test_a_fresh_temporary_is_left_alone(tmp_path):
    """Between creating its temporary and locking it a writer holds no lock: the age rule covers it."""
    fresh = tmp_path / npz.temporary_name(tmp_path / "x.npz")
    fresh.write_bytes(b"partial")
    assert remove_stale_temporaries(tmp_path) == []
    assert remove_stale_temporaries(tmp_path, min_age=0) == [fresh] and not fresh.exists()


def test_a_link_named_like_a_temporary_is_not_followed_or_removed(tmp_path):
    target = tmp_path / "precious.txt"
    target.write_bytes(b"keep")
    link = tmp_path / npz.temporary_name(tmp_path / "x.npz")
    try:
        link.symlink_to(target)
    except OSError:
        pytest.skip("no symbolic links here")
    assert remove_stale_temporaries(tmp_path, min_age=0) == []
    assert link.is_symlink() and target.read_bytes() == b"keep"


def test_a_failed_write_leaves_no_temporary_and_the_folder_is_synced(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    save_npz(path, {"w": np.zeros(3)})
    old = path.read_bytes()

    def fail(f):
        f.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        write_atomic(path, fail)
    assert path.read_bytes() == old and temporaries(tmp_path) == []
    synced = []
    monkeypatch.setattr(npz, "fsync_folder", lambda folder: synced.append(Path(folder)))
    save_npz(path, {"w": np.ones(3)})
    assert synced == [tmp_path]


@posix_only
def test_fsync_folder_syncs_the_folder_itself(tmp_path, monkeypatch):
    real_fsync, synced = os.fsync, []

    def fsync(fd):
        synced.append(os.path.samestat(os.fstat(fd), os.stat(tmp_path)))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    npz.fsync_folder(tmp_path)
    assert synced == [True]
