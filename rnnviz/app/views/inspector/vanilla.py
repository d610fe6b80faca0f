"""The inspector's page for the vanilla cell's hidden state h_t: the sum a_t = x_t·W_xh +
h_{t−1}·W_hh + b_h split into its displayed parts per unit, h_t = f(a_t), and in the backward
pass dL/dh_t and dL/da_t.

Every total shown is the trace's own value; the only arithmetic here splits a sum into its
displayed parts (x_t·W_xh[:,j], h_{t−1}·W_hh[:,j], b_h[j]).
"""
from __future__ import annotations

from rnnviz.engine import Trace
from rnnviz.engine.activations import derivative, formula
from rnnviz.app.state.playback import Frame
from rnnviz.app.state.selection import Selection
from rnnviz.app.views.inspector.html import (
    scale_of,
    TRANSPOSE, W, PageBuilder, backward_heading, dh_parts, sub, theme_color, units_note, units_shown,
)


def hidden_page(b: PageBuilder, tr: Trace, sel: Selection, t: int, frame: Frame) -> None:
    """h_t of the vanilla cell at step t (0: the initial state)."""
    H = tr.hidden_size
    h_lim = scale_of(tr.h)  # the view's scale
    if t == 0:
        if tr.h0_carried:  # a stateful training run: the previous batch's last h
            b.heading(sub("h", 0), "carried from the previous sequence")
            b.muted(f"shape ({H},) · the last hidden state of the previous batch (stateful training); "
                    "no gradient flows back into it")
        else:
            b.heading(sub("h", 0), "initial hidden state")
            b.muted(f"shape ({H},) · where every sequence starts; not trained")
        b.strip("h", tr.h[0, 0], h_lim)
        return
    f = formula(tr.activation)
    b.heading(sub("h", t), f"hidden state at step {t} of {tr.T}")
    b.muted(f"shape ({H},) · values of {sub('h', t)}")
    b.strip("h", tr.h[t, 0], h_lim)
    units = units_shown(sel, H)
    if frame.mode == "backward":  # what the animation is showing comes first
        _hidden_gradient(b, tr, t, units, frame)
    b.section("Forward", theme_color(b.t, "forward"))
    b.formula(f"{sub('h', t)} = {f}({sub('x', t)}·{W['W_xh']} + {sub('h', t - 1)}·{W['W_hh']} + {W['b_h']})")
    b.muted(units_note(units, H))
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


def _hidden_gradient(b: PageBuilder, tr: Trace, t: int, units: list[int], frame: Frame) -> None:
    T = tr.T
    if not backward_heading(b, tr, t, frame):
        return
    dh = f"dL/d{sub('h', t)}"
    future = f"dL/d{sub('a', t + 1)}·{W['W_hh']}{TRANSPOSE}" if t < T else "0"
    b.formula(f"{dh} = dL/d{sub('y', t)}·{W['W_hy']}{TRANSPOSE} + {future}")
    dh_parts(b, tr, t, units, dh)
    fprime = derivative(tr.activation, tr.a[t - 1, 0], tr.h[t, 0])  # (H,) f'(a_t), for display
    f = formula(tr.activation)
    b.formula(f"dL/d{sub('a', t)} = {dh} ⊙ {f}′({sub('a', t)})")
    for j in units:
        b.sum_table([
            (f"dL/d{sub('a', t)}[{j}] =", f"{b.num(None, tr.dL_dh[t - 1, 0, j])} × {f}′ {b.num(f'fprime[{j}]', fprime[j])}",
             "<b>" + b.num(f"dL_da[{j}]", tr.dL_da[t - 1, 0, j], True) + "</b>"),
        ])
    b.muted(f"all of dL/d{sub('h', t)}:")
    b.strip("dL_dh", tr.dL_dh[t - 1, 0], scale_of(tr.dL_dh))
