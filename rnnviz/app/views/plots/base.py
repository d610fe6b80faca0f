"""What every plot shares: the widget frame, the theme, the cursor line, and when to draw.

A plot takes (session, controller), creates its pyqtgraph items once (again only when the
network's layout changes) and pushes new arrays into them. A plot that is not on screen (a
closed dock, a tab behind another: Qt keeps those "visible" but gives them no visible region)
only notes that it is stale and draws when it comes on screen again.

Signals about one change arrive in an order no plot can rely on (a new trace, or the
controller's snapshot of a new network, may come before networkChanged reaches the plot), so
every draw first checks the session's layout (sizes, cell, T) against the one its items were
built for and rebuilds them when they differ. A draw that raises does not stop training or the
other plots: the exception is reported once (sys.excepthook: the app's hook shows it) and the
plot rebuilds its items on its next update.
"""
from __future__ import annotations

import sys
import weakref
from typing import Callable

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from rnnviz.app.state.session import Session
from rnnviz.app.state.training import TrainingController
from rnnviz.app.style.theme import font_scale, theme_for


def on_screen(widget: QWidget) -> bool:
    """Whether any of the widget is on screen. A dock in a tab group behind another tab stays
    isVisible() but has an empty visible region; a closed dock is not visible."""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


class _Stagger:
    """While training streams snapshots, the plots redraw one per turn of the event loop instead
    of all in one go: Qt paints each one (its dirty region only) before the next is drawn, so a
    click or a key waits for one plot's drawing, not six (with every plot visible that was
    ~65 ms in one piece, over the 50 ms an input may wait)."""

    def __init__(self) -> None:
        self.queue: list[weakref.ref] = []
        self.timer = QTimer()
        self.timer.setSingleShot(True)
        self.timer.setInterval(0)
        self.timer.timeout.connect(self._next)

    def ask(self, panel: "PlotPanel") -> None:
        if not any(ref() is panel for ref in self.queue):
            self.queue.append(weakref.ref(panel))
        if not self.timer.isActive():
            self.timer.start()

    def _next(self) -> None:
        try:
            while self.queue:
                panel = self.queue.pop(0)()
                if panel is not None and _alive(panel):
                    panel.flush()
                    break
        finally:  # one plot failing to draw must not leave the others waiting
            if self.queue:
                self.timer.start()

    def flush_all(self) -> None:
        """Draw everything still waiting (training stopped: the plots show its last state)."""
        while self.queue:
            panel = self.queue.pop(0)()
            if panel is not None and _alive(panel):
                try:
                    panel.flush()
                except Exception:  # the others still draw; the error goes to the app's hook after
                    QTimer.singleShot(0, self.flush_all)
                    raise


_stagger: _Stagger | None = None


def _staggered() -> _Stagger:
    global _stagger
    if _stagger is None:
        _stagger = _Stagger()
    return _stagger


def _alive(obj: QObject) -> bool:
    try:
        return shiboken6.isValid(obj)
    except RuntimeError:
        return False


def layout_of(session: Session) -> tuple | None:
    """What a plot's items depend on: the network's sizes, cell, architecture, loss and
    activation, and the trace's shape (T). None without a network."""
    m, tr = session.model, session.trace
    if m is None:
        return None
    return (m.input_size, m.hidden_size, m.output_size, m.cell, m.architecture, m.loss,
            m.activation, None if tr is None else tr.h.shape)


