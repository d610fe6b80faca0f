"""Training benchmark: how much live plotting costs, how live the window looks, and whether a
long run grows memory.

In one process, one after the other:

1. headless: a plain engine loop, ``Trainer.step()`` on the sine task (the app's defaults:
   H=8, T=25, Adam, full batch, validation every 10 iterations), for ``--seconds``, measured
   again right before each live configuration (the window's worker paused), so a ratio
   compares two runs under the same machine load;
2. live, default window: the app's ``MainWindow`` (1920×1200, offscreen) training through its
   ``TrainingController`` (worker thread; the UI pulls the newest snapshot, pushes the weights
   into the session and redraws), with the window's own layout: the plot docks are tabbed, so
   one plot is on screen at a time, for ``--seconds``;
3. live, every plot visible: the same window with the six plot docks split out of their tab
   group (three right, three at the bottom), all on screen at once, for ``--seconds``;

For both live configurations it prints iterations per second and their ratio to headless
(target ≥ 70 %), UI updates per second (target ≥ 15), the longest the event loop was busy
(how long an input could wait: a 5 ms timer's lateness; issue 4: ≤ 50 ms; the plots redraw one
per event-loop turn while training streams), and the main thread's CPU time per UI
update broken down by component (each component's own time, its callees' excluded; "paint"
is the time in that widget's paintEvent; "other" is the rest of the main thread: Qt painting
plain widgets, layouts, the event loop). Then it keeps the all-visible window training to
``--iterations`` (default 100,000) and reports the growth of the resident set size (RSS) after
a warm-up (target: ≤ 50 MB over 100,000). A benchmark, not a test: nothing asserts on time.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_training.py
    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_training.py --seconds 3 --iterations 20000
"""
from __future__ import annotations

import argparse
import gc
import inspect
import os
import platform
import sys
import time
from collections import defaultdict

import offscreen_home  # noqa: E402,F401 (first: Qt offscreen, settings in a temporary folder)

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


