"""The training controls: a thin widget over `TrainingController` (no logic of its own)."""
from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from rnnviz.engine.guards import ON_DIVERGENCE, DivergenceLimits
from rnnviz.engine.optim import OPTIMIZERS
from rnnviz.app.state.training import TrainingController
from rnnviz.app.state.training_loop import TrainingSettings
from rnnviz.app.views.numbers import format_loss

ON_DIVERGENCE_LABELS = {"stop": "stop", "warn": "warn and go on"}
# the conventions of hand-written RNNs (engine.trainer), PyTorch's first
LOSS_REDUCTION_LABELS = {"mean": "mean over steps", "sum": "sum over steps"}
CLIP_MODE_LABELS = {"norm": "global norm", "value": "each entry"}
ADAGRAD_EPS_LABELS = {"outside": "outside √ (PyTorch)", "inside": "inside √ (min-char-rnn)"}
NICE = (1.0, 2.0, 5.0)  # the log spin box steps through 1, 2, 5 × 10^k


def nice_step(value: float, steps: int) -> float:
    """`steps` notches up (or down) the 1–2–5 ladder from value."""
    k = math.floor(math.log10(value))
    mant = value / 10**k
    # index of the nearest ladder notch at or below value
    i = max(j for j, m in enumerate(NICE) if m <= mant * (1 + 1e-9))
    exact = abs(mant - NICE[i]) < 1e-6 * NICE[i]
    pos = 3 * k + i
    if steps > 0 or exact:
        pos += steps
    else:
        pos += steps + 1  # from between two notches, one step down lands on the lower notch
    k, i = divmod(pos, 3)
    return NICE[i] * 10**k


class LogSpinBox(QDoubleSpinBox):
    """A spin box for a learning rate: arrows step 1–2–5 per decade; any value can be typed."""

    def __init__(self, minimum: float = 1e-6, maximum: float = 1e7, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(8)
        self.setRange(minimum, maximum)
        self.setKeyboardTracking(False)

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt override
        self.setValue(min(self.maximum(), max(self.minimum(), nice_step(self.value(), steps))))

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt override
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 - Qt override
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):  # noqa: D401 - Qt override
        from PySide6.QtGui import QValidator

        t = text.strip()
        try:
            v = float(t)
        except ValueError:
            ok = t == "" or t.endswith(("e", "e-", "e+", ".")) or t in ("-", "+")
            return (QValidator.State.Intermediate if ok else QValidator.State.Invalid), text, pos
        state = QValidator.State.Acceptable if self.minimum() <= v <= self.maximum() else QValidator.State.Intermediate
        return state, text, pos


