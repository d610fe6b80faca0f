"""The unrolled view draws what the session says: the right nodes per architecture, every copy
of a shared weight, the active rows of both passes, clicks and hovers as Selections."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from rnnviz.app.state.network_config import NetworkConfig
from rnnviz.app.state.selection import Selection
from rnnviz.app.state.session import Session
from rnnviz.app.views.unrolled.view import UnrolledView


@pytest.fixture
def make_view(qtbot):
    made = []

    def make(**config):
        s = Session(NetworkConfig(**config))
        v = UnrolledView(s)
        qtbot.addWidget(v)
        v.resize(1000, 700)
        v.show()
        qtbot.waitExposed(v)
        made.append(s)
        return s, v

    yield make
    for s in made:
        s.shutdown()


@pytest.mark.parametrize(
    "config, n_x, n_y",
    [
        (dict(task="sine", steps=12), 12, 12),  # many-to-many
        (dict(task="parity", steps=7), 7, 1),  # many-to-one: only y_T
        (dict(task="wave", steps=9), 1, 9),  # one-to-many: only x_1
        (dict(task="xor"), 1, 1),  # one-to-one: a single row
        (dict(task="sine", steps=6, architecture="many-to-one"), 6, 1),
        (dict(task="sine", steps=6, architecture="one-to-many"), 1, 6),
    ],
)
def test_each_architecture_draws_its_input_and_output_nodes(make_view, config, n_x, n_y):
    s, v = make_view(**config)
    assert v.count_nodes("x") == n_x
    assert v.count_nodes("y") == n_y
    assert v.count_nodes("target") == n_y
    assert v.count_nodes("h") == s.T + 1  # h_0 .. h_T


def test_hovering_a_w_hh_copy_highlights_all_t_copies(make_view):
    s, v = make_view(task="sine", steps=10)
    assert v.highlighted_weight_copies() == []
    s.set_hover(Selection("W_hh", 4))
    assert v.highlighted_weight_copies() == [("W_hh", t) for t in range(1, 11)]
    s.set_hover(None)
    assert v.highlighted_weight_copies() == []


def test_selecting_w_xh_highlights_only_the_steps_that_have_inputs(make_view):
    s, v = make_view(task="wave", steps=8)  # one-to-many: x only at step 1
    s.select(Selection("W_xh", 1))
    assert v.highlighted_weight_copies() == [("W_xh", 1)]
    s.select(Selection("W_hy", 3))
    assert v.highlighted_weight_copies() == [("W_hy", t) for t in range(1, 9)]


def test_selecting_w_hy_in_many_to_one_highlights_the_last_step_only(make_view):
    s, v = make_view(task="parity", steps=5)
    s.select(Selection("W_hy", 5))
    assert v.highlighted_weight_copies() == [("W_hy", 5)]


def test_hover_over_a_drawn_w_hh_arrow_sets_the_session_hover(make_view, qtbot):
    s, v = make_view(task="sine", steps=6)
    v.fit_to_window()
    p = v.mapFromScene(v.scene_point("W_hh", 3))
    qtbot.mouseMove(v.viewport(), p)
    assert s.hover == Selection("W_hh", 3)
    assert len(v.highlighted_weight_copies()) == 6


def test_stepping_the_backward_pass_moves_the_active_row_up(make_view):
    s, v = make_view(task="sine", steps=5)
    s.set_position(0)
    assert v.active_rows() == [0]
    for t in range(1, 6):
        s.step_forward()
        assert v.active_rows() == [t]
        assert s.frame.mode == "forward"
    for t in range(5, 0, -1):  # past T the backward pass starts at the last step
        s.step_forward()
        assert s.frame.mode == "backward"
        assert v.active_rows() == [t]


def test_clicking_a_cell_selects_that_node_and_unit(make_view, qtbot):
    s, v = make_view(task="hello", hidden=6)
    v.fit_to_window()
    for kind, t, unit in (("h", 2, 4), ("x", 3, 1), ("y", 1, 2), ("h", 0, 0)):
        p = v.mapFromScene(v.scene_point(kind, t, unit))
        qtbot.mouseClick(v.viewport(), Qt.LeftButton, pos=p)
        assert s.selection == Selection(kind, t, unit)
    p = v.mapFromScene(v.scene_point("W_hh", 2))
    qtbot.mouseClick(v.viewport(), Qt.LeftButton, pos=p)
    assert s.selection == Selection("W_hh", 2)


def test_hit_test_reads_the_unit_under_the_point(make_view):
    s, v = make_view(task="sine", hidden=16, steps=4)
    for unit in (0, 7, 15):
        assert v.hit_test(v.scene_point("h", 3, unit)) == Selection("h", 3, unit)
    assert v.hit_test(v.scene_point("W_xh", 2)) == Selection("W_xh", 2)
    assert v.hit_test(v.scene_point("W_hy", 4)) == Selection("W_hy", 4)


def test_tooltip_text_shows_the_cell_value(make_view):
    s, v = make_view(task="sine", steps=5)
    text = v.value_text("h", 3, 2)
    assert text.startswith("h_3[2] = ")
    assert float(text.split("=")[1].split()[0]) == pytest.approx(s.trace.h[3, 0, 2], abs=1e-4)


def test_backward_pass_shows_gradients_in_the_tooltip(make_view):
    s, v = make_view(task="sine", steps=5)
    s.set_position(s.T + 2)  # dL/dh known for steps 4 and 5
    assert "∂L/∂h_5[0]" in v.value_text("h", 5, 0)
    assert "∂L/∂h" not in v.value_text("h", 2, 0)


def test_rolled_and_unrolled_without_animation(make_view):
    s, v = make_view(task="sine", steps=8)
    v.set_rolled(True, animate=False)
    assert v.is_rolled()
    assert v.count_nodes("h") == 1 and v.count_nodes("x") == 1
    assert v.hit_test(v.scene_point("h", s.frame.active, 1)) == Selection("h", s.frame.active, 1)
    v.set_rolled(False, animate=False)
    assert not v.is_rolled()
    assert v.count_nodes("h") == 9


def test_rolled_transition_animates_to_the_end(make_view, qtbot):
    s, v = make_view(task="sine", steps=8)
    v.set_rolled(True, animate=True)
    assert v.is_rolled()
    qtbot.waitUntil(lambda: not v.is_animating(), timeout=5000)
    assert v.count_nodes("h") == 1
    v.set_rolled(False)
    qtbot.waitUntil(lambda: not v.is_animating(), timeout=5000)
    assert v.count_nodes("h") == 9
    assert not v.render_image(300, 200).isNull()


def test_long_wide_network_builds_and_renders(make_view):
    s, v = make_view(task="sine", steps=500, hidden=256)
    assert v.count_nodes("h") == 501
    v.fit_to_window()
    img = v.render_image(800, 600)
    assert img.width() == 800 and img.height() == 600
    s.set_position(s.T + 250)
    v.viewport().repaint()
    v.zoom_in()
    v.zoom_in()
    v.render_image(400, 300)
    # not blank: the diagram put colours on the picture
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(600, 800, 4)
    assert len(np.unique(arr.reshape(-1, 4), axis=0)) > 20


def test_switching_networks_many_times_does_not_crash(make_view, qtbot):
    s, v = make_view(task="sine", steps=5)
    tasks = ["sine", "hello", "parity", "wave", "xor", "echo"]
    for i in range(300):
        s.set_config(task=tasks[i % len(tasks)], hidden=1 + i % 9, seed=i % 3)
        if i % 25 == 0:
            v.viewport().repaint()
            qtbot.wait(1)
    assert v.count_nodes("h") == s.T + 1


def test_new_trace_keeps_items_but_shows_new_values(make_view):
    s, v = make_view(task="sine", steps=5)
    items = list(v.scene().items())
    params = {k: a * 0.5 for k, a in s.model.params().items()}
    s.set_params(params)
    assert list(v.scene().items()) == items
    text = v.value_text("h", 2, 0)
    assert float(text.split("=")[1].split()[0]) == pytest.approx(s.trace.h[2, 0, 0], abs=1e-4)


def test_appearance_change_restyles_and_still_renders(make_view):
    s, v = make_view(task="sine", steps=5)
    s.set_theme("dark")
    s.set_presentation(True)
    img = v.render_image(500, 400)
    assert img.pixelColor(2, 398).name() == "#000000"  # contrast theme background
    assert v.count_nodes("h") == 6


def test_zoom_and_fit(make_view):
    s, v = make_view(task="sine", steps=30)
    v.fit_to_window()
    k = v.transform().m22()
    v.zoom_in()
    assert v.transform().m22() > k
    v.zoom_out()
    v.zoom_out()
    assert v.transform().m22() < k
    v.fit_to_window()
    assert v.transform().m22() == pytest.approx(k)


def test_click_at_empty_space_clears_the_selection(make_view, qtbot):
    s, v = make_view(task="sine", steps=4)
    s.select(Selection("h", 1, 0))
    qtbot.mouseClick(v.viewport(), Qt.LeftButton, pos=QPoint(3, v.viewport().height() - 3))
    assert s.selection is None


@pytest.mark.parametrize("steps", [30, 500])
def test_fit_leaves_room_for_the_first_and_last_row_labels(make_view, qtbot, steps):
    # the row labels ("t = 500") keep their size when fit squeezes the rows: half a label's
    # height must stay free below the header band and above the bottom edge
    s, v = make_view(task="sine", steps=steps, hidden=16)
    v.fit_to_window()
    qtbot.wait(20)
    assert not v.horizontalScrollBar().isVisible() and not v.verticalScrollBar().isVisible()
    ctx = v.draw_context
    L = ctx.layout
    first = v.mapFromScene(QPointF(0, L.row_top(1) + L.strip_h / 2)).y()
    last = v.mapFromScene(QPointF(0, L.row_top(steps) + L.strip_h / 2)).y()
    half_label = 0.5 * v.fontMetrics().height()
    assert first - half_label >= ctx.header_height - 1
    assert last + half_label <= v.viewport().height()
