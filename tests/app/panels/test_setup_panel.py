"""The setup panel: each widget changes the session's config and brings a new trace."""
from __future__ import annotations


def test_hidden_size_gives_a_new_trace_with_that_many_units(window, session):
    window.setup_panel.hidden_spin.setValue(13)
    assert session.config.hidden == 13 and session.trace.hidden_size == 13


def test_sequence_length_gives_a_trace_of_that_length(window, session):
    window.setup_panel.steps_spin.setValue(9)
    assert session.config.steps == 9 and session.T == 9
    assert window.transport.slider.maximum() == 2 * 9


def test_architecture_and_activation(window, session):
    p = window.setup_panel
    p.architecture_combo.setCurrentIndex(p.architecture_combo.findData("many-to-one"))
    assert session.trace.architecture == "many-to-one"
    p.activation_combo.setCurrentIndex(p.activation_combo.findData("relu"))
    assert session.trace.activation == "relu"


def test_task_choice_switches_task_and_description(window, session):
    p = window.setup_panel
    p.task_combo.setCurrentIndex(p.task_combo.findData("hello"))
    assert session.config.task == "hello" and session.T == 4
    assert "hello" in p.description_label.text()
    assert not p.steps_spin.isEnabled()  # the word sets the length


def test_seed_reinitialise_lag_and_watched(window, session):
    p = window.setup_panel
    w_before = session.trace.params["W_hh"].copy()
    p.reinit_button.click()
    assert session.config.seed == 1 and p.seed_spin.value() == 1
    assert not (session.trace.params["W_hh"] == w_before).all()
    p.watched_spin.setValue(3)
    assert session.watched == 3
    p.task_combo.setCurrentIndex(p.task_combo.findData("echo"))
    assert p.lag_spin.isVisibleTo(p)
    p.lag_spin.setValue(5)
    assert session.config.lag == 5 and session.task.params["lag"] == 5


def test_a_rejected_change_puts_the_widget_back(window, session):
    p = window.setup_panel
    p.task_combo.setCurrentIndex(p.task_combo.findData("echo"))
    p.lag_spin.setMaximum(400)
    p.lag_spin.setValue(300)  # longer than the sequence: the session refuses
    assert window.last_error and session.config.lag != 300
    assert p.lag_spin.value() == session.config.lag
