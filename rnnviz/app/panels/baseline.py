"""Does the RNN beat a classical model here? A dock that fits a linear AR(p) model on the
task's training sequences (engine.baseline) and shows, on the held-out sequences, both models'
errors, a plain-language verdict and one held-out sequence: target, AR and RNN predictions.
The verdict says how many held-out points it rests on and, below engine.baseline.MIN_POINTS
(30) or when a paired test cannot separate the errors, that it is too few / too close to call.

The AR model is fitted once per task and order; the RNN's side follows the session's weights
(session.traceChanged), so the comparison updates as training proceeds. Fitting and scoring run
off the UI thread (baseline_worker.py); the panel shows each result as it comes back.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QSpinBox

from rnnviz.engine.baseline import DEFAULT_MAX_ORDER, MIN_POINTS, ARFit, Comparison, applicability
from rnnviz.app.panels.baseline_worker import BaselineResult, BaselineWorker
from rnnviz.app.views.axes import finite_span, integer_ticks, steady_range
from rnnviz.app.views.plots.base import PlotPanel
from rnnviz.app.views.plots.display import finite_or_empty
from rnnviz.app.state.session import Session
from rnnviz.app.views.plots.symbols import style_symbols

AR_COLOR = "#CC79A7"  # Okabe–Ito reddish purple: far from the RNN's forward blue and the target's text colour


class BaselinePanel(PlotPanel):
    title = "AR baseline"

    def __init__(self, session: Session, controller=None, parent=None) -> None:
        super().__init__(session, None, parent)  # the RNN's side follows the session's trace
        self.fit: ARFit | None = None
        self.comparison: Comparison | None = None
        self.reason: str | None = None  # why the baseline does not apply, or None
        self._fit_key: tuple | None = None  # (id of the task, order) self.fit belongs to
        self.worker = BaselineWorker(self)
        self.worker.computed.connect(self._computed)
        self.order_spin = QSpinBox()
        self.order_spin.setRange(0, DEFAULT_MAX_ORDER)
        self.order_spin.setSpecialValueText("auto (BIC)")
        self.order_spin.setToolTip("The AR order p: how many past inputs the linear model uses. "
                                   "auto: the p with the lowest BIC on the training fit.")
        self.order_spin.setKeyboardTracking(False)
        self.seq_spin = QSpinBox()
        self.seq_spin.setRange(1, 1)
        self.seq_spin.setToolTip("Which held-out sequence the plot shows")
        order_label = QLabel("Order p")
        order_label.setBuddy(self.order_spin)
        seq_label = QLabel("Held-out sequence")
        seq_label.setBuddy(self.seq_spin)
        for w in (order_label, self.order_spin):
            self.controls.addWidget(w)
        self.controls.addSpacing(12)
        for w in (seq_label, self.seq_spin):
            self.controls.addWidget(w)
        self.controls.addStretch(1)
        self.model_label = self._label("baselineModel")
        self.numbers_label = self._label("baselineNumbers")
        self.verdict_label = self._label("baselineVerdict")
        self.verdict_label.setStyleSheet("font-weight: bold;")
        lay = self.layout()
        for i, w in enumerate((self.model_label, self.numbers_label, self.verdict_label)):
            lay.insertWidget(1 + i, w)
        self.setMinimumSize(340, 320)
        self.order_spin.valueChanged.connect(lambda _v: self._refit())
        self.seq_spin.valueChanged.connect(lambda _v: self._show())
        self.plot: pg.PlotItem | None = None
        self.finish_init()

    def _label(self, name: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        label.setContentsMargins(6, 0, 6, 0)
        label.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Minimum)
        return label

    # the user's choices -------------------------------------------------------------------
    @property
    def order(self) -> int | None:
        """The chosen AR order, or None for automatic (BIC)."""
        return self.order_spin.value() or None

    def set_order(self, p: int | None) -> None:
        self.order_spin.setValue(p or 0)

    # building ------------------------------------------------------------------------------
    def rebuild(self) -> None:
        self.clear_plots()
        self.plot = self.add_plot(0, 0, "a held-out sequence", "time step t", "value")
        self.legend = self.plot.addLegend(offset=(-10, 10))
        self.target_curve = self.plot.plot(name="target")
        self.ar_curve = self.plot.plot(name="AR")
        self.rnn_curve = self.plot.plot(name="RNN")
        self.first_line = pg.InfiniteLine(angle=90, movable=False, label="scored →",
                                          labelOpts=dict(position=0.95, anchors=[(0, 0.5), (0, 0.5)]))
        self.plot.addItem(self.first_line, ignoreBounds=True)
        self._fit_key = None
        self._legend_p = None
        self._refit(draw=False)
        self.apply_theme()

    def _refit(self, draw: bool = True) -> None:
        """Whether the baseline applies; AR(p) is fitted on the training part (with the next
        comparison, off the UI thread) again only when the task or the order changed."""
        s = self.session
        task = s.task if s.source == "task" else None
        self.reason = applicability(task, s.model) if s.source == "task" else (
            "the network comes from a file, without training and held-out sequences")
        if self.reason is None:
            if self._key() != self._fit_key:
                self.fit, self._fit_key = None, None
            M = task.x_val.shape[1]
            self.seq_spin.setMaximum(M)
            if self.plot is not None:
                integer_ticks(self.plot, task.steps)
                self.plot.setXRange(0.5, task.steps + 0.5, padding=0.02)
        else:
            self.fit, self._fit_key, self.comparison = None, None, None
        if draw:
            self.draw_trace()

    def apply_theme(self) -> None:
        t = self.theme
        w = 2.2 if self.session.presentation else 1.6
        self.target_curve.setPen(pg.mkPen(t.text, width=w * 0.8, style=Qt.PenStyle.DashLine))
        style_symbols(self.target_curve, "s", 6, None, t.text)  # shared pens and brushes: see symbols.py
        self.ar_curve.setPen(pg.mkPen(AR_COLOR, width=w))
        style_symbols(self.ar_curve, "t", 7, AR_COLOR)
        self.rnn_curve.setPen(pg.mkPen(t.forward, width=w))
        style_symbols(self.rnn_curve, "o", 5, t.forward)
        self.first_line.setPen(pg.mkPen(t.muted, width=1, style=Qt.PenStyle.DotLine))
        self.first_line.label.setColor(t.muted)
        self.legend.setLabelTextColor(t.text)

    # drawing -------------------------------------------------------------------------------
    def _on_trace(self) -> None:
        # training: a panel behind another tab (or closed) skips the comparison until it comes
        # on screen again (PlotPanel.catch_up); a new network always recomputes (refresh)
        if self.is_on_screen():
            self.draw_trace()
        else:
            self._stale = True

    def refresh(self) -> None:
        self._stale = False
        self.draw_trace()

    def _key(self) -> tuple:
        return (id(self.session.task), self.order)

    def draw_trace(self) -> None:
        """Score both models on the held-out part with the session's current weights: off the
        UI thread, on a copy of the weights; `_computed` shows the result."""
        s = self.session
        if self.reason is None:
            key = self._key()
            model = s.model.copy() if s.model is not None else None
            self.worker.request(key, s.task, model, self.order, self.fit if key == self._fit_key else None)
            return
        self.worker.cancel()  # a result on its way belongs to a network the baseline no longer applies to
        self.comparison = None
        self._show()

    def _computed(self, result: BaselineResult) -> None:
        self.fit, self._fit_key, self.comparison = result.fit, result.key, result.comparison
        if result.reason is not None:  # the fit or the comparison refused: say why until the next refit
            self.reason = result.reason
        self._show()

    def _show(self) -> None:
        """The comparison in words and, when on screen, one held-out sequence."""
        c = self.comparison
        if c is None and self.reason is None:
            return  # the first comparison is still being computed
        if c is None:
            self.model_label.setText("")
            self.numbers_label.setText("")
            self.verdict_label.setText(f"The AR baseline does not apply here: {self.reason}.")
            for curve in (self.target_curve, self.ar_curve, self.rnn_curve):
                curve.setData([], [])
            self.first_line.hide()
            return
        f = c.fit
        how = "chosen by BIC over p = 1…" + str(max(f.scores)) if f.criterion == "bic" else "chosen by you"
        coefs = ", ".join(f"φ{k + 1} = {v:.3g}" for k, v in enumerate(f.phi))
        self.model_label.setText(f"AR({f.p}), {how}: c = {f.c:.3g}, {coefs}")
        self.model_label.setToolTip(f.formula(4))
        scored = f"steps {c.first}–{c.steps}" if c.first > 1 else f"all {c.steps} steps"
        self.numbers_label.setText(
            f"Mean squared error on {scored} of the {c.sequences} held-out sequence{'s' if c.sequences != 1 else ''}"
            f" ({c.points} point{'s' if c.points != 1 else ''}; fewer than {MIN_POINTS} are too few to call)"
            + (f" (AR({f.p}) needs {f.p} inputs, so both start at step {c.first})." if c.first > 1 else "."))
        self.numbers_label.setToolTip(
            f"RNN {c.rnn_mse:.4g} · AR({f.p}) {c.ar_mse:.4g}. Both models are scored on the same steps. "
            f"The RNN on every held-out step: {c.rnn_mse_all:.4g}.")
        self.verdict_label.setText(c.verdict() + ".")
        if not self.is_on_screen():
            self._stale = True
            return
        i = min(self.seq_spin.value(), c.sequences) - 1
        t = np.arange(1, c.steps + 1)
        self.target_curve.setData(t, c.target[:, i])
        ok = np.isfinite(c.ar_pred[:, i])
        self.ar_curve.setData(*finite_or_empty(t[ok], c.ar_pred[ok, i]))
        if self._legend_p != f.p:  # the legend names the order; rebuild it only when that changes
            self._legend_p = f.p
            self.legend.clear()
            for curve, name in ((self.target_curve, "target"), (self.ar_curve, f"AR({f.p})"), (self.rnn_curve, "RNN")):
                self.legend.addItem(curve, name)
        self.rnn_curve.setData(*finite_or_empty(t, c.rnn_pred[:, i]))
        self.first_line.setValue(c.first - 0.5)
        self.first_line.setVisible(c.first > 1)
        lo, hi = finite_span(np.concatenate([c.target[:, i], c.ar_pred[ok, i], c.rnn_pred[:, i]]))
        steady_range(self.plot, "y", lo, hi, headroom=0.15, shrink=0.5)

