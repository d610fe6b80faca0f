"""Numbers as the window shows them in text, so that every place that names the same value
says it the same way (the header's summary, the status bar, the training panel's readout)."""
from __future__ import annotations

import math


def format_loss(value: float) -> str:
    """A loss as text: a finite value as a number with 4 significant digits, however large or
    small ("0.01234", "3.19e+302", "1.5e-310"), and only a value that really is infinite or not
    a number as "inf" / "nan"."""
    v = float(value)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.4g}"
