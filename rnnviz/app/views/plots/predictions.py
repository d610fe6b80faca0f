"""What the network predicts for the watched sequence, against the targets.

Regression (mse): y_t and target_t against t, per output unit. Classification (cross-entropy, nll):
a heatmap of the predicted probabilities time × class with the true class marked, and the
probability given to the true class against t.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt

from rnnviz.engine.model import is_class_loss
from rnnviz.app.state.session import Session
from rnnviz.app.state.training import TrainingController
from rnnviz.app.views.axes import finite_span, integer_ticks, steady_range
from rnnviz.app.views.plots.base import PlotPanel
from rnnviz.app.views.plots.display import SEQUENTIAL_LUT, finite_or_empty, place_image, unit_color
from rnnviz.app.views.plots.symbols import style_symbols, symbol_brush, symbol_pen


class PredictionPlot(PlotPanel):
    title = "Predictions"

    def __init__(self, session: Session, controller: TrainingController | None = None, parent=None) -> None:
        super().__init__(session, controller, parent)
        self.kind = ""
        self.top: pg.PlotItem | None = None
        self.bottom: pg.PlotItem | None = None
        self.cursors: list[pg.InfiniteLine] = []
        self.output_curves: list[pg.PlotDataItem] = []
        self.target_curves: list[pg.PlotDataItem] = []
        self.image: pg.ImageItem | None = None
        self.truth: pg.ScatterPlotItem | None = None
        self.p_true_curve: pg.PlotDataItem | None = None
        # what was plotted (steps with a target only, for targets and p(true))
        self.t = np.zeros(0)
        self.outputs = np.zeros((0, 0))  # (T, O) y_t, or probabilities for classification
        self.targets = np.zeros((0, 0))  # (n, O) regression targets at target steps
        self.target_t = np.zeros(0)
        self.true_class = np.zeros(0, dtype=np.int64)
        self.p_true = np.zeros(0)
        self.finish_init()

    def rebuild(self) -> None:
        model = self.session.model
        kind = "classification" if is_class_loss(model.loss) else "regression"
        self.clear_plots()  # deletes every item: drop our references to them too
        self.cursors.clear()
        self.output_curves.clear()
        self.target_curves.clear()
        self.truth = self.image = self.p_true_curve = None
        self.kind = kind
        O = model.output_size
        if kind == "regression":
            self.top = self.add_plot(0, 0, "outputs y_t and targets", "time step t", "value")
            self.bottom = None
            self.legend = self.top.addLegend(offset=(-10, 10))
            for j in range(O):
                suffix = f"[{j}]" if O > 1 else ""  # outputs numbered from 0, as in the inspector
                self.output_curves.append(self.top.plot(name=f"y_t{suffix}"))
                self.target_curves.append(self.top.plot(name=f"target{suffix}"))
        else:
            self.top = self.add_plot(0, 0, "predicted probabilities (✕ = true class)", "", "class")
            self.top.getViewBox().invertY(True)
            self.image = pg.ImageItem(axisOrder="col-major")
            self.image.setLookupTable(SEQUENTIAL_LUT)
            self.top.addItem(self.image)
            self.truth = pg.ScatterPlotItem(symbol="x", size=16)
            self.truth.setZValue(10)
            self.top.addItem(self.truth)
            vocab = self.session.task.vocab if self.session.source == "task" and self.session.task else None
            labels = [repr(c) for c in vocab] if vocab and len(vocab) == O else [str(j) for j in range(O)]
            step = max(1, int(np.ceil(O / 16)))
            self.top.getAxis("left").setTicks([[(j, labels[j]) for j in range(0, O, step)]])
            self.bottom = self.add_plot(1, 0, "probability of the true class", "time step t", "p(true)")
            self.bottom.setXLink(self.top)
            self.bottom.setYRange(0, 1, padding=0.05)
            self.bottom.enableAutoRange(y=False)
            self.p_true_curve = self.bottom.plot()
        for p in (self.top, self.bottom):
            if p is not None:
                self.cursors.append(self.cursor_line(p))
        self.setMinimumHeight(250 if kind == "classification" else 180)
        T = self.session.T
        self.top.setXRange(0.5, max(T, 1) + 0.5, padding=0.02)
        for p in (self.top, self.bottom):
            if p is not None:
                integer_ticks(p, T)
        self.apply_theme()

    def apply_theme(self) -> None:
        t = self.theme
        w = 2.2 if self.session.presentation else 1.6
        for j, (out, tgt) in enumerate(zip(self.output_curves, self.target_curves)):
            c = t.forward if len(self.output_curves) == 1 else unit_color(j, t)
            out.setPen(pg.mkPen(c, width=w))
            style_symbols(out, "o", 5, c)  # shared pens and brushes: see symbols.py
            tgt.setPen(pg.mkPen(t.text, width=w * 0.8, style=Qt.PenStyle.DashLine))
            style_symbols(tgt, "s", 6, None, t.text)
        if self.truth is not None:
            self.truth.setPen(symbol_pen(t.text, 1.2))  # amber with a dark rim: visible on white and on red
            self.truth.setBrush(symbol_brush(t.highlight))
        if self.p_true_curve is not None:
            self.p_true_curve.setPen(pg.mkPen(t.forward, width=w))
            style_symbols(self.p_true_curve, "o", 5, t.forward)
        for c in self.cursors:
            c.setPen(pg.mkPen(t.highlight, width=2))
        if hasattr(self, "legend") and self.kind == "regression":
            self.legend.setLabelTextColor(t.text)

    def draw_trace(self) -> None:
        tr = self.session.trace
        if tr is None:
            return
        T = tr.T
        t = np.arange(1, T + 1)
        self.t = t
        mask = tr.target_mask
        has_targets = tr.targets is not None
        self.target_t = t[mask] if has_targets else np.zeros(0)
        if self.kind == "regression":
            y = tr.y[:, 0, :]  # (T, O)
            self.outputs = y.copy()
            self.targets = tr.targets[mask, 0, :].copy() if has_targets else np.zeros((0, y.shape[1]))
            for j, curve in enumerate(self.output_curves):
                curve.setData(*finite_or_empty(t, y[:, j]))
            for j, curve in enumerate(self.target_curves):
                curve.setData(self.target_t, self.targets[:, j])
            lo, hi = finite_span(np.concatenate([y.ravel(), self.targets.ravel()]))
            steady_range(self.top, "y", lo, hi, headroom=0.1, shrink=0.5)
            return
        probs = tr.probs[:, 0, :]  # (T, O)
        self.outputs = probs.copy()
        O = probs.shape[1]
        self.image.setImage(probs, autoLevels=False, levels=(0.0, 1.0))
        place_image(self.image, QRectF(0.5, -0.5, T, O))
        if has_targets:
            cls = tr.targets[mask, 0].astype(np.int64)  # (n,) true class at target steps
            self.true_class = cls
            self.p_true = probs[mask][np.arange(len(cls)), cls]
            self.truth.setData(self.target_t, cls)
            self.p_true_curve.setData(self.target_t, self.p_true)
        else:
            self.true_class = np.zeros(0, dtype=np.int64)
            self.p_true = np.zeros(0)
            self.truth.setData([], [])
            self.p_true_curve.setData([], [])

    def move_cursor(self) -> None:
        for c in self.cursors:
            c.setValue(self.session.frame.active)
