"""Properties that hold for every size, architecture and seed (Hypothesis)."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rnnviz.engine import (
    ACTIVATIONS,
    ARCHITECTURES,
    LOSSES,
    PARAM_NAMES,
    Trainer,
    init_rnn,
    jacobian_norms,
    load_model,
    load_trace,
    run,
    save_model,
    save_trace,
)

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def problems(draw, activation=None, loss=None, dtype=np.float64, big=False):
    architecture = draw(st.sampled_from(ARCHITECTURES))
    activation = activation or draw(st.sampled_from(ACTIVATIONS))
    loss = loss or draw(st.sampled_from(LOSSES))
    T = 1 if architecture == "one-to-one" else draw(st.integers(1, 7))
    B, I, H, O = (draw(st.integers(1, 4)) for _ in range(4))
    seed = draw(st.integers(0, 2**31 - 1))
    scale = draw(st.floats(0.1, 30.0)) if big else 1.0
    model = init_rnn(I, H, O, activation=activation, architecture=architecture, loss=loss, seed=seed,
                     dtype=dtype, recurrent_scale=scale)
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=scale, size=(T, B, I))
    with_targets = draw(st.booleans())
    if not with_targets:
        y = None
    elif loss == "mse":
        y = rng.normal(size=(B, O) if architecture == "many-to-one" else (T, B, O))
    else:
        y = rng.integers(0, O, size=(B,) if architecture == "many-to-one" else (T, B))
    return model, x, y


@FAST
@given(problems(), st.one_of(st.none(), st.integers(1, 8)))
def test_every_trace_array_has_its_documented_shape(problem, tbptt):
    model, x, y = problem
    T, B, I = x.shape
    H, O = model.hidden_size, model.output_size
    tr = run(model, x, y, tbptt=tbptt)
    assert (tr.T, tr.B, tr.hidden_size) == (T, B, H)
    expected = {"x": (T, B, I), "a": (T, B, H), "h": (T + 1, B, H), "y": (T, B, O), "loss_t": (T,),
                "dL_dy": (T, B, O), "dL_dh_out": (T, B, H), "dL_dh": (T, B, H), "dL_da": (T, B, H),
                "input_mask": (T,), "target_mask": (T,), "grad_gain": (T,), "dL_dh_future": (T, B, H)}
    for name, shape in expected.items():
        assert getattr(tr, name).shape == shape, name
    assert tr.probs is None if model.loss == "mse" else tr.probs.shape == (T, B, O)
    if y is None:
        assert tr.targets is None
    else:
        assert tr.targets.shape == ((T, B, O) if model.loss == "mse" else (T, B))
    assert set(tr.grads) == {"grad_" + n for n in PARAM_NAMES}
    for name in PARAM_NAMES:
        assert tr.grads["grad_" + name].shape == getattr(model, name).shape
        assert tr.params[name].shape == getattr(model, name).shape
        assert tr.step_grad_norms[name].shape == (T,)
    assert jacobian_norms(tr).shape == (T,)
    # the masks say what the architecture does
    assert tr.input_mask.sum() == (1 if model.architecture in ("one-to-many", "one-to-one") else T)
    assert tr.target_mask.sum() == (1 if model.architecture in ("many-to-one", "one-to-one") else T)
    assert not np.any(tr.x[~tr.input_mask])
    if y is not None:
        assert not np.any(tr.loss_t[~tr.target_mask]) and not np.any(tr.dL_dy[~tr.target_mask])


@FAST
@given(problems(activation="tanh", big=True))
def test_tanh_hidden_states_stay_within_minus_one_and_one(problem):
    model, x, y = problem
    model.W_xh *= 50.0
    tr = run(model, x, y)
    assert np.all(np.abs(tr.h) <= 1.0)
    assert np.all(np.isfinite(tr.a))


@FAST
@given(problems(activation="sigmoid", big=True))
def test_sigmoid_hidden_states_stay_within_zero_and_one(problem):
    model, x, y = problem
    model.W_xh *= 1e3  # exp(-a) would overflow for a naive sigmoid
    with np.errstate(all="raise"):
        tr = run(model, x, y)
    assert np.all((tr.h[1:] >= 0.0) & (tr.h[1:] <= 1.0))


@FAST
@given(problems(activation="relu"))
def test_relu_hidden_states_are_never_negative(problem):
    model, x, y = problem
    assert np.all(run(model, x, y).h[1:] >= 0.0)


@FAST
@given(problems(loss="cross-entropy", big=True), st.floats(1.0, 1e4))
def test_softmax_probabilities_are_finite_and_sum_to_one(problem, logit_scale):
    model, x, y = problem
    model.W_hy *= logit_scale
    model.b_y *= logit_scale
    tr = run(model, x, y)
    assert np.all(np.isfinite(tr.probs)) and np.all(tr.probs >= 0)
    np.testing.assert_allclose(tr.probs.sum(axis=2), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(tr.probs, np.exp(tr.y - tr.y.max(2, keepdims=True))
                               / np.exp(tr.y - tr.y.max(2, keepdims=True)).sum(2, keepdims=True), atol=1e-12)


@FAST
@given(problems())
def test_loss_and_gradients_decompose_as_documented(problem):
    model, x, y = problem
    assume(y is not None)
    tr = run(model, x, y)
    assert tr.loss == pytest.approx(tr.loss_t[tr.target_mask].mean(), rel=1e-12)
    np.testing.assert_allclose(tr.dL_dh_out, tr.dL_dy @ model.W_hy.T, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(tr.dL_dh_future[-1], 0.0, atol=0)  # nothing after the last step
    assert tr.grad_norm() == pytest.approx(np.sqrt(sum(np.sum(g**2) for g in tr.grads.values())), rel=1e-12)
    np.testing.assert_allclose(tr.grads["grad_b_y"], tr.dL_dy.sum(axis=(0, 1)), rtol=1e-12, atol=1e-15)


@FAST
@given(problems(), st.integers(1, 8))
def test_truncation_window_of_one_keeps_only_each_steps_own_output(problem, k):
    model, x, y = problem
    assume(y is not None)
    one = run(model, x, y, tbptt=1)
    np.testing.assert_array_equal(one.dL_dh, one.dL_dh_out)
    # a window no shorter than the sequence is full BPTT
    if k >= x.shape[0]:
        full, windowed = run(model, x, y), run(model, x, y, tbptt=k)
        for name in PARAM_NAMES:
            np.testing.assert_array_equal(windowed.grads["grad_" + name], full.grads["grad_" + name])


@FAST
@given(st.integers(1, 6), st.integers(1, 9), st.integers(1, 6), st.integers(0, 2**32 - 1),
       st.sampled_from(ACTIVATIONS), st.sampled_from(ARCHITECTURES))
def test_same_seed_gives_the_same_model_and_the_same_run(I, H, O, seed, activation, architecture):
    kw = dict(activation=activation, architecture=architecture, seed=seed)
    a, b = init_rnn(I, H, O, **kw), init_rnn(I, H, O, **kw)
    for name in (*PARAM_NAMES, "h0"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    k = 1 / np.sqrt(H)
    assert all(np.all(np.abs(v) <= k) for v in a.params().values())
    T = 1 if architecture == "one-to-one" else 4
    x = np.random.default_rng(seed).normal(size=(T, 2, I))
    ta, tb = run(a, x, np.zeros((T, 2, O))), run(b, x, np.zeros((T, 2, O)))
    assert ta.loss == tb.loss
    np.testing.assert_array_equal(ta.dL_dh, tb.dL_dh)
    c = init_rnn(I, H, O, **{**kw, "seed": seed + 1})
    assert any(not np.array_equal(getattr(a, n), getattr(c, n)) for n in PARAM_NAMES)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 1000), st.sampled_from(["sgd", "adam", "adagrad"]), st.sampled_from([None, 3]))
def test_same_seed_gives_the_same_training_run(seed, optimizer, batch_size):
    def train():
        rng = np.random.default_rng(seed)
        x, y = rng.normal(size=(5, 9, 2)), rng.normal(size=(5, 9, 1))
        trainer = Trainer(init_rnn(2, 4, 1, seed=seed), x, y, optimizer=optimizer, lr=0.05, momentum=0.5,
                          batch_size=batch_size, seed=seed)
        return [trainer.step().loss for _ in range(6)], trainer.model

    (la, ma), (lb, mb) = train(), train()
    assert la == lb
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(getattr(ma, name), getattr(mb, name))


@FAST
@given(problems(dtype=np.float32))
def test_float32_on_request_gives_float32_arrays(problem):
    model, x, y = problem
    assert model.dtype == np.float32
    tr = run(model, x.astype(np.float64), y)  # float64 inputs are cast to the model's dtype
    arrays = {name: getattr(tr, name) for name in ("x", "a", "h", "y", "loss_t", "dL_dy", "dL_dh_out", "dL_dh",
                                                   "dL_da", "grad_gain")}
    if tr.probs is not None:
        arrays["probs"] = tr.probs
    arrays.update(tr.grads)
    arrays.update({f"step_norm_{k}": v for k, v in tr.step_grad_norms.items()})
    arrays.update(tr.params)
    for name, arr in arrays.items():
        assert arr.dtype == np.float32, name
    assert jacobian_norms(tr).dtype == np.float32


def test_float32_training_keeps_float32_weights(tmp_path):
    rng = np.random.default_rng(0)
    model = init_rnn(2, 3, 1, dtype=np.float32)
    trainer = Trainer(model, rng.normal(size=(4, 6, 2)), rng.normal(size=(4, 6, 1)), optimizer="adam")
    for _ in range(3):
        trainer.step()
    assert all(v.dtype == np.float32 for v in model.params().values())
    save_model(model, tmp_path / "m32.npz")
    assert load_model(tmp_path / "m32.npz").dtype == np.float32


@settings(max_examples=15, deadline=None)
@given(problems())
def test_model_and_trace_files_round_trip_exactly(tmp_path_factory, problem):
    model, x, y = problem
    folder = tmp_path_factory.mktemp("roundtrip")
    model.extra_meta["task"] = "custom"
    save_model(model, folder / "m.npz")
    loaded = load_model(folder / "m.npz")
    assert (loaded.activation, loaded.architecture, loaded.loss) == (model.activation, model.architecture, model.loss)
    assert loaded.extra_meta == {"task": "custom"}
    for name in (*PARAM_NAMES, "h0"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(model, name))
    tr = run(model, x, y)
    save_trace(tr, folder / "t.npz")
    back = load_trace(folder / "t.npz")
    for name in ("x", "a", "h", "y", "loss_t", "dL_dy", "dL_dh", "dL_dh_out", "dL_da", "grad_gain"):
        np.testing.assert_array_equal(getattr(back, name), getattr(tr, name))
    for name in tr.grads:
        np.testing.assert_array_equal(back.grads[name], tr.grads[name])
    for name in tr.step_grad_norms:
        np.testing.assert_array_equal(back.step_grad_norms[name], tr.step_grad_norms[name])
    assert back.loss == tr.loss or (np.isnan(back.loss) and np.isnan(tr.loss))
    assert (back.activation, back.architecture, back.loss_name) == (tr.activation, tr.architecture, tr.loss_name)


@FAST
@given(problems(), st.integers(0, 2**31 - 1))
def test_steps_without_target_or_input_hold_zeros_whatever_the_arrays_say(problem, seed):
    model, x, _ = problem
    T, B, _ = x.shape
    rng = np.random.default_rng(seed)
    O = model.output_size
    full = rng.normal(size=(T, B, O)) + 5.0 if model.loss == "mse" else rng.integers(1, max(O, 2), size=(T, B)) % O
    tr = run(model, x, full)
    masked = ~tr.target_mask
    assert not np.any(tr.targets[masked])
    assert not np.any(tr.x[~tr.input_mask])
    np.testing.assert_array_equal(tr.targets[~masked], full[~masked].astype(tr.targets.dtype))
