"""The inspector's page building, shared by the vanilla and the gated pages: how a number is
written, the `PageBuilder` that assembles a page's HTML top to bottom (value strips, worked
sums) while recording every number it shows, and the sections every cell's pages share (which
units are worked out, the backward heading, dL/dh_t as its two parts).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

import numpy as np

from rnnviz.engine import Trace
from rnnviz.app.state.playback import Frame
from rnnviz.app.state.selection import Selection
from rnnviz.app.style import colors
from rnnviz.app.style.theme import Theme

MONO = "'DejaVu Sans Mono', Menlo, Consolas, 'Courier New', monospace"
MAX_UNITS = 3  # units worked out when none is selected
MAX_CELLS = 48  # values drawn in a vector strip
STRIP_COLUMNS = 8  # default; the widget fits the count to its width


# formatting --------------------------------------------------------------------------------------
def fmt(v: float, signed: bool = False) -> str:
    """A number as shown: 4 decimals in the usual range, else scientific; a real minus sign."""
    v = float(v)
    if not np.isfinite(v):
        return "NaN" if np.isnan(v) else ("+∞" if v > 0 else "−∞")
    if v == 0:
        return "+0" if signed else "0"
    a = abs(v)
    s = f"{v:+.4f}" if 1e-3 <= a < 1e4 else f"{v:+.3e}"
    if not signed and s[0] == "+":
        s = s[1:]
    return s.replace("-", "−")


def fmt_short(v: float) -> str:
    """Three decimals, for the coloured value strips (the tables below give four)."""
    v = float(v)
    if not np.isfinite(v) or v == 0 or not 1e-3 <= abs(v) < 1e3:
        return fmt(v)
    return f"{v:.3f}".replace("-", "−")


def sub(name: str, index: object) -> str:
    """name with index as a subscript: sub("h", 3) -> h<sub>3</sub>."""
    return f"{name}<sub>{index}</sub>"


W = {"W_xh": sub("W", "xh"), "W_hh": sub("W", "hh"), "W_hy": sub("W", "hy"),
     "b_h": sub("b", "h"), "b_y": sub("b", "y")}
TRANSPOSE = "ᵀ"


# the colour scale of a whole trace array, kept: a playback frame would otherwise scan all of
# h or dL/dh (T × H values) again for every strip. Trace arrays are never changed in place (an
# edit or a training step makes a new trace), so the array itself is the key; the entry holds
# the array so its id cannot be reused while it is cached.
_SCALES: dict[int, tuple[np.ndarray, float]] = {}
_SCALES_KEPT = 32


def scale_of(array: np.ndarray) -> float:
    """colors.nice_limit(colors.symmetric_limit(array)), remembered for the array."""
    hit = _SCALES.get(id(array))
    if hit is not None and hit[0] is array:
        return hit[1]
    limit = colors.nice_limit(colors.symmetric_limit(array))
    if len(_SCALES) >= _SCALES_KEPT:
        _SCALES.pop(next(iter(_SCALES)))  # the oldest
    _SCALES[id(array)] = (array, limit)
    return limit


def theme_color(theme: Theme, which: str) -> str:
    """The theme's colour for a pass ("forward", "backward"), for a section title."""
    return getattr(theme, which)


@dataclass
class Page:
    """One rendering of the inspector: HTML and the numbers it shows."""

    html: str
    numbers: dict[str, float] = field(default_factory=dict)
    weight: str | None = None  # "W_xh" / "W_hh" / "W_hy" when a weight heatmap goes with it


