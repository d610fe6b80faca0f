"""Starting the app: the QApplication, the session on the chosen task, the main window, and a
global exception hook so a bug in a slot becomes a message instead of a dead window.
"""
from __future__ import annotations

import os
import sys
import time
import traceback
from typing import Sequence

_T0 = time.perf_counter()

EXIT_AFTER_FIRST_PAINT = "RNNVIZ_EXIT_AFTER_FIRST_PAINT"


def make_application(argv: Sequence[str] | None = None):
    """The QApplication (reused if one exists), with pyqtgraph set up for speed."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") and sys.platform.startswith("linux"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    from PySide6.QtWidgets import QApplication

    import pyqtgraph as pg

    app = QApplication.instance()
    if app is None:
        from rnnviz.app.qt_platform import platform_problem

        problem = platform_problem()
        if problem:  # Qt would abort with a message naming its plugin, not the fix
            raise SystemExit(problem)
        app = QApplication(list(argv) if argv is not None else [sys.argv[0]])
        app.setApplicationName("rnnviz")
        app.setOrganizationName("rnnviz")
        app.setStyle("Fusion")  # the same look everywhere, and palettes are honoured
    pg.setConfigOptions(antialias=False)
    return app


class ExceptionHook:
    """sys.excepthook for the running app: prints the traceback, tells the person in the status
    bar and a non-blocking dialog, and lets the event loop carry on."""

    def __init__(self, window=None) -> None:
        self.window = window
        self.previous = sys.excepthook
        self.last: str | None = None
        self._busy = False

    def install(self) -> "ExceptionHook":
        sys.excepthook = self
        return self

    def uninstall(self) -> None:
        if sys.excepthook is self:
            sys.excepthook = self.previous

    def __call__(self, etype, value, tb) -> None:
        if issubclass(etype, KeyboardInterrupt):
            self.previous(etype, value, tb)
            return
        text = "".join(traceback.format_exception(etype, value, tb))
        sys.stderr.write(text)
        self.last = f"{etype.__name__}: {value}"
        if self._busy or self.window is None:
            return
        self._busy = True
        try:
            self.window.show_error(f"Unexpected error (the app keeps running): {self.last}")
        except Exception:  # noqa: BLE001 - never let the hook itself fail
            pass
        finally:
            self._busy = False


def run_app(task: str = "sine", argv: Sequence[str] | None = None, *, model: object = None, inputs: object = None,
            targets: object = None, label: str = "", report: list[str] | None = None) -> int:
    """The app on a built-in task, or (`rnnviz show`) on `model` with inputs (T, B, I) and targets
    already checked to fit it (Session.use_model)."""
    app = make_application(argv)
    from rnnviz.app.main_window import MainWindow
    from rnnviz.app.state.network_config import NetworkConfig
    from rnnviz.app.state.session import Session

    session = Session(NetworkConfig(task=task))
    window = MainWindow(session)
    if model is not None and not session.use_model(model, inputs, targets, label=label, report=report):
        session.shutdown()
        return 2
    hook = ExceptionHook(window).install()
    if os.environ.get(EXIT_AFTER_FIRST_PAINT):
        _quit_after_first_paint(app, window)
    window.show()
    window.files.start()  # restore the window's layout, start autosaving
    from PySide6.QtCore import QTimer

    if not os.environ.get(EXIT_AFTER_FIRST_PAINT):  # a benchmark run must never wait on a question
        QTimer.singleShot(0, window.files.offer_recovery)  # after an unclean exit: offer the autosave
    try:
        return app.exec()
    finally:
        hook.uninstall()
        session.shutdown()


def _quit_after_first_paint(app, window) -> None:
    """For bench/bench_startup.py: print the wall-clock time of the first paint, then quit."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class _FirstPaint(QObject):
        done = False

        def eventFilter(self, obj, event):  # noqa: N802 (Qt's name)
            if event.type() == QEvent.Paint and not self.done:
                self.done = True
                QTimer.singleShot(0, self._report)
            return False

        def _report(self) -> None:
            print(f"first-paint {time.time():.6f} {time.perf_counter() - _T0:.6f}", flush=True)
            app.quit()

    f = _FirstPaint(window)
    window.installEventFilter(f)
