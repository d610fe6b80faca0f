"""How the hidden state evolves: over the time steps of the watched sequence, and over training."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from rnnviz.app.state.session import Session
from rnnviz.app.state.training import TrainingController
from rnnviz.engine.analysis import hidden_pca
from rnnviz.app.views.axes import finite_span, forget_range, integer_ticks, steady_range, set_unit_ticks
from rnnviz.app.views.plots.base import PlotPanel
from rnnviz.app.views.plots.display import MAX_LINES, RatchetLevels, finite_or_empty, image_item, place_image, unit_color
from rnnviz.app.views.plots.symbols import style_symbols, symbol_brush, symbol_pen

BOUNDED = {"tanh": 1.0, "sigmoid": 1.0}  # activations whose h has a known fixed range


def _bound(session: Session) -> float | None:
    return BOUNDED.get(session.model.activation) if session.model is not None else None


class HiddenTimePlot(PlotPanel):
    """h_t[i] against t: one line per unit, and a heatmap units × time; both with the cursor."""

    title = "Hidden state over time"

    def __init__(self, session: Session, controller: TrainingController | None = None, parent=None) -> None:
        super().__init__(session, controller, parent)
        self.lines_plot = self.add_plot(0, 0, "h_t per unit", "", "h_t[i]")
        self.map_plot = self.add_plot(1, 0, "", "time step t", "unit")
        self.map_plot.setXLink(self.lines_plot)
        self.map_plot.getViewBox().invertY(True)
        self.lines: list[pg.PlotDataItem] = []
        self.image = image_item()
        self.map_plot.addItem(self.image)
        self.line_cursor = self.cursor_line(self.lines_plot)
        self.map_cursor = self.cursor_line(self.map_plot)
        self.setMinimumHeight(250)  # two stacked plots; the dock can be torn off for more room
        self.levels = RatchetLevels()
        self.h = np.zeros((0, 0))  # (T+1, H) what was plotted
        self.finish_init()

    def rebuild(self) -> None:
        H = self.session.model.hidden_size
        T = self.session.T
        n = min(H, MAX_LINES)
        while len(self.lines) > n:
            self.lines_plot.removeItem(self.lines.pop())
        while len(self.lines) < n:
            self.lines.append(self.lines_plot.plot())
        self.apply_theme()
        self.levels.reset(_bound(self.session))
        extra = f" (first {n} of {H})" if n < H else ""
        self.set_title(self.lines_plot, f"h_t per unit{extra}")
        set_unit_ticks(self.map_plot.getAxis("left"), H, "h")
        self.lines_plot.setXRange(0, max(T, 1), padding=0.02)
        for p in (self.lines_plot, self.map_plot):
            integer_ticks(p, T)
        forget_range(self.lines_plot)
        if self.levels.fixed:
            self.lines_plot.setYRange(-self.levels.fixed, self.levels.fixed, padding=0.05)
            self.lines_plot.enableAutoRange(y=False)

    def apply_theme(self) -> None:
        width = 2.0 if self.session.presentation else 1.3
        for i, line in enumerate(self.lines):
            line.setPen(pg.mkPen(unit_color(i, self.theme), width=width))
        for c in (self.line_cursor, self.map_cursor):
            c.setPen(pg.mkPen(self.theme.highlight, width=2))

    def draw_trace(self) -> None:
        tr = self.session.trace
        if tr is None:
            return
        h = tr.h[:, 0, :]  # (T+1, H) h_0 .. h_T of the watched sequence
        self.h = h.copy()
        t = np.arange(h.shape[0])
        for i, line in enumerate(self.lines[: h.shape[1]]):  # (the base rebuilds lines of another H)
            line.setData(t, h[:, i])
        lim = self.levels.update(h)
        if not self.levels.fixed:
            steady_range(self.lines_plot, "y", *finite_span(h), headroom=0.1)
        self.image.setImage(h, autoLevels=False, levels=(-lim, lim))
        place_image(self.image, QRectF(-0.5, -0.5, h.shape[0], h.shape[1]))  # pixel (t, i) centred on (t, i)
        self.set_title(self.map_plot, f"units × time (colour ±{lim:g})")

    def move_cursor(self) -> None:
        active = self.session.frame.active
        self.line_cursor.setValue(active)
        self.map_cursor.setValue(active)


class HiddenTrainingPlot(PlotPanel):
    """How training changes h: a heatmap iteration × unit of h at the cursor step, and the
    trajectory h_0..h_T projected on its two main directions (PCA), moving as training runs."""

    title = "Hidden state over training"

    def __init__(self, session: Session, controller: TrainingController, parent=None) -> None:
        super().__init__(session, controller, parent)
        self.map_plot = self.add_plot(0, 0, "", "iteration", "unit")
        self.map_plot.getViewBox().invertY(True)
        self.pca_plot = self.add_plot(0, 1, "", "PC 1", "PC 2")
        self.pca_plot.setAspectLocked(True)
        self.set_title(self.pca_plot, "h_0..h_T on its 2 main axes (PCA)")
        self.pca_note = self.overlay_text(self.pca_plot)
        self.canvas.ci.layout.setColumnStretchFactor(0, 3)
        self.canvas.ci.layout.setColumnStretchFactor(1, 2)
        self.image = image_item()
        self.map_plot.addItem(self.image)
        self.start_ghost = self.pca_plot.plot()  # the trajectory at iteration 0
        self.path = self.pca_plot.plot()
        self.head = pg.ScatterPlotItem(size=11)
        self.pca_plot.addItem(self.head)
        self.levels = RatchetLevels()
        self.basis: np.ndarray | None = None  # (H, 2)
        self.mean: np.ndarray | None = None
        self.explained = (0.0, 0.0)
        self.map_data = np.zeros((0, 0))  # (n, H) h at the cursor step per recorded iteration
        self.map_iterations = np.zeros(0, dtype=np.int64)
        self.pca_points = np.zeros((0, 2))  # (T+1, 2) the current trajectory, projected
        self.finish_init()

    def rebuild(self) -> None:
        H = self.session.model.hidden_size
        self.levels.reset(_bound(self.session))
        self.basis = self.mean = None
        for p in (self.map_plot, self.pca_plot):
            forget_range(p)
        set_unit_ticks(self.map_plot.getAxis("left"), H, "h")

    def apply_theme(self) -> None:
        t = self.theme
        self.start_ghost.setPen(pg.mkPen(t.muted, width=1, style=pg.QtCore.Qt.PenStyle.DashLine))
        self.path.setPen(pg.mkPen(t.forward, width=1.6))
        style_symbols(self.path, "o", 4, t.forward)  # shared pens and brushes: see symbols.py
        self.head.setBrush(symbol_brush(t.highlight))
        self.head.setPen(symbol_pen(t.text, 1))

    def draw_trace(self) -> None:
        self._draw_map()
        self._draw_pca()

    def move_cursor(self) -> None:
        self._draw_map()
        self._place_head()

    def _draw_map(self) -> None:
        rec = self.controller.hidden
        t = self.session.frame.active
        if len(rec) == 0 or rec.values.shape[1] <= t:
            return
        its = rec.iterations
        cols = rec.values[:, t, :]  # (n, H)
        self.map_data = cols.copy()
        self.map_iterations = its.copy()
        H = cols.shape[1]
        # honest x axis: resample the (irregularly timed) records on an even iteration grid
        n = len(its)
        lo, hi = int(its[0]), int(its[-1])
        if n > 1 and hi > lo:
            grid = np.linspace(lo, hi, n)
            pick = np.clip(np.searchsorted(its, grid, side="right") - 1, 0, n - 1)
            img = cols[pick]
            width = (hi - lo) * n / (n - 1)
            x0 = lo - width / n / 2
        else:
            img, width, x0 = cols, 1.0, lo - 0.5
        lim = self.levels.update(cols)
        self.image.setImage(img, autoLevels=False, levels=(-lim, lim))
        place_image(self.image, QRectF(x0, -0.5, width, H))  # unit i centred on y = i
        steady_range(self.map_plot, "x", x0, x0 + width, headroom=0.25)
        steady_range(self.map_plot, "y", -0.5, H - 0.5, headroom=0.0)
        self.set_title(self.map_plot, f"h at t={t} over training (±{lim:g})")

    def _draw_pca(self) -> None:
        tr = self.session.trace
        if tr is None:
            return
        h = tr.h[:, 0, :]  # (T+1, H)
        pca = hidden_pca(h, self.basis)  # signs kept from the last frame's basis
        basis, mean, pts = pca.basis, pca.mean, pca.points  # (H, 2), (H,), (T+1, 2)
        self.basis, self.mean, self.explained = basis, mean, pca.explained
        self.pca_points = pts
        self.path.setData(*finite_or_empty(pts[:, 0], pts[:, 1]))
        m = float(np.nanmax(np.abs(pts))) if np.isfinite(pts).any() else 1.0
        steady_range(self.pca_plot, "x", -m, m, headroom=0.1, shrink=0.5)
        steady_range(self.pca_plot, "y", -m, m, headroom=0.1, shrink=0.5)
        rec = self.controller.hidden
        if len(rec) and rec.values.shape[1:] == h.shape:
            first = (rec.values[0] - mean) @ basis  # (T+1, 2) the run's start
            self.start_ghost.setData(*finite_or_empty(first[:, 0], first[:, 1]))
        else:
            self.start_ghost.setData([], [])
        self.pca_note.setText(f"{self.explained[0] + self.explained[1]:.0%} of the variance")
        self._place_head()

    def _place_head(self) -> None:
        pts = self.pca_points
        t = self.session.frame.active
        if len(pts) > t:
            self.head.setData(*finite_or_empty([pts[t, 0]], [pts[t, 1]]))
