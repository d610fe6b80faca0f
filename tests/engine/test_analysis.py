"""The views' numbers: eigenvalues, spectral radius and hidden-state PCA, on matrices and
trajectories whose answers are known."""
import numpy as np
import pytest

from rnnviz.engine.analysis import eigenvalues, hidden_pca, largest_modulus, spectral_radius


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
