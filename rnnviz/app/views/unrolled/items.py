"""The unrolled view's graphics items: the base class, the active row's band and the arrows.

Each item draws only from the `DrawContext` it was handed (`set_context` swaps it when something
drawn changes) and paints only what is in view. The column strips live in `columns.py`, the
labels in `labels.py`.
"""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath
from PySide6.QtWidgets import QGraphicsItem

from rnnviz.app.views.unrolled.arrows import FLOW_LEVELS, KINDS_DRAWN, ArrowPaths, arrow_paths
from rnnviz.app.views.unrolled.context import DrawContext
from rnnviz.app.views.unrolled.layout import WEIGHTS
from rnnviz.app.views.unrolled.paint import draw_path, fill_path, pen, qcolor, screen_scale, visible_area


class DiagramItem(QGraphicsItem):
    """An item of the diagram: bounded by the whole diagram, drawn from its context."""

    def __init__(self, ctx: DrawContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setFlag(QGraphicsItem.ItemUsesExtendedStyleOption, True)

    def set_context(self, ctx: DrawContext) -> None:
        """Draw from `ctx` from the next paint on (same bounds: items are rebuilt per network)."""
        self.ctx = ctx

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt name)
        return self.ctx.bounds


class BandItem(DiagramItem):
    """The active row's band (behind everything)."""

    def paint(self, painter, option, widget=None) -> None:
        ctx = self.ctx
        L, fr, th = ctx.layout, ctx.frame, ctx.theme
        r = fr.active if L.unroll >= 0.999 else 1
        if L.unroll >= 0.999 and fr.active == 0 and fr.mode == "forward":
            r = 0
        color = th.highlight if fr.mode == "forward" else th.backward
        top = L.row_top(r) - L.gap * 0.32 - (L.band_h if r >= 1 else 0.0)
        rect = QRectF(L.margin * 0.5, top, L.right - L.margin, L.strip_h + L.gap * 0.64 + (L.band_h if r >= 1 else 0.0))
        painter.setPen(Qt.NoPen)
        painter.setBrush(qcolor(color, 44 if th.name == "light" else 60))
        painter.drawRect(rect)
        painter.setBrush(qcolor(color))
        painter.drawRect(QRectF(rect.left(), rect.top(), 4 * L.s, rect.height()))


class ArrowItem(DiagramItem):
    """All weight arrows: one path per kind, coloured by frame regions with clip rectangles."""

    def __init__(self, ctx: DrawContext) -> None:
        super().__init__(ctx)
        self._paths: ArrowPaths | None = None
        self._paths_of: tuple = ()  # (layout, unroll, data) the paths were traced for

    def paths(self) -> ArrowPaths:
        """The arrows of the current layout and data, traced again only when either changed."""
        L, d = self.ctx.layout, self.ctx.data
        key = self._paths_of
        if self._paths is None or key[0] is not L or key[1] != L.unroll or key[2] is not d:
            self._paths = arrow_paths(L, d, QPainterPath)
            self._paths_of = (L, L.unroll, d)
        return self._paths

    def paint(self, painter, option, widget=None) -> None:
        ctx = self.ctx
        L, fr, th, fs = ctx.layout, ctx.frame, ctx.theme, ctx.font_scale
        paths = self.paths()
        lod = screen_scale(painter)
        small = L.strip_h * lod < 6
        painter.setRenderHint(QPainter.Antialiasing, not small)
        u = L.unroll
        arrow = qcolor(th.arrow)
        muted = qcolor(th.grid if th.name == "light" else th.muted, 255 if th.name == "light" else 150)
        width = 1.4 * fs
        vis = visible_area(painter, option)
        full = QRectF(vis)
        hl = ctx.highlighted

        def stroke(kind: str, color: QColor, w: float, heads: dict | None = None) -> None:
            painter.setPen(pen(color, w))
            painter.setBrush(Qt.NoBrush)
            draw_path(painter, paths.shafts[kind])
            if not small:
                fill_path(painter, (paths.heads if heads is None else heads)[kind], color)

        if u < 0.999:
            painter.setOpacity(1.0)
            for kind in WEIGHTS:
                c = qcolor(th.shared) if kind in hl else arrow
                w = 3.0 * fs if kind in hl else width
                if kind == "W_hh":
                    painter.setOpacity(u)
                    stroke(kind, c, w)
                    painter.setOpacity(1.0 - u)
                    painter.setPen(pen(c, w * 1.1))
                    draw_path(painter, paths.loop)
                    fill_path(painter, paths.loop_head, c)
                    painter.setOpacity(1.0)
                else:
                    painter.setOpacity(u)
                    stroke(kind, c, w)
                    painter.setOpacity(1.0 - u)
                    if not L.columns["x" if kind == "W_xh" else "y"].rows[max(1, fr.active)]:
                        painter.setOpacity(0.0)
                    painter.setPen(pen(c, w))
                    draw_path(painter, paths.single_shafts[kind])
                    fill_path(painter, paths.single_heads[kind], c)
                    painter.setOpacity(1.0)
            stroke("cell", arrow, width)
            return

        sh = L.strip_h
        if small:  # far out the strips touch: only the backward gradient flow is worth drawing
            if fr.mode == "backward":
                b = fr.backward_from
                split = L.row_top(b - 1) + sh if b <= L.T else L.row_top(L.T) + sh + L.pitch
                painter.setClipRect(QRectF(full.left(), split, full.width(), max(0.0, full.bottom() - split)))
                for level, path in enumerate(paths.flow):
                    frac = level / (FLOW_LEVELS - 1)
                    painter.setPen(pen(qcolor(th.backward, int(90 + 165 * frac)), (0.8 + 5.2 * frac) * fs))
                    draw_path(painter, path)
                painter.setClipping(False)
            for kind in hl:
                stroke(kind, qcolor(th.shared), 2.0 * fs)
            return
        if fr.mode == "forward":
            split = L.row_top(fr.forward_done) + sh + 0.5
            done = QRectF(full.left(), full.top(), full.width(), max(0.0, split - full.top()))
            rest = QRectF(full.left(), split, full.width(), max(0.0, full.bottom() - split))
            painter.setClipRect(rest)
            for kind in KINDS_DRAWN:
                stroke(kind, muted, width)
            painter.setClipRect(done)
            for kind in KINDS_DRAWN:
                stroke(kind, arrow, width)
        else:
            b = fr.backward_from
            split = L.row_top(b - 1) + sh + 0.5 if b <= L.T else L.row_top(L.T) + sh + L.pitch
            done = QRectF(full.left(), split, full.width(), max(0.0, full.bottom() - split))
            rest = QRectF(full.left(), full.top(), full.width(), max(0.0, split - full.top()))
            painter.setClipRect(rest)
            for kind in KINDS_DRAWN:
                stroke(kind, muted, width)
            painter.setClipRect(done)
            back = qcolor(th.backward)
            stroke("W_xh", back, width)
            stroke("cell", back, width, paths.heads_back)
            stroke("W_hy", back, width * 1.3, paths.heads_back)
            for level, path in enumerate(paths.flow):
                if path.isEmpty():
                    continue
                frac = level / (FLOW_LEVELS - 1)
                c = qcolor(th.backward, int(90 + 165 * frac))
                painter.setPen(pen(c, (0.8 + 7.2 * frac) * fs))
                draw_path(painter, path)
            if not small:
                fill_path(painter, paths.heads_back["W_hh"], back)
                fill_path(painter, paths.heads_back["cell"], back)
        painter.setClipping(False)
        for kind in hl:
            stroke(kind, qcolor(th.shared), 3.2 * fs)
