"""The vanishing-gradient lab window: "how far back can this network reach?" on one screen.

The echo task (output the input from `lag` steps ago) learned side by side by a vanilla RNN and
by an LSTM or a GRU built from the same seed and the same initial scale of the recurrent weights.
The controls sit on the left; the four plots (lab/plots.py, from the engine's numbers via
lab/model.py) and a readout on the right. Train / Pause / Reset act on both networks
(lab/training.py: off the UI thread, copies only, ≤ 30 updates a second). Changing the task or
the initial weights stops a run and rebuilds both networks.

The main window builds the lab the first time View ▸ Vanishing-gradient lab… is chosen; it is a
window of its own (it needs the whole screen).
"""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QFrame, QGroupBox, QHBoxLayout, QLabel, QPushButton,
    QScrollArea, QSizePolicy, QSlider, QSpinBox, QVBoxLayout, QWidget,
)

from rnnviz.app.style.appearance import apply_appearance
from rnnviz.app.lab.model import (
    CELL_NAMES, HIDDEN_RANGE, SCALE_RANGE, STEPS_RANGE, LabConfig, LabCurves, build_models, build_task, compute_curves,
    summary, zero_loss,
)
from rnnviz.app.lab.plots import CELL_COLORS, LabPlots
from rnnviz.app.lab.training import LabTraining
from rnnviz.app.state.session import Session
from rnnviz.app.style.theme import font_scale, theme_for

SCALE_TICKS = 200  # positions of the log slider for the initial scale
CURVE_GAP = 0.1  # s: while training, the gradient curves (a full pass each) at most this often


def scale_to_position(scale: float) -> int:
    lo, hi = SCALE_RANGE
    s = float(np.clip(scale, lo, hi))
    return int(round(np.log(s / lo) / np.log(hi / lo) * SCALE_TICKS))


def position_to_scale(pos: int) -> float:
    lo, hi = SCALE_RANGE
    return float(lo * (hi / lo) ** (pos / SCALE_TICKS))


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
