"""Axes that hold still and read well, for every pyqtgraph plot (the plots, the inspector's
per-step bars, the lab, the baseline panel): view ranges that move only when the data leaves
them, decade ticks on log axes, unit labels at round steps, whole-number step ticks.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

def steady_range(plot: pg.PlotItem, axis: str, lo: float, hi: float, headroom: float = 0.2,
                 shrink: float = 0.3, floor: float | None = None, min_span: float = 0.0,
                 decades: bool = False) -> None:
    """Keep a view range still while the data moves inside it (a new range redraws the axes,
    the most expensive part of a frame): expand with head-room when the data [lo, hi] leaves
    it, shrink when the data fills less than `shrink` of it. In log mode pass log10 values.
    `floor`: never show below this (e.g. 0 for iterations). `min_span`: show at least this
    much (e.g. one decade on a log axis). `decades`: a log axis; the range is whole decades
    (at least two), so pyqtgraph labels only the powers of ten and never crowds the axis."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return
    if hi - lo < min_span:
        mid = (hi + lo) / 2
        lo, hi = mid - min_span / 2, mid + min_span / 2
    if hi - lo < 1e-12:
        pad = max(abs(hi), 1.0) * 0.05
        lo, hi = lo - pad, hi + pad
    key = f"_rnnviz_range_{axis}"
    cur = getattr(plot, key, None)
    if cur is not None:
        c0, c1 = cur
        inside = c0 <= lo and hi <= c1
        if inside and (hi - lo) >= shrink * (c1 - c0):
            return
    span = hi - lo
    new = (lo - headroom * span * 0.25, hi + headroom * span)
    if floor is not None:
        new = (max(floor, new[0]), new[1])
    if decades:
        a, b = float(np.floor(new[0])), float(np.ceil(new[1]))
        if b - a < 2:
            a = b - 2
        new = (a, b)
        step = max(1, int(np.ceil((b - a) / 6)))
        side = "left" if axis == "y" else "bottom"
        plot.getAxis(side).setTicks([[(k, power_of_ten(k)) for k in range(int(a), int(b) + 1, step)], []])
        setattr(plot, f"_rnnviz_decade_ticks_{side}", True)
    setattr(plot, key, new)
    if axis == "x":
        plot.enableAutoRange(x=False)
        plot.setXRange(*new, padding=0)
    else:
        plot.enableAutoRange(y=False)
        plot.setYRange(*new, padding=0)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def decades_that_fit(lo: float, hi: float, height_px: float, px_per_decade: float = 24.0) -> float:
    """On a log axis of `height_px` pixels holding log10 values lo..hi: the lowest value to show,
    so that each decade gets at least `px_per_decade` pixels (one decade at least, always). The
    top is kept: the largest values matter most; the caller says what it cut below."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return lo
    most = max(1.0, float(np.floor(height_px / px_per_decade)))
    return max(lo, hi - most)


def power_of_ten(k: int) -> str:
    """10^k as a tick label: plain for 0.001 … 1000, else 10 with a superscript."""
    if -3 <= k <= 3:
        return f"{10.0**k:g}"
    return "10" + str(k).translate(_SUPERSCRIPT)


def forget_range(plot: pg.PlotItem) -> None:
    """Drop what `steady_range` remembers of the plot (and its decade ticks): the next call starts afresh."""
    for axis in ("x", "y"):
        if hasattr(plot, f"_rnnviz_range_{axis}"):
            delattr(plot, f"_rnnviz_range_{axis}")
    for side in ("left", "bottom"):
        if getattr(plot, f"_rnnviz_decade_ticks_{side}", False):
            plot.getAxis(side).setTicks(None)
            setattr(plot, f"_rnnviz_decade_ticks_{side}", False)


def finite_span(values: np.ndarray, log: bool = False) -> tuple[float, float]:
    """(min, max) of the finite values (positive ones in log10 when `log`); NaNs when there are none."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)] if log else v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan")
    lo, hi = float(v.min()), float(v.max())
    return (np.log10(lo), np.log10(hi)) if log else (lo, hi)


_NICE_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


def unit_axis_ticks(n: int, prefix: str, max_labels: int = 4) -> list[list[tuple[float, str]]]:
    """Tick labels for matrix rows/units 0 … n-1 (numbered from 0, as the inspector and the
    unrolled view number them: tick i sits on unit i), as levels of round steps: the first level (at most
    `max_labels`, which pyqtgraph always draws) at the coarsest round step, then each finer
    step's new labels as a level of its own, which pyqtgraph draws only where the text has room.
    So a short axis shows h100, h200 for 256 units and a tall one fills in h50, h150, ... (a
    fixed 16 labels at the first level overlapped in the short heatmaps).  Levels stop at 40
    labels in all: no axis here is tall enough for more, and pyqtgraph draws a tick mark for
    every label it is given (one per unit made a grey bar at H=256)."""
    coarsest = next((s for s in _NICE_STEPS if n / s <= max_labels), _NICE_STEPS[-1])
    steps = [s for s in _NICE_STEPS if s <= coarsest][::-1]  # coarse to fine, ending at 1
    levels, seen = [], set()
    for step in steps:
        level = [(i, f"{prefix}{i}") for i in range(n) if i % step == 0 and i not in seen]
        if level and len(seen) + len(level) > max(40, max_labels) and levels:
            break  # finer levels could never fit (and pyqtgraph draws every level's tick marks)
        seen.update(i for i, _ in level)
        if level:
            levels.append(level)
    return levels


def set_unit_ticks(axis: pg.AxisItem, n: int, prefix: str) -> None:
    """Label a units axis with `unit_axis_ticks`, every level allowed to show where it fits
    (pyqtgraph labels only the first three levels unless told otherwise)."""
    levels = unit_axis_ticks(n, prefix)
    axis.setStyle(maxTextLevel=len(levels) - 1)
    axis.setTicks(levels)


def integer_ticks(plot: pg.PlotItem, n: int, axis: str = "bottom") -> None:
    """Whole-number ticks on a step axis (no t = 2.5) when there are few steps."""
    ax = plot.getAxis(axis)
    if n <= 12:
        ax.setTickSpacing(1, 1)
    elif n <= 30:
        ax.setTickSpacing(5, 1)
    else:
        ax.setTickSpacing()  # pyqtgraph's automatic spacing
