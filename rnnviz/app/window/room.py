"""Who gets the room in the main window: the network is the stage.

The default arrangement leaves the unrolled view at least half of the window's area at every
size from 1280×720 up: Setup and Training share one narrow tabbed column on the left; the
inspector and, under it, the plots (tabbed, with the AR baseline) share the right column; no
dock sits under the network. Every dock stays closable and movable, and the window's saved
layout (File actions: saveState/restoreState) remembers what the person made of it.

Dock tab titles are never cut: the tab bars the main window makes for tabbed docks size their
tabs to the text (no eliding) and scroll when a column is too narrow for all of them, and the
plot docks carry short titles (the full names stay in their tooltips).
"""
from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QTabBar, QWidget

# short tab titles for the plot docks (objectName -> title); the long name becomes the tooltip
SHORT_TITLES = {
    "plot-loss": "Loss",
    "plot-hidden-time": "h over time",
    "plot-hidden-training": "h in training",
    "plot-gradients": "Gradients",
    "plot-predictions": "Predictions",
    "plot-weights": "Weights",
}

LEFT_SHARE = 0.15  # of the window's width, for Setup | Training
RIGHT_SHARE = 0.2  # of the window's width, for the inspector and the plots
INSPECTOR_SHARE = 0.55  # of the right column's height
MIN_STAGE_SHARE = 0.5  # the network's least share of the window's area, kept after a resize


def unelided_tabs(bar: QTabBar) -> None:
    """A tab bar whose tabs size to their text and scroll rather than cut it."""
    bar.setElideMode(Qt.ElideNone)
    bar.setUsesScrollButtons(True)
    bar.setExpanding(False)


class Room(QObject):
    """Arranges the main window's docks (once, at start) and keeps their tab titles whole."""

    def __init__(self, window: QMainWindow, stage: QWidget, inspector: QDockWidget, panels: Sequence[QDockWidget],
                 plots: Sequence[QDockWidget]) -> None:
        """`stage`: the network's view; `panels`: Setup, Training (the left column, tabbed);
        `plots`: the plot docks and the AR baseline (tabbed under the inspector)."""
        super().__init__(window)
        self.window = window
        self.stage = stage
        # after a resize, once the window's layout has settled: does the network keep its room?
        self._after_resize = QTimer(self)
        self._after_resize.setSingleShot(True)
        self._after_resize.setInterval(0)
        self._after_resize.timeout.connect(self.yield_room)
        self.inspector = inspector
        self.panels = list(panels)
        self.plots = list(plots)
        for dock in self.plots:
            long = dock.windowTitle()
            if dock.titleBarWidget() is None:
                # a plain label as the other docks have (docks.py): Qt's own title bar, drawn in
                # the style sheet's padding, came out cut in half under the inspector
                label = QLabel(long, dock)
                label.setObjectName("dockTitle")
                dock.setTitleBarWidget(label)
            short = SHORT_TITLES.get(dock.objectName())
            if short and long != short:
                dock.setToolTip(long)
                dock.setWindowTitle(short)
        self.arrange()
        window.installEventFilter(self)
        self.keep_tabs_whole()

    def arrange(self) -> None:
        """The default arrangement (see the module docstring)."""
        w = self.window
        if self.panels:
            w.addDockWidget(Qt.LeftDockWidgetArea, self.panels[0])
            for dock in self.panels[1:]:
                w.addDockWidget(Qt.LeftDockWidgetArea, dock)
                w.tabifyDockWidget(self.panels[0], dock)
            self.panels[0].raise_()
        if self.plots:
            w.splitDockWidget(self.inspector, self.plots[0], Qt.Vertical)
            for before, dock in zip(self.plots, self.plots[1:]):
                w.tabifyDockWidget(before, dock)

    def size_docks(self, em: float) -> None:
        """Column widths in proportion to the window (at least what the font needs, `em` being
        the width of an M), and the right column's split between the inspector and the plots."""
        w = self.window
        width, height = max(w.width(), 1), max(w.height(), 1)
        left = max(round(em * 16), round(width * LEFT_SHARE))
        right = max(round(em * 23), round(width * RIGHT_SHARE))
        if self.panels:
            w.resizeDocks([self.panels[0]], [left], Qt.Horizontal)
        w.resizeDocks([self.inspector], [right], Qt.Horizontal)
        if self.plots and self.plots[0].isVisible() and self.inspector.isVisible():
            inspector = round(height * INSPECTOR_SHARE)
            w.resizeDocks([self.inspector, self.plots[0]], [inspector, height - inspector], Qt.Vertical)

    def stage_share(self) -> float:
        """The network view's share of the window's area."""
        w = self.window
        return self.stage.width() * self.stage.height() / max(1, w.width() * w.height())

    def yield_room(self) -> None:
        """When the window got smaller and the network has less than MIN_STAGE_SHARE of it, the
        side columns go back to their proportional widths (a width the person chose stays as
        long as the network keeps its room)."""
        if self.stage.isVisible() and self.stage_share() < MIN_STAGE_SHARE:
            self.size_docks(self.window.fontMetrics().horizontalAdvance("M"))

    def keep_tabs_whole(self) -> None:
        """Every dock tab bar unelided; and a stale one hidden: when docks are tabbed one by one
        Qt can leave the bar of the first two on screen beside the group's real bar (seen over
        the transport bar in presentation mode). A dock is in one group only, so a bar whose
        titles another shown bar also holds is stale."""
        bars = [b for b in self.window.findChildren(QTabBar) if b.parent() is self.window]
        for bar in bars:
            if bar.elideMode() != Qt.ElideNone:
                unelided_tabs(bar)
        shown = [(b, {b.tabText(i) for i in range(b.count())}) for b in bars if not b.isHidden()]
        for bar, titles in shown:
            if titles and any(other is not bar and len(others) > len(titles) and titles <= others
                                 for other, others in shown):
                bar.hide()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        # the main window makes a new tab bar whenever docks are tabbed anew
        if obj is self.window and event.type() in (QEvent.ChildAdded, QEvent.LayoutRequest):
            self.keep_tabs_whole()
        elif obj is self.window and event.type() == QEvent.Resize:
            self._after_resize.start()
        return False
