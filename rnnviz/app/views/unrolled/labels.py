"""The unrolled diagram's text, as one item: row labels ("t = 3"), the weights' names beside
their arrows, gate letters, the gradient through W_hh in the backward pass and each step's loss.

Labels thin out as rows get small on screen; a fitted long sequence (squeezed vertically) keeps
only its row labels, drawn in screen pixels so they are not distorted.
"""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter

from rnnviz.app.views.unrolled.items import DiagramItem
from rnnviz.app.views.unrolled.paint import (
    draw_sub, font, is_squeezed, qcolor, screen_scale, subscript, visible_area,
)


def small(size: float, L, normal: float = 0.85) -> float:
    """The size of the secondary labels (tanh, c ⊙ f, the gradient norms, each step's loss):
    `normal` of the row labels' size, but as large as the arrow names in presentation mode (s > 1),
    so that every label reads on a projector."""
    return size * (0.95 if L.s > 1 else normal)


class LabelItem(DiagramItem):
    """Row labels, arrow labels and per-step numbers, thinned out when small on screen."""

    def paint(self, painter, option, widget=None) -> None:
        ctx = self.ctx
        L, fr, th, fs = ctx.layout, ctx.frame, ctx.theme, ctx.font_scale
        lod = screen_scale(painter)
        vis = visible_area(painter, option)
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setRenderHint(QPainter.TextAntialiasing, True)
        size = 12.5 * L.s
        if size * lod < 6.0 and not is_squeezed(painter):
            return
        cx, ch, cy = L.columns["x"], L.columns["h"], L.columns["y"]
        hl = ctx.highlighted
        text, muted = qcolor(th.text), qcolor(th.muted)
        u = L.unroll
        if u < 0.999:
            t = max(1, fr.active)
            y = L.row_center(1)
            painter.setPen(text)
            painter.setFont(font(size))
            painter.drawText(QRectF(L.margin, L.row_top(1), L.label_w - 10 * L.s, L.strip_h),
                             Qt.AlignRight | Qt.AlignVCenter, f"t = {t}")
            if u < 0.6:
                painter.setOpacity(1.0 - u / 0.6)
                self._arrow_labels(painter, 1, y, size, hl, cx, ch, cy, t)
                painter.setPen(qcolor(th.shared) if "W_hh" in hl else muted)
                ytop = L.row_top(1) + L.strip_h
                draw_sub(painter, ch.center, ytop + L.loop_h - 6 * L.s, "W", "hh" if L.cell == "rnn" else "h•", size, "center")
                painter.setOpacity(1.0)
            return
        r0, r1 = L.visible_rows(vis.top(), vis.bottom())
        screen_pitch = L.pitch * abs(painter.worldTransform().m22())
        every = 1
        for k in (1, 2, 5, 10, 20, 50, 100, 200, 500):
            every = k
            if screen_pitch * k >= 18 * fs:
                break
        squeezed = is_squeezed(painter)
        wt = painter.worldTransform()
        if squeezed:  # row labels in screen pixels, the rest left out
            painter.save()
            painter.resetTransform()
            painter.setFont(font(11 * fs))
        else:
            painter.setFont(font(size))
        for r in range(r0, r1 + 1):
            if r % every and r != fr.active:
                continue
            if r != fr.active and abs(r - fr.active) * screen_pitch < 14 * fs:
                continue  # keep the active row's label clear
            painter.setPen(text if r == fr.active else muted)
            rect = QRectF(L.margin * 0.5 + 6 * L.s, L.row_top(r), L.label_w + L.margin * 0.5 - 16 * L.s, L.strip_h)
            if squeezed:
                dr = wt.mapRect(rect)
                painter.setFont(font(11 * fs, bold=r == fr.active))
                painter.drawText(QRectF(dr.right() - 80 * fs, dr.center().y() - 10 * fs, 80 * fs, 20 * fs),
                                 Qt.AlignRight | Qt.AlignVCenter, f"t = {r}")
            else:
                painter.setFont(font(size, bold=r == fr.active))
                painter.drawText(rect, Qt.AlignRight | Qt.AlignVCenter, f"t = {r}")
        if squeezed:
            painter.restore()
            return
        if screen_pitch < 34 or size * lod < 8:
            return
        for r in range(max(r0, 0), r1 + 1):
            self._arrow_labels(painter, r, L.row_center(r), size, hl, cx, ch, cy, r)
            if r >= 1:
                self._whh_label(painter, r, size, hl)
            self._loss_label(painter, r, size)

    def _arrow_labels(self, painter, r, yc, size, hl, cx, ch, cy, t) -> None:
        ctx = self.ctx
        th, L = ctx.theme, ctx.layout
        if t < 1:
            return
        lift = L.strip_h * 0.5 + 3 * L.s
        gated = L.cell != "rnn"
        if cx.rows[t]:
            painter.setPen(qcolor(th.shared) if "W_xh" in hl else qcolor(th.muted))
            draw_sub(painter, (cx.right + L.block_left) / 2 - (11 * L.s if L.expanded else 0), yc - lift + size * 0.1,
                     "W", "x•" if gated else "xh", size * 0.95)
        cc = L.columns.get("c")
        if cc is not None:  # c_t → h_t through tanh (and the output gate)
            painter.setPen(qcolor(th.muted))
            painter.setFont(font(small(size, L, 0.8), italic=True))
            painter.drawText(QRectF(cc.right, yc - lift - size * 0.8, ch.left - cc.right, size * 1.2),
                             Qt.AlignCenter, "tanh")
        if L.expanded:
            self._gate_labels(painter, t, size)
        if cy.rows[t]:
            painter.setPen(qcolor(th.shared) if "W_hy" in hl else qcolor(th.muted))
            draw_sub(painter, (ch.right + cy.left) / 2, yc - lift + size * 0.1, "W", "hy", size * 0.95)

    def _gate_labels(self, painter, t, size) -> None:
        """Each gate strip's letter, left of it (italic, as in the formulas)."""
        L, th = self.ctx.layout, self.ctx.theme
        painter.setPen(qcolor(th.text))
        for kind, col in L.columns.items():
            if kind.startswith("gate:"):
                y = L.row_top(t) + col.dy + col.height / 2
                draw_sub(painter, col.left - 3.5 * L.s, y, kind[5:], "", size * 0.9, "right")

    def _whh_label(self, painter, t, size, hl) -> None:
        ctx = self.ctx
        L, th, fr, d = ctx.layout, ctx.theme, ctx.frame, ctx.data
        y0 = L.row_top(t - 1) + L.strip_h
        ym = (y0 + (L.bus_y(t) if L.expanded else L.row_top(t))) / 2
        if L.gap * 0.8 < size:
            return
        gated = L.cell != "rnn"
        xh = L.line_x("h")
        back = fr.mode == "backward" and t >= fr.backward_from
        painter.setPen(qcolor(th.shared) if "W_hh" in hl else qcolor(th.muted))
        draw_sub(painter, xh + 10 * L.s, ym, "W", "h•" if gated else "hh", size * 0.95, "left")
        cc = L.columns.get("c")
        if cc is not None and not back:
            painter.setPen(qcolor(th.muted))
            painter.setFont(font(small(size, L)))
            painter.drawText(QRectF(L.line_x("c") + 8 * L.s, ym - size, 80 * L.s, 2 * size),
                             Qt.AlignLeft | Qt.AlignVCenter, "c  (⊙ f)")
        if back:
            painter.setPen(qcolor(th.backward))
            painter.setFont(font(small(size, L)))
            g = float(d.flow[t])
            what = f"‖∂L/∂a{subscript(t)}‖" if not gated else f"gates ‖∂L/∂a{subscript(t)}‖"
            painter.drawText(QRectF(xh - 220 * L.s, ym - size, 208 * L.s, 2 * size),
                             Qt.AlignRight | Qt.AlignVCenter, f"{what} = {g:.2g}")
            if cc is not None and d.flow_c is not None:
                gc = float(d.flow_c[t])
                painter.drawText(QRectF(L.line_x("c") - 220 * L.s, ym - size, 208 * L.s, 2 * size),
                                 Qt.AlignRight | Qt.AlignVCenter, f"‖∂L/∂c{subscript(t)} ⊙ f{subscript(t)}‖ = {gc:.2g}")

    def _loss_label(self, painter, r, size) -> None:
        ctx = self.ctx
        L, fr, th = ctx.layout, ctx.frame, ctx.theme
        if r < 1 or fr.mode != "forward" or r > fr.forward_done or "target" not in L.columns:
            return
        col = L.columns["target"]
        if not col.rows[r]:
            return
        painter.setPen(qcolor(th.muted))
        painter.setFont(font(small(size, L)))
        painter.drawText(QRectF(col.right + 8 * L.s, L.row_top(r), 90 * L.s, L.strip_h),
                         Qt.AlignLeft | Qt.AlignVCenter, f"ℓ = {ctx.data.loss_t[r]:.3g}")
