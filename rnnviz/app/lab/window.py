"""The vanishing-gradient lab: "how far back can this network reach?" on one screen.

The echo task (output the input from `lag` steps ago) learned side by side by a vanilla RNN and
by an LSTM or a GRU built from the same seed and the same initial scale of the recurrent weights.
Four plots, all from the engine (lab_model): ‖∂h_T/∂h_t‖ against the distance T − t, the
eigenvalues of the vanilla W_hh against the unit circle, both loss curves, and the gradient that
reaches each h_t. Train / Pause / Reset act on both networks (lab_training: off the UI thread,
copies only, ≤ 30 updates a second). Changing the task or the initial weights stops a run and
rebuilds both networks.

`install(window)` adds View ▸ Vanishing-gradient lab… to a MainWindow; the lab is a separate
window (it needs the whole screen).
"""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QFrame, QGroupBox, QHBoxLayout, QLabel, QPushButton,
    QScrollArea, QSizePolicy, QSlider, QSpinBox, QVBoxLayout, QWidget,
)

from rnnviz.app.style.appearance import apply_appearance
from rnnviz.app.lab.model import (
    CELL_NAMES, HIDDEN_RANGE, SCALE_RANGE, STEPS_RANGE, LabConfig, LabCurves, build_models, build_task, compute_curves,
    summary, zero_loss,
)
from rnnviz.app.lab.training import LabTraining
from rnnviz.app.views.axes import finite_span, steady_range
from rnnviz.app.views.plots.base import PlotPanel
from rnnviz.app.views.plots.display import minmax_decimate
from rnnviz.app.state.session import Session
from rnnviz.app.style.theme import font_scale, theme_for

# Okabe–Ito, as the other plots: blue for the vanilla cell, vermillion / green for the gated ones
CELL_COLORS = {"rnn": "#0072B2", "lstm": "#D55E00", "gru": "#009E73"}
SCALE_TICKS = 200  # positions of the log slider for the initial scale
CURVE_GAP = 0.1  # s: while training, the gradient curves (a full pass each) at most this often


def scale_to_position(scale: float) -> int:
    lo, hi = SCALE_RANGE
    s = float(np.clip(scale, lo, hi))
    return int(round(np.log(s / lo) / np.log(hi / lo) * SCALE_TICKS))


def position_to_scale(pos: int) -> float:
    lo, hi = SCALE_RANGE
    return float(lo * (hi / lo) ** (pos / SCALE_TICKS))


