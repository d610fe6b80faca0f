"""The AR(p) baseline: least squares that recovers known coefficients, BIC that finds the
true order, and a comparison whose numbers equal direct computations."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from rnnviz.engine import init_rnn, make_task, run
from rnnviz.engine.baseline import (
    MIN_POINTS, SEPARATES, NotApplicable, applicability, bic_scores, compare, fit_ar, lag_matrix, mse, predict,
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
    n = cmp.sequences * (cmp.steps - 1)
    assert cmp.points == n >= MIN_POINTS and cmp.paired_t > SEPARATES  # the RNN's squared errors are larger
    assert cmp.verdict() == (f"On this held-out data ({n} points) the RNN's error is {cmp.rnn_mse:.4g}, AR(2)'s is "
                             f"{cmp.ar_mse:.4g}: AR(2) is better by {margin:.0%}")


def _ar2_series(n: int, seed: int = 0) -> np.ndarray:
    """A noisy AR(2) series (n, 1): s_t = 1.5 s_{t−1} − 0.75 s_{t−2} + ε."""
    rng = np.random.default_rng(seed)
    s = np.zeros(n)
    for t in range(2, n):
        s[t] = 1.5 * s[t - 1] - 0.75 * s[t - 2] + 0.3 * rng.normal()
    return s[:, None]


@pytest.mark.parametrize("held_out,windows,called", [(0.075, 3, False), (0.1, 4, True)])
def test_verdict_is_too_few_to_call_below_the_threshold_and_real_above(held_out, windows, called):
    from rnnviz.engine.io.importers import series_task

    task, _ = series_task(_ar2_series(400), ["v"], steps=10, stride=10, held_out=held_out)
    assert task.x_val.shape[1] == windows
    cmp = compare(task, init_rnn(1, 4, 1, seed=3), p=2)
    assert cmp.points == windows * 9  # AR(2) scores steps 2..10 of each held-out window: 27, then 36
    text = cmp.verdict()
    assert f"({cmp.points} points)" in text
    assert cmp.winner == "ar" and abs(cmp.paired_t) > SEPARATES  # the errors differ clearly either way
    if called:
        assert cmp.points >= MIN_POINTS and cmp.callable and "AR(2) is better by" in text
    else:
        assert cmp.points < MIN_POINTS and not cmp.callable
        assert text.endswith(f"too few to call (a verdict needs at least {MIN_POINTS} held-out points)")


def test_verdict_too_close_to_call_when_the_paired_test_cannot_separate():
    task = make_task("ar")
    cmp = compare(task, init_rnn(1, 6, 1, seed=1), p=2)
    noise = np.random.default_rng(5).normal(size=cmp.target.shape)
    # two predictions equally far from the target, in random directions: the paired differences
    # of squared errors centre on 0, whatever the 1% rule says about their means
    fake = dataclasses.replace(cmp, rnn_pred=cmp.target + noise, ar_pred=cmp.target - noise[::-1, ::-1],
                               rnn_mse=1.0, ar_mse=1.2)
    assert fake.points >= MIN_POINTS and abs(fake.paired_t) < SEPARATES
    assert "too close to call" in fake.verdict() and not fake.callable


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
