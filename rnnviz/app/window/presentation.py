"""Presentation mode and hidden controls: what they do to the main window.

On a projector (presentation mode) the network and the inspector, and a lesson if one is open,
get the room: the other docks step aside and come back as they were afterwards; with full
screen allowed the window goes full screen and back to its old geometry. Hidden controls (H)
leave the network alone on screen: the header, the transport, the menu and status bars and
every shown dock (the inspector too) go, and come back as they were.
"""
from __future__ import annotations

from typing import Callable, Sequence

from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget


class Presentation:
    def __init__(self, window: QMainWindow, inspector_dock: QDockWidget, lessons_dock: QDockWidget,
                 bars: Sequence[QWidget], *, allow_fullscreen: bool, panels_back: Callable[[], None]) -> None:
        """`bars`: what hidden controls hide besides docks; `panels_back`: called when the docks
        come back after presentation mode (the main window raises its first plot)."""
        self.window = window
        self.inspector_dock = inspector_dock
        self.lessons_dock = lessons_dock
        self.bars = tuple(bars)
        self.allow_fullscreen = allow_fullscreen  # off for headless screenshots: keep the asked size
        self.panels_back = panels_back
        self.presenting = False
        self._docks_before_presenting: list[QDockWidget] = []
        self._docks_before_hiding: list[QDockWidget] | None = None  # H: what to bring back
        self._normal_geometry = None

    def step_aside(self, presenting: bool) -> None:
        """Entering presentation mode: every dock but the inspector and the lessons hides;
        leaving it: those docks come back."""
        if presenting == self.presenting:
            return
        self.presenting = presenting
        keep = (self.inspector_dock, self.lessons_dock)
        if presenting:
            shown = self.window.isVisible()
            self._docks_before_presenting = [
                d for d in self.window.findChildren(QDockWidget)
                if d not in keep and (d.isVisible() if shown else not d.isHidden())]
            for d in self._docks_before_presenting:
                d.hide()
        else:
            for d in self._docks_before_presenting:
                d.show()
            self._docks_before_presenting = []
            self.panels_back()

    def full_screen(self, presenting: bool) -> None:
        """Full screen while presenting (when allowed), the old geometry afterwards."""
        if not self.allow_fullscreen:
            return
        w = self.window
        if presenting and not w.isFullScreen():
            self._normal_geometry = w.saveGeometry()
            w.showFullScreen()
        elif not presenting and w.isFullScreen():
            w.showNormal()
            if self._normal_geometry is not None:
                w.restoreGeometry(self._normal_geometry)

    def hide_controls(self, hidden: bool) -> None:
        """Only the network on screen; the docks that were shown (inspector, setup,
        training, plots, ...) come back as they were."""
        for w in self.bars:
            w.setVisible(not hidden)
        if hidden and self._docks_before_hiding is None:
            self._docks_before_hiding = [d for d in self.window.findChildren(QDockWidget)
                                         if d.isVisible()]
            for d in self._docks_before_hiding:
                d.hide()
        elif not hidden and self._docks_before_hiding is not None:
            for d in self._docks_before_hiding:
                d.show()
            self._docks_before_hiding = None
