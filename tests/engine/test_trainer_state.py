"""Trainer.state_dict / load_state_dict: a run carries on bit for bit after a round trip
through JSON and .npz, and a bad state leaves the trainer as it was."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest

from rnnviz.engine import Trainer, init_rnn, make_task


def trainer_for(task_name="sine", **kw):
    task = make_task(task_name)
    model = init_rnn(task.input_size, 6, task.output_size, architecture=task.architecture, loss=task.loss, seed=3)
    return Trainer(model, task.x_train, task.y_train, x_val=task.x_val, y_val=task.y_val, **kw)


def through_files(meta, arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as z:
        return json.loads(json.dumps(meta)), {k: z[k] for k in z.files}


@pytest.mark.parametrize("task_name,kw", [
    ("sine", dict(optimizer="adam", batch_size=7)),
    ("sine", dict(optimizer="sgd", lr=0.05, momentum=0.9, batch_size=5, clip=0.5)),
    ("parity", dict(optimizer="adagrad", batch_size=10)),
    ("hello", dict(optimizer="adam")),
])
def test_next_losses_after_reload_equal_an_uninterrupted_run(task_name, kw):
    a = trainer_for(task_name, **kw)
    for _ in range(13):
        a.step()
    meta, arrays = through_files(*a.state_dict())
    b = trainer_for(task_name, **kw)
    b.load_state_dict(meta, arrays)
    for _ in range(6):
        assert a.step().loss == b.step().loss  # exact, float64
    assert a.iteration == b.iteration
    np.testing.assert_array_equal(a.history.loss.values, b.history.loss.values)
    # reset goes back to the same initial weights
    a.reset(), b.reset()
    assert a.step().loss == b.step().loss


def test_bad_state_is_refused_and_trainer_unchanged():
    a = trainer_for(batch_size=7)
    for _ in range(4):
        a.step()
    meta, arrays = a.state_dict()
    b = trainer_for(batch_size=7)
    b.step()
    before = {k: v.copy() for k, v in b.model.params().items()}
    bad = dict(arrays, **{"optim.W_hh.0": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="shape"):
        b.load_state_dict(meta, bad)
    with pytest.raises(ValueError, match="random generator"):
        b.load_state_dict({**meta, "rng": {"bit_generator": "PCG64", "state": "x"}}, arrays)
    with pytest.raises(ValueError, match="order"):
        b.load_state_dict(meta, dict(arrays, order=np.array([0, 999])))
    assert b.iteration == 1
    for k, v in before.items():
        np.testing.assert_array_equal(b.model.params()[k], v)


def test_random_generator_named_in_a_state_is_never_looked_up():
    a = trainer_for()
    a.step()
    meta, arrays = a.state_dict()
    with pytest.raises(ValueError, match="random generator"):
        trainer_for().load_state_dict({**meta, "rng": {"bit_generator": "seed"}}, arrays)
