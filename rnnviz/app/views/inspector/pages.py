"""The inspector's pages: `page_for` chooses the page for a selection, and the pages every cell
shares live here: the input x_t, the output y_t with its loss, and one weight matrix (the
vanilla cell's W_xh and W_hh, every cell's W_hy). The vanilla hidden state is in `vanilla`, the
gated cells' pages (h, c, gates, their matrices) in `gated`.

Every number comes from the trace; the only arithmetic here splits a sum into its displayed
parts (h_t·W_hy[:,k], b_y[k]).
"""
from __future__ import annotations

from html import escape

import numpy as np

from rnnviz.engine import Trace
from rnnviz.engine.model import is_class_loss
from rnnviz.app.state.playback import Frame
from rnnviz.app.state.selection import Selection
from rnnviz.app.style.theme import Theme
from rnnviz.app.views.inspector.gated import gated_page
from rnnviz.app.views.inspector.html import (
    scale_of,
    MAX_CELLS, MONO, STRIP_COLUMNS, W, Page, PageBuilder, fmt, sub, theme_color, units_note, units_shown,
)
from rnnviz.app.views.inspector.vanilla import hidden_page


def page_for(trace: Trace, selection: Selection, frame: Frame, theme: Theme, vocab: str | None = None,
             columns: int = STRIP_COLUMNS) -> Page:
    """The inspector's page for a selection (kind and 1-based step t) at a playback frame."""
    b = PageBuilder(theme, columns)
    t = max(0, min(selection.t, trace.T))
    kind = selection.kind
    if trace.cell != "rnn" and kind not in ("x", "y", "W_hy"):
        return gated_page(b, trace, selection, t, frame)
    if kind == "h":
        hidden_page(b, trace, selection, t, frame)
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


def _input(b: PageBuilder, tr: Trace, t: int, vocab: str | None) -> None:
    I = tr.x.shape[2]
    x = tr.x[t - 1, 0]
    note = f"input at step {t} of {tr.T}"
    labels = list(vocab) if vocab and len(vocab) == I else None
    if labels and np.count_nonzero(x) == 1 and x.max() == 1:
        note += f' · the character “{escape(vocab[int(np.argmax(x))])}” (one-hot)'
    b.heading(sub("x", t), note)
    b.muted(f"shape ({I},)")
    b.strip("x", x, scale_of(tr.x), labels)
    if not tr.input_mask[t - 1]:
        b.muted(f"The {tr.architecture} network gets no input at this step: it is fed zeros.")
    if tr.cell == "rnn":
        b.formula(f"enters {sub('a', t)} through {W['W_xh']}: {sub('x', t)}·{W['W_xh']}")
    else:
        gates = ("i", "f", "g", "o") if tr.cell == "lstm" else ("r", "z", "n")
        b.formula(f"enters every gate of the {tr.cell.upper()} through its own matrix: "
                  + ", ".join(f"{sub('x', t)}·{sub('W', 'x' + g)}" for g in gates))


def _output(b: PageBuilder, tr: Trace, sel: Selection, t: int, frame: Frame, vocab: str | None) -> None:
    O = tr.y.shape[2]
    p = tr.params
    ce = is_class_loss(tr.loss_name)
    nll = tr.loss_name == "nll"  # y_t = log_softmax(z_t): the log-probabilities the model prints
    b.heading(sub("y", t), f"output at step {t} of {tr.T}"
              + (" (log-probabilities)" if nll else " (logits)" if ce else ""))
    b.muted(f"shape ({O},)")
    labels = list(vocab) if vocab and len(vocab) == O else None
    b.strip("y", tr.y[t - 1, 0], scale_of(tr.y), labels)
    b.section("Forward", theme_color(b.t, "forward"))
    z = sub("z" if nll else "y", t)  # nll: the readout's linear output, before LogSoftmax
    b.formula(f"{z} = {sub('h', t)}·{W['W_hy']} + {W['b_y']}"
              + (f",  {sub('y', t)} = log_softmax({z})" if nll else ""))
    units = units_shown(sel, O)
    b.muted(units_note(units, O, "output"))
    for k in units:
        hw = float(tr.h[t, 0] @ p["W_hy"][:, k])
        bias = float(p["b_y"][k])
        b.numbers[f"hW[{k}]"], b.numbers[f"b[{k}]"] = hw, bias
        b.sum_table([
            (f"{z}[{k}] =", f"Σ {sub('h', t)}·{W['W_hy']}[:,{k}]", b.num(None, hw, True)),
            ("+", f"{W['b_y']}[{k}]", b.num(None, bias, True)),
            ("=", "", "<b>" + b.num(f"z[{k}]" if nll else f"y[{k}]", hw + bias if nll else tr.y[t - 1, 0, k], True) + "</b>"),
            *([(f"{sub('y', t)}[{k}] =", f"log_softmax({z})[{k}]", "<b>" + b.num(f"y[{k}]", tr.y[t - 1, 0, k], True) + "</b>")]
              if nll else []),
        ])
    has_target = bool(tr.target_mask[t - 1]) and tr.targets is not None
    if ce and tr.probs is not None:
        b.formula(f"{sub('p', t)} = " + (f"exp({sub('y', t)}) = softmax({z})" if nll else f"softmax({sub('y', t)})"))
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
        b.strip("dL_dy", tr.dL_dy[t - 1, 0], scale_of(tr.dL_dy), labels)


_WEIGHT_TEXT = {
    "W_xh": ("input → hidden", "x", "a", 0),
    "W_hh": ("hidden → hidden (the recurrence)", "h", "a", -1),
    "W_hy": ("hidden → output", "h", "y", 0),
}


def _weight(b: PageBuilder, tr: Trace, kind: str, t: int, frame: Frame) -> None:
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
