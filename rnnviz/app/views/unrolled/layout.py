"""Geometry and display data of the unrolled network, without any drawing.

`UnrolledLayout` says where every strip and arrow of the unrolled diagram sits (in logical
scene units) and answers hit tests; `NodeData` holds, per column, the arrays the view colours
(read straight from the trace, never recomputed) and their fixed colour ranges.

Rows: row 0 is h_0, row t (1..T) is time step t. Columns: x, h, y, target, left to right.
`unroll` runs from 0 (rolled: every copy collapsed onto one cell) to 1 (fully unrolled).

Gated cells: an LSTM has a column "c" (the cell state) between x and h. Expanded (`gates`),
each row gets a band above its state strips holding the gates as small strips, columns
"gate:i" ... (LSTM i, f, g over c and o over h; GRU z, r, n over h), with an input bus above
them that x_t and h_{t−1} feed. A column's strips sit at row_top(r) + dy and are `height` tall.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.engine.analysis import cell_state_flow, recurrent_flow
from rnnviz.engine.trace import Trace
from rnnviz.app.style import colors

KINDS = ("x", "h", "y", "target")
WEIGHTS = ("W_xh", "W_hh", "W_hy")
SIGMOID_GATES = ("i", "f", "o", "r", "z")  # sequential 0 … 1 scale; g and n are tanh (diverging ±1)
GATE_LAYOUT = {"lstm": (("i", "c"), ("f", "c"), ("g", "c"), ("o", "h")),  # gate, the state it feeds
               "gru": (("z", "h"), ("r", "n"), ("n", "h"))}  # shown z, r, n: r feeds n


@dataclass(frozen=True)
class Column:
    kind: str
    units: int
    cell_w: float
    left: float
    rows: np.ndarray  # (T+1,) bool: rows that carry a strip of this column
    dy: float = 0.0  # strip top relative to row_top (gate strips sit above their row)
    height: float = 0.0  # strip height (0: the layout's strip_h)

    @property
    def width(self) -> float:
        return self.units * self.cell_w

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def center(self) -> float:
        return self.left + self.width / 2


def number_size(col: Column, strip_h: float, s: float) -> float:
    """The pixel size (scene units) of the numbers printed in a strip of `col`: as large as the
    cell lets a "−0.00" fit. In presentation mode (s > 1) the numbers take a little more of the
    cell, so that a projector shows them large without the diagram growing wider."""
    if s > 1.0:
        return min(13.0 * s, strip_h * 0.5, col.cell_w / 3.0)
    return min(11.5 * s, strip_h * 0.46, col.cell_w / 3.1)


def _cell_width(units: int, s: float) -> float:
    """Wide enough for a printed number when there are few units; the hidden strip stays
    within about 440 units however many there are."""
    return float(min(40.0 * s, max(1.25 * s, 440.0 * s / units)))


class UnrolledLayout:
    def __init__(self, trace: Trace, scale: float = 1.0, has_target: bool = True, gates: bool = False) -> None:
        s = scale
        self.s = s
        self.T = T = trace.T
        self.cell = trace.cell
        self.expanded = bool(gates) and self.cell != "rnn"
        I, H, O = trace.x.shape[2], trace.hidden_size, trace.y.shape[2]
        self.strip_h = 28.0 * s
        gap = 36.0 if T <= 30 else (24.0 if T <= 120 else 16.0)
        self.gap = gap * s  # vertical room for the W_hh arrows
        # expanded gated cells: a band above each row for the gates (bus, strips, arrows down)
        self.gate_h = 18.0 * s
        self.bus_room = 24.0 * s  # the input bus above the gate strips
        self.down_room = 18.0 * s  # the gates' arrows down into c / h
        self.band_h = (self.bus_room + self.gate_h + self.down_room) if self.expanded else 0.0
        self.pitch = self.strip_h + self.gap + self.band_h
        # presentation mode (s > 1): less room between the columns, so the cells (and their
        # numbers) can be drawn larger in the same width
        compact = s > 1.0
        self.label_w = (52.0 if compact else 64.0) * s  # room for "t = 123" on the left
        self.header_h = 40.0 * s  # room for the column headers above h_0
        self.arrow_gap = (72.0 if compact else 104.0) * s  # horizontal room for W_xh / W_hy and their labels
        self.margin = 16.0 * s
        self.unroll = 1.0

        rows_all = np.ones(T + 1, dtype=bool)
        inp = np.concatenate([[False], np.asarray(trace.input_mask, bool)])
        out = np.concatenate([[False], np.asarray(trace.target_mask, bool)])
        x0 = self.margin + self.label_w
        cx = Column("x", I, _cell_width(I, s), x0, inp)
        cw = _cell_width(H, s)
        cols = {"x": cx}
        if self.cell == "lstm":  # two state strips side by side: each a little narrower
            cw = float(min(35.0 * s, max(1.25 * s, 300.0 * s / H)))
            cols["c"] = Column("c", H, cw, cx.right + self.arrow_gap, rows_all)
            ch = Column("h", H, cw, cols["c"].right + 50.0 * s, rows_all)  # room for c → h (tanh)
        else:
            ch = Column("h", H, cw, cx.right + self.arrow_gap, rows_all)
        cy = Column("y", O, _cell_width(O, s), ch.right + self.arrow_gap, out)
        cols.update(h=ch, y=cy)
        if has_target:
            cols["target"] = Column("target", O, min(cy.cell_w, 40.0 * s), cy.right + 30.0 * s, out)
        self.columns: dict[str, Column] = cols
        self.block_left = cols["c"].left if "c" in cols else ch.left  # where x_t's arrow enters the cell
        self.inset = 12.0 * s  # expanded: the recurrent lines run this far inside the block's edges
        self.gate_sides: dict[str, str] = {}
        if self.expanded:
            steps = np.concatenate([[False], np.ones(T, dtype=bool)])
            ggap = 16.0 * s
            spec = GATE_LAYOUT[self.cell]
            over_c = [g for g, dst in spec if dst == "c"]
            if self.cell == "lstm":
                c = cols["c"]
                lo, hi = c.left + 2 * self.inset + 8.0 * s, c.right  # clear of the c line and the letter i
                gw = (hi - lo - ggap * (len(over_c) - 1)) / len(over_c)
                lefts = {g: lo + k * (gw + ggap) for k, g in enumerate(over_c)}
                lefts["o"] = ch.left + (ch.width - 2 * self.inset - gw) / 2
            else:
                ggap = 34.0 * s  # room for r → n and the letter n
                lo, hi = ch.left + 2 * self.inset, ch.right - 2 * self.inset
                gw = (hi - lo - ggap * 2) / 3
                lefts = {g: lo + k * (gw + ggap) for k, (g, _) in enumerate(spec)}
            for g, dst in spec:
                self.gate_sides[g] = dst
                cols["gate:" + g] = Column("gate:" + g, H, gw / H, lefts[g], steps,
                                           dy=-(self.down_room + self.gate_h), height=self.gate_h)
        self.right = max(c.right for c in cols.values()) + self.margin + (56.0 if compact else 70.0) * s  # loss text
        self.top = self.margin + self.header_h
        self.loop_h = 64.0 * s  # the rolled cell's self-loop below h

    # rows -------------------------------------------------------------------------------------
    def row_top(self, r: int | np.ndarray, unroll: float | None = None):
        """Top of row r's strips. Rolled, rows 1..T sit on row 1 and h_0 fades in above it."""
        u = self.unroll if unroll is None else unroll
        if isinstance(r, (int, np.integer)):  # the common scalar case, without NumPy overhead
            r = int(r)
            if r >= 1:
                return self.top + self.pitch + (r - 1) * self.pitch * u
            return self.top + self.pitch * (1 - u)
        r = np.asarray(r, dtype=float)
        y = np.where(r >= 1, self.top + self.pitch + (r - 1) * self.pitch * u, self.top + self.pitch * (1 - u))
        return float(y) if y.ndim == 0 else y

    def row_center(self, r: int, unroll: float | None = None) -> float:
        return self.row_top(r, unroll) + self.strip_h / 2

    def strip_h_of(self, col: Column) -> float:
        return col.height or self.strip_h

    def bus_y(self, r: int) -> float:
        """Expanded: the height of row r's input bus (x_t and h_{t−1} into every gate)."""
        return self.row_top(r) - self.down_room - self.gate_h - self.bus_room * 0.5

    def line_x(self, kind: str) -> float:
        """Where the recurrent line of h (or c) runs: the column's middle, or near its edge
        when the gates are shown (so it passes beside the gate strips)."""
        col = self.columns[kind]
        if not self.expanded:
            return col.center
        return col.left + self.inset if kind == "c" else col.right - self.inset

    def scene_rect(self, unroll: float | None = None) -> tuple[float, float, float, float]:
        """(x, y, w, h) of everything drawn at this stage of unrolling."""
        u = self.unroll if unroll is None else unroll
        bottom_unrolled = self.row_top(self.T, 1.0) + self.strip_h + self.margin
        bottom_rolled = self.row_top(1, 0.0) + self.strip_h + self.loop_h + self.margin
        top_rolled = self.row_top(1, 0.0) - self.header_h * 0.6 - self.band_h
        top = top_rolled + (0.0 - top_rolled) * u
        bottom = bottom_rolled + (bottom_unrolled - bottom_rolled) * u
        return 0.0, top, self.right, bottom - top

    def visible_rows(self, y0: float, y1: float) -> tuple[int, int]:
        """Rows (first, last inclusive) whose band may intersect scene y ∈ [y0, y1], unrolled."""
        u = self.unroll
        if u < 0.999:
            return 0, self.T
        first = int(np.floor((y0 - self.top - self.strip_h) / self.pitch))
        last = int(np.ceil((y1 - self.top) / self.pitch))
        return max(0, first), min(self.T, last)

    # hit testing --------------------------------------------------------------------------------
    def hit(self, px: float, py: float, rolled_t: int = 1) -> tuple | None:
        """What lies under scene point (px, py): ("node", kind, t, unit), ("weight", name, t)
        or None. Rolled (unroll == 0), the one cell stands for step `rolled_t`."""
        u = self.unroll
        if 0.0 < u < 0.999:
            return None  # nothing to hit while the diagram moves
        rolled = u <= 0.0
        sh = self.strip_h
        if rolled:
            r, t = 1, max(1, min(self.T, rolled_t))
        else:
            r = int(np.floor((py - self.top) / self.pitch))
            t = r
            if not 0 <= r <= self.T:
                return None
        top = self.row_top(r)
        cx, ch, cy = self.columns["x"], self.columns["h"], self.columns["y"]
        for rr, tt in ((r, t),) if rolled else ((r, r), (r + 1, r + 1)):  # gate strips sit above their row
            if not 0 <= rr <= self.T:
                continue
            ytop = self.row_top(rr)
            for c in self.columns.values():
                y0 = ytop + c.dy
                if y0 <= py <= y0 + self.strip_h_of(c) and c.left <= px < c.right and c.rows[tt]:
                    unit = min(c.units - 1, int((px - c.left) / c.cell_w))
                    return ("node", c.kind, tt, unit)
        if t >= 1 and top - 8 * self.s <= py <= top + sh + 8 * self.s:
            if cx.right < px < self.block_left and cx.rows[t]:
                return ("weight", "W_xh", t)
            if ch.right < px < cy.left and cy.rows[t]:
                return ("weight", "W_hy", t)
        if rolled:
            if top + sh < py <= top + sh + self.loop_h and abs(px - ch.center) <= self.loop_half_w() + 8 * self.s:
                return ("weight", "W_hh", t)
        elif top + sh < py < top + self.pitch and abs(px - self.line_x("h")) <= 16 * self.s and r + 1 <= self.T:
            return ("weight", "W_hh", r + 1)  # the arrow below row r ends at row r+1
        return None

    def loop_half_w(self) -> float:
        return min(60.0 * self.s, self.columns["h"].width / 2 + 30.0 * self.s)

    def point(self, kind: str, t: int, unit: int | None = None, rolled: bool = False) -> tuple[float, float]:
        """(x, y) in the middle of a cell of column `kind` at step t (the whole strip when `unit`
        is None), or of the copy of weight `kind` that step t draws. Rolled, every step is row 1."""
        r = 1 if rolled else t
        if kind in self.columns:
            col = self.columns[kind]
            x = col.center if unit is None else col.left + (unit + 0.5) * col.cell_w
            return x, self.row_top(r) + col.dy + self.strip_h_of(col) / 2
        cx, ch, cy = self.columns["x"], self.columns["h"], self.columns["y"]
        if kind == "W_xh":
            return (cx.right + self.block_left) / 2 - (16 * self.s if self.expanded else 0), self.row_center(r)
        if kind == "W_hy":
            return (ch.right + cy.left) / 2, self.row_center(r)
        if rolled:
            return ch.center, self.row_top(1) + self.strip_h + self.loop_h * 0.6
        y1 = self.bus_y(t) if self.expanded else self.row_top(t)
        return self.line_x("h"), (self.row_top(t - 1) + self.strip_h + y1) / 2

    def weight_steps(self, kind: str) -> list[int]:
        """The steps that draw a copy of weight `kind` (W_xh only where there is an input, W_hy
        only where there is an output, W_hh at every step)."""
        if kind == "W_hh":
            return list(range(1, self.T + 1))
        col = self.columns["x" if kind == "W_xh" else "y"]
        return [int(t) for t in np.nonzero(col.rows)[0]]


