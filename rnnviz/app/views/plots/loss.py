"""The loss during training: raw, smoothed (EMA), validation; log scale; exact values on hover."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QCheckBox, QLabel

from rnnviz.app.state.session import Session
from rnnviz.app.state.training import TrainingController
from rnnviz.app.views.axes import finite_span, forget_range, steady_range
from rnnviz.app.views.plots.base import PlotPanel
from rnnviz.app.views.plots.display import minmax_decimate
from rnnviz.app.views.plots.symbols import symbol_brush, symbol_pen

EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0))


class LossPlot(PlotPanel):
    title = "Loss"

    def __init__(self, session: Session, controller: TrainingController, parent=None) -> None:
        super().__init__(session, controller, parent)
        self.log_box = QCheckBox("log scale")
        self.log_box.setChecked(True)
        self.smooth_box = QCheckBox("smoothed")
        self.smooth_box.setChecked(True)
        self.readout = QLabel("")
        self.readout.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for w in (self.log_box, self.smooth_box):
            self.controls.addWidget(w)
        self.controls.addStretch(1)
        self.controls.addWidget(self.readout)
        self.plot = self.add_plot(0, 0, "", "iteration", "loss")
        self.legend = self.plot.addLegend(offset=(-10, 10))
        self.raw_curve = self.plot.plot(name="batch loss")
        self.smooth_curve = self.plot.plot(name="smoothed")
        self.val_curve = self.plot.plot(name="validation")
        self.marker = pg.ScatterPlotItem(size=8)
        self.marker.setZValue(30)
        self.label = pg.TextItem(anchor=(0, 1))
        self.label.setZValue(31)
        self.plot.addItem(self.marker, ignoreBounds=True)
        self.plot.addItem(self.label, ignoreBounds=True)
        self.marker.hide()
        self.label.hide()
        # what was plotted, in full (the curves may hold a decimated copy for display)
        self.loss = EMPTY
        self.smoothed = EMPTY
        self.val = EMPTY
        self.log_box.toggled.connect(self.set_log)
        self.smooth_box.toggled.connect(self._on_smooth)
        self._mouse = pg.SignalProxy(self.plot.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse)
        self.set_log(True)
        self.finish_init()

    def apply_theme(self) -> None:
        t = self.theme
        w = 2.0 if self.session.presentation else 1.0
        self.raw_curve.setPen(pg.mkPen(t.muted, width=w))
        self.smooth_curve.setPen(pg.mkPen(t.forward, width=2 * w))
        self.val_curve.setPen(pg.mkPen(t.backward, width=1.6 * w, style=Qt.PenStyle.DashLine))
        self.marker.setBrush(symbol_brush(t.highlight))  # shared pens and brushes: see symbols.py
        self.marker.setPen(symbol_pen(t.text))
        self.label.setColor(t.text)
        self.label.fill = pg.mkBrush(pg.mkColor(t.panel))
        self.legend.setLabelTextColor(t.text)
        self.legend.setBrush(pg.mkBrush(pg.mkColor(t.background)))

    def set_log(self, on: bool) -> None:
        if self.log_box.isChecked() != on:
            self.log_box.setChecked(on)
            return
        self.plot.setLogMode(False, on)
        forget_range(self.plot)
        if len(self.loss[0]):
            self._range()
        self.label.hide()
        self.marker.hide()

    def _on_smooth(self, on: bool) -> None:
        self.smooth_curve.setVisible(on)

    def draw_history(self) -> None:
        snap = self.controller.snapshot
        self.loss, self.smoothed, self.val = snap.loss_curve, snap.smoothed_curve, snap.val_curve
        self.raw_curve.setData(*minmax_decimate(*self.loss))
        self.smooth_curve.setData(*minmax_decimate(*self.smoothed))
        self.val_curve.setData(*self.val)  # every val_every iterations: already sparse
        has_val = len(self.val[0]) > 0
        if has_val != self.val_curve.isVisible():
            self.val_curve.setVisible(has_val)
            if has_val:
                self.legend.addItem(self.val_curve, "validation")
            else:
                self.legend.removeItem(self.val_curve)
        parts = []
        if len(self.loss[0]):
            parts.append(f"iteration {snap.iteration}: loss {snap.loss:.4g}")
            if has_val:
                parts.append(f"validation {self.val[1][-1]:.4g}")
        self.readout.setText(" · ".join(parts))
        self._range()

    def _range(self) -> None:
        its, vals = self.loss
        if len(its) == 0:
            forget_range(self.plot)
            self.plot.enableAutoRange()
            return
        log = self.log_box.isChecked()
        steady_range(self.plot, "x", 0.0, float(its[-1]), headroom=0.25, floor=0.0)
        lo, hi = finite_span(vals, log)
        if len(self.val[1]):
            vlo, vhi = finite_span(self.val[1], log)
            lo, hi = np.nanmin([lo, vlo]), np.nanmax([hi, vhi])
        steady_range(self.plot, "y", lo, hi, headroom=0.1, shrink=0.3, decades=log)

    # hover ------------------------------------------------------------------------------------
    def _on_mouse(self, event) -> None:
        pos = event[0]
        vb = self.plot.getViewBox()
        its, vals = self.loss
        if not self.plot.sceneBoundingRect().contains(pos) or len(its) == 0:
            self.label.hide()
            self.marker.hide()
            return
        x = vb.mapSceneToView(pos).x()
        info = self.value_at(x)
        if info is None:
            return
        it, loss, smooth, val = info
        lines = [f"iteration {it}", f"loss {loss:.5g}"]
        if smooth is not None and self.smooth_box.isChecked():
            lines.append(f"smoothed {smooth:.5g}")
        if val is not None:
            lines.append(f"validation {val:.5g}")
        y = np.log10(loss) if self.log_box.isChecked() and loss > 0 else loss
        self.marker.setData([it], [y])
        self.label.setText("\n".join(lines))
        # keep the label inside the view: flip to the left in the right half
        (x0, x1), _ = vb.viewRange()
        self.label.setAnchor((1, 1) if it > (x0 + x1) / 2 else (0, 1))
        self.label.setPos(QPointF(it, y))
        self.marker.show()
        self.label.show()

    def value_at(self, x: float) -> tuple[int, float, float | None, float | None] | None:
        """The recorded point nearest iteration x: (iteration, loss, smoothed, validation)."""
        its, vals = self.loss
        if len(its) == 0:
            return None
        i = int(np.clip(np.searchsorted(its, x), 1, len(its) - 1)) if len(its) > 1 else 0
        if len(its) > 1 and abs(its[i - 1] - x) <= abs(its[i] - x):
            i -= 1
        it = int(its[i])
        smooth = None
        s_its, s_vals = self.smoothed
        if len(s_its):
            j = int(np.clip(np.searchsorted(s_its, it), 0, len(s_its) - 1))
            smooth = float(s_vals[j])
        val = None
        v_its, v_vals = self.val
        if len(v_its):
            j = int(np.clip(np.searchsorted(v_its, it, side="right") - 1, 0, len(v_its) - 1))
            val = float(v_vals[j])
        return it, float(vals[i]), smooth, val
