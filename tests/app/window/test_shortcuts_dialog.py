"""The F1 shortcut list fits a 1280×720 screen whole: laid out in columns, with no scrolling
widget in it, at the normal font and at presentation mode's large one."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractScrollArea, QGridLayout, QLabel, QScrollBar, QWidget

from rnnviz.app.style.appearance import BASE_POINT_SIZE
from rnnviz.app.style.theme import font_scale
from rnnviz.app.window.actions import FRAME_ALLOWANCE, SHORTCUTS, shortcuts_dialog

SCREEN = QSize(1280, 720)


def columns_of(grid: QWidget) -> int:
    lay: QGridLayout = grid.layout()
    used = {lay.getItemPosition(i)[1] for i in range(lay.count())}
    return len({c // 3 for c in used})


@pytest.mark.parametrize("presentation", [False, True])
def test_the_shortcut_list_fits_1280_by_720_without_scrolling(qtbot, qapp, presentation):
    parent = QWidget()
    qtbot.addWidget(parent)
    # the app's font, as apply_appearance sets it (a dialog is a window: it takes the app's font)
    before = QFont(qapp.font())
    font = QFont(before)
    font.setPointSizeF(BASE_POINT_SIZE * font_scale(presentation))
    qapp.setFont(font)
    try:
        d = shortcuts_dialog(parent, SCREEN)
        qtbot.addWidget(d)
        assert d.font().pointSizeF() == pytest.approx(BASE_POINT_SIZE * font_scale(presentation))
        check_fits(qtbot, d)
    finally:
        qapp.setFont(before)


def check_fits(qtbot, d) -> None:
    hint = d.sizeHint()
    room = SCREEN - FRAME_ALLOWANCE
    assert hint.width() <= room.width() and hint.height() <= room.height(), hint
    assert columns_of(d.grid) >= 2
    assert not d.findChildren(QAbstractScrollArea) and not d.findChildren(QScrollBar)
    d.show()
    qtbot.waitExposed(d)
    # every shortcut is there, in a label drawn whole inside the dialog (nothing cut)
    labels = d.grid.findChildren(QLabel)
    texts = [w.text() for w in labels]
    for keys, what in SHORTCUTS:
        assert f"<b>{keys}</b>" in texts and what in texts
    inside = d.rect()
    for w in labels:
        r = w.geometry().translated(d.grid.pos())
        assert inside.contains(r), (w.text(), r, inside)
        assert w.height() >= w.heightForWidth(w.width()) if w.wordWrap() else w.width() >= w.sizeHint().width()


def test_the_main_window_opens_it_on_f1_laid_out_for_the_current_font(window, qtbot, session):
    def shown():
        window.show_shortcuts()
        dialogs = [c for c in window.children() if c.metaObject().className() == "QDialog" and c.isVisible()]
        assert len(dialogs) == 1
        return dialogs[0]

    d = shown()
    assert d.width() <= SCREEN.width() and d.height() <= SCREEN.height()
    normal = d.width()
    d.close()
    session.set_presentation(True)  # a larger font: the list is laid out again for it
    try:
        d = shown()
        assert d.font().pointSizeF() == pytest.approx(BASE_POINT_SIZE * font_scale(True))
        assert d.width() > normal
        # (the offscreen test screen is 800×600, too small for the large font: fitting 1280×720
        # at that font is checked above)
    finally:
        d.close()
        session.set_presentation(False)
