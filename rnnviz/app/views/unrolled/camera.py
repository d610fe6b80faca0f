"""Where the unrolled view looks: zoom, fit to the window, the readable default, following the
active step, and which part of the scene a picture of a given size shows.

`Camera` drives a QGraphicsView through its public API only (transform, scene rect, centerOn,
scroll bars). Its `mode` is "auto" (the readable default: as wide as the view allows, scrolling
a long sequence to follow the active step), "fit" (everything in view) or "user" (zoomed or
panned by hand). The fixed header band at the top and the legend at the right edge cover part
of the viewport; every fit keeps the diagram clear of them.
"""
from __future__ import annotations

import weakref

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QGraphicsView

from rnnviz.app.views.unrolled.layout import UnrolledLayout, number_size

FIT_LABEL_MARGIN = 9.0  # px (at type scale 1) kept free above and below the rows by "fit"
# presentation mode, the readable default: on screen, cell numbers at least this many pixels and
# the row labels and arrow names (12.5 × s scene units, the arrow names 0.95 of it) this many
PRESENT_NUMBER_PX = 20.0
PRESENT_LABEL_PX = 18.0
PRESENT_FORWARD_AT = 0.6  # where the active step sits, as a share of the height under the header
PRESENT_BACKWARD_AT = 0.4
ROW_LABEL_SIZE = 12.5  # scene units at s = 1 (labels.py draws the row labels at this size)
LEGEND_HEIGHT = 330.0  # px at type scale 1: the most the legend box (overlay.py) takes, with the header gap


