"""The conventions a pass depends on travel with the files: a model file records its loss
reduction over time steps (older files, which do not say, open as mean), and a trace file says
when its h_0 was carried over from a previous batch."""
from __future__ import annotations

import json

import numpy as np
import pytest

from rnnviz.engine.io.npz import FileFormatError
from rnnviz.engine.io.models import load_any_model, save_model
from rnnviz.engine.io.traces import load_trace, save_trace
from rnnviz.engine.model import init_model
from rnnviz.engine.run import run


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_a_sum_model_comes_back_as_sum_with_the_same_loss(tmp_path, cell):
    model = init_model(cell, 2, 3, 1, seed=1)
    model.loss_reduction = "sum"
    x = np.random.default_rng(0).normal(size=(6, 2, 2))
    y = np.random.default_rng(1).normal(size=(6, 2, 1))
    save_model(model, tmp_path / "m.npz")
    back = load_any_model(tmp_path / "m.npz")
    assert back.loss_reduction == "sum"
    assert run(back, x, y).loss == pytest.approx(run(model, x, y).loss, rel=1e-15)
    mean = model.copy()
    mean.loss_reduction = "mean"
    assert run(back, x, y).loss == pytest.approx(6 * run(mean, x, y).loss, rel=1e-12)


def _rewrite_meta(path, change):
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays["meta"]))
    change(meta)
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)


def test_a_model_file_that_does_not_say_opens_as_mean(tmp_path):
    save_model(init_model("rnn", 2, 3, 1, seed=1), tmp_path / "old.npz")
    _rewrite_meta(tmp_path / "old.npz", lambda m: m.pop("loss_reduction"))
    assert load_any_model(tmp_path / "old.npz").loss_reduction == "mean"


def test_an_unknown_loss_reduction_is_named(tmp_path):
    save_model(init_model("rnn", 2, 3, 1, seed=1), tmp_path / "bad.npz")
    _rewrite_meta(tmp_path / "bad.npz", lambda m: m.update(loss_reduction="median"))
    with pytest.raises(FileFormatError, match="unknown loss_reduction 'median'; expected one of mean, sum"):
        load_any_model(tmp_path / "bad.npz")


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_a_trace_keeps_that_its_h0_was_carried(tmp_path, cell):
    model = init_model(cell, 2, 3, 1, seed=1)
    x = np.random.default_rng(0).normal(size=(5, 1, 2))
    trace = run(model, x, np.zeros((5, 1, 1)), h0=np.full((1, 3), 0.25))
    trace.h0_carried = True
    save_trace(trace, tmp_path / "t.npz")
    back = load_trace(tmp_path / "t.npz")
    assert back.h0_carried is True
    np.testing.assert_array_equal(back.h[0], np.full((1, 3), 0.25))
    plain = run(model, x, np.zeros((5, 1, 1)))
    save_trace(plain, tmp_path / "p.npz")
    assert load_trace(tmp_path / "p.npz").h0_carried is False
