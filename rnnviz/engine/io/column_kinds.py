"""What each column of a time-series file holds, so that an import proposes only the columns
that are values and leaves off the ones that only say *when* (dates, a row counter, years).

A column is one of
  - "values": mostly numbers (proposed; a bad cell among them is named when the import reads it);
  - "index":  it "looks like an index" and is left off unless the user chooses it:
      * dates or times written as text: ISO dates ("1949-01-31", "1949-01"), "1949/01",
        "31.01.1949", "1949Q1", "1949-W05", "12:30", month names ("Jan 1949", "January");
      * whole numbers that only go up (1, 2, 3… or 1949, 1950…), or years that never go down
        (1949 twelve times, then 1950…);
      * numbers that go up by a constant step (0.5, 1.0, 1.5… or decimal years);
  - "text":   mostly cells that are not numbers (a label column);
  - "empty":  numbers, none of them finite (all NaN / Inf).
Pure Python and NumPy; nothing is evaluated.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

_MONTHS = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE_PATTERNS = [re.compile(p, re.IGNORECASE) for p in (
    r"\d{4}[-/.]\d{1,2}([-/.]\d{1,2})?([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(z|[+-]\d{2}:?\d{2})?",  # 1949-01, 1949/01/31
    r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}([ T]\d{1,2}:\d{2}(:\d{2})?)?",  # 31.01.1949, 1/31/49
    r"\d{4}-?(w\d{1,2}|q[1-4])",  # 1949-W05, 1949Q1
    r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?",  # 12:30
    r"\d{8}T\d{4,6}z?",  # 19490131T1200
    rf"(\d{{1,4}}[-/ ]?)?{_MONTHS}([-/ ,]*\d{{1,4}})*",  # Jan 1949, 1949-Jan, 31 January 1949, January
)]
SAMPLE = 200  # cells looked at per column (spread over the whole column)
YEARS = (1000, 3000)  # whole numbers in this range that never go down are read as years


@dataclass(frozen=True)
class ColumnKind:
    """One column of a file: its name, what it holds, and why (empty for plain values)."""

    name: str
    kind: str  # "values" | "index" | "text" | "empty"
    why: str = ""

    @property
    def proposed(self) -> bool:
        """Whether an import chooses this column unless told otherwise."""
        return self.kind == "values"

    def label(self) -> str:
        """How the import dialog and the CLI name it: "Month — looks like an index: dates such as '1949-01'"."""
        return self.name if not self.why else f"{self.name} — {self.why}"


def _number(cell: str) -> float | None:
    try:
        return float(cell.strip())
    except ValueError:
        return None


def _sample(cells: Sequence[str]) -> list[str]:
    """Up to SAMPLE non-blank cells spread over the column (its start, middle and end)."""
    cells = [c for c in cells if c.strip()]
    if len(cells) <= SAMPLE:
        return cells
    step = len(cells) / SAMPLE
    return [cells[int(i * step)] for i in range(SAMPLE)]


def looks_like_date(cell: str) -> bool:
    """A date or a time written as text ("1949-01", "1949/01", "Jan 1949", "12:30")."""
    c = cell.strip()
    return any(p.fullmatch(c) for p in _DATE_PATTERNS)


def numeric_kind(name: str, values: np.ndarray) -> ColumnKind:
    """The kind of a column of numbers (n,), NaN where a cell was not a number."""
    v = np.asarray(values, dtype=np.float64)  # (n,)
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        return ColumnKind(name, "empty", "holds no finite number (all NaN or Inf)")
    if finite.size == v.size and v.size >= 3:
        d = np.diff(v)  # (n−1,)
        whole = bool(np.all(v == np.round(v)))
        rising = bool(np.all(d > 0))
        first, second = _shown(v[0]), _shown(v[1])
        if whole and rising:
            return ColumnKind(name, "index", f"looks like an index: whole numbers that only go up ({first}, {second}, …)")
        if whole and np.all(d >= 0) and YEARS[0] <= v[0] and v[-1] < YEARS[1] and v[-1] > v[0]:
            return ColumnKind(name, "index", f"looks like an index: years that never go down ({first} … {_shown(v[-1])})")
        span = float(v[-1] - v[0])
        if rising and np.allclose(d, d[0], rtol=1e-6, atol=1e-9 * max(abs(span), 1.0)):
            return ColumnKind(name, "index", f"looks like an index: goes up by a constant {_shown(d[0])} ({first}, {second}, …)")
    return ColumnKind(name, "values")


def _shown(x: float) -> str:
    return f"{int(x)}" if float(x).is_integer() and abs(x) < 1e15 else f"{x:.6g}"


def cell_kind(name: str, cells: Sequence[str]) -> ColumnKind:
    """The kind of a CSV column from its text cells (all of them; a sample is looked at for text)."""
    sample = _sample(cells)
    if not sample:
        return ColumnKind(name, "empty", "holds only empty cells")
    numbers = [_number(c) for c in sample]
    words = [c for c, x in zip(sample, numbers) if x is None]
    if len(words) * 2 > len(sample):  # mostly not numbers: dates, or a label column
        dates = sum(looks_like_date(c) for c in words)
        if dates * 10 >= len(words) * 8:
            return ColumnKind(name, "index", f"looks like an index: dates such as {words[0].strip()[:20]!r}")
        return ColumnKind(name, "text", f"holds text such as {words[0].strip()[:20]!r}, not numbers")
    column = np.array([_nan_number(c) for c in cells], dtype=np.float64)  # (n,) every cell, NaN if not a number
    if words:  # mostly numbers with a bad cell or two: the import names the cell
        kind = numeric_kind(name, column[np.isfinite(column)])
        return kind if kind.kind == "empty" else ColumnKind(name, "values")
    return numeric_kind(name, column)


def _nan_number(cell: str) -> float:
    x = _number(cell)
    return math.nan if x is None else x


def proposed_columns(kinds: Sequence[ColumnKind]) -> list[str]:
    """The names of the columns an import chooses unless told otherwise."""
    return [k.name for k in kinds if k.proposed]


def left_off(kinds: Sequence[ColumnKind]) -> str:
    """"left off 'Month' (looks like an index: dates such as '1949-01')", or "" when nothing was."""
    off = [k for k in kinds if not k.proposed]
    if not off:
        return ""
    return "left off " + "; ".join(f"{k.name!r} ({k.why})" for k in off)
