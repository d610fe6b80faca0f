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
    # warn on divergence: the run goes on until the NaN check stops it
    controller.set_settings(TrainingSettings(optimizer="sgd", lr=1e6, iterations=None, on_divergence="warn"))
    assert panel.lr.value() == pytest.approx(1e6)
    with qtbot.waitSignal(controller.failed, timeout=WAIT):
        controller.train()
    assert "iteration" in panel.status.text() and "time step" in panel.status.text()


def test_panel_sets_what_happens_on_divergence(qtbot, controller):
    panel = TrainingPanel(controller)
    qtbot.addWidget(panel)
    assert panel.on_divergence.currentText() == "stop" and controller.settings.on_divergence == "stop"
    panel.on_divergence.setCurrentText("warn and go on")
    assert controller.settings.on_divergence == "warn"
    panel.step_button.click()
    assert controller.trainer.on_divergence == "warn"
    controller.set_settings(TrainingSettings(on_divergence="stop"))  # e.g. a session opened
    assert panel.on_divergence.currentText() == "stop" and controller.trainer.on_divergence == "stop"


def test_panel_shows_a_divergence_and_its_warning(qtbot, controller):
    panel = TrainingPanel(controller)
    qtbot.addWidget(panel)
    controller.set_settings(TrainingSettings(optimizer="adam", lr=1e6, iterations=None))
    with qtbot.waitSignal(controller.failed, timeout=WAIT):
        controller.train()
    text = panel.status.text()
    assert text.startswith("iteration 1: training diverged: the ") and "reached 1e+06" in text
    assert "the initial weights kept" in text and controller.iteration == 0
    # warn and go on: the warning shows once, stays while the run goes on and pauses, goes at reset
    panel.reset_button.click()
    panel.on_divergence.setCurrentText("warn and go on")
    warnings = []
    controller.warned.connect(warnings.append)
    controller.set_budget(5)
    with qtbot.waitSignal(controller.finished, timeout=WAIT):
        controller.train()
    assert controller.state == "paused" and controller.iteration == 5
    assert len(warnings) == 1 and warnings[0].startswith("iteration 1: training diverged:")
    assert "training goes on as asked" in warnings[0] and panel.status.text() == warnings[0]
    panel.reset_button.click()
    assert panel.status.text() == "" and controller.warning == ""
