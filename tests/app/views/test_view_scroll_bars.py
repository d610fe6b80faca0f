"""The unrolled view's scroll bars settle (issue 13: in a small view, with the diagram at its
smallest readable scale, the bars came and went for ever and the window froze)."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt

from rnnviz.app.state.network_config import NetworkConfig
from rnnviz.app.state.session import Session
from rnnviz.app.views.unrolled.view import UnrolledView

LIMIT = 200  # resizes of the viewport for one resize of the view; settling takes a few


class ResizeCounter(QObject):
    """Counts the viewport's resizes; past LIMIT it breaks the loop (scroll bars off) so that a
    regression fails the test instead of hanging it."""

    def __init__(self, view: UnrolledView) -> None:
        super().__init__(view)
        self.view = view
        self.count = 0

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Resize:
            self.count += 1
            if self.count == LIMIT:
                self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
                self.view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        return False


def test_scroll_bars_settle_in_small_views(qtbot):
    session = Session(NetworkConfig(task="hello", architecture="many-to-many"))
    view = UnrolledView(session)
    qtbot.addWidget(view)
    view.resize(460, 190)
    view.show()
    qtbot.waitExposed(view)
    counter = ResizeCounter(view)
    view.viewport().installEventFilter(counter)
    worst = 0
    for width in range(420, 500, 3):  # around the width where the diagram stops fitting at its smallest scale
        for height in (170, 180, 190):
            counter.count = 0
            view.resize(width, height)
            qtbot.wait(1)
            worst = max(worst, counter.count)
    session.shutdown()
    assert worst < LIMIT, "the scroll bars kept coming and going"
    assert worst <= 4
