"""The vanishing-gradient lab's four plots (LabPlots): ‖∂h_T/∂h_t‖ against the distance T − t,
the eigenvalues of the vanilla W_hh against the unit circle, both loss curves, and the gradient
that reaches each h_t. They read the lab's state (a `LabState`: the window) and draw; they
compute nothing.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from rnnviz.app.lab.model import CELL_NAMES, LabConfig, LabCurves
from rnnviz.app.lab.training import LabTraining
from rnnviz.app.state.session import Session
from rnnviz.app.style.theme import font_scale
from rnnviz.app.views.axes import finite_span, steady_range
from rnnviz.app.views.plots.base import PlotPanel
from rnnviz.app.views.plots.display import minmax_decimate

# Okabe–Ito, as the other plots: blue for the vanilla cell, vermillion / green for the gated ones
CELL_COLORS = {"rnn": "#0072B2", "lstm": "#D55E00", "gru": "#009E73"}


class LabState(Protocol):
    """What the plots read from the lab window."""

    config: LabConfig
    curves: dict[str, LabCurves]  # per cell, for the weights training has reached
    initial_curves: dict[str, LabCurves]  # per cell, at initialisation
    training: LabTraining
    show_gain: bool  # also draw the batch-mean gradient reach (dashed)
    zero_loss: float  # the loss of always answering 0


def _positive(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Only the points a log axis can show."""
    ok = np.isfinite(y) & (y > 0)
    return x[ok], y[ok]


