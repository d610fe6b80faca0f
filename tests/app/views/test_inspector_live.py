"""The inspector edits its numbers in place when only the step changes (no `setHtml`), and what
it then shows is what a full rebuild would show: the same text, the same strip-cell colours, and
`Inspector.numbers` equal to the trace."""
from __future__ import annotations

import pytest
from PySide6.QtGui import QTextCursor, QTextDocument

from rnnviz.app.state.selection import Selection
from rnnviz.app.views.inspector.live_text import split_page


def _cells(doc: QTextDocument) -> list[tuple[str, str, str]]:
    """(text, background, text colour) of every block, the backgrounds of table cells included."""
    out = []
    block = doc.begin()
    while block.isValid():
        cursor = QTextCursor(block)
        table = cursor.currentTable()
        bg = table.cellAt(cursor).format().background().color().name() if table is not None else ""
        it = block.begin()
        fg = it.fragment().charFormat().foreground().color().name() if not it.atEnd() else ""
        out.append((block.text(), bg, fg))
        block = block.next()
    return out


def _same_as_a_rebuild(inspector) -> None:
    fresh = QTextDocument()
    fresh.setHtml(split_page(inspector.page.html)[2])
    shown = inspector.text.document()
    assert shown.toPlainText() == fresh.toPlainText()
    assert _cells(shown) == _cells(fresh)


@pytest.fixture
def set_html_calls(window, monkeypatch):
    """How many times the inspector's text was rebuilt with setHtml (a list, appended to)."""
    calls = []
    text = window.inspector.text
    real = text.setHtml
    monkeypatch.setattr(text, "setHtml", lambda html: (calls.append(html), real(html)))
    return calls


@pytest.mark.parametrize("mode", ["forward", "backward"])
def test_playback_steps_edit_the_numbers_in_place(window, session, set_html_calls, mode):
    insp, tr = window.inspector, session.trace
    session.go_to(mode, 3)  # the page of this step may be set in full
    before = len(set_html_calls)
    for step in (4, 5, 9, 17, 16, 2, 11, tr.T - 1):
        session.go_to(mode, step)
        assert insp.current == Selection("h", step)
        for j in range(3):
            assert insp.numbers[f"h[{j}]"] == tr.h[step, 0, j]
            assert insp.numbers[f"a[{j}]"] == tr.a[step - 1, 0, j]
        if mode == "backward":
            assert insp.numbers["dL_dh[0]"] == tr.dL_dh[step - 1, 0, 0]
        _same_as_a_rebuild(insp)
    assert len(set_html_calls) == before  # never rebuilt: only numbers changed
    session.go_to(mode, tr.T)  # the last step's page says more (nothing from the future)
    assert insp.numbers["h[0]"] == tr.h[tr.T, 0, 0]
    _same_as_a_rebuild(insp)


def test_a_new_page_kind_is_set_in_full_and_then_edited(window, session, set_html_calls):
    insp, tr = window.inspector, session.trace
    session.go_to("forward", 6)
    before = len(set_html_calls)
    session.select(Selection("W_hh", 6))
    assert len(set_html_calls) == before + 1
    assert insp.numbers["max"] == tr.params["W_hh"].max()
    _same_as_a_rebuild(insp)
    session.select(Selection("y", 4))
    assert insp.numbers["y[0]"] == tr.y[3, 0, 0]
    _same_as_a_rebuild(insp)
    session.select(Selection("h", 7, unit=5))
    assert insp.numbers["h[5]"] == tr.h[7, 0, 5] and "a[0]" not in insp.numbers
    _same_as_a_rebuild(insp)
    rebuilt = len(set_html_calls)
    for t in (8, 12, 3, 20):  # the same page at other steps: numbers only
        session.select(Selection("h", t, unit=5))
        assert insp.numbers["a[5]"] == tr.a[t - 1, 0, 5]
        _same_as_a_rebuild(insp)
    assert len(set_html_calls) == rebuilt
    session.select(None)  # back to following the playback
    session.go_to("forward", 9)
    assert insp.numbers["h[1]"] == tr.h[9, 0, 1]
    _same_as_a_rebuild(insp)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_pages_stay_equal_to_the_trace(window, session, set_html_calls, cell):
    session.set_config(task="echo", cell=cell)
    insp, tr = window.inspector, session.trace
    gate = "f" if cell == "lstm" else "z"
    for t in (2, 3, 5, 4):
        session.select(Selection(f"gate:{gate}", t, 1))
        assert insp.numbers[f"{gate}[1]"] == tr.gates[gate][t - 1, 0, 1]
        _same_as_a_rebuild(insp)
    session.select(None)
    for mode in ("forward", "backward"):
        for step in (2, 5, 3):
            session.go_to(mode, step)
            assert insp.numbers["h[0]"] == tr.h[step, 0, 0]
            _same_as_a_rebuild(insp)


def test_split_page_keeps_structure_and_finds_the_numbers():
    a = '<p>step 5 of 100</p><td align="center" nowrap style="background-color:rgb(1,2,3);color:#ffffff;">0.5</td>'
    b = '<p>step 6 of 100</p><td align="center" nowrap style="background-color:rgb(9,9,9);color:#1d2125;">NaN</td>'
    skel_a, slots_a, marked = split_page(a)
    skel_b, slots_b, _ = split_page(b)
    assert skel_a == skel_b
    assert [s.text for s in slots_a] == ["step 5 of 100", "0.5"]
    assert slots_b[1].bg == (9, 9, 9) and slots_b[1].fg == "#1d2125"
    assert '<a name="rnnviz-slot-1">0.5</a>' in marked
    assert split_page("<p>Forward</p>")[0] != split_page("<p>Backward</p>")[0]  # digit-free text: structure


def test_texts_are_dark_matches_the_per_value_rule():
    import numpy as np

    from rnnviz.app.style import colors

    v = np.array([-3.0, -1.0, 0.0, 0.5, 1.09, 1.11, 0.61, 0.63, np.nan, np.inf, -np.inf])  # (11,)
    assert colors.texts_are_dark(v, 2.0).tolist() == [colors.text_is_dark(x, 2.0) for x in v]
    assert colors.texts_are_dark(v, 2.0, sequential=True).tolist() == [colors.seq_text_is_dark(x) for x in v]


@pytest.mark.parametrize("mode", ["forward", "backward"])
def test_edited_in_place_looks_like_a_rebuild(window, session, mode):
    insp = window.inspector
    session.go_to(mode, 5)
    before = insp.text.viewport().grab().toImage()
    session.go_to(mode, 9)  # edited in place
    edited = insp.text.viewport().grab().toImage()
    assert edited != before  # the numbers on screen did change
    insp.live.invalidate()
    insp.refresh()  # the same page, set in full
    assert insp.text.viewport().grab().toImage() == edited
