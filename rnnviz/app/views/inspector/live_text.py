"""Showing the inspector's HTML without rebuilding the document when only numbers change.

`QTextBrowser.setHtml` parses the page and lays the whole document out again (~17 ms a frame at
H = 64 during playback). From one step to the next most pages keep their structure and only
their numbers change (the values, the step index in the headings, a strip cell's colours). So a
page is split into a *skeleton* (its tags and its digit-free text) and *slots* (every text run
with a digit in it, and every value-strip cell's text and colours). When the skeleton is the one
on screen, only the slots that changed are replaced in the document (cursor edits inside one
edit block, a table cell's background set on its format); anything else is a `setHtml`.

To find the slots in the document after a `setHtml`, each is wrapped in a named anchor
(`<a name="…">`, no href: nothing changes on screen); Qt gives the anchor name to the slot's
first character, and the slot's length is its text (Qt collapses runs of white space, and may
drop a slot's leading or trailing space: which of these it did is kept per slot).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor, QTextDocument
from PySide6.QtWidgets import QTextEdit

# A slot: the text of a value-strip cell (html.PageBuilder.strip: its background and text colour
# vary with the value, its text may be "NaN"), or any text run with a digit in it. One pass of
# one pattern finds them all (a page has a few hundred); group "text" is the slot's text.
_SLOT = re.compile(r"background-color:rgb\((?P<r>\d+),(?P<g>\d+),(?P<b>\d+)\);color:(?P<fg>#[0-9a-fA-F]{6});"
                   r"(?P<rest>[^>]*)>(?P<cell>[^<]*)<"
                   r"|>(?P<text>[^<]*\d[^<]*)<")
_SPACE = re.compile(r"\s+")
_ANCHOR = "rnnviz-slot-"


@dataclass(frozen=True)
class Slot:
    """One varying text run of a page, as the document holds it, and its cell colours if any."""

    text: str  # white space collapsed, entities resolved
    bg: tuple[int, int, int] | None = None  # a strip cell's background
    fg: str | None = None  # a strip cell's text colour


def split_page(html: str) -> tuple[str, list[Slot], str]:
    """(skeleton, slots, html with each slot wrapped in a named anchor).

    Two pages with equal skeletons differ only in their slots' texts and colours. A slot's
    leading / trailing space is part of the skeleton, since Qt treats it by its neighbours."""
    skeleton: list[str] = []
    marked: list[str] = []
    slots: list[Slot] = []
    done = 0  # html[:done] is handled
    for m in _SLOT.finditer(html):
        if m["text"] is not None:
            raw, head, bg, fg = m["text"], ">", None, None
        else:  # a strip cell: its colours leave the skeleton too
            raw = m["cell"]
            head = f"background-color:@;color:@;{m['rest']}>"
            bg, fg = (int(m["r"]), int(m["g"]), int(m["b"])), m["fg"]
        before = html[done:m.start()]
        text = unescape(_SPACE.sub(" ", raw))
        skeleton.append(f"{before}{head}\0{text[:1] == ' '}{text[-1:] == ' '}\0<")
        marked.append(f'{before}{m[0][:-1 - len(raw)]}<a name="{_ANCHOR}{len(slots)}">{raw}</a><')
        slots.append(Slot(text, bg, fg))
        done = m.end()
    skeleton.append(html[done:])
    marked.append(html[done:])
    return "".join(skeleton), slots, "".join(marked)


def _shown(text: str, lead: bool, trail: bool) -> str:
    """A slot's text as the document holds it, given which of its end spaces Qt dropped."""
    if lead and text[:1] == " ":
        text = text[1:]
    if trail and text[-1:] == " ":
        text = text[:-1]
    return text


