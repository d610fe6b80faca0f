"""The lab's controls, the column on the left of its window: the echo task (lag, length, the
watched sequence), both networks (initial W_hh scale on a log slider, hidden size, seed, which
gated cell), training (learning rate, budget, Train / Pause / Reset) and the readout. The
window connects them; `show_config` shows a LabConfig without emitting."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
    QSlider, QSpinBox, QVBoxLayout, QWidget,
)

from rnnviz.app.lab.model import HIDDEN_RANGE, SCALE_RANGE, STEPS_RANGE, LabConfig

SCALE_TICKS = 200  # positions of the log slider for the initial scale


def scale_to_position(scale: float) -> int:
    lo, hi = SCALE_RANGE
    s = float(np.clip(scale, lo, hi))
    return int(round(np.log(s / lo) / np.log(hi / lo) * SCALE_TICKS))


def position_to_scale(pos: int) -> float:
    lo, hi = SCALE_RANGE
    return float(lo * (hi / lo) ** (pos / SCALE_TICKS))


def _pair(slider: QSlider, label: QLabel) -> QWidget:
    """A slider with its value on the right."""
    w = QWidget()
    row = QHBoxLayout(w)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(slider, 1)
    label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
    row.addWidget(label)
    return w


class LabControls(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 4, 0)
        column.setSpacing(10)
        intro = QLabel("How far back can a network reach? Each step sees ±1 and must output what it saw "
                       "<i>lag</i> steps earlier. The gradient that teaches this has to travel back "
                       "<i>lag</i> steps through the recurrence.")
        intro.setWordWrap(True)
        intro.setObjectName("muted")
        column.addWidget(intro)

        task_box = QGroupBox("Task: echo")
        form = QFormLayout(task_box)
        self.lag_slider = QSlider(Qt.Horizontal)
        self.lag_slider.setObjectName("labLag")
        self.lag_slider.setToolTip("Output the input from this many steps ago (1 … T−1)")
        self.lag_label = QLabel()
        self.lag_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("99") + 4)
        form.addRow("Lag", _pair(self.lag_slider, self.lag_label))
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
        form.addRow("Initial W_hh ×", _pair(self.scale_slider, self.scale_label))
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
        self.divergence_combo = QComboBox()
        self.divergence_combo.setObjectName("labOnDivergence")
        self.divergence_combo.addItem("Stop", "stop")
        self.divergence_combo.addItem("Warn and go on", "warn")
        self.divergence_combo.setToolTip("When the loss, a weight or a gradient blows up: stop that network "
                                         "(the weights before the blow-up kept), or warn once and go on")
        form.addRow("On divergence", self.divergence_combo)
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

    def show_config(self, c: LabConfig, show_gain: bool) -> None:
        """Show `c` (and whether the batch-mean reach is drawn) without emitting any signal."""
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
        self.gain_check.setChecked(show_gain)
        self.lr_spin.setValue(c.lr)
        self.budget_spin.setValue(c.iterations)
        for w in widgets:
            w.blockSignals(False)
