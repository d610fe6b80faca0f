"""The unrolled network: one row per time step, x_t → h_t → y_t across, W_hh arrows down.

It draws what the session says and never recomputes the math: values and gradients come
straight from the trace. Drawing is cheap by construction: a handful of graphics items (one per
column, one for all arrows, one for labels, one for the active-row band) each paint only the
rows in view; a strip of cells is one scaled QImage row built once per trace from the shared
colour LUT; arrows of one kind are one QPainterPath built once per geometry. A change of
position only repaints; a new trace only pushes new images; only a new network rebuilds items.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEasingCurve, QPointF, QRectF, Qt, QVariantAnimation, Signal
from PySide6.QtGui import (
    QBrush, QColor, QFont, QImage, QPainter, QPainterPath, QPen, QTransform,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsView, QToolButton, QToolTip, QWidget

from rnnviz.app.style import colors
from rnnviz.app.style import theme as themes
from rnnviz.app.state.session import Selection, Session
from rnnviz.app.views.unrolled.layout import KINDS, WEIGHTS, NodeData, UnrolledLayout, row_states

_FLOW_LEVELS = 6  # W_hh arrows in the backward pass come in this many widths
KINDS_DRAWN = (*WEIGHTS, "cell")  # arrow groups: the weights, and a gated cell's own (c line, gates)


# small drawing helpers -----------------------------------------------------------------------------
def _qc(name: str, alpha: int | None = None) -> QColor:
    c = QColor(name)
    if alpha is not None:
        c.setAlpha(alpha)
    return c


_FIT_LABEL_MARGIN = 9.0  # px (at type scale 1) kept free above and below the rows by "fit"


def _draw_path(painter: QPainter, path: QPainterPath) -> None:
    """drawPath, skipping empty paths (an SVG export would hold them as `<path d="">`)."""
    if not path.isEmpty():
        painter.drawPath(path)


def _fill_path(painter: QPainter, path: QPainterPath, color) -> None:
    if not path.isEmpty():
        painter.fillPath(path, color)


def _pen(color: QColor, width: float, cosmetic: bool = True) -> QPen:
    p = QPen(color, width)
    p.setCosmetic(cosmetic)
    p.setCapStyle(Qt.FlatCap)
    p.setJoinStyle(Qt.MiterJoin)
    return p


_FONTS: dict[tuple[int, bool, bool], QFont] = {}


def _font(px: float, bold: bool = False, italic: bool = False) -> QFont:
    """A font of px logical pixels (cached: building fonts is slow compared to drawing)."""
    key = (max(1, int(round(px))), bold, italic)
    f = _FONTS.get(key)
    if f is None:
        f = QFont()
        f.setPixelSize(key[0])
        f.setBold(bold)
        f.setItalic(italic)
        _FONTS[key] = f
    return f


def _visible(painter: QPainter, option) -> QRectF:
    """The part of the scene this paint call can reach (exposed rect ∩ the device)."""
    dev = painter.device()
    inv, ok = painter.worldTransform().inverted()
    area = inv.mapRect(QRectF(0, 0, dev.width(), dev.height())) if ok else QRectF()
    exposed = option.exposedRect if option is not None else QRectF()
    if exposed.isValid() and not exposed.isEmpty():
        area = area.intersected(exposed) if area.isValid() else exposed
    return area


def _lod(painter: QPainter) -> float:
    """Scene-to-screen scale (the smaller one when a fitted long sequence is squeezed)."""
    t = painter.worldTransform()
    return min(abs(t.m11()), abs(t.m22()))


def _squeezed(painter: QPainter) -> bool:
    """Whether the vertical scale differs from the horizontal one (text would be distorted)."""
    t = painter.worldTransform()
    return abs(t.m11() - t.m22()) > 0.03 * max(abs(t.m22()), 1e-9)


_SUB_METRICS: dict[tuple, tuple[float, float, float]] = {}


def draw_sub(painter: QPainter, x: float, y: float, base: str, sub: str = "", size: float = 12.0,
             align: str = "center", bold: bool = False) -> float:
    """Draw `base` with subscript `sub` (W_xh, h_t) with its baseline-middle at (x, y);
    align is "left", "center" or "right". Returns the width drawn."""
    f1, f2 = _font(size, bold, italic=len(base) == 1), _font(size * 0.72, bold)
    key = (base, sub, f1.pixelSize(), bold)
    m = _SUB_METRICS.get(key)
    if m is None:
        painter.setFont(f1)
        fm = painter.fontMetrics()
        w1, asc = fm.horizontalAdvance(base), fm.ascent() - fm.descent()
        painter.setFont(f2)
        w2 = painter.fontMetrics().horizontalAdvance(sub) if sub else 0.0
        m = _SUB_METRICS[key] = (w1, w2, asc)
    w1, w2, asc = m
    w = w1 + w2 + (size * 0.08 if sub else 0.0)
    x0 = x - w / 2 if align == "center" else (x - w if align == "right" else x)
    yb = y + asc / 2
    painter.setFont(f1)
    painter.drawText(QPointF(x0, yb), base)
    if sub:
        painter.setFont(f2)
        painter.drawText(QPointF(x0 + w1 + size * 0.08, yb + size * 0.28), sub)
    return w


def number_exponent(limit: float) -> int:
    """Cells print value / 10^k; k ≠ 0 only for ranges far from 1 (the header says ×10^k)."""
    if 0.1 <= limit < 100 or limit <= 0 or not math.isfinite(limit):
        return 0
    return int(math.floor(math.log10(limit)))


_SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _times_ten(k: int) -> str:
    return f"×10{str(k).translate(_SUP)}"


def _fmt_limit(limit: float) -> str:
    if 0.01 <= limit < 1000:
        return f"{limit:g}"
    return f"{limit:.0e}".replace("e-0", "e-").replace("e+0", "e")


# graphics items -----------------------------------------------------------------------------------
class _Item(QGraphicsItem):
    def __init__(self, view: "UnrolledView") -> None:
        super().__init__()
        self._v = view
        self.setFlag(QGraphicsItem.ItemUsesExtendedStyleOption, True)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt name)
        return self._v._bounds


class _BandItem(_Item):
    """The active row's band (behind everything)."""

    def paint(self, painter, option, widget=None) -> None:
        v = self._v
        L, fr = v._layout, v._frame
        r = fr.active if L.unroll >= 0.999 else 1
        if L.unroll >= 0.999 and v._frame.active == 0 and fr.mode == "forward":
            r = 0
        color = v._theme.highlight if fr.mode == "forward" else v._theme.backward
        top = L.row_top(r) - L.gap * 0.32 - (L.band_h if r >= 1 else 0.0)
        rect = QRectF(L.margin * 0.5, top, L.right - L.margin, L.strip_h + L.gap * 0.64 + (L.band_h if r >= 1 else 0.0))
        painter.setPen(Qt.NoPen)
        painter.setBrush(_qc(color, 44 if v._theme.name == "light" else 60))
        painter.drawRect(rect)
        painter.setBrush(_qc(color))
        painter.drawRect(QRectF(rect.left(), rect.top(), 4 * L.s, rect.height()))


