"""The window's keyboard shortcuts (the list Help ▸ Keyboard shortcuts shows), a helper that
makes an action whose shortcut works with the menu bar hidden, and the two help dialogs."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QGridLayout, QLabel, QMessageBox, QVBoxLayout,
                               QWidget)

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


# the smallest screen the app is made for (a typical projector): the list fits it whole
SMALLEST_SCREEN = QSize(1280, 720)
FRAME_ALLOWANCE = QSize(40, 80)  # the window manager's title bar and borders, and a little room


# (columns, description width in em) from the most comfortable down: the first that fits is
# used (two roomy columns at the normal font; presentation mode's 1.8× font needs narrower ones)
LAYOUTS = ((2, 17), (2, 14), (3, 12), (2, 11), (3, 10), (3, 8))


def shortcuts_grid(columns: int, em: int, wrap_em: float = 17) -> QWidget:
    """SHORTCUTS in `columns` side-by-side columns of (key, what it does) labels, filled top to
    bottom; the descriptions wrap at `wrap_em` em and the keys at 8 em, so no column grows wide."""
    grid_widget = QWidget()
    grid = QGridLayout(grid_widget)
    grid.setContentsMargins(0, 0, 0, 0)
    grid.setHorizontalSpacing(round(em * 0.8))
    grid.setVerticalSpacing(round(em * 0.35))
    rows = -(-len(SHORTCUTS) // columns)  # ceil
    for n, (keys, what) in enumerate(SHORTCUTS):
        col, row = divmod(n, rows)
        key = QLabel(f"<b>{keys}</b>")
        key.setTextFormat(Qt.RichText)
        key.setWordWrap(True)
        key.setMaximumWidth(round(em * 8))
        text = QLabel(what)
        text.setWordWrap(True)
        text.setFixedWidth(round(em * wrap_em))
        grid.addWidget(key, row, 3 * col, Qt.AlignTop)
        grid.addWidget(text, row, 3 * col + 1, Qt.AlignTop)
        if col > 0:  # a gap before each further column
            grid.setColumnMinimumWidth(3 * col - 1, round(em * 1.5))
    return grid_widget


def shortcuts_dialog(parent: QWidget, screen: QSize | None = None) -> QDialog:
    """Help ▸ Keyboard shortcuts: the whole list at once, without scrolling, in two columns (three,
    or narrower ones, when two would not fit the screen, e.g. with presentation mode's large
    font: see LAYOUTS). `screen`: the room it must fit (the parent's screen, and never more than
    the smallest one supported)."""
    d = QDialog(parent)
    d.setWindowTitle("Keyboard shortcuts")
    lay = QVBoxLayout(d)
    em = d.fontMetrics().horizontalAdvance("M")
    avail = SMALLEST_SCREEN if screen is None else screen.boundedTo(SMALLEST_SCREEN)
    room = avail - FRAME_ALLOWANCE
    buttons = QDialogButtonBox(QDialogButtonBox.Close, d)
    buttons.rejected.connect(d.reject)
    lay.addWidget(buttons)
    grid = None

    def overflow(layout: tuple[int, float]) -> float:
        """How much a layout's dialog exceeds the room (≤ 1: it fits); it stays laid out."""
        nonlocal grid
        if grid is not None:  # the last one tried did not fit: take it out for good
            lay.removeWidget(grid)
            grid.setParent(None)
            grid.deleteLater()
        grid = shortcuts_grid(layout[0], em, layout[1])
        lay.insertWidget(0, grid)
        d.ensurePolished()  # the window's style sheet (fonts, padding) applies before measuring
        hint = d.sizeHint()
        return max(hint.width() / room.width(), hint.height() / room.height())

    # the most comfortable layout that fits (left laid out); on a screen smaller than any, the
    # one that overflows it least
    if next((layout for layout in LAYOUTS if overflow(layout) <= 1.0), None) is None:
        overflow(min(LAYOUTS, key=overflow))
    d.grid = grid  # the list as laid out (tests read its columns)
    d.resize(d.sizeHint())
    return d


def show_about(parent: QWidget) -> None:
    QMessageBox.about(parent, "About rnnviz", ABOUT)
