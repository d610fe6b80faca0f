"""Gradient flow: ‖dL/dh_t‖ along the sequence now, and the global gradient norm over training."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from rnnviz.app.state.session import Session
from rnnviz.app.state.training import TrainingController
from rnnviz.app.style.theme import font_scale
from rnnviz.app.views.axes import decades_that_fit, finite_span, forget_range, integer_ticks, power_of_ten, steady_range
from rnnviz.app.views.plots.base import PlotPanel
from rnnviz.app.views.plots.display import finite_or_empty, minmax_decimate
from rnnviz.app.views.plots.symbols import style_symbols


def _positive(v: np.ndarray) -> np.ndarray:
    """Values for a log axis: zeros and non-finite values become gaps."""
    v = np.asarray(v, dtype=float).copy()
    v[~(np.isfinite(v) & (v > 0))] = np.nan
    return v


class GradientFlowPlot(PlotPanel):
    title = "Gradient flow"

    def __init__(self, session: Session, controller: TrainingController, parent=None) -> None:
        super().__init__(session, controller, parent)
        self.steps_plot = self.add_plot(0, 0, "‖dL/dh_t‖ along the sequence", "time step t", "‖dL/dh_t‖")
        self.steps_plot.setLogMode(False, True)
        self.norm_plot = self.add_plot(1, 0, "global gradient norm (before clipping)", "iteration", "‖∇‖")
        self.norm_plot.setLogMode(False, True)
        self.steps_curve = self.steps_plot.plot(connect="finite")
        self.setMinimumHeight(250)  # two stacked plots; the dock can be torn off for more room
        self.steps_note = self.overlay_text(self.steps_plot)
        self.norm_curve = self.norm_plot.plot()
        self.norm_note = self.overlay_text(self.norm_plot)
        # how many decades each log plot may show, by its height (see _fit_decades); a resize that
        # changes it draws that plot again
        self.decade_budget = {"trace": 0.0, "history": 0.0}
        self.steps_plot.getViewBox().sigResized.connect(lambda _vb: self._on_resized("trace"))
        self.norm_plot.getViewBox().sigResized.connect(lambda _vb: self._on_resized("history"))
        self.clip_line = pg.InfiniteLine(angle=0, movable=False, label="clip {value}")
        self.norm_plot.addItem(self.clip_line, ignoreBounds=True)
        self.cursor = self.cursor_line(self.steps_plot)
        self.dl_dh_norm = np.zeros(0)  # (T,) what was plotted
        self.grad_norm = (np.zeros(0, dtype=np.int64), np.zeros(0))
        self.clip: float | None = None
        controller.settingsChanged.connect(self._on_settings)
        self.finish_init()

    def rebuild(self) -> None:
        forget_range(self.steps_plot)
        self.steps_plot.setXRange(0.5, max(self.session.T, 1) + 0.5, padding=0.02)
        integer_ticks(self.steps_plot, self.session.T)

    def apply_theme(self) -> None:
        t = self.theme
        w = 2.0 if self.session.presentation else 1.5
        self.steps_curve.setPen(pg.mkPen(t.backward, width=w))
        style_symbols(self.steps_curve, "o", 5, t.backward)  # shared pens and brushes: see symbols.py
        self.norm_curve.setPen(pg.mkPen(t.backward, width=w * 0.7))
        self.clip_line.setPen(pg.mkPen(t.text, width=1.2, style=Qt.PenStyle.DashLine))
        self.clip_line.label.setColor(t.text)
        self.cursor.setPen(pg.mkPen(t.highlight, width=2))

    def _on_settings(self, _settings) -> None:
        self._on_history()

    def draw_trace(self) -> None:
        tr = self.session.trace
        if tr is None:
            return
        norms = np.sqrt(np.sum(tr.dL_dh[:, 0, :] ** 2, axis=1))  # (T,) for h_1..h_T
        self.dl_dh_norm = norms
        it = self.controller.iteration if self.controller is not None else 0
        self.steps_curve.setData(*finite_or_empty(np.arange(1, tr.T + 1), _positive(norms)))
        lo, hi = finite_span(norms, log=True)
        lo = self._fit_decades(self.steps_plot, lo, hi)
        # head-room above for the note; at least a decade, so tiny wobbles do not fill the plot
        steady_range(self.steps_plot, "y", lo, hi, headroom=0.35, shrink=0.3, decades=True)
        bottom = self.steps_plot.getViewBox().viewRange()[1][0]  # log10 of the lowest value in view
        below = int(np.sum(_positive(norms) < 10.0**bottom))  # (NaN, the zeros, compare False)
        self.steps_note.setText(f"weights of iteration {it}" + (
            f"\n{below} step{'s' if below > 1 else ''} below {power_of_ten(round(bottom))} not shown" if below else ""))

    def draw_history(self) -> None:
        snap = self.controller.snapshot
        self.grad_norm = snap.grad_norm_curve
        its, vals = minmax_decimate(*self.grad_norm)
        self.norm_curve.setData(*finite_or_empty(its, _positive(vals)))
        if len(its):
            steady_range(self.norm_plot, "x", 0.0, float(its[-1]), headroom=0.25, floor=0.0)
            lo, hi = finite_span(vals, log=True)
            if self.controller.settings.clip:
                c = np.log10(self.controller.settings.clip)
                lo, hi = min(lo, c), max(hi, c)
            lo = self._fit_decades(self.norm_plot, lo, hi)
            steady_range(self.norm_plot, "y", lo, hi, headroom=0.1, shrink=0.3, decades=True)
            bottom = self.norm_plot.getViewBox().viewRange()[1][0]
            cut = bool(np.any(_positive(vals) < 10.0**bottom))
            self.norm_note.setText(f"values below {power_of_ten(round(bottom))} not shown" if cut else "")
        else:
            self.norm_note.setText("")
            forget_range(self.norm_plot)
            self.norm_plot.enableAutoRange()
        clip = self.controller.settings.clip
        if clip == self.clip and self.clip_line.isVisible() == bool(clip):
            return  # the label re-lays out its text: only when the threshold changes
        self.clip = clip
        if self.clip:
            self.clip_line.setValue(np.log10(self.clip))
            self.clip_line.label.setFormat(f"clip {self.clip:g}")
            self.clip_line.show()
        else:
            self.clip_line.hide()

    def _px_per_decade(self) -> float:
        return 24.0 * font_scale(self.session.presentation)  # about two lines of tick text

    def _budget(self, what: str) -> float:
        """The data span (decades) the plot's height allows: one less than fit, since the view
        rounds out to whole decades around it."""
        plot = self.steps_plot if what == "trace" else self.norm_plot
        return max(1.0, np.floor(plot.getViewBox().height() / self._px_per_decade()) - 1.0)

    def _fit_decades(self, plot: pg.PlotItem, lo: float, hi: float) -> float:
        """The lowest log10 value `plot` shows, so that a decade gets at least two lines of tick
        text (five decades in ~40 px were unreadable); a note says what falls below."""
        what = "trace" if plot is self.steps_plot else "history"
        self.decade_budget[what] = budget = self._budget(what)
        return decades_that_fit(lo, hi, budget, 1.0)

    def _on_resized(self, what: str) -> None:
        if self._budget(what) != self.decade_budget[what]:
            forget_range(self.steps_plot if what == "trace" else self.norm_plot)
            self._draw_soon(what)

    def move_cursor(self) -> None:
        self.cursor.setValue(self.session.frame.active)
