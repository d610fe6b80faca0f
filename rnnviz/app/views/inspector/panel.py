"""The inspector: what the selected node or arrow holds, and the formula that produced it with the
numbers of that step filled in.

Every number comes from `session.trace`. The only arithmetic here is splitting a sum into its
displayed parts (x_t·W_xh[:,j], h_{t−1}·W_hh[:,j], b_h[j]); the total shown beside them is
the trace's own value. The numbers of the last rendering are kept in `Inspector.numbers`
(name -> float) so tests can compare them with the trace.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QSizePolicy, QTextBrowser, QVBoxLayout, QWidget

from rnnviz.engine import Trace
from rnnviz.engine.activations import derivative, formula
from rnnviz.app.style import colors
from rnnviz.app.state.playback import Frame
from rnnviz.app.views.plots.base import integer_ticks
from rnnviz.app.state.session import Selection, Session
from rnnviz.app.style.theme import Theme, font_scale, theme_for

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
    return f"{name}<sub>{index}</sub>"


W = {"W_xh": sub("W", "xh"), "W_hh": sub("W", "hh"), "W_hy": sub("W", "hy"),
     "b_h": sub("b", "h"), "b_y": sub("b", "y")}
TRANSPOSE = "ᵀ"


@dataclass
class Page:
    """One rendering of the inspector: HTML and the numbers it shows."""

    html: str
    numbers: dict[str, float] = field(default_factory=dict)
    weight: str | None = None  # "W_xh" / "W_hh" / "W_hy" when a weight heatmap goes with it


class _Html:
    """Small builder so the page reads top to bottom."""

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
        values = np.asarray(values, dtype=float).ravel()
        for i, v in enumerate(values):
            self.numbers[f"{key}[{i}]"] = float(v)
        shown = values[:MAX_CELLS]
        rows = []
        for start in range(0, len(shown), self.columns):
            head, cells = [], []
            for i in range(start, min(start + self.columns, len(shown))):
                v = shown[i]
                bg = colors.rgba_seq(np.array([v]))[0] if sequential else colors.rgba(np.array([v]), limit)[0]
                dark = colors.seq_text_is_dark(v) if sequential else colors.text_is_dark(v, limit)
                fg = "#1d2125" if dark else "#ffffff"
                label = labels[i] if labels else str(i)
                head.append(f'<td align="center" style="color:{self.t.muted};font-size:small;">{escape(label)}</td>')
                cells.append(f'<td align="center" nowrap style="background-color:rgb({bg[0]},{bg[1]},{bg[2]});'
                             f'color:{fg};font-family:{MONO};padding:3px 5px;">{fmt_short(v)}</td>')
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


# what to show ------------------------------------------------------------------------------------
def _units(selection: Selection | None, n: int) -> list[int]:
    if selection is not None and selection.unit is not None and 0 <= selection.unit < n:
        return [selection.unit]
    return list(range(min(MAX_UNITS, n)))


def _units_note(units: list[int], n: int, what: str = "unit") -> str:
    if len(units) == 1 and n > 1:
        return f"{what} {units[0]} of {n}"
    if len(units) == n:
        return f"all {n} {what}s"
    article = "an" if what[0] in "aeio" else "a"  # a unit, an output
    return f"{what}s {units[0]}–{units[-1]} of {n} (click {article} {what} in the view to choose one)"


def page_for(trace: Trace, selection: Selection, frame: Frame, theme: Theme, vocab: str | None = None,
             columns: int = STRIP_COLUMNS) -> Page:
    """The inspector's page for a selection (kind and 1-based step t) at a playback frame."""
    b = _Html(theme, columns)
    t = max(0, min(selection.t, trace.T))
    kind = selection.kind
    if trace.cell != "rnn" and kind not in ("x", "y", "W_hy"):
        from rnnviz.app.views.inspector.gated import gated_page

        return gated_page(b, trace, selection, t, frame)
    if kind == "h":
        _hidden(b, trace, selection, t, frame)
    elif kind == "x":
        _input(b, trace, max(t, 1), vocab)
    elif kind == "y":
        _output(b, trace, selection, max(t, 1), frame, vocab)
    elif kind in ("W_xh", "W_hh", "W_hy"):
        _weight(b, trace, kind, max(t, 1), frame)
        return b.page(weight=kind)
    else:
        b.heading(escape(kind))
        b.muted("Nothing to show for this item.")
    return b.page()


