"""Trainer.step against a straightforward training loop written out here: one `run`, the
gradients clipped array by array, and each optimizer's rule applied parameter by parameter.
The trainer works on all parameters laid end to end in one flat buffer and keeps its rollback
state in preallocated slots; over 100 steps the losses must agree to rounding."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.engine import CELLS, Trainer, init_model, run
from rnnviz.engine.guards import DivergenceError, NonFiniteError


def _data(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((12, 5, 2))  # (T, N, I)
    y = np.sin(np.cumsum(x[..., :1], axis=0))  # (T, N, 1)
    return x, y


def _model(cell: str):
    return init_model(cell, 2, 6, 1, seed=1)


def _reference_losses(cell: str, optimizer: str, steps: int, lr: float, momentum: float,
                      clip: float | None, clip_mode: str) -> list[float]:
    """The loop as a textbook writes it (PyTorch's update rules, eps outside the root for Adagrad)."""
    x, y = _data()
    model = _model(cell)
    state: dict[str, list[np.ndarray]] = {}
    losses = []
    for n in range(1, steps + 1):
        trace = run(model, x, y)
        losses.append(trace.loss)
        grads = {k: trace.grads["grad_" + k].copy() for k in model.params()}
        total = np.sqrt(sum(np.sum(g * g) for g in grads.values()))
        if clip is not None:
            for g in grads.values():
                if clip_mode == "value":
                    np.clip(g, -clip, clip, out=g)
                elif clip / (total + 1e-6) < 1:
                    g *= clip / (total + 1e-6)
        for k, p in model.params().items():
            g = grads[k]
            if optimizer == "sgd":
                if momentum:
                    buf = state.setdefault(k, [g.copy()])[0] if k not in state else state[k][0] * momentum + g
                    state[k] = [buf]
                    g = buf
                p -= lr * g
            elif optimizer == "adam":
                m, v = state.get(k, [np.zeros_like(p), np.zeros_like(p)])
                m = 0.9 * m + (1 - 0.9) * g
                v = 0.999 * v + (1 - 0.999) * g * g
                state[k] = [m, v]
                p -= (lr / (1 - 0.9**n)) * m / (np.sqrt(v) / np.sqrt(1 - 0.999**n) + 1e-8)
            else:
                s = state.get(k, [np.zeros_like(p)])[0] + g * g
                state[k] = [s]
                p -= lr * g / (np.sqrt(s) + 1e-10)
    return losses


CASES = [("sgd", 0.05, 0.0, None, "norm"), ("sgd", 0.05, 0.9, 0.5, "norm"), ("adam", 0.01, 0.0, None, "norm"),
         ("adam", 0.01, 0.0, 0.05, "value"), ("adagrad", 0.05, 0.0, 0.3, "norm")]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("optimizer, lr, momentum, clip, clip_mode", CASES)
def test_100_steps_give_the_reference_loop_losses(cell, optimizer, lr, momentum, clip, clip_mode):
    x, y = _data()
    trainer = Trainer(_model(cell), x, y, optimizer=optimizer, lr=lr, momentum=momentum, clip=clip,
                      clip_mode=clip_mode)
    got = [trainer.step().loss for _ in range(100)]
    want = _reference_losses(cell, optimizer, 100, lr, momentum, clip, clip_mode)
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=0)
    assert got[-1] < got[0]  # it trained (the comparison is not of two constant runs)


def test_optimizer_state_reads_per_parameter_after_flat_steps():
    """The flat buffers back `optimizer.state`: per parameter views, the shapes of the weights,
    holding the moments the steps made."""
    x, y = _data()
    trainer = Trainer(_model("lstm"), x, y, optimizer="adam", lr=0.01)
    for _ in range(3):
        trainer.step()
    params = trainer.model.params()
    assert set(trainer.optimizer.state) == set(params)
    for k, (m, v) in trainer.optimizer.state.items():
        assert m.shape == v.shape == params[k].shape
        assert np.all(v >= 0) and np.any(v > 0)


def test_a_divergence_two_updates_after_a_failed_one_goes_back_to_the_right_slot():
    """The rollback keeps two slots: a failed update (restored) must not overwrite the state
    the next divergence goes back to. Weights kept after the loss check fires are those
    before the update that made the exploded loss."""
    x, y = _data()
    trainer = Trainer(_model("rnn"), x, y, optimizer="sgd", lr=0.05)
    for _ in range(5):
        trainer.step()
    before_6 = {k: v.copy() for k, v in trainer.model.params().items()}
    trainer.step()  # iteration 6
    trainer.optimizer.lr = np.inf  # the next update makes the weights infinite: undone, weights of 6 kept
    with pytest.raises(NonFiniteError) as failed:
        trainer.step()
    assert not isinstance(failed.value, DivergenceError) and trainer.iteration == 6
    trainer.optimizer.lr = 0.05
    trainer.model.W_hy[...] *= 1e4  # the loss of iteration 7's weights explodes: back to before 6
    trainer.model.b_y[...] += 1e4
    with pytest.raises(DivergenceError) as info:
        trainer.step()
    assert "the weights of iteration 5 kept" in str(info.value) and trainer.iteration == 5
    for k, v in trainer.model.params().items():
        np.testing.assert_array_equal(v, before_6[k])
