"""The import dialog: for text, the sequence length and held-out part; for a time series also
which columns (a box per column, each saying what it holds: "Month — looks like an index: dates
such as '1949-01'", left unticked), the stride between windows, normalisation, and a preview of
what the import will do (windows, rows dropped and which end, the training part's statistics)
that follows every change. A choice that cannot be imported says why in the preview and
disables OK, so a dialog accepted always imports.

The dialog only gathers choices; FileActions does the import. Tests fill it in and call
`accept()` (or replace `exec`) instead of running it modally.
"""
from __future__ import annotations

from typing import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QGroupBox, QLabel, QLineEdit, QSpinBox,
    QVBoxLayout, QWidget,
)

from rnnviz.engine.io.column_kinds import ColumnKind
from rnnviz.engine.io.importers import parse_columns
from rnnviz.engine.io.npz import FileFormatError
from rnnviz.engine.io.series_windows import MAX_STEPS

MAX_BOXES = 30  # more columns than this: chosen by typing names or numbers only

# (columns typed, steps, stride or None for the default, held-out fraction, normalise) -> the summary
Preview = Callable[[str, int, "int | None", float, bool], str]


class ImportDialog(QDialog):
    """Columns (time series only: `names` given), sequence length, stride, held-out fraction,
    normalisation. `kinds` (one per name) adds a check box per column; `preview` a live summary."""

    def __init__(self, parent: QWidget | None, title: str, names: list[str] | None, steps: int, held_out: float,
                 proposed: list[str] | None = None, *, kinds: Sequence[ColumnKind] | None = None,
                 preview: Preview | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.names = names
        self.preview = preview
        form = QFormLayout(self)
        self.columns_edit: QLineEdit | None = None
        self.column_boxes: list[QCheckBox] = []
        self.stride_spin: QSpinBox | None = None
        if names is not None:
            if kinds is not None and len(kinds) <= MAX_BOXES:
                group = QGroupBox("Columns to use", self)
                lay = QVBoxLayout(group)
                for k in kinds:
                    box = QCheckBox(k.label(), group)
                    box.setToolTip(k.why or "plain values")
                    lay.addWidget(box)
                    self.column_boxes.append(box)
                form.addRow(group)
            else:
                form.addRow(QLabel("Columns in the file: " + ", ".join(f"{i + 1}: {n}" for i, n in enumerate(names[:30]))
                                   + (" …" if len(names) > 30 else ""), self))
            self.columns_edit = QLineEdit(self)
            self.columns_edit.setPlaceholderText("names or numbers, comma-separated; empty: the proposed ones")
            self.columns_edit.setText(", ".join(proposed if proposed is not None else names))
            form.addRow("Columns (or type them)" if self.column_boxes else "Columns", self.columns_edit)
            self._tick_from_text()
            for box in self.column_boxes:
                box.toggled.connect(self._text_from_ticks)
            self.columns_edit.textChanged.connect(self._tick_from_text)
        self.steps_spin = QSpinBox(self)
        self.steps_spin.setRange(1, MAX_STEPS)
        self.steps_spin.setValue(steps)
        form.addRow("Window length (steps)", self.steps_spin)
        if names is not None:
            self.stride_spin = QSpinBox(self)
            self.stride_spin.setRange(0, 1_000_000)
            self.stride_spin.setSpecialValueText("auto")
            self.stride_spin.setToolTip("Rows between the starts of two training windows: 1 = every window "
                                        "(overlapping), the window length = side by side. auto: side by side when "
                                        "that gives at least 32 windows, else every window.")
            form.addRow("Stride (rows)", self.stride_spin)
        self.held_spin = QDoubleSpinBox(self)
        self.held_spin.setRange(0.0, 0.9)
        self.held_spin.setSingleStep(0.05)
        self.held_spin.setValue(held_out)
        self.held_spin.setToolTip("The newest part of the data, kept for validation")
        form.addRow("Held out, newest (fraction)", self.held_spin)
        self.normalise_box: QCheckBox | None = None
        if names is not None:
            self.normalise_box = QCheckBox("Normalise (z-score, with the training part's mean and std)", self)
            self.normalise_box.setChecked(True)
            form.addRow(self.normalise_box)
        self.preview_label = QLabel(self)
        self.preview_label.setObjectName("importPreview")
        self.preview_label.setWordWrap(True)
        self.preview_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        if preview is not None:
            box = QGroupBox("What the import will do", self)
            QVBoxLayout(box).addWidget(self.preview_label)
            form.addRow(box)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        if preview is not None:
            self.setMinimumWidth(640)
            for signal in (self.steps_spin.valueChanged, self.held_spin.valueChanged):
                signal.connect(self.update_preview)
            if self.stride_spin is not None:
                self.stride_spin.valueChanged.connect(self.update_preview)
            if self.normalise_box is not None:
                self.normalise_box.toggled.connect(self.update_preview)
            if self.columns_edit is not None:
                self.columns_edit.textChanged.connect(self.update_preview)
            self.update_preview()

    # the choices -------------------------------------------------------------------------------
    @property
    def stride(self) -> int | None:
        """The chosen stride, or None for the default (auto)."""
        return (self.stride_spin.value() or None) if self.stride_spin is not None else None

    @property
    def normalise(self) -> bool:
        return self.normalise_box.isChecked() if self.normalise_box is not None else True

    def _tick_from_text(self) -> None:
        """The boxes follow what is typed (names or 1-based numbers)."""
        if not self.column_boxes:
            return
        chosen = parse_columns(self.columns_edit.text(), self.names)
        picked = {c if isinstance(c, int) else self.names.index(c) for c in chosen
                  if isinstance(c, int) or c in self.names}
        for j, box in enumerate(self.column_boxes):
            box.blockSignals(True)
            box.setChecked(j in picked)
            box.blockSignals(False)

    def _text_from_ticks(self) -> None:
        """What is typed follows the boxes."""
        text = ", ".join(n for n, box in zip(self.names, self.column_boxes) if box.isChecked())
        self.columns_edit.blockSignals(True)
        self.columns_edit.setText(text)
        self.columns_edit.blockSignals(False)
        self.update_preview()

    def update_preview(self) -> None:
        """What the import will do with these choices, or why it cannot (and OK disabled)."""
        if self.preview is None:
            return
        text = self.columns_edit.text() if self.columns_edit is not None else ""
        try:
            summary, ok = self.preview(text, self.steps_spin.value(), self.stride, self.held_spin.value(),
                                       self.normalise), True
        except (FileFormatError, ValueError) as e:
            summary, ok = f"Cannot import: {e}", False
        if ok:  # one line per part: what was read, the windows, the rows dropped, the statistics
            summary = "\n".join(part[:1].upper() + part[1:] for part in summary.split("; ")) + "."
        self.preview_label.setText(summary)
        self.preview_label.setStyleSheet("" if ok else "color: #D55E00;")
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(ok)
