"""The network is the stage (issue 12): geometry of the real main window, offscreen, at the
sizes a laptop or a projector gives it; tab titles whole; presentation mode's text sizes; the
keys of a presenter remote."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabBar

from rnnviz.app.views.unrolled.camera import PRESENT_LABEL_PX, PRESENT_NUMBER_PX, ROW_LABEL_SIZE
from rnnviz.app.views.unrolled.labels import small
from rnnviz.app.views.unrolled.layout import number_size
from rnnviz.app.window.room import SHORT_TITLES

SIZES = [(1280, 720), (1360, 840)]


def resized(qtbot, window, size: tuple[int, int]) -> None:
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size)
    qtbot.waitUntil(lambda: window.view.width() > 240 and window.view.height() > 180)


def on_screen_px(view, scene_size: float) -> float:
    """What `scene_size` scene units come to on screen at the view's zoom."""
    t = view.transform()
    return scene_size * min(abs(t.m11()), abs(t.m22()))


@pytest.mark.parametrize("size", SIZES)
def test_the_network_gets_at_least_half_the_window(qtbot, window, size):
    resized(qtbot, window, size)
    v = window.view
    qtbot.waitUntil(lambda: window.room.stage_share() >= 0.5, timeout=3000)
    share = v.width() * v.height() / (window.width() * window.height())
    assert share >= 0.5
    # and the panels are still there: setup and training on the left, the inspector on the right
    assert window.inspector_dock.isVisible() and window.dockWidgetArea(window.inspector_dock) == Qt.RightDockWidgetArea
    assert window.dockWidgetArea(window.setup_dock) == Qt.LeftDockWidgetArea
    assert window.tabifiedDockWidgets(window.setup_dock) == [window.training_dock]


@pytest.mark.parametrize("size", SIZES)
def test_dock_tab_titles_are_not_cut(qtbot, window, size):
    resized(qtbot, window, size)
    bars = [b for b in window.findChildren(QTabBar) if b.parent() is window and b.isVisible() and b.count()]
    titles = {b.tabText(i) for b in bars for i in range(b.count())}
    assert {"Setup", "Training", "Loss", "h over time"} <= titles  # both tab groups are shown
    for bar in bars:
        assert bar.elideMode() == Qt.ElideNone
        for i in range(bar.count()):
            assert bar.tabRect(i).width() >= bar.fontMetrics().horizontalAdvance(bar.tabText(i)), bar.tabText(i)
    # one bar per group: no stale bar of a group's first two docks left on screen
    assert len(bars) == len({frozenset(bar.tabText(i) for i in range(bar.count())) for bar in bars})
    for dock in window.plot_docks:
        assert dock.windowTitle() == SHORT_TITLES[dock.objectName()]
        long = dock.widget().title
        assert dock.toolTip() == (long if long != dock.windowTitle() else "")  # the long name


def test_the_room_comes_back_after_the_window_shrinks(qtbot, window):
    """Side columns widened by hand yield when the window then shrinks below the stage's share."""
    resized(qtbot, window, (1920, 1080))
    window.resizeDocks([window.inspector_dock], [900], Qt.Horizontal)
    qtbot.waitUntil(lambda: window.inspector_dock.width() >= 850)
    resized(qtbot, window, (1280, 720))
    qtbot.waitUntil(lambda: window.room.stage_share() >= 0.5, timeout=3000)
    assert window.inspector_dock.width() < 450