# where the main thread's time goes -----------------------------------------------------------------
class Meter:
    """Main-thread CPU time per component: methods of the app's classes wrapped (before the
    window is built, so signal connections reach the wrappers). Exclusive: a wrapped call's
    time excludes the wrapped calls it makes (e.g. session.recompute excludes the views'
    slots that its signal runs)."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self._stack: list[float] = []

    def reset(self) -> None:
        self.totals.clear()

    def wrap(self, cls: type, name: str, label) -> None:
        f = cls.__dict__.get(name) or getattr(cls, name, None)
        if f is None or getattr(f, "_bench_wrapped", False):
            return
        try:
            params = list(inspect.signature(f).parameters.values())[1:]
            varargs = any(p.kind == p.VAR_POSITIONAL for p in params)
            n = None if varargs else sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
        except (TypeError, ValueError):  # a C++ method: pass what comes
            n = None
        meter = self

        def wrapper(obj, *args):
            t0 = time.thread_time()
            meter._stack.append(0.0)
            try:
                return f(obj, *(args if n is None else args[:n]))
            finally:
                dt = time.thread_time() - t0
                inner = meter._stack.pop()
                meter.totals[label(obj) if callable(label) else label] += dt - inner
                if meter._stack:
                    meter._stack[-1] += dt

        wrapper._bench_wrapped = True
        wrapper.__name__ = name
        setattr(cls, name, wrapper)

    def install(self) -> None:
        import pyqtgraph as pg
        from PySide6.QtWidgets import QGraphicsView

        from rnnviz.app.panels import baseline as baseline_panel
        from rnnviz.app.views.inspector import widget as inspector
        from rnnviz.app.panels import lessons as lessons_panel
        from rnnviz.app import main_window
        from rnnviz.app.state import session
        from rnnviz.app.panels import setup as setup_panel
        from rnnviz.app.state import training
        from rnnviz.app.panels import training as training_panel
        from rnnviz.app.views.unrolled import view as unrolled_view
        from rnnviz.app.views.plots import PLOTS

        self.wrap(session.Session, "_watched_trace", "trace recompute (engine run)")
        for name in ("_apply", "_record_hidden", "_emit_progress"):
            self.wrap(training.TrainingController, name, "controller (snapshot, records)")
        panels = [(f"plot {key}", cls) for key, cls in PLOTS] + [("AR baseline panel", baseline_panel.BaselinePanel)]
        for label, cls in panels:
            for name in ("_on_trace", "_on_history", "_on_position", "draw", "draw_trace", "draw_history",
                         "move_cursor", "refresh"):
                if hasattr(cls, name):
                    self.wrap(cls, name, label)
        self.wrap(inspector.Inspector, "refresh", "inspector")
        for name in ("_on_trace", "_on_position", "_on_highlight"):
            self.wrap(unrolled_view.UnrolledView, name, "unrolled view: update")
        if "paintEvent" not in unrolled_view.UnrolledView.__dict__:
            unrolled_view.UnrolledView.paintEvent = lambda self, ev: QGraphicsView.paintEvent(self, ev)
        self.wrap(unrolled_view.UnrolledView, "paintEvent", "unrolled view: paint")
        for name in ("_network_changed", "_training_progressed"):
            self.wrap(main_window.MainWindow, name, "main window (title, status bar)")
        self.wrap(training_panel.TrainingPanel, "_show_progress", "training panel")
        self.wrap(lessons_panel.LessonsPanel, "update_check", "lessons panel")
        self.wrap(setup_panel.SetupPanel, "_refresh_summary", "setup panel")
        self.wrap(pg.GraphicsView, "paintEvent", _paint_label)


def _paint_label(view) -> str:
    """Which panel a pyqtgraph canvas belongs to."""
    from rnnviz.app.panels.baseline import BaselinePanel
    from rnnviz.app.views.inspector.widget import Inspector
    from rnnviz.app.views.plots import PLOTS

    keys = {cls: key for key, cls in PLOTS}
    w = view.parentWidget()
    while w is not None:
        if type(w) in keys:
            return f"plot {keys[type(w)]}: paint"
        if isinstance(w, BaselinePanel):
            return "AR baseline panel: paint"
        if isinstance(w, Inspector):
            return "inspector: paint"
        w = w.parentWidget()
    return "other canvas: paint"


# the window ----------------------------------------------------------------------------------------
def build_window():
    from rnnviz.app.main_window import MainWindow
    from rnnviz.app.state.network_config import NetworkConfig
    from rnnviz.app.state.session import Session

    session = Session(NetworkConfig(task="sine"))
    window = MainWindow(session, allow_fullscreen=False)
    window.error_dialogs = False
    window.resize(1920, 1200)
    window.show()
    return session, window


def spread_plots(window) -> None:
    """Every plot dock out of the tab group and on screen: three right, three at the bottom."""
    from PySide6.QtCore import Qt

    R, B = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
    docks = window.plot_docks
    for dock in docks:
        window.removeDockWidget(dock)
    for dock, area in zip(docks, (R, R, R, B, B, B)):
        window.addDockWidget(area, dock)
        dock.show()
    window.resizeDocks(docks[3:], [300] * 3, Qt.Orientation.Vertical)


def on_screen(widget) -> bool:
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


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


def measure_live(app, controller, meter: Meter, seconds: float) -> dict:
    """Iterations per second, UI updates per second and main-thread ms per update, while the
    controller trains (already running)."""
    frames = [0]

    def count() -> None:
        frames[0] += 1

    from PySide6.QtCore import QTimer

    controller.updated.connect(count)
    pump(app, lambda: False, 1.0)  # settle: the frame pacing adapts to the new layout
    frames[0] = 0
    meter.reset()
    # how long an input would wait: a 5 ms timer's lateness (the event loop was busy meanwhile)
    late, last = [], [time.perf_counter()]

    def ping() -> None:
        now = time.perf_counter()
        late.append(max(0.0, (now - last[0]) * 1000 - 5))
        last[0] = now

    pinger = QTimer()
    pinger.setInterval(5)
    pinger.timeout.connect(ping)
    pinger.start()
    it0, t0, cpu0 = controller.iteration, time.perf_counter(), time.thread_time()
    pump(app, lambda: time.perf_counter() - t0 >= seconds, seconds + 5)
    it1, t1, cpu1 = controller.iteration, time.perf_counter(), time.thread_time()
    pinger.stop()
    controller.updated.disconnect(count)
    n = max(1, frames[0])
    parts = {k: v * 1000 / n for k, v in meter.totals.items()}
    total = (cpu1 - cpu0) * 1000 / n
    parts["other (Qt widgets, layout, event loop)"] = total - sum(parts.values())
    late.sort()
    return dict(rate=(it1 - it0) / (t1 - t0), its=it1 - it0, wall=t1 - t0, fps=frames[0] / (t1 - t0),
                ms=total, parts=parts, gap=controller.worker.gap, late_max=late[-1] if late else 0.0,
                late_p99=late[int(0.99 * (len(late) - 1))] if late else 0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=8.0, help="seconds each configuration trains for the speed ratio")
    ap.add_argument("--iterations", type=int, default=100_000, help="length of the memory run")
    ap.add_argument("--warmup", type=int, default=5_000, help="iterations before the first RSS reading")
    ap.add_argument("--ui-share", type=float, default=None,
                    help="TrainingWorker.ui_share: the share of a core drawing may take (default: the app's)")
    ap.add_argument("--no-breakdown", action="store_true", help="do not wrap methods to time components")
    args = ap.parse_args()

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    meter = Meter()
    if not args.no_breakdown:
        meter.install()

    headless(1.0)  # warm-up (imports, caches)
    gc.collect()

    session, window = build_window()
    controller = window.training
    if args.ui_share is not None:
        controller.worker.ui_share = args.ui_share
    pump(app, lambda: False, 0.5)  # first paint
    controller.set_budget(None)
    controller.train()
    pump(app, lambda: controller.iteration >= 50, 30)
    results = {}
    shown = {}
    for config in ("default window (plots tabbed)", "every plot visible"):
        if config == "every plot visible":
            spread_plots(window)
            pump(app, lambda: False, 0.3)
        shown[config] = [d.objectName()[5:] for d in window.plot_docks if on_screen(d.widget())]
        # headless right before live, worker paused: the two see the same machine load
        controller.pause()
        gc.collect()
        rate, n = headless(args.seconds)
        controller.train()
        pump(app, lambda: False, 0.5)
        results[config] = measure_live(app, controller, meter, args.seconds)
        results[config].update(headless=rate, headless_its=n)

    # memory over a long run, every plot on screen and drawing
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
    window.close()

    print(f"\nrnnviz training benchmark — Python {platform.python_version()}, NumPy {np.__version__}, "
          f"{os.cpu_count()} CPUs, QT_QPA_PLATFORM={os.environ.get('QT_QPA_PLATFORM')}")
    print(f"sine task, H=8, T=25, 32 training sequences, Adam, full batch; the app's MainWindow at 1920×1200 "
          f"(controller.worker.ui_share = {controller.worker.ui_share:g})")
    for config, plots in shown.items():
        print(f"- {config}: plots on screen: {', '.join(plots) or 'none'}")
    names = list(results)
    print("\n| measure | " + " | ".join(names) + " | target |")
    print("|---|" + "---|" * len(names) + "---|")
    print("| headless `Trainer.step()` loop (just before) | "
          + " | ".join(f"{r['headless']:,.0f} it/s ({r['headless_its']:,} it in {args.seconds:g} s)" for r in results.values())
          + " | |")
    print("| live it/s | " + " | ".join(f"{r['rate']:,.0f} ({r['its']:,} it in {r['wall']:.1f} s)" for r in results.values())
          + " | |")
    print("| live / headless | " + " | ".join(f"**{r['rate'] / r['headless']:.0%}**" for r in results.values())
          + " | ≥ 70 % |")
    print("| UI updates per second | " + " | ".join(f"**{r['fps']:.1f}**" for r in results.values()) + " | ≥ 15 |")
    print("| longest wait of the event loop (an input's worst delay) | "
          + " | ".join(f"**{r['late_max']:.0f} ms** (99 %: {r['late_p99']:.0f} ms)" for r in results.values())
          + " | ≤ 50 ms |")
    print("| main-thread CPU per update | " + " | ".join(f"**{r['ms']:.1f} ms**" for r in results.values()) + " | |")
    if not args.no_breakdown:
        keys = sorted({k for r in results.values() for k in r["parts"]},
                      key=lambda k: (k.startswith("other"), -max(r["parts"].get(k, 0) for r in results.values())))
        for k in keys:
            print(f"| &nbsp; {k} | " + " | ".join(f"{r['parts'].get(k, 0.0):.2f} ms" for r in results.values()) + " | |")
    print(f"| RSS after {it_rss0:,} it (warm, every plot visible) | {rss0:.1f} MB |" + " |" * len(names))
    print(f"| RSS after {it_rss1:,} it | {rss1:.1f} MB |" + " |" * len(names))
    print(f"| RSS growth over {it_rss1 - it_rss0:,} it ({long_time:.0f} s, state {state}) | **{growth:+.1f} MB** "
          f"({per_10k:+.2f} MB per 10k it) |" + " |" * (len(names) - 1) + " ≤ 50 MB per 100k |")
    if it_rss1 < args.iterations:
        print(f"| extrapolated to 100,000 it | {extrapolated:+.1f} MB |" + " |" * (len(names) - 1) + " ≤ 50 MB |")
    print("\nRSS along the run (iteration: MB): " + ", ".join(f"{i:,}: {m:.1f}" for i, m in samples))


if __name__ == "__main__":
    main()
