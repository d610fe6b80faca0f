"""A LessonHost without a window: a session, a rolled flag, a set of shown panels and an
optional training controller, for driving lessons in tests."""
from __future__ import annotations

from rnnviz.app.lessons.format import DOCKS
from rnnviz.app.state.session import Session


class FakeHost:
    def __init__(self, session: Session, controller=None, docks: tuple[str, ...] = tuple(DOCKS)) -> None:
        self.session = session
        self.controller = controller
        self.rolled = False
        self.docks = set(docks)  # the panels this app has
        self.shown: dict[str, bool] = {}  # what the lesson asked for, by dock name

    def is_rolled(self) -> bool:
        return self.rolled

    def set_rolled(self, rolled: bool) -> None:
        self.rolled = rolled

    def show_dock(self, name: str, visible: bool) -> bool:
        if name not in self.docks:
            return False
        self.shown[name] = visible
        return True

    def training_iteration(self) -> int | None:
        return None if self.controller is None else self.controller.iteration
