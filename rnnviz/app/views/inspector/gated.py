"""The inspector's pages for gated cells (LSTM, GRU): each gate's formula with the numbers of the
selected step and unit, the cell state, and the gradients the engine recorded.

As for the vanilla cell, every total shown is the trace's own value; the only arithmetic here
splits a pre-activation into its displayed parts (x_t·W_x•[:,j], h_{t−1}·W_h•[:,j], b_•[j]).
Numbers land in `Page.numbers` under names such as "f.pre[2]", "f[2]", "c[2]", "h[2]".
"""
from __future__ import annotations

from html import escape

import numpy as np

from rnnviz.engine import Trace
from rnnviz.engine.analysis import spectral_radius
from rnnviz.app.state.playback import Frame
from rnnviz.app.state.selection import Selection
from rnnviz.app.views.inspector.html import (
    scale_of,
    TRANSPOSE, Page, PageBuilder, backward_heading, dh_parts, sub, theme_color, units_note, units_shown,
)

SIGMOID_GATES = ("i", "f", "o", "r", "z")  # the others (g, n) are tanh
GATE_WORDS = {
    "i": "input gate: how much new content is written into c",
    "f": "forget gate: how much of c<sub>t−1</sub> is kept",
    "g": "candidate content (tanh), what the input gate writes",
    "o": "output gate: how much of tanh(c) is shown in h",
    "r": "reset gate: how much of h<sub>t−1</sub> the candidate may use",
    "z": "update gate: how much of h<sub>t−1</sub> is kept (1 − z of the candidate)",
    "n": "candidate state (tanh)",
}
CANDIDATE = {"lstm": "g", "gru": "n"}


def gate_names(trace: Trace) -> tuple[str, ...]:
    """The cell's gates in the order the pages show them."""
    return ("i", "f", "g", "o") if trace.cell == "lstm" else ("r", "z", "n")


def _w(name: str) -> str:
    """W_xf -> W<sub>xf</sub>, b_xn -> b<sub>xn</sub>."""
    base, _, s = name.partition("_")
    return sub(base, s)


def _bias(trace: Trace, g: str) -> str:
    return "b_xn" if (trace.cell == "gru" and g == "n") else f"b_{g}"


def _fn(g: str) -> str:
    return "σ" if g in SIGMOID_GATES else "tanh"


def gated_page(b: PageBuilder, tr: Trace, sel: Selection, t: int, frame: Frame) -> Page:
    """A gated cell's page for the selection at step t (x, y and W_hy have the shared pages)."""
    kind = sel.kind
    if kind == "h":
        _hidden(b, tr, sel, t, frame)
    elif kind == "c" and tr.cell == "lstm":
        _cell_state(b, tr, sel, t, frame)
    elif kind.startswith("gate:") and kind[5:] in tr.gates:
        _gate(b, tr, sel, kind[5:], max(t, 1), frame)
    elif kind in ("W_xh", "W_hh"):
        return _weights(b, tr, kind, max(t, 1), frame)
    else:
        b.heading(escape(kind))
        b.muted("Nothing to show for this item.")
    return b.page()


# the parts of one gate's pre-activation ---------------------------------------------------------------
def _gate_rows(b: PageBuilder, tr: Trace, g: str, t: int, j: int) -> list[tuple[str, str, str]]:
    """The worked sum of gate g's pre-activation and value at step t, unit j (numbers recorded)."""
    p = tr.params
    x, hp = tr.x[t - 1, 0], tr.h[t - 1, 0]
    xw = float(x @ p[f"W_x{g}"][:, j])
    hw = float(hp @ p[f"W_h{g}"][:, j])
    pre = float(tr.gate_pre[g][t - 1, 0, j])
    val = float(tr.gates[g][t - 1, 0, j])
    bname = _bias(tr, g)
    bias = float(p[bname][j])
    b.numbers[f"{g}.xW[{j}]"], b.numbers[f"{g}.hW[{j}]"], b.numbers[f"{g}.b[{j}]"] = xw, hw, bias
    pre_j, g_j = f"{sub('a', g + ',' + str(t))}[{j}]", f"{sub(g, t)}[{j}]"
    rows = [(f"{pre_j} =", f"Σ {sub('x', t)}·{_w('W_x' + g)}[:,{j}]", b.num(None, xw, True))]
    if tr.cell == "gru" and g == "n":
        bh = float(p["b_hn"][j])
        nh = float(tr.extra["n_h"][t - 1, 0, j])
        r = float(tr.gates["r"][t - 1, 0, j])
        b.numbers[f"n.bh[{j}]"], b.numbers[f"n.nh[{j}]"], b.numbers[f"n.r[{j}]"] = bh, nh, r
        rows += [("+", f"{_w('b_xn')}[{j}]", b.num(None, bias, True)),
                 ("+", f"{sub('r', t)}[{j}] × (Σ {sub('h', t - 1)}·{_w('W_hn')}[:,{j}] + {_w('b_hn')}[{j}])",
                  f"{b.num(None, r)} × ({b.num(None, hw, True)} {b.num(None, bh, True)}) = "
                  f"{b.num(None, r * nh, True)}")]
    else:
        rows += [("+", f"Σ {sub('h', t - 1)}·{_w('W_h' + g)}[:,{j}]", b.num(None, hw, True)),
                 ("+", f"{_w(bname)}[{j}]", b.num(None, bias, True))]
    rows += [("=", "", "<b>" + b.num(f"{g}.pre[{j}]", pre, True) + "</b>"),
             (f"{g_j} =", f"{_fn(g)}({b.num(None, pre)})", "<b>" + b.num(f"{g}[{j}]", val, True) + "</b>")]
    return rows


