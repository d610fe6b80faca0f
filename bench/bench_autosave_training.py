"""Autosave during training, in the real main window: how long the UI thread's event loop is
away while the recovery file is taken and written with training running (issue 13).

The main window (offscreen, shown) trains the sine task at hidden size `--hidden` (256) without
a budget. A 5 ms QTimer on the UI thread records when the event loop serves it; the gap between
two ticks is how long the loop was away. Every `--every` seconds one recovery file is written,
alternately in two ways:

- "UI thread" (how it was before): `session_snapshot.capture(session, controller, view)` on the
  UI thread, which pauses the worker, copies the trainer's state (optimizer moments, history,
  weight snapshots) and starts it again; then the write on the writer's thread;
- "worker" (now): `SessionStore.autosave_in_background()`: the worker is asked for a copy of
  `Trainer.state_dict()`, takes it between two iterations, the UI thread gathers the rest when
  it arrives (weights shown, data, view) and the writer's thread writes.

Per autosave, the UI thread's own time in `capture()`, and the largest gap from its start until the file is written (the write on its own
thread takes the GIL now and then too); and, as the floor, the largest gap in windows of the
same length with no autosave (training and drawing alone).
Printed per round: the median and the spread (min–max) in ms of each kind. A benchmark, not a
test: nothing asserts on time.

    .venv/bin/python bench/bench_autosave_training.py
    .venv/bin/python bench/bench_autosave_training.py --hidden 256 --rounds 3 --saves 6
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import offscreen_home  # noqa: E402,F401 (first: Qt offscreen, settings in a temporary folder)


class Gaps:
    """A 5 ms timer on the UI thread: (time, gap) of each tick."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.ticks: list[tuple[float, float]] = []
        self.last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.PreciseTimer)
        self.timer.setInterval(5)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    def tick(self) -> None:
        now = time.perf_counter()
        self.ticks.append((now, now - self.last))
        self.last = now

    def largest(self, t0: float, t1: float) -> float:
        """The largest gap (ms) of a tick that came in (t0, t1 + one tick]: a gap that began
        inside the window ends at the first tick after it."""
        gaps = [g for t, g in self.ticks if t0 < t and t - g < t1]
        return 1000 * max(gaps, default=0.0)


def spin(app, seconds: float, until=None) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end and not (until and until()):
        app.processEvents()
        time.sleep(0.001)


def line(label: str, ms: list[float]) -> str:
    if not ms:
        return f"  {label:<34} (none)"
    return (f"  {label:<34} median {statistics.median(ms):7.1f} ms   spread {min(ms):7.1f} – {max(ms):7.1f} ms"
            f"   (n={len(ms)})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--warm", type=int, default=300, help="iterations trained before measuring")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--saves", type=int, default=6, help="autosaves of each kind per round")
    ap.add_argument("--every", type=float, default=1.5, help="seconds between autosaves")
    args = ap.parse_args(argv)

    import os

    from PySide6.QtWidgets import QApplication

    from rnnviz.app.io import session_snapshot
    from rnnviz.app.main import make_application
    from rnnviz.app.main_window import MainWindow
    from rnnviz.app.state.network_config import NetworkConfig
    from rnnviz.app.state.session import Session

    app = make_application()
    session = Session(NetworkConfig(task="sine", hidden=args.hidden))
    window = MainWindow(session, allow_fullscreen=False)
    window.error_dialogs = False
    window.resize(1400, 900)
    window.show()
    QApplication.processEvents()
    store, controller = window.files.store, window.training
    from rnnviz.app.io import session_store

    capture_ms: list[float] = []  # the UI thread's own time in capture(), per autosave

    def timed_capture(*a, **k):
        t0 = time.perf_counter()
        try:
            return session_snapshot.capture(*a, **k)
        finally:
            capture_ms.append(1000 * (time.perf_counter() - t0))

    session_store.capture = timed_capture  # the store's autosave path, timed
    store.stop_autosave()  # the bench decides when
    store.recovery_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
          f"sine, H={args.hidden}, main window offscreen")
    controller.set_budget(None)
    controller.train()
    spin(app, 600, lambda: controller.iteration >= args.warm)
    gaps = Gaps()
    written: list[str] = []
    store.writer.done.connect(lambda path, error: written.append(error))

    def wait_written(n: int) -> None:
        spin(app, 60, lambda: len(written) >= n)

    for r in range(1, args.rounds + 1):
        before, now_, floor, lengths, ui_before, ui_now = [], [], [], [], [], []
        for _ in range(args.saves):
            # the floor: a window of the same length as the last autosave, with none
            length = lengths[-1] if lengths else 1.0
            t0 = time.perf_counter()
            spin(app, length)
            floor.append(gaps.largest(t0, time.perf_counter()))
            spin(app, args.every)
            # before: the trainer's state copied on the UI thread (the run paused and resumed)
            t0 = time.perf_counter()
            doc, arrays = timed_capture(session, controller, window.files.store.view_state())
            ui_before.append(capture_ms.pop())
            store.writer.submit(store.recovery_path, doc, arrays)
            wait_written(len(written) + 1)
            before.append(gaps.largest(t0, time.perf_counter()))
            spin(app, args.every)
            # now: the worker hands its trainer's state over between two iterations
            t0 = time.perf_counter()
            n = len(written)
            store.autosave_in_background()
            wait_written(n + 1)
            ui_now.append(capture_ms.pop())
            now_.append(gaps.largest(t0, time.perf_counter()))
            lengths.append(time.perf_counter() - t0)
            spin(app, args.every)
        assert controller.running, "training stopped during the bench"
        print(f"round {r} (iteration {controller.iteration}, load {os.getloadavg()[0]:.1f}): largest event-loop gap")
        print(line("training alone (floor)", floor))
        print(line("autosave, state on the UI thread", before))
        print(line("autosave, state from the worker", now_))
        print("  the UI thread's own time in capture():")
        print(line("state on the UI thread (paused)", ui_before))
        print(line("state from the worker", ui_now))
    bad = [e for e in written if e]
    if bad:
        print(f"failed writes: {bad[:3]}")
    controller.pause(wait=True)
    store.clean_exit()
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
