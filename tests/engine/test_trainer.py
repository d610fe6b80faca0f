"""The trainer: stops on NaN/Inf naming the iteration and time step with the weights intact,
reproduces a run after reset, trains on mini-batches, and keeps a bounded history."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnviz.engine import NonFiniteError, Trainer, init_rnn, make_task, run
from rnnviz.engine.history import History, Series, Snapshots


def sine_trainer(activation="tanh", steps=12, hidden=4, **kwargs):
    task = make_task("sine", steps=steps)
    model = init_rnn(1, hidden, 1, activation=activation, seed=0)
    return Trainer(model, task.x_train, task.y_train, **kwargs)


def params_copy(model):
    return {k: v.copy() for k, v in model.params().items()}


def assert_same_params(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


# ------------------------------------------------------------------------------------------
# NaN / Inf
@pytest.mark.parametrize("activation, optimizer", [("identity", "adam"), ("identity", "sgd"), ("relu", "sgd"), ("tanh", "sgd")])
def test_huge_learning_rate_raises_nonfinite_error_naming_iteration_and_time_step(activation, optimizer):
    # warn mode: the divergence check warns once (at iteration 1) and leaves the rest to the NaN check
    trainer = sine_trainer(activation, optimizer=optimizer, lr=1e100, on_divergence="warn")
    with pytest.raises(NonFiniteError) as excinfo:
        for _ in range(10):
            trainer.step()
    err = excinfo.value
    assert type(err) is NonFiniteError  # the NaN failure itself, not a divergence
    assert err.iteration == trainer.iteration + 1 >= 2
    assert isinstance(err.step, int) and 1 <= err.step <= 12
    assert str(err).startswith(f"iteration {err.iteration}: non-finite value in ")
    assert f"at time step t={err.step}" in str(err)
    assert "lower the learning rate" in str(err)
    # the named step really is the first where something is not finite (weights are intact)
    trace = run(trainer.model, trainer.x, trainer.targets)
    per_step = np.stack([np.isfinite(trace.a).all(axis=(1, 2)), np.isfinite(trace.h[1:]).all(axis=(1, 2)),
                         np.isfinite(trace.y).all(axis=(1, 2)), np.isfinite(trace.loss_t)])
    first_bad = int(np.flatnonzero(~per_step.all(axis=0))[0]) + 1
    assert err.step == first_bad


def test_overflowing_gradients_name_the_step_the_backward_pass_reached_first():
    # forward stays at exactly 0 (f' = 1), but dL/dh grows ×1e100 per step back through W_hh
    T, H = 6, 3
    model = init_rnn(1, H, 1, seed=1)
    model.W_hh[...] = 1e100 * np.eye(H)
    model.b_h[...] = 0.0
    x, y = np.zeros((T, 2, 1)), np.ones((T, 2, 1))
    trainer = Trainer(model, x, y, optimizer="sgd", lr=0.1)
    before = params_copy(model)
    with pytest.raises(NonFiniteError) as excinfo:
        trainer.step()
    err = excinfo.value
    trace = run(model, x, y)
    assert np.isfinite(trace.loss) and np.all(np.isfinite(trace.h))
    bad = ~np.isfinite(trace.dL_dh).all(axis=(1, 2))
    assert err.iteration == 1 and "the gradients (dL_dh)" in str(err)
    assert err.step == int(np.flatnonzero(bad)[-1]) + 1  # the latest step: where BPTT first hit Inf
    assert 1 <= err.step < T and np.all(np.isfinite(trace.dL_dh[err.step:]))
    assert_same_params(params_copy(model), before)
    assert trainer.iteration == 0 and len(trainer.history.loss) == 0


def test_weights_unchanged_after_a_failing_forward_step():
    trainer = sine_trainer("identity", optimizer="sgd", lr=1e100, on_divergence="warn")
    assert trainer.step().warning is not None  # finite, but leaves enormous weights
    before = params_copy(trainer.model)
    with pytest.raises(NonFiniteError):
        trainer.step()
    assert_same_params(params_copy(trainer.model), before)
    assert trainer.iteration == 1
    assert list(trainer.history.loss.iterations) == [1]


# (Adagrad's step is at most lr per entry, so its update alone cannot overflow)
@pytest.mark.parametrize("optimizer, momentum", [("sgd", 0.9), ("adam", 0.0)])
def test_failed_update_leaves_weights_and_optimizer_state_as_before(optimizer, momentum):
    lr = 0.01
    trainer = sine_trainer(optimizer=optimizer, lr=lr, momentum=momentum)
    reference = sine_trainer(optimizer=optimizer, lr=lr, momentum=momentum)
    for _ in range(3):
        trainer.step()
        reference.step()
    before = params_copy(trainer.model)
    trainer.set_lr(1e308)  # the update itself overflows
    with pytest.raises(NonFiniteError) as excinfo:
        trainer.step()
    assert excinfo.value.iteration == 4
    assert "the updated weights" in str(excinfo.value) and excinfo.value.step is None
    assert_same_params(params_copy(trainer.model), before)
    # lowering the rate again carries on exactly as if the failed step had never been tried
    trainer.set_lr(lr)
    for _ in range(3):
        a, b = trainer.step(), reference.step()
        assert a.iteration == b.iteration and a.loss == b.loss
    assert_same_params(params_copy(trainer.model), params_copy(reference.model))


# ------------------------------------------------------------------------------------------
# reproducibility
def losses(trainer, n):
    return [trainer.step().loss for _ in range(n)]


def test_reset_reproduces_the_same_loss_sequence():
    trainer = sine_trainer(optimizer="adam", lr=0.02, batch_size=5)
    initial = params_copy(trainer.model)
    first = losses(trainer, 15)
    trained = params_copy(trainer.model)
    trainer.reset()
    assert trainer.iteration == 0 and len(trainer.history.loss) == 0 and not trainer.history.snapshots.items
    assert_same_params(params_copy(trainer.model), initial)
    assert losses(trainer, 15) == first
    assert_same_params(params_copy(trainer.model), trained)
    assert len(set(first)) == 15  # mini-batches differ, so the check is not trivial


def test_same_seed_gives_the_same_run_and_another_seed_a_different_one():
    a = losses(sine_trainer(batch_size=4, seed=7), 10)
    b = losses(sine_trainer(batch_size=4, seed=7), 10)
    c = losses(sine_trainer(batch_size=4, seed=8), 10)
    assert a == b
    assert a != c


# ------------------------------------------------------------------------------------------
# mini-batches
def test_mini_batches_cover_every_sequence_once_per_epoch():
    trainer = sine_trainer(batch_size=8)  # 32 training sequences
    N = trainer.x.shape[1]
    assert N == 32
    for _ in range(3):  # three epochs
        epoch = np.concatenate([trainer.next_batch() for _ in range(N // 8)])
        assert sorted(epoch) == list(range(N))


def test_mini_batch_training_runs_on_batches_and_lowers_the_loss():
    trainer = sine_trainer(batch_size=8, lr=0.03)
    start = trainer.loss()
    results = [trainer.step() for _ in range(60)]
    assert all(r.trace.B == 8 for r in results)
    assert trainer.loss() < 0.5 * start


def test_mini_batch_step_uses_the_batch_it_says():
    trainer = sine_trainer(batch_size=6, seed=3)
    probe = sine_trainer(batch_size=6, seed=3)
    idx = probe.next_batch()
    result = trainer.step()
    np.testing.assert_array_equal(result.trace.x, trainer.x[:, idx])
    expected = run(probe.model, probe.x[:, idx], probe.targets[:, idx])
    assert result.loss == expected.loss


@pytest.mark.parametrize("batch_size", [0, 33])
def test_batch_size_outside_the_training_set_is_refused(batch_size):
    with pytest.raises(ValueError, match="batch size must lie between 1 and the 32"):
        sine_trainer(batch_size=batch_size)


def test_step_result_reports_gradient_norm_before_clipping():
    trainer = sine_trainer(clip=1e-3)
    result = trainer.step()
    assert result.grad_norm == pytest.approx(result.trace.grad_norm(), rel=1e-12)
    assert result.grad_norm > 1e-3 and result.clipped
    assert trainer.history.grad_norm.last() == result.grad_norm


def test_invalid_settings_are_refused():
    trainer = sine_trainer()
    for lr in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="learning rate"):
            trainer.set_lr(lr)
    for clip in (0.0, -2.0, float("nan")):
        with pytest.raises(ValueError, match="clipping threshold"):
            trainer.set_clip(clip)
    with pytest.raises(ValueError, match="unknown optimizer"):
        sine_trainer(optimizer="rmsprop")


def test_validation_loss_is_recorded_on_the_first_and_every_nth_iteration():
    task = make_task("sine", steps=8)
    model = init_rnn(1, 4, 1, seed=0)
    trainer = Trainer(model, task.x_train, task.y_train, x_val=task.x_val, y_val=task.y_val, val_every=5)
    for _ in range(10):
        trainer.step()
    assert trainer.history.val_loss.last() == run(model, task.x_val, task.y_val).loss  # after the update
    for _ in range(2):
        trainer.step()
    assert list(trainer.history.val_loss.iterations) == [1, 5, 10]


def test_truncated_bptt_reaches_the_trace():
    trainer = sine_trainer(tbptt=3)
    result = trainer.step()
    assert result.trace.tbptt == 3
    np.testing.assert_array_equal(result.trace.dL_dh[2], result.trace.dL_dh_out[2])


# ------------------------------------------------------------------------------------------
# bounded history
def test_series_keeps_every_point_up_to_its_capacity():
    s = Series(capacity=16)
    for i in range(1, 17):
        s.append(i, i * 0.5)
    assert list(s.iterations) == list(range(1, 17))
    np.testing.assert_array_equal(s.values, np.arange(1, 17) * 0.5)
    assert s.stride == 1
    assert Series().capacity == 262_144


@settings(max_examples=40, deadline=None)
@given(capacity=st.integers(4, 40), n=st.integers(1, 1500))
def test_series_thinning_keeps_the_span_and_stays_within_capacity(capacity, n):
    s = Series(capacity=capacity)
    for i in range(1, n + 1):
        s.append(i, 3.0 * i)
        assert len(s) <= capacity
    its = s.iterations
    assert len(its) >= min(n, capacity // 2)
    assert np.all(np.diff(its) > 0)
    np.testing.assert_array_equal(s.values, 3.0 * its)  # values moved with their iterations
    assert its[0] <= s.stride  # still starts at the beginning of the run ...
    assert its[-1] > n - s.stride  # ... and reaches its end
    if n <= capacity:
        assert s.stride == 1 and len(s) == n


def test_series_state_round_trip():
    s = Series(capacity=8)
    for i in range(1, 30):
        s.append(i, float(i))
    t = Series(capacity=8)
    t.restore(s.state())
    np.testing.assert_array_equal(t.iterations, s.iterations)
    for i in range(30, 60):
        s.append(i, float(i))
        t.append(i, float(i))
    np.testing.assert_array_equal(t.iterations, s.iterations)
    with pytest.raises(ValueError):
        Series(capacity=4).restore(s.state())


@settings(max_examples=30, deadline=None)
@given(every=st.integers(1, 7), capacity=st.integers(2, 12), n=st.integers(1, 800))
def test_snapshots_stay_bounded_and_evenly_spaced(every, capacity, n):
    snaps = Snapshots(every=every, capacity=capacity)
    for i in range(1, n + 1):
        snaps.offer(i, {"w": np.array([float(i)])})
        assert len(snaps.items) <= capacity
    its = [it for it, _ in snaps.items]
    # every multiple of the current interval up to n, nothing else
    assert its == list(range(snaps.every, n + 1, snaps.every))
    for it, params in snaps.items:
        assert params["w"][0] == it


def test_snapshots_are_copies():
    snaps = Snapshots(every=1, capacity=4)
    w = np.zeros(2)
    snaps.offer(1, {"w": w})
    w += 1
    np.testing.assert_array_equal(snaps.items[0][1]["w"], [0.0, 0.0])


def test_trainer_history_is_bounded_and_snapshots_hold_the_weights_of_their_iteration():
    history = History(capacity=8, snapshot_every=2, snapshot_capacity=4)
    trainer = sine_trainer(history=history)
    weights = {}
    for _ in range(60):
        r = trainer.step()
        weights[r.iteration] = params_copy(trainer.model)
    assert len(history.loss) <= 8 and len(history.grad_norm) <= 8
    assert history.loss.iterations[-1] > 60 - history.loss.stride
    assert 2 <= len(history.snapshots.items) <= 4
    for it, params in history.snapshots.items:
        assert_same_params(params, weights[it])
    trainer.reset()
    assert len(history.loss) == 0 and history.snapshots.every == 2
