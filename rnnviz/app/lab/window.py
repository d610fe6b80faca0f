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

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from rnnviz.app.lab.controls import LabControls, position_to_scale
from rnnviz.app.lab.model import (
    CELL_NAMES, LabConfig, LabCurves, build_models, build_task, compute_curves, summary, zero_loss,
)
from rnnviz.app.lab.plots import CELL_COLORS, LabPlots
from rnnviz.app.lab.training import LabTraining
from rnnviz.app.state.session import Session
from rnnviz.app.style.appearance import apply_appearance
from rnnviz.app.style.theme import font_scale, theme_for

CURVE_GAP = 0.1  # s: while training, the gradient curves (a full pass each) at most this often


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
        self.training.warned.connect(lambda _c, _m: self._update_readout())
        session.appearanceChanged.connect(self._appearance_changed)
        self._appearance_changed()
        self.rebuild()
        self.resize(1600, 1000)

    # controls ---------------------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QHBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        outer.setSpacing(10)
        self.controls = LabControls()
        scroll = QScrollArea()
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setWidget(self.controls)
        self.side_scroll = scroll
        outer.addWidget(scroll)

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
        k = self.controls
        k.lag_slider.valueChanged.connect(lambda v: self.set_config(lag=v))
        k.steps_spin.valueChanged.connect(lambda v: self.set_config(steps=v))
        k.watched_spin.valueChanged.connect(lambda v: self.set_config(watched=v - 1))
        k.scale_slider.valueChanged.connect(lambda p: self.set_config(scale=position_to_scale(p)))
        k.hidden_spin.valueChanged.connect(lambda v: self.set_config(hidden=v))
        k.seed_spin.valueChanged.connect(lambda v: self.set_config(seed=v))
        k.gated_combo.currentIndexChanged.connect(lambda _i: self.set_config(gated=k.gated_combo.currentData()))
        k.gain_check.toggled.connect(self.set_show_gain)
        k.lr_spin.valueChanged.connect(self._lr_changed)
        k.budget_spin.valueChanged.connect(self._budget_changed)
        k.divergence_combo.currentIndexChanged.connect(
            lambda _i: self.training.set_on_divergence(k.divergence_combo.currentData()))
        k.train_button.clicked.connect(self.training.train)
        k.pause_button.clicked.connect(self.training.pause)
        k.reset_button.clicked.connect(self.training.reset)

    def _sync_widgets(self) -> None:
        """The controls show self.config (without emitting)."""
        self.controls.show_config(self.config, self.show_gain)

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
        self.controls.watched_spin.blockSignals(True)
        self.controls.watched_spin.setRange(1, n)
        self.controls.watched_spin.setValue(c.watched + 1)
        self.controls.watched_spin.blockSignals(False)
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
            elif self.training.sides and self.training.warning(cell):
                text += f" — warning: {self.training.warning(cell)}"
            out[cell] = text
        return out

    def summary(self) -> str:
        """'vanilla RNN: loss 0.31 at lag 8; LSTM: 0.004' — the one-line comparison."""
        return summary(self.config, self.curves)

    def _update_readout(self) -> None:
        t = theme_for(self.session.theme, self.session.presentation)
        parts = [f"<b>{self.summary()}</b>"]
        for cell, text in self.readout_lines().items():
            name = CELL_NAMES[cell]
            body = text[len(name):]
            parts.append(f"<span style='color:{CELL_COLORS[cell]}; font-weight:bold'>{name}</span>{body}")
        parts.append(f"<span style='color:{t.muted}'>Answering 0 everywhere scores {self.zero_loss:.3g}. "
                     f"ρ(W_hh) of the vanilla RNN: {self.curves['rnn'].spectral_radius:.3f}.</span>")
        self.controls.readout.setText("<br><br>".join(parts))

    def _sync_buttons(self) -> None:
        tr = self.training
        running = tr.running
        its = [tr.iteration(c) for c in self.config.cells] if tr.sides else [0]
        self.controls.train_button.setEnabled(not running and min(its) < self.config.iterations)
        self.controls.train_button.setText("Resume" if (not running and max(its) > 0) else "Train")
        self.controls.pause_button.setEnabled(running)
        self.controls.reset_button.setEnabled(max(its) > 0 or running)

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