def _gate_formula(tr: Trace, g: str, t: int) -> str:
    if tr.cell == "gru" and g == "n":
        return (f"{sub('n', t)} = tanh({sub('x', t)}·{_w('W_xn')} + {_w('b_xn')} + {sub('r', t)} ⊙ "
                f"({sub('h', t - 1)}·{_w('W_hn')} + {_w('b_hn')}))")
    return f"{sub(g, t)} = {_fn(g)}({sub('x', t)}·{_w('W_x' + g)} + {sub('h', t - 1)}·{_w('W_h' + g)} + {_w(_bias(tr, g))})"


def _state_formulas(tr: Trace, t: int) -> list[str]:
    if tr.cell == "lstm":
        return [f"{sub('c', t)} = {sub('f', t)} ⊙ {sub('c', t - 1)} + {sub('i', t)} ⊙ {sub('g', t)}",
                f"{sub('h', t)} = {sub('o', t)} ⊙ tanh({sub('c', t)})"]
    return [f"{sub('h', t)} = (1 − {sub('z', t)}) ⊙ {sub('n', t)} + {sub('z', t)} ⊙ {sub('h', t - 1)}"]


def _state_rows(b: PageBuilder, tr: Trace, t: int, j: int) -> list[tuple[str, str, str]]:
    G = {g: float(tr.gates[g][t - 1, 0, j]) for g in tr.gates}
    h = float(tr.h[t, 0, j])
    if tr.cell == "lstm":
        cp, c = float(tr.c[t - 1, 0, j]), float(tr.c[t, 0, j])
        tc = float(tr.extra["tanh_c"][t - 1, 0, j])
        b.numbers[f"c_prev[{j}]"], b.numbers[f"tanh_c[{j}]"] = cp, tc
        return [
            (f"{sub('c', t)}[{j}] =", f"{b.num(None, G['f'])} × {b.num(None, cp, True)}", b.num(None, G["f"] * cp, True)),
            ("+", f"{b.num(None, G['i'])} × {b.num(None, G['g'], True)}", b.num(None, G["i"] * G["g"], True)),
            ("=", "", "<b>" + b.num(f"c[{j}]", c, True) + "</b>"),
            (f"{sub('h', t)}[{j}] =", f"{b.num(None, G['o'])} × tanh({b.num(None, c)}) = {b.num(None, G['o'])} × {b.num(None, tc)}",
             "<b>" + b.num(f"h[{j}]", h, True) + "</b>"),
        ]
    hp = float(tr.h[t - 1, 0, j])
    b.numbers[f"h_prev[{j}]"] = hp
    return [
        (f"{sub('h', t)}[{j}] =", f"(1 − {b.num(None, G['z'])}) × {b.num(None, G['n'], True)}",
         b.num(None, (1 - G["z"]) * G["n"], True)),
        ("+", f"{b.num(None, G['z'])} × {b.num(None, hp, True)}", b.num(None, G["z"] * hp, True)),
        ("=", "", "<b>" + b.num(f"h[{j}]", h, True) + "</b>"),
    ]


