"""The engine's speed-ups change how the numbers are made, never which numbers come out.

`run` picks among equivalent ways by size (f'(a_t) in the forward pass or in one pass after it,
per-step gradient contributions in chunks of steps, pooled buffers, aligned weight blocks);
each test forces the other way on small problems and compares.  Agreement with PyTorch and
finite differences is checked elsewhere (test_torch_agreement.py, test_gradcheck.py).
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnviz.engine import ACTIVATIONS, ARCHITECTURES, LOSSES, init_rnn, run
from rnnviz.engine import kernels
from rnnviz.engine.cells import vanilla
from rnnviz.engine.kernels import aligned_stack

SOME = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ARRAYS = ("x", "a", "h", "y", "loss_t", "dL_dy", "dL_dh", "dL_dh_out", "dL_da", "grad_gain")


@st.composite
def problems(draw):
    architecture = draw(st.sampled_from(ARCHITECTURES))
    activation = draw(st.sampled_from(ACTIVATIONS))
    loss = draw(st.sampled_from(LOSSES))
    T = 1 if architecture == "one-to-one" else draw(st.integers(1, 9))
    B = draw(st.integers(1, 12))  # across the probe's default 4 sequences
    I, H, O = (draw(st.integers(1, 5)) for _ in range(3))
    seed = draw(st.integers(0, 2**31 - 1))
    model = init_rnn(I, H, O, activation=activation, architecture=architecture, loss=loss, seed=seed)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(T, B, I))
    if loss == "mse":
        y = rng.normal(size=(T, B, O))
    else:
        y = rng.integers(0, O, size=(T, B))
    tbptt = draw(st.sampled_from([None, 1, 2]))
    return model, x, y, tbptt


def everything(trace) -> dict[str, np.ndarray]:
    out = {name: np.array(getattr(trace, name)) for name in ARRAYS}
    out.update({k: np.array(v) for k, v in trace.grads.items()})
    out.update({"norm_" + k: np.array(v) for k, v in trace.step_grad_norms.items()})
    out["loss"] = np.array(trace.loss)
    return out


# the module each size threshold lives in
HOME = {"FPRIME_IN_FORWARD_FROM": vanilla, "FPRIME_IN_FORWARD_TBH": vanilla, "CHUNK_BYTES": kernels, "POOL_FROM": kernels}


def run_with(monkeypatch, problem, **settings):
    model, x, y, tbptt = problem
    with monkeypatch.context() as m:
        for name, value in settings.items():
            m.setattr(HOME[name], name, value)
        return everything(run(model, x, y, tbptt=tbptt))


@SOME
@given(problems())
def test_fprime_in_the_forward_pass_gives_the_same_bits(monkeypatch, problem):
    after = run_with(monkeypatch, problem, FPRIME_IN_FORWARD_FROM=1 << 40)
    during = run_with(monkeypatch, problem, FPRIME_IN_FORWARD_FROM=1, FPRIME_IN_FORWARD_TBH=1)
    for name in after:
        np.testing.assert_array_equal(during[name], after[name], err_msg=name)


@SOME
@given(problems())
def test_gradient_contributions_one_step_per_chunk_agree_with_all_steps_at_once(monkeypatch, problem):
    whole = run_with(monkeypatch, problem, CHUNK_BYTES=1 << 40)
    steps = run_with(monkeypatch, problem, CHUNK_BYTES=1)
    for name in whole:  # the sums run in another order: the same up to rounding
        np.testing.assert_allclose(steps[name], whole[name], rtol=1e-12, atol=1e-14, err_msg=name)


@SOME
@given(problems())
def test_pooled_buffers_give_the_same_bits_and_leave_earlier_traces_alone(monkeypatch, problem):
    model, x, y, tbptt = problem
    fresh = run_with(monkeypatch, problem, POOL_FROM=1 << 40)
    with monkeypatch.context() as m:
        m.setattr(kernels, "POOL_FROM", 0)
        first = run(model, x, y, tbptt=tbptt)
        kept = everything(first)
        second = run(model, -x, y, tbptt=tbptt)  # other numbers, same shapes: the pool's case
        for name, value in everything(first).items():
            np.testing.assert_array_equal(value, kept[name], err_msg=f"{name} changed by a later run")
            np.testing.assert_array_equal(value, fresh[name], err_msg=name)
        assert second is not first


@pytest.mark.parametrize("shape", [(3, 4), (130, 128), (257, 64), (64, 129)])
def test_aligned_stack_is_concatenate_on_a_64_byte_boundary_when_large(shape):
    rng = np.random.default_rng(0)
    blocks = (rng.normal(size=shape), rng.normal(size=(1, shape[1])), rng.normal(size=(2, shape[1])))
    out = aligned_stack(*blocks)
    np.testing.assert_array_equal(out, np.concatenate(blocks))
    assert out.flags.c_contiguous
    if out.nbytes >= kernels.ALIGN_FROM:
        assert out.ctypes.data % 64 == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_aligned_stack_works_wherever_the_allocator_puts_the_buffer(dtype):
    # the buffer must have room to move its start up to 64 bytes for any item size (a float32
    # block used to fail to reshape about every second time, and float32 PyTorch imports with it)
    rng = np.random.default_rng(1)
    for _ in range(200):
        blocks = (rng.normal(size=(64, 128)).astype(dtype), rng.normal(size=(2, 128)).astype(dtype))
        out = aligned_stack(*blocks)
        assert out.dtype == dtype and out.ctypes.data % 64 == 0
        np.testing.assert_array_equal(out, np.concatenate(blocks))
    model = init_rnn(3, 128, 1, seed=0, dtype=dtype)
    for _ in range(20):
        assert np.isfinite(run(model, np.ones((5, 4, 3)), np.zeros((5, 4, 1))).loss)


@pytest.mark.parametrize("O", [1, 3])
def test_dL_dh_out_is_worked_out_on_demand_and_kept(O):
    model = init_rnn(2, 4, O, seed=3)
    rng = np.random.default_rng(3)
    trace = run(model, rng.normal(size=(5, 3, 2)), rng.normal(size=(5, 3, O)))
    first = trace.dL_dh_out
    np.testing.assert_allclose(first, trace.dL_dy @ model.W_hy.T, rtol=1e-13, atol=1e-16)
    assert trace.dL_dh_out is first  # worked out once
    np.testing.assert_array_equal(trace.dL_dh[-1], first[-1])  # the last step has nothing else
