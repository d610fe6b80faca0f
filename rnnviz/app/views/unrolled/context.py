"""What the unrolled view's items and overlay draw from: one `DrawContext`, built by the view.

The view builds a new context when something drawn changes (a network, a trace, the position,
the selection or hover, the appearance) and hands it to each item; the items never read the view.
`strip_images` turns the display data into the coloured cell strips, once per trace.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage

from rnnviz.app.state.playback import Frame
from rnnviz.app.state.selection import Selection
from rnnviz.app.style import colors
from rnnviz.app.style.theme import Theme
from rnnviz.app.views.unrolled.layout import WEIGHTS, NodeData, UnrolledLayout


@dataclass(frozen=True, eq=False)
class DrawContext:
    """Everything one frame of the unrolled diagram is drawn from.

    The layout is shared, not copied: its `unroll` moves while the view rolls or unrolls."""

    layout: UnrolledLayout
    data: NodeData
    images: dict[tuple[str, str], QImage]  # (mode, kind) -> the column's strips, one image row per row
    frame: Frame  # which pass, which step is active, what is computed
    theme: Theme
    font_scale: float  # 1, or larger for presentation mode (pens and text)
    bounds: QRectF  # every item's bounding rect (the whole diagram, rolled or not, with room)
    selection: Selection | None = None
    highlighted: tuple[str, ...] = ()  # weights hovered or selected (their copies all light up)
    vocab: str | None = None  # the characters of one-hot inputs / classes, when units are characters
    header_height: float = 0.0  # the fixed header band at the top of the viewport (px)
    legend_width: float = 0.0  # the fixed colour legend at the right edge (px)

    def values(self, source: str, kind: str) -> np.ndarray | None:
        """(T+1, units) values or gradients of a column; source "faded" shows the values."""
        arrays = self.data.backward if source == "backward" else self.data.forward
        return arrays.get(kind)

    def limit(self, source: str, kind: str) -> float:
        """The colour range ±limit of a column in this source."""
        mode = "backward" if source == "backward" else "forward"
        return self.data.limits.get((mode, kind), 1.0)


def strip_images(data: NodeData, layout: UnrolledLayout) -> dict[tuple[str, str], QImage]:
    """Each drawn column's colours as one image, row r = the strip of row r: (mode, kind) -> QImage."""
    images: dict[tuple[str, str], QImage] = {}
    for mode, arrays in (("forward", data.forward), ("backward", data.backward)):
        for kind, a in arrays.items():
            if kind not in layout.columns:
                continue
            rgba = np.ascontiguousarray(colors.rgba_seq(a) if data.sequential(kind)  # σ gates: 0 … 1
                                        else colors.rgba(a, data.limits[(mode, kind)]))  # (T+1, n, 4)
            h, w = rgba.shape[:2]
            # converted once to the raster engine's native format (else every draw converts)
            images[(mode, kind)] = QImage(rgba.data, w, h, w * 4, QImage.Format_RGBA8888).convertToFormat(
                QImage.Format_ARGB32_Premultiplied)
    return images


def highlighted_weights(hover: Selection | None, selection: Selection | None) -> tuple[str, ...]:
    """The weights whose copies light up: the hovered one, then the selected one (no repeats)."""
    out: list[str] = []
    for s in (hover, selection):
        if s is not None and s.kind in WEIGHTS and s.kind not in out:
            out.append(s.kind)
    return tuple(out)