# pages ------------------------------------------------------------------------------------------------
def _hidden(b: PageBuilder, tr: Trace, sel: Selection, t: int, frame: Frame) -> None:
    H = tr.hidden_size
    name = tr.cell.upper()
    if t == 0:
        if tr.h0_carried:  # a stateful training run: the previous batch's last h (and c)
            b.heading(sub("h", 0), "carried from the previous sequence")
            b.muted(f"shape ({H},) · the last hidden state of the previous batch (stateful training); "
                    "no gradient flows back into it")
        else:
            b.heading(sub("h", 0), "initial hidden state")
            b.muted(f"shape ({H},) · where every sequence starts; not trained")
        b.strip("h", tr.h[0, 0], 1.0)
        return
    b.heading(sub("h", t), f"hidden state of the {name} at step {t} of {tr.T}")
    b.muted(f"shape ({H},) · values of {sub('h', t)}")
    b.strip("h", tr.h[t, 0], 1.0)
    units = units_shown(sel, H)
    if frame.mode == "backward":
        _hidden_gradient(b, tr, t, units, frame)
    b.section("Forward: the gates", theme_color(b.t, "forward"))
    b.muted(units_note(units, H))
    if not tr.input_mask[t - 1]:
        b.muted(f"{sub('x', t)} = 0 at this step: the {tr.architecture} network gets no input here")
    for g in gate_names(tr):
        b.formula(_gate_formula(tr, g, t))
        for j in units:
            b.sum_table(_gate_rows(b, tr, g, t, j))
    b.section("Forward: the state", theme_color(b.t, "forward"))
    for f in _state_formulas(tr, t):
        b.formula(f)
    for j in units:
        b.sum_table(_state_rows(b, tr, t, j))


def _hidden_gradient(b: PageBuilder, tr: Trace, t: int, units: list[int], frame: Frame) -> None:
    T = tr.T
    if not backward_heading(b, tr, t, frame):
        return
    dh = f"dL/d{sub('h', t)}"
    if t < T:
        gates = ", ".join(sub("a", g + "," + str(t + 1)) for g in gate_names(tr))
        future = f"Σ<sub>gates</sub> dL/d(pre-activations {gates})·{sub('W', 'h•')}{TRANSPOSE}"
        if tr.cell == "gru":
            future += f" + dL/d{sub('h', t + 1)} ⊙ {sub('z', t + 1)}"
    else:
        future = "0"
    b.formula(f"{dh} = dL/d{sub('y', t)}·{_w('W_hy')}{TRANSPOSE} + {future}")
    dh_parts(b, tr, t, units, dh)
    if tr.cell == "lstm":
        _dc_rows(b, tr, t, units)
    b.muted(f"the gates' pre-activation gradients at step {t}:")
    for j in units:
        b.sum_table([(f"dL/d{sub('a', g + ',' + str(t))}[{j}] =", "",
                      b.num(f"dL_d{g}_pre[{j}]", tr.dL_dgate_pre[g][t - 1, 0, j], True)) for g in gate_names(tr)])
    b.muted(f"all of dL/d{sub('h', t)}:")
    b.strip("dL_dh", tr.dL_dh[t - 1, 0], scale_of(tr.dL_dh))


def _dc_rows(b: PageBuilder, tr: Trace, t: int, units: list[int]) -> None:
    T = tr.T
    dc = f"dL/d{sub('c', t)}"
    fut = f" + dL/d{sub('c', t + 1)} ⊙ {sub('f', t + 1)}" if t < T else ""
    b.formula(f"{dc} = dL/d{sub('h', t)} ⊙ {sub('o', t)} ⊙ (1 − tanh²{sub('c', t)}){fut}")
    for j in units:
        o, tc = float(tr.gates["o"][t - 1, 0, j]), float(tr.extra["tanh_c"][t - 1, 0, j])
        from_h = float(tr.dL_dh[t - 1, 0, j]) * o * (1 - tc * tc)
        total = float(tr.dL_dc[t - 1, 0, j])
        b.sum_table([
            (f"{dc}[{j}] =", f"through {sub('h', t)}", b.num(f"dc_from_h[{j}]", from_h, True)),
            ("+", f"along c from step {t + 1}" if t < T else "from the future", b.num(f"dc_future[{j}]", total - from_h, True)),
            ("=", "", "<b>" + b.num(f"dL_dc[{j}]", total, True) + "</b>"),
        ])


