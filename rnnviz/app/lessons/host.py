"""What a lesson may do to the app: the `LessonHost` protocol. A step configures the network and
the playback through the session, rolls the view, shows or hides panels, and a check reads the
training run. The main window implements it with `WindowLessonHost`; a test with a fake."""
from __future__ import annotations

from typing import Protocol

from rnnviz.app.state.session import Session


class LessonHost(Protocol):
    """The few operations a lesson step needs beyond the session's own API."""

    @property
    def session(self) -> Session:
        """The session a step configures (network, playback, selection, theme)."""
        ...

    def is_rolled(self) -> bool:
        """Whether the network is shown rolled up (one cell with a loop)."""
        ...

    def set_rolled(self, rolled: bool) -> None:
        """Roll the network up, or unroll it in time."""
        ...

    def show_dock(self, name: str, visible: bool) -> bool:
        """Show (and raise) or hide the panel a lesson calls `name` (format.DOCKS); False when
        this app has no such panel."""
        ...

    def training_iteration(self) -> int | None:
        """The training run's iteration, or None when there is no training run to look at."""
        ...
