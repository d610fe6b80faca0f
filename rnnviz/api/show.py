"""rnnviz.show(): the app, opened from a script or a notebook on exactly the caller's network and data.

In IPython / Jupyter whose Qt event loop integration is on (`%gui qt`), show() returns at once
and the window stays live beside the notebook. Elsewhere it blocks until the window is closed,
unless `block=False`: then the caller runs Qt's event loop (`QApplication.instance().exec()`),
or the window stays frozen. Either way it returns a `Shown` handle.
"""
from __future__ import annotations

import os
import sys

from rnnviz.api.network import prepare

# Windows opened with block=False or beside a notebook: held here so that a handle the caller
# drops does not take its window with it (pruned of closed windows on every show()).
OPEN: list["Shown"] = []


class Shown:
    """The window rnnviz.show() opened. `trace` is the engine trace the window shows, always
    the current one (after training, another watched sequence ...): the watched sequence
    only, B = 1 (rnnviz.trace() gives every sequence). `report`: what was found and guessed."""

    def __init__(self, session, window, report: list[str]) -> None:
        self.session = session  # rnnviz.app.state.session.Session
        self.window = window  # rnnviz.app.main_window.MainWindow
        self.report = list(report)

    @property
    def trace(self):
        """The engine Trace the window shows now (rnnviz.engine.Trace)."""
        return self.session.trace

    @property
    def model(self):
        """The rnnviz model the window shows now (a copy of the caller's: training it there
        leaves the caller's module or model as it was)."""
        return self.session.model

    def close(self) -> None:
        """Close the window (as its close button does: training and autosave stop)."""
        self.window.close()
        if self in OPEN:
            OPEN.remove(self)

    def __repr__(self) -> str:
        m = self.session.model
        open_ = "open" if self.window.isVisible() else "closed"
        return (f"<rnnviz window ({open_}): {self.session.source_label}, {m.cell} I={m.input_size} H={m.hidden_size} "
                f"O={m.output_size}, {m.architecture}, {m.loss}>")


def qt_loop_in_ipython() -> bool:
    """Whether the caller runs in IPython / Jupyter with its Qt event loop integration active
    (`%gui qt`): the loop is already running, so show() must not run one of its own."""
    ipython = sys.modules.get("IPython")  # never imported here: only looked at if the caller has it
    get = getattr(ipython, "get_ipython", None)
    shell = get() if callable(get) else None
    loop = getattr(shell, "active_eventloop", None)
    return isinstance(loop, str) and loop.startswith("qt")


def show(model: object, inputs: object, targets: object = None, *, readout: object = None,
         architecture: str | None = None, loss: str | None = None, nonlinearity: str | None = None,
         batch_first: bool | None = None, block: bool | None = None, quiet: bool = False) -> Shown:
    """Open the app on `model` and `inputs` (and `targets`): see rnnviz.api.network.prepare for
    what each may be. `block`: None = block unless IPython's Qt loop runs (see the module doc).
    What was found and each guess taken are printed on stderr unless `quiet`, and shown in the
    window's status bar. TypeError / ValueError with one line, before any window opens, when the
    model or the data do not fit; RuntimeError when there is no display to open a window on.
    The handle's `trace`, `session` and `window`: see Shown."""
    if block is not None and not isinstance(block, bool):
        raise TypeError(f"block must be True, False or None, got {block!r}")
    try:
        prepared = prepare(model, inputs, targets, readout=readout, architecture=architecture, loss=loss,
                           nonlinearity=nonlinearity, batch_first=batch_first)
    except (TypeError, ValueError) as e:
        raise e.with_traceback(None) from None  # the message is the whole story: no NumPy frames under it
    live = qt_loop_in_ipython()
    block = not live if block is None else block
    if no_display():
        raise RuntimeError("rnnviz.show() needs a display, and this Linux session has none (no DISPLAY or "
                           "WAYLAND_DISPLAY): use rnnviz.trace() for the numbers, or set QT_QPA_PLATFORM=offscreen "
                           "for a window nobody sees")

    from rnnviz.app.main import ExceptionHook, make_application
    from rnnviz.app.main_window import MainWindow
    from rnnviz.app.state.network_config import NetworkConfig
    from rnnviz.app.state.session import Session

    try:
        make_application()
    except SystemExit as e:  # Qt's X11 plugin would not load: the message names the missing libraries
        raise RuntimeError(str(e)) from None
    session = Session(NetworkConfig())
    errors: list[str] = []
    said: list[str] = []  # the session's "Loaded …" line, for the window's status bar
    session.error.connect(errors.append)
    session.message.connect(said.append)
    # before the window exists: a network that does not fit raises here, and no window opens
    ok = session.use_model(prepared.model, prepared.x, prepared.y, label=prepared.label, report=prepared.report)
    session.error.disconnect(errors.append)
    session.message.disconnect(said.append)
    if not ok:
        session.shutdown()
        raise ValueError(errors[-1] if errors else f"rnnviz could not show {prepared.label}")
    window = MainWindow(session)
    window.show()
    window.files.start()  # its layout as last left, and autosave to a recovery file of its own
    # unlike run_app, no offer to restore an earlier crashed session: the caller asked for this network
    if said:
        window.show_message(said[-1])
    if not quiet:
        for line in prepared.report:
            print(f"rnnviz: {line}", file=sys.stderr)
    shown = Shown(session, window, prepared.report)
    OPEN[:] = [s for s in OPEN if s.window.isVisible()]
    if block:
        hook = ExceptionHook(window).install()
        try:
            run_until_closed(window)
        finally:
            hook.uninstall()
    else:
        OPEN.append(shown)
        window.raise_()
    return shown


def no_display() -> bool:
    """Linux without a display to show a window on (and no Qt platform chosen): make_application
    would pick the offscreen platform, and a blocking show() would wait on a window nobody sees."""
    env = os.environ
    return (sys.platform.startswith("linux") and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY")
            and not env.get("QT_QPA_PLATFORM"))


def run_until_closed(window) -> None:
    """Run Qt's event loop until `window` closes (other windows may stay open)."""
    from PySide6.QtCore import QEvent, QEventLoop, QObject

    loop = QEventLoop()

    class _Closed(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 (Qt's name)
            if obj is window and event.type() == QEvent.Close:
                loop.quit()
            return False

    watcher = _Closed()
    window.installEventFilter(watcher)
    try:
        if window.isVisible():
            loop.exec()
    finally:
        window.removeEventFilter(watcher)