class _ColumnItem(_Item):
    """Every strip of one column (x, h, y or target), painted row by row from one QImage."""

    def __init__(self, view: "UnrolledView", kind: str) -> None:
        super().__init__(view)
        self.kind = kind

    def paint(self, painter, option, widget=None) -> None:
        v = self._v
        L = v._layout
        col = L.columns[self.kind]
        vis = _visible(painter, option)
        if vis.right() < col.left or vis.left() > col.right:
            return
        lod = _lod(painter)
        fr = v._frame
        T = L.T
        source, lo, hi = row_states(self.kind, fr.mode, fr.forward_done, fr.backward_from, T)
        img = v._images.get(("forward" if source == "faded" else source, self.kind))
        vals = v._values(source, self.kind)
        th = v._theme
        sh = L.strip_h_of(col)
        dy = col.dy
        u = L.unroll
        painter.setRenderHint(QPainter.Antialiasing, False)
        painter.setRenderHint(QPainter.SmoothPixmapTransform, False)
        empty = _qc(th.panel)
        outline = _pen(_qc(th.text, 70 if th.name == "light" else 110), 1.0)
        empty_pen = _pen(_qc(th.muted, 110 if th.name == "light" else 120), 1.0)
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
        L = self._v._layout
        sh = L.strip_h_of(col)
        rect = QRectF(col.left, y, col.width, sh)
        if filled and img is not None:
            painter.drawImage(rect, img, QRectF(0, r, col.units, 1))
            detail = sh * lod >= 9
            if detail and col.cell_w * lod >= 12 and col.units > 1:
                painter.setPen(_pen(_qc(self._v._theme.background), 1.0))
                painter.translate(0, y)
                _draw_path(painter, self._grid(col))
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
        if filled and self.kind == "y" and self._v._data.true_class is not None and sh * lod >= 6:
            k = int(self._v._data.true_class[r])
            if 0 <= k < col.units:  # the true class: a small notch above its cell
                th = self._v._theme
                cx = col.left + (k + 0.5) * col.cell_w
                s = min(col.cell_w * 0.35, 6 * L.s)
                path = QPainterPath()
                path.moveTo(cx - s, y - s * 1.1)
                path.lineTo(cx + s, y - s * 1.1)
                path.lineTo(cx, y - 1)
                path.closeSubpath()
                painter.setRenderHint(QPainter.Antialiasing, True)
                _fill_path(painter, path, _qc(th.text))
                painter.setRenderHint(QPainter.Antialiasing, False)

    def _grid(self, col) -> QPainterPath:
        """The cell borders of one strip at y = 0 (cached per layout)."""
        key = (id(self._v._layout), col.kind)
        if getattr(self, "_grid_key", None) != key:
            path = QPainterPath()
            sh = self._v._layout.strip_h_of(col)
            for x in (col.left + col.cell_w * np.arange(1, col.units)).tolist():
                path.moveTo(x, 0)
                path.lineTo(x, sh)
            self._grid_path, self._grid_key = path, key
        return self._grid_path

    def _numbers(self, painter, col, r, y, vals, lod, source, vis) -> None:
        v = self._v
        L = v._layout
        limit = v._limit(source, self.kind)
        k = number_exponent(limit)
        sh = L.strip_h_of(col)
        size = min(11.5 * L.s, sh * 0.46, col.cell_w / 3.1)
        if size * lod < 7.5 or _squeezed(painter):
            return
        u0, u1 = 0, col.units
        if vis is not None and vis.isValid():
            u0 = max(0, int((vis.left() - col.left) / col.cell_w))
            u1 = min(col.units, int(math.ceil((vis.right() - col.left) / col.cell_w)))
        row = vals[r]
        painter.setFont(_font(size))
        dark, light = QColor("#1d2125"), QColor("#ffffff")
        scale = 10.0 ** -k
        seq = v._data.sequential(self.kind)
        for i in range(u0, u1):
            val = float(row[i])
            is_dark = colors.seq_text_is_dark(val) if seq else colors.text_is_dark(val, limit)
            painter.setPen(dark if is_dark else light)
            text = f"{val * scale:.2f}" if math.isfinite(val) else ("nan" if math.isnan(val) else "inf")
            if text == "-0.00":
                text = "0.00"
            painter.drawText(QRectF(col.left + i * col.cell_w, y, col.cell_w, sh), Qt.AlignCenter, text)

    def _selection(self, painter, col, lod, rolled_row: int | None = None) -> None:
        sel = self._v.session.selection
        if sel is None or sel.kind != self.kind:
            return
        L = self._v._layout
        if rolled_row is not None:
            if sel.t != rolled_row:
                return
            y = L.row_top(rolled_row) + col.dy
        else:
            if not (0 <= sel.t <= L.T) or not col.rows[sel.t]:
                return
            y = L.row_top(sel.t) + col.dy
        sh = L.strip_h_of(col)
        th = self._v._theme
        pad = 2.5 / max(lod, 1e-6)
        painter.setRenderHint(QPainter.Antialiasing, False)
        painter.setBrush(Qt.NoBrush)
        painter.setPen(_pen(_qc(th.text), 2.0 * self._v._fs))
        painter.drawRect(QRectF(col.left - pad, y - pad, col.width + 2 * pad, sh + 2 * pad))
        if sel.unit is not None and 0 <= sel.unit < col.units:
            painter.setPen(_pen(_qc(th.highlight), 3.0 * self._v._fs))
            painter.drawRect(QRectF(col.left + sel.unit * col.cell_w, y, col.cell_w, sh))


class _ArrowItem(_Item):
    """All weight arrows: one path per kind, coloured by frame regions with clip rectangles."""

    def paint(self, painter, option, widget=None) -> None:
        v = self._v
        L, fr, th, fs = v._layout, v._frame, v._theme, v._fs
        paths = v._arrow_paths()
        lod = _lod(painter)
        small = L.strip_h * lod < 6
        painter.setRenderHint(QPainter.Antialiasing, not small)
        u = L.unroll
        arrow, muted = _qc(th.arrow), _qc(th.grid if th.name == "light" else th.muted, 255 if th.name == "light" else 150)
        width = 1.4 * fs
        vis = _visible(painter, option)
        full = QRectF(vis)
        hl = v._highlighted_kinds()

        def stroke(kind: str, color: QColor, w: float, head: str = "heads") -> None:
            painter.setPen(_pen(color, w))
            painter.setBrush(Qt.NoBrush)
            _draw_path(painter, paths["shafts"][kind])
            if not small:
                _fill_path(painter, paths[head][kind], color)

        if u < 0.999:
            painter.setOpacity(1.0)
            for kind in WEIGHTS:
                c = _qc(th.shared) if kind in hl else arrow
                w = 3.0 * fs if kind in hl else width
                if kind == "W_hh":
                    painter.setOpacity(u)
                    stroke(kind, c, w)
                    painter.setOpacity(1.0 - u)
                    painter.setPen(_pen(c, w * 1.1))
                    _draw_path(painter, paths["loop"])
                    _fill_path(painter, paths["loop_head"], c)
                    painter.setOpacity(1.0)
                else:
                    painter.setOpacity(u)
                    stroke(kind, c, w)
                    painter.setOpacity(1.0 - u)
                    if not L.columns["x" if kind == "W_xh" else "y"].rows[max(1, fr.active)]:
                        painter.setOpacity(0.0)
                    painter.setPen(_pen(c, w))
                    _draw_path(painter, paths["single_shafts"][kind])
                    _fill_path(painter, paths["single_heads"][kind], c)
                    painter.setOpacity(1.0)
            stroke("cell", arrow, width)
            return

        sh = L.strip_h
        if small:  # far out the strips touch: only the backward gradient flow is worth drawing
            if fr.mode == "backward":
                b = fr.backward_from
                split = L.row_top(b - 1) + sh if b <= L.T else L.row_top(L.T) + sh + L.pitch
                painter.setClipRect(QRectF(full.left(), split, full.width(), max(0.0, full.bottom() - split)))
                for level, path in enumerate(paths["flow"]):
                    frac = level / (_FLOW_LEVELS - 1)
                    painter.setPen(_pen(_qc(th.backward, int(90 + 165 * frac)), (0.8 + 5.2 * frac) * fs))
                    _draw_path(painter, path)
                painter.setClipping(False)
            for kind in hl:
                stroke(kind, _qc(th.shared), 2.0 * fs)
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
            back = _qc(th.backward)
            stroke("W_xh", back, width)
            stroke("cell", back, width, "heads_back")
            stroke("W_hy", back, width * 1.3, "heads_back")
            for level, path in enumerate(paths["flow"]):
                if path.isEmpty():
                    continue
                frac = level / (_FLOW_LEVELS - 1)
                c = _qc(th.backward, int(90 + 165 * frac))
                painter.setPen(_pen(c, (0.8 + 7.2 * frac) * fs))
                _draw_path(painter, path)
            if not small:
                _fill_path(painter, paths["heads_back"]["W_hh"], back)
                _fill_path(painter, paths["heads_back"]["cell"], back)
        painter.setClipping(False)
        for kind in hl:
            stroke(kind, _qc(th.shared), 3.2 * fs)


