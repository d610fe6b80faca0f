"""Random use of the real main window, long (issue 13): thousands of seeded random actions per
seed while training runs, reporting exceptions, Qt warnings, Python warnings, event-loop stalls
and memory growth. The action table is tests/app/random_actions.py (the test suite runs a short
version of it: tests/app/test_random_use.py).

How it measures:
- exceptions: sys.excepthook (each with the action that preceded it); Qt warnings: a Qt message
  handler; Python warnings (e.g. numpy's RuntimeWarning on inf/NaN): warnings.showwarning.
- stalls: a 10 ms QTimer on the UI thread; the gap between two of its ticks is how long the
  event loop was away. Gaps over --stall seconds (default 2) are printed with the action that
  was running or had just run. A freeze for good is caught by faulthandler: with no tick for
  --freeze seconds (default 60) every thread's stack is printed and the process exits.
- memory: the resident set size (/proc/self/statm) after the first 100 actions (warm-up:
  caches, lazily built widgets) and at the end of each seed; each seed gets a fresh window.
  With --verbose, also the Python object types whose live count grew most over the seed (a
  leak of Python objects shows there; Qt's C++ memory does not, e.g. a QTextDocument's undo
  stack, which grew without bound before the inspector turned undo off).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_random_use.py
    .venv/bin/python bench/bench_random_use.py --seeds 1 2 3 --actions 2000 [--wild]

A benchmark, not a test: it asserts nothing; the goal (issue 13) is 0 exceptions, 0 stalls over
2 s, and under 30 MB growth over 6,000 actions.
"""
from __future__ import annotations

import argparse
import faulthandler
import gc
import os
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import offscreen_home  # noqa: E402,F401 (first: Qt offscreen, settings in a temporary folder)
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.app.random_actions


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def type_counts() -> dict[str, int]:
    """How many objects the garbage collector tracks, by type name (a leak of Python objects
    shows as a type whose count keeps growing)."""
    counts: dict[str, int] = {}
    for obj in gc.get_objects():
        name = type(obj).__qualname__
        counts[name] = counts.get(name, 0) + 1
    return counts


class StallClock:
    """A 10 ms timer on the UI thread: the longest gaps between its ticks, with the action named
    by `driver_name()` at the time."""

    def __init__(self, current) -> None:
        from PySide6.QtCore import QTimer

        self.current = current
        self.last = time.perf_counter()
        self.stalls: list[tuple[float, str]] = []
        self.longest = (0.0, "")
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    def tick(self) -> None:
        now = time.perf_counter()
        gap, self.last = now - self.last, now
        if gap > self.longest[0]:
            self.longest = (gap, self.current())
        if gap > ARGS.stall:
            self.stalls.append((gap, self.current()))

    def stop(self) -> None:
        self.timer.stop()


def run_seed(seed: int, folder: Path) -> dict:
    from PySide6.QtWidgets import QApplication

    from rnnviz.app.main_window import MainWindow
    from rnnviz.app.state.network_config import NetworkConfig
    from rnnviz.app.state.session import Session
    from tests.app.random_actions import RandomUse, Recorder

    session = Session(NetworkConfig(task="sine"))
    window = MainWindow(session, allow_fullscreen=False)
    window.error_dialogs = False
    window.show()
    QApplication.processEvents()
    driver = RandomUse(window, seed, folder / f"seed-{seed}", wild=ARGS.wild)
    py_warnings: list[str] = []
    rec = Recorder()

    def show_warning(message, category, filename, lineno, file=None, line=None):
        py_warnings.append(f"after {rec.current}: {category.__name__}: {message} ({Path(filename).name}:{lineno})")

    old_show = warnings.showwarning
    warnings.showwarning = show_warning
    clock = StallClock(lambda: rec.current)
    t0 = time.perf_counter()
    rss0 = rss_end = None
    errors_shown: list[str] = []
    window.session.error.connect(errors_shown.append)
    window.training.failed.connect(lambda message, _step: errors_shown.append(message))
    with rec, warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = show_warning
        for i in range(ARGS.actions):
            faulthandler.dump_traceback_later(ARGS.freeze, exit=True)
            rec.current = f"#{i} {driver.next_name()}"
            driver.run_one(rec.current.split(" ", 1)[1])
            if i == 99:
                gc.collect()
                rss0 = rss_mb()
                types0 = type_counts()
                if ARGS.python_memory:
                    tracemalloc.start(8)
                    snap0 = tracemalloc.take_snapshot()
            if ARGS.verbose and i % 250 == 249:
                print(f"  seed {seed}: {i + 1} actions, {time.perf_counter() - t0:.0f} s, "
                      f"{rss_mb():.0f} MB, longest gap {clock.longest[0]:.2f} s", flush=True)
        rec.current = "pause at the end"
        window.training.pause(wait=True)
        QApplication.processEvents()
    faulthandler.cancel_dump_traceback_later()
    gc.collect()
    rss_end = rss_mb()
    if ARGS.verbose:  # how full the run's bounded records are at the end (their share of the RSS)
        tc = window.training
        trainer = getattr(tc, "trainer", None)
        loss_points = len(trainer.history.loss) if trainer is not None else 0
        print(f"seed {seed}: records at the end: loss {loss_points} points, smoothed {len(tc.smoothed.series)}, "
              f"hidden {len(tc.hidden)} × {tc.hidden.values.shape[1:]} "
              f"({tc.hidden.values.nbytes / 2**20:.1f} MB)", flush=True)
    if ARGS.verbose and rss0 is not None:
        grown = sorted(((n - types0.get(t, 0), t) for t, n in type_counts().items()), reverse=True)
        print(f"seed {seed}: live objects that grew most after warm-up: "
              + ", ".join(f"{t} {d:+d}" for d, t in grown[:12] if d > 0), flush=True)
    if ARGS.python_memory and tracemalloc.is_tracing():
        # where the Python heap grew after the warm-up (Qt's own C++ allocations are not seen)
        stats = tracemalloc.take_snapshot().compare_to(snap0, "traceback")
        tracemalloc.stop()
        print(f"seed {seed}: Python heap growth after warm-up {sum(s.size_diff for s in stats) / 2**20:+.1f} MB; largest:")
        for s in stats[:ARGS.python_memory]:
            # tracemalloc lists frames oldest first: the allocation site is the last one
            frames = " ← ".join(f"{Path(f.filename).name}:{f.lineno}" for f in list(s.traceback)[::-1][:4])
            print(f"    {s.size_diff / 2**10:+9.0f} kB  {s.count_diff:+7d} blocks  {frames}")
    clock.stop()
    warnings.showwarning = old_show
    window.close()
    window.deleteLater()
    QApplication.processEvents()
    return {"seed": seed, "seconds": time.perf_counter() - t0, "exceptions": rec.exceptions,
            "qt_warnings": rec.warnings, "py_warnings": py_warnings, "stalls": clock.stalls,
            "longest": clock.longest, "rss0": rss0, "rss_end": rss_end, "errors_shown": errors_shown,
            "counts": {n: driver.done.count(n) for n in sorted(set(driver.done))}}


