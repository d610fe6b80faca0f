"""The setup panel with a loaded network: it shows that network as it is, and a structural change
asks before discarding it."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.engine import init_model, save_model


@pytest.fixture
def loaded(window, session, tmp_path):
    """A loaded H = 3 relu many-to-one model with a class loss, its file model.npz."""
    model = init_model("rnn", 2, 3, 4, activation="relu", architecture="many-to-one", loss="nll", seed=3)
    path = tmp_path / "model.npz"
    save_model(model, path)
    x = np.random.default_rng(0).normal(size=(5, 2, 2))  # (T, B, I)
    assert session.use_model(model, x, np.array([1, 3]), label="model.npz")
    return model


def test_the_panel_shows_the_loaded_network_not_the_task(window, session, loaded):
    p = window.setup_panel
    assert p.loaded_label.isVisibleTo(p) and "model.npz" in p.loaded_label.text()
    assert p.task_combo.currentIndex() == -1  # no built-in task: the placeholder
    assert p.hidden_spin.value() == 3
    assert p.cell_combo.currentData() == "rnn" and p.activation_combo.currentData() == "relu"
    assert p.architecture_combo.currentData() == "many-to-one"
    assert p.loss_label.text().startswith("nll")
    assert "I=2 · H=3 · O=4" in p.summary_label.text()
    text = p.description_label.text()
    assert "model.npz" in text and "H = 3" in text and "many-to-one" in text
    c = session.config
    assert (c.hidden, c.cell, c.activation, c.architecture) == (3, "rnn", "relu", "many-to-one")


def test_a_structural_change_asks_and_no_keeps_the_loaded_network(window, session, loaded):
    p = window.setup_panel
    asked = []
    window.discard_answer = lambda text: asked.append(text) or False
    trace = session.trace
    p.hidden_spin.setValue(8)
    assert asked == ["This replaces the loaded network model.npz (H = 3) with a new random one. Discard it?"]
    assert session.model is loaded and session.trace is trace and session.source == "file"
    assert p.hidden_spin.value() == 3  # the widget is put back
    for change in (lambda: p.architecture_combo.setCurrentIndex(p.architecture_combo.findData("many-to-many")),
                   lambda: p.cell_combo.setCurrentIndex(p.cell_combo.findData("gru")),
                   lambda: p.activation_combo.setCurrentIndex(p.activation_combo.findData("tanh")),
                   lambda: p.task_combo.setCurrentIndex(p.task_combo.findData("echo")),
                   p.reinit_button.click):
        change()
        assert session.model is loaded and session.trace is trace
    assert len(asked) == 6
    assert p.task_combo.currentIndex() == -1 and p.cell_combo.currentData() == "rnn"


def test_a_structural_change_answered_yes_builds_a_random_network(window, session, loaded):
    p = window.setup_panel
    window.discard_answer = lambda text: True
    p.hidden_spin.setValue(6)
    assert session.source == "task" and session.model is not loaded and session.model.hidden_size == 6
    assert not p.loaded_label.isVisibleTo(p) and p.task_combo.currentIndex() >= 0