class _LabelItem(_Item):
    """Row labels, arrow labels and per-step numbers, thinned out when small on screen."""

    def paint(self, painter, option, widget=None) -> None:
        v = self._v
        L, fr, th, fs = v._layout, v._frame, v._theme, v._fs
        lod = _lod(painter)
        vis = _visible(painter, option)
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setRenderHint(QPainter.TextAntialiasing, True)
        size = 12.5 * L.s
        if size * lod < 6.0 and not _squeezed(painter):
            return
        cx, ch, cy = L.columns["x"], L.columns["h"], L.columns["y"]
        hl = v._highlighted_kinds()
        text, muted = _qc(th.text), _qc(th.muted)
        u = L.unroll
        if u < 0.999:
            t = max(1, fr.active)
            y = L.row_center(1)
            painter.setPen(text)
            painter.setFont(_font(size))
            painter.drawText(QRectF(L.margin, L.row_top(1), L.label_w - 10 * L.s, L.strip_h),
                             Qt.AlignRight | Qt.AlignVCenter, f"t = {t}")
            if u < 0.6:
                painter.setOpacity(1.0 - u / 0.6)
                self._arrow_labels(painter, 1, y, size, hl, cx, ch, cy, t)
                painter.setPen(_qc(th.shared) if "W_hh" in hl else muted)
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
        squeezed = _squeezed(painter)
        wt = painter.worldTransform()
        if squeezed:  # row labels in screen pixels, the rest left out
            painter.save()
            painter.resetTransform()
            painter.setFont(_font(11 * fs))
        else:
            painter.setFont(_font(size))
        for r in range(r0, r1 + 1):
            if r % every and r != fr.active:
                continue
            if r != fr.active and abs(r - fr.active) * screen_pitch < 14 * fs:
                continue  # keep the active row's label clear
            painter.setPen(text if r == fr.active else muted)
            rect = QRectF(L.margin * 0.5 + 6 * L.s, L.row_top(r), L.label_w + L.margin * 0.5 - 16 * L.s, L.strip_h)
            if squeezed:
                dr = wt.mapRect(rect)
                painter.setFont(_font(11 * fs, bold=r == fr.active))
                painter.drawText(QRectF(dr.right() - 80 * fs, dr.center().y() - 10 * fs, 80 * fs, 20 * fs),
                                 Qt.AlignRight | Qt.AlignVCenter, f"t = {r}")
            else:
                painter.setFont(_font(size, bold=r == fr.active))
                painter.drawText(rect, Qt.AlignRight | Qt.AlignVCenter, f"t = {r}")
        if squeezed:
            painter.restore()
            return
        if screen_pitch < 34 or size * lod < 8:
            return
        for r in range(max(r0, 0), r1 + 1):
            self._arrow_labels(painter, r, L.row_center(r), size, hl, cx, ch, cy, r)
            if r >= 1:
                self._whh_label(painter, r, size, hl, ch)
            self._loss_label(painter, r, size)

    def _arrow_labels(self, painter, r, yc, size, hl, cx, ch, cy, t) -> None:
        v = self._v
        th = v._theme
        L = v._layout
        if t < 1:
            return
        lift = L.strip_h * 0.5 + 3 * L.s
        gated = L.cell != "rnn"
        if cx.rows[t]:
            painter.setPen(_qc(th.shared) if "W_xh" in hl else _qc(th.muted))
            draw_sub(painter, (cx.right + L.block_left) / 2 - (11 * L.s if L.expanded else 0), yc - lift + size * 0.1,
                     "W", "x•" if gated else "xh", size * 0.95)
        cc = L.columns.get("c")
        if cc is not None:  # c_t → h_t through tanh (and the output gate)
            painter.setPen(_qc(th.muted))
            painter.setFont(_font(size * 0.8, italic=True))
            painter.drawText(QRectF(cc.right, yc - lift - size * 0.8, ch.left - cc.right, size * 1.2),
                             Qt.AlignCenter, "tanh")
        if L.expanded:
            self._gate_labels(painter, t, size)
        if cy.rows[t]:
            painter.setPen(_qc(th.shared) if "W_hy" in hl else _qc(th.muted))
            draw_sub(painter, (ch.right + cy.left) / 2, yc - lift + size * 0.1, "W", "hy", size * 0.95)

    def _gate_labels(self, painter, t, size) -> None:
        """Each gate strip's letter, left of it (italic, as in the formulas)."""
        v = self._v
        L, th = v._layout, v._theme
        painter.setPen(_qc(th.text))
        for kind, col in L.columns.items():
            if kind.startswith("gate:"):
                y = L.row_top(t) + col.dy + col.height / 2
                draw_sub(painter, col.left - 3.5 * L.s, y, kind[5:], "", size * 0.9, "right")

    def _whh_label(self, painter, t, size, hl, ch) -> None:
        v = self._v
        L, th, fr = v._layout, v._theme, v._frame
        y0 = L.row_top(t - 1) + L.strip_h
        ym = (y0 + (L.bus_y(t) if L.expanded else L.row_top(t))) / 2
        if L.gap * 0.8 < size:
            return
        gated = L.cell != "rnn"
        xh = L.line_x("h")
        back = fr.mode == "backward" and t >= fr.backward_from
        painter.setPen(_qc(th.shared) if "W_hh" in hl else _qc(th.muted))
        draw_sub(painter, xh + 10 * L.s, ym, "W", "h•" if gated else "hh", size * 0.95, "left")
        cc = L.columns.get("c")
        if cc is not None and not back:
            painter.setPen(_qc(th.muted))
            painter.setFont(_font(size * 0.85))
            painter.drawText(QRectF(L.line_x("c") + 8 * L.s, ym - size, 80 * L.s, 2 * size),
                             Qt.AlignLeft | Qt.AlignVCenter, "c  (⊙ f)")
        if back:
            painter.setPen(_qc(th.backward))
            painter.setFont(_font(size * 0.85))
            g = float(v._data.flow[t])
            what = f"‖∂L/∂a{_subscript(t)}‖" if not gated else f"gates ‖∂L/∂a{_subscript(t)}‖"
            painter.drawText(QRectF(xh - 220 * L.s, ym - size, 208 * L.s, 2 * size),
                             Qt.AlignRight | Qt.AlignVCenter, f"{what} = {g:.2g}")
            if cc is not None and v._data.flow_c is not None:
                gc = float(v._data.flow_c[t])
                painter.drawText(QRectF(L.line_x("c") - 220 * L.s, ym - size, 208 * L.s, 2 * size),
                                 Qt.AlignRight | Qt.AlignVCenter, f"‖∂L/∂c{_subscript(t)} ⊙ f{_subscript(t)}‖ = {gc:.2g}")

    def _loss_label(self, painter, r, size) -> None:
        v = self._v
        L, fr, th = v._layout, v._frame, v._theme
        if r < 1 or fr.mode != "forward" or r > fr.forward_done or "target" not in L.columns:
            return
        col = L.columns["target"]
        if not col.rows[r]:
            return
        painter.setPen(_qc(th.muted))
        painter.setFont(_font(size * 0.85))
        painter.drawText(QRectF(col.right + 8 * L.s, L.row_top(r), 90 * L.s, L.strip_h),
                         Qt.AlignLeft | Qt.AlignVCenter, f"ℓ = {v._data.loss_t[r]:.3g}")


