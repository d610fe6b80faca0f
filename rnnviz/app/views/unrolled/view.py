"""The unrolled network: one row per time step, x_t → h_t → y_t across, W_hh arrows down.

It draws what the session says and never recomputes the math: values and gradients come
straight from the trace. Drawing is cheap by construction: a handful of graphics items (one per
column, one for all arrows, one for labels, one for the active-row band) each paint only the
rows in view; a strip of cells is one scaled QImage row built once per trace from the shared
colour LUT; arrows of one kind are one QPainterPath built once per geometry. A change of
position only repaints; a new trace only pushes new images; only a new network rebuilds items.

This module composes the parts: the layout (`layout.py`, `arrows.py`), the `DrawContext` the
items draw from (`context.py`), the items (`items.py`, `columns.py`, `labels.py`), the fixed
headers and legend (`overlay.py`) and zoom and scroll (`camera.py`); here live the session's
signals, the roll animation, hit tests, tooltips and the mouse and keys.
"""
from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QEasingCurve, QPointF, QRectF, Qt, QVariantAnimation, Signal
from PySide6.QtGui import QBrush, QImage, QPainter, QTransform
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView, QToolTip, QWidget

from rnnviz.app.state.selection import Selection
from rnnviz.app.state.session import Session
from rnnviz.app.style import theme as themes
from rnnviz.app.views.unrolled import tooltips
from rnnviz.app.views.unrolled.camera import Camera
from rnnviz.app.views.unrolled.columns import ColumnItem
from rnnviz.app.views.unrolled.context import DrawContext, highlighted_weights, strip_images
from rnnviz.app.views.unrolled.items import ArrowItem, BandItem, DiagramItem
from rnnviz.app.views.unrolled.labels import LabelItem
from rnnviz.app.views.unrolled.layout import NodeData, UnrolledLayout
from rnnviz.app.views.unrolled.overlay import (
    gates_button, header_height, legend_width, paint_overlay, place_gates_button,
)
from rnnviz.app.views.unrolled.paint import qcolor


