"""The open-model dialog: what a model file holds, and the few questions it cannot answer.

Opening a model (File ▸ Open model, or a model file dropped on the window) shows what the file
records — its format, cell, sizes, dtype and which file key becomes which rnnviz parameter — and
asks only what it does not: the architecture, the loss, an nn.RNN's nonlinearity and, when inputs
are given, their layout. Each question is a combo box preset to the probe's guess, with the reason
for the guess beside it (engine.io.probe). Inputs and targets (.npy) may be opened with the model;
they sharpen the guesses. "Open" builds the model with the answers and hands it to
`Session.use_model`; Cancel changes nothing. A problem is said in the dialog, in one line, and the
session stays as it was.

Tests answer the dialog without exec(): build it, `choose(...)` answers, then `accept()`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData, Qt
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QGridLayout, QGroupBox,
    QHeaderView, QLabel, QLayout, QPushButton, QSizePolicy, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from rnnviz.app.state.session import Session
from rnnviz.engine.io.npz import FileFormatError, load_array
from rnnviz.engine.io.probe import Guess, ModelProbe, probe_model

MODEL_SUFFIXES = (".pt", ".pth", ".npz")
ARRAY_FILTER = "NumPy arrays (*.npy);;All files (*)"
CELL_WORDS = {"rnn": "vanilla RNN (nn.RNN)", "lstm": "LSTM (nn.LSTM)", "gru": "GRU (nn.GRU)"}
QUESTION_TITLES = {"architecture": "Architecture", "loss": "Loss", "nonlinearity": "Nonlinearity",
                   "batch_first": "Input layout"}
# how each choice reads in its combo box (a value missing here reads as itself)
CHOICE_WORDS = {
    "loss": {"mse": "mse — values to regress", "cross-entropy": "cross-entropy — softmax on the logits",
             "nll": "nll — after LogSoftmax (NLLLoss)"},
    "batch_first": {False: "time-major (T, B, I)", True: "batch_first (B, T, I)"},
}


def read_inputs(path: str | Path | None, what: str) -> np.ndarray | None:
    """An inputs or targets array from a .npy file (None for no path); FileFormatError or
    ValueError, one line, when it cannot be read."""
    return None if path is None else load_array(path, what)


def probe_with_data(path: str | Path, inputs_path: str | Path | None = None,
                    targets_path: str | Path | None = None) -> tuple[ModelProbe, np.ndarray | None, np.ndarray | None]:
    """The probe of a model file with the arrays in inputs_path / targets_path (each optional):
    (probe, inputs, targets). FileFormatError or ValueError, one line, naming the file at fault."""
    x = read_inputs(inputs_path, "inputs")
    y = read_inputs(targets_path, "targets")
    if y is not None and x is None:
        raise ValueError("targets need inputs: open an inputs file with them")
    return probe_model(path, x, y), x, y


def dropped_files(mime: QMimeData) -> tuple[Path | None, Path | None, Path | None]:
    """(model, inputs, targets) among the local files dropped: the first model file (.pt, .pth,
    .npz), and up to two .npy files — the one whose name says target / label / _y is the targets,
    the other the inputs. (None, ...) when no model file was dropped."""
    paths = [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []
    model = next((p for p in paths if p.suffix.lower() in MODEL_SUFFIXES), None)
    arrays = [p for p in paths if p.suffix.lower() == ".npy"][:2]
    if model is None:
        return None, None, None

    def targets_like(p: Path) -> bool:
        stem = p.stem.lower()
        return any(w in stem for w in ("target", "label")) or stem.endswith("_y") or stem == "y"

    targets = next((p for p in arrays if targets_like(p)), None)
    inputs = next((p for p in arrays if p != targets), None)
    if inputs is None:  # targets without inputs say nothing: leave both out
        targets = None
    return model, inputs, targets


class ModelDialog(QDialog):
    """What `probe` found, the questions it leaves, and Open / Cancel (see the module doc).
    `inputs` / `targets`: the arrays the probe was made with, `data_paths` the files they came from."""

    def __init__(self, probe: ModelProbe, session: Session, parent: QWidget | None = None, *,
                 inputs: np.ndarray | None = None, targets: np.ndarray | None = None,
                 data_paths: tuple[str | Path | None, str | Path | None] = (None, None)) -> None:
        super().__init__(parent)
        self.session = session
        self.probe = probe
        self.x, self.y = inputs, targets
        self.data_paths = data_paths
        self.declined = False  # set by apply(): the person kept the current network when asked
        self.combos: dict[str, QComboBox] = {}  # question -> its combo box
        self.reasons: dict[str, QLabel] = {}  # question -> the reason for its guess
        name = probe.path.name if probe.path is not None else probe.format
        self.setWindowTitle(f"Open model — {name}")
        self.setObjectName("modelDialog")
        em = self.fontMetrics().horizontalAdvance("M")
        self.setMinimumWidth(round(em * 68))  # room for the reasons beside the questions
        outer = QVBoxLayout(self)
        outer.setSizeConstraint(QLayout.SetMinimumSize)  # never squeezed below its contents (the key table)

        self.title_label = QLabel(self)
        self.title_label.setObjectName("title")
        self.title_label.setWordWrap(True)
        outer.addWidget(self.title_label)

        found = QGroupBox("What the file records", self)
        found_layout = QVBoxLayout(found)
        self.found_form = QFormLayout()
        self.found_form.setLabelAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.cell_label, self.sizes_label, self.dtype_label, self.recorded_label = (QLabel(found) for _ in range(4))
        self.recorded_label.setWordWrap(True)
        self.found_form.addRow("Cell", self.cell_label)
        self.found_form.addRow("Sizes", self.sizes_label)
        self.found_form.addRow("dtype", self.dtype_label)
        self.found_form.addRow("Also recorded", self.recorded_label)
        found_layout.addLayout(self.found_form)
        self.key_table = QTableWidget(0, 2, found)
        self.key_table.setHorizontalHeaderLabels(["File key", "rnnviz parameter"])
        self.key_table.verticalHeader().hide()
        self.key_table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)  # compact rows
        self.key_table.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.key_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.key_table.setSelectionMode(QAbstractItemView.NoSelection)
        self.key_table.setFocusPolicy(Qt.NoFocus)
        self.key_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeToContents)
        self.key_table.horizontalHeader().setStretchLastSection(True)
        found_layout.addWidget(self.key_table)
        outer.addWidget(found)

        data = QGroupBox("Your data (optional: they sharpen the guesses)", self)
        grid = QGridLayout(data)
        self.inputs_label, self.targets_label = QLabel(data), QLabel(data)
        self.inputs_button = QPushButton("Inputs…", data)
        self.targets_button = QPushButton("Targets…", data)
        self.inputs_button.clicked.connect(self._choose_inputs)
        self.targets_button.clicked.connect(self._choose_targets)
        for row, (label, button) in enumerate(((self.inputs_label, self.inputs_button),
                                               (self.targets_label, self.targets_button))):
            label.setWordWrap(True)
            grid.addWidget(label, row, 0)
            grid.addWidget(button, row, 1)
        grid.setColumnStretch(0, 1)
        outer.addWidget(data)

        self.questions_box = QGroupBox("What the file does not record: check the guesses", self)
        self.questions_grid = QGridLayout(self.questions_box)
        self.questions_grid.setColumnStretch(2, 1)
        self.questions_grid.setHorizontalSpacing(round(em * 0.8))
        outer.addWidget(self.questions_box)

        self.notes_label = QLabel(self)
        self.notes_label.setWordWrap(True)
        self.notes_label.setObjectName("description")
        outer.addWidget(self.notes_label)
        self.error_label = QLabel(self)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c0392b;")
        self.error_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.error_label.hide()
        outer.addWidget(self.error_label)

        self.buttons = QDialogButtonBox(QDialogButtonBox.Open | QDialogButtonBox.Cancel, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)
        self._fill()

    # what was found -------------------------------------------------------------------------------
    def _fill(self) -> None:
        p = self.probe
        name = p.path.name if p.path is not None else "model"
        self.title_label.setText(f"{name} — {p.format}")
        self.cell_label.setText(CELL_WORDS.get(p.cell, p.cell))
        self.sizes_label.setText(f"input I = {p.input_size} · hidden H = {p.hidden_size} · output O = {p.output_size}")
        self.dtype_label.setText(p.dtype)
        recorded = [f"{QUESTION_TITLES[n].lower()}: {self._words(n, g.value)} ({g.reason})"
                    for n, g in self._all_guesses() if g.recorded]
        nothing = "nothing else: a state dict holds only the weights" if "state dict" in p.format else "nothing else"
        self.recorded_label.setText("\n".join(recorded) if recorded else nothing)
        self.key_table.setRowCount(len(p.key_map))
        for row, (key, becomes) in enumerate(p.key_map):
            for col, text in enumerate((key, becomes)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.key_table.setItem(row, col, item)
        self.key_table.resizeColumnsToContents()
        self.key_table.horizontalHeader().setStretchLastSection(True)
        # wide enough for the longest mapping (an LSTM's gate rows), within the screen
        fm = self.key_table.fontMetrics()
        needed = (self.key_table.columnWidth(0) + max((fm.horizontalAdvance(b) for _, b in p.key_map), default=0)
                  + fm.horizontalAdvance("M") * 2 + 2 * self.key_table.frameWidth())
        screen = self.screen().availableGeometry().width() if self.screen() is not None else 1280
        self.key_table.setMinimumWidth(min(needed, round(screen * 0.85)))
        rows = min(len(p.key_map), 8)  # taller tables scroll
        height = self.key_table.horizontalHeader().sizeHint().height() + 2 * self.key_table.frameWidth()
        height += sum(self.key_table.rowHeight(r) for r in range(rows))
        self.key_table.setFixedHeight(height)
        self._fill_data()
        self._fill_questions()
        self.notes_label.setText(" · ".join(p.notes))
        self.fit_contents()

    def fit_contents(self) -> None:
        """Grow to the contents' size (Qt's minimum under-counts word-wrapped labels, which would
        squeeze the key table and the reasons), within the screen."""
        self.layout().activate()
        hint = self.sizeHint()
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        height = hint.height() if screen is None else min(hint.height(), round(screen.height() * 0.95))
        self.resize(max(self.width(), hint.width()), max(self.height(), height))

    def _fill_data(self) -> None:
        def describe(a: np.ndarray | None, name: str, none: str) -> str:
            return none if a is None else f"{name or 'given'}: shape {a.shape}, {a.dtype}"

        names = [Path(p).name if p else "" for p in self.data_paths]
        self.inputs_label.setText(describe(self.x, names[0], "Inputs: none — the current inputs if they "
                                           "fit, else random ones (File ▸ Open inputs later)"))
        self.targets_label.setText(describe(self.y, names[1], "Targets: none"))
        self.targets_button.setEnabled(self.x is not None)
        self.targets_button.setToolTip("" if self.x is not None else "Open the inputs first")

    def _all_guesses(self) -> list[tuple[str, Guess]]:
        p = self.probe
        named = [("architecture", p.architecture), ("loss", p.loss), ("nonlinearity", p.nonlinearity)]
        if self.x is not None:  # the layout of inputs only matters once there are inputs
            named.append(("batch_first", p.batch_first))
        return [(n, g) for n, g in named if g is not None]

    def _fill_questions(self) -> None:
        while self.questions_grid.count():
            w = self.questions_grid.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self.combos, self.reasons = {}, {}
        asked = [(n, g) for n, g in self._all_guesses() if not g.recorded]
        self.questions_box.setVisible(bool(asked))
        for row, (name, guess) in enumerate(asked):
            combo = QComboBox(self.questions_box)
            for value in guess.choices:
                combo.addItem(self._words(name, value), value)
            combo.setCurrentIndex(max(0, combo.findData(guess.value)))
            combo.setObjectName(f"question-{name}")
            combo.setSizeAdjustPolicy(QComboBox.AdjustToContents)
            combo.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Fixed)  # the reason gets the width
            reason = QLabel(f"guess: {guess.reason}", self.questions_box)
            reason.setWordWrap(True)
            reason.setObjectName("description")
            reason.setMinimumWidth(round(self.fontMetrics().horizontalAdvance("M") * 22))
            title = QLabel(QUESTION_TITLES[name], self.questions_box)
            title.setMinimumHeight(combo.sizeHint().height())  # level with the combo's text
            title.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            self.questions_grid.addWidget(title, row, 0, Qt.AlignRight | Qt.AlignTop)
            self.questions_grid.addWidget(combo, row, 1, Qt.AlignTop)
            self.questions_grid.addWidget(reason, row, 2)
            self.combos[name], self.reasons[name] = combo, reason

    @staticmethod
    def _words(name: str, value: object) -> str:
        return CHOICE_WORDS.get(name, {}).get(value, str(value))

    # data --------------------------------------------------------------------------------------
    def set_data(self, inputs_path: str | Path | None, targets_path: str | Path | None = None) -> bool:
        """Probe the model again with these inputs / targets (.npy): the guesses follow them.
        False, with the dialog as it was and the problem said, when they cannot be read."""
        if self.probe.path is None:
            return False
        try:
            probe, x, y = probe_with_data(self.probe.path, inputs_path, targets_path)
        except (FileFormatError, ValueError) as e:
            self.show_problem(str(e))
            return False
        self.probe, self.x, self.y = probe, x, y
        self.data_paths = (inputs_path, targets_path)
        self.error_label.hide()
        self._fill()
        return True

    def _choose_inputs(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Inputs for this model (.npy)", "", ARRAY_FILTER)
        if path:
            self.set_data(path, None)

    def _choose_targets(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Targets for these inputs (.npy)", "", ARRAY_FILTER)
        if path:
            self.set_data(self.data_paths[0], path)

    # answers -------------------------------------------------------------------------------------
    def choose(self, question: str, value: object) -> None:
        """Answer a question ("architecture", "loss", "nonlinearity", "batch_first") as a person would."""
        combo = self.combos[question]
        index = combo.findData(value)
        if index < 0:
            raise ValueError(f"{value!r} is not a choice for {question}")
        combo.setCurrentIndex(index)

    def choices(self) -> dict[str, object]:
        """Each question's answer (the guess unless changed)."""
        return {name: combo.currentData() for name, combo in self.combos.items()}

    def report(self) -> list[str]:
        """What was found and each answer, one line each (the session's status message)."""
        p, c = self.probe, self.choices()
        lines = [f"{p.format}, {CELL_WORDS.get(p.cell, p.cell)}"]
        for name, guess in self._all_guesses():
            value = c.get(name, guess.value)
            why = guess.reason if value == guess.value else "your choice"
            lines.append(f"{QUESTION_TITLES[name].lower()}: {self._words(name, value)} ({why})")
        return lines

    def show_problem(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()

    def apply(self) -> bool:
        """Build the model with the answers and show it (Session.use_model). False when it cannot
        be: the problem is said in the dialog and the session is as it was."""
        c = self.choices()
        arch, loss = c.get("architecture"), c.get("loss")
        try:
            model = self.probe.build(architecture=arch, loss=loss, nonlinearity=c.get("nonlinearity"))
            x = y = None
            if self.x is not None:
                x = self.probe.arrange_inputs(self.x, c.get("batch_first"))  # (T, B, I)
                if self.y is not None:
                    y = self.probe.arrange_targets(self.y, x, architecture=arch, loss=loss,
                                                   batch_first=c.get("batch_first"))
        except ValueError as e:
            self.show_problem(str(e))
            return False
        errors: list[str] = []
        self.session.error.connect(errors.append)
        try:
            label = self.probe.path.name if self.probe.path is not None else self.probe.format
            ok = self.session.use_model(model, x, y, label=label, report=self.report())
        finally:
            self.session.error.disconnect(errors.append)
        if not ok and errors:
            self.show_problem(errors[-1])
        self.declined = not ok and not errors
        return ok

    def accept(self) -> None:
        if self.apply():
            super().accept()
        elif self.declined:
            self.reject()
