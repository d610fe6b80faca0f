"""Plot helpers for data from a diverged run."""
from __future__ import annotations

import numpy as np

from rnnviz.app.views.plots.display import finite_or_empty


def test_all_nan_data_becomes_an_empty_curve_and_gaps_stay_gaps():
    x, y = finite_or_empty(np.arange(3), np.full(3, np.nan))
    assert x.size == 0 and y.size == 0
    x, y = finite_or_empty(np.arange(3), np.array([1.0, np.nan, np.inf]))
    assert list(x) == [0, 1, 2] and y[0] == 1.0 and np.isnan(y[1])
