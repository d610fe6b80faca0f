"""The lab's choice of what a diverging network does, as `rnnviz train --on-divergence`: stop it
(the weights before the blow-up kept, the reason in the readout) or warn once and go on."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.engine.guards import DivergenceLimits


@pytest.fixture
def lab(qtbot, session):
    from rnnviz.app.lab.model import LabConfig
    from rnnviz.app.lab.window import LabWindow

    w = LabWindow(session, config=LabConfig(steps=12, lag=4, hidden=8, iterations=20))
    qtbot.addWidget(w)
    w.show()
    yield w
    w.shutdown()
    assert not w.training.worker.active


def any_gradient_diverges(lab) -> None:
    """Limits that every gradient passes: each network diverges at its first iteration."""
    for side in lab.training.sides.values():
        side.trainer.limits = DivergenceLimits(max_grad=1e-12)


def train_until_done(lab, qtbot) -> None:
    with qtbot.waitSignal(lab.training.stateChanged, timeout=60_000, check_params_cb=lambda s: s == "finished"):
        lab.controls.train_button.click()


def test_by_default_a_diverging_network_stops_with_its_initial_weights(lab, qtbot):
    combo = lab.controls.divergence_combo
    assert combo.currentData() == "stop" and lab.training.on_divergence == "stop"
    initial = {c: {k: v.copy() for k, v in s.trainer.model.params().items()} for c, s in lab.training.sides.items()}
    any_gradient_diverges(lab)
    train_until_done(lab, qtbot)
    for cell, side in lab.training.sides.items():
        assert side.trainer.iteration == 0
        assert side.error.startswith("iteration 1: training diverged: the gradient of ")
        for k, v in side.trainer.model.params().items():
            np.testing.assert_array_equal(v, initial[cell][k])
        assert "stopped: iteration 1: training diverged" in lab.readout_lines()[cell]


def test_warn_lets_both_networks_go_on_and_says_so_once(lab, qtbot):
    warned = []
    lab.training.warned.connect(lambda cell, message: warned.append((cell, message)))
    lab.controls.divergence_combo.setCurrentIndex(lab.controls.divergence_combo.findData("warn"))
    assert lab.training.on_divergence == "warn"
    assert all(s.trainer.on_divergence == "warn" for s in lab.training.sides.values())
    any_gradient_diverges(lab)
    train_until_done(lab, qtbot)
    assert sorted(cell for cell, _ in warned) == sorted(lab.training.sides)  # once each
    for cell, side in lab.training.sides.items():
        assert side.trainer.iteration == 20 and side.error == ""
        assert side.warning.startswith("iteration 1: training diverged")
        assert "warning: iteration 1: training diverged" in lab.readout_lines()[cell]
    lab.controls.reset_button.click()
    assert all(s.warning == "" for s in lab.training.sides.values())


def test_the_choice_reaches_a_running_network_and_survives_a_rebuild(lab, qtbot):
    lab.controls.budget_spin.setValue(1_000_000)
    lab.training.train()
    lab.controls.divergence_combo.setCurrentIndex(1)
    qtbot.waitUntil(lambda: all(s.trainer.on_divergence == "warn" for s in lab.training.sides.values()),
                    timeout=30_000)
    lab.training.pause()
    lab.set_config(lag=5)  # new networks: the choice stays
    assert all(s.trainer.on_divergence == "warn" for s in lab.training.sides.values())
