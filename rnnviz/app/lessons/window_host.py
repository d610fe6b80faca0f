"""`WindowLessonHost`: the LessonHost the main window builds. It rolls the view through the
callables it is given, finds panels among the window's docks by the names lessons use
(format.DOCKS), and reads the training controller's iteration."""
from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QDockWidget, QMainWindow

from rnnviz.app.lessons.format import DOCKS
from rnnviz.app.state.session import Session
from rnnviz.app.state.training import TrainingController


class WindowLessonHost:
    """A main window as seen by a lesson (see lessons.host.LessonHost)."""

    def __init__(self, session: Session, window: QMainWindow, controller: TrainingController | None,
                 is_rolled: Callable[[], bool], set_rolled: Callable[[bool], None]) -> None:
        self._session = session
        self._window = window
        self._controller = controller
        self._is_rolled = is_rolled
        self._set_rolled = set_rolled

    @property
    def session(self) -> Session:
        return self._session

    def is_rolled(self) -> bool:
        return self._is_rolled()

    def set_rolled(self, rolled: bool) -> None:
        self._set_rolled(rolled)

    def dock(self, name: str) -> QDockWidget | None:
        """The window's dock for a lesson's dock name, by object name or by title."""
        wanted = {n.lower() for n in DOCKS[name]}
        for dock in self._window.findChildren(QDockWidget):
            if dock.objectName().lower() in wanted or dock.windowTitle().lower() == name.replace("-", " "):
                return dock
        return None

    def show_dock(self, name: str, visible: bool) -> bool:
        dock = self.dock(name)
        if dock is None:
            return False
        dock.setVisible(visible)
        if visible:
            dock.raise_()  # in front of the docks it shares a tab bar with
        return True

    def training_iteration(self) -> int | None:
        return None if self._controller is None else self._controller.iteration
