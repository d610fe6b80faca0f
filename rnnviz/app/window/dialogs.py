"""The main window's questions to the person: which model or inputs file to open, where to save
a screenshot, whether to discard a training run or a loaded network."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

MODEL_FILTER = ("Models (*.npz *.pt *.pth);;rnnviz or PyTorch .npz (*.npz);;PyTorch state dict (*.pt *.pth);;"
                "All files (*)")
ARRAY_FILTER = "NumPy arrays (*.npy);;All files (*)"


def ask_model_path(parent: QWidget) -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, "Open model", "", MODEL_FILTER)
    return path or None


def ask_inputs_paths(parent: QWidget) -> tuple[str, str | None] | None:
    """An inputs file and, optionally, its targets (None when the person skips them); None
    when no inputs file was chosen."""
    path, _ = QFileDialog.getOpenFileName(parent, "Open inputs (.npy: (T, I) or (T, N, I))", "", ARRAY_FILTER)
    if not path:
        return None
    targets, _ = QFileDialog.getOpenFileName(parent, "Targets for these inputs (optional: Cancel to skip)",
                                             str(Path(path).parent), ARRAY_FILTER)
    return path, targets or None


def ask_screenshot_path(parent: QWidget) -> str | None:
    path, _ = QFileDialog.getSaveFileName(parent, "Save screenshot", "rnnviz.png", "PNG images (*.png)")
    return path or None


def ask_discard(parent: QWidget, text: str) -> bool:
    """Whether to discard a training run ("Discard" or "Cancel", Cancel the default)."""
    answer = QMessageBox.question(parent, "Discard the training run?", text,
                                  QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Cancel)
    return answer == QMessageBox.Discard


def ask_discard_network(parent: QWidget, text: str) -> bool:
    """Whether to discard a loaded network for a new random one ("Discard" or "Keep it", keeping
    it the default)."""
    box = QMessageBox(QMessageBox.Question, "Discard the loaded network?", text, QMessageBox.NoButton, parent)
    discard = box.addButton("Discard it", QMessageBox.DestructiveRole)
    keep = box.addButton("Keep it", QMessageBox.RejectRole)
    box.setDefaultButton(keep)
    box.exec()
    return box.clickedButton() is discard
