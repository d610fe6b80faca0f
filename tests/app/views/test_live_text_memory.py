"""The inspector's live text keeps no undo history (issue 13): every in-place number update used
to add undo steps to the QTextDocument, kept until the next full rebuild, so memory grew without
bound while training ran with the inspector open."""
from __future__ import annotations

from PySide6.QtWidgets import QTextEdit

from rnnviz.app.views.inspector.live_text import LiveText


def _page(value: float, cells: int = 40) -> str:
    row = "".join(f'<td style="background-color:rgb(10,{i},30);color:#000000;">{value + i:.4f}</td>'
                  for i in range(cells))
    return f"<html><body><table><tr>{row}</tr></table><p>step {value:.3f}</p></body></html>"


def test_in_place_updates_leave_no_undo_steps(qtbot) -> None:
    edit = QTextEdit()
    qtbot.addWidget(edit)
    live = LiveText(edit)
    assert live.show(_page(0.0)) is False  # the first page is set in full
    for k in range(1, 30):
        assert live.show(_page(k * 0.001)) is True  # then only the numbers change, in place
    assert edit.document().availableUndoSteps() == 0
    assert "0.0290" in edit.toPlainText()  # the updates did land
    live.invalidate()
    live.show(_page(1.0))  # a full rebuild keeps undo off
    live.show(_page(1.5))
    assert edit.document().availableUndoSteps() == 0
    assert "1.5000" in edit.toPlainText()
