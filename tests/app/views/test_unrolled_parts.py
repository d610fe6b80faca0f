"""The unrolled view's parts on their own: the arrow geometry traced without Qt, the layout's
points, graphics items drawn from a hand-built DrawContext (no view), and the view's public
picture API (render, render_image) that the exports draw through."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsScene

from rnnviz.app.io import export as ex
from rnnviz.app.state import playback
from rnnviz.app.state.selection import Selection
from rnnviz.app.style.theme import theme_for
from rnnviz.app.views.unrolled.arrows import FLOW_LEVELS, arrow_paths
from rnnviz.app.views.unrolled.columns import ColumnItem
from rnnviz.app.views.unrolled.context import DrawContext, highlighted_weights, strip_images
from rnnviz.app.views.unrolled.layout import NodeData, UnrolledLayout
from rnnviz.app.views.unrolled.view import UnrolledView


class RecordedPath:
    """Stands in for QPainterPath: records the calls arrow_paths makes."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def moveTo(self, x, y):  # noqa: N802 (QPainterPath's names)
        self.calls.append(("move", float(x), float(y)))

    def lineTo(self, x, y):  # noqa: N802
        self.calls.append(("line", float(x), float(y)))

    def quadTo(self, cx, cy, x, y):  # noqa: N802
        self.calls.append(("quad", float(x), float(y)))

    def closeSubpath(self):  # noqa: N802
        self.calls.append(("close",))

    def moves(self) -> int:
        return sum(c[0] == "move" for c in self.calls)


def build_context(trace, position: int) -> DrawContext:
    """What the view would hand its items at this timeline position, built by hand."""
    layout = UnrolledLayout(trace, 1.0, has_target=trace.targets is not None)
    data = NodeData.from_trace(trace, layout)
    x, y, w, h = layout.scene_rect(1.0)
    return DrawContext(layout, data, strip_images(data, layout), playback.frame_at(position, trace.T),
                       theme_for("light", False), 1.0, QRectF(x - 50, y - 50, w + 100, h + 200))


def test_arrow_paths_are_traced_without_qt(session):
    session.set_config(task="parity", steps=7)  # many-to-one: x at every step, y only at the last
    trace = session.trace
    layout = UnrolledLayout(trace, 1.0)
    paths = arrow_paths(layout, NodeData.from_trace(trace, layout), RecordedPath)
    assert paths.shafts["W_hh"].moves() == trace.T  # h_{t-1} → h_t at every step
    assert paths.shafts["W_xh"].moves() == int(layout.columns["x"].rows.sum()) == 7
    assert paths.shafts["W_hy"].moves() == int(layout.columns["y"].rows.sum()) == 1
    assert len(paths.flow) == FLOW_LEVELS
    assert sum(p.moves() for p in paths.flow) == trace.T  # every W_hh arrow has one gradient width
    assert paths.loop.moves() == 1 and paths.loop_head.moves() == 1  # the rolled cell's self-loop
    # the arrow into h_t ends just above row t's strips
    tip = paths.heads["W_hh"].calls[0]
    assert tip[0] == "move" and tip[2] == pytest.approx(layout.row_top(1) - 5.0 * 0.6)


def test_layout_points_and_weight_steps(session):
    session.set_config(task="wave", steps=5)  # one-to-many: x only at step 1
    layout = UnrolledLayout(session.trace, 1.0)
    assert layout.weight_steps("W_xh") == [1]
    assert layout.weight_steps("W_hy") == [1, 2, 3, 4, 5]
    assert layout.weight_steps("W_hh") == [1, 2, 3, 4, 5]
    x, y = layout.point("h", 3, 2)
    assert layout.hit(x, y) == ("node", "h", 3, 2)
    assert layout.hit(*layout.point("W_hh", 4)) == ("weight", "W_hh", 4)
    assert layout.hit(*layout.point("W_hy", 2)) == ("weight", "W_hy", 2)


def paint_scene(item, width: int = 900, height: int = 700) -> QImage:
    scene = QGraphicsScene()
    scene.addItem(item)
    img = QImage(width, height, QImage.Format_ARGB32_Premultiplied)
    img.fill(0xFFFFFFFF)
    p = QPainter(img)
    scene.render(p, QRectF(0, 0, width, height), QRectF(0, 0, width, height))
    p.end()
    scene.removeItem(item)
    return img


def test_a_column_item_draws_from_a_hand_built_context_without_a_view(session):
    trace = session.trace
    ctx = build_context(trace, position=3)  # forward, steps 1..3 computed
    item = ColumnItem(ctx, "h")
    col = ctx.layout.columns["h"]
    img = paint_scene(item)
    strips = ctx.images[("forward", "h")]

    def pixel(t: int, unit: int, picture: QImage = img):  # near the cell's top left corner, clear of its number
        x, y = col.left + unit * col.cell_w + 4, ctx.layout.row_top(t) + 4
        return picture.pixelColor(int(x), int(y))

    for t in (0, 2, 3):  # computed rows show their colours, straight from the strip image
        assert pixel(t, 1) == strips.pixelColor(1, t)
    assert pixel(5, 1).name() == "#ffffff"  # not computed yet: an outline, no colour
    # another context, another picture: the whole pass computed
    item.set_context(build_context(trace, position=trace.T))
    assert pixel(5, 1, paint_scene(item)) == strips.pixelColor(1, 5)


def test_highlighted_weights_follow_hover_then_selection():
    assert highlighted_weights(None, None) == ()
    assert highlighted_weights(Selection("W_hy", 2), Selection("W_hh", 3)) == ("W_hy", "W_hh")
    assert highlighted_weights(Selection("W_hh", 2), Selection("W_hh", 5)) == ("W_hh",)
    assert highlighted_weights(None, Selection("h", 2, 1)) == ()  # a node is not a weight


def test_render_image_has_the_asked_size_and_is_what_render_draws(session, qtbot):
    view = UnrolledView(session)
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    img = view.render_image(640, 480)
    assert (img.width(), img.height()) == (640, 480)
    by_hand = QImage(640, 480, QImage.Format_ARGB32_Premultiplied)
    p = QPainter(by_hand)
    view.render(p, QRectF(0, 0, 640, 480))
    p.end()
    assert by_hand == img
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(480, 640, 4)
    assert len(np.unique(arr.reshape(-1, 4), axis=0)) > 20  # the diagram, not a blank picture


def test_exports_draw_through_the_views_render(session, qtbot, tmp_path, monkeypatch):
    view = UnrolledView(session)
    qtbot.addWidget(view)
    view.resize(900, 600)
    calls = []
    real = view.render

    def recording(painter, target):
        calls.append((type(painter).__name__, target))
        real(painter, target)

    monkeypatch.setattr(view, "render", recording)
    ex.export_view(view, tmp_path / "v.png", 320, 200)
    ex.export_view(view, tmp_path / "v.svg", 320, 200)
    assert [c[1] for c in calls] == [QRectF(0, 0, 320, 200)] * 2
    assert calls[0][0] == "QPainter" and calls[1][0] != "QPainter"  # the SVG's vector painter
