"""Small drawing helpers shared by the unrolled view's items and overlay.

Colours, pens and cached fonts; empty-path-safe path drawing (an SVG export would otherwise hold
`<path d="">`); what part of the scene a paint call reaches and at what scale; text with a
subscript (W_xh, h_t); and the number formats the cells and the legend print.
"""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen


def qcolor(name: str, alpha: int | None = None) -> QColor:
    """A QColor from a theme colour name, with an optional alpha (0..255)."""
    c = QColor(name)
    if alpha is not None:
        c.setAlpha(alpha)
    return c


def draw_path(painter: QPainter, path: QPainterPath) -> None:
    """drawPath, skipping empty paths (an SVG export would hold them as `<path d="">`)."""
    if not path.isEmpty():
        painter.drawPath(path)


def fill_path(painter: QPainter, path: QPainterPath, color) -> None:
    """fillPath, skipping empty paths."""
    if not path.isEmpty():
        painter.fillPath(path, color)


def pen(color: QColor, width: float, cosmetic: bool = True) -> QPen:
    """A flat-capped, mitred pen; cosmetic (width in screen pixels) unless told otherwise."""
    p = QPen(color, width)
    p.setCosmetic(cosmetic)
    p.setCapStyle(Qt.FlatCap)
    p.setJoinStyle(Qt.MiterJoin)
    return p


_FONTS: dict[tuple[int, bool, bool], QFont] = {}


def font(px: float, bold: bool = False, italic: bool = False) -> QFont:
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


def visible_area(painter: QPainter, option) -> QRectF:
    """The part of the scene this paint call can reach (exposed rect ∩ the device)."""
    dev = painter.device()
    inv, ok = painter.worldTransform().inverted()
    area = inv.mapRect(QRectF(0, 0, dev.width(), dev.height())) if ok else QRectF()
    exposed = option.exposedRect if option is not None else QRectF()
    if exposed.isValid() and not exposed.isEmpty():
        area = area.intersected(exposed) if area.isValid() else exposed
    return area


def screen_scale(painter: QPainter) -> float:
    """Scene-to-screen scale (the smaller one when a fitted long sequence is squeezed)."""
    t = painter.worldTransform()
    return min(abs(t.m11()), abs(t.m22()))


def is_squeezed(painter: QPainter) -> bool:
    """Whether the vertical scale differs from the horizontal one (text would be distorted)."""
    t = painter.worldTransform()
    return abs(t.m11() - t.m22()) > 0.03 * max(abs(t.m22()), 1e-9)


_SUB_METRICS: dict[tuple, tuple[float, float, float]] = {}


def draw_sub(painter: QPainter, x: float, y: float, base: str, sub: str = "", size: float = 12.0,
             align: str = "center", bold: bool = False) -> float:
    """Draw `base` with subscript `sub` (W_xh, h_t) with its baseline-middle at (x, y);
    align is "left", "center" or "right". Returns the width drawn."""
    f1, f2 = font(size, bold, italic=len(base) == 1), font(size * 0.72, bold)
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
_SUBS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def times_ten(k: int) -> str:
    """"×10³" for k = 3."""
    return f"×10{str(k).translate(_SUP)}"


def format_limit(limit: float) -> str:
    """A colour range's limit as the legend prints it (0.5, 20, 1e-4)."""
    if 0.01 <= limit < 1000:
        return f"{limit:g}"
    return f"{limit:.0e}".replace("e-0", "e-").replace("e+0", "e")


def subscript(n: int) -> str:
    """"₁₂" for 12."""
    return str(n).translate(_SUBS)
