"""The setup panel: which task, which network. Every change calls `session.set_config(...)`,
which builds a new network and trace; the panel redraws itself from the session.

A loaded network (a model file, or one from rnnviz.show()) is shown as it is: its name, cell,
sizes, architecture, loss and nonlinearity, with no built-in task selected. A change here would
replace it with a new random network, so the session asks first (Session.may_discard_loaded).
"""
from __future__ import annotations

import inspect

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox, QFormLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from rnnviz.engine import ACTIVATIONS, ARCHITECTURES, TASKS, make_task
from rnnviz.app.state.network_config import CELL_TITLES
from rnnviz.app.state.session import Session

MAX_HIDDEN = 256
MAX_STEPS = 500


def _task_titles() -> dict[str, str]:
    """Each task's title, generated once at its smallest size."""
    titles = {}
    for name in TASKS:
        try:
            titles[name] = make_task(name).title
        except ValueError:
            titles[name] = name
    return titles


def _fixed_length(task_name: str) -> bool:
    """Tasks whose length is set by their data (hello: the word; xor: one step) take no `steps`."""
    p = inspect.signature(TASKS[task_name]).parameters.get("steps")
    return p is None or p.default is None


class SetupPanel(QWidget):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._titles = _task_titles()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 8, 10, 8)
        # a loaded network: its name above the settings (hidden for a task's network); in the
        # column, not the form, so that a long name wraps onto as many lines as it needs
        self.loaded_label = QLabel(self)
        self.loaded_label.setObjectName("title")
        self.loaded_label.setWordWrap(True)
        self.loaded_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        outer.addWidget(self.loaded_label)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignRight | Qt.AlignVCenter)
        outer.addLayout(form)

        self.task_combo = QComboBox(self)
        self.task_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.task_combo.setMinimumContentsLength(14)
        for name, title in self._titles.items():
            self.task_combo.addItem(title, name)
        self.task_combo.setToolTip("What the network is asked to do")
        self.task_combo.currentIndexChanged.connect(self._task_chosen)
        self.task_combo.setPlaceholderText("none: a loaded network")
        form.addRow(QLabel("Task"))
        form.addRow(self.task_combo)

        self.architecture_combo = QComboBox(self)
        self.architecture_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.architecture_combo.setMinimumContentsLength(14)
        self.architecture_combo.addItem("task default", None)
        for a in ARCHITECTURES:
            self.architecture_combo.addItem(a, a)
        self.architecture_combo.setToolTip("Where inputs go in and outputs come out along the sequence")
        self.architecture_combo.currentIndexChanged.connect(
            lambda i: self._set(architecture=self.architecture_combo.itemData(i)))
        form.addRow(QLabel("Architecture"))
        form.addRow(self.architecture_combo)

        self.cell_combo = QComboBox(self)
        for name, title in CELL_TITLES.items():
            self.cell_combo.addItem(title, name)
        self.cell_combo.setToolTip("The recurrent cell: a vanilla RNN, or a gated LSTM / GRU cell")
        self.cell_combo.currentIndexChanged.connect(lambda i: self._set(cell=self.cell_combo.itemData(i)))
        form.addRow(QLabel("Cell"))  # a row of its own: "vanilla RNN" is wider than the field column
        form.addRow(self.cell_combo)

        self.activation_combo = QComboBox(self)
        for a in ACTIVATIONS:
            self.activation_combo.addItem(a, a)
        self.activation_combo.currentIndexChanged.connect(
            lambda i: self._set(activation=self.activation_combo.itemData(i)))
        form.addRow("Activation f", self.activation_combo)

        self.loss_label = QLabel(self)
        self.loss_label.setToolTip("What the network's outputs are scored with (set by the task, or chosen "
                                   "when a model is opened)")
        form.addRow("Loss", self.loss_label)

        def spin(lo: int, hi: int, tip: str) -> QSpinBox:
            s = QSpinBox(self)
            s.setRange(lo, hi)
            s.setKeyboardTracking(False)  # one new network per finished number, not per digit
            s.setToolTip(tip)
            return s

        self.hidden_spin = spin(1, MAX_HIDDEN, "Hidden units H")
        self.hidden_spin.valueChanged.connect(lambda v: self._set(hidden=int(v)))
        form.addRow("Hidden size H", self.hidden_spin)

        self.steps_spin = spin(1, MAX_STEPS, "Sequence length T")
        self.steps_spin.valueChanged.connect(lambda v: self._set(steps=int(v)))
        form.addRow("Sequence length T", self.steps_spin)

        self.seed_spin = spin(0, 2**31 - 1, "Random seed of the weights and the data")
        self.seed_spin.valueChanged.connect(lambda v: self._set(seed=int(v)))
        form.addRow("Seed", self.seed_spin)

        self.lag_spin = spin(0, MAX_STEPS - 1, "Echo task: how many steps back the output repeats the input")
        self.lag_spin.valueChanged.connect(lambda v: self._set(lag=int(v)))
        self.lag_label = QLabel("Echo lag")
        form.addRow(self.lag_label, self.lag_spin)

        self.watched_spin = spin(0, 0, "Which sequence of the data set is drawn")
        self.watched_spin.valueChanged.connect(lambda v: session.set_watched(int(v)))
        form.addRow("Sequence #", self.watched_spin)

        self.reinit_button = QPushButton("Re-initialise", self)
        self.reinit_button.setToolTip("New random weights (and data): the next seed")
        self.reinit_button.clicked.connect(self._reinitialise)
        outer.addWidget(self.reinit_button)

        self.summary_label = QLabel(self)
        self.summary_label.setObjectName("title")
        self.summary_label.setWordWrap(True)
        outer.addWidget(self.summary_label)
        self.description_label = QLabel(self)
        self.description_label.setObjectName("description")
        self.description_label.setWordWrap(True)
        self.description_label.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.description_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        outer.addWidget(self.description_label)
        outer.addStretch(1)

        session.networkChanged.connect(self.refresh)
        session.replaceDeclined.connect(self.refresh)  # show the settings that stayed
        session.traceChanged.connect(self._refresh_summary)
        self.refresh()

    # widgets -> session ---------------------------------------------------------------------------
    def _set(self, **changes: object) -> None:
        if self._updating:
            return
        self.session.set_config(**changes)
        self.refresh()  # a rejected change (error) puts the widgets back

    def _task_chosen(self, index: int) -> None:
        if self._updating:
            return
        name = self.task_combo.itemData(index)
        # a new task starts from its own length and network defaults
        defaults = make_task(name).defaults
        self.session.set_config(task=name, steps=None, hidden=int(defaults.get("hidden", self.session.config.hidden)),
                                activation=str(defaults.get("activation", self.session.config.activation)))
        self.refresh()

    def _reinitialise(self) -> None:
        self.session.set_config(seed=self.session.config.seed + 1)
        self.refresh()

    # session -> widgets ---------------------------------------------------------------------------
    _updating = False

    def refresh(self) -> None:
        s, c = self.session, self.session.config
        loaded = s.source == "file"
        self._updating = True
        try:
            # a loaded network belongs to no built-in task: the combo shows its placeholder
            self.task_combo.setCurrentIndex(-1 if loaded else max(0, self.task_combo.findData(c.task)))
            self.architecture_combo.setCurrentIndex(max(0, self.architecture_combo.findData(c.architecture)))
            task_arch = s.task.architecture if s.task is not None else "many-to-many"
            self.architecture_combo.setItemText(0, f"task default ({task_arch})")
            self.cell_combo.setCurrentIndex(max(0, self.cell_combo.findData(c.cell)))
            self.activation_combo.setCurrentIndex(max(0, self.activation_combo.findData(c.activation)))
            gated = c.cell != "rnn"
            self.activation_combo.setEnabled(not gated)
            self.activation_combo.setToolTip("Gated cells use fixed nonlinearities (σ for the gates, tanh)" if gated
                                             else "The vanilla cell's nonlinearity f")
            self.hidden_spin.setValue(c.hidden)
            m = s.model
            self.loss_label.setText(_loss_words(m.loss) if m is not None else "")
            self.loaded_label.setVisible(loaded)
            self.loaded_label.setText(f"Loaded network: {s.source_label}" if loaded else "")
            fixed = _fixed_length(c.task) or (s.model is not None and s.model.architecture == "one-to-one")
            self.steps_spin.setValue(min(max(s.T, 1), MAX_STEPS))
            self.steps_spin.setEnabled(not fixed and s.source == "task")
            self.steps_spin.setToolTip("This task's length is set by its data" if fixed else "Sequence length T")
            self.seed_spin.setValue(c.seed)
            is_echo = c.task == "echo"
            self.lag_spin.setMaximum(max(0, s.T - 1) if is_echo else MAX_STEPS - 1)
            self.lag_spin.setValue(c.lag)
            self.lag_spin.setVisible(is_echo)
            self.lag_label.setVisible(is_echo)
            self.watched_spin.setMaximum(max(0, s.sequence_count - 1))
            self.watched_spin.setValue(s.watched)
            self.watched_spin.setSuffix(f"  of {s.sequence_count}")
            self.watched_spin.setEnabled(s.sequence_count > 1)
        finally:
            self._updating = False
        if loaded and s.model is not None:
            m = s.model
            self.description_label.setText(
                f"Showing the network {s.source_label} as it is: {_cell_words(m, long=True)}, "
                f"I = {m.input_size}, H = {m.hidden_size}, O = {m.output_size}, {m.architecture}, "
                f"loss {_loss_words(m.loss)}. Changing the task, architecture, cell, activation or size "
                "builds a new random network; you are asked before the loaded one is discarded.")
        elif s.task is not None:
            self.description_label.setText(s.task.description)
        self._refresh_summary()

    def _refresh_summary(self) -> None:
        m, tr = self.session.model, self.session.trace
        if m is None or tr is None:
            self.summary_label.setText("")
            return
        loss = f" · loss {tr.loss:.4g}" if tr.targets is not None else ""
        self.summary_label.setText(
            f"I={m.input_size} · H={m.hidden_size} · O={m.output_size} · T={tr.T}<br>"
            f"{_cell_words(m)} · {m.architecture} · {m.loss}{loss}")


def _cell_words(model, long: bool = False) -> str:
    """'tanh' / 'LSTM'; long: 'vanilla RNN with relu' / 'LSTM'."""
    cell = model.cell
    if cell != "rnn":
        return cell.upper()
    return f"vanilla RNN with {model.activation}" if long else model.activation


LOSS_WORDS = {"mse": "mse", "cross-entropy": "cross-entropy (softmax on the outputs)",
              "nll": "nll (outputs are log-probabilities)"}


def _loss_words(loss: str) -> str:
    return LOSS_WORDS.get(loss, loss)
