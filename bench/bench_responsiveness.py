"""Responsiveness benchmark: how late the UI thread's timers come while the training worker runs,
and how long shutting a running training down takes.

The tests check the behaviour (the UI thread keeps serving its timers while training runs, and
shutting down joins the worker); this script measures the times, which depend on the machine
and so are not asserted anywhere.

With a ``TrainingController`` on the default session (the sine task, no window), in one process:

1. **timer lateness**: a 10 ms ``QTimer`` ticks while the controller trains without a budget,
   for ``--seconds``; it prints the gaps between ticks (median, 99th percentile, longest; the
   target: the longest under 500 ms; it is typically 10-20 ms);
2. **shutdown**: ``--rounds`` times, training is started, left to run ``--warm`` iterations and
   shut down; it prints how long ``shutdown()`` took (median and longest; the target: well
   under a second, the time of one iteration plus the join).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_responsiveness.py
    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_responsiveness.py --seconds 10 --rounds 20
"""
from __future__ import annotations

import argparse
import time

import offscreen_home  # noqa: E402,F401 (first: Qt offscreen, settings in a temporary folder)

import numpy as np  # noqa: E402
from PySide6.QtCore import QCoreApplication, QElapsedTimer, QEventLoop, QTimer  # noqa: E402

from rnnviz.app.state.network_config import NetworkConfig  # noqa: E402
from rnnviz.app.state.session import Session  # noqa: E402
from rnnviz.app.state.training import TrainingController  # noqa: E402


def spin(app: QCoreApplication, until, limit_s: float = 60.0) -> None:
    """Run the event loop until until() holds (or limit_s passes)."""
    clock = time.perf_counter()
    while not until() and time.perf_counter() - clock < limit_s:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)


def timer_gaps(app: QCoreApplication, controller: TrainingController, seconds: float) -> np.ndarray:
    """The gaps (ms) between a 10 ms timer's ticks while the controller trains."""
    gaps: list[int] = []
    clock = QElapsedTimer()
    ping = QTimer()
    ping.setInterval(10)
    ping.timeout.connect(lambda: gaps.append(clock.restart()))
    controller.set_budget(None)
    controller.train()
    clock.start()
    ping.start()
    end = time.perf_counter() + seconds
    spin(app, lambda: time.perf_counter() >= end, seconds + 5)
    ping.stop()
    controller.pause(wait=True)
    return np.array(gaps[1:], dtype=float)  # the first gap includes the start-up


def shutdown_times(app: QCoreApplication, rounds: int, warm: int) -> np.ndarray:
    """Seconds each shutdown() of a running training took, one fresh controller per round."""
    times = []
    for _ in range(rounds):
        session = Session(NetworkConfig(task="sine"))
        controller = TrainingController(session)
        controller.set_budget(None)
        controller.train()
        spin(app, lambda: controller.iteration >= warm)
        t0 = time.perf_counter()
        controller.shutdown()
        times.append(time.perf_counter() - t0)
        session.shutdown()
    return np.array(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="how long to watch the timer (default 5)")
    ap.add_argument("--rounds", type=int, default=10, help="how many shutdowns to time (default 10)")
    ap.add_argument("--warm", type=int, default=3, help="iterations before each shutdown (default 3)")
    args = ap.parse_args()

    app = QCoreApplication.instance() or QCoreApplication([])
    session = Session(NetworkConfig(task="sine"))
    controller = TrainingController(session)
    gaps = timer_gaps(app, controller, args.seconds)
    iterations = controller.iteration
    controller.shutdown()
    session.shutdown()
    print(f"timer lateness while training ({args.seconds:g} s, {iterations:,} iterations, {len(gaps)} ticks of 10 ms):")
    print(f"  gap median {np.median(gaps):.0f} ms, 99th percentile {np.percentile(gaps, 99):.0f} ms, "
          f"longest {gaps.max():.0f} ms (target: longest < 500 ms)")

    times = shutdown_times(app, args.rounds, args.warm)
    print(f"shutdown while training ({args.rounds} rounds):")
    print(f"  median {np.median(times) * 1e3:.1f} ms, longest {times.max() * 1e3:.1f} ms (target: < 1 s)")


if __name__ == "__main__":
    main()