def _hidden(b: _Html, tr: Trace, sel: Selection, t: int, frame: Frame) -> None:
    H = tr.hidden_size
    h_lim = colors.nice_limit(colors.symmetric_limit(tr.h))  # the view's scale
    if t == 0:
        b.heading(sub("h", 0), "initial hidden state")
        b.muted(f"shape ({H},) · where every sequence starts; not trained")
        b.strip("h", tr.h[0, 0], h_lim)
        return
    f = formula(tr.activation)
    b.heading(sub("h", t), f"hidden state at step {t} of {tr.T}")
    b.muted(f"shape ({H},) · values of {sub('h', t)}")
    b.strip("h", tr.h[t, 0], h_lim)
    units = _units(sel, H)
    if frame.mode == "backward":  # what the animation is showing comes first
        _hidden_gradient(b, tr, t, units, frame)
    b.section("Forward", theme_color(b.t, "forward"))
    b.formula(f"{sub('h', t)} = {f}({sub('x', t)}·{W['W_xh']} + {sub('h', t - 1)}·{W['W_hh']} + {W['b_h']})")
    b.muted(_units_note(units, H))
    if not tr.input_mask[t - 1]:
        b.muted(f"{sub('x', t)} = 0 at this step: the {tr.architecture} network gets no input here")
    p = tr.params
    for j in units:
        xw = float(tr.x[t - 1, 0] @ p["W_xh"][:, j])  # the displayed parts of the sum
        hw = float(tr.h[t - 1, 0] @ p["W_hh"][:, j])
        bias = float(p["b_h"][j])
        a = tr.a[t - 1, 0, j]
        h = tr.h[t, 0, j]
        b.numbers[f"xW[{j}]"], b.numbers[f"hW[{j}]"], b.numbers[f"b[{j}]"] = xw, hw, bias
        a_j, h_j = f"{sub('a', t)}[{j}]", f"{sub('h', t)}[{j}]"
        b.sum_table([
            (f"{a_j} =", f"Σ {sub('x', t)}·{W['W_xh']}[:,{j}]", b.num(None, xw, True)),
            ("+", f"Σ {sub('h', t - 1)}·{W['W_hh']}[:,{j}]", b.num(None, hw, True)),
            ("+", f"{W['b_h']}[{j}]", b.num(None, bias, True)),
            ("=", "", "<b>" + b.num(f"a[{j}]", a, True) + "</b>"),
            (f"{h_j} =", f"{f}({b.num(None, a)})", "<b>" + b.num(f"h[{j}]", h, True) + "</b>"),
        ])


def _backward_heading(b: _Html, tr: Trace, t: int, frame: Frame) -> bool:
    """The backward section's heading and its caveats; False when there is nothing to show."""
    b.section("Backward (BPTT)", theme_color(b.t, "backward"))
    if tr.targets is None:
        b.muted("No targets, so no loss and no gradients.")
        return False
    if t < frame.backward_from:
        b.muted(f"The backward pass has not reached step {t} yet (it is at step {frame.active}); "
                "these are the values it will find.")
    return True


def _dh_parts(b: _Html, tr: Trace, t: int, units: list[int], dh: str) -> None:
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


