"""BPTT against central finite differences in float64, for every activation × architecture × loss.

Every parameter gradient and the total dL/dh_t (which includes the share that arrives from the
future through W_hh) must agree with the finite differences to a worst relative error < 1e-6.
"""
import numpy as np
import pytest

from rnnviz.engine import ACTIVATIONS, ARCHITECTURES, LOSSES, PARAM_NAMES, init_rnn, run
from rnnviz.engine.gradcheck import (
    central_difference,
    numeric_hidden_grads,
    numeric_param_grads,
    random_check,
    relative_error,
)

TOLERANCE = 1e-6


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_bptt_gradients_match_finite_differences(activation, architecture, loss):
    errors = random_check(seed=1, activation=activation, architecture=architecture, loss=loss)
    assert set(errors) == {*PARAM_NAMES, "dL_dh"}
    worst = max(errors, key=errors.get)
    assert errors[worst] < TOLERANCE, f"{worst}: relative error {errors[worst]:.3e}"


@pytest.mark.parametrize("seed", [2, 3])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_bptt_gradients_match_finite_differences_on_other_seeds_and_sizes(activation, seed):
    errors = random_check(seed=seed, activation=activation, T=7, B=2, I=2, H=3, O=3)
    assert max(errors.values()) < TOLERANCE, errors


def test_finite_differences_of_hidden_state_see_the_future_through_W_hh():
    # dL/dh_t for t < T is more than the part from y_t: the numeric check must see that.
    model = init_rnn(2, 3, 2, seed=4)
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(4, 2, 2)), rng.normal(size=(4, 2, 2))
    trace = run(model, x, y)
    numeric = numeric_hidden_grads(model, x, y)
    assert relative_error(trace.dL_dh, numeric) < TOLERANCE
    assert relative_error(trace.dL_dh_out[:-1], numeric[:-1]) > 1e-3  # the future's share is real
    np.testing.assert_allclose(trace.dL_dh_out[-1], numeric[-1], rtol=1e-8, atol=1e-12)


def test_gradient_check_catches_a_wrong_gradient():
    model = init_rnn(2, 3, 2, seed=5)
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(4, 2, 2)), rng.normal(size=(4, 2, 2))
    trace = run(model, x, y)
    numeric = numeric_param_grads(model, x, y)
    assert relative_error(trace.grads["grad_W_hh"], numeric["W_hh"]) < TOLERANCE
    wrong = trace.grads["grad_W_hh"].copy()
    wrong[0, 0] *= 1.0 + 1e-4
    assert relative_error(wrong, numeric["W_hh"]) > 1e-5
    assert relative_error(trace.grads["grad_W_hh"].T, numeric["W_hh"]) > 1e-2  # transposed is wrong


def test_numeric_gradients_leave_the_model_unchanged():
    model = init_rnn(2, 3, 2, seed=6)
    before = {k: v.copy() for k, v in model.params().items()}
    rng = np.random.default_rng(6)
    numeric_param_grads(model, rng.normal(size=(3, 1, 2)), rng.normal(size=(3, 1, 2)))
    for name, value in model.params().items():
        np.testing.assert_array_equal(value, before[name])


def test_relative_error_is_zero_for_equal_arrays_and_symmetric():
    a = np.array([1.0, -2.0, 3e-3])
    b = a * (1 + 1e-7)
    assert relative_error(a, a) == 0.0
    assert relative_error(a, b) == pytest.approx(relative_error(b, a))
    assert relative_error(a, b) == pytest.approx(1e-7, rel=1e-3)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0


def test_relative_error_judges_tiny_entries_against_the_array_scale():
    # an entry 1e6 times smaller than its neighbour, off by 1e-12 absolute, is judged against
    # 1e-4 of the largest entry (error 1e-8), not against its own size (which would say 1e-6)
    a = np.array([1.0, 1e-6])
    b = np.array([1.0, 1e-6 + 1e-12])
    assert relative_error(a, b) == pytest.approx(1e-8, rel=1e-6)


def test_fourth_order_central_difference_is_exact_for_quartics():
    f = lambda d: 3.0 * d**4 - 2.0 * d**3 + 0.5 * d**2 + 7.0 * d + 1.0  # noqa: E731
    assert central_difference(f) == pytest.approx(7.0, rel=1e-12)
    assert central_difference(np.sin) == pytest.approx(1.0, rel=1e-12)
