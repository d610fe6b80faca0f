"""The views' numbers: eigenvalues, spectral radius, hidden-state PCA and the backward flow, on
matrices, trajectories and traces whose answers are known."""
import numpy as np
import pytest

from rnnviz.engine import init_model, run
from rnnviz.engine.analysis import (cell_state_flow, eigenvalues, hidden_pca, largest_modulus, recurrent_flow,
                                    spectral_radius)


def test_eigenvalues_of_a_rotation_are_on_the_unit_circle():
    th = 0.3
    R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    ev = eigenvalues(R)
    assert ev.dtype.kind == "c"
    np.testing.assert_allclose(sorted(ev.imag), [-np.sin(th), np.sin(th)], atol=1e-14)
    np.testing.assert_allclose(ev.real, [np.cos(th)] * 2, atol=1e-14)
    assert spectral_radius(R) == pytest.approx(1.0, abs=1e-14)


def test_eigenvalues_of_a_diagonal_matrix_and_its_radius():
    W = np.diag([0.5, -2.0, 1.5])
    np.testing.assert_allclose(sorted(eigenvalues(W).real), [-2.0, 0.5, 1.5])
    assert spectral_radius(W) == 2.0


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_matrix_has_no_eigenvalues_and_nan_radius(bad):
    W = np.eye(3)
    W[1, 2] = bad
    ev = eigenvalues(W)
    assert ev.shape == (0,) and ev.dtype == complex
    assert np.isnan(spectral_radius(W))
    assert np.isnan(largest_modulus(ev))


def test_largest_modulus_of_complex_values():
    assert largest_modulus(np.array([3 + 4j, -1.0 + 0j])) == 5.0


def test_pca_of_a_line_puts_everything_on_the_first_direction():
    t = np.arange(5.0)[:, None]  # (T+1, 1)
    direction = np.array([[3.0, 4.0, 0.0]]) / 5.0  # (1, H)
    h = 1.0 + t * direction  # (T+1, H): a straight path
    p = hidden_pca(h)
    np.testing.assert_allclose(p.mean, 1.0 + 2.0 * direction[0])
    assert p.explained[0] == pytest.approx(1.0) and p.explained[1] == pytest.approx(0.0, abs=1e-20)
    np.testing.assert_allclose(np.abs(p.basis[:, 0]), np.abs(direction[0]), atol=1e-12)
    np.testing.assert_allclose(np.abs(p.points[:, 0]), [2, 1, 0, 1, 2], atol=1e-12)
    np.testing.assert_allclose(p.points[:, 1], 0.0, atol=1e-12)


def test_pca_explained_shares_of_an_ellipse():
    th = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    h = np.stack([3 * np.cos(th), np.sin(th)], axis=1)  # (8, 2): axes 3 and 1
    p = hidden_pca(h)
    assert p.explained == pytest.approx((0.9, 0.1))
    np.testing.assert_allclose(np.abs(p.basis), np.eye(2), atol=1e-12)


def test_pca_keeps_signs_of_the_previous_basis():
    rng = np.random.default_rng(0)
    h = rng.normal(size=(6, 4))
    first = hidden_pca(h)
    flipped = -first.basis
    again = hidden_pca(h, previous_basis=flipped)
    np.testing.assert_array_equal(again.basis, flipped)
    np.testing.assert_array_equal(again.points, -first.points)
    other_H = hidden_pca(h, previous_basis=np.ones((3, 2)))  # another H: ignored
    np.testing.assert_array_equal(other_H.basis, first.basis)


def test_pca_of_a_single_state_and_of_nan():
    one = hidden_pca(np.array([[1.0, 2.0]]))  # T+1 = 1: one direction at most
    assert one.basis.shape == (2, 2) and one.explained == (0.0, 0.0)
    np.testing.assert_array_equal(one.points, [[0.0, 0.0]])
    h = np.array([[0.0, 1.0], [np.nan, 2.0], [1.0, 3.0]])
    p = hidden_pca(h)
    assert np.all(np.isfinite(p.basis))
    assert np.isnan(p.points).any()


def a_trace(cell: str):
    model = init_model(cell, 2, 3, 2, seed=4)
    rng = np.random.default_rng(4)
    return run(model, rng.normal(size=(5, 2, 2)), rng.normal(size=(5, 2, 2)))


def test_recurrent_flow_of_the_vanilla_cell_is_the_norm_of_dL_da():
    tr = a_trace("rnn")
    tr.dL_da[1, 1, :] = [3.0, 4.0, 0.0]  # sequence 1, step 2
    flow = recurrent_flow(tr, seq=1)
    assert flow.shape == (6,) and flow[0] == 0.0 and flow[2] == 5.0
    np.testing.assert_allclose(recurrent_flow(tr)[1:], np.sqrt((tr.dL_da[:, 0, :] ** 2).sum(axis=1)))


def test_recurrent_flow_of_a_gated_cell_takes_every_gate():
    tr = a_trace("gru")
    want = np.sqrt(sum((tr.dL_dgate_pre[g][:, 0, :] ** 2).sum(axis=1) for g in ("r", "z", "n")))
    np.testing.assert_allclose(recurrent_flow(tr)[1:], want)


def test_cell_state_flow_is_dL_dc_times_the_forget_gate():
    tr = a_trace("lstm")
    want = np.sqrt(((tr.dL_dc[:, 0, :] * tr.gates["f"][:, 0, :]) ** 2).sum(axis=1))
    flow = cell_state_flow(tr)
    assert flow[0] == 0.0
    np.testing.assert_allclose(flow[1:], want)


def test_flows_read_nan_as_zero_and_inf_as_a_large_number():
    tr = a_trace("rnn")
    tr.dL_da[0, 0, 0] = np.nan
    tr.dL_da[2, 0, 0] = np.inf
    flow = recurrent_flow(tr)
    assert flow[1] == 0.0 and flow[3] == 1e300


def test_flows_of_a_diverged_lstm_warn_about_nothing():
    """inf · 0 (a closed forget gate on an infinite dL/dc) and norms that overflow are read as
    the docstrings say, without a RuntimeWarning (the suite turns warnings into errors)."""
    tr = a_trace("lstm")
    tr.dL_dc[1, 0, 0] = np.inf
    tr.gates["f"][1, 0, 0] = 0.0  # inf · 0 = NaN
    tr.dL_dc[2, 0, :] = 1e200  # its norm overflows
    flow = cell_state_flow(tr)
    assert flow[2] == 0.0 and flow[3] == 1e300 and np.isfinite(flow).all()
    tr = a_trace("rnn")
    tr.dL_da[1, 0, :] = 1e200
    assert recurrent_flow(tr)[2] == 1e300