class TrainingPanel(QWidget):
    """Train/Pause, Step, Reset; optimizer, learning rate, momentum, clipping (by norm or by
    value), the loss over time (mean or sum), a carried hidden state, Adagrad's ε, batch size,
    budget, what to do on divergence; a progress bar and a live readout."""

    def __init__(self, controller: TrainingController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = c = controller
        self._syncing = False
        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Train in the background / pause")
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip("Run exactly one training iteration")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Back to the initial weights; the same settings give the same run")
        buttons = QHBoxLayout()
        for b in (self.train_button, self.step_button, self.reset_button):
            buttons.addWidget(b)

        self.optimizer = QComboBox()
        self.optimizer.addItems(OPTIMIZERS)
        self.lr = LogSpinBox()
        self.lr.setToolTip("Learning rate: arrows step 1, 2, 5 per decade; changes apply while training runs")
        self.momentum = QDoubleSpinBox()
        self.momentum.setRange(0.0, 0.99)
        self.momentum.setSingleStep(0.1)
        self.momentum.setDecimals(2)
        self.clip_on = QCheckBox("clip at")
        self.clip = LogSpinBox(1e-4, 1e6)
        clip_row = QHBoxLayout()
        clip_row.addWidget(self.clip_on)
        clip_row.addWidget(self.clip, 1)
        self.clip_mode = QComboBox()
        self.clip_mode.addItems(list(CLIP_MODE_LABELS.values()))
        self.clip_mode.setToolTip("Global norm: all gradients scaled together so their norm is at most the "
                                  "threshold (PyTorch's clip_grad_norm_). Each entry: every gradient entry "
                                  "clipped to [−c, c] (np.clip, as min-char-rnn)")
        clip_row.addWidget(self.clip_mode)
        self.loss_reduction = QComboBox()
        self.loss_reduction.addItems(list(LOSS_REDUCTION_LABELS.values()))
        self.loss_reduction.setToolTip("The per-step losses averaged over the time steps (PyTorch) or added up "
                                       "(min-char-rnn): the loss and every gradient the view shows scale with it")
        self.stateful = QCheckBox("carry from batch to batch")
        self.stateful.setToolTip("Each batch starts from the previous batch's last hidden state (min-char-rnn's "
                                 "hprev), no gradient across; batches come in order, from h₀ again when the data "
                                 "start over")
        self.adagrad_eps = QComboBox()
        self.adagrad_eps.addItems(list(ADAGRAD_EPS_LABELS.values()))
        self.adagrad_eps.setToolTip("Adagrad's ε: g/(√s + 1e-10) as torch.optim.Adagrad, or g/√(s + 1e-8) as min-char-rnn")
        self.batch = QSpinBox()
        self.batch.setSpecialValueText("all")
        self.budget = QSpinBox()
        self.budget.setRange(0, 10_000_000)
        self.budget.setSingleStep(100)
        self.budget.setSpecialValueText("no limit")
        self.budget.setGroupSeparatorShown(True)
        for spin in (self.momentum, self.batch, self.budget):
            spin.setKeyboardTracking(False)
        self.on_divergence = QComboBox()
        self.on_divergence.addItems([ON_DIVERGENCE_LABELS[m] for m in ON_DIVERGENCE])
        lim = DivergenceLimits()
        self.on_divergence.setToolTip(
            f"A run diverges when its loss exceeds {lim.loss_factor:g}× its starting value, a weight exceeds "
            f"{lim.max_weight:g} or (unclipped) a gradient entry exceeds {lim.max_grad:g} (more for data not "
            "normalised). Stop: training stops and keeps the weights from before the update that blew up. "
            "Warn and go on: one warning, then training carries on.")

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Optimizer", self.optimizer)
        form.addRow("Learning rate", self.lr)
        form.addRow("Momentum", self.momentum)
        form.addRow("Clipping", clip_row)
        form.addRow("Loss", self.loss_reduction)
        form.addRow("Hidden state", self.stateful)
        form.addRow("Adagrad ε", self.adagrad_eps)
        form.addRow("Batch size", self.batch)
        form.addRow("Iterations", self.budget)
        form.addRow("On divergence", self.on_divergence)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.readout = QLabel()
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel()
        self.status.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.readout)
        layout.addWidget(self.status)
        layout.addStretch(1)

        self.train_button.clicked.connect(c.toggle)
        self.step_button.clicked.connect(c.step)
        self.reset_button.clicked.connect(c.reset)
        self.optimizer.currentTextChanged.connect(self._set(c.set_optimizer))
        self.lr.valueChanged.connect(self._set(c.set_lr))
        self.momentum.valueChanged.connect(self._set(c.set_momentum))
        self.clip_on.toggled.connect(self._set(lambda _on: self._send_clip()))
        self.clip.valueChanged.connect(self._set(lambda _v: self._send_clip()))
        self.batch.valueChanged.connect(self._set(lambda n: c.set_batch_size(None if n == 0 or n >= self._n() else n)))
        self.budget.valueChanged.connect(self._set(lambda n: c.set_budget(n or None)))
        self.on_divergence.currentIndexChanged.connect(self._set(lambda i: c.set_on_divergence(ON_DIVERGENCE[i])))
        self.clip_mode.currentIndexChanged.connect(self._set(lambda i: c.set_clip_mode(list(CLIP_MODE_LABELS)[i])))
        self.loss_reduction.currentIndexChanged.connect(
            self._set(lambda i: c.set_loss_reduction(list(LOSS_REDUCTION_LABELS)[i])))
        self.stateful.toggled.connect(self._set(c.set_stateful))
        self.adagrad_eps.currentIndexChanged.connect(self._set(lambda i: c.set_adagrad_eps(list(ADAGRAD_EPS_LABELS)[i])))
        c.settingsChanged.connect(self._show_settings)
        c.stateChanged.connect(self._show_state)
        c.progressed.connect(self._show_progress)
        c.failed.connect(self._show_failure)
        c.warned.connect(self._show_warning)
        c.session.networkChanged.connect(self._show_data_size)
        self._show_data_size()
        self._show_settings(c.settings)
        self._show_state(c.state)
        self._show_progress(c.iteration, c.loss, c.its_per_s)

    # user → controller ------------------------------------------------------------------------
    def _set(self, setter):
        def slot(value) -> None:
            if self._syncing:
                return
            try:
                setter(value)
            except ValueError as e:
                self.status.setText(str(e))
        return slot

    def _send_clip(self) -> None:
        self.clip.setEnabled(self.clip_on.isChecked())
        self.clip_mode.setEnabled(self.clip_on.isChecked())
        self.controller.set_clip(self.clip.value() if self.clip_on.isChecked() else None)

    def _n(self) -> int:
        x, _ = self.controller.session.data
        return 1 if x is None else x.shape[1]

    # controller → widgets ---------------------------------------------------------------------
    def _show_data_size(self) -> None:
        n = self._n()
        self._syncing = True
        self.batch.setRange(0, n)
        self.batch.setSuffix(f" of {n}")
        self._syncing = False
        self.batch.setEnabled(n > 1)

    def _show_settings(self, s: TrainingSettings) -> None:
        self._syncing = True
        try:
            self.optimizer.setCurrentText(s.optimizer)
            self.lr.setValue(s.lr)
            self.momentum.setValue(s.momentum)
            self.momentum.setEnabled(s.optimizer == "sgd")
            self.clip_on.setChecked(s.clip is not None)
            if s.clip is not None:
                self.clip.setValue(s.clip)
            elif self.clip.value() <= self.clip.minimum():
                self.clip.setValue(1.0)
            self.clip.setEnabled(s.clip is not None)
            self.batch.setValue(0 if s.batch_size is None else s.batch_size)
            self.budget.setValue(s.iterations or 0)
            self.on_divergence.setCurrentIndex(ON_DIVERGENCE.index(s.on_divergence))
            self.clip_mode.setCurrentIndex(list(CLIP_MODE_LABELS).index(s.clip_mode))
            self.clip_mode.setEnabled(s.clip is not None)
            self.loss_reduction.setCurrentIndex(list(LOSS_REDUCTION_LABELS).index(s.loss_reduction))
            self.stateful.setChecked(s.stateful)
            self.adagrad_eps.setCurrentIndex(list(ADAGRAD_EPS_LABELS).index(s.adagrad_eps))
            self.adagrad_eps.setEnabled(s.optimizer == "adagrad")
        finally:
            self._syncing = False
        self._show_progress(self.controller.iteration, self.controller.loss, self.controller.its_per_s)

    def _show_state(self, state: str) -> None:
        self.train_button.setText("Pause" if state == "running" else "Train")
        self.step_button.setEnabled(state != "running")
        if state != "failed":  # a failure stays until the next run; a warning until reset
            self._show_warning(self.controller.warning)

    def _show_progress(self, iteration: int, loss: float, its_per_s: float) -> None:
        frac = self.controller.progress
        if frac is None:
            self.progress.setRange(0, 0 if self.controller.running else 1)  # busy / idle
            self.progress.setFormat(f"{iteration:,} iterations")
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(round(frac * 1000)))
            self.progress.setFormat(f"{iteration:,} / {self.controller.settings.iterations:,}")
        parts = [f"iteration {iteration:,}"]
        if loss == loss:  # not nan
            parts.append(f"loss {format_loss(loss)}")
        if its_per_s > 0:
            parts.append(f"{its_per_s:,.0f} it/s")
        self.readout.setText(" · ".join(parts))

    def _show_failure(self, message: str, step: int) -> None:
        self.status.setText(message)
        self.status.setStyleSheet("color: #c2410c;")

    def _show_warning(self, message: str) -> None:
        self.status.setText(message)
        self.status.setStyleSheet("color: #b45309;" if message else "")
