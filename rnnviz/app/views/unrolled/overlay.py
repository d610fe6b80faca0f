"""What the unrolled view shows fixed in the viewport, over the scrolling diagram: the column
headers (x_t, h_t, ∂L/∂h_t ... with a ×10^k when the cells print scaled numbers, and the unit
names of one-hot characters), the colour legend at the right edge, and the "Show gates" button
at the top right of the header band.

`paint_overlay` draws both into `area` (device pixels), given the scene-to-device transform; the
view calls it on screen (drawForeground) and in `render`, so pictures match the screen.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QTransform
from PySide6.QtWidgets import QToolButton, QWidget

from rnnviz.app.style import colors
from rnnviz.app.views.unrolled.context import DrawContext
from rnnviz.app.views.unrolled.paint import draw_sub, font, format_limit, number_exponent, pen, qcolor, times_ten


def header_height(font_scale: float, vocab: str | None) -> float:
    """Height of the fixed header band (a second line for unit names)."""
    return (34.0 + (15.0 if vocab else 0.0)) * font_scale


def legend_width(font_scale: float) -> float:
    """Width of the fixed colour legend at the right edge (kept clear of the diagram)."""
    return 104.0 * font_scale


def gates_button(parent: QWidget) -> QToolButton:
    """The header's "Show gates" toggle (hidden until a gated network is shown)."""
    b = QToolButton(parent)
    b.setText("Show gates")
    b.setCheckable(True)
    b.setFocusPolicy(Qt.NoFocus)
    b.setToolTip("Expand every LSTM / GRU cell to show its gates (G)")
    b.hide()
    return b


