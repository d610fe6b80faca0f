"""The one colour scale every view uses for values: diverging, symmetric about 0, colour-blind
safe (ColorBrewer RdBu: blue for negative, white for 0, red for positive; distinguishable
under deuteranopia and protanopia), with a fixed range so that colours mean the same thing
from step to step.
"""
from __future__ import annotations

import numpy as np

# ColorBrewer RdBu (11 classes), from most negative (dark blue) to most positive (dark red).
_ANCHORS = np.array([
    (5, 48, 97), (33, 102, 172), (67, 147, 195), (146, 197, 222), (209, 229, 240),
    (247, 247, 247),
    (253, 219, 199), (244, 165, 130), (214, 96, 77), (178, 24, 43), (103, 0, 31),
], dtype=float)


def lut(n: int = 256) -> np.ndarray:
    """(n, 4) uint8 RGBA lookup table from −max (index 0) to +max (index n−1)."""
    pos = np.linspace(0, len(_ANCHORS) - 1, n)
    rgb = np.stack([np.interp(pos, np.arange(len(_ANCHORS)), _ANCHORS[:, c]) for c in range(3)], axis=1)
    return np.concatenate([rgb, np.full((n, 1), 255.0)], axis=1).round().astype(np.uint8)


LUT = lut()

# NaN and ±inf get a colour of their own, outside both scales (magenta: in neither RdBu nor
# Greens), so a value that blew up is never read as a large finite one or as zero.
NONFINITE_RGBA = np.array((204, 0, 204, 255), dtype=np.uint8)


def symmetric_limit(*arrays: np.ndarray, floor: float = 1e-12) -> float:
    """The range ±m that holds every finite value of the arrays (m ≥ floor)."""
    m = floor
    for a in arrays:
        a = np.asarray(a)
        if a.size:
            finite = a[np.isfinite(a)]
            if finite.size:
                m = max(m, float(np.max(np.abs(finite))))
    return m


def nice_limit(m: float) -> float:
    """Round a range up to 1, 2 or 5 × 10^k so the legend reads cleanly."""
    if not np.isfinite(m) or m <= 0:
        return 1.0
    k = np.floor(np.log10(m))
    for f in (1.0, 2.0, 5.0, 10.0):
        if m <= f * 10**k * (1 + 1e-9):
            return float(f * 10**k)
    return float(10 ** (k + 1))


def to_index(values: np.ndarray, limit: float) -> np.ndarray:
    """LUT indices (uint8) for values on the scale ±limit; NaN/Inf map to the ends."""
    v = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0, posinf=limit, neginf=-limit)
    idx = np.clip((v / limit + 1.0) * 0.5 * (len(LUT) - 1), 0, len(LUT) - 1)
    return np.rint(idx).astype(np.uint8)


def _mark_nonfinite(out: np.ndarray, values: np.ndarray) -> np.ndarray:
    """out (..., 4), the colours of values (...), with NaN / ±inf entries set to NONFINITE_RGBA."""
    bad = ~np.isfinite(values)
    if bad.any():
        out[bad] = NONFINITE_RGBA
    return out


def rgba(values: np.ndarray, limit: float) -> np.ndarray:
    """(..., 4) uint8 colours for values on the scale ±limit; NaN / ±inf: NONFINITE_RGBA."""
    values = np.asarray(values, dtype=float)
    return _mark_nonfinite(LUT[to_index(values, limit)], values)


def text_is_dark(value: float, limit: float) -> bool:
    """Whether a number printed on this value's colour should be dark (light backgrounds)."""
    return abs(value) < 0.55 * limit


# The gates' scale: sequential 0 … 1 (a sigmoid's range), ColorBrewer Greens (9 classes), a hue
# apart from the diverging blue/red so a gate strip is never read as a signed value.
_SEQ_ANCHORS = np.array([
    (247, 252, 245), (229, 245, 224), (199, 233, 192), (161, 217, 155), (116, 196, 118),
    (65, 171, 93), (35, 139, 69), (0, 109, 44), (0, 68, 27),
], dtype=float)


def seq_lut(n: int = 256) -> np.ndarray:
    """(n, 4) uint8 RGBA lookup table from 0 (index 0) to 1 (index n−1)."""
    pos = np.linspace(0, len(_SEQ_ANCHORS) - 1, n)
    rgb = np.stack([np.interp(pos, np.arange(len(_SEQ_ANCHORS)), _SEQ_ANCHORS[:, c]) for c in range(3)], axis=1)
    return np.concatenate([rgb, np.full((n, 1), 255.0)], axis=1).round().astype(np.uint8)


SEQ_LUT = seq_lut()


def rgba_seq(values: np.ndarray) -> np.ndarray:
    """(..., 4) uint8 colours for values on the sequential scale 0 … 1; NaN / ±inf: NONFINITE_RGBA."""
    values = np.asarray(values, dtype=float)
    v = np.nan_to_num(values, nan=0.0, posinf=1.0, neginf=0.0)
    idx = np.rint(np.clip(v, 0.0, 1.0) * (len(SEQ_LUT) - 1)).astype(np.uint8)
    return _mark_nonfinite(SEQ_LUT[idx], values)


def seq_text_is_dark(value: float) -> bool:
    """Whether a number printed on a gate's colour should be dark."""
    return bool(np.isfinite(value)) and value < 0.62  # light text on the non-finite colour too


def texts_are_dark(values: np.ndarray, limit: float, sequential: bool = False) -> np.ndarray:
    """text_is_dark (or seq_text_is_dark when `sequential`) for a whole vector at once: (n,) bool."""
    v = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        return (np.isfinite(v) & (v < 0.62)) if sequential else (np.abs(v) < 0.55 * limit)