class Camera:
    """Zoom and scroll of one view over one diagram (see the module docstring)."""

    def __init__(self, view: QGraphicsView) -> None:
        # weak: a camera holding its view would put the view in a reference cycle, and a
        # parentless view left in a garbage cycle can be collected in the middle of its own paint
        self._view = weakref.ref(view)
        self.mode = "auto"  # "auto", "fit" or "user"
        self._layout: UnrolledLayout | None = None
        self._content = QRectF()  # what is drawn at this stage of unrolling (scene units)
        self._header = 0.0  # px covered by the fixed header band
        self._legend = 0.0  # px covered by the legend
        self._font_scale = 1.0
        self.backward = False  # the playback shows the backward pass (where `follow` puts the step)

    def set_diagram(self, layout: UnrolledLayout | None, header_height: float, legend_width: float,
                    font_scale: float) -> None:
        """Look at a new diagram (None: nothing to look at)."""
        self._layout = layout
        self._header, self._legend, self._font_scale = header_height, legend_width, font_scale

    @property
    def view(self) -> QGraphicsView:
        return self._view()

    def update_scene_rect(self) -> None:
        """The scene rect for the layout's current stage of unrolling, with room above for the
        header band (to scroll the first row out from under it)."""
        x, y, w, h = self._layout.scene_rect()
        self._content = QRectF(x, y, w, h)
        pad = self._header
        self.view.setSceneRect(QRectF(x, y - pad, w, h + pad))

    # fitting -------------------------------------------------------------------------------------
    def apply(self, active: int) -> None:
        """Fit again in "fit" and "auto" mode (after a resize, a new network, a roll step);
        `active` is the row a long sequence scrolls to."""
        if self._layout is None:
            return
        vw, vh = self._room()
        if vw < 10 or vh < 10:
            return
        c = self._content
        if self.mode == "fit":
            self._show(*self._fit_view(vw, vh))
        elif self.mode == "auto":
            # Scale from the width the viewport has *with* a vertical scroll bar, whether one
            # shows or not: scaling from the current viewport width would add the bar, shrink the
            # scale, remove the bar, grow the scale... a resize loop.
            bar = self.view.verticalScrollBar().sizeHint().width()
            k = self._auto_scale(self.view.contentsRect().width() - bar)
            cx = self._center_x(k, vw)
            if c.height() * k <= vh - self._header:
                self._show(k, k, QPointF(cx, c.center().y() - self._header / 2 / k))
            else:
                self._show(k, k, QPointF(cx, c.top() + (vh / 2 - self._header) / k))
                self.follow(active)

    def _room(self) -> tuple[int, int]:
        """The viewport's size with both scroll bars shown, whether they show or not. Every fit
        is computed from it: a scene rect computed from the current viewport changes when a
        scroll bar comes or goes, which can bring the bars in and out for ever (issue 13: the
        window froze in a small view with the diagram at its smallest auto scale)."""
        view = self.view
        r = view.contentsRect()
        return (r.width() - view.verticalScrollBar().sizeHint().width(),
                r.height() - view.horizontalScrollBar().sizeHint().height())

    def _fit_scale(self, vw: float, vh: float) -> float:
        c = self._content
        vw = vw - self._legend
        return max(1e-4, min(vw / c.width(), (vh - self._header) / c.height()))

    def _fit_view(self, vw: float, vh: float) -> tuple[float, float, QPointF]:
        """(kx, ky, centre) of "fit". A short sequence (few rows: hello, xor) whose diagram is
        wider than tall would leave the legend's column empty under the legend: it takes the
        whole width instead and sits under the legend, larger."""
        c = self._content
        kx, ky = self._fit_scales(vw, vh)
        center = c.center() + QPointF(self._legend / 2 / kx, -self._header / 2 / ky)
        if kx == ky:
            k = (vw - 2 * FIT_LABEL_MARGIN * self._font_scale) / c.width()
            room = vh - self._header - LEGEND_HEIGHT * self._font_scale - 2 * FIT_LABEL_MARGIN * self._font_scale
            if k > kx and c.height() * k <= room:  # its top just under the legend's room
                top = c.top() - (self._header + LEGEND_HEIGHT * self._font_scale) / k
                return k, k, QPointF(c.center().x(), top + (vh / 2) / k)
        return kx, ky, center

    def _fit_scales(self, vw: float, vh: float) -> tuple[float, float]:
        """(kx, ky) that fit the whole diagram. A long sequence whose rows would be thin on
        screen is squeezed vertically only (up to 6×), so the strips keep a useful width."""
        c = self._content
        # the row labels keep their size however far the rows are squeezed: leave half a label's
        # height above the first row and below the last (else "t = 500" is cut in half)
        margin = 2 * FIT_LABEL_MARGIN * self._font_scale
        kx, ky = (vw - self._legend) / c.width(), (vh - self._header - margin) / c.height()
        if ky < kx and self._layout.strip_h * ky < 8:
            return min(kx, 6 * ky, 1.2), max(ky, 1e-4)
        k = max(1e-4, min(kx, ky))
        return k, k

    def _auto_scale(self, vw: float) -> float:
        """The readable default: the diagram as wide as the view allows (so cells are big
        enough for their numbers, also on a projector), at most 2.5× its natural size; a
        sequence too long for that height scrolls and follows the active step. In presentation
        mode at least `presenting_scale()`."""
        k = max(0.3, min(2.5, (vw - self._legend) / self._content.width()))
        return max(k, self.presenting_scale(vw)) if self.presenting else k

    @property
    def presenting(self) -> bool:
        return self._font_scale > 1.0

    def presenting_scale(self, vw: float) -> float:
        """The scale at which a projector reads the network: cell numbers PRESENT_NUMBER_PX tall
        (as long as the hidden strip then still fits the view's width: with many units the
        numbers cannot reach that size, and the labels decide), row labels and arrow names at
        least PRESENT_LABEL_PX."""
        L = self._layout
        labels = PRESENT_LABEL_PX / (0.95 * ROW_LABEL_SIZE * L.s)
        h = L.columns["h"]
        numbers = PRESENT_NUMBER_PX / max(number_size(h, L.strip_h, L.s), 1e-6)
        fits = (vw - self._legend) / max(h.width + 2 * L.margin, 1e-6)
        return max(labels, min(numbers, fits))

    def _center_x(self, k: float, vw: float) -> float:
        """Where the view centres horizontally: the diagram's middle (beside the legend), or,
        when it is wider than the view at scale k (presentation mode beside the inspector), its
        left edge at the view's: the row labels, x and h in view, y under the legend."""
        c = self._content
        if c.width() * k <= vw - self._legend:
            return c.center().x() + self._legend / 2 / k
        return c.left() + vw / 2 / k

    def _show(self, kx: float, ky: float, center: QPointF) -> None:
        """Scale and centre the view; the scene rect grows to hold what is shown, so a small
        diagram can sit beside the legend rather than in the middle of the viewport."""
        # 2 px short of the viewport: a scene rect that overshoots it by a rounding error would
        # bring in the scroll bars, which shrink the viewport, which refits... (a resize loop)
        vw, vh = (r - 2 for r in self._room())
        want = QRectF(center.x() - vw / 2 / kx, center.y() - vh / 2 / ky, vw / kx, vh / ky)
        x, y, w, h = self._layout.scene_rect()
        base = QRectF(x, y - self._header, w, h + self._header)
        self.view.setSceneRect(base.united(want))
        self.view.setTransform(QTransform.fromScale(kx, ky))
        self.view.centerOn(center)

    # zoom and scroll -----------------------------------------------------------------------------
    def zoom(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom by `factor` about the view's centre (or the point under the mouse, `anchor`)."""
        if self._layout is None:
            return
        view = self.view
        kx, ky = view.transform().m11(), view.transform().m22()
        vw, vh = max(10, view.viewport().width()), max(10, view.viewport().height())
        lo = min(0.5 * self._fit_scale(vw, vh), 0.05)
        ny = min(8.0, max(lo, ky * factor))
        if ny == ky:
            return
        f = ny / ky
        # a squeezed (fitted long) diagram first regains its proportions when zooming in
        nx = max(ny, min(kx * f, kx)) if f > 1 else kx * f
        self.mode = "user"
        old_anchor = view.transformationAnchor()
        if anchor is not None:
            view.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        view.scale(nx / kx, f)
        view.setTransformationAnchor(old_anchor)

    def follow(self, row: int) -> None:
        """Scroll row `row` into view when it is out of view (to 40 % of the height)."""
        L = self._layout
        view = self.view
        if L is None or view.viewport().height() < 10:
            return
        top = L.row_top(row)
        k = view.transform().m22()
        head = self._header / k
        visible = view.mapToScene(view.viewport().rect()).boundingRect()
        margin = L.pitch * 0.6
        if self.presenting and self.mode == "auto":
            # a speaker's step sits near the middle, with more of the computed steps around it
            # than of the empty ones: below the middle going forward, above it going backward
            below = (visible.height() - head) * (PRESENT_BACKWARD_AT if self.backward else PRESENT_FORWARD_AT)
            y = top + L.strip_h / 2 - head - below + visible.height() / 2
            view.centerOn(QPointF(visible.center().x(), y))
        elif top - margin - head < visible.top() or top + L.strip_h + margin > visible.bottom():
            # out of view: bring it to 40 % of the height (scrolling clamps at the ends)
            y = top + L.strip_h / 2 - head / 2 + visible.height() * 0.1
            view.centerOn(QPointF(visible.center().x(), y))

    # pictures ------------------------------------------------------------------------------------
    def source_rect(self, width: int, height: int) -> tuple[QRectF, float, float]:
        """The scene rectangle a width × height picture shows, and its scales (kx, ky): what the
        view shows when fitted or zoomed by hand, else the readable default at that size."""
        view = self.view
        c = self._content
        band = self._header
        shown = view.viewport().width() >= 10 and view.isVisible()
        if self.mode == "fit":
            kx, ky, center = self._fit_view(width, height)
        elif self.mode == "auto" or not shown:
            kx = ky = self._auto_scale(width)
            if c.height() * ky <= height - band:
                center = QPointF(self._center_x(kx, width), c.center().y() - band / 2 / ky)
            else:
                cur = view.mapToScene(view.viewport().rect()).boundingRect() if shown else None
                top = c.top() - band / ky if cur is None else max(c.top() - band / ky, cur.top())
                top = min(top, c.bottom() - height / ky)
                center = QPointF(self._center_x(kx, width), top + height / ky / 2)
        else:
            kx, ky = view.transform().m11(), view.transform().m22()
            center = view.mapToScene(view.viewport().rect().center())
        w, h = width / kx, height / ky
        return QRectF(center.x() - w / 2, center.y() - h / 2, w, h), kx, ky
