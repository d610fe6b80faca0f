"""The fast engine equals the textbook pass (engine/reference.py) on every array it records and
every parameter gradient, in float64: each cell, each vanilla activation, the four
architectures, both losses, full BPTT and TBPTT, a few sizes (one sequence, one step, a batch)."""
import numpy as np
import pytest

from rnnviz.engine import ACTIVATIONS, ARCHITECTURES, LOSSES, init_model, run
from rnnviz.engine.reference import reference_pass

CELLS = [("rnn", act) for act in ACTIVATIONS] + [("lstm", "tanh"), ("gru", "tanh")]
SIZES = [(1, 1, 3), (5, 1, 4), (6, 3, 5), (9, 4, 2)]  # (T, B, H)
I, O = 3, 4


def close(got, want, what: str) -> None:
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert got.shape == want.shape, what
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12 * scale, err_msg=what)


def problem(cell: str, activation: str, architecture: str, loss: str, size: tuple, seed: int):
    T, B, H = size
    if architecture == "one-to-one":
        T = 1
    model = init_model(cell, I, H, O, activation=activation, architecture=architecture, loss=loss, seed=seed,
                       recurrent_scale=1.5)
    rng = np.random.default_rng(seed)
    model.h0[...] = rng.normal(scale=0.5, size=H)  # a start state that is not zero
    if cell == "lstm":
        model.c0[...] = rng.normal(scale=0.5, size=H)
    x = rng.normal(size=(T, B, I))
    y = rng.normal(size=(T, B, O)) if loss == "mse" else rng.integers(0, O, size=(T, B))
    return model, x, y


@pytest.mark.parametrize("tbptt", [None, 2])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("cell, activation", CELLS)
def test_engine_equals_the_textbook_pass(cell, activation, architecture, loss, tbptt):
    for k, size in enumerate(SIZES):
        model, x, y = problem(cell, activation, architecture, loss, size, seed=10 * k + len(architecture))
        trace = run(model, x, y, tbptt=tbptt)
        ref = reference_pass(model, trace.x, trace.targets, tbptt=tbptt)  # the inputs and targets as laid out
        where = f"{cell}/{activation} {architecture} {loss} tbptt={tbptt} T,B,H={size}"
        for name in ("a", "h", "y", "loss", "loss_t", "dL_dy", "dL_dh", "dL_da"):
            close(getattr(trace, name), ref[name], f"{name} ({where})")
        if loss in ("cross-entropy", "nll"):
            close(trace.probs, ref["probs"], f"probs ({where})")
        else:
            assert trace.probs is None and ref["probs"] is None
        assert trace.grads.keys() == ref["grads"].keys() == {"grad_" + n for n in model.params()}
        for name in ref["grads"]:
            close(trace.grads[name], ref["grads"][name], f"{name} ({where})")
        assert trace.step_grad_norms.keys() == ref["step_grad_norms"].keys()
        for name in ref["step_grad_norms"]:
            close(trace.step_grad_norms[name], ref["step_grad_norms"][name], f"step norm {name} ({where})")
        if cell == "rnn":
            continue
        for group in ("gates", "gate_pre", "dL_dgate_pre"):
            assert getattr(trace, group).keys() == ref[group].keys()
            for g in ref[group]:
                close(getattr(trace, group)[g], ref[group][g], f"{group}[{g}] ({where})")
        for name in ref["extra"]:
            close(trace.extra[name], ref["extra"][name], f"extra {name} ({where})")
        if cell == "lstm":
            close(trace.c, ref["c"], f"c ({where})")
            close(trace.dL_dc, ref["dL_dc"], f"dL_dc ({where})")


def test_the_textbook_pass_agrees_with_finite_differences():
    """The reference is checked on its own too, so that the two cannot share a mistake."""
    for cell in ("rnn", "lstm", "gru"):
        model, x, y = problem(cell, "tanh", "many-to-many", "mse", (4, 2, 3), seed=5)
        ref = reference_pass(model, x, y)
        for name, p in model.params().items():
            i = tuple(np.argwhere(np.ones(p.shape, dtype=bool))[-1])  # the last entry
            old, eps = p[i], 1e-6
            p[i] = old + eps
            up = reference_pass(model, x, y)["loss"]
            p[i] = old - eps
            down = reference_pass(model, x, y)["loss"]
            p[i] = old
            assert (up - down) / (2 * eps) == pytest.approx(ref["grads"]["grad_" + name][i], rel=1e-6, abs=1e-9), (cell, name)