def _positive(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Only the points a log axis can show."""
    ok = np.isfinite(y) & (y > 0)
    return x[ok], y[ok]


class LabPlots(PlotPanel):
    """The lab's four plots. Reads the lab's state (curves, snapshots) and draws; computes nothing."""

    title = "Vanishing-gradient lab"

    def __init__(self, session: Session, lab: "LabWindow", parent: QWidget | None = None) -> None:
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


class LabWindow(QWidget):
    """The lab: controls on the left, the four plots and the readout on the right."""

    def __init__(self, session: Session, parent: QWidget | None = None, config: LabConfig | None = None) -> None:
        super().__init__(parent, Qt.Window)
        self.session = session
        self.setWindowTitle("rnnviz — vanishing-gradient lab")
        self.setObjectName("vanishingGradientLab")
        self.config = (config or LabConfig()).checked()
        self.task = None
        self.models: dict[str, object] = {}
        self.display: dict[str, object] = {}  # a model per cell that holds the weights being drawn
        self.curves: dict[str, LabCurves] = {}
        self.initial_curves: dict[str, LabCurves] = {}
        self.zero_loss = 1.0
        self.show_gain = True
        self._curves_for: dict[str, int] = {}  # the iteration each cell's curves were computed at
        self._curves_time = 0.0
        self.training = LabTraining(self)
        self._build()
        self.plots = LabPlots(session, self)
        self.right.addWidget(self.plots, 1)
        self.training.updated.connect(self._on_training_updated)
        self.training.stateChanged.connect(lambda _s: self._sync_buttons())
        self.training.failed.connect(lambda _c, _m: self._update_readout())
        session.appearanceChanged.connect(self._appearance_changed)
        self._appearance_changed()
        self.rebuild()
        self.resize(1600, 1000)

    # controls ---------------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QHBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        outer.setSpacing(10)
        side = QWidget()
        column = QVBoxLayout(side)
        column.setContentsMargins(0, 0, 4, 0)
        column.setSpacing(10)
        scroll = QScrollArea()
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setWidget(side)
        self.side_scroll = scroll
        outer.addWidget(scroll)

        intro = QLabel("How far back can a network reach? Each step sees ±1 and must output what it saw "
                       "<i>lag</i> steps earlier. The gradient that teaches this has to travel back "
                       "<i>lag</i> steps through the recurrence.")
        intro.setWordWrap(True)
        intro.setObjectName("muted")
        column.addWidget(intro)

        c = self.config
        task_box = QGroupBox("Task: echo")
        form = QFormLayout(task_box)
        self.lag_slider = QSlider(Qt.Horizontal)
        self.lag_slider.setObjectName("labLag")
        self.lag_slider.setToolTip("Output the input from this many steps ago (1 … T−1)")
        self.lag_label = QLabel()
        self.lag_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("99") + 4)
        form.addRow("Lag", self._pair(self.lag_slider, self.lag_label))
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(*STEPS_RANGE)
        self.steps_spin.setKeyboardTracking(False)
        self.steps_spin.setToolTip("Sequence length T")
        form.addRow("Length T", self.steps_spin)
        self.watched_spin = QSpinBox()
        self.watched_spin.setRange(1, 1)
        self.watched_spin.setKeyboardTracking(False)
        self.watched_spin.setToolTip("The training sequence the exact ‖∂h_T/∂h_t‖ curve is computed on")
        form.addRow("Watched sequence", self.watched_spin)
        column.addWidget(task_box)

        net_box = QGroupBox("Both networks")
        form = QFormLayout(net_box)
        self.scale_slider = QSlider(Qt.Horizontal)
        self.scale_slider.setObjectName("labScale")
        self.scale_slider.setRange(0, SCALE_TICKS)
        self.scale_slider.setToolTip(f"Multiplies the initial recurrent weights W_hh (every W_h* of the gated cell); "
                                     f"{SCALE_RANGE[0]} … {SCALE_RANGE[1]}, log scale")
        self.scale_label = QLabel()
        self.scale_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("×0.00") + 4)
        form.addRow("Initial W_hh ×", self._pair(self.scale_slider, self.scale_label))
        self.hidden_spin = QSpinBox()
        self.hidden_spin.setRange(*HIDDEN_RANGE)
        self.hidden_spin.setKeyboardTracking(False)
        form.addRow("Hidden size H", self.hidden_spin)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 1_000_000)
        self.seed_spin.setKeyboardTracking(False)
        self.seed_spin.setToolTip("One seed for the task and for both networks' initial weights")
        form.addRow("Seed", self.seed_spin)
        self.gated_combo = QComboBox()
        self.gated_combo.addItem("LSTM", "lstm")
        self.gated_combo.addItem("GRU", "gru")
        self.gated_combo.setToolTip("The gated network the vanilla RNN is compared with")
        form.addRow("Against", self.gated_combo)
        self.gain_check = QCheckBox("Batch mean (dashed)")
        self.gain_check.setToolTip("Also draw the engine's grad_gain: ‖u·∂h_T/∂h_t‖ along each sequence's dL/dh_T, "
                                   "averaged over the batch")
        form.addRow("Gradient reach", self.gain_check)
        column.addWidget(net_box)

        train_box = QGroupBox("Training")
        form = QFormLayout(train_box)
        note = QLabel("Both networks at once: Adam, every training sequence in each batch.")
        note.setWordWrap(True)
        note.setObjectName("muted")
        form.addRow(note)
        self.lr_spin = QDoubleSpinBox()
        self.lr_spin.setDecimals(4)
        self.lr_spin.setRange(0.0001, 1.0)
        self.lr_spin.setSingleStep(0.001)
        self.lr_spin.setKeyboardTracking(False)
        form.addRow("Learning rate", self.lr_spin)
        self.budget_spin = QSpinBox()
        self.budget_spin.setRange(10, 1_000_000)
        self.budget_spin.setSingleStep(100)
        self.budget_spin.setKeyboardTracking(False)
        form.addRow("Iterations", self.budget_spin)
        buttons = QHBoxLayout()
        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("labTrain")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("labPause")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setObjectName("labReset")
        self.reset_button.setToolTip("Both networks back to their initial weights")
        for b in (self.train_button, self.pause_button, self.reset_button):
            buttons.addWidget(b)
        form.addRow(buttons)
        column.addWidget(train_box)

        self.readout = QLabel()
        self.readout.setObjectName("labReadout")
        self.readout.setWordWrap(True)
        self.readout.setTextFormat(Qt.RichText)
        self.readout.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.readout.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Minimum)
        column.addWidget(self.readout)
        column.addStretch(1)

        right = QVBoxLayout()
        right.setSpacing(4)
        self.heading = QLabel()
        self.heading.setObjectName("labHeading")
        self.heading.setTextFormat(Qt.RichText)
        self.heading.setWordWrap(True)
        right.addWidget(self.heading)
        self.right = right
        outer.addLayout(right, 1)

        self._sync_widgets()
        self.lag_slider.valueChanged.connect(lambda v: self.set_config(lag=v))
        self.steps_spin.valueChanged.connect(lambda v: self.set_config(steps=v))
        self.watched_spin.valueChanged.connect(lambda v: self.set_config(watched=v - 1))
        self.scale_slider.valueChanged.connect(lambda p: self.set_config(scale=position_to_scale(p)))
        self.hidden_spin.valueChanged.connect(lambda v: self.set_config(hidden=v))
        self.seed_spin.valueChanged.connect(lambda v: self.set_config(seed=v))
        self.gated_combo.currentIndexChanged.connect(lambda _i: self.set_config(gated=self.gated_combo.currentData()))
        self.gain_check.toggled.connect(self.set_show_gain)
        self.lr_spin.valueChanged.connect(self._lr_changed)
        self.budget_spin.valueChanged.connect(self._budget_changed)
        self.train_button.clicked.connect(self.training.train)
        self.pause_button.clicked.connect(self.training.pause)
        self.reset_button.clicked.connect(self.training.reset)

    @staticmethod
    def _pair(slider: QSlider, label: QLabel) -> QWidget:
        w = QWidget()
        row = QHBoxLayout(w)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(slider, 1)
        label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        row.addWidget(label)
        return w

    def _sync_widgets(self) -> None:
        """The controls show self.config (without emitting)."""
        c = self.config
        widgets = (self.lag_slider, self.steps_spin, self.watched_spin, self.scale_slider, self.hidden_spin,
                   self.seed_spin, self.gated_combo, self.gain_check, self.lr_spin, self.budget_spin)
        for w in widgets:
            w.blockSignals(True)
        self.lag_slider.setRange(1, c.steps - 1)
        self.lag_slider.setValue(c.lag)
        self.lag_label.setText(str(c.lag))
        self.steps_spin.setValue(c.steps)
        self.watched_spin.setValue(c.watched + 1)
        self.scale_slider.setValue(scale_to_position(c.scale))
        self.scale_label.setText(f"×{c.scale:.2f}")
        self.hidden_spin.setValue(c.hidden)
        self.seed_spin.setValue(c.seed)
        self.gated_combo.setCurrentIndex(self.gated_combo.findData(c.gated))
        self.gain_check.setChecked(self.show_gain)
        self.lr_spin.setValue(c.lr)
        self.budget_spin.setValue(c.iterations)
        for w in widgets:
            w.blockSignals(False)

    # state ------------------------------------------------------------------------------------------
    def set_config(self, **changes: object) -> None:
        """Change the task or the networks: stops a run, rebuilds both networks (same seed) and
        every curve. The learning rate, the budget and the watched sequence do not rebuild."""
        new = replace(self.config, **changes).checked()
        if new == self.config:
            self._sync_widgets()
            return
        old = self.config
        self.config = new
        self._sync_widgets()
        if replace(new, watched=old.watched, lr=old.lr, iterations=old.iterations) == old:
            # nothing structural: the run carries on with the new rate and budget
            if new.lr != old.lr:
                self.training.set_lr(new.lr)
            if new.iterations != old.iterations:
                self.training.set_budget(new.iterations)
            if new.watched != old.watched:
                self._recompute(force=True)
            self._after_change()
            return
        self.rebuild()

    def set_show_gain(self, on: bool) -> None:
        self.show_gain = bool(on)
        self._sync_widgets()
        self.plots.draw_curves()

    def _lr_changed(self, lr: float) -> None:
        self.set_config(lr=float(lr))

    def _budget_changed(self, n: int) -> None:
        self.set_config(iterations=int(n))

    def rebuild(self) -> None:
        """New task and networks for self.config, and their curves."""
        self.training.shutdown()
        c = self.config
        self.task = build_task(c)
        n = self.task.x_train.shape[1]
        if c.watched >= n:
            self.config = c = replace(c, watched=n - 1)
        self.watched_spin.blockSignals(True)
        self.watched_spin.setRange(1, n)
        self.watched_spin.setValue(c.watched + 1)
        self.watched_spin.blockSignals(False)
        self.models = build_models(c, self.task)
        self.display = {cell: m.copy() for cell, m in self.models.items()}
        self.zero_loss = zero_loss(self.task)
        self.initial_curves = {cell: compute_curves(m, self.task, c.watched) for cell, m in self.models.items()}
        self.curves = dict(self.initial_curves)
        self._curves_for = {cell: 0 for cell in self.models}
        self.plots.rebuild() if hasattr(self, "plots") else None
        self.training.setup(self.models, self.task.x_train, self.task.y_train, lr=c.lr, budget=c.iterations, seed=c.seed)
        self._after_change()

    def _recompute(self, force: bool = False) -> None:
        """The curves for the weights the training has reached (only for cells whose weights moved)."""
        if not self.training.sides:
            return
        c = self.config
        for cell in c.cells:
            snap = self.training.snapshot(cell)
            if force or self._curves_for.get(cell) != snap.iteration:
                model = self.display[cell]
                model.set_params(snap.params)
                self.curves[cell] = compute_curves(model, self.task, c.watched)
                if snap.iteration == 0 or force:
                    self.initial_curves[cell] = compute_curves(self.models[cell], self.task, c.watched)
                self._curves_for[cell] = snap.iteration
        self._curves_time = time.perf_counter()
        if hasattr(self, "plots"):
            self.plots.draw_curves()

    def _on_training_updated(self) -> None:
        due = not self.training.running or time.perf_counter() - self._curves_time >= CURVE_GAP
        if due:
            self._recompute()
        if hasattr(self, "plots"):
            self.plots.draw_loss()
        self._update_readout()
        self._sync_buttons()

    def _after_change(self) -> None:
        if hasattr(self, "plots"):
            self.plots.draw()
        self._update_heading()
        self._update_readout()
        self._sync_buttons()

    # text -------------------------------------------------------------------------------------------
    def _update_heading(self) -> None:
        c = self.config
        t = theme_for(self.session.theme, self.session.presentation)
        self.heading.setText(
            f"<span style='font-size:large; font-weight:bold'>Echo with lag {c.lag}, T = {c.steps}: "
            f"<span style='color:{CELL_COLORS['rnn']}'>{CELL_NAMES['rnn']}</span> against "
            f"<span style='color:{CELL_COLORS[c.gated]}'>{CELL_NAMES[c.gated]}</span></span>"
            f"<br><span style='color:{t.muted}'>H = {c.hidden} · initial W_hh ×{c.scale:.2f} · seed {c.seed} · "
            f"{self.task.x_train.shape[1]} training sequences · Adam, lr {c.lr:g}</span>")

    def readout_lines(self) -> dict[str, str]:
        """Per cell: 'vanilla RNN: loss 0.31 at lag 8 after 300 iterations …' (plain text)."""
        c = self.config
        out = {}
        for cell in c.cells:
            cur = self.curves.get(cell)
            if cur is None:
                continue
            it = self.training.iteration(cell) if self.training.sides else 0
            text = (f"{CELL_NAMES[cell]}: loss {cur.loss:.3g} at lag {c.lag} after {it:,} iterations; "
                    f"gradient {c.lag} steps back {cur.at_distance(c.lag):.2g}")
            err = self.training.error(cell) if self.training.sides else ""
            if err:
                text += f" — stopped: {err}"
            out[cell] = text
        return out

    def summary(self) -> str:
        """'vanilla RNN: loss 0.31 at lag 8; LSTM: 0.004' — the one-line comparison."""
        return summary(self.config, self.curves)

    def _update_readout(self) -> None:
        c = self.config
        t = theme_for(self.session.theme, self.session.presentation)
        parts = [f"<b>{self.summary()}</b>"]
        for cell, text in self.readout_lines().items():
            name = CELL_NAMES[cell]
            body = text[len(name):]
            parts.append(f"<span style='color:{CELL_COLORS[cell]}; font-weight:bold'>{name}</span>{body}")
        parts.append(f"<span style='color:{t.muted}'>Answering 0 everywhere scores {self.zero_loss:.3g}. "
                     f"ρ(W_hh) of the vanilla RNN: {self.curves['rnn'].spectral_radius:.3f}.</span>")
        self.readout.setText("<br><br>".join(parts))

    def _sync_buttons(self) -> None:
        tr = self.training
        running = tr.running
        its = [tr.iteration(c) for c in self.config.cells] if tr.sides else [0]
        self.train_button.setEnabled(not running and min(its) < self.config.iterations)
        self.train_button.setText("Resume" if (not running and max(its) > 0) else "Train")
        self.pause_button.setEnabled(running)
        self.reset_button.setEnabled(max(its) > 0 or running)

    def _appearance_changed(self) -> None:
        theme = theme_for(self.session.theme, self.session.presentation)
        apply_appearance(self, theme, font_scale(self.session.presentation))
        em = self.fontMetrics().horizontalAdvance("M")
        side = self.side_scroll.widget()
        side.setMinimumWidth(round(em * 22))
        self.side_scroll.setFixedWidth(max(side.minimumSizeHint().width(), round(em * 22))
                                       + self.side_scroll.verticalScrollBar().sizeHint().width())
        if self.task is not None:
            self._update_heading()
            self._update_readout()

    # lifetime ---------------------------------------------------------------------------------------
    def shutdown(self) -> None:
        self.training.shutdown()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.training.pause()
        super().closeEvent(event)


class _CloseWatcher(QObject):
    """Stops the lab's workers when the main window closes."""

    def __init__(self, lab: LabWindow, parent: QObject) -> None:
        super().__init__(parent)
        self.lab = lab

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Close:
            self.lab.shutdown()
            self.lab.close()
        return False


def open_lab(window) -> LabWindow:
    """Show the lab (built on first use), raised above the main window."""
    lab = getattr(window, "lab", None)
    if lab is None:
        lab = window.lab = LabWindow(window.session, window)
        window._lab_watcher = _CloseWatcher(lab, window)
        window.installEventFilter(window._lab_watcher)
    lab.show()
    lab.raise_()
    lab.activateWindow()
    return lab


def install(window) -> QAction:
    """Add View ▸ Vanishing-gradient lab… (Ctrl+G) to a MainWindow. The lab window is built the
    first time it is opened (`window.lab`)."""
    window.lab = None
    action = QAction("Vanishing-gradient lab…", window)
    action.setObjectName("openLab")
    action.setShortcut(QKeySequence("Ctrl+G"))
    action.setShortcutContext(Qt.WindowShortcut)
    action.setStatusTip("How far back can a vanilla RNN reach, and an LSTM or GRU? The echo task side by side")
    action.triggered.connect(lambda: open_lab(window))
    window.addAction(action)
    view = None
    for a in window.menuBar().actions():
        if a.menu() is not None and a.text().replace("&", "") == "View":
            view = a.menu()
    if view is None:
        view = window.menuBar().addMenu("&View")
    view.addSeparator()
    view.addAction(action)
    window.lab_action = action
    return action
