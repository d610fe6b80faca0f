"""Memory under random use (issue 13): toggling presentation mode or the theme again and again
leaves the same Qt and pyqtgraph objects alive, and draws no new symbols into the scatter
plots' picture atlases. Counts of live objects, never timings or the resident set size."""
from __future__ import annotations

import gc
from collections import Counter

import pyqtgraph as pg
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QGraphicsItem


def live_counts() -> Counter:
    """Live Python objects per type, for the types of Qt, pyqtgraph and rnnviz."""
    gc.collect()
    counts: Counter = Counter()
    for o in gc.get_objects():
        t = type(o)  # never isinstance(o, ...): it reads o.__class__, which some lazy modules warn on
        module = t.__module__ if isinstance(t.__module__, str) else ""
        if issubclass(t, (QObject, QGraphicsItem)) or module.startswith(("pyqtgraph", "rnnviz")):
            counts[f"{module}.{t.__qualname__}"] += 1
    return counts


def atlas_symbols() -> int:
    """Symbols drawn into every scatter plot's atlas (pyqtgraph keys them by pen and brush
    object: a new object per restyle is a new symbol, kept)."""
    return sum(len(o.fragmentAtlas) for o in gc.get_objects() if issubclass(type(o), pg.ScatterPlotItem))


def settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


def grown(before: Counter, after: Counter) -> dict[str, int]:
    return {k: after[k] - before[k] for k in after if after[k] > before[k]}


def test_fifty_presentation_toggles_leave_no_objects_and_no_symbols_behind(window):
    for _ in range(4):  # warm-up: whatever is made once, on first use
        window.presentation_action.trigger()
        settle()
    before, symbols = live_counts(), atlas_symbols()
    for _ in range(50):
        window.presentation_action.trigger()
        settle()
    assert not window.session.presentation
    assert grown(before, live_counts()) == {}
    assert atlas_symbols() == symbols


def test_fifty_theme_changes_leave_no_objects_and_no_symbols_behind(window):
    names = list(window.theme_actions)
    assert len(names) >= 2
    for name in names * 2:  # warm-up: every theme once (its pens, brushes and symbols)
        window.theme_actions[name].trigger()
        settle()
    before, symbols = live_counts(), atlas_symbols()
    for i in range(50 - 50 % len(names)):
        window.theme_actions[names[i % len(names)]].trigger()
        settle()
    assert window.session.theme == names[-1]
    assert grown(before, live_counts()) == {}
    assert atlas_symbols() == symbols