def test_presentation_at_1280x720_scales_the_network_and_cuts_nothing(qtbot, window, session):
    resized(qtbot, window, (1280, 720))
    session.set_presentation(True)
    qtbot.waitUntil(lambda: window.view.draw_context is not None and window.view.draw_context.font_scale > 1)
    assert window.width() == 1280  # nothing makes the window wider than the screen
    assert window.minimumSizeHint().width() <= 1280
    v = window.view
    L = v.draw_context.layout
    number = on_screen_px(v, number_size(L.columns["h"], L.strip_h, L.s))
    arrow_names = on_screen_px(v, 0.95 * ROW_LABEL_SIZE * L.s)
    assert number >= PRESENT_NUMBER_PX - 1e-6 and PRESENT_NUMBER_PX >= 20
    assert arrow_names >= PRESENT_LABEL_PX - 1e-6 and PRESENT_LABEL_PX >= 18
    secondary = on_screen_px(v, small(ROW_LABEL_SIZE * L.s, L))  # tanh, gradient norms, losses
    assert secondary >= PRESENT_LABEL_PX - 1e-6
    # the step label and Loop are whole (once the bar is laid out in the presentation font)
    label, loop = window.transport.position_label, window.transport.loop_button
    qtbot.waitUntil(lambda: label.width() >= label.fontMetrics().horizontalAdvance(label.text())
                    and loop.width() >= loop.sizeHint().width())
    assert loop.geometry().right() <= window.transport.width()
    # H: the network has the whole window
    window.set_controls_hidden(True)
    qtbot.waitUntil(lambda: v.width() == window.width() and v.height() == window.height())
    assert not window.inspector_dock.isVisible()
    window.set_controls_hidden(False)
    qtbot.waitUntil(window.inspector_dock.isVisible)


def test_presentation_centres_the_active_step(qtbot, window, session):
    """Near the middle: a little below it going forward (the computed steps above), above it
    going backward (the computed gradients below)."""
    resized(qtbot, window, (1280, 720))
    session.set_presentation(True)
    qtbot.waitUntil(lambda: window.view.draw_context is not None and window.view.draw_context.font_scale > 1)
    v = window.view
    header = v.draw_context.header_height

    def where(t: int) -> float:  # the row's middle as a share of the height under the header
        y = v.mapFromScene(0, v.draw_context.layout.row_center(t)).y()
        return (y - header) / (v.viewport().height() - header)

    session.set_position(12)  # forward, step 12 of 25
    qtbot.waitUntil(lambda: v.draw_context.frame.active == 12)
    assert 0.5 < where(12) < 0.7
    session.set_mode("backward")
    while session.frame.active != 12:
        session.step_forward()
    qtbot.waitUntil(lambda: v.draw_context.frame.active == 12)
    assert 0.3 < where(12) < 0.5


@pytest.mark.parametrize("forward, back", [(Qt.Key_PageDown, Qt.Key_PageUp), (Qt.Key_Right, Qt.Key_Left)])
def test_a_presenter_remote_steps(qtbot, window, session, forward, back):
    session.set_position(3)
    qtbot.keyClick(window, forward)
    assert session.position == 4
    qtbot.keyClick(window, forward)
    assert session.position == 5
    qtbot.keyClick(window, back)
    assert session.position == 4


@pytest.mark.parametrize("task", ["hello", "xor"])
def test_fit_zooms_a_short_sequence_in_until_its_numbers_show(qtbot, qapp, task):
    """hello (T = 4) and xor (T = 1): Fit fills the view's width (under the legend), and the cell
    numbers are drawn (columns.py draws them from 7.5 px on)."""
    from rnnviz.app.main_window import MainWindow
    from rnnviz.app.state.network_config import NetworkConfig
    from rnnviz.app.state.session import Session

    session = Session(NetworkConfig(task=task))
    w = MainWindow(session, allow_fullscreen=False)
    w.error_dialogs = False
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    try:
        resized(qtbot, w, (1360, 840))
        v = w.view
        v.fit_to_window()
        L = v.draw_context.layout
        drawn = v.mapFromScene(L.scene_rect()[2], 0).x() - v.mapFromScene(0, 0).x()
        assert drawn >= 0.9 * v.viewport().width()
        assert on_screen_px(v, number_size(L.columns["h"], L.strip_h, L.s)) >= 7.5
    finally:
        session.shutdown()
