"""Training benchmark: how much live plotting costs, and whether a long run grows memory.

In one process, one after the other:

1. headless: a plain engine loop, ``Trainer.step()`` on the sine task (the app's defaults:
   H=8, T=25, Adam, full batch, validation every 10 iterations), for ``--seconds``;
2. live: the same training through ``TrainingController`` (worker thread, ~30 Hz UI updates
   that push the weights into the session and redraw) with a window that holds the training
   panel, the unrolled view (when the app has one) and every plot dock, all visible
   (offscreen platform), for the same time;

and prints iterations per second of both and their ratio (target ≥ 70 %). Then it keeps the
live window training to ``--iterations`` (default 100,000) and reports the growth of the
resident set size (RSS) after a warm-up, with the growth per 10,000 iterations (target: ≤ 50 MB
over 100,000). A benchmark, not a test: nothing asserts on time.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_training.py
    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_training.py --seconds 3 --iterations 20000
"""
from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import platform
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def headless(seconds: float) -> tuple[float, int]:
    from rnnviz.engine import Trainer, init_rnn, make_task

    task = make_task("sine")
    d = task.defaults
    model = init_rnn(task.input_size, d["hidden"], task.output_size, activation=d["activation"], loss=task.loss)
    trainer = Trainer(model, task.x_train, task.y_train, optimizer=d["optimizer"], lr=d["lr"],
                      x_val=task.x_val, y_val=task.y_val)
    for _ in range(50):  # warm-up
        trainer.step()
    n0 = trainer.iteration
    t0 = time.perf_counter()
    with np.errstate(all="ignore"):
        while time.perf_counter() - t0 < seconds:
            trainer.step()
    dt = time.perf_counter() - t0
    return (trainer.iteration - n0) / dt, trainer.iteration - n0


def build_window():
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow

    from rnnviz.app.plots import make_plot_docks
    from rnnviz.app.session import NetworkConfig, Session
    from rnnviz.app.training import TrainingController
    from rnnviz.app.training_panel import TrainingPanel

    session = Session(NetworkConfig(task="sine"))
    controller = TrainingController(session)
    window = QMainWindow()
    window.resize(1920, 1200)
    central = "placeholder"
    if importlib.util.find_spec("rnnviz.app.unrolled_view") is not None:
        from rnnviz.app.unrolled_view import UnrolledView

        window.setCentralWidget(UnrolledView(session))
        central = "UnrolledView"
    else:
        window.setCentralWidget(QLabel("unrolled view"))
    panel = QDockWidget("Training", window)
    panel.setObjectName("training")
    panel.setWidget(TrainingPanel(controller))
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, panel)
    docks = make_plot_docks(session, controller, window)
    R, B = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
    for dock, area in zip(docks, (R, R, R, B, B, B)):
        window.addDockWidget(area, dock)
    window.show()
    return session, controller, window, docks, central


def pump(app, until, max_seconds: float) -> None:
    """Run the Qt event loop (as the app does: idle waits, no busy polling) until `until()`."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    t0 = time.perf_counter()

    def check() -> None:
        if until() or time.perf_counter() - t0 >= max_seconds:
            loop.quit()

    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(check)
    timer.start()
    loop.exec()
    timer.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=8.0, help="seconds each side trains for the speed ratio")
    ap.add_argument("--iterations", type=int, default=100_000, help="length of the memory run")
    ap.add_argument("--warmup", type=int, default=5_000, help="iterations before the first RSS reading")
    ap.add_argument("--ui-share", type=float, default=None,
                    help="TrainingController.ui_share: the share of a core drawing may take (default: the app's)")
    args = ap.parse_args()

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])

    rate_headless, n_headless = headless(args.seconds)
    gc.collect()

    session, controller, window, docks, central = build_window()
    visible = sum(d.widget().isVisible() for d in docks)
    if args.ui_share is not None:
        controller.ui_share = args.ui_share
    pump(app, lambda: False, 0.5)  # first paint
    controller.set_budget(None)
    # live speed: iterations counted by the worker between two snapshots, over wall time
    controller.train()
    pump(app, lambda: controller.iteration >= 50, 30)
    it0, t0 = controller.iteration, time.perf_counter()
    frames = [0]
    controller.updated.connect(lambda: frames.__setitem__(0, frames[0] + 1))
    pump(app, lambda: time.perf_counter() - t0 >= args.seconds, args.seconds + 5)
    it1, t1 = controller.iteration, time.perf_counter()
    rate_live = (it1 - it0) / (t1 - t0)
    fps = frames[0] / (t1 - t0)

    # memory over a long run, plots open and drawing
    controller.set_budget(args.iterations)
    pump(app, lambda: controller.iteration >= args.warmup, 600)
    gc.collect()
    rss0, it_rss0, tm0 = rss_mb(), controller.iteration, time.perf_counter()
    samples = [(it_rss0, rss0)]
    next_mark = it_rss0 + max(1, (args.iterations - it_rss0) // 5)
    while controller.state == "running":
        pump(app, lambda: controller.iteration >= next_mark or controller.state != "running", 3600)
        samples.append((controller.iteration, rss_mb()))
        next_mark += max(1, (args.iterations - it_rss0) // 5)
    pump(app, lambda: False, 0.3)
    gc.collect()
    rss1, it_rss1 = rss_mb(), controller.iteration
    long_time = time.perf_counter() - tm0
    growth = rss1 - rss0
    per_10k = growth / max(1, it_rss1 - it_rss0) * 10_000
    extrapolated = rss1 - rss0 if it_rss1 >= args.iterations else per_10k * 10
    state = controller.state
    controller.shutdown()
    session.shutdown()
    window.close()

    print(f"\nrnnviz training benchmark — Python {platform.python_version()}, NumPy {np.__version__}, "
          f"{os.cpu_count()} CPUs, QT_QPA_PLATFORM={os.environ.get('QT_QPA_PLATFORM')}")
    print(f"sine task, H=8, T=25, 32 training sequences, Adam, full batch; live window: training panel, "
          f"{central}, {visible}/{len(docks)} plot docks visible; UI updates {fps:.1f}/s "
          f"(controller.ui_share = {controller.ui_share:g})\n")
    print("| measure | value | target |")
    print("|---|---|---|")
    print(f"| headless `Trainer.step()` loop | {rate_headless:,.0f} it/s ({n_headless:,} it in {args.seconds:g} s) | |")
    print(f"| live: controller + every plot visible | {rate_live:,.0f} it/s ({it1 - it0:,} it in {t1 - t0:.1f} s) | |")
    print(f"| live / headless | **{rate_live / rate_headless:.0%}** | ≥ 70 % |")
    print(f"| RSS after {it_rss0:,} it (warm) | {rss0:.1f} MB | |")
    print(f"| RSS after {it_rss1:,} it | {rss1:.1f} MB | |")
    print(f"| RSS growth over {it_rss1 - it_rss0:,} it ({long_time:.0f} s, state {state}) | **{growth:+.1f} MB** "
          f"({per_10k:+.2f} MB per 10k it) | ≤ 50 MB per 100k |")
    if it_rss1 < args.iterations:
        print(f"| extrapolated to 100,000 it | {extrapolated:+.1f} MB | ≤ 50 MB |")
    print("\nRSS along the run (iteration: MB): " + ", ".join(f"{i:,}: {m:.1f}" for i, m in samples))


if __name__ == "__main__":
    main()