class PageBuilder:
    """Small builder so the page reads top to bottom; `numbers` collects every number shown
    under a name (e.g. "h[2]"), which tests compare with the trace."""

    def __init__(self, theme: Theme, columns: int = STRIP_COLUMNS) -> None:
        self.t = theme
        self.columns = max(1, columns)
        self.parts: list[str] = []
        self.numbers: dict[str, float] = {}

    def num(self, key: str | None, v: float, signed: bool = False, color: str | None = None) -> str:
        if key is not None:
            self.numbers[key] = float(v)
        style = f"font-family:{MONO};" + (f"color:{color};" if color else "")
        return f'<span style="{style}">{fmt(v, signed)}</span>'

    def add(self, html: str) -> None:
        self.parts.append(html)

    def heading(self, html: str, note: str = "") -> None:
        self.add(f'<p style="margin:0 0 2px 0;"><span style="font-size:x-large;font-weight:bold;">{html}</span>'
                 + (f'&nbsp;&nbsp;<span style="color:{self.t.muted};">{note}</span>' if note else "") + "</p>")

    def muted(self, html: str) -> None:
        self.add(f'<p style="color:{self.t.muted};margin-top:2px;">{html}</p>')

    def section(self, title: str, color: str | None = None) -> None:
        c = color or self.t.text
        self.add(f'<p style="margin-top:10px;margin-bottom:2px;font-weight:bold;color:{c};">{title}</p>')

    def formula(self, html: str) -> None:
        self.add(f'<p style="margin-left:8px;font-size:large;">{html}</p>')

    def strip(self, key: str, values: np.ndarray, limit: float, labels: list[str] | None = None,
              sequential: bool = False) -> None:
        """A vector as a row of coloured cells with its numbers (the view's colour scale; a
        gate's sequential 0 … 1 scale when `sequential`)."""
        values = np.asarray(values, dtype=float).ravel()  # (n,)
        self.numbers.update({f"{key}[{i}]": v for i, v in enumerate(values.tolist())})
        shown = values[:MAX_CELLS]  # (m,) m <= MAX_CELLS
        # every cell's colours at once, through the scale's one lookup table
        bg = (colors.rgba_seq(shown) if sequential else colors.rgba(shown, limit))[:, :3].tolist()  # (m, 3)
        dark = colors.texts_are_dark(shown, limit, sequential).tolist()  # (m,)
        texts = [fmt_short(v) for v in shown.tolist()]
        muted = self.t.muted
        rows = []
        for start in range(0, len(shown), self.columns):
            head, cells = [], []
            for i in range(start, min(start + self.columns, len(shown))):
                r, g, b_ = bg[i]
                fg = "#1d2125" if dark[i] else "#ffffff"
                label = labels[i] if labels else str(i)
                head.append(f'<td align="center" style="color:{muted};font-size:small;">{escape(label)}</td>')
                cells.append(f'<td align="center" nowrap style="background-color:rgb({r},{g},{b_});'
                             f'color:{fg};font-family:{MONO};padding:3px 5px;">{texts[i]}</td>')
            rows.append("<tr>" + "".join(head) + "</tr><tr>" + "".join(cells) + "</tr>")
        more = (f'<p style="color:{self.t.muted};">… {len(values) - MAX_CELLS} more values not shown</p>'
                if len(values) > MAX_CELLS else "")
        self.add('<table cellspacing="2" cellpadding="0">' + "".join(rows) + "</table>" + more)

    def sum_table(self, rows: list[tuple[str, str, str]]) -> None:
        """Rows of (left side, term, value): a worked sum with the numbers in one column."""
        trs = []
        for left, term, value in rows:
            trs.append(f'<tr><td align="right" nowrap style="padding-right:6px;">{left}</td>'
                       f'<td nowrap style="padding-right:14px;">{term}</td><td align="right" nowrap>{value}</td></tr>')
        self.add('<table cellspacing="0" cellpadding="1" style="margin-left:8px;margin-bottom:6px;">'
                 + "".join(trs) + "</table>")

    def page(self, weight: str | None = None) -> Page:
        return Page("".join(self.parts), self.numbers, weight)


# sections every cell's pages share ---------------------------------------------------------------
def units_shown(selection: Selection | None, n: int) -> list[int]:
    """The units (or outputs) whose sums are worked out: the selected one, else the first few."""
    if selection is not None and selection.unit is not None and 0 <= selection.unit < n:
        return [selection.unit]
    return list(range(min(MAX_UNITS, n)))


def units_note(units: list[int], n: int, what: str = "unit") -> str:
    """Which of the n units (or outputs) the sums below are for, and how to choose another."""
    if len(units) == 1 and n > 1:
        return f"{what} {units[0]} of {n}"
    if len(units) == n:
        return f"all {n} {what}s"
    article = "an" if what[0] in "aeio" else "a"  # a unit, an output
    return f"{what}s {units[0]}–{units[-1]} of {n} (click {article} {what} in the view to choose one)"


def backward_heading(b: PageBuilder, tr: Trace, t: int, frame: Frame) -> bool:
    """The backward section's heading and its caveats; False when there is nothing to show."""
    b.section("Backward (BPTT)", theme_color(b.t, "backward"))
    if tr.targets is None:
        b.muted("No targets, so no loss and no gradients.")
        return False
    if t < frame.backward_from:
        b.muted(f"The backward pass has not reached step {t} yet (it is at step {frame.active}); "
                "these are the values it will find.")
    return True


def dh_parts(b: PageBuilder, tr: Trace, t: int, units: list[int], dh: str) -> None:
    """dL/dh_t per unit as its two parts, from y_t and from step t+1 (any cell), and why the
    second is zero where it is."""
    T = tr.T
    if t == T:
        b.muted(f"step {T} is the last: nothing arrives from the future")
    elif tr.tbptt and t % tr.tbptt == 0:
        b.muted(f"truncated BPTT (k = {tr.tbptt}): the gradient from step {t + 1} is cut here")
    for j in units:
        out, fut, total = tr.dL_dh_out[t - 1, 0, j], tr.dL_dh_future[t - 1, 0, j], tr.dL_dh[t - 1, 0, j]
        b.sum_table([
            (f"{dh}[{j}] =", f"from {sub('y', t)}", b.num(f"dL_dh_out[{j}]", out, True)),
            ("+", f"from step {t + 1}" if t < T else "from the future", b.num(f"dL_dh_future[{j}]", fut, True)),
            ("=", "", "<b>" + b.num(f"dL_dh[{j}]", total, True) + "</b>"),
        ])
