"""What the unrolled view's tooltips say about a cell or a weight arrow (plain text, no Qt)."""
from __future__ import annotations

from rnnviz.app.state.playback import Frame
from rnnviz.app.views.unrolled.layout import NodeData
from rnnviz.engine.trace import Trace


def value_text(data: NodeData, frame: Frame, trace: Trace | None, class_names: str | None,
               kind: str, t: int, unit: int) -> str:
    """One cell's value (and gradient, once the backward pass reached it), e.g. "h_3[2] = 0.4132".
    `class_names`: the characters the classes stand for, when they are characters."""
    d, fr = data, frame
    name = kind[5:] if kind.startswith("gate:") else kind
    computed = (t <= fr.forward_done) if kind not in ("h", "c") else (t <= fr.forward_done or t == 0)
    lines = []
    if kind == "target":
        if d.true_class is not None:
            k = int(d.true_class[t])
            named = f" ({class_names[k]!r})" if class_names and 0 <= k < len(class_names) else ""
            lines.append(f"target_{t} = class {k}{named}")
        else:
            lines.append(f"target_{t}[{unit}] = {d.forward['target'][t, unit]:.4f}")
    elif kind == "y" and d.probabilities:
        p = d.forward["y"][t, unit]
        logit = float(trace.y[t - 1, 0, unit]) if trace is not None else float("nan")
        lines.append(f"p_{t}[{unit}] = softmax(y_{t})[{unit}] = {p:.4f}   (y_{t}[{unit}] = {logit:.4f})")
    else:
        lines.append(f"{name}_{t}[{unit}] = {d.forward[kind][t, unit]:.4f}")
    if kind.startswith("gate:"):
        lines[0] += "   (σ: 0 closed … 1 open)" if d.sequential(kind) else "   (tanh)"
    if fr.mode == "forward" and not computed and kind != "x":
        lines[0] += "   (not computed yet at this step)"
    if kind in d.backward and t >= 1:
        g = d.backward[kind][t, unit]
        if fr.mode == "backward" and t >= fr.backward_from:
            lines.append(f"∂L/∂{name}_{t}[{unit}] = {g:.4g}")
    return "\n".join(lines)


def weight_text(trace: Trace | None, kind: str, t: int) -> str:
    """What a weight arrow stands for: the same matrix at every step (per gate, in a gated cell)."""
    if trace is None or trace.cell == "rnn" or kind == "W_hy":
        return f"{kind} (step {t}): the same matrix at every step"
    gates = ", ".join(trace.gates)
    side = "x" if kind == "W_xh" else "h"
    src = f"x_{t}" if side == "x" else f"h_{t - 1}"
    mats = ", ".join(f"W_{side}{g}" for g in trace.gates)
    return f"W_{side}• (step {t}): {src} into every gate ({gates}) through its own matrix ({mats}); the same at every step"