@dataclass
class NodeData:
    """What each column shows, row-aligned with the layout (row 0 = h_0; x/y rows 0 unused)."""

    forward: dict[str, np.ndarray]  # kind -> (T+1, units)
    backward: dict[str, np.ndarray]  # kind -> (T+1, units), only "h" and "y"
    limits: dict[tuple[str, str], float]  # (mode, kind) -> colour range ±limit
    flow: np.ndarray  # (T+1,) ‖dL/da_t‖, the gradient through the W_hh arrow into h_t (0 unused)
    flow_width: np.ndarray  # (T+1,) 0..1 on a log scale (last four decades)
    true_class: np.ndarray | None  # (T+1,) int, cross-entropy targets
    probabilities: bool  # y shows softmax probabilities
    loss_t: np.ndarray  # (T+1,)
    flow_c: np.ndarray | None = None  # LSTM: (T+1,) ‖dL/dc_t ⊙ f_t‖, carried back along c into c_{t−1}
    flow_c_width: np.ndarray | None = None  # 0..1 on the same log scale as `flow_width`
    nonfinite: bool = False  # a value shown is NaN or ±inf (drawn in colors.NONFINITE_RGBA)

    @staticmethod
    def sequential(kind: str) -> bool:
        """Gate strips of σ gates use the sequential 0 … 1 scale."""
        return kind.startswith("gate:") and kind[5:] in SIGMOID_GATES

    @classmethod
    def from_trace(cls, trace: Trace, layout: UnrolledLayout) -> "NodeData":
        T = trace.T
        inp = layout.columns["x"].rows
        out = layout.columns["y"].rows

        def rows(a: np.ndarray) -> np.ndarray:  # (T, B, n) -> (T+1, n) with a zero row 0
            a = np.asarray(a, dtype=float)[:, 0, :]
            return np.concatenate([np.zeros((1, a.shape[1])), a], axis=0)

        def lim(*arrays: np.ndarray) -> float:
            m = colors.symmetric_limit(*arrays)
            return 1.0 if m <= 1e-12 else colors.nice_limit(m)

        fx = rows(trace.x)
        fh = np.asarray(trace.h[:, 0, :], dtype=float)
        probabilities = trace.probs is not None
        fy = rows(trace.probs if probabilities else trace.y)
        fwd = {"x": fx, "h": fh, "y": fy}
        true_class = None
        limits: dict[tuple[str, str], float] = {}
        O = fy.shape[1]
        if trace.targets is not None:
            if probabilities:
                cls_ = np.concatenate([[0], np.asarray(trace.targets[:, 0], dtype=int)])
                true_class = np.where(out, cls_, -1)
                onehot = np.zeros((T + 1, O))
                ok = (true_class >= 0) & (true_class < O)
                onehot[np.nonzero(ok)[0], true_class[ok]] = 1.0
                fwd["target"] = onehot
            else:
                fwd["target"] = rows(trace.targets)
        limits[("forward", "x")] = lim(fx[inp]) if inp.any() else 1.0
        limits[("forward", "h")] = 1.0 if trace.activation in ("tanh", "sigmoid") else lim(fh)
        if probabilities:
            limits[("forward", "y")] = 1.0
        else:
            limits[("forward", "y")] = lim(fy[out], fwd["target"][out] if "target" in fwd else np.zeros(0))
        limits[("forward", "target")] = limits[("forward", "y")]
        bh = rows(trace.dL_dh)
        by = rows(trace.dL_dy)
        bwd = {"h": bh, "y": by}
        limits[("backward", "h")] = lim(bh)
        limits[("backward", "y")] = lim(by[out])
        cell = trace.cell
        flow = recurrent_flow(trace)  # (T+1,) what goes back through the recurrent matrices
        flow_c = None
        if cell == "lstm":
            fc = np.asarray(trace.c[:, 0, :], dtype=float)
            fwd["c"] = fc
            limits[("forward", "c")] = lim(fc)
            bc = rows(trace.dL_dc)
            bwd["c"] = bc
            limits[("backward", "c")] = lim(bc)
            flow_c = cell_state_flow(trace)  # (T+1,) along c: the arrow c_{t−1} → c_t
        for g, a in trace.gates.items():
            fwd["gate:" + g] = rows(a)
            limits[("forward", "gate:" + g)] = 1.0
        top = max(flow[1:].max(initial=0.0), 0.0 if flow_c is None else flow_c[1:].max(initial=0.0))
        width = _log_width(flow, top)
        width_c = None if flow_c is None else _log_width(flow_c, top)
        loss_t = np.concatenate([[0.0], np.asarray(trace.loss_t, float)])
        nonfinite = not all(np.isfinite(a).all() for a in (*fwd.values(), *bwd.values()))
        return cls(fwd, bwd, limits, flow, width, true_class, probabilities, loss_t, flow_c, width_c, nonfinite)


def _log_width(flow: np.ndarray, top: float) -> np.ndarray:
    """0..1 widths on a log scale (the last four decades below `top`); row 0 unused."""
    if top > 0:
        with np.errstate(divide="ignore"):
            lg = np.log10(np.maximum(flow, top * 1e-12) / top)  # ≤ 0
        width = np.clip(1.0 + lg / 4.0, 0.0, 1.0)
    else:
        width = np.zeros_like(flow)
    width[0] = 0.0
    return width


def row_states(kind: str, mode: str, forward_done: int, backward_from: int, T: int) -> tuple[str, int, int]:
    """How a column's rows look in this frame: (source, lo, hi) — rows lo..hi (inclusive) are
    drawn from `source` ("forward", "backward" or "faded"); every other row is drawn empty."""
    if mode == "forward":
        return "forward", (0 if kind in ("h", "c") else 1), forward_done
    if kind in ("h", "c", "y"):
        return "backward", max(1, backward_from), T
    return "faded", 1, T
