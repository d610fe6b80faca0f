"""The colour scales: finite values on the scale, NaN and ±inf in a colour of their own."""
from __future__ import annotations

import numpy as np

from rnnviz.app.style import colors


def test_values_map_onto_the_diverging_scale_symmetrically():
    c = colors.rgba(np.array([-1.0, 0.0, 1.0, 5.0]), 1.0)  # (4, 4)
    assert (c[0] == colors.LUT[0]).all() and (c[2] == colors.LUT[-1]).all()
    assert (c[1] == colors.LUT[len(colors.LUT) // 2]).all() or (c[1] == colors.LUT[len(colors.LUT) // 2 - 1]).all()
    assert (c[3] == colors.LUT[-1]).all()  # beyond the range: clipped to the end


def test_non_finite_values_get_the_marked_colour_on_both_scales():
    values = np.array([[0.5, np.nan], [np.inf, -np.inf]])  # (2, 2)
    for c in (colors.rgba(values, 1.0), colors.rgba_seq(values)):
        assert c.shape == (2, 2, 4)
        for i, j in ((0, 1), (1, 0), (1, 1)):
            assert (c[i, j] == colors.NONFINITE_RGBA).all()
        assert not (c[0, 0] == colors.NONFINITE_RGBA).all()
    # the marked colour is on neither scale, so it cannot be read as a value
    assert not (colors.LUT == colors.NONFINITE_RGBA).all(axis=1).any()
    assert not (colors.SEQ_LUT == colors.NONFINITE_RGBA).all(axis=1).any()


def test_the_lookup_tables_are_not_changed_by_marking():
    before = colors.LUT.copy()
    colors.rgba(np.array([np.nan] * 3), 1.0)
    assert (colors.LUT == before).all()


def test_numbers_on_the_marked_colour_are_light():
    assert not colors.text_is_dark(float("nan"), 1.0)
    assert not colors.seq_text_is_dark(float("nan"))
    assert colors.seq_text_is_dark(0.2) and not colors.seq_text_is_dark(0.9)
