"""The training panel: its controls drive the TrainingController, its readout follows the run."""
from __future__ import annotations

import pytest

from rnnviz.app.panels.training import TrainingPanel, nice_step
from rnnviz.app.state.training_loop import TrainingSettings

WAIT = 20_000  # ms: generous, so slow machines never fail on time


def test_nice_step_walks_the_1_2_5_ladder():
    assert nice_step(0.01, 1) == pytest.approx(0.02)
    assert nice_step(0.02, 1) == pytest.approx(0.05)
    assert nice_step(0.05, 1) == pytest.approx(0.1)
    assert nice_step(0.01, -1) == pytest.approx(0.005)
    assert nice_step(0.03, -1) == pytest.approx(0.02)
    assert nice_step(0.03, 1) == pytest.approx(0.05)


def test_panel_drives_the_controller(qtbot, controller):
    panel = TrainingPanel(controller)
    qtbot.addWidget(panel)
    panel.lr.setValue(0.003)
    assert controller.settings.lr == pytest.approx(0.003)
    panel.clip_on.setChecked(True)
    panel.clip.setValue(2.0)
    assert controller.settings.clip == 2.0
    panel.optimizer.setCurrentText("sgd")
    assert controller.settings.optimizer == "sgd" and panel.momentum.isEnabled()
    panel.budget.setValue(0)
    assert controller.settings.iterations is None
    panel.step_button.click()
    assert controller.iteration == 1 and "iteration 1" in panel.readout.text()
    panel.train_button.click()
    assert panel.train_button.text() == "Pause" and not panel.step_button.isEnabled()
    qtbot.waitUntil(lambda: controller.iteration >= 5, timeout=WAIT)
    panel.train_button.click()
    qtbot.waitUntil(lambda: controller.state == "paused", timeout=WAIT)
    assert panel.train_button.text() == "Train"
    panel.reset_button.click()
    assert controller.iteration == 0


def test_panel_shows_the_failure(qtbot, controller):
    panel = TrainingPanel(controller)
    qtbot.addWidget(panel)
    controller.set_settings(TrainingSettings(optimizer="sgd", lr=1e6, iterations=None))
    assert panel.lr.value() == pytest.approx(1e6)
    with qtbot.waitSignal(controller.failed, timeout=WAIT):
        controller.train()
    assert "iteration" in panel.status.text() and "time step" in panel.status.text()