_SUBS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _subscript(n: int) -> str:
    return str(n).translate(_SUBS)


# the view -----------------------------------------------------------------------------------------
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
        self._items: list[QGraphicsItem] = []
        self._images: dict[tuple[str, str], QImage] = {}
        self._paths: dict | None = None
        self._paths_key: tuple | None = None
        self._bounds = QRectF()
        self._layout: UnrolledLayout | None = None
        self._data: NodeData | None = None
        self._view_mode = "auto"  # "auto" (readable default), "fit" or "user" (zoomed / panned)
        self._rolled = False
        self._gates = False  # gated cells: show the gates (expanded) or only h (and c)
        self.gates_button = QToolButton(self)
        self.gates_button.setText("Show gates")
        self.gates_button.setCheckable(True)
        self.gates_button.setFocusPolicy(Qt.NoFocus)
        self.gates_button.setToolTip("Expand every LSTM / GRU cell to show its gates (G)")
        self.gates_button.toggled.connect(self.set_gates_shown)
        self.gates_button.hide()
        self._press = None
        self._anim = QVariantAnimation(self)
        self._anim.setDuration(600)
        self._anim.setEasingCurve(QEasingCurve.InOutCubic)
        self._anim.valueChanged.connect(self._on_unroll)
        self._restyle(rebuild=False)
        self._frame = session.frame
        session.networkChanged.connect(self._on_network)
        session.traceChanged.connect(self._on_trace)
        session.positionChanged.connect(self._on_position)
        session.selectionChanged.connect(self._on_highlight)
        session.hoverChanged.connect(self._on_highlight)
        session.appearanceChanged.connect(self._on_appearance)
        if session.trace is not None:
            self._on_network()

    # public API ---------------------------------------------------------------------------------
    def fit_to_window(self) -> None:
        self._view_mode = "fit"
        self._apply_fit()

    def zoom_in(self) -> None:
        self._zoom(1.25)

    def zoom_out(self) -> None:
        self._zoom(1 / 1.25)

    def set_rolled(self, rolled: bool, animate: bool = True) -> None:
        if self._layout is None:
            self._rolled = rolled
            return
        self._rolled = bool(rolled)
        target = 0.0 if rolled else 1.0
        self._anim.stop()
        if not animate or abs(self._layout.unroll - target) < 1e-9:
            self._on_unroll(target)
            return
        self._anim.setStartValue(float(self._layout.unroll))
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
        if self._layout is not None and trace is not None and trace.cell != "rnn":
            mode = self._view_mode
            self._on_network()
            if mode == "fit":
                self.fit_to_window()

    def gates_shown(self) -> bool:
        return self._gates

    def is_animating(self) -> bool:
        return self._anim.state() == QVariantAnimation.Running

    def render_image(self, width: int, height: int) -> QImage:
        """The diagram as the view shows it, drawn offscreen at width × height (fitted when the
        view is fitted to its window), with its legend and headers."""
        img = QImage(int(width), int(height), QImage.Format_ARGB32_Premultiplied)
        img.fill(_qc(self._theme.background))
        if self._layout is None:
            return img
        src, kx, ky = self._source_rect(width, height)
        p = QPainter(img)
        p.setRenderHint(QPainter.TextAntialiasing, True)
        self._scene.render(p, QRectF(0, 0, width, height), src, Qt.IgnoreAspectRatio)
        t = QTransform(kx, 0, 0, ky, -src.left() * kx, -src.top() * ky)
        self._paint_overlay(p, QRectF(0, 0, width, height), t)
        p.end()
        return img

    def count_nodes(self, kind: str) -> int:
        """How many strips of kind x/h/y/target are drawn."""
        L = self._layout
        if L is None or kind not in L.columns:
            return 0
        col = L.columns[kind]
        if self._rolled:
            t = max(1, self._frame.active)
            return int(bool(col.rows[t]))
        return int(col.rows.sum())

    def highlighted_weight_copies(self) -> list[tuple[str, int]]:
        L = self._layout
        if L is None:
            return []
        out: list[tuple[str, int]] = []
        for kind in self._highlighted_kinds():
            if self._rolled:
                out.append((kind, max(1, self._frame.active)))
                continue
            if kind == "W_hh":
                rows = range(1, L.T + 1)
            else:
                col = L.columns["x" if kind == "W_xh" else "y"]
                rows = [int(t) for t in np.nonzero(col.rows)[0]]
            out += [(kind, t) for t in rows]
        return out

    def active_rows(self) -> list[int]:
        if self._layout is None:
            return []
        return [self._frame.active]

    def hit_test(self, scene_pos: QPointF) -> Selection | None:
        """The node cell or weight arrow at a scene position, as a Selection."""
        if self._layout is None:
            return None
        h = self._layout.hit(scene_pos.x(), scene_pos.y(), max(1, self._frame.active))
        if h is None:
            return None
        if h[0] == "node":
            return Selection(h[1], h[2], h[3])
        return Selection(h[1], h[2])

    def scene_point(self, kind: str, t: int, unit: int | None = None) -> QPointF:
        """The scene point at the middle of a cell (or of an arrow copy), for tests and tours."""
        L = self._layout
        assert L is not None
        r = 1 if self._rolled else t
        if kind in L.columns:
            col = L.columns[kind]
            x = col.center if unit is None else col.left + (unit + 0.5) * col.cell_w
            return QPointF(x, L.row_top(r) + col.dy + L.strip_h_of(col) / 2)
        cx, ch, cy = L.columns["x"], L.columns["h"], L.columns["y"]
        if kind == "W_xh":
            return QPointF((cx.right + L.block_left) / 2 - (16 * L.s if L.expanded else 0), L.row_center(r))
        if kind == "W_hy":
            return QPointF((ch.right + cy.left) / 2, L.row_center(r))
        if self._rolled:
            return QPointF(ch.center, L.row_top(1) + L.strip_h + L.loop_h * 0.6)
        y1 = L.bus_y(t) if L.expanded else L.row_top(t)
        return QPointF(L.line_x("h"), (L.row_top(t - 1) + L.strip_h + y1) / 2)

    def value_text(self, kind: str, t: int, unit: int) -> str:
        """What the tooltip says about one cell, e.g. "h_3[2] = 0.4132"."""
        d, fr = self._data, self._frame
        if d is None:
            return ""
        name = kind[5:] if kind.startswith("gate:") else kind
        computed = (t <= fr.forward_done) if kind not in ("h", "c") else (t <= fr.forward_done or t == 0)
        lines = []
        if kind == "target":
            if d.true_class is not None:
                lines.append(f"target_{t} = class {int(d.true_class[t])}{self._class_name(int(d.true_class[t]))}")
            else:
                lines.append(f"target_{t}[{unit}] = {d.forward['target'][t, unit]:.4f}")
        elif kind == "y" and d.probabilities:
            p = d.forward["y"][t, unit]
            logit = float(self.session.trace.y[t - 1, 0, unit]) if self.session.trace is not None else float("nan")
            lines.append(f"p_{t}[{unit}] = softmax(y_{t})[{unit}] = {p:.4f}   (y_{t}[{unit}] = {logit:.4f})")
        else:
            lines.append(f"{name}_{t}[{unit}] = {d.forward[kind][t, unit]:.4f}")
        if kind.startswith("gate:"):
            lines[0] += "   (σ: 0 closed … 1 open)" if d.sequential(kind) else "   (tanh)"
        if fr.mode == "forward" and not computed and kind != "x":
            lines[0] += "   (not computed yet at this step)"
        if kind in d.backward and t >= 1:
            g = d.backward[kind][t, unit]
            if fr.mode == "backward" and t >= fr.backward_from:
                lines.append(f"∂L/∂{name}_{t}[{unit}] = {g:.4g}")
        return "\n".join(lines)

    def weight_text(self, kind: str, t: int) -> str:
        """What the tooltip says about a weight arrow."""
        trace = self.session.trace
        if trace is None or trace.cell == "rnn" or kind == "W_hy":
            return f"{kind} (step {t}): the same matrix at every step"
        gates = ", ".join(trace.gates)
        side = "x" if kind == "W_xh" else "h"
        src = f"x_{t}" if side == "x" else f"h_{t - 1}"
        mats = ", ".join(f"W_{side}{g}" for g in trace.gates)
        return f"W_{side}• (step {t}): {src} into every gate ({gates}) through its own matrix ({mats}); the same at every step"

    # session → view ------------------------------------------------------------------------------------
    def _on_network(self) -> None:
        self._anim.stop()
        for it in self._items:
            self._scene.removeItem(it)
        self._items = []
        trace = self.session.trace
        if trace is None:
            self._layout = self._data = None
            return
        self._layout = UnrolledLayout(trace, self._fs, has_target=trace.targets is not None, gates=self._gates)
        self.gates_button.setVisible(trace.cell != "rnn")
        self._place_gates_button()
        self._layout.unroll = 0.0 if self._rolled else 1.0
        self._frame = self.session.frame
        self._push_trace()
        x, y, w, h = self._layout.scene_rect(1.0)
        self._bounds = QRectF(x - 50, min(y, self._layout.scene_rect(0.0)[1]) - 50, w + 100, h + 200)
        band = _BandItem(self)
        band.setZValue(-1)
        cols = [_ColumnItem(self, k) for k in self._layout.columns]
        arrows = _ArrowItem(self)
        labels = _LabelItem(self)
        labels.setZValue(2)
        for it in (band, *cols, arrows, labels):
            self._scene.addItem(it)
        self._items = [band, *cols, arrows, labels]
        self._scene.setSceneRect(self._bounds)
        self._update_scene_rect()
        if self._view_mode == "user":
            self._view_mode = "auto"
        self._apply_fit()

    def _on_trace(self) -> None:
        if self._layout is None or self.session.trace is None:
            return
        self._push_trace()
        self._repaint()

    def _push_trace(self) -> None:
        L = self._layout
        trace = self.session.trace
        self._data = d = NodeData.from_trace(trace, L)
        self._images = {}
        for mode, arrays in (("forward", d.forward), ("backward", d.backward)):
            for kind, a in arrays.items():
                if kind not in L.columns:
                    continue
                rgba = np.ascontiguousarray(colors.rgba_seq(a) if d.sequential(kind)  # σ gates: 0 … 1
                                            else colors.rgba(a, d.limits[(mode, kind)]))  # (T+1, n, 4)
                h, w = rgba.shape[:2]
                # converted once to the raster engine's native format (else every draw converts)
                img = QImage(rgba.data, w, h, w * 4, QImage.Format_RGBA8888).convertToFormat(
                    QImage.Format_ARGB32_Premultiplied)
                self._images[(mode, kind)] = img
        self._paths_key = None  # flow widths may have changed

    def _on_position(self, _pos: int = 0) -> None:
        if self._layout is None:
            return
        self._frame = self.session.frame
        if self._view_mode != "fit" and not self._rolled and not self.is_animating():
            self._follow_active()
        self._repaint()

    def _on_highlight(self, _sel: object = None) -> None:
        self._repaint()

    def _on_appearance(self) -> None:
        self._restyle(rebuild=True)

    def _restyle(self, rebuild: bool) -> None:
        s = self.session
        self._theme = themes.theme_for(s.theme, s.presentation)
        self._fs = themes.font_scale(s.presentation)
        self.setBackgroundBrush(QBrush(_qc(self._theme.background)))
        if rebuild:
            self._on_network()

    def _on_unroll(self, value) -> None:
        if self._layout is None:
            return
        self._layout.unroll = float(value)
        self._update_scene_rect()
        if self._view_mode in ("fit", "auto"):
            self._apply_fit()
        self._repaint()

    def _repaint(self) -> None:
        self.viewport().update()

    # geometry and zoom ----------------------------------------------------------------------------------
    def _update_scene_rect(self) -> None:
        x, y, w, h = self._layout.scene_rect()
        self._content = QRectF(x, y, w, h)
        pad = self._band_h()  # room to scroll the first row out from under the header band
        self.setSceneRect(QRectF(x, y - pad, w, h + pad))

    def _vocab(self) -> str | None:
        """The characters of one-hot inputs / classes, when the units are characters."""
        vocab = getattr(self.session.task, "vocab", None) if self.session.source == "task" else None
        L = self._layout
        if not vocab or L is None or not any(c.units == len(vocab) for c in L.columns.values()):
            return None
        return vocab

    def _band_h(self) -> float:
        """Height of the fixed header band (a second line for unit names)."""
        return (34.0 + (15.0 if self._vocab() else 0.0)) * self._fs

    def _fit_scale(self, vw: float, vh: float) -> float:
        c = self._content
        vw = vw - self._legend_w()
        head = self._band_h()  # the fixed header band covers the top of the viewport
        return max(1e-4, min(vw / c.width(), (vh - head) / c.height()))

    def _show(self, kx: float, ky: float, center: QPointF) -> None:
        """Scale and centre the view; the scene rect grows to hold what is shown, so a small
        diagram can sit beside the legend rather than in the middle of the viewport."""
        # 2 px short of the viewport: a scene rect that overshoots it by a rounding error would
        # bring in the scroll bars, which shrink the viewport, which refits... (a resize loop)
        vw, vh = self.viewport().width() - 2, self.viewport().height() - 2
        want = QRectF(center.x() - vw / 2 / kx, center.y() - vh / 2 / ky, vw / kx, vh / ky)
        x, y, w, h = self._layout.scene_rect()
        base = QRectF(x, y - self._band_h(), w, h + self._band_h())
        self.setSceneRect(base.united(want))
        self.setTransform(QTransform.fromScale(kx, ky))
        self.centerOn(center)

    def _fit_scales(self, vw: float, vh: float) -> tuple[float, float]:
        """(kx, ky) that fit the whole diagram. A long sequence whose rows would be thin on
        screen is squeezed vertically only (up to 6×), so the strips keep a useful width."""
        c = self._content
        # the row labels keep their size however far the rows are squeezed: leave half a label's
        # height above the first row and below the last (else "t = 500" is cut in half)
        margin = 2 * _FIT_LABEL_MARGIN * self._fs
        kx, ky = (vw - self._legend_w()) / c.width(), (vh - self._band_h() - margin) / c.height()
        if ky < kx and self._layout.strip_h * ky < 8:
            return min(kx, 6 * ky, 1.2), max(ky, 1e-4)
        k = max(1e-4, min(kx, ky))
        return k, k

    def _apply_fit(self) -> None:
        if self._layout is None:
            return
        vw, vh = self.viewport().width(), self.viewport().height()
        if vw < 10 or vh < 10:
            return
        c = self._content
        if self._view_mode == "fit":
            kx, ky = self._fit_scales(vw, vh)
            self._show(kx, ky, c.center() + QPointF(self._legend_w() / 2 / kx, -self._band_h() / 2 / ky))
        elif self._view_mode == "auto":
            # Scale from the width the viewport has *with* a vertical scroll bar, whether one
            # shows or not: scaling from the current viewport width would add the bar, shrink the
            # scale, remove the bar, grow the scale... a resize loop.
            bar = self.verticalScrollBar().sizeHint().width()
            k = self._auto_scale(self.contentsRect().width() - bar, vh)
            if c.height() * k <= vh - self._band_h():
                self._show(k, k, c.center() + QPointF(self._legend_w() / 2 / k, -self._band_h() / 2 / k))
            else:
                self._show(k, k, QPointF(c.center().x() + self._legend_w() / 2 / k, c.top() + (vh / 2 - self._band_h()) / k))
                self._follow_active()

    def _auto_scale(self, vw: float, vh: float) -> float:
        """The readable default: the diagram as wide as the view allows (so cells are big
        enough for their numbers, also on a projector), at most 2.5× its natural size; a
        sequence too long for that height scrolls and follows the active step."""
        return max(0.3, min(2.5, (vw - self._legend_w()) / self._content.width()))

    def _source_rect(self, width: int, height: int) -> tuple[QRectF, float, float]:
        """The scene rectangle a width × height picture shows, and its scales (kx, ky)."""
        c = self._content
        band = self._band_h()
        shown = self.viewport().width() >= 10 and self.isVisible()
        if self._view_mode == "fit":
            kx, ky = self._fit_scales(width, height)
            center = c.center() + QPointF(self._legend_w() / 2 / kx, -band / 2 / ky)
        elif self._view_mode == "auto" or not shown:
            kx = ky = self._auto_scale(width, height)
            if c.height() * ky <= height - band:
                center = c.center() + QPointF(self._legend_w() / 2 / kx, -band / 2 / ky)
            else:
                cur = self.mapToScene(self.viewport().rect()).boundingRect() if shown else None
                top = c.top() - band / ky if cur is None else max(c.top() - band / ky, cur.top())
                top = min(top, c.bottom() - height / ky)
                center = QPointF(c.center().x() + self._legend_w() / 2 / kx, top + height / ky / 2)
        else:
            kx, ky = self.transform().m11(), self.transform().m22()
            center = self.mapToScene(self.viewport().rect().center())
        w, h = width / kx, height / ky
        return QRectF(center.x() - w / 2, center.y() - h / 2, w, h), kx, ky

    def _zoom(self, factor: float, anchor: QPointF | None = None) -> None:
        if self._layout is None:
            return
        kx, ky = self.transform().m11(), self.transform().m22()
        vw, vh = max(10, self.viewport().width()), max(10, self.viewport().height())
        lo = min(0.5 * self._fit_scale(vw, vh), 0.05)
        ny = min(8.0, max(lo, ky * factor))
        if ny == ky:
            return
        f = ny / ky
        # a squeezed (fitted long) diagram first regains its proportions when zooming in
        nx = max(ny, min(kx * f, kx)) if f > 1 else kx * f
        self._view_mode = "user"
        old_anchor = self.transformationAnchor()
        if anchor is not None:
            self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.scale(nx / kx, f)
        self.setTransformationAnchor(old_anchor)

    def _follow_active(self) -> None:
        L = self._layout
        if L is None or self.viewport().height() < 10:
            return
        r = self._frame.active
        top = L.row_top(r)
        k = self.transform().m22()
        head = self._band_h() / k
        visible = self.mapToScene(self.viewport().rect()).boundingRect()
        margin = L.pitch * 0.6
        if top - margin - head < visible.top() or top + L.strip_h + margin > visible.bottom():
            # out of view: bring it to 40 % of the height (scrolling clamps at the ends)
            y = top + L.strip_h / 2 - head / 2 + visible.height() * 0.1
            self.centerOn(QPointF(visible.center().x(), y))

    def _place_gates_button(self) -> None:
        """Top right of the header band, above the legend (a column the diagram keeps clear)."""
        b = self.gates_button
        b.adjustSize()
        vp = self.viewport().geometry()
        h = min(b.sizeHint().height(), int(self._band_h()) - 6)
        b.setGeometry(vp.right() - b.sizeHint().width() - 8, vp.top() + max(2, (int(self._band_h()) - h) // 2),
                      b.sizeHint().width(), h)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._place_gates_button()
        if self._view_mode in ("fit", "auto"):
            self._apply_fit()

    # arrows -------------------------------------------------------------------------------------------
    def _highlighted_kinds(self) -> list[str]:
        out = []
        for s in (self.session.hover, self.session.selection):
            if s is not None and s.kind in WEIGHTS and s.kind not in out:
                out.append(s.kind)
        return out

    def _arrow_paths(self) -> dict:
        L = self._layout
        key = (id(L), L.unroll, id(self._data))
        if self._paths is not None and self._paths_key == key:
            return self._paths
        s, sh = L.s, L.strip_h
        cx, ch, cy = L.columns["x"], L.columns["h"], L.columns["y"]
        cc = L.columns.get("c")  # an LSTM's cell state
        head = 7.0 * s
        pad = 5.0 * s
        kinds = (*WEIGHTS, "cell")  # "cell": a gated cell's own arrows (c line, gates, bus, c → h)
        shafts = {k: QPainterPath() for k in kinds}
        heads = {k: QPainterPath() for k in kinds}
        back = {k: QPainterPath() for k in kinds}
        flow = [QPainterPath() for _ in range(_FLOW_LEVELS)]
        tops = L.row_top(np.arange(L.T + 1))
        exp = L.expanded
        xh = L.line_x("h")
        xc = L.line_x("c") if cc is not None else 0.0
        xe = L.block_left - 22.0 * s  # expanded: where x_t's arrow turns up to the bus
        gates = {k[5:]: c for k, c in L.columns.items() if k.startswith("gate:")}

        def tri(path, tip_x, tip_y, dx, dy):  # arrowhead with its tip at (tip_x, tip_y) pointing (dx, dy)
            px, py = -dy, dx
            path.moveTo(tip_x, tip_y)
            path.lineTo(tip_x - dx * head + px * head * 0.45, tip_y - dy * head + py * head * 0.45)
            path.lineTo(tip_x - dx * head - px * head * 0.45, tip_y - dy * head - py * head * 0.45)
            path.closeSubpath()

        def down(kind, x, y0, y1, back_head=False):  # a vertical arrow y0 → y1 (y1 > y0)
            if y1 - y0 <= head * 1.2:
                return False
            shafts[kind].moveTo(x, y0)
            shafts[kind].lineTo(x, y1 - head * 0.8)
            tri(heads[kind], x, y1, 0, 1)
            if back_head:
                tri(back[kind], x, y0, 0, -1)
            return True

        def level(width: float) -> int:
            return int(round(width * (_FLOW_LEVELS - 1)))

        d = self._data
        for t in range(1, L.T + 1):
            yc = tops[t] + sh / 2
            if cx.rows[t]:
                a = cx.right + pad
                if exp:  # x_t joins the input bus of the gates
                    shafts["W_xh"].moveTo(a, yc)
                    shafts["W_xh"].lineTo(xe, yc)
                    shafts["W_xh"].lineTo(xe, L.bus_y(t))
                else:
                    b = L.block_left - pad
                    shafts["W_xh"].moveTo(a, yc)
                    shafts["W_xh"].lineTo(b - head * 0.8, yc)
                    tri(heads["W_xh"], b, yc, 1, 0)
                    tri(back["W_xh"], b, yc, 1, 0)
            if cy.rows[t]:
                a, b = ch.right + pad, cy.left - pad
                shafts["W_hy"].moveTo(a, yc)
                shafts["W_hy"].lineTo(b - head * 0.8, yc)
                tri(heads["W_hy"], b, yc, 1, 0)
                tri(back["W_hy"], a, yc, -1, 0)
            y0, y1 = tops[t - 1] + sh + pad * 0.6, tops[t] - pad * 0.6
            if exp and L.cell == "lstm":  # h_{t−1} only feeds the gates: down to the bus
                yb = L.bus_y(t)
                if yb - y0 > head:
                    shafts["W_hh"].moveTo(xh, y0)
                    shafts["W_hh"].lineTo(xh, yb)
                    tri(back["W_hh"], xh, y0, 0, -1)
                    if d is not None:
                        flow[level(d.flow_width[t])].moveTo(xh, y0 + head * 0.8)
                        flow[level(d.flow_width[t])].lineTo(xh, yb)
            elif down("W_hh", xh, y0, y1, back_head=True) and d is not None:
                flow[level(d.flow_width[t])].moveTo(xh, y0 + head * 0.8)
                flow[level(d.flow_width[t])].lineTo(xh, y1)
            if cc is not None:  # the cell state's own line, c_{t−1} → c_t, and c_t → h_t (tanh)
                if down("cell", xc, y0, y1, back_head=True) and d is not None and d.flow_c_width is not None:
                    flow[level(d.flow_c_width[t])].moveTo(xc, y0 + head * 0.8)
                    flow[level(d.flow_c_width[t])].lineTo(xc, y1)
                a, b = cc.right + pad, ch.left - pad
                shafts["cell"].moveTo(a, yc)
                shafts["cell"].lineTo(b - head * 0.8, yc)
                tri(heads["cell"], b, yc, 1, 0)
            if exp:
                yb = L.bus_y(t)
                shafts["cell"].moveTo(xe if cx.rows[t] else min(c.left for c in gates.values()) - pad, yb)
                shafts["cell"].lineTo(xh, yb)  # the input bus: x_t and h_{t−1} into every gate
                for g, col in gates.items():
                    gx = col.center
                    gtop = tops[t] + col.dy
                    down("cell", gx, yb, gtop - pad * 0.4)
                    dst = L.gate_sides[g]
                    if dst == "n":  # GRU: r_t acts inside the candidate n_t
                        n = gates["n"]
                        ym = gtop + col.height / 2
                        end = n.left - 13.0 * s  # just short of the letter n
                        shafts["cell"].moveTo(col.right + pad * 0.6, ym)
                        shafts["cell"].lineTo(end - head * 0.8, ym)
                        tri(heads["cell"], end, ym, 1, 0)
                    else:
                        down("cell", gx, gtop + col.height + pad * 0.4, tops[t] - pad * 0.6)
        # the rolled cell's own arrows, drawn once instead of T copies on top of each other
        single_s = {k: QPainterPath() for k in ("W_xh", "W_hy")}
        single_h = {k: QPainterPath() for k in ("W_xh", "W_hy")}
        yc = L.row_top(1, 0.0) + sh / 2
        for k, (a, b) in (("W_xh", (cx.right + pad, L.block_left - pad)), ("W_hy", (ch.right + pad, cy.left - pad))):
            single_s[k].moveTo(a, yc)
            single_s[k].lineTo(b - head * 0.8, yc)
            tri(single_h[k], b, yc, 1, 0)
        # the rolled cell's self-loop: out of h's bottom right, round, back into its bottom left
        loop, loop_head = QPainterPath(), QPainterPath()
        top1 = L.row_top(1, 0.0) + sh
        depth = L.loop_h - 24 * s
        r = min(14 * s, depth / 2)
        for col in ([ch] if cc is None else [cc, ch]):
            hw = L.loop_half_w() if cc is None else min(L.loop_half_w(), col.width / 2)
            xm = col.center
            loop.moveTo(xm + hw * 0.55, top1 + pad * 0.5)
            loop.lineTo(xm + hw * 0.55, top1 + depth - r)
            loop.quadTo(xm + hw * 0.55, top1 + depth, xm + hw * 0.55 - r, top1 + depth)
            loop.lineTo(xm - hw * 0.55 + r, top1 + depth)
            loop.quadTo(xm - hw * 0.55, top1 + depth, xm - hw * 0.55, top1 + depth - r)
            loop.lineTo(xm - hw * 0.55, top1 + pad + head * 0.8)
            tri(loop_head, xm - hw * 0.55, top1 + pad * 0.5, 0, -1)
        self._paths = dict(single_shafts=single_s, single_heads=single_h, shafts=shafts, heads=heads, heads_back=back, flow=flow, loop=loop, loop_head=loop_head)
        self._paths_key = key
        return self._paths

    # overlays (fixed in the viewport) --------------------------------------------------------------------
    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        if self._layout is None:
            return
        painter.save()
        t = self.viewportTransform()
        painter.resetTransform()
        self._paint_overlay(painter, QRectF(self.viewport().rect()), t)
        painter.restore()

    def _paint_overlay(self, painter: QPainter, area: QRectF, t: QTransform) -> None:
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setRenderHint(QPainter.TextAntialiasing, True)
        self._paint_headers(painter, area, t)
        self._paint_legend(painter, area)

    def _paint_headers(self, painter: QPainter, area: QRectF, t: QTransform) -> None:
        th, fs, L, fr = self._theme, self._fs, self._layout, self._frame
        band_h = self._band_h()
        bg = _qc(th.background)  # opaque: rows scrolling under the band must not show through
        painter.fillRect(QRectF(area.left(), area.top(), area.width(), band_h), bg)
        painter.setPen(_pen(_qc(th.grid if th.name == "light" else th.muted), 1.0))
        painter.drawLine(QPointF(area.left(), area.top() + band_h), QPointF(area.right(), area.top() + band_h))
        back = fr.mode == "backward"
        d = self._data
        heads = []
        for kind, col in L.columns.items():
            if kind.startswith("gate:"):
                continue  # labelled beside each strip
            if kind == "x":
                base, sub = "x", "t"
            elif kind == "h":
                base, sub = ("∂L/∂h", "t") if back else ("h", "t")
            elif kind == "c":
                base, sub = ("∂L/∂c", "t") if back else ("c", "t")
            elif kind == "y":
                if back:
                    base, sub = "∂L/∂y", "t"
                elif d.probabilities:
                    base, sub = "p", "t"
                else:
                    base, sub = "y", "t"
            else:
                base, sub = "target", ""
            mode = "backward" if back and kind in ("h", "c", "y") else "forward"
            k = number_exponent(d.limits.get((mode, kind), 1.0))
            extra = f"  {_times_ten(k)}" if k and (col.cell_w * t.m11() >= 22) else ""
            heads.append((col, base, sub, extra))
        size = 13.5 * fs
        last_right = -1e9
        yc = area.top() + 17 * fs + 1
        for col, base, sub, extra in heads:
            x = t.map(QPointF(col.center, 0)).x()
            painter.setFont(_font(size))
            fm = painter.fontMetrics()
            w_est = fm.horizontalAdvance(base + sub + extra) + 8
            if x - w_est / 2 < last_right + 8 * fs or x + w_est / 2 < area.left() or x - w_est / 2 > area.right():
                continue
            painter.setPen(_qc(th.backward) if (back and col.kind in ("h", "c", "y")) else _qc(th.text))
            w = draw_sub(painter, x - (fm.horizontalAdvance(extra) / 2 if extra else 0), yc, base, sub, size, "center", bold=False)
            if extra:
                painter.setPen(_qc(th.muted))
                painter.setFont(_font(size * 0.8))
                painter.drawText(QPointF(x - fm.horizontalAdvance(extra) / 2 + w / 2, yc + size * 0.35), extra)
            last_right = x + w_est / 2
        # unit names (the vocabulary) under the headers of one-hot inputs and class outputs
        vocab = self._vocab()
        if vocab:
            painter.setFont(_font(10.5 * fs))
            painter.setPen(_qc(th.muted))
            y0 = area.top() + 30 * fs
            for kind in ("x", "y", "target"):
                col = L.columns.get(kind)
                if col is None or col.units != len(vocab) or col.cell_w * t.m11() < 9 * fs:
                    continue
                for i, ch_ in enumerate(vocab):
                    xi = t.map(QPointF(col.left + (i + 0.5) * col.cell_w, 0)).x()
                    painter.drawText(QRectF(xi - 20, y0, 40, 16 * fs), Qt.AlignCenter, repr(ch_)[1:-1])

    def _legend_w(self) -> float:
        """Width of the fixed colour legend at the right edge (kept clear of the diagram)."""
        return 104.0 * self._fs

    def _paint_legend(self, painter: QPainter, area: QRectF) -> None:
        th, fs, d, fr = self._theme, self._fs, self._data, self._frame
        back = fr.mode == "backward"
        has_c = ("forward", "c") in d.limits
        if back:
            title = "gradients"
            items = [("∂L/∂h", d.limits[("backward", "h")])]
            if has_c:
                items.append(("∂L/∂c", d.limits[("backward", "c")]))
            items.append(("∂L/∂y", d.limits[("backward", "y")]))
        else:
            title = "values"
            items = [("x", d.limits[("forward", "x")]), ("h", d.limits[("forward", "h")])]
            if has_c:
                items.append(("c", d.limits[("forward", "c")]))
            items.append(("p", None) if d.probabilities else ("y", d.limits[("forward", "y")]))
        gates = self._layout.expanded  # the gates' own scales
        sig = "i f o" if self._layout.cell == "lstm" else "r z"
        cand = "g" if self._layout.cell == "lstm" else "n"
        size = 11.5 * fs
        pad = 8 * fs
        w = self._legend_w() - 10 * fs
        x0 = area.right() - w - 6 * fs
        painter.setFont(_font(size))
        lh = painter.fontMetrics().height()
        bar_h = min(150 * fs, max(40 * fs, area.height() - self._band_h() - (5 * lh + 4 * pad + 30 * fs)))
        h = pad + 2 * lh + 6 * fs + bar_h + 6 * fs + lh * len(items) + pad
        if gates:
            h += 8 * fs + lh + 12 * fs + lh + 2 * lh
        box = QRectF(x0, area.top() + self._band_h() + 10 * fs, w, h)
        painter.setPen(_pen(_qc(th.grid if th.name == "light" else th.muted), 1.0))
        painter.setBrush(_qc(th.background, 235))
        painter.drawRoundedRect(box, 6 * fs, 6 * fs)
        x, y = box.left() + pad, box.top() + pad
        iw = w - 2 * pad
        painter.setPen(_qc(th.backward) if back else _qc(th.text))
        painter.setFont(_font(size, bold=True))
        painter.drawText(QRectF(x, y, iw, lh), Qt.AlignLeft | Qt.AlignVCenter, title)
        y += lh
        painter.setFont(_font(size * 0.9))
        painter.setPen(_qc(th.muted))
        painter.drawText(QRectF(x, y, iw, lh), Qt.AlignLeft | Qt.AlignVCenter,
                         f"step {fr.active}" if fr.active else "start")
        y += lh + 6 * fs
        bar = QRectF(x, y, 14 * fs, bar_h)
        painter.setRenderHint(QPainter.SmoothPixmapTransform, True)
        painter.drawImage(bar, self._legend_image())
        painter.setPen(_pen(_qc(th.text, 90), 1.0))
        painter.setBrush(Qt.NoBrush)
        painter.drawRect(bar)
        painter.setPen(_qc(th.text))
        painter.setFont(_font(size))
        for frac, label in ((0.0, "+ max"), (0.5, "0"), (1.0, "− max")):
            yy = bar.top() + frac * bar_h
            painter.drawLine(QPointF(bar.right(), yy), QPointF(bar.right() + 4 * fs, yy))
            painter.drawText(QRectF(bar.right() + 7 * fs, yy - lh / 2, iw, lh), Qt.AlignLeft | Qt.AlignVCenter, label)
        y += bar_h + 6 * fs
        for name, lim in items:
            painter.drawText(QRectF(x, y, iw, lh), Qt.AlignLeft | Qt.AlignVCenter,
                             f"{name}  {'0 … 1' if lim is None else '±' + _fmt_limit(lim)}")
            y += lh
        if gates:  # σ gates: a sequential 0 … 1 scale; the candidate (tanh) uses the diverging one
            y += 8 * fs
            painter.setPen(_qc(th.text))
            painter.setFont(_font(size, bold=True))
            painter.drawText(QRectF(x, y, iw, lh), Qt.AlignLeft | Qt.AlignVCenter, "gates")
            y += lh
            sbar = QRectF(x, y, iw, 12 * fs)
            painter.drawImage(sbar, self._seq_legend_image())
            painter.setPen(_pen(_qc(th.text, 90), 1.0))
            painter.setBrush(Qt.NoBrush)
            painter.drawRect(sbar)
            y += 12 * fs
            painter.setPen(_qc(th.text))
            painter.setFont(_font(size * 0.9))
            painter.drawText(QRectF(x, y, iw, lh), Qt.AlignLeft | Qt.AlignVCenter, "0")
            painter.drawText(QRectF(x, y, iw, lh), Qt.AlignRight | Qt.AlignVCenter, "1")
            y += lh
            painter.drawText(QRectF(x, y, iw, lh), Qt.AlignLeft | Qt.AlignVCenter, f"{sig}: σ, 0 … 1")
            y += lh
            painter.drawText(QRectF(x, y, iw, lh), Qt.AlignLeft | Qt.AlignVCenter, f"{cand}: tanh, ±1")
            y += lh

    def _seq_legend_image(self) -> QImage:
        if getattr(self, "_seq_legend_img", None) is None:
            lut = np.ascontiguousarray(colors.SEQ_LUT[None, :, :])  # left = 0, right = 1
            self._seq_legend_img = QImage(lut.data, lut.shape[1], 1, lut.shape[1] * 4, QImage.Format_RGBA8888).copy()
        return self._seq_legend_img

    def _legend_image(self) -> QImage:
        if getattr(self, "_legend_img", None) is None:
            lut = np.ascontiguousarray(colors.LUT[::-1, None, :])  # top = +max
            self._legend_img = QImage(lut.data, 1, lut.shape[0], 4, QImage.Format_RGBA8888).copy()
        return self._legend_img

    # values for painting ------------------------------------------------------------------------------
    def _values(self, source: str, kind: str) -> np.ndarray | None:
        d = self._data
        if d is None:
            return None
        arrays = d.backward if source == "backward" else d.forward
        return arrays.get(kind)

    def _limit(self, source: str, kind: str) -> float:
        mode = "backward" if source == "backward" else "forward"
        return self._data.limits.get((mode, kind), 1.0)

    def _class_name(self, k: int) -> str:
        vocab = getattr(self.session.task, "vocab", None) if self.session.source == "task" else None
        if vocab and 0 <= k < len(vocab):
            return f" ({vocab[k]!r})"
        return ""

    # mouse -----------------------------------------------------------------------------------------------
    def wheelEvent(self, event) -> None:  # noqa: N802
        dy = event.angleDelta().y()
        if dy == 0:
            return super().wheelEvent(event)
        self._zoom(1.0015 ** dy, anchor=event.position())
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
            if (event.position() - self._press).manhattanLength() > 4 and self._view_mode != "user":
                self._view_mode = "user"
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
        if moved <= 4:
            self.session.select(self.hit_test(self.mapToScene(event.position().toPoint())))

    def leaveEvent(self, event) -> None:  # noqa: N802
        self.session.set_hover(None)
        super().leaveEvent(event)