def place_gates_button(b: QToolButton, viewport: QRect, band_height: float) -> None:
    """Top right of the header band, above the legend (a column the diagram keeps clear)."""
    b.adjustSize()
    band = int(band_height)
    h = min(b.sizeHint().height(), band - 6)
    b.setGeometry(viewport.right() - b.sizeHint().width() - 8, viewport.top() + max(2, (band - h) // 2),
                  b.sizeHint().width(), h)


def paint_overlay(painter: QPainter, ctx: DrawContext, area: QRectF, t: QTransform) -> None:
    """The headers and the legend in `area`; `t` maps scene to device coordinates."""
    painter.setRenderHint(QPainter.Antialiasing, True)
    painter.setRenderHint(QPainter.TextAntialiasing, True)
    paint_headers(painter, ctx, area, t)
    paint_legend(painter, ctx, area)


def paint_headers(painter: QPainter, ctx: DrawContext, area: QRectF, t: QTransform) -> None:
    """The header band: each column's name over its centre, on an opaque background."""
    th, fs, L, fr, d = ctx.theme, ctx.font_scale, ctx.layout, ctx.frame, ctx.data
    band_h = ctx.header_height
    bg = qcolor(th.background)  # opaque: rows scrolling under the band must not show through
    painter.fillRect(QRectF(area.left(), area.top(), area.width(), band_h), bg)
    painter.setPen(pen(qcolor(th.grid if th.name == "light" else th.muted), 1.0))
    painter.drawLine(QPointF(area.left(), area.top() + band_h), QPointF(area.right(), area.top() + band_h))
    back = fr.mode == "backward"
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
        extra = f"  {times_ten(k)}" if k and (col.cell_w * t.m11() >= 22) else ""
        heads.append((col, base, sub, extra))
    size = 13.5 * fs
    last_right = -1e9
    yc = area.top() + 17 * fs + 1
    for col, base, sub, extra in heads:
        x = t.map(QPointF(col.center, 0)).x()
        painter.setFont(font(size))
        fm = painter.fontMetrics()
        w_est = fm.horizontalAdvance(base + sub + extra) + 8
        if x - w_est / 2 < last_right + 8 * fs or x + w_est / 2 < area.left() or x - w_est / 2 > area.right():
            continue
        painter.setPen(qcolor(th.backward) if (back and col.kind in ("h", "c", "y")) else qcolor(th.text))
        w = draw_sub(painter, x - (fm.horizontalAdvance(extra) / 2 if extra else 0), yc, base, sub, size, "center", bold=False)
        if extra:
            painter.setPen(qcolor(th.muted))
            painter.setFont(font(size * 0.8))
            painter.drawText(QPointF(x - fm.horizontalAdvance(extra) / 2 + w / 2, yc + size * 0.35), extra)
        last_right = x + w_est / 2
    # unit names (the vocabulary) under the headers of one-hot inputs and class outputs
    vocab = ctx.vocab
    if vocab:
        painter.setFont(font(10.5 * fs))
        painter.setPen(qcolor(th.muted))
        y0 = area.top() + 30 * fs
        for kind in ("x", "y", "target"):
            col = L.columns.get(kind)
            if col is None or col.units != len(vocab) or col.cell_w * t.m11() < 9 * fs:
                continue
            for i, ch_ in enumerate(vocab):
                xi = t.map(QPointF(col.left + (i + 0.5) * col.cell_w, 0)).x()
                painter.drawText(QRectF(xi - 20, y0, 40, 16 * fs), Qt.AlignCenter, repr(ch_)[1:-1])


def paint_legend(painter: QPainter, ctx: DrawContext, area: QRectF) -> None:
    """The colour legend: the diverging scale with each column's range (and the gates' scales)."""
    th, fs, d, fr, L = ctx.theme, ctx.font_scale, ctx.data, ctx.frame, ctx.layout
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
    gates = L.expanded  # the gates' own scales
    sig = "i f o" if L.cell == "lstm" else "r z"
    cand = "g" if L.cell == "lstm" else "n"
    size = 11.5 * fs
    pad = 8 * fs
    w = ctx.legend_width - 10 * fs
    x0 = area.right() - w - 6 * fs
    painter.setFont(font(size))
    lh = painter.fontMetrics().height()
    bar_h = min(150 * fs, max(40 * fs, area.height() - ctx.header_height - (5 * lh + 4 * pad + 30 * fs)))
    h = pad + 2 * lh + 6 * fs + bar_h + 6 * fs + lh * len(items) + pad
    if gates:
        h += 8 * fs + lh + 12 * fs + lh + 2 * lh
    if d.nonfinite:
        h += lh
    box = QRectF(x0, area.top() + ctx.header_height + 10 * fs, w, h)
    painter.setPen(pen(qcolor(th.grid if th.name == "light" else th.muted), 1.0))
    painter.setBrush(qcolor(th.background, 235))
    painter.drawRoundedRect(box, 6 * fs, 6 * fs)
    x, y = box.left() + pad, box.top() + pad
    iw = w - 2 * pad
    painter.setPen(qcolor(th.backward) if back else qcolor(th.text))
    painter.setFont(font(size, bold=True))
    painter.drawText(QRectF(x, y, iw, lh), Qt.AlignLeft | Qt.AlignVCenter, title)
    y += lh
    painter.setFont(font(size * 0.9))
    painter.setPen(qcolor(th.muted))
    painter.drawText(QRectF(x, y, iw, lh), Qt.AlignLeft | Qt.AlignVCenter,
                     f"step {fr.active}" if fr.active else "start")
    y += lh + 6 * fs
    bar = QRectF(x, y, 14 * fs, bar_h)
    painter.setRenderHint(QPainter.SmoothPixmapTransform, True)
    painter.drawImage(bar, _diverging_bar())
    painter.setPen(pen(qcolor(th.text, 90), 1.0))
    painter.setBrush(Qt.NoBrush)
    painter.drawRect(bar)
    painter.setPen(qcolor(th.text))
    painter.setFont(font(size))
    for frac, label in ((0.0, "+ max"), (0.5, "0"), (1.0, "− max")):
        yy = bar.top() + frac * bar_h
        painter.drawLine(QPointF(bar.right(), yy), QPointF(bar.right() + 4 * fs, yy))
        painter.drawText(QRectF(bar.right() + 7 * fs, yy - lh / 2, iw, lh), Qt.AlignLeft | Qt.AlignVCenter, label)
    y += bar_h + 6 * fs
    for name, lim in items:
        painter.drawText(QRectF(x, y, iw, lh), Qt.AlignLeft | Qt.AlignVCenter,
                         f"{name}  {'0 … 1' if lim is None else '±' + format_limit(lim)}")
        y += lh
    if gates:  # σ gates: a sequential 0 … 1 scale; the candidate (tanh) uses the diverging one
        y += 8 * fs
        painter.setPen(qcolor(th.text))
        painter.setFont(font(size, bold=True))
        painter.drawText(QRectF(x, y, iw, lh), Qt.AlignLeft | Qt.AlignVCenter, "gates")
        y += lh
        sbar = QRectF(x, y, iw, 12 * fs)
        painter.drawImage(sbar, _sequential_bar())
        painter.setPen(pen(qcolor(th.text, 90), 1.0))
        painter.setBrush(Qt.NoBrush)
        painter.drawRect(sbar)
        y += 12 * fs
        painter.setPen(qcolor(th.text))
        painter.setFont(font(size * 0.9))
        painter.drawText(QRectF(x, y, iw, lh), Qt.AlignLeft | Qt.AlignVCenter, "0")
        painter.drawText(QRectF(x, y, iw, lh), Qt.AlignRight | Qt.AlignVCenter, "1")
        y += lh
        painter.drawText(QRectF(x, y, iw, lh), Qt.AlignLeft | Qt.AlignVCenter, f"{sig}: σ, 0 … 1")
        y += lh
        painter.drawText(QRectF(x, y, iw, lh), Qt.AlignLeft | Qt.AlignVCenter, f"{cand}: tanh, ±1")
        y += lh
    if d.nonfinite:  # NaN / ±inf have a colour of their own, on neither scale
        swatch = QRectF(x, y + lh * 0.2, lh * 0.6, lh * 0.6)
        painter.setPen(pen(qcolor(th.text, 90), 1.0))
        painter.setBrush(QColor(*(int(c) for c in colors.NONFINITE_RGBA)))
        painter.drawRect(swatch)
        painter.setPen(qcolor(th.text))
        painter.setFont(font(size))
        painter.drawText(QRectF(x + lh, y, iw - lh, lh), Qt.AlignLeft | Qt.AlignVCenter, "nan / inf")
        y += lh


_BARS: dict[str, QImage] = {}  # the legend's colour bars, built once


def _diverging_bar() -> QImage:
    """The diverging colour scale as a 1-pixel-wide column, +max at the top."""
    if "diverging" not in _BARS:
        lut = np.ascontiguousarray(colors.LUT[::-1, None, :])  # (256, 1, 4) top = +max
        _BARS["diverging"] = QImage(lut.data, 1, lut.shape[0], 4, QImage.Format_RGBA8888).copy()
    return _BARS["diverging"]


def _sequential_bar() -> QImage:
    """The sequential 0 … 1 scale of the σ gates as a 1-pixel-high row, 0 on the left."""
    if "sequential" not in _BARS:
        lut = np.ascontiguousarray(colors.SEQ_LUT[None, :, :])  # (1, 256, 4) left = 0, right = 1
        _BARS["sequential"] = QImage(lut.data, lut.shape[1], 1, lut.shape[1] * 4, QImage.Format_RGBA8888).copy()
    return _BARS["sequential"]