class UnrolledView(QGraphicsView):
    """The network unrolled in time (or rolled into its one cell), drawn from the session."""

    gatesChanged = Signal(bool)  # gated cells shown expanded (their gates) or collapsed

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._scene = QGraphicsScene(self)
        self._scene.setItemIndexMethod(QGraphicsScene.NoIndex)
        self.setScene(self._scene)
        self.setViewportUpdateMode(QGraphicsView.FullViewportUpdate)  # the overlays are fixed
        self.setOptimizationFlag(QGraphicsView.DontAdjustForAntialiasing, True)
        self.setRenderHint(QPainter.Antialiasing, False)
        self.setDragMode(QGraphicsView.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.AnchorViewCenter)
        self.setResizeAnchor(QGraphicsView.AnchorViewCenter)
        self.setMouseTracking(True)
        self.viewport().setMouseTracking(True)
        self.setMinimumSize(240, 180)
        self.setFocusPolicy(Qt.StrongFocus)
        self._items: list[DiagramItem] = []
        self._ctx: DrawContext | None = None  # None: no network to draw
        self._camera = Camera(self)
        self._rolled = False
        self._gates = False  # gated cells: show the gates (expanded) or only h (and c)
        self.gates_button = gates_button(self)
        self.gates_button.toggled.connect(self.set_gates_shown)
        self._press = None
        self._anim = QVariantAnimation(self)
        self._anim.setDuration(600)
        self._anim.setEasingCurve(QEasingCurve.InOutCubic)
        self._anim.valueChanged.connect(self._on_unroll)
        self._restyle(rebuild=False)
        session.networkChanged.connect(self._on_network)
        session.traceChanged.connect(self._on_trace)
        session.positionChanged.connect(self._on_position)
        session.selectionChanged.connect(self._on_highlight)
        session.hoverChanged.connect(self._on_highlight)
        session.appearanceChanged.connect(self._on_appearance)
        if session.trace is not None:
            self._on_network()

    # public API ---------------------------------------------------------------------------------
    @property
    def draw_context(self) -> DrawContext | None:
        """What the diagram is drawn from now (None before there is a network)."""
        return self._ctx

    def fit_to_window(self) -> None:
        self._camera.mode = "fit"
        self._camera.apply(self._active())

    def zoom_in(self) -> None:
        self._camera.zoom(1.25)

    def zoom_out(self) -> None:
        self._camera.zoom(1 / 1.25)

    def set_rolled(self, rolled: bool, animate: bool = True) -> None:
        if self._ctx is None:
            self._rolled = rolled
            return
        self._rolled = bool(rolled)
        target = 0.0 if rolled else 1.0
        self._anim.stop()
        unroll = self._ctx.layout.unroll
        if not animate or abs(unroll - target) < 1e-9:
            self._on_unroll(target)
            return
        self._anim.setStartValue(float(unroll))
        self._anim.setEndValue(target)
        self._anim.start()

    def is_rolled(self) -> bool:
        return self._rolled

    def set_gates_shown(self, on: bool) -> None:
        """Expand gated cells to show their gates as small strips (no effect on a vanilla cell's
        drawing; remembered for the next gated network)."""
        on = bool(on)
        if on == self._gates:
            return
        self._gates = on
        self.gates_button.blockSignals(True)
        self.gates_button.setChecked(on)
        self.gates_button.blockSignals(False)
        self.gatesChanged.emit(on)
        trace = self.session.trace
        if self._ctx is not None and trace is not None and trace.cell != "rnn":
            mode = self._camera.mode
            self._on_network()
            if mode == "fit":
                self.fit_to_window()

    def gates_shown(self) -> bool:
        return self._gates

    def is_animating(self) -> bool:
        return self._anim.state() == QVariantAnimation.Running

    def render(self, painter: QPainter, target: QRectF) -> None:
        """Draw the picture of the diagram into `target`: as the view shows it when fitted or
        zoomed by hand, else its readable default at that size; background, diagram, headers and
        legend. (Unlike QGraphicsView.render, which this replaces, it includes the fixed
        overlays and does not depend on the viewport's size.)"""
        painter.fillRect(target, qcolor(self._theme.background))
        ctx = self._ctx
        if ctx is None:
            return
        src, kx, ky = self._camera.source_rect(target.width(), target.height())
        painter.setRenderHint(QPainter.TextAntialiasing, True)
        self._scene.render(painter, target, src, Qt.IgnoreAspectRatio)
        t = QTransform(kx, 0, 0, ky, target.left() - src.left() * kx, target.top() - src.top() * ky)
        paint_overlay(painter, ctx, target, t)

    def render_image(self, width: int, height: int) -> QImage:
        """The picture of the diagram (see `render`) drawn offscreen at width × height."""
        img = QImage(int(width), int(height), QImage.Format_ARGB32_Premultiplied)
        p = QPainter(img)
        self.render(p, QRectF(0, 0, width, height))
        p.end()
        return img

    def count_nodes(self, kind: str) -> int:
        """How many strips of kind x/h/y/target are drawn."""
        ctx = self._ctx
        if ctx is None or kind not in ctx.layout.columns:
            return 0
        col = ctx.layout.columns[kind]
        if self._rolled:
            t = max(1, ctx.frame.active)
            return int(bool(col.rows[t]))
        return int(col.rows.sum())

    def highlighted_weight_copies(self) -> list[tuple[str, int]]:
        """Every (weight, step) arrow drawn highlighted (all copies of a hovered or selected weight)."""
        ctx = self._ctx
        if ctx is None:
            return []
        if self._rolled:
            return [(kind, max(1, ctx.frame.active)) for kind in ctx.highlighted]
        return [(kind, t) for kind in ctx.highlighted for t in ctx.layout.weight_steps(kind)]

    def active_rows(self) -> list[int]:
        return [] if self._ctx is None else [self._ctx.frame.active]

    def hit_test(self, scene_pos: QPointF) -> Selection | None:
        """The node cell or weight arrow at a scene position, as a Selection."""
        ctx = self._ctx
        if ctx is None:
            return None
        h = ctx.layout.hit(scene_pos.x(), scene_pos.y(), max(1, ctx.frame.active))
        if h is None:
            return None
        if h[0] == "node":
            return Selection(h[1], h[2], h[3])
        return Selection(h[1], h[2])

    def scene_point(self, kind: str, t: int, unit: int | None = None) -> QPointF:
        """The scene point at the middle of a cell (or of an arrow copy), for tests and tours."""
        assert self._ctx is not None
        return QPointF(*self._ctx.layout.point(kind, t, unit, self._rolled))

    def value_text(self, kind: str, t: int, unit: int) -> str:
        """What the tooltip says about one cell, e.g. "h_3[2] = 0.4132"."""
        if self._ctx is None:
            return ""
        return tooltips.value_text(self._ctx.data, self._ctx.frame, self.session.trace, self._task_vocab(),
                                   kind, t, unit)

    def weight_text(self, kind: str, t: int) -> str:
        """What the tooltip says about a weight arrow."""
        return tooltips.weight_text(self.session.trace, kind, t)

    # session → view ------------------------------------------------------------------------------------
    def _on_network(self) -> None:
        self._anim.stop()
        for it in self._items:
            self._scene.removeItem(it)
        self._items = []
        trace = self.session.trace
        if trace is None:
            self._ctx = None
            self._camera.set_diagram(None, header_height(self._fs, None), legend_width(self._fs), self._fs)
            return
        layout = UnrolledLayout(trace, self._fs, has_target=trace.targets is not None, gates=self._gates)
        layout.unroll = 0.0 if self._rolled else 1.0
        data = NodeData.from_trace(trace, layout)
        x, y, w, h = layout.scene_rect(1.0)
        bounds = QRectF(x - 50, min(y, layout.scene_rect(0.0)[1]) - 50, w + 100, h + 200)
        vocab = self._vocab(layout)
        s = self.session
        ctx = DrawContext(layout, data, strip_images(data, layout), s.frame, self._theme, self._fs, bounds,
                          s.selection, highlighted_weights(s.hover, s.selection), vocab,
                          header_height(self._fs, vocab), legend_width(self._fs))
        self._ctx = ctx
        self._camera.set_diagram(layout, ctx.header_height, ctx.legend_width, self._fs)
        self._camera.backward = ctx.frame.mode == "backward"
        self.gates_button.setVisible(trace.cell != "rnn")
        self._place_gates_button()
        band = BandItem(ctx)
        band.setZValue(-1)
        cols = [ColumnItem(ctx, k) for k in layout.columns]
        arrows = ArrowItem(ctx)
        labels = LabelItem(ctx)
        labels.setZValue(2)
        for it in (band, *cols, arrows, labels):
            self._scene.addItem(it)
        self._items = [band, *cols, arrows, labels]
        self._scene.setSceneRect(bounds)
        self._camera.update_scene_rect()
        if self._camera.mode == "user":
            self._camera.mode = "auto"
        self._camera.apply(ctx.frame.active)

    def _set_context(self, ctx: DrawContext) -> None:
        """Draw from `ctx` from now on (the items keep their geometry)."""
        self._ctx = ctx
        for it in self._items:
            it.set_context(ctx)

    def _on_trace(self) -> None:
        trace = self.session.trace
        if self._ctx is None or trace is None:
            return
        layout = self._ctx.layout
        data = NodeData.from_trace(trace, layout)
        self._set_context(replace(self._ctx, data=data, images=strip_images(data, layout)))
        self._repaint()

    def _on_position(self, _pos: int = 0) -> None:
        if self._ctx is None:
            return
        self._set_context(replace(self._ctx, frame=self.session.frame))
        self._camera.backward = self._ctx.frame.mode == "backward"
        if self._camera.mode != "fit" and not self._rolled and not self.is_animating():
            self._camera.follow(self._ctx.frame.active)
        self._repaint()

    def _on_highlight(self, _sel: object = None) -> None:
        if self._ctx is not None:
            s = self.session
            self._set_context(replace(self._ctx, selection=s.selection,
                                      highlighted=highlighted_weights(s.hover, s.selection)))
        self._repaint()

    def _on_appearance(self) -> None:
        if themes.font_scale(self.session.presentation) != self._fs:
            # into or out of presentation mode: the readable default for that size of type
            self._camera.mode = "auto"
        self._restyle(rebuild=True)

    def _restyle(self, rebuild: bool) -> None:
        s = self.session
        self._theme = themes.theme_for(s.theme, s.presentation)
        self._fs = themes.font_scale(s.presentation)
        self.setBackgroundBrush(QBrush(qcolor(self._theme.background)))
        if rebuild:
            self._on_network()

    def _on_unroll(self, value) -> None:
        """One step of rolling (0) or unrolling (1): the layout moves, the camera follows."""
        if self._ctx is None:
            return
        self._ctx.layout.unroll = float(value)
        self._camera.update_scene_rect()
        if self._camera.mode in ("fit", "auto"):
            self._camera.apply(self._ctx.frame.active)
        self._repaint()

    def _repaint(self) -> None:
        self.viewport().update()

    def _active(self) -> int:
        return 0 if self._ctx is None else self._ctx.frame.active

    def _task_vocab(self) -> str | None:
        """The characters the task's units stand for, if it has them."""
        return getattr(self.session.task, "vocab", None) if self.session.source == "task" else None

    def _vocab(self, layout: UnrolledLayout) -> str | None:
        """The characters of one-hot inputs / classes, when some column's units are characters."""
        vocab = self._task_vocab()
        if not vocab or not any(c.units == len(vocab) for c in layout.columns.values()):
            return None
        return vocab

    def _place_gates_button(self) -> None:
        band = header_height(self._fs, None) if self._ctx is None else self._ctx.header_height
        place_gates_button(self.gates_button, self.viewport().geometry(), band)

    # Qt events ------------------------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._place_gates_button()
        if self._camera.mode in ("fit", "auto"):
            self._camera.apply(self._active())

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        """The headers and the legend, fixed in the viewport over the scrolling diagram."""
        if self._ctx is None:
            return
        painter.save()
        t = self.viewportTransform()
        painter.resetTransform()
        paint_overlay(painter, self._ctx, QRectF(self.viewport().rect()), t)
        painter.restore()

    def wheelEvent(self, event) -> None:  # noqa: N802
        dy = event.angleDelta().y()
        if dy == 0:
            return super().wheelEvent(event)
        self._camera.zoom(1.0015 ** dy, anchor=event.position())
        event.accept()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        key = event.key()
        if key in (Qt.Key_Plus, Qt.Key_Equal):
            self.zoom_in()
        elif key == Qt.Key_Minus:
            self.zoom_out()
        elif key in (Qt.Key_0, Qt.Key_F):
            self.fit_to_window()
        elif key == Qt.Key_G and self.session.trace is not None and self.session.trace.cell != "rnn":
            self.set_gates_shown(not self._gates)
        else:
            super().keyPressEvent(event)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.LeftButton:
            self._press = event.position()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        super().mouseMoveEvent(event)
        if self._press is not None and event.buttons() & Qt.LeftButton:
            if (event.position() - self._press).manhattanLength() > 4 and self._camera.mode != "user":
                self._camera.mode = "user"
            return
        sel = self.hit_test(self.mapToScene(event.position().toPoint()))
        if sel is not None and sel.is_weight:
            self.session.set_hover(sel)
            QToolTip.showText(event.globalPosition().toPoint(), self.weight_text(sel.kind, sel.t), self.viewport())
        else:
            self.session.set_hover(None)
            if sel is not None:
                QToolTip.showText(event.globalPosition().toPoint(), self.value_text(sel.kind, sel.t, sel.unit),
                                  self.viewport())
            else:
                QToolTip.hideText()
        self.viewport().setCursor(Qt.PointingHandCursor if sel is not None else Qt.OpenHandCursor)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        super().mouseReleaseEvent(event)
        if event.button() != Qt.LeftButton or self._press is None:
            return
        moved = (event.position() - self._press).manhattanLength()
        self._press = None
        if moved <= 4:  # a click, not a drag: select what is under it (nothing: clear)
            self.session.select(self.hit_test(self.mapToScene(event.position().toPoint())))
            event.accept()

    def leaveEvent(self, event) -> None:  # noqa: N802
        self.session.set_hover(None)
        super().leaveEvent(event)