class LabPlots(PlotPanel):
    """The lab's four plots. Reads the lab's state (curves, snapshots) and draws; computes nothing."""

    title = "Vanishing-gradient lab"

    def __init__(self, session: Session, lab: LabState, parent: QWidget | None = None) -> None:
        self.lab = lab
        self._built_for: tuple | None = None
        super().__init__(session, None, parent)
        self.controls.setContentsMargins(0, 0, 0, 0)
        self.setMinimumSize(600, 480)
        c = self.canvas
        self.reach = self.add_plot(0, 0, "How far back does the gradient reach?", "distance T − t (steps back from the last step)",
                                   "‖∂h_T / ∂h_t‖")
        self.eigen = self.add_plot(0, 1, "Eigenvalues of W_hh (vanilla)", "Re λ", "Im λ")
        self.loss = self.add_plot(2, 0, "Training loss", "iteration", "loss (MSE)")
        self.flow = self.add_plot(2, 1, "Gradient reaching each h_t", "time step t", "mean ‖dL/dh_t‖")
        lay = c.ci.layout
        lay.setColumnStretchFactor(0, 3)
        lay.setColumnStretchFactor(1, 2)
        lay.setHorizontalSpacing(18)
        lay.setVerticalSpacing(4)
        for p in (self.reach, self.loss, self.flow):
            p.setLogMode(y=True)
            p.showGrid(x=True, y=True, alpha=0.25)
        self.eigen.showGrid(x=True, y=True, alpha=0.25)
        self.eigen.setAspectLocked(True)
        self.items: dict[str, dict[str, pg.PlotDataItem]] = {}
        self.keys: dict[str, pg.GraphicsObject] = {}  # legend samples (never in a plot: always drawn)
        self.legends: dict[str, pg.LegendItem] = {}
        self._start_keys_shown = False
        self.lag_line = pg.InfiniteLine(angle=90, movable=False, label="lag", labelOpts={"position": 0.93})
        self.reach.addItem(self.lag_line, ignoreBounds=True)
        self.zero_line = pg.InfiniteLine(angle=0, movable=False)
        self.loss.addItem(self.zero_line, ignoreBounds=True)
        th = np.linspace(0, 2 * np.pi, 241)
        self.circle = pg.PlotDataItem(np.cos(th), np.sin(th))
        self.eigen.addItem(self.circle)
        self.eig_start = pg.ScatterPlotItem(size=7, symbol="o")
        self.eig_now = pg.ScatterPlotItem(size=8, symbol="o")
        self.eigen.addItem(self.eig_start)
        self.eigen.addItem(self.eig_now)
        self.rho_text = self.overlay_text(self.eigen)
        self.reach_text = self.overlay_text(self.reach)
        self.finish_init()

    # building ----------------------------------------------------------------------------------
    def _legend(self, name: str, row: int, col: int, columns: int) -> pg.LegendItem:
        """A legend in its own row under a plot: it never covers the data."""
        size = f"{int(8.5 * font_scale(self.session.presentation))}pt"
        legend = pg.LegendItem(colCount=columns, labelTextSize=size, labelTextColor=self.theme.text,
                               horSpacing=14, verSpacing=-4, frame=False)
        self.canvas.ci.addItem(legend, row=row, col=col)
        self.legends[name] = legend
        return legend

    def _key(self, name: str, scatter: bool = False) -> pg.GraphicsObject:
        item = pg.ScatterPlotItem(size=8, symbol="o") if scatter else pg.PlotDataItem()
        self.keys[name] = item
        return item

    def rebuild(self) -> None:
        cells = self.lab.config.cells
        wide = not self.session.presentation  # presentation: larger text, legends in fewer columns
        if self._built_for == (cells, wide):
            return
        self._built_for = (cells, wide)
        for d in self.items.values():
            for item in d.values():
                vb = item.getViewBox()
                if vb is not None:
                    vb.removeItem(item)
        for legend in self.legends.values():
            self.canvas.ci.removeItem(legend)
        self.legends.clear()
        self.keys.clear()
        self.items = {}
        for cell in cells:
            d = self.items[cell] = {}
            d["jac"] = self.reach.plot()
            d["gain"] = self.reach.plot()
            d["jac0"] = self.reach.plot()
            d["raw"] = self.loss.plot()
            d["smooth"] = self.loss.plot()
            d["flow"] = self.flow.plot()
            d["flow0"] = self.flow.plot()
        reach = self._legend("reach", 1, 0, 2 if wide else 1)
        for cell in cells:
            reach.addItem(self._key(f"jac.{cell}"), f"{CELL_NAMES[cell]} (watched sequence)")
        self._key("gain.style")
        loss = self._legend("loss", 3, 0, 2)
        for cell in cells:
            loss.addItem(self._key(f"smooth.{cell}"), f"{CELL_NAMES[cell]} (smoothed)")
        loss.addItem(self._key("raw.style"), "faint: each iteration")
        loss.addItem(self._key("zero"), "always answer 0")
        flow = self._legend("flow", 3, 1, 2 if wide else 1)
        for cell in cells:
            flow.addItem(self._key(f"flow.{cell}"), CELL_NAMES[cell])
        eig = self._legend("eigen", 1, 1, 1)
        eig.addItem(self._key("eig.now", scatter=True), "now")
        eig.addItem(self._key("circle"), "|λ| = 1")
        self._key("start.reach")
        self._key("start.flow")
        self._key("eig.start", scatter=True)
        self._start_keys_shown = False
        self.apply_theme()

    def _on_appearance(self) -> None:
        self.rebuild()  # legends' columns follow presentation mode
        super()._on_appearance()

    def _show_gain_key(self, on: bool) -> None:
        legend = self.legends.get("reach")
        if legend is None:
            return
        shown = any(sample.item is self.keys["gain.style"] for sample, _ in legend.items)
        if on and not shown:
            legend.addItem(self.keys["gain.style"], "dashed: batch mean along dL/dh_T")
        elif shown and not on:
            legend.removeItem(self.keys["gain.style"])

    def _show_start_keys(self, on: bool) -> None:
        """'at initialisation' entries only once there is a start to compare with."""
        if on == self._start_keys_shown or not self.legends:
            return
        self._start_keys_shown = on
        entries = (("reach", "start.reach", "dotted: at start"), ("flow", "start.flow", "dotted: at start"),
                   ("eigen", "eig.start", "at start"))
        for legend, key, text in entries:
            if on:
                self.legends[legend].addItem(self.keys[key], text)
            else:
                self.legends[legend].removeItem(self.keys[key])

    def apply_theme(self) -> None:
        if not self.items:
            return
        t = self.theme
        scale = font_scale(self.session.presentation)
        w = 2.0 * scale
        for cell, d in self.items.items():
            c = QColor(CELL_COLORS[cell])
            faint = QColor(c)
            faint.setAlpha(70)
            d["jac"].setPen(pg.mkPen(c, width=w))
            d["jac"].setSymbol("o")
            d["jac"].setSymbolSize(5 * scale)
            d["jac"].setSymbolBrush(pg.mkBrush(c))
            d["jac"].setSymbolPen(None)
            d["gain"].setPen(pg.mkPen(c, width=1.5 * scale, style=Qt.DashLine))
            d["jac0"].setPen(pg.mkPen(c, width=1.2 * scale, style=Qt.DotLine))
            d["raw"].setPen(pg.mkPen(faint, width=1))
            d["smooth"].setPen(pg.mkPen(c, width=w))
            d["flow"].setPen(pg.mkPen(c, width=w))
            d["flow"].setSymbol("o")
            d["flow"].setSymbolSize(4 * scale)
            d["flow"].setSymbolBrush(pg.mkBrush(c))
            d["flow"].setSymbolPen(None)
            d["flow0"].setPen(pg.mkPen(c, width=1.2 * scale, style=Qt.DotLine))
        for cell, d in self.items.items():
            for name in ("jac", "smooth", "flow"):
                key = self.keys[f"{name}.{cell}"]
                key.setPen(d[name].opts["pen"])
                if name in ("jac", "flow"):
                    key.setSymbol("o")
                    key.setSymbolSize(d[name].opts["symbolSize"])
                    key.setSymbolBrush(d[name].opts["symbolBrush"])
                    key.setSymbolPen(None)
        self.keys["raw.style"].setPen(pg.mkPen(QColor(t.muted), width=1))
        self.keys["gain.style"].setPen(pg.mkPen(t.muted, width=1.5 * scale, style=Qt.DashLine))
        dotted = pg.mkPen(t.muted, width=1.5 * scale, style=Qt.DotLine)
        self.keys["start.reach"].setPen(dotted)
        self.keys["start.flow"].setPen(dotted)
        blue = QColor(CELL_COLORS["rnn"])
        for item in (self.eig_now, self.keys["eig.now"]):
            item.setBrush(pg.mkBrush(blue))
            item.setPen(pg.mkPen(t.background, width=0.8))
        for item in (self.eig_start, self.keys["eig.start"]):
            item.setBrush(pg.mkBrush(None))
            item.setPen(pg.mkPen(t.muted, width=1.2 * scale))
        circle = pg.mkPen(t.muted, width=1.2 * scale, style=Qt.DashLine)
        self.circle.setPen(circle)
        self.keys["circle"].setPen(circle)
        hl = pg.mkPen(t.highlight, width=2 * scale, style=Qt.DashLine)
        self.lag_line.setPen(hl)
        self.lag_line.label.setColor(t.text)
        zero = pg.mkPen(t.muted, width=1.2 * scale, style=Qt.DashDotLine)
        self.zero_line.setPen(zero)
        self.keys["zero"].setPen(zero)
        size = f"{int(8.5 * scale)}pt"
        for legend in self.legends.values():
            legend.opts["labelTextSize"] = size
            legend.setLabelTextColor(t.text)
            for _sample, label in legend.items:
                label.setText(label.text, size=size, color=t.text)

    # drawing -----------------------------------------------------------------------------------
    def draw_trace(self) -> None:
        self.draw_curves()

    def draw_history(self) -> None:
        self.draw_loss()

    def draw_curves(self) -> None:
        lab = self.lab
        if not self.items or not lab.curves:
            return
        cfg = lab.config
        trained = any(lab.training.iteration(c) > 0 for c in cfg.cells) if lab.training.sides else False
        for cell in cfg.cells:
            d, now, start = self.items[cell], lab.curves[cell], lab.initial_curves[cell]
            d["jac"].setData(*_positive(*now.by_distance("jacobian")))
            d["gain"].setData(*_positive(*now.by_distance("gain")))
            d["gain"].setVisible(lab.show_gain)
            d["jac0"].setData(*_positive(*start.by_distance("jacobian")))
            d["jac0"].setVisible(trained)
            d["flow"].setData(*_positive(now.steps.astype(float), now.dL_dh))
            d["flow0"].setData(*_positive(start.steps.astype(float), start.dL_dh))
            d["flow0"].setVisible(trained)
        T = cfg.steps
        self.lag_line.setValue(cfg.lag)
        self.lag_line.label.setFormat(f"lag = {cfg.lag}")
        for p in (self.reach, self.flow):
            p.setXRange(-0.5 if p is self.reach else 0.5, T - 0.5 if p is self.reach else T + 0.5, padding=0.02)
        vals = [lab.curves[c].jacobian for c in cfg.cells] + [lab.initial_curves[c].jacobian for c in cfg.cells]
        if lab.show_gain:
            vals += [lab.curves[c].gain for c in cfg.cells]
        lo, hi = finite_span(np.concatenate(vals), log=True)
        steady_range(self.reach, "y", lo, max(hi, 0.0), headroom=0.15, shrink=0.4, min_span=2, decades=True)
        flows = np.concatenate([lab.curves[c].dL_dh for c in cfg.cells] + [lab.initial_curves[c].dL_dh for c in cfg.cells])
        lo, hi = finite_span(flows, log=True)
        steady_range(self.flow, "y", lo, hi, headroom=0.15, shrink=0.4, min_span=2, decades=True)
        # the vanilla W_hh
        rnn, rnn0 = lab.curves["rnn"], lab.initial_curves["rnn"]
        ev, ev0 = rnn.eigenvalues, rnn0.eigenvalues
        self.eig_now.setData(ev.real, ev.imag)
        self.eig_start.setData(ev0.real, ev0.imag)
        self.eig_start.setVisible(trained)
        self._show_start_keys(trained)
        self._show_gain_key(lab.show_gain)
        m = max(1.15, 1.08 * float(np.max(np.abs(np.concatenate([ev, ev0])))))
        self.eigen.setRange(xRange=(-m, m), yRange=(-m, m), padding=0)
        rho, rho0 = rnn.spectral_radius, rnn0.spectral_radius
        text = f"spectral radius ρ = {rho:.3f}"
        if trained:
            text += f" (start {rho0:.2f})"
        self.rho_text.setText(text)
        gated = cfg.gated
        self.reach_text.setText(
            f"{cfg.lag} steps back: {CELL_NAMES['rnn']} {lab.curves['rnn'].at_distance(cfg.lag):.2g} · "
            f"{CELL_NAMES[gated]} {lab.curves[gated].at_distance(cfg.lag):.2g}")

    def draw_loss(self) -> None:
        lab = self.lab
        if not self.items or not lab.training.sides:
            return
        cfg = lab.config
        values, last = [], 0
        for cell in cfg.cells:
            snap = lab.training.snapshot(cell)
            d = self.items[cell]
            its, loss = snap.loss_curve
            its_s, smooth = snap.smoothed_curve
            d["raw"].setData(*_positive(*minmax_decimate(its.astype(float), loss)))
            d["smooth"].setData(*_positive(*minmax_decimate(its_s.astype(float), smooth)))
            values.append(loss)
            last = max(last, int(its[-1]) if len(its) else 0)
        z = lab.zero_loss
        self.zero_line.setValue(np.log10(z) if z > 0 else 0)
        steady_range(self.loss, "x", 0, max(last, lab.config.iterations), headroom=0.0, shrink=0.0, floor=0)
        lo, hi = finite_span(np.concatenate([*values, [z]]), log=True)
        steady_range(self.loss, "y", lo, hi, headroom=0.1, shrink=0.3, min_span=2, decades=True)

    def draw(self) -> None:
        self.draw_curves()
        self.draw_loss()
