"""The AR(p) baseline: least squares that recovers known coefficients, BIC that finds the
true order, and a comparison whose numbers equal direct computations."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.engine import init_rnn, make_task, run
from rnnviz.engine.baseline import (
    NotApplicable, applicability, bic_scores, compare, fit_ar, lag_matrix, mse, predict,
)


def ar_series(phi, n_seq=30, T=40, noise=1.0, seed=0, c=0.0):
    """Sequences (T, N, 1) of s_t = c + Σ φ_k s_{t−k} + noise, inputs s_t, targets s_{t+1}."""
    rng = np.random.default_rng(seed)
    p = len(phi)
    length = n_seq * (T + 1) + 100
    s = np.zeros(length)
    s[:p] = rng.normal(size=p)
    for i in range(p, length):
        s[i] = c + sum(f * s[i - k - 1] for k, f in enumerate(phi)) + noise * rng.normal()
    s = s[100:]
    seqs = s[: n_seq * (T + 1)].reshape(n_seq, T + 1).T  # (T+1, N)
    return seqs[:-1, :, None], seqs[1:, :, None]


def test_recovers_the_ar_task_coefficients():
    task = make_task("ar", n=400, steps=60)
    fit = fit_ar(task.x_train, task.y_train, p=2)
    assert fit.phi == pytest.approx([1.6, -0.8], abs=0.03)
    assert abs(fit.c) < 0.02


def noiseless_sequences(phi, c, n_seq=20, T=30, seed=0):
    """Each sequence from its own random start values, no noise (so it never settles)."""
    rng = np.random.default_rng(seed)
    p = len(phi)
    s = np.zeros((T + 1, n_seq))
    s[:p] = rng.normal(size=(p, n_seq))
    for i in range(p, T + 1):
        s[i] = c + sum(f * s[i - k - 1] for k, f in enumerate(phi))
    return s[:-1, :, None], s[1:, :, None]


def test_exact_fit_on_a_noiseless_ar3_series():
    phi = [0.5, 0.3, -0.4]
    x, y = noiseless_sequences(phi, 0.2)
    fit = fit_ar(x, y, p=3)
    np.testing.assert_allclose(fit.phi, phi, atol=1e-9)
    assert fit.c == pytest.approx(0.2, abs=1e-9)
    assert fit.train_mse < 1e-20
    pred = predict(fit, x)
    np.testing.assert_allclose(pred[2:], y[2:, :, 0], atol=1e-9)
    assert np.all(np.isnan(pred[:2]))  # no full window before step p


def test_bic_picks_the_true_order_on_a_clear_case():
    x, y = ar_series([0.6, -0.5, 0.3], noise=1.0, n_seq=40, T=50, seed=3)
    fit = fit_ar(x, y)  # p=None: BIC
    assert fit.criterion == "bic"
    assert fit.p == 3
    assert min(fit.scores, key=fit.scores.get) == 3


def test_bic_prefers_the_smallest_exact_order():
    task = make_task("echo", lag=3)
    fit = fit_ar(task.x_train, task.y_train)
    assert fit.p == 4  # y_t = x_{t−3}
    np.testing.assert_allclose(fit.phi, [0, 0, 0, 1], atol=1e-9)


def test_bic_values_follow_the_formula():
    x, y = ar_series([0.7], noise=1.0, n_seq=10, T=20)
    scores = bic_scores(x, y, 4)
    # p = 2 by hand, on steps 4..T (the rows every order shares)
    X = np.stack([np.ones_like(x[3:, :, 0]), x[3:, :, 0], x[2:-1, :, 0]], axis=-1).reshape(-1, 3)
    t = y[3:, :, 0].reshape(-1)
    beta = np.linalg.lstsq(X, t, rcond=None)[0]
    rss = float(np.sum((t - X @ beta) ** 2))
    n = len(t)
    assert scores[2] == pytest.approx(n * np.log(rss / n) + 3 * np.log(n), rel=1e-12)


def test_lag_matrix_windows_stay_inside_each_sequence():
    x = np.arange(12.0).reshape(4, 3)  # (T=4, N=3)
    L = lag_matrix(x, 2)  # steps 2..4
    assert L.shape == (3, 3, 2)
    np.testing.assert_array_equal(L[0, :, 0], x[1])
    np.testing.assert_array_equal(L[0, :, 1], x[0])


def test_comparison_numbers_equal_direct_computations():
    task = make_task("ar")
    model = init_rnn(1, 6, 1, seed=1)
    cmp = compare(task, model, p=2)
    fit = fit_ar(task.x_train, task.y_train, p=2)
    xv, yv = task.x_val[:, :, 0], task.y_val[:, :, 0]
    ar_direct = fit.c + fit.phi[0] * xv[1:] + fit.phi[1] * xv[:-1]  # steps 2..T
    assert cmp.ar_mse == pytest.approx(np.mean((ar_direct - yv[1:]) ** 2), rel=1e-12)
    y_rnn = run(model, task.x_val, task.y_val).y[:, :, 0]
    assert cmp.rnn_mse == pytest.approx(np.mean((y_rnn[1:] - yv[1:]) ** 2), rel=1e-12)
    assert cmp.rnn_mse_all == pytest.approx(np.mean((y_rnn - yv) ** 2), rel=1e-12)
    assert cmp.first == 2 and cmp.sequences == task.x_val.shape[1]
    assert mse(cmp.ar_pred, cmp.target, 2) == cmp.ar_mse


def test_verdict_names_the_better_model_and_the_margin():
    task = make_task("ar")
    cmp = compare(task, init_rnn(1, 6, 1, seed=1), p=2)
    assert cmp.winner == "ar"
    margin = (cmp.rnn_mse - cmp.ar_mse) / cmp.rnn_mse
    assert cmp.verdict() == (f"On this held-out data the RNN's error is {cmp.rnn_mse:.4g}, AR(2)'s is "
                             f"{cmp.ar_mse:.4g}: AR(2) is better by {margin:.0%}")


@pytest.mark.parametrize("name", ["hello", "parity", "xor", "sum", "wave"])
def test_baseline_says_why_it_does_not_apply(name):
    task = make_task(name)
    why = applicability(task)
    assert why is not None and len(why) > 20
    with pytest.raises(NotApplicable):
        compare(task, init_rnn(task.input_size, 4, task.output_size, architecture=task.architecture,
                               loss=task.loss))


def test_baseline_applies_to_imported_series():
    from rnnviz.engine.io.importers import series_task

    values = np.sin(np.arange(400) * 0.3)[:, None] + 0.1 * np.random.default_rng(0).normal(size=(400, 1))
    task, _ = series_task(values, ["v"], steps=20, held_out=0.2)
    assert applicability(task) is None
    cmp = compare(task, init_rnn(1, 4, 1))
    assert np.isfinite(cmp.ar_mse) and cmp.ar_mse < 0.1


def test_imported_series_without_held_out_part_is_not_applicable():
    from rnnviz.engine.io.importers import series_task

    task, _ = series_task(np.arange(100.0)[:, None], ["v"], steps=10, held_out=0.0)
    assert "held-out" in applicability(task)