class PlotPanel(QWidget):
    """A plot: optional controls above a pyqtgraph GraphicsLayoutWidget."""

    title = ""

    def __init__(self, session: Session, controller: TrainingController | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.controller = controller
        self.theme = theme_for(session.theme, session.presentation)
        self._stale = False
        self._built_for: tuple | None = None  # layout_of(session) when the items were last built
        self._failure: str | None = None  # the last drawing error reported (each is shown once)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        self.controls = QHBoxLayout()
        self.controls.setContentsMargins(4, 0, 4, 0)
        layout.addLayout(self.controls)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.ci.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.canvas, 1)
        self.setMinimumSize(280, 200)
        self._labels: dict[pg.PlotItem, tuple[str, str, str]] = {}  # each plot's (title, x label, y label)
        self._overlays: list[pg.TextItem] = []
        session.networkChanged.connect(self._on_network)
        session.traceChanged.connect(self._on_trace)
        session.positionChanged.connect(self._on_position)
        session.appearanceChanged.connect(self._on_appearance)
        self._waiting: set[str] = set()  # "trace", "history": staggered draws not done yet
        if controller is not None:
            controller.updated.connect(self._on_history)
            controller.stateChanged.connect(self._on_training_state)

    # building -----------------------------------------------------------------------------------
    def add_plot(self, row: int, col: int, title: str = "", xlabel: str = "", ylabel: str = "", **kw) -> pg.PlotItem:
        p = self.canvas.addPlot(row=row, col=col, **kw)
        p.setMenuEnabled(False)
        p.hideButtons()
        for name in ("left", "bottom"):
            p.getAxis(name).enableAutoSIPrefix(False)
        self._labels[p] = (title, xlabel, ylabel)
        self._style(p)
        return p

    def clear_plots(self) -> None:
        """Delete every plot and item of the canvas (a rebuild that lays the plots out anew)."""
        self.canvas.clear()
        self._labels.clear()

    def overlay_text(self, plot: pg.PlotItem) -> pg.TextItem:
        """A label fixed to the top-left corner of a plot's view (pixels, not data): changing
        its text repaints only itself."""
        item = pg.TextItem(anchor=(0, 0))
        item.setParentItem(plot.getViewBox())
        item.setPos(4, 2)
        item.setZValue(40)
        self._overlays.append(item)
        self._style_overlay(item)
        return item

    def _style_overlay(self, item: pg.TextItem) -> None:
        item.setColor(self.theme.text)
        item.fill = pg.mkBrush(pg.mkColor(self.theme.background))
        font = QFont()
        font.setPointSizeF(8.5 * font_scale(self.session.presentation))
        item.setFont(font)

    def cursor_line(self, plot: pg.PlotItem) -> pg.InfiniteLine:
        line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(self.theme.highlight, width=2))
        line.setZValue(20)
        plot.addItem(line, ignoreBounds=True)
        return line

    def set_title(self, plot: pg.PlotItem, title: str) -> None:
        """Change a plot's title. A new title text re-lays out the whole canvas (every axis
        redraws), so it is skipped when unchanged; numbers that change every frame go in an
        `overlay_text` instead."""
        if self._labels[plot][0] == title and plot.titleLabel.isVisible():
            return
        self._labels[plot] = (title, *self._labels[plot][1:])
        scale = font_scale(self.session.presentation)
        plot.setTitle(title, color=self.theme.text, size=f"{int(10 * scale)}pt")

    def _style(self, p: pg.PlotItem) -> None:
        t = self.theme
        scale = font_scale(self.session.presentation)
        font = QFont()
        font.setPointSizeF(8.5 * scale)
        for name in ("left", "bottom"):
            ax = p.getAxis(name)
            ax.setPen(pg.mkPen(t.muted))
            ax.setTextPen(pg.mkPen(t.text))
            ax.setTickFont(font)
        title, xlabel, ylabel = self._labels[p]
        style = {"color": t.text, "font-size": f"{int(9 * scale)}pt"}
        if xlabel:
            p.setLabel("bottom", xlabel, **style)
        if ylabel:
            p.setLabel("left", ylabel, **style)
        if title:
            p.setTitle(title, color=t.text, size=f"{int(10 * scale)}pt")

    # updating -----------------------------------------------------------------------------------
    def is_on_screen(self) -> bool:
        """Whether drawing now would show anything (see `on_screen`)."""
        return on_screen(self)

    def refresh(self) -> None:
        if not self.is_on_screen():
            self._stale = True
            return
        self._stale = False
        self._waiting.clear()
        self.draw_safely(self.draw)

    def draw_safely(self, draw: Callable[[], None]) -> None:
        """Run one of the plot's drawing methods: first rebuild the items if the network's
        layout is not the one they were built for; an exception is reported once (until a draw
        succeeds again) and makes the next update rebuild, so the plot recovers by itself and
        whoever emitted the signal (training delivering a snapshot) carries on."""
        try:
            if layout_of(self.session) != self._built_for:
                self._rebuild_items()
            draw()
        except Exception:  # noqa: BLE001 - a plot must never take the app or training down
            self._built_for = None
            etype, value, tb = sys.exc_info()
            what = f"{type(self).__name__}: {etype.__name__}: {value}"
            if what != self._failure:
                self._failure = what
                sys.excepthook(etype, value, tb)
        else:
            if draw != self.move_cursor:  # a full draw went through: a new failure is shown again
                self._failure = None

    def _rebuild_items(self) -> None:
        self._built_for = layout_of(self.session)
        self.rebuild()

    def draw(self) -> None:
        self.draw_trace()
        self.draw_history()

    def draw_trace(self) -> None:
        """New values in session.trace (same layout)."""

    def draw_history(self) -> None:
        """A new training snapshot in controller.snapshot."""

    def _on_trace(self) -> None:
        self._draw_soon("trace")

    def _on_history(self) -> None:
        self._draw_soon("history")

    def _draw_soon(self, what: str) -> None:
        """Draw now, or, while training streams snapshots, in this plot's turn (see _Stagger)."""
        if not self.is_on_screen():
            self._stale = True
        elif self.controller is not None and self.controller.running:
            self._waiting.add(what)
            _staggered().ask(self)
        else:
            self._waiting.discard(what)
            self.draw_safely(self.draw_trace if what == "trace" else self.draw_history)

    def flush(self) -> None:
        """The staggered draws this plot is waiting for."""
        waiting, self._waiting = self._waiting, set()
        if not waiting:
            return
        if not self.is_on_screen():
            self._stale = True
            return
        if "trace" in waiting:
            self.draw_safely(self.draw_trace)
        if "history" in waiting:
            self.draw_safely(self.draw_history)

    def _on_training_state(self, state: str) -> None:
        # Training stopped: draw what still waits now, so the plots show the run's last state
        # when the controller says it stopped.  Unless a network change stopped it: then the
        # plots are about to rebuild for the new network (see _on_network), and drawing the old
        # run into them first would be wasted (or wrong).
        if state == "running":
            return
        if self.controller is not None and self.controller.changing_network:
            self._waiting.clear()
        else:
            _staggered().flush_all()

    def rebuild(self) -> None:
        """The network's layout changed (sizes, loss kind): adjust items, then draw."""

    def move_cursor(self) -> None:
        """The animation cursor moved (session.frame.active)."""

    def catch_up(self) -> None:
        """Draw what was skipped while off screen (if anything was and it is on screen now)."""
        if self._stale and self.is_on_screen():
            self._stale = False
            self.draw_safely(self.draw)
            self.draw_safely(self.move_cursor)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.catch_up()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        # a tab brought to the front is not "shown" again (it never was hidden): its first paint
        # says it is on screen. Catch up just after, outside the paint.
        super().paintEvent(event)
        if self._stale:
            QTimer.singleShot(0, self.catch_up)

    def _on_network(self) -> None:
        self._waiting.clear()  # what waited belongs to the old network; the redraw below is new
        self.draw_safely(self._rebuild_items)  # always: a new network of the same layout resets ranges too
        self.refresh()
        self.draw_safely(self.move_cursor)

    def _on_position(self, _position: int) -> None:
        if self.is_on_screen():
            self.draw_safely(self.move_cursor)
        else:
            self._stale = True

    def _on_appearance(self) -> None:
        self.theme = theme_for(self.session.theme, self.session.presentation)
        self.canvas.setBackground(QColor(self.theme.background))
        for p in self._labels:
            self._style(p)
        for item in self._overlays:
            self._style_overlay(item)
        self.apply_theme()
        self.refresh()

    def apply_theme(self) -> None:
        """Recolour items that carry theme colours (plots override)."""

    def finish_init(self) -> None:
        """Call at the end of a subclass's __init__: colours, items, first draw."""
        self.canvas.setBackground(QColor(self.theme.background))
        self._rebuild_items()
        self.apply_theme()
        self.draw_safely(self.draw)
        self.draw_safely(self.move_cursor)
