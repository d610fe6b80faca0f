"""How the plots turn data into marks: a colour per unit, a colour range that only grows, min–max
decimation of long histories, and heat-map images placed on data rectangles.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from rnnviz.app.style import colors
from rnnviz.app.style.theme import Theme

# Okabe–Ito: a qualitative palette that stays distinct under colour-vision deficiencies
UNIT_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
MAX_LINES = 32  # unit lines drawn at most (the heatmap shows every unit)
DISPLAY_BINS = 1500  # long histories are min–max decimated to about twice this many points
def finite_or_empty(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) as given when y holds a finite value, else two empty arrays: pyqtgraph works out a
    curve's bounds with nanmin, which warns on all-NaN data (a diverged run); NaN points among
    finite ones are gaps in the line, as they should be."""
    y = np.asarray(y, dtype=float)
    if np.isfinite(y).any():
        return np.asarray(x), y
    return np.zeros(0), np.zeros(0)


SEQUENTIAL_LUT = colors.LUT[len(colors.LUT) // 2 :]  # white → dark red, for probabilities (0..1)


def unit_color(i: int, theme: Theme) -> str:
    """Unit i's line colour (the palette's black is the theme's text colour, for dark themes)."""
    c = UNIT_COLORS[i % len(UNIT_COLORS)]
    return theme.text if c == "#000000" else c


def minmax_decimate(x: np.ndarray, y: np.ndarray, bins: int = DISPLAY_BINS) -> tuple[np.ndarray, np.ndarray]:
    """At most ~2·bins points that keep every bin's minimum and maximum (so spikes stay
    visible), in order. Shorter inputs come back as they are. For display only: the data
    itself is never truncated."""
    n = len(x)
    if n <= 2 * bins:
        return x, y
    k = n // bins
    m = k * bins
    yy = y[:m].reshape(bins, k)
    base = np.arange(bins) * k
    lo = base + np.argmin(yy, axis=1)
    hi = base + np.argmax(yy, axis=1)
    keep = np.zeros(n, dtype=bool)  # a mask, not a sort: O(n)
    keep[lo] = keep[hi] = True
    keep[[0, n - 1]] = True  # the ends always, so the curve spans the whole run
    keep[m:] = True
    idx = np.flatnonzero(keep)
    return x[idx], y[idx]


class RatchetLevels:
    """A symmetric colour range ±m that only grows (rounded to 1/2/5·10^k), so colours keep
    their meaning from frame to frame; reset when the network changes."""

    def __init__(self, fixed: float | None = None) -> None:
        self.fixed = fixed
        self.limit = fixed or 0.0

    def reset(self, fixed: float | None = None) -> None:
        self.fixed = fixed
        self.limit = fixed or 0.0

    def update(self, *arrays: np.ndarray) -> float:
        if self.fixed:
            return self.fixed
        m = colors.nice_limit(colors.symmetric_limit(*arrays))
        self.limit = max(self.limit, m)
        return self.limit


def image_item(lut: np.ndarray = colors.LUT) -> pg.ImageItem:
    """A heat-map image (column-major: image[x, y]) coloured through `lut`."""
    item = pg.ImageItem(axisOrder="col-major")
    item.setLookupTable(lut)
    return item


def place_image(item: pg.ImageItem, rect: QRectF) -> None:
    """Put an image's pixels on a data rectangle; only when it moved (a new rect makes the
    view re-range and every axis redraw)."""
    key = (rect.x(), rect.y(), rect.width(), rect.height(), item.width(), item.height())
    if getattr(item, "_rnnviz_rect", None) != key:
        item.setRect(rect)
        item._rnnviz_rect = key
