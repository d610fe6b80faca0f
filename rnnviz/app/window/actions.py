"""The window's keyboard shortcuts (the list Help ▸ Keyboard shortcuts shows), a helper that
makes an action whose shortcut works with the menu bar hidden, and the two help dialogs."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QMessageBox, QTextBrowser, QVBoxLayout, QWidget

SHORTCUTS = [
    ("Space", "play / pause"),
    ("→ / ←, PgDn / PgUp", "step forward / back (one position of the timeline; a presenter remote)"),
    ("Home / End", "to the start / to the end"),
    ("+ / −", "faster / slower"),
    ("B", "switch between the forward and the backward pass"),
    ("L", "loop on / off"),
    ("R", "rolled / unrolled view"),
    ("G", "LSTM / GRU: show / hide the gates of every cell"),
    ("Ctrl+0", "fit the network to the window"),
    ("Ctrl++ / Ctrl+−", "zoom in / out"),
    ("F11", "presentation mode (full screen, large, high contrast)"),
    ("H", "hide / show the controls"),
    ("Esc", "leave presentation mode, or clear the selection"),
    ("Ctrl+O", "open a model file"),
    ("Ctrl+I", "open an inputs file"),
    ("Ctrl+S", "save a screenshot"),
]

ABOUT = ("<p><b>rnnviz</b>: see, step by step, what a recurrent neural network computes, "
         "forward and backward through time.</p>"
         "<p>Every number on screen comes from one recorded forward pass and one BPTT pass "
         "of a NumPy RNN.</p>")


def window_action(window: QWidget, text: str, slot: Callable, shortcuts: list[str] | str | None = None, *,
                  checkable: bool = False, tip: str | None = None) -> QAction:
    """An action of `window` calling `slot` (on toggled when checkable, else on triggered). It is
    added to the window itself, so its shortcuts work even when the menu bar is hidden."""
    a = QAction(text, window)
    if shortcuts:
        a.setShortcuts([QKeySequence(s) for s in ([shortcuts] if isinstance(shortcuts, str) else shortcuts)])
        a.setShortcutContext(Qt.WindowShortcut)
    a.setCheckable(checkable)
    if tip:
        a.setStatusTip(tip)
    (a.toggled if checkable else a.triggered).connect(slot)
    window.addAction(a)
    return a


def shortcuts_html() -> str:
    """SHORTCUTS as a two-column HTML table."""
    rows = "".join(f"<tr><td style='padding-right:16px;'><b>{k}</b></td><td>{v}</td></tr>" for k, v in SHORTCUTS)
    return f"<table cellpadding='3'>{rows}</table>"


def shortcuts_dialog(parent: QWidget) -> QDialog:
    """Help ▸ Keyboard shortcuts: the table, sized in proportion to `parent`'s font."""
    d = QDialog(parent)
    d.setWindowTitle("Keyboard shortcuts")
    lay = QVBoxLayout(d)
    text = QTextBrowser(d)
    text.setHtml(shortcuts_html())
    lay.addWidget(text)
    em = parent.fontMetrics().horizontalAdvance("M")
    d.resize(round(em * 36), round(parent.fontMetrics().height() * 24))
    return d


def show_about(parent: QWidget) -> None:
    QMessageBox.about(parent, "About rnnviz", ABOUT)
