"""Autosave benchmark: what writing the recovery file costs the UI thread and the writer thread.

The recovery file is written in two parts (rnnviz/app/io/autosave.py): a snapshot on the UI
thread (`session_snapshot.capture`: the session and its training run as plain data and copies of
every array; with training running, it also pauses the worker for the trainer's state and
resumes it), and the write on a thread of its own (`session_file.write_session`: JSON,
`np.savez`, the deflated zip, fsync, rename, folder fsync). This script measures both for a few
session sizes (sine task, hidden size H, trained for some iterations so that the run's history
and weight snapshots are in the file), in `--rounds` rounds of `--repeats` each, and prints per
round the median and the spread (min–max) in milliseconds, and the file's size. The last row
per size takes the snapshot while training runs on its worker (the pause and resume included).
A benchmark, not a test: nothing asserts on time. The UI thread's share is what must stay small
(a frame is 16 ms; it runs at most every 30 s while anything changes, and at each pause).

With `--kills N` it repeats issue 13's experiment instead: a subprocess saves a session (H=512,
a few MB) to one file over and over and is SIGKILLed at a random moment, N times; after each
kill the file must be a complete session (the old one or a new one); it counts the temporary
files left beside it, and after the last kill waits out the age rule (npz.STALE_SECONDS) and
saves once more into the folder: no temporary may be left.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_autosave.py
    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_autosave.py --sizes 8 64 --rounds 3 --repeats 10
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import offscreen_home  # noqa: E402,F401 (first: Qt offscreen, settings in a temporary folder)


def timed(fn, repeats: int) -> list[float]:
    """Milliseconds of each of `repeats` calls of fn()."""
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def line(label: str, round_: int, ms: list[float]) -> str:
    return (f"{label:<34} round {round_}: median {statistics.median(ms):8.2f} ms   "
            f"spread {min(ms):8.2f} – {max(ms):8.2f} ms   (n={len(ms)})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[8, 64, 256], help="hidden sizes H")
    ap.add_argument("--iterations", type=int, default=300, help="iterations trained before measuring")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--kills", type=int, default=0, help="saves to SIGKILL at random moments (issue 13: 30)")
    args = ap.parse_args(argv)
    if args.kills:
        return kills(args.kills)

    from PySide6.QtCore import QCoreApplication

    from rnnviz.app.io import session_file, session_snapshot
    from rnnviz.app.state.network_config import NetworkConfig
    from rnnviz.app.state.session import Session
    from rnnviz.app.state.training import TrainingController

    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    folder = Path(tempfile.mkdtemp(prefix="rnnviz-bench-autosave-"))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; files in {folder}")
    for hidden in args.sizes:
        session = Session(NetworkConfig(task="sine", hidden=hidden))
        controller = TrainingController(session)
        controller.set_budget(None)
        try:
            controller.train()
            while controller.iteration < args.iterations:
                app.processEvents()
                time.sleep(0.005)
            controller.pause(wait=True)
            path = folder / f"recovery-H{hidden}.rnnviz"
            doc, arrays = session_snapshot.capture(session, controller)
            session_file.write_session(path, doc, arrays)
            n_values = sum(a.size for a in arrays.values())
            print(f"\nH={hidden}: {controller.iteration} iterations, {len(arrays)} arrays, {n_values:,} values, "
                  f"file {path.stat().st_size / 1e6:.2f} MB")
            for r in range(1, args.rounds + 1):
                snap = timed(lambda: session_snapshot.capture(session, controller), args.repeats)
                print(line("UI thread: snapshot (paused)", r, snap))
                write = timed(lambda: session_file.write_session(path, doc, arrays), args.repeats)
                print(line("writer thread: write", r, write))
            controller.train()  # the snapshot while training runs: the worker paused and resumed
            for r in range(1, args.rounds + 1):
                snap = []
                for _ in range(args.repeats):
                    end = time.perf_counter() + 0.1  # let the run go on (and deliver) between snapshots
                    while time.perf_counter() < end:
                        app.processEvents()
                        time.sleep(0.005)
                    snap += timed(lambda: session_snapshot.capture(session, controller), 1)
                assert controller.running
                print(line("UI thread: snapshot (training)", r, snap))
        finally:
            controller.shutdown()
            session.shutdown()
    return 0


SAVER = """
import sys
from PySide6.QtCore import QCoreApplication
from rnnviz.app.io import session_snapshot
from rnnviz.app.state.network_config import NetworkConfig
from rnnviz.app.state.session import Session
app = QCoreApplication([])
session = Session(NetworkConfig(task="sine", hidden=512))
print("ready", flush=True)
while True:
    session_snapshot.save(sys.argv[1], session)
"""


def kills(n: int) -> int:
    """Issue 13's killed saves: see the module's docstring."""
    import random
    import signal
    import subprocess

    from rnnviz.app.io import session_file
    from rnnviz.engine.io.npz import STALE_SECONDS, is_temporary, save_npz

    if os.name == "nt":
        print("--kills needs SIGKILL (POSIX)")
        return 2
    folder = Path(tempfile.mkdtemp(prefix="rnnviz-bench-kills-"))
    path = folder / "work.rnnviz"
    rng = random.Random(13)
    complete = litter_after_kill = 0
    for i in range(n):
        proc = subprocess.Popen([sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.3, 1.5))  # some saves done, one under way
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        try:
            session_file.read_session(path)
            complete += 1
        except Exception as e:  # noqa: BLE001 - counted and shown
            print(f"kill {i + 1}: the file is not a complete session: {e}")
        left = [p for p in folder.iterdir() if is_temporary(p.name)]
        litter_after_kill += bool(left)
        print(f"kill {i + 1:2d}: file complete: {path.exists()}, temporaries beside it: {len(left)} "
              f"({sum(p.stat().st_size for p in left) / 1e6:.1f} MB)")
    time.sleep(STALE_SECONDS + 1)
    save_npz(folder / "next.npz", {"x": np.zeros(3)})  # the next save into that folder
    remaining = [p.name for p in folder.iterdir() if is_temporary(p.name)]
    print(f"\n{n} kills: file complete after {complete}/{n}; temporaries left right after {litter_after_kill}/{n} "
          f"kills; after the next save into the folder: {len(remaining)} left {remaining}")
    return 0 if complete == n and not remaining else 1


if __name__ == "__main__":
    raise SystemExit(main())
