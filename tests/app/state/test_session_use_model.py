"""Session.use_model: exactly this network on these inputs, or nothing changes."""
from __future__ import annotations

import numpy as np

from rnnviz.engine import init_model, run


def _state(s):
    return (s.model, s.trace, s.config, s.source, s.source_label, s.data[0], s.data[1])


def test_use_model_shows_that_network_on_those_inputs(session):
    model = init_model("gru", 2, 3, 4, architecture="many-to-one", loss="cross-entropy", seed=5)
    x = np.random.default_rng(1).normal(size=(6, 2, 2))  # (T, B, I)
    y = np.array([3, 1])  # one class per sequence
    messages = []
    session.message.connect(messages.append)
    assert session.use_model(model, x, y, label="net.pt", report=["W_xh = weight_ih_l0.T"])
    assert session.model is model and session.source == "file" and session.source_label == "net.pt"
    c = session.config
    assert (c.cell, c.hidden, c.architecture) == ("gru", 3, "many-to-one")
    expected = run(model, x[:, :1], np.array([[0], [0], [0], [0], [0], [3]]))
    np.testing.assert_allclose(session.trace.h, expected.h, rtol=0, atol=0)
    assert session.trace.loss == expected.loss
    assert session.sequence_count == 2 and session.data[1].shape == (6, 2)
    assert session.last_model_report == ["W_xh = weight_ih_l0.T"]
    assert "net.pt" in messages[-1] and "H=3" in messages[-1]


def test_use_model_without_inputs_keeps_the_current_inputs_when_they_fit(session):
    x_before = session.data[0]
    model = init_model("rnn", x_before.shape[2], 3, 1, activation="relu", seed=2)
    assert session.use_model(model, label="m.npz")
    np.testing.assert_array_equal(session.data[0], x_before)
    assert session.config.activation == "relu" and session.config.hidden == 3


def test_use_model_without_inputs_shows_random_ones_when_the_current_do_not_fit(session):
    model = init_model("lstm", 7, 3, 2, seed=2)
    messages = []
    session.message.connect(messages.append)
    assert session.use_model(model, label="m.npz")
    assert session.data[0].shape[2] == 7 and session.data[1] is None
    assert "random inputs" in messages[-1]


def test_inputs_that_do_not_fit_change_nothing(session):
    before = _state(session)
    errors = []
    session.error.connect(errors.append)
    model = init_model("rnn", 3, 4, 1, seed=0)
    assert not session.use_model(model, np.zeros((5, 1, 2)), label="bad.pt")
    assert _state(session) == before
    assert errors and "bad.pt" in errors[-1] and "features" in errors[-1]
    bad_targets = np.zeros((5, 1, 2))  # O = 1, not 2
    assert not session.use_model(model, np.zeros((5, 1, 3)), bad_targets, label="bad.pt")
    assert _state(session) == before and "targets" in errors[-1]
    nan = np.zeros((5, 1, 3))
    nan[2, 0, 1] = np.nan
    assert not session.use_model(model, nan, label="nan.pt")
    assert _state(session) == before and "NaN" in errors[-1]


def test_a_declined_replacement_changes_nothing(session):
    before = _state(session)
    declined = []
    session.replaceDeclined.connect(lambda: declined.append(True))
    session.may_replace = lambda what: False
    assert not session.use_model(init_model("rnn", 1, 2, 1, seed=0), np.zeros((3, 1, 1)), label="m.pt")
    assert _state(session) == before and declined == [True]


def test_a_loaded_network_is_only_discarded_when_the_person_says_so(session):
    from rnnviz.engine import make_task

    model = init_model("rnn", 1, 3, 1, seed=4)
    assert session.use_model(model, np.zeros((4, 1, 1)), label="mine.pt")
    asked = []
    session.may_discard_loaded = lambda q: asked.append(q) or False
    before = _state(session)
    session.set_config(hidden=9)
    session.set_config(seed=5)
    session.use_task(make_task("echo"))
    assert _state(session) == before and len(asked) == 3
    assert asked[0] == "This replaces the loaded network mine.pt (H = 3) with a new random one. Discard it?"
    session.may_discard_loaded = lambda q: asked.append(q) or True
    session.set_config(hidden=9)
    assert session.source == "task" and session.model.hidden_size == 9
    asked.clear()
    session.set_config(hidden=10)  # a task's network is replaced without asking
    assert asked == [] and session.model.hidden_size == 10
