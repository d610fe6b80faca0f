"""The main window with training wired in: guarded structural changes, and no resize loops."""
from PySide6.QtCore import QEvent, QObject


class _CountResizes(QObject):
    def __init__(self):
        super().__init__()
        self.count = 0

    def eventFilter(self, obj, event):  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Resize:
            self.count += 1
        return False


def test_training_then_processing_events_settles_without_a_resize_loop(window, qtbot, qapp):
    # Regression: on a short sequence the fitted view toggled its scroll bars forever after a
    # training step (each toggle resized the viewport, which refitted the view).
    window.session.set_config(task="hello")
    counter = _CountResizes()
    window.view.viewport().installEventFilter(counter)
    for _ in range(5):
        window.training.step()
        qapp.processEvents()
    assert window.training.iteration == 5
    assert counter.count < 20


def test_a_structural_change_asks_before_discarding_a_training_run(window, qtbot):
    s = window.session
    window.training.step()
    assert window.training.has_progress()
    asked = []
    window.discard_answer = lambda text: asked.append(text) or False
    hidden_before = s.model.hidden_size
    window.setup_panel.hidden_spin.setValue(hidden_before + 3)  # as a person would
    assert asked and "discarded" in asked[0]
    assert s.model.hidden_size == hidden_before and window.training.has_progress()
    assert window.setup_panel.hidden_spin.value() == hidden_before  # the panel shows what stayed
    window.discard_answer = lambda text: True
    s.set_config(hidden=hidden_before + 3)
    assert s.model.hidden_size == hidden_before + 3 and not window.training.has_progress()


def test_no_question_without_training_progress(window):
    window.discard_answer = lambda text: (_ for _ in ()).throw(AssertionError("asked"))
    window.session.set_config(hidden=3)
    assert window.session.model.hidden_size == 3


def test_training_panel_and_plots_are_docked_and_listed(window):
    names = {d.objectName() for d in window.plot_docks}
    assert {"plot-loss", "plot-hidden-time", "plot-gradients", "plot-predictions", "plot-weights"} <= names
    listed = {a.text() for a in window.panels_menu.actions()}
    assert "Training" in listed and "Lessons" in listed and "AR baseline" in listed