def report(r: dict) -> None:
    grow = (r["rss_end"] - r["rss0"]) if r["rss0"] is not None else float("nan")
    print(f"seed {r['seed']}: {ARGS.actions} actions in {r['seconds']:.0f} s; exceptions {len(r['exceptions'])}, "
          f"Qt warnings {len(r['qt_warnings'])}, Python warnings {len(r['py_warnings'])}, "
          f"errors shown {len(r['errors_shown'])}; longest gap {r['longest'][0]:.2f} s ({r['longest'][1]}); "
          f"stalls > {ARGS.stall:g} s: {len(r['stalls'])}; RSS {r['rss0'] or 0:.0f} → {r['rss_end']:.0f} MB "
          f"(+{grow:.1f} MB after warm-up)", flush=True)
    for gap, what in r["stalls"]:
        print(f"    stall {gap:.2f} s at {what}")
    for text in r["exceptions"][:5]:
        print("    exception " + text.rstrip().replace("\n", "\n    "))
    for text in sorted(set(r["qt_warnings"]))[:10]:
        print(f"    Qt warning {text}")
    for text in sorted(set(w.split(": ", 1)[1] for w in r["py_warnings"]))[:10]:
        print(f"    warning {text}")
    for text in sorted(set(r["errors_shown"]))[:8]:
        print(f"    shown to the person: {text[:160]}")


def main() -> None:
    from rnnviz.app.main import make_application

    make_application()
    folder = Path(tempfile.mkdtemp(prefix="rnnviz-random-use-"))
    results = []
    for seed in ARGS.seeds:
        r = run_seed(seed, folder)
        report(r)
        results.append(r)
    total = sum(len(r["exceptions"]) for r in results)
    stalls = sum(len(r["stalls"]) for r in results)
    longest = max(r["longest"][0] for r in results)
    growth = [r["rss_end"] - r["rss0"] for r in results if r["rss0"] is not None]
    print(f"\nall: {len(results)} seeds × {ARGS.actions} actions{' (wild learning rates)' if ARGS.wild else ''}: "
          f"{total} exceptions, {stalls} stalls > {ARGS.stall:g} s, longest gap {longest:.2f} s, "
          f"RSS growth per seed after warm-up {', '.join(f'{g:+.1f}' for g in growth)} MB; "
          f"process RSS {rss_mb():.0f} MB")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--actions", type=int, default=2000)
    ap.add_argument("--wild", action="store_true", help="also learning rates that make training diverge")
    ap.add_argument("--stall", type=float, default=2.0, help="report event-loop gaps longer than this (s)")
    ap.add_argument("--freeze", type=float, default=60.0, help="dump stacks and exit after this long without a tick (s)")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--python-memory", type=int, default=0, metavar="N",
                    help="trace the Python heap after the warm-up and print the N places it grew most (slower)")
    ARGS = ap.parse_args()
    main()
