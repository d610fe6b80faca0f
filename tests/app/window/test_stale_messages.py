"""A message that no longer applies goes away: a training failure (a NaN stop) is cleared from
the status bar and the training panel by Reset and by a new network, while an error of something
else stays."""
from __future__ import annotations

from rnnviz.app.state.training_loop import TrainingSettings

WAIT = 20_000


def fail_with_a_nan(window, qtbot) -> str:
    """Train at an absurd learning rate, divergence only warned, until the NaN check stops the run."""
    c = window.training
    c.set_settings(TrainingSettings(optimizer="sgd", lr=1e6, iterations=None, on_divergence="warn"))
    with qtbot.waitSignal(c.failed, timeout=WAIT) as blocker:
        c.train()
    qtbot.waitUntil(lambda: not c.running, timeout=WAIT)
    message = blocker.args[0]
    assert window.status.error_label.text() and window.training_panel.status.text() == message
    return message


def test_reset_clears_the_failure(window, qtbot):
    fail_with_a_nan(window, qtbot)
    window.training_panel.reset_button.click()
    assert window.training.iteration == 0
    assert window.status.error_label.text() == ""
    assert window.training_panel.status.text() == ""
    assert window.statusBar().currentMessage().startswith("not trained yet")


def test_a_new_network_clears_the_failure(window, qtbot, session):
    fail_with_a_nan(window, qtbot)
    window.discard_answer = lambda _text: True  # yes, discard the (failed) run
    session.set_config(hidden=session.model.hidden_size + 1)
    assert session.model.hidden_size == 9
    assert window.status.error_label.text() == ""
    assert window.training_panel.status.text() == ""


def test_an_error_of_something_else_stays_through_a_reset(window, qtbot):
    fail_with_a_nan(window, qtbot)
    window.show_error("Could not read weights.npz: not an .npz file")
    window.training_panel.reset_button.click()
    assert window.status.error_label.text().startswith("Could not read weights.npz")


def test_a_step_that_goes_through_clears_the_failure(window, qtbot):
    fail_with_a_nan(window, qtbot)
    window.training_panel.reset_button.click()
    window.training.set_settings(TrainingSettings(optimizer="sgd", lr=0.01, iterations=None))
    window.training_panel.step_button.click()
    assert window.training.iteration == 1 and window.status.error_label.text() == ""