def _hidden_gradient(b: _Html, tr: Trace, t: int, units: list[int], frame: Frame) -> None:
    T = tr.T
    if not _backward_heading(b, tr, t, frame):
        return
    dh = f"dL/d{sub('h', t)}"
    future = f"dL/d{sub('a', t + 1)}·{W['W_hh']}{TRANSPOSE}" if t < T else "0"
    b.formula(f"{dh} = dL/d{sub('y', t)}·{W['W_hy']}{TRANSPOSE} + {future}")
    _dh_parts(b, tr, t, units, dh)
    fprime = derivative(tr.activation, tr.a[t - 1, 0], tr.h[t, 0])  # (H,) f'(a_t), for display
    f = formula(tr.activation)
    b.formula(f"dL/d{sub('a', t)} = {dh} ⊙ {f}′({sub('a', t)})")
    for j in units:
        b.sum_table([
            (f"dL/d{sub('a', t)}[{j}] =", f"{b.num(None, tr.dL_dh[t - 1, 0, j])} × {f}′ {b.num(f'fprime[{j}]', fprime[j])}",
             "<b>" + b.num(f"dL_da[{j}]", tr.dL_da[t - 1, 0, j], True) + "</b>"),
        ])
    b.muted(f"all of dL/d{sub('h', t)}:")
    b.strip("dL_dh", tr.dL_dh[t - 1, 0], colors.nice_limit(colors.symmetric_limit(tr.dL_dh)))


def _input(b: _Html, tr: Trace, t: int, vocab: str | None) -> None:
    I = tr.x.shape[2]
    x = tr.x[t - 1, 0]
    note = f"input at step {t} of {tr.T}"
    labels = list(vocab) if vocab and len(vocab) == I else None
    if labels and np.count_nonzero(x) == 1 and x.max() == 1:
        note += f' · the character “{escape(vocab[int(np.argmax(x))])}” (one-hot)'
    b.heading(sub("x", t), note)
    b.muted(f"shape ({I},)")
    b.strip("x", x, colors.nice_limit(colors.symmetric_limit(tr.x)), labels)
    if not tr.input_mask[t - 1]:
        b.muted(f"The {tr.architecture} network gets no input at this step: it is fed zeros.")
    if tr.cell == "rnn":
        b.formula(f"enters {sub('a', t)} through {W['W_xh']}: {sub('x', t)}·{W['W_xh']}")
    else:
        gates = ("i", "f", "g", "o") if tr.cell == "lstm" else ("r", "z", "n")
        b.formula(f"enters every gate of the {tr.cell.upper()} through its own matrix: "
                  + ", ".join(f"{sub('x', t)}·{sub('W', 'x' + g)}" for g in gates))


