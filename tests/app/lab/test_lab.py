"""The vanishing-gradient lab: its curves are the engine's, its controls rebuild the task and
both networks, and Train / Pause / Reset drive both networks off the UI thread."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.engine import init_model, jacobian_norms, make_task, run


@pytest.fixture
def lab(qtbot, session):
    from rnnviz.app.lab.window import LabWindow
    from rnnviz.app.lab.model import LabConfig

    w = LabWindow(session, config=LabConfig(steps=12, lag=4, hidden=8, iterations=40))
    qtbot.addWidget(w)
    w.show()
    yield w
    w.shutdown()
    assert not w.training.worker.active  # every thread joined, nothing left to deliver


def _engine_jacobian(cell, cfg, seq=0, params=None):
    task = make_task("echo", steps=cfg.steps, lag=cfg.lag, seed=cfg.seed)
    model = init_model(cell, 1, cfg.hidden, 1, architecture="many-to-many", loss="mse", seed=cfg.seed,
                       recurrent_scale=cfg.scale)
    if params is not None:
        model.set_params(params)
    # the lab's grad_gain is the mean over every training sequence, not run's default first 4
    trace = run(model, task.x_train, task.y_train, gain_sequences=task.x_train.shape[1])
    return trace, jacobian_norms(trace, seq=seq)


@pytest.mark.parametrize("gated", ["lstm", "gru"])
def test_gradient_distance_curves_equal_the_engine(lab, gated):
    lab.set_config(gated=gated, watched=3)
    assert lab.config.cells == ("rnn", gated)
    for cell in ("rnn", gated):
        trace, jac = _engine_jacobian(cell, lab.config, seq=3)
        curves = lab.curves[cell]
        np.testing.assert_array_equal(curves.jacobian, jac)
        np.testing.assert_array_equal(curves.gain, trace.grad_gain)
        np.testing.assert_allclose(curves.dL_dh, np.linalg.norm(trace.dL_dh, axis=2).mean(axis=1), rtol=1e-12)
        # what is drawn: distance 0 … T−1 against the same values
        x, y = lab.plots.items[cell]["jac"].getOriginalDataset()
        np.testing.assert_array_equal(x, np.arange(lab.config.steps))
        np.testing.assert_array_equal(y, jac[::-1])
    W = lab.models["rnn"].W_hh
    assert lab.curves["rnn"].spectral_radius == pytest.approx(np.max(np.abs(np.linalg.eigvals(W))), rel=1e-12)


def test_changing_lag_scale_and_hidden_rebuilds_task_models_and_curves(lab):
    old_y = lab.task.y_train.copy()
    old_flow = lab.curves["rnn"].dL_dh.copy()
    lab.controls.lag_slider.setValue(7)
    assert lab.config.lag == 7 and lab.task.params["lag"] == 7
    np.testing.assert_array_equal(lab.task.y_train[7:], lab.task.x_train[:-7])
    assert not np.array_equal(lab.task.y_train, old_y)
    np.testing.assert_array_equal(lab.curves["rnn"].jacobian, _engine_jacobian("rnn", lab.config)[1])
    # the same inputs (one seed) give the same Jacobians; the new targets another gradient flow
    assert not np.array_equal(lab.curves["rnn"].dL_dh, old_flow)

    W_before = lab.models["rnn"].W_hh.copy()
    lab.set_config(scale=2.0)
    np.testing.assert_allclose(lab.models["rnn"].W_hh, 2.0 * W_before)  # same seed, scaled
    np.testing.assert_allclose(lab.models["lstm"].W_hf,
                               init_model("lstm", 1, 8, 1, seed=0, recurrent_scale=2.0).W_hf)
    for cell in ("rnn", "lstm"):
        np.testing.assert_array_equal(lab.curves[cell].jacobian, _engine_jacobian(cell, lab.config)[1])
    assert lab.controls.scale_label.text() == "×2.00"

    lab.controls.hidden_spin.setValue(12)
    assert lab.models["rnn"].hidden_size == 12 and lab.models["lstm"].hidden_size == 12
    assert lab.curves["rnn"].eigenvalues.shape == (12,)
    np.testing.assert_array_equal(lab.curves["lstm"].jacobian, _engine_jacobian("lstm", lab.config)[1])

    lab.controls.steps_spin.setValue(6)  # the lag must stay below T
    assert lab.config.steps == 6 and lab.config.lag == 5 and lab.controls.lag_slider.maximum() == 5
    assert lab.curves["rnn"].jacobian.shape == (6,)


def test_the_scale_slider_is_logarithmic_and_drives_the_scale(lab):
    from rnnviz.app.lab.controls import SCALE_TICKS, position_to_scale, scale_to_position

    assert position_to_scale(0) == pytest.approx(0.25) and position_to_scale(SCALE_TICKS) == pytest.approx(3.0)
    assert scale_to_position(1.0) == round(np.log(4) / np.log(12) * SCALE_TICKS)
    lab.controls.scale_slider.setValue(SCALE_TICKS)
    assert lab.config.scale == pytest.approx(3.0)


def test_training_both_advances_and_fills_both_loss_curves(lab, qtbot):
    with qtbot.waitSignal(lab.training.stateChanged, timeout=60_000, check_params_cb=lambda s: s == "finished"):
        lab.controls.train_button.click()
    for cell in ("rnn", "lstm"):
        snap = lab.training.snapshot(cell)
        assert snap.iteration == 40
        its, loss = snap.loss_curve
        np.testing.assert_array_equal(its, np.arange(1, 41))
        assert np.all(np.isfinite(loss))
        x, y = lab.plots.items[cell]["raw"].getOriginalDataset()
        assert len(x) == 40
        # the curves follow the trained weights
        _, jac = _engine_jacobian(cell, lab.config, params=snap.params)
        np.testing.assert_array_equal(lab.curves[cell].jacobian, jac)
        assert lab.curves[cell].loss < lab.initial_curves[cell].loss
    assert lab.summary().startswith(f"vanilla RNN: loss {lab.curves['rnn'].loss:.3g} at lag 4; LSTM: ")
    assert not lab.controls.train_button.isEnabled() and lab.controls.reset_button.isEnabled()


def test_pause_stops_both_and_reset_restores_the_initial_loss(lab, qtbot):
    initial = {c: lab.curves[c].loss for c in ("rnn", "lstm")}
    lab.controls.budget_spin.setValue(1_000_000)
    assert lab.training.budget == 1_000_000 and lab.config.iterations == 1_000_000
    lab.training.train()
    assert lab.training.running and lab.controls.pause_button.isEnabled()
    qtbot.waitUntil(lambda: all(lab.training.iteration(c) > 0 for c in ("rnn", "lstm")), timeout=30_000)
    lab.controls.pause_button.click()
    assert lab.training.state == "paused"
    assert not lab.training.worker.active
    stopped = {c: lab.training.sides[c].trainer.iteration for c in ("rnn", "lstm")}
    qtbot.wait(50)
    assert {c: lab.training.sides[c].trainer.iteration for c in ("rnn", "lstm")} == stopped
    assert {c: lab.training.iteration(c) for c in ("rnn", "lstm")} == stopped
    lab.controls.reset_button.click()
    assert lab.training.state == "idle"
    for c in ("rnn", "lstm"):
        assert lab.training.iteration(c) == 0
        assert lab.curves[c].loss == initial[c]
        assert len(lab.training.snapshot(c).loss_curve[0]) == 0
    assert lab.controls.train_button.text() == "Train"


def test_changing_the_lag_stops_a_running_training(lab, qtbot):
    lab.controls.budget_spin.setValue(1_000_000)
    lab.training.train()
    qtbot.waitUntil(lambda: lab.training.iteration("rnn") > 0, timeout=30_000)
    lab.set_config(lag=2)
    assert not lab.training.running and lab.training.state == "idle"
    assert all(lab.training.iteration(c) == 0 for c in ("rnn", "lstm"))
    assert lab.task.params["lag"] == 2


def test_a_larger_initial_scale_gives_a_larger_radius_and_a_flatter_gradient_curve(lab):
    lab.set_config(steps=20, lag=8, scale=0.5)
    small = lab.curves["rnn"]
    lab.set_config(scale=2.5)
    large = lab.curves["rnn"]
    assert large.spectral_radius > small.spectral_radius
    assert large.spectral_radius == pytest.approx(5 * small.spectral_radius)
    far = lab.config.steps - 1
    # the log-slope per step back: closer to 0 (or positive) for the larger scale
    slope = lambda c: np.log(c.at_distance(far)) / far  # noqa: E731
    assert slope(large) > slope(small)
    assert large.at_distance(far) > 100 * small.at_distance(far)


def test_the_view_menu_action_opens_the_lab(window, qtbot):
    action = window.lab_action
    view = next(a.menu() for a in window.menuBar().actions() if a.menu() and a.text().replace("&", "") == "View")
    assert action in view.actions() and window.lab is None  # built the first time it is opened
    action.trigger()
    lab = window.lab
    assert lab is not None and lab.isVisible() and lab.isWindow()
    action.trigger()
    assert window.lab is lab  # built once
    lab.training.train()
    window.close()  # closing the main window stops the lab's workers
    assert not lab.training.running and not lab.training.worker.active
