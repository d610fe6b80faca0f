"""Pens and brushes for scatter symbols: one Qt object per value, so restyling is free.

pyqtgraph's ScatterPlotItem keeps every symbol it has drawn in a picture atlas keyed by the
*identity* of the QPen and QBrush objects (`SymbolAtlas._keys`), and rebuilds it only past
1,000 entries. A new pen or brush for each theme change or presentation toggle (`pg.mkPen(...)`,
a colour string, or None, each made into a new object) added a freshly rendered symbol every
time: the atlases grew by a few kB per restyle (issue 13: memory under random use). Symbols
styled with the objects below keep one atlas entry per distinct style.
"""
from __future__ import annotations

from functools import lru_cache

import pyqtgraph as pg
from PySide6.QtGui import QBrush, QPen

MAX_STYLES = 256  # distinct (colour, width) pairs kept: a few per theme, far under this


@lru_cache(maxsize=MAX_STYLES)
def symbol_pen(color: str | None = None, width: float = 1.0) -> QPen:
    """The one QPen of this colour and width (None: no outline). Never change it in place."""
    return pg.mkPen(None) if color is None else pg.mkPen(color, width=width)


@lru_cache(maxsize=MAX_STYLES)
def symbol_brush(color: str | None = None) -> QBrush:
    """The one QBrush of this colour (None: no fill). Never change it in place."""
    return pg.mkBrush(None) if color is None else pg.mkBrush(color)


def style_symbols(item: pg.PlotDataItem, symbol: str, size: float, brush: str | None,
                  pen: str | None = None, pen_width: float = 1.0) -> None:
    """A PlotDataItem's symbols in these colours, with the shared objects above (its own
    setSymbolBrush / setSymbolPen copy what they are given: a new atlas entry per call that
    changes the colour). Nothing is redrawn when the style is already this one."""
    b, p = symbol_brush(brush), symbol_pen(pen, pen_width)
    opts = item.opts
    if opts["symbol"] == symbol and opts["symbolSize"] == size and opts["symbolBrush"] is b and opts["symbolPen"] is p:
        return
    opts["symbol"], opts["symbolSize"], opts["symbolBrush"], opts["symbolPen"] = symbol, size, b, p
    item.updateItems(styleUpdate=True)