def _cell_state(b: PageBuilder, tr: Trace, sel: Selection, t: int, frame: Frame) -> None:
    H = tr.hidden_size
    lim = scale_of(tr.c)
    if t == 0:
        b.heading(sub("c", 0), "initial cell state")
        b.muted(f"shape ({H},) · not trained")
        b.strip("c", tr.c[0, 0], lim)
        return
    b.heading(sub("c", t), f"LSTM cell state at step {t} of {tr.T}")
    b.muted(f"shape ({H},) · the second recurrent line: along c, a step back multiplies the gradient by f, "
            "not by a weight matrix and tanh′")
    b.strip("c", tr.c[t, 0], lim)
    units = units_shown(sel, H)
    if frame.mode == "backward" and tr.targets is not None:
        b.section("Backward (BPTT)", theme_color(b.t, "backward"))
        _dc_rows(b, tr, t, units)
        b.strip("dL_dc", tr.dL_dc[t - 1, 0], scale_of(tr.dL_dc))
    b.section("Forward", theme_color(b.t, "forward"))
    for f in _state_formulas(tr, t):
        b.formula(f)
    b.muted(units_note(units, H))
    for j in units:
        b.sum_table(_state_rows(b, tr, t, j))


def _gate(b: PageBuilder, tr: Trace, sel: Selection, g: str, t: int, frame: Frame) -> None:
    H = tr.hidden_size
    seq = g in SIGMOID_GATES
    b.heading(sub(g, t), f"{GATE_WORDS[g]} · step {t} of {tr.T}")
    b.muted(f"shape ({H},) · " + ("values between 0 and 1 (σ): 0 closes, 1 opens" if seq
                                 else "values between −1 and 1 (tanh)"))
    b.strip(g, tr.gates[g][t - 1, 0], 1.0, sequential=seq)
    units = units_shown(sel, H)
    b.section("Forward", theme_color(b.t, "forward"))
    b.formula(_gate_formula(tr, g, t))
    b.muted(units_note(units, H))
    for j in units:
        b.sum_table(_gate_rows(b, tr, g, t, j))
    if frame.mode == "backward" and tr.targets is not None:
        b.section("Backward (BPTT)", theme_color(b.t, "backward"))
        b.muted(f"dL/d{sub('a', g + ',' + str(t))}: the gradient of this gate's pre-activation"
                + ("" if t >= frame.backward_from else " (the backward pass has not reached this step yet)"))
        d = tr.dL_dgate_pre[g]
        b.strip(f"dL_d{g}_pre", d[t - 1, 0], scale_of(d))


def _weights(b: PageBuilder, tr: Trace, kind: str, t: int, frame: Frame) -> Page:
    """The arrow x_t → cell (all input matrices) or h_{t−1} → cell (all recurrent matrices)."""
    side = "x" if kind == "W_xh" else "h"
    gates = gate_names(tr)
    names = [f"W_{side}{g}" for g in gates]
    cand = f"W_{side}{CANDIDATE[tr.cell]}"
    what = "input → cell" if side == "x" else "hidden → cell (the recurrence)"
    b.heading(", ".join(_w(n) for n in names), f"{what} · one matrix per gate")
    b.muted(f"Shared by all {tr.T} steps; the arrow at step {t} carries "
            f"{sub(side, t if side == 'x' else t - 1)} into every gate of step {t}. "
            f"The heat maps below show the candidate's {_w(cand)}.")
    grads = tr.targets is not None
    heads = ["", "‖W‖"] + (["spectral radius ρ"] if side == "h" else []) + (["‖dL/dW‖"] if grads else [])
    trs = ["<tr>" + "".join(f'<td align="right" style="color:{b.t.muted};padding-right:12px;">{h}</td>' for h in heads)
           + "</tr>"]
    for n in names:
        Wm = tr.params[n]
        cells = [_w(n), b.num(f"norm.{n}", np.linalg.norm(Wm))]
        if side == "h":
            cells.append(b.num(f"rho.{n}", spectral_radius(Wm)))
        if grads:
            cells.append(b.num(f"grad_norm.{n}", np.linalg.norm(tr.grads["grad_" + n])))
        trs.append("<tr>" + "".join(f'<td align="right" nowrap style="padding-right:12px;">{c}</td>' for c in cells) + "</tr>")
    b.add('<table cellspacing="0" cellpadding="1" style="margin-left:8px;margin-bottom:6px;">' + "".join(trs) + "</table>")
    if frame.mode == "backward" and tr.targets is not None and t < frame.backward_from:
        b.muted(f"The backward pass has not reached step {t} yet.")
    return b.page(weight=cand)