def _output(b: _Html, tr: Trace, sel: Selection, t: int, frame: Frame, vocab: str | None) -> None:
    O = tr.y.shape[2]
    p = tr.params
    ce = tr.loss_name == "cross-entropy"
    b.heading(sub("y", t), f"output at step {t} of {tr.T}" + (" (logits)" if ce else ""))
    b.muted(f"shape ({O},)")
    labels = list(vocab) if vocab and len(vocab) == O else None
    b.strip("y", tr.y[t - 1, 0], colors.nice_limit(colors.symmetric_limit(tr.y)), labels)
    b.section("Forward", theme_color(b.t, "forward"))
    b.formula(f"{sub('y', t)} = {sub('h', t)}·{W['W_hy']} + {W['b_y']}")
    units = _units(sel, O)
    b.muted(_units_note(units, O, "output"))
    for k in units:
        hw = float(tr.h[t, 0] @ p["W_hy"][:, k])
        bias = float(p["b_y"][k])
        b.numbers[f"hW[{k}]"], b.numbers[f"b[{k}]"] = hw, bias
        b.sum_table([
            (f"{sub('y', t)}[{k}] =", f"Σ {sub('h', t)}·{W['W_hy']}[:,{k}]", b.num(None, hw, True)),
            ("+", f"{W['b_y']}[{k}]", b.num(None, bias, True)),
            ("=", "", "<b>" + b.num(f"y[{k}]", tr.y[t - 1, 0, k], True) + "</b>"),
        ])
    has_target = bool(tr.target_mask[t - 1]) and tr.targets is not None
    if ce and tr.probs is not None:
        b.formula(f"{sub('p', t)} = softmax({sub('y', t)})")
        target = int(tr.targets[t - 1, 0]) if has_target else None
        rows = []
        for k in range(min(O, MAX_CELLS)):
            name = escape(labels[k]) if labels else str(k)
            mark = "<b>target</b> →" if k == target else ""
            rows.append((f"{sub('p', t)}[{name}]", mark, b.num(f"p[{k}]", tr.probs[t - 1, 0, k])))
        b.sum_table(rows)
        if has_target:
            b.formula(f"loss at step {t} = −log {sub('p', t)}[target] = {b.num('loss_t', tr.loss_t[t - 1])}")
    elif has_target:
        tgt = tr.targets[t - 1, 0]
        for k in range(min(O, MAX_CELLS)):
            b.numbers[f"target[{k}]"] = float(tgt[k])
        if O == 1:
            shown = b.num(None, tgt[0])
        else:
            tstr = ", ".join(fmt(v) for v in tgt[:MAX_CELLS])
            shown = f'<span style="font-family:{MONO};">({tstr})</span>'
        b.formula(f"target = {shown}")
        b.formula(f"loss at step {t} = mean(({sub('y', t)} − target)²) = {b.num('loss_t', tr.loss_t[t - 1])}")
    if not has_target:
        b.muted("No target at this step" + (f" (a {tr.architecture} network is only scored at the end)"
                                            if tr.architecture == "many-to-one" else "") + ".")
    if frame.mode == "backward" and tr.targets is not None:
        b.section("Backward (BPTT)", theme_color(b.t, "backward"))
        what = f"{sub('p', t)} − onehot(target), over the number of scored steps" if ce else \
            f"2({sub('y', t)} − target) / n"
        b.formula(f"dL/d{sub('y', t)} = {what}")
        b.strip("dL_dy", tr.dL_dy[t - 1, 0], colors.nice_limit(colors.symmetric_limit(tr.dL_dy)), labels)


_WEIGHT_TEXT = {
    "W_xh": ("input → hidden", "x", "a", 0),
    "W_hh": ("hidden → hidden (the recurrence)", "h", "a", -1),
    "W_hy": ("hidden → output", "h", "y", 0),
}


def _weight(b: _Html, tr: Trace, kind: str, t: int, frame: Frame) -> None:
    Wm = tr.params[kind]
    what, src, dst, shift = _WEIGHT_TEXT[kind]
    rows, cols = Wm.shape
    b.heading(W[kind], f"{what} · shape ({rows}×{cols})")
    b.muted(f"One matrix, shared by all {tr.T} steps: every arrow labelled {W[kind]} in the view is a copy of it. "
            f"This copy is at step {t}.")
    src_t = t + shift if src == "h" else t
    b.formula(f"at step {t} it carries {sub(src, src_t)}·{W[kind]} into {sub(dst, t)}")
    b.numbers["norm"] = float(np.linalg.norm(Wm))
    b.add(f"<p>‖{W[kind]}‖ = {b.num(None, np.linalg.norm(Wm))} · range {b.num('min', Wm.min())} … "
          f"{b.num('max', Wm.max())}</p>")
    if tr.targets is not None:
        g = tr.grads[f"grad_{kind}"]
        per_step = tr.step_grad_norms[kind]
        b.section("Gradient", theme_color(b.t, "backward"))
        b.formula(f"dL/d{W[kind]} = Σ<sub>t</sub> (contribution of step t)")
        b.add(f"<p>‖dL/d{W[kind]}‖ = {b.num('grad_norm', np.linalg.norm(g))} · "
              f"step {t} contributes ‖…‖ = {b.num('step_grad_norm', per_step[t - 1])}</p>")
        if frame.mode == "backward" and t < frame.backward_from:
            b.muted(f"The backward pass has not reached step {t} yet.")
    b.muted("Heat maps below: the matrix, its gradient, and each step's contribution (this step highlighted).")


