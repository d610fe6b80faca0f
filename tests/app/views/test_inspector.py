"""The inspector shows the trace's own numbers, with the formula's parts adding up to them."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.app.state.selection import Selection


def test_follows_playback_when_nothing_is_selected(window, session):
    session.go_to("forward", 4)
    assert window.inspector.current == Selection("h", 4)
    assert window.inspector.numbers["h[0]"] == session.trace.h[4, 0, 0]


@pytest.mark.parametrize("t", [1, 5, 25])
def test_hidden_state_numbers_equal_the_trace(window, session, t):
    session.select(Selection("h", t))
    n, tr = window.inspector.numbers, session.trace
    for j in range(3):
        assert n[f"a[{j}]"] == tr.a[t - 1, 0, j]
        assert n[f"h[{j}]"] == tr.h[t, 0, j]
        assert n[f"xW[{j}]"] + n[f"hW[{j}]"] + n[f"b[{j}]"] == pytest.approx(tr.a[t - 1, 0, j], abs=1e-12)
    html = window.inspector.text.toHtml()
    assert "tanh" in html and "h<" in window.inspector.page.html


def test_selected_unit_is_worked_out(window, session):
    session.select(Selection("h", 3, unit=6))
    assert "a[6]" in window.inspector.numbers and "a[0]" not in window.inspector.numbers


def test_backward_parts_equal_the_trace(window, session):
    t = 10
    session.go_to("backward", t)
    session.select(Selection("h", t))
    n, tr = window.inspector.numbers, session.trace
    for j in range(3):
        assert n[f"dL_dh_out[{j}]"] == tr.dL_dh_out[t - 1, 0, j]
        assert n[f"dL_dh_future[{j}]"] == tr.dL_dh_future[t - 1, 0, j]
        assert n[f"dL_dh[{j}]"] == tr.dL_dh[t - 1, 0, j]
        assert n[f"dL_da[{j}]"] == tr.dL_da[t - 1, 0, j]
        assert n[f"dL_dh[{j}]"] * n[f"fprime[{j}]"] == pytest.approx(tr.dL_da[t - 1, 0, j], abs=1e-15)


def test_output_with_softmax_and_loss_on_hello(window, session):
    session.set_config(task="hello")
    session.select(Selection("y", 2))
    n, tr = window.inspector.numbers, session.trace
    for k in range(tr.y.shape[2]):
        assert n[f"p[{k}]"] == tr.probs[1, 0, k]
    assert n["y[0]"] == tr.y[1, 0, 0]
    assert n["loss_t"] == tr.loss_t[1]
    assert "softmax" in window.inspector.page.html


def test_weight_selection_shows_heatmaps_of_the_shared_matrix(window, session):
    session.select(Selection("W_hh", 3))
    insp, tr = window.inspector, session.trace
    assert insp.plots.isVisible()
    np.testing.assert_array_equal(insp.weight_image.image, tr.params["W_hh"])
    np.testing.assert_array_equal(insp.grad_image.image, tr.grads["grad_W_hh"])
    assert insp.numbers["step_grad_norm"] == tr.step_grad_norms["W_hh"][2]
    image_item = insp.weight_image
    session.select(Selection("W_xh", 4))
    assert insp.weight_image is image_item  # reused, not rebuilt
    np.testing.assert_array_equal(insp.weight_image.image, tr.params["W_xh"])
    session.select(Selection("x", 2))
    assert not insp.plots.isVisible()
    assert insp.numbers["x[0]"] == tr.x[1, 0, 0]
