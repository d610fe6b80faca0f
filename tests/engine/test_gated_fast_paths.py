"""The gated cells' speed-ups change how the numbers are made, never which numbers come out.

engine/cells/gated.py picks among equivalent ways by size (per-step gradient norms from outer
products, Gram matrices or chunks of per-step products; pooled buffers or fresh ones) and
reuses big arrays between runs; each test forces the other way on small problems and compares.
Agreement with PyTorch and finite differences is checked in test_gated_cells.py.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnviz.engine import ARCHITECTURES, LOSSES, init_model, run
from rnnviz.engine import kernels
from rnnviz.engine.cells import gated, lstm

SOME = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ARRAYS = ("x", "a", "h", "y", "loss_t", "dL_dy", "dL_dh", "dL_dh_out", "dL_da", "grad_gain", "c", "dL_dc")


@st.composite
def problems(draw):
    cell = draw(st.sampled_from(("lstm", "gru")))
    architecture = draw(st.sampled_from(ARCHITECTURES))
    loss = draw(st.sampled_from(LOSSES))
    T = 1 if architecture == "one-to-one" else draw(st.integers(1, 9))
    B = draw(st.integers(1, 12))  # across the probe's default 4 sequences
    I, H, O = draw(st.integers(1, 4)), draw(st.integers(1, 6)), draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**31 - 1))
    model = init_model(cell, I, H, O, architecture=architecture, loss=loss, seed=seed, recurrent_scale=1.5)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(T, B, I))
    y = rng.normal(size=(T, B, O)) if loss == "mse" else rng.integers(0, O, size=(T, B))
    tbptt = draw(st.sampled_from([None, 1, 2]))
    return model, x, y, tbptt


def everything(trace) -> dict[str, np.ndarray]:
    out = {name: np.array(getattr(trace, name)) for name in ARRAYS if getattr(trace, name) is not None}
    for group in ("grads", "step_grad_norms", "gates", "gate_pre", "dL_dgate_pre", "extra"):
        out.update({f"{group}.{k}": np.array(v) for k, v in getattr(trace, group).items()})
    out["loss"] = np.array(trace.loss)
    return out


# the module each size threshold lives in
HOME = {"GRAM_FACTOR": gated, "CHUNK_BYTES": kernels, "POOL_FROM": kernels}


def run_with(monkeypatch, problem, **settings):
    model, x, y, tbptt = problem
    with monkeypatch.context() as m:
        for name, value in settings.items():
            m.setattr(HOME[name], name, value)
        return everything(run(model, x, y, tbptt=tbptt))


def assert_same(a: dict, b: dict, rtol: float = 1e-12) -> None:
    assert a.keys() == b.keys()
    for k in a:
        scale = max(1.0, float(np.max(np.abs(a[k]), initial=0.0)))
        np.testing.assert_allclose(b[k], a[k], rtol=rtol, atol=rtol * scale, err_msg=k)


@SOME
@given(problems())
def test_gram_matrices_and_chunked_products_give_the_same_norms(monkeypatch, problem):
    gram = run_with(monkeypatch, problem, GRAM_FACTOR=0)  # Gram matrices whenever B > 1
    chunks = run_with(monkeypatch, problem, GRAM_FACTOR=1 << 40, CHUNK_BYTES=1)  # one step per chunk
    one_chunk = run_with(monkeypatch, problem, GRAM_FACTOR=1 << 40, CHUNK_BYTES=1 << 40)  # all steps at once
    assert_same(gram, chunks)
    assert_same(gram, one_chunk)


@pytest.mark.parametrize("B", [1, 2, 5])
@pytest.mark.parametrize("path", [{"GRAM_FACTOR": 0}, {"GRAM_FACTOR": 1 << 40, "CHUNK_BYTES": 1}])
def test_step_products_against_the_definition(monkeypatch, B, path):
    """Every way grouped_step_products may take (the outer products of one sequence included)."""
    rng = np.random.default_rng(B)
    T, M, G, n = 4, 7, 3, 5
    A, D = rng.normal(size=(T, B, M)), rng.normal(size=(T, B, G * n))
    groups = (slice(0, 3), slice(3, 4), slice(4, None))
    for name, value in path.items():
        monkeypatch.setattr(HOME[name], name, value)
    total, sq = gated.grouped_step_products(A, D, G, groups, kernels.workspace(0), "test")
    per_step = np.einsum("tbm,tbn->tmn", A, D)  # (T, M, G·n)
    np.testing.assert_allclose(total, per_step.sum(axis=0), rtol=1e-12)
    for k, rows in enumerate(groups):
        for g in range(G):
            want = (per_step[:, rows, g * n:(g + 1) * n] ** 2).sum(axis=(1, 2))
            np.testing.assert_allclose(sq[:, k, g], want, rtol=1e-12, atol=1e-14)


@SOME
@given(problems())
def test_pooled_buffers_give_the_same_numbers(monkeypatch, problem):
    fresh = run_with(monkeypatch, problem, POOL_FROM=1 << 40)
    pooled = run_with(monkeypatch, problem, POOL_FROM=0)
    assert_same(fresh, pooled)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_a_kept_trace_is_not_overwritten_by_later_runs(monkeypatch, cell):
    """The pool hands an array out again only when no trace holds (a view of) it."""
    monkeypatch.setattr(kernels, "POOL_FROM", 0)
    model = init_model(cell, 2, 5, 3, seed=1)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(6, 4, 2)), rng.normal(size=(6, 4, 3))
    first = run(model, x, y)
    snapshot = everything(first)
    for _ in range(3):  # other inputs, same shapes: the same roles and shapes are asked for
        run(model, rng.normal(size=x.shape), rng.normal(size=y.shape))
    after = everything(first)
    for k in snapshot:
        np.testing.assert_array_equal(after[k], snapshot[k], err_msg=k)
    again = everything(run(model, x, y))
    assert_same(snapshot, again)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("P", [1, 3, 8])
def test_gain_probe_follows_the_first_sequences_only(cell, P):
    """The probe shares BPTT's coefficients (their first P rows); on its own, a batch of just
    those P sequences gives the same gain."""
    model = init_model(cell, 2, 4, 2, seed=2, recurrent_scale=1.5)
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(7, 10, 2)), rng.normal(size=(7, 10, 2))
    whole = run(model, x, y, gain_sequences=P)
    alone = run(model, x[:, :P], y[:, :P], gain_sequences=P)
    np.testing.assert_allclose(whole.grad_gain, alone.grad_gain, rtol=1e-12)
    if cell == "lstm":
        np.testing.assert_allclose(whole.extra["grad_gain_c"], alone.extra["grad_gain_c"], rtol=1e-12)
    no_targets = run(model, x, None, gain_sequences=P)
    assert no_targets.grad_gain[-1] == pytest.approx(1.0)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_weight_blocks_are_aligned_and_hold_the_weights(cell):
    model = init_model(cell, 3, 20, 2, seed=3)
    H, I = 20, 3
    names = lstm.STACK_ORDER if cell == "lstm" else ("r", "z", "n")
    blocks = [[model.params()["W_h" + g] for g in names], [np.ones(H) * k for k in range(len(names))],
              [model.params()["W_x" + g] for g in names]]
    w = kernels.weight_block("test_block", (H + 1 + I, len(names) * H), model.dtype, blocks)
    assert w.ctypes.data % 64 == 0 and w.flags.c_contiguous
    np.testing.assert_array_equal(w, np.block([[np.atleast_2d(b) for b in row] for row in blocks]))