def theme_color(theme: Theme, which: str) -> str:
    return getattr(theme, which)


# the widget --------------------------------------------------------------------------------------
class Inspector(QWidget):
    """Dock panel: follows the selection, or the playback's active h_t when nothing is selected."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.numbers: dict[str, float] = {}
        self.current: Selection | None = None  # what is shown (the selection or the active h_t)
        self.page: Page | None = None
        self._columns_shown = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        self.text = QTextBrowser(self)
        self.text.setOpenLinks(False)
        self.text.setObjectName("inspectorText")
        layout.addWidget(self.text, 1)
        self.plots = pg.GraphicsLayoutWidget(self)
        self.plots.setObjectName("inspectorPlots")
        self.plots.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.plots.setMinimumHeight(self.fontMetrics().height() * 14)
        layout.addWidget(self.plots, 1)
        self._build_plots()
        self.plots.hide()
        for sig in (session.networkChanged, session.traceChanged, session.appearanceChanged):
            sig.connect(self.refresh)
        session.selectionChanged.connect(lambda _s: self.refresh())
        session.positionChanged.connect(lambda _p: self.refresh())
        self.refresh()

    def _build_plots(self) -> None:
        self.weight_label = self.plots.addLabel("", row=0, col=0)
        self.grad_label = self.plots.addLabel("", row=0, col=1)
        self.weight_box = self.plots.addViewBox(row=1, col=0, lockAspect=True, invertY=True, enableMouse=False)
        self.grad_box = self.plots.addViewBox(row=1, col=1, lockAspect=True, invertY=True, enableMouse=False)
        self.weight_image = pg.ImageItem(axisOrder="row-major")
        self.grad_image = pg.ImageItem(axisOrder="row-major")
        for img in (self.weight_image, self.grad_image):
            img.setLookupTable(colors.LUT)
        self.weight_box.addItem(self.weight_image)
        self.grad_box.addItem(self.grad_image)
        self.steps_plot = self.plots.addPlot(row=2, col=0, colspan=2)
        self.steps_plot.setMouseEnabled(False, False)
        self.steps_plot.hideButtons()
        self.steps_plot.setMenuEnabled(False)
        self.steps_plot.setLabel("bottom", "step t")
        self.steps_bars = pg.BarGraphItem(x=[], height=[], width=0.8)
        self.steps_active = pg.BarGraphItem(x=[], height=[], width=0.8)
        self.steps_plot.addItem(self.steps_bars)
        self.steps_plot.addItem(self.steps_active)
        self.plots.ci.layout.setRowStretchFactor(1, 3)
        self.plots.ci.layout.setRowStretchFactor(2, 2)

    # drawing -----------------------------------------------------------------------------------
    def shown_selection(self) -> Selection | None:
        s = self.session
        if s.trace is None:
            return None
        if s.selection is not None:
            return s.selection
        return Selection("h", s.frame.active)  # follow the playback

    def refresh(self) -> None:
        s = self.session
        theme = theme_for(s.theme, s.presentation)
        sel = self.shown_selection()
        self.current = sel
        if sel is None or s.trace is None:
            self.page = Page("<p>No network.</p>")
        else:
            vocab = s.task.vocab if (s.task is not None and s.source == "task") else None
            self.page = page_for(s.trace, sel, s.frame, theme, vocab, self._strip_columns())
            if s.selection is None:
                self.page.html = (f'<p style="color:{theme.muted};font-size:small;">Following the playback. '
                                  "Click a node or an arrow to inspect it.</p>" + self.page.html)
        self.numbers = self.page.numbers
        self._columns_shown = self._strip_columns()
        font, sheet = QFont(self.font()), f"body {{ color: {theme.text}; }}"
        if (font, sheet) != getattr(self, "_doc_style", None):  # each costs a relayout: only on change
            self._doc_style = (font, sheet)
            self.text.document().setDefaultFont(font)
            self.text.document().setDefaultStyleSheet(sheet)
            self._html_shown = None
        if self.page.html != getattr(self, "_html_shown", None):  # e.g. only the cursor moved elsewhere
            self._html_shown = self.page.html
            scroll = self.text.verticalScrollBar().value()
            self.text.setHtml(self.page.html)
            self.text.verticalScrollBar().setValue(scroll)
        self._draw_weight(self.page.weight, sel, theme)

    def _strip_columns(self) -> int:
        from PySide6.QtGui import QFontMetrics

        mono = QFont(self.font())
        mono.setFamilies(["DejaVu Sans Mono", "Menlo", "Consolas", "Courier New"])
        cell = QFontMetrics(mono).horizontalAdvance("−0.000") + round(QFontMetrics(mono).height() * 0.75)
        width = self.text.viewport().width() - self.fontMetrics().height() * 2
        return max(3, min(12, width // max(cell, 1)))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        if self.page is not None and self._columns_shown != self._strip_columns():
            self.refresh()

    def _draw_weight(self, kind: str | None, sel: Selection | None, theme: Theme) -> None:
        tr = self.session.trace
        layout = self.layout()
        if kind is None or tr is None or sel is None:
            self.plots.hide()
            layout.setStretch(0, 1)
            return
        layout.setStretch(0, 2)
        layout.setStretch(1, 3)
        self.plots.show()
        self.plots.setBackground(theme.background)
        scale = font_scale(self.session.presentation)
        size = f"{round(10 * scale)}pt"
        name = kind  # W_xh / W_hh / W_hy, or a gated cell's own matrix (W_hg, W_xn, ...)
        Wm = tr.params[kind]
        lim = colors.nice_limit(colors.symmetric_limit(Wm))
        self.weight_label.setText(f"{name}   (±{lim:g})", color=theme.text, size=size)
        self.weight_image.setImage(Wm, levels=(-lim, lim), autoLevels=False)
        g = tr.grads[f"grad_{kind}"] if tr.targets is not None else np.zeros_like(Wm)
        glim = colors.nice_limit(colors.symmetric_limit(g))
        self.grad_label.setText(f"dL/d{name}   (±{glim:.2g})", color=theme.text, size=size)
        self.grad_image.setImage(g, levels=(-glim, glim), autoLevels=False)
        for box in (self.weight_box, self.grad_box):
            box.autoRange(padding=0.02)
        per_step = tr.step_grad_norms[kind] if tr.targets is not None else np.zeros(tr.T)
        steps = np.arange(1, tr.T + 1)
        t = max(1, min(sel.t, tr.T))
        others = per_step.copy()
        others[t - 1] = 0
        self.steps_bars.setOpts(x=steps, height=others, width=0.8, brush=theme.muted, pen=None)
        self.steps_active.setOpts(x=[t], height=[per_step[t - 1]], width=0.8, brush=theme.highlight, pen=None)
        self.steps_plot.setTitle(f"‖contribution of each step to dL/d{name}‖", color=theme.text, size=size)
        font = QFont(self.font())
        for ax in ("left", "bottom"):
            axis = self.steps_plot.getAxis(ax)
            axis.setPen(theme.muted)
            axis.setTextPen(theme.text)
            axis.setStyle(tickFont=font)
        self.steps_plot.setXRange(0.4, tr.T + 0.6, padding=0)
        integer_ticks(self.steps_plot, tr.T)  # steps are whole numbers: no tick at t = 1.5
        self.steps_plot.setYRange(0, max(float(per_step.max(initial=0)), 1e-12) * 1.05, padding=0)