class LiveText:
    """Shows pages in a QTextEdit, editing the numbers in place when the structure is unchanged.

    `set_html_calls` counts the full rebuilds (tests check that stepping does not cause any)."""

    def __init__(self, edit: QTextEdit) -> None:
        self.edit = edit
        # in-place edits would otherwise each add undo steps to the document, kept until the
        # next full rebuild: while training runs that grew memory without bound (issue 13)
        edit.setUndoRedoEnabled(False)
        self.set_html_calls = 0
        self._skeleton: str | None = None  # of the page in the document; None: rebuild next time
        self._slots: list[Slot] = []
        self._starts: list[int] = []  # document position of each slot
        self._lengths: list[int] = []  # its length in the document
        self._dropped: list[tuple[bool, bool]] = []  # Qt dropped its (leading, trailing) space
        self._formats: list[QTextCharFormat] = []  # its character format (anchor taken off)

    def invalidate(self) -> None:
        """The next page is set in full (e.g. after the document's font or style sheet changed)."""
        self._skeleton = None

    def show(self, html: str) -> bool:
        """Show a page; True when it was done in place."""
        skeleton, slots, marked = split_page(html)
        if skeleton == self._skeleton:
            self._update(slots)
            return True
        scroll = self.edit.verticalScrollBar().value()
        self.set_html_calls += 1
        self.edit.setHtml(marked)
        self.edit.verticalScrollBar().setValue(scroll)
        self._skeleton = skeleton if self._locate(slots) else None
        return False

    def _locate(self, slots: list[Slot]) -> bool:
        """Find every slot in the freshly set document; False if one cannot be found."""
        doc: QTextDocument = self.edit.document()
        starts: dict[int, int] = {}
        block = doc.begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                frag = it.fragment()
                for name in frag.charFormat().anchorNames():
                    if name.startswith(_ANCHOR):
                        starts[int(name[len(_ANCHOR):])] = frag.position()
                it += 1
            block = block.next()
        if len(starts) != len(slots):
            return False
        self._slots, self._starts, self._lengths, self._dropped, self._formats = list(slots), [], [], [], []
        cursor = QTextCursor(doc)
        for k, slot in enumerate(slots):
            pos = starts[k]
            block = doc.findBlock(pos)
            after = block.text()[pos - block.position():]
            for dropped in ((False, False), (True, False), (False, True), (True, True)):
                shown = _shown(slot.text, *dropped)
                if shown and after.startswith(shown):
                    break
            else:
                return False
            cursor.setPosition(pos + 1)  # the format of the character before the cursor
            fmt = cursor.charFormat()
            fmt.setAnchor(False)
            fmt.setAnchorNames([])
            self._starts.append(pos)
            self._lengths.append(len(shown))
            self._dropped.append(dropped)
            self._formats.append(fmt)
        return True

    def _update(self, slots: list[Slot]) -> None:
        """Replace the slots that changed, in one edit block (one relayout of what changed)."""
        cursor = QTextCursor(self.edit.document())
        cursor.beginEditBlock()
        shift = 0  # how far the edits so far moved the later slots
        for k, (old, new) in enumerate(zip(self._slots, slots)):
            start = self._starts[k] + shift
            self._starts[k] = start
            if new.text != old.text or new.fg != old.fg:
                text = _shown(new.text, *self._dropped[k])
                fmt = self._formats[k]
                if new.fg is not None:
                    fmt.setForeground(QColor(new.fg))
                cursor.setPosition(start)
                cursor.setPosition(start + self._lengths[k], QTextCursor.KeepAnchor)
                cursor.insertText(text, fmt)
                shift += len(text) - self._lengths[k]
                self._lengths[k] = len(text)
            if new.bg != old.bg and new.bg is not None:
                cursor.setPosition(start)
                table = cursor.currentTable()
                if table is not None:
                    cell = table.cellAt(cursor)
                    cell_fmt = cell.format()
                    cell_fmt.setBackground(QColor(*new.bg))
                    cell.setFormat(cell_fmt)
        cursor.endEditBlock()
        self._slots = list(slots)
