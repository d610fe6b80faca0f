"""The strips of one column of the unrolled diagram (x, h, c, y, target or a gate), as one item.

A strip is one row of the column's image (`DrawContext.images`), scaled into place; how much
detail is drawn follows the size on screen: far out one heat map, in the middle one image call
per row, close up cell borders, printed values and the true class of each output.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath

from rnnviz.app.style import colors
from rnnviz.app.views.unrolled.context import DrawContext
from rnnviz.app.views.unrolled.items import DiagramItem
from rnnviz.app.views.unrolled.layout import number_size, row_states
from rnnviz.app.views.unrolled.paint import (
    draw_path, fill_path, font, is_squeezed, number_exponent, pen, qcolor, screen_scale, visible_area,
)


class ColumnItem(DiagramItem):
    """Every strip of one column, painted row by row from one QImage."""

    def __init__(self, ctx: DrawContext, kind: str) -> None:
        super().__init__(ctx)
        self.kind = kind
        self._grid_path: QPainterPath | None = None
        self._grid_of = None  # the layout the cell borders were traced for

    def paint(self, painter, option, widget=None) -> None:
        ctx = self.ctx
        L = ctx.layout
        col = L.columns[self.kind]
        vis = visible_area(painter, option)
        if vis.right() < col.left or vis.left() > col.right:
            return
        lod = screen_scale(painter)
        fr = ctx.frame
        T = L.T
        source, lo, hi = row_states(self.kind, fr.mode, fr.forward_done, fr.backward_from, T)
        img = ctx.images.get(("forward" if source == "faded" else source, self.kind))
        vals = ctx.values(source, self.kind)
        th = ctx.theme
        sh = L.strip_h_of(col)
        dy = col.dy
        u = L.unroll
        painter.setRenderHint(QPainter.Antialiasing, False)
        painter.setRenderHint(QPainter.SmoothPixmapTransform, False)
        empty = qcolor(th.panel)
        outline = pen(qcolor(th.text, 70 if th.name == "light" else 110), 1.0)
        empty_pen = pen(qcolor(th.muted, 110 if th.name == "light" else 120), 1.0)
        faded = source == "faded"

        if u < 0.999:  # rolling: every row of the column, the active one last and opaque
            act = max(1, fr.active) if fr.active >= 1 or self.kind != "h" else 0
            order = [r for r in range(T + 1) if col.rows[r] and r != act]
            draw = [(r, u) for r in order if u > 0.01] + ([(act, 1.0)] if col.rows[act] else [])
            for r, alpha in draw:
                painter.setOpacity(alpha * (0.35 if faded else 1.0))
                self._strip(painter, col, r, L.row_top(r) + dy, img, lo <= r <= hi, empty, outline, empty_pen, lod, vals, source)
            painter.setOpacity(1.0)
            self._selection(painter, col, lod, rolled_row=act)
            return

        r0, r1 = L.visible_rows(vis.top(), vis.bottom())
        if r1 < r0:
            return
        if faded:
            painter.setOpacity(0.35)
        screen_h = sh * lod
        contiguous = bool(col.rows[max(r0, 1):r1 + 1].all()) and (r1 - r0) > 2
        if screen_h < 6.0 and contiguous:
            # far out: the coloured rows as one heat map, the empty ones as one grey block
            a, b = max(r0, lo), min(r1, hi)
            first = r0 if col.rows[r0] else r0 + 1
            if img is not None and a <= b:
                y0, y1 = L.row_top(a) + dy, L.row_top(b) + dy + sh
                painter.drawImage(QRectF(col.left, y0, col.width, y1 - y0), img, QRectF(0, a, col.units, b - a + 1))
            for ea, eb in ((first, min(r1, lo - 1)), (max(first, hi + 1), r1)):
                if ea <= eb:
                    y0, y1 = L.row_top(ea) + dy, L.row_top(eb) + dy + sh
                    painter.fillRect(QRectF(col.left, y0, col.width, y1 - y0), empty)
        elif screen_h >= 9:  # close up: cell borders, numbers, class marks, row by row
            for r in range(r0, r1 + 1):
                if col.rows[r]:
                    self._strip(painter, col, r, L.row_top(r) + dy, img, lo <= r <= hi, empty, outline, empty_pen, lod, vals, source, vis)
        else:  # middle distance: one image call per coloured row, the frames batched
            rs = np.arange(r0, r1 + 1)
            rs = rs[col.rows[r0:r1 + 1]]
            tops = L.row_top(rs) + dy
            coloured = (rs >= lo) & (rs <= hi) & (img is not None)
            left, width, units = col.left, col.width, col.units
            for r, y in zip(rs[coloured].tolist(), tops[coloured].tolist()):
                painter.drawImage(QRectF(left, y, width, sh), img, QRectF(0, r, units, 1))
            blank = [QRectF(left, y, width, sh) for y in tops[~coloured].tolist()]
            if blank:  # not computed yet: outlines only
                painter.setPen(empty_pen)
                painter.setBrush(Qt.NoBrush)
                painter.drawRects(blank)
            framed = [QRectF(left, y, width, sh) for y in tops[coloured].tolist()]
            if framed and screen_h >= 3:
                painter.setPen(outline)
                painter.setBrush(Qt.NoBrush)
                painter.drawRects(framed)
        painter.setOpacity(1.0)
        self._selection(painter, col, lod)

    def _strip(self, painter, col, r, y, img, filled, empty, outline, empty_pen, lod, vals, source, vis=None) -> None:
        ctx = self.ctx
        L = ctx.layout
        sh = L.strip_h_of(col)
        rect = QRectF(col.left, y, col.width, sh)
        if filled and img is not None:
            painter.drawImage(rect, img, QRectF(0, r, col.units, 1))
            detail = sh * lod >= 9
            if detail and col.cell_w * lod >= 12 and col.units > 1:
                painter.setPen(pen(qcolor(ctx.theme.background), 1.0))
                painter.translate(0, y)
                draw_path(painter, self._grid(col))
                painter.translate(0, -y)
            painter.setPen(outline)
            painter.setBrush(Qt.NoBrush)
            painter.drawRect(rect)
            if detail and vals is not None:
                self._numbers(painter, col, r, y, vals, lod, source, vis)
        else:  # not computed yet: outline only
            painter.setPen(empty_pen)
            painter.setBrush(Qt.NoBrush)
            painter.drawRect(rect)
        if filled and self.kind == "y" and ctx.data.true_class is not None and sh * lod >= 6:
            k = int(ctx.data.true_class[r])
            if 0 <= k < col.units:  # the true class: a small notch above its cell
                cx = col.left + (k + 0.5) * col.cell_w
                s = min(col.cell_w * 0.35, 6 * L.s)
                path = QPainterPath()
                path.moveTo(cx - s, y - s * 1.1)
                path.lineTo(cx + s, y - s * 1.1)
                path.lineTo(cx, y - 1)
                path.closeSubpath()
                painter.setRenderHint(QPainter.Antialiasing, True)
                fill_path(painter, path, qcolor(ctx.theme.text))
                painter.setRenderHint(QPainter.Antialiasing, False)

    def _grid(self, col) -> QPainterPath:
        """The cell borders of one strip at y = 0 (traced once per layout)."""
        L = self.ctx.layout
        if self._grid_of is not L:
            path = QPainterPath()
            sh = L.strip_h_of(col)
            for x in (col.left + col.cell_w * np.arange(1, col.units)).tolist():
                path.moveTo(x, 0)
                path.lineTo(x, sh)
            self._grid_path, self._grid_of = path, L
        return self._grid_path

    def _numbers(self, painter, col, r, y, vals, lod, source, vis) -> None:
        ctx = self.ctx
        L = ctx.layout
        limit = ctx.limit(source, self.kind)
        k = number_exponent(limit)
        sh = L.strip_h_of(col)
        size = number_size(col, sh, L.s)
        if size * lod < 7.5 or is_squeezed(painter):
            return
        u0, u1 = 0, col.units
        if vis is not None and vis.isValid():
            u0 = max(0, int((vis.left() - col.left) / col.cell_w))
            u1 = min(col.units, int(math.ceil((vis.right() - col.left) / col.cell_w)))
        row = vals[r]
        painter.setFont(font(size))
        dark, light = QColor("#1d2125"), QColor("#ffffff")
        scale = 10.0 ** -k
        seq = ctx.data.sequential(self.kind)
        darks = colors.texts_are_dark(row[u0:u1], limit, seq).tolist()  # (u1 - u0,) one pass over the cells
        for i in range(u0, u1):
            val = float(row[i])
            painter.setPen(dark if darks[i - u0] else light)
            text = f"{val * scale:.2f}" if math.isfinite(val) else ("nan" if math.isnan(val) else "inf")
            if text == "-0.00":
                text = "0.00"
            painter.drawText(QRectF(col.left + i * col.cell_w, y, col.cell_w, sh), Qt.AlignCenter, text)

    def _selection(self, painter, col, lod, rolled_row: int | None = None) -> None:
        ctx = self.ctx
        sel = ctx.selection
        if sel is None or sel.kind != self.kind:
            return
        L = ctx.layout
        if rolled_row is not None:
            if sel.t != rolled_row:
                return
            y = L.row_top(rolled_row) + col.dy
        else:
            if not (0 <= sel.t <= L.T) or not col.rows[sel.t]:
                return
            y = L.row_top(sel.t) + col.dy
        sh = L.strip_h_of(col)
        th = ctx.theme
        pad = 2.5 / max(lod, 1e-6)
        painter.setRenderHint(QPainter.Antialiasing, False)
        painter.setBrush(Qt.NoBrush)
        painter.setPen(pen(qcolor(th.text), 2.0 * ctx.font_scale))
        painter.drawRect(QRectF(col.left - pad, y - pad, col.width + 2 * pad, sh + 2 * pad))
        if sel.unit is not None and 0 <= sel.unit < col.units:
            painter.setPen(pen(qcolor(th.highlight), 3.0 * ctx.font_scale))
            painter.drawRect(QRectF(col.left + sel.unit * col.cell_w, y, col.cell_w, sh))
