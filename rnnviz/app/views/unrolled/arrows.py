"""Where the unrolled diagram's arrows run: the geometry of every weight arrow, without Qt.

`arrow_paths(layout, data, new_path)` traces every arrow of one layout (at its current stage of
unrolling) into paths made by `new_path()`: any object with QPainterPath's `moveTo`, `lineTo`,
`quadTo` and `closeSubpath` will do (the view passes QPainterPath itself, a test may pass a
recorder). Arrows of one kind go into one path, so drawing them all is one call per kind.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from rnnviz.app.views.unrolled.layout import WEIGHTS, NodeData, UnrolledLayout

FLOW_LEVELS = 6  # W_hh arrows in the backward pass come in this many widths
KINDS_DRAWN = (*WEIGHTS, "cell")  # arrow groups: the weights, and a gated cell's own (c line, gates, bus, c → h)


@dataclass(frozen=True, eq=False)
class ArrowPaths:
    """Every arrow of one layout, one path per group (kind: W_xh, W_hh, W_hy or "cell")."""

    shafts: dict[str, Any]  # kind -> the lines
    heads: dict[str, Any]  # kind -> the forward arrowheads (filled triangles)
    heads_back: dict[str, Any]  # kind -> the arrowheads the gradient shows in the backward pass
    flow: list[Any]  # (FLOW_LEVELS,) the W_hh (and c) lines by gradient width, thinnest first
    single_shafts: dict[str, Any]  # W_xh, W_hy of the rolled cell, drawn once
    single_heads: dict[str, Any]
    loop: Any  # the rolled cell's self-loop (below h, and below c for an LSTM)
    loop_head: Any


def arrow_paths(layout: UnrolledLayout, data: NodeData | None, new_path: Callable[[], Any]) -> ArrowPaths:
    """Trace every arrow of `layout` at its current `unroll`; `data` sets the gradient widths."""
    L = layout
    s, sh = L.s, L.strip_h
    cx, ch, cy = L.columns["x"], L.columns["h"], L.columns["y"]
    cc = L.columns.get("c")  # an LSTM's cell state
    head = 7.0 * s
    pad = 5.0 * s
    shafts = {k: new_path() for k in KINDS_DRAWN}
    heads = {k: new_path() for k in KINDS_DRAWN}
    back = {k: new_path() for k in KINDS_DRAWN}
    flow = [new_path() for _ in range(FLOW_LEVELS)]
    tops = L.row_top(np.arange(L.T + 1))  # (T+1,)
    exp = L.expanded
    xh = L.line_x("h")
    xc = L.line_x("c") if cc is not None else 0.0
    xe = L.block_left - 22.0 * s  # expanded: where x_t's arrow turns up to the bus
    gates = {k[5:]: c for k, c in L.columns.items() if k.startswith("gate:")}

    def tri(path, tip_x, tip_y, dx, dy):  # arrowhead with its tip at (tip_x, tip_y) pointing (dx, dy)
        px, py = -dy, dx
        path.moveTo(tip_x, tip_y)
        path.lineTo(tip_x - dx * head + px * head * 0.45, tip_y - dy * head + py * head * 0.45)
        path.lineTo(tip_x - dx * head - px * head * 0.45, tip_y - dy * head - py * head * 0.45)
        path.closeSubpath()

    def down(kind, x, y0, y1, back_head=False):  # a vertical arrow y0 → y1 (y1 > y0)
        if y1 - y0 <= head * 1.2:
            return False
        shafts[kind].moveTo(x, y0)
        shafts[kind].lineTo(x, y1 - head * 0.8)
        tri(heads[kind], x, y1, 0, 1)
        if back_head:
            tri(back[kind], x, y0, 0, -1)
        return True

    def level(width: float) -> int:
        return int(round(width * (FLOW_LEVELS - 1)))

    d = data
    for t in range(1, L.T + 1):
        yc = tops[t] + sh / 2
        if cx.rows[t]:
            a = cx.right + pad
            if exp:  # x_t joins the input bus of the gates
                shafts["W_xh"].moveTo(a, yc)
                shafts["W_xh"].lineTo(xe, yc)
                shafts["W_xh"].lineTo(xe, L.bus_y(t))
            else:
                b = L.block_left - pad
                shafts["W_xh"].moveTo(a, yc)
                shafts["W_xh"].lineTo(b - head * 0.8, yc)
                tri(heads["W_xh"], b, yc, 1, 0)
                tri(back["W_xh"], b, yc, 1, 0)
        if cy.rows[t]:
            a, b = ch.right + pad, cy.left - pad
            shafts["W_hy"].moveTo(a, yc)
            shafts["W_hy"].lineTo(b - head * 0.8, yc)
            tri(heads["W_hy"], b, yc, 1, 0)
            tri(back["W_hy"], a, yc, -1, 0)
        y0, y1 = tops[t - 1] + sh + pad * 0.6, tops[t] - pad * 0.6
        if exp and L.cell == "lstm":  # h_{t−1} only feeds the gates: down to the bus
            yb = L.bus_y(t)
            if yb - y0 > head:
                shafts["W_hh"].moveTo(xh, y0)
                shafts["W_hh"].lineTo(xh, yb)
                tri(back["W_hh"], xh, y0, 0, -1)
                if d is not None:
                    flow[level(d.flow_width[t])].moveTo(xh, y0 + head * 0.8)
                    flow[level(d.flow_width[t])].lineTo(xh, yb)
        elif down("W_hh", xh, y0, y1, back_head=True) and d is not None:
            flow[level(d.flow_width[t])].moveTo(xh, y0 + head * 0.8)
            flow[level(d.flow_width[t])].lineTo(xh, y1)
        if cc is not None:  # the cell state's own line, c_{t−1} → c_t, and c_t → h_t (tanh)
            if down("cell", xc, y0, y1, back_head=True) and d is not None and d.flow_c_width is not None:
                flow[level(d.flow_c_width[t])].moveTo(xc, y0 + head * 0.8)
                flow[level(d.flow_c_width[t])].lineTo(xc, y1)
            a, b = cc.right + pad, ch.left - pad
            shafts["cell"].moveTo(a, yc)
            shafts["cell"].lineTo(b - head * 0.8, yc)
            tri(heads["cell"], b, yc, 1, 0)
        if exp:
            yb = L.bus_y(t)
            shafts["cell"].moveTo(xe if cx.rows[t] else min(c.left for c in gates.values()) - pad, yb)
            shafts["cell"].lineTo(xh, yb)  # the input bus: x_t and h_{t−1} into every gate
            for g, col in gates.items():
                gx = col.center
                gtop = tops[t] + col.dy
                down("cell", gx, yb, gtop - pad * 0.4)
                dst = L.gate_sides[g]
                if dst == "n":  # GRU: r_t acts inside the candidate n_t
                    n = gates["n"]
                    ym = gtop + col.height / 2
                    end = n.left - 13.0 * s  # just short of the letter n
                    shafts["cell"].moveTo(col.right + pad * 0.6, ym)
                    shafts["cell"].lineTo(end - head * 0.8, ym)
                    tri(heads["cell"], end, ym, 1, 0)
                else:
                    down("cell", gx, gtop + col.height + pad * 0.4, tops[t] - pad * 0.6)
    # the rolled cell's own arrows, drawn once instead of T copies on top of each other
    single_s = {k: new_path() for k in ("W_xh", "W_hy")}
    single_h = {k: new_path() for k in ("W_xh", "W_hy")}
    yc = L.row_top(1, 0.0) + sh / 2
    for k, (a, b) in (("W_xh", (cx.right + pad, L.block_left - pad)), ("W_hy", (ch.right + pad, cy.left - pad))):
        single_s[k].moveTo(a, yc)
        single_s[k].lineTo(b - head * 0.8, yc)
        tri(single_h[k], b, yc, 1, 0)
    # the rolled cell's self-loop: out of h's bottom right, round, back into its bottom left
    loop, loop_head = new_path(), new_path()
    top1 = L.row_top(1, 0.0) + sh
    depth = L.loop_h - 24 * s
    r = min(14 * s, depth / 2)
    for col in ([ch] if cc is None else [cc, ch]):
        hw = L.loop_half_w() if cc is None else min(L.loop_half_w(), col.width / 2)
        xm = col.center
        loop.moveTo(xm + hw * 0.55, top1 + pad * 0.5)
        loop.lineTo(xm + hw * 0.55, top1 + depth - r)
        loop.quadTo(xm + hw * 0.55, top1 + depth, xm + hw * 0.55 - r, top1 + depth)
        loop.lineTo(xm - hw * 0.55 + r, top1 + depth)
        loop.quadTo(xm - hw * 0.55, top1 + depth, xm - hw * 0.55, top1 + depth - r)
        loop.lineTo(xm - hw * 0.55, top1 + pad + head * 0.8)
        tri(loop_head, xm - hw * 0.55, top1 + pad * 0.5, 0, -1)
    return ArrowPaths(shafts=shafts, heads=heads, heads_back=back, flow=flow, single_shafts=single_s,
                      single_heads=single_h, loop=loop, loop_head=loop_head)
