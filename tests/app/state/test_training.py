"""Live training: the worker runs off the UI thread, hands copies, and never crashes the app."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from PySide6.QtCore import QTimer

from rnnviz.app.state.training_loop import SmoothedLoss, hidden_record

WAIT = 20_000  # ms: generous, so slow machines never fail on time


def run_to_budget(qtbot, controller, budget):
    controller.set_budget(budget)
    with qtbot.waitSignal(controller.finished, timeout=WAIT):
        controller.train()
    assert controller.iteration == budget


def test_settings_start_from_the_task_defaults(controller, session):
    d = session.task.defaults
    assert controller.settings.optimizer == d["optimizer"]
    assert controller.settings.lr == d["lr"]
    assert controller.settings.iterations == d["iterations"]
    assert controller.state == "idle" and not controller.has_progress()


def test_train_runs_iterations_in_the_background(qtbot, controller):
    controller.set_budget(None)
    main = threading.get_ident()
    seen = []
    controller.progressed.connect(lambda it, loss, rate: seen.append((it, threading.get_ident())))
    controller.train()
    assert controller.state == "running"
    qtbot.waitUntil(lambda: controller.iteration >= 50, timeout=WAIT)
    workers = [t for t in threading.enumerate() if t.name == "rnnviz-training" and t.is_alive()]
    assert controller.worker.active and len(workers) == 1 and workers[0].ident != main
    assert all(tid == main for _, tid in seen)  # signals arrive on the UI thread
    controller.pause()
    qtbot.waitUntil(lambda: controller.state == "paused", timeout=WAIT)
    its, losses = controller.snapshot.loss_curve
    assert its[-1] == controller.iteration == controller.trainer.iteration
    np.testing.assert_array_equal(losses, controller.trainer.history.loss.values)


def test_pause_stops_the_iterations(qtbot, controller):
    controller.set_budget(None)
    controller.train()
    qtbot.waitUntil(lambda: controller.iteration >= 10, timeout=WAIT)
    controller.pause()
    qtbot.waitUntil(lambda: controller.state == "paused", timeout=WAIT)
    stopped = controller.trainer.iteration
    assert controller.iteration == stopped
    qtbot.wait(300)  # the event loop keeps running: nothing may change
    assert controller.trainer.iteration == stopped == controller.iteration
    assert not controller.worker.active


def test_step_runs_exactly_one_iteration(qtbot, controller, session):
    before = {k: v.copy() for k, v in session.model.params().items()}
    with qtbot.waitSignal(controller.progressed, timeout=WAIT):
        controller.step()
    assert controller.iteration == 1 == len(controller.trainer.history.loss)
    assert controller.state == "paused" and controller.has_progress()
    assert not np.array_equal(session.model.W_hh, before["W_hh"])  # the session shows the new weights
    np.testing.assert_array_equal(session.model.W_hh, controller.trainer.model.W_hh)
    controller.step()
    assert controller.iteration == 2


def test_reset_with_the_same_seed_reproduces_the_losses(qtbot, controller, session):
    initial = {k: v.copy() for k, v in session.model.params().items()}
    run_to_budget(qtbot, controller, 120)
    first = controller.snapshot.loss_curve[1].copy()
    controller.reset()
    assert controller.iteration == 0 and controller.state == "idle" and not controller.has_progress()
    for k, v in initial.items():
        np.testing.assert_array_equal(session.model.params()[k], v)
    run_to_budget(qtbot, controller, 120)
    np.testing.assert_array_equal(controller.snapshot.loss_curve[1], first)


def test_minibatch_runs_reproduce_after_reset(qtbot, controller):
    controller.set_batch_size(4)
    for _ in range(15):
        controller.step()
    first = controller.snapshot.loss_curve[1].copy()
    controller.reset()
    for _ in range(15):
        controller.step()
    np.testing.assert_array_equal(controller.snapshot.loss_curve[1], first)


def test_the_ui_thread_stays_responsive_while_training(qtbot, controller):
    # the UI thread keeps serving its timers while the worker trains, and sees the run advance
    # from one tick to the next (how late the ticks come: bench/bench_responsiveness.py)
    controller.set_budget(None)
    seen = []  # the iteration the UI shows at each tick while the run goes on
    ping = QTimer()
    ping.setInterval(10)

    def tick():
        if controller.running:
            seen.append(controller.iteration)

    ping.timeout.connect(tick)
    controller.train()
    ping.start()
    try:
        qtbot.waitUntil(lambda: controller.iteration >= 400 and len(seen) >= 30, timeout=WAIT)
    finally:
        ping.stop()
        controller.pause()
    assert len(set(seen)) >= 3  # progress between the ticks, not all of it in one block


def test_a_non_finite_loss_stops_training_with_iteration_and_step(qtbot, controller, session):
    controller.set_on_divergence("warn")  # the divergence check warns and leaves the rest to the NaN check
    controller.set_optimizer("sgd")
    controller.set_lr(1e6)
    controller.set_budget(None)
    with qtbot.waitSignal(controller.failed, timeout=WAIT) as blocker:
        controller.train()
    message, step = blocker.args
    assert controller.state == "failed"
    it = controller.trainer.iteration + 1  # the iteration that failed
    assert f"iteration {it}" in message
    assert step >= 1 and f"time step t={step}" in message
    assert session.frame.mode == "forward" and session.frame.active == step
    # the weights shown are the last good ones, and finite
    for k, v in session.model.params().items():
        assert np.all(np.isfinite(v))
        np.testing.assert_array_equal(v, controller.trainer.model.params()[k])
    assert not controller.worker.active
    # Reset recovers
    controller.set_lr(0.01)
    controller.reset()
    assert controller.state == "idle"
    controller.step()
    assert controller.iteration == 1 and np.isfinite(controller.loss)


def test_a_run_that_overflowed_keeps_failing_safely_until_reset(qtbot, controller):
    controller.set_on_divergence("warn")
    controller.set_optimizer("sgd")
    controller.set_lr(1e6)
    controller.set_budget(None)
    with qtbot.waitSignal(controller.failed, timeout=WAIT):
        controller.train()
    failed_at = controller.iteration
    controller.set_lr(1e-9)
    with qtbot.waitSignal(controller.failed, timeout=WAIT):
        controller.step()  # the kept weights themselves overflow the loss: fails again, no crash
    assert controller.state == "failed" and controller.iteration == failed_at
    controller.reset()
    controller.step()
    assert controller.state == "paused" and controller.iteration == 1


def test_changing_the_learning_rate_while_running_takes_effect_without_reset(qtbot, controller):
    controller.set_optimizer("sgd")
    controller.set_lr(0.05)
    controller.set_budget(None)
    controller.train()
    qtbot.waitUntil(lambda: controller.iteration >= 30, timeout=WAIT)
    before = controller.iteration
    controller.set_lr(0.002)
    controller.set_clip(0.5)
    assert controller.state == "running"
    qtbot.waitUntil(lambda: controller.trainer.optimizer.lr == 0.002 and controller.trainer.clip == 0.5, timeout=WAIT)
    qtbot.waitUntil(lambda: controller.iteration >= before + 30, timeout=WAIT)
    controller.pause()
    qtbot.waitUntil(lambda: controller.state == "paused", timeout=WAIT)
    assert controller.iteration >= before + 30  # no reset: the count went on
    its = controller.snapshot.loss_curve[0]
    np.testing.assert_array_equal(its, np.arange(1, controller.iteration + 1))
    # and an update with the new rate moves the weights by lr·(clipped) gradient
    w = controller.trainer.model.W_hy.copy()
    controller.step()
    step = np.abs(controller.trainer.model.W_hy - w).max()
    assert 0 < step <= 0.002 * 0.5 * (1 + 1e-6)


def test_budget_stops_the_run_and_reports_progress(qtbot, controller):
    run_to_budget(qtbot, controller, 40)
    assert controller.progress == 1.0 and controller.state == "paused"
    controller.train()  # the budget is used up: nothing runs
    assert controller.state == "paused" and controller.iteration == 40
    controller.set_budget(60)
    assert controller.progress == pytest.approx(40 / 60)


def test_a_new_network_discards_the_run(qtbot, controller, session):
    controller.step()
    assert controller.has_progress()
    with qtbot.waitSignals([controller.discarded, controller.progressChanged], timeout=WAIT):
        session.set_config(hidden=4)
    assert not controller.has_progress() and controller.state == "idle" and controller.iteration == 0
    controller.step()
    assert controller.trainer.model.hidden_size == 4


def test_a_new_network_while_running_stops_the_worker(qtbot, controller, session):
    controller.set_budget(None)
    controller.train()
    qtbot.waitUntil(lambda: controller.iteration >= 5, timeout=WAIT)
    session.set_config(task="hello")
    assert controller.state == "idle" and not controller.worker.active
    assert controller.settings.lr == session.task.defaults["lr"]  # the new task's defaults


def test_snapshots_hold_copies(qtbot, controller):
    controller.step()
    snap = controller.snapshot
    for k, v in controller.trainer.model.params().items():
        assert not np.shares_memory(snap.params[k], v)
    assert not np.shares_memory(snap.loss_curve[1], controller.trainer.history.loss.values)


def test_inputs_without_targets_cannot_train_and_say_why(qtbot, controller, session, tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((5, 1)))
    session.load_inputs_file(tmp_path / "x.npy")
    ok, why = controller.can_train()
    assert not ok and "targets" in why
    with qtbot.waitSignal(session.error, timeout=WAIT):
        controller.train()
    assert controller.state == "idle"


def test_hidden_record_is_bounded_and_spans_the_run():
    rec = hidden_record((4, 3), max_records=16)
    for it in range(0, 1000, 5):
        rec.append(it, np.full((4, 3), float(it)))
    assert len(rec) <= 17  # the stored records and the newest
    assert rec.iterations[0] == 0 and rec.iterations[-1] == 995
    assert np.all(np.diff(rec.iterations) > 0)
    np.testing.assert_array_equal(rec.values[:, 2, 1], rec.iterations)
    assert np.ptp(np.diff(rec.iterations[:-1])) == 0  # evenly spread over the run


def test_smoothed_loss_is_bias_corrected():
    s = SmoothedLoss(beta=0.9)
    for i in range(1, 6):
        s.add(i, 2.0)
    np.testing.assert_allclose(s.series.values, 2.0)


def test_shutdown_while_running_joins_the_worker(qtbot, controller):
    controller.set_budget(None)
    controller.train()
    qtbot.waitUntil(lambda: controller.iteration >= 3, timeout=WAIT)
    worker = next(t for t in threading.enumerate() if t.name == "rnnviz-training")
    controller.shutdown()
    # joined, not left running (how long that takes: bench/bench_responsiveness.py)
    assert not controller.worker.active and not worker.is_alive()


# divergence ---------------------------------------------------------------------------------------
def params_of(model):
    return {k: v.copy() for k, v in model.params().items()}


def test_a_divergence_stops_training_like_a_nan_and_shows_the_weights_from_before_it(qtbot, controller, session):
    initial, h_initial = params_of(session.model), session.trace.h.copy()
    controller.set_optimizer("sgd")
    controller.set_lr(1e6)
    controller.set_budget(None)
    with qtbot.waitSignal(controller.failed, timeout=WAIT) as blocker:
        controller.train()
    message, step = blocker.args
    assert message.startswith("iteration 1: training diverged: the ") and "past the limit of 1000" in message
    assert "the initial weights kept" in message and step == 0 and controller.message == message
    assert controller.state == "failed" and not controller.worker.active and controller.iteration == 0
    for k, v in session.model.params().items():  # the view shows the weights kept: the initial ones
        np.testing.assert_array_equal(v, initial[k], err_msg=k)
    np.testing.assert_array_equal(session.trace.h, h_initial)  # and their trace
    # a lower rate carries on from there
    controller.set_lr(0.01)
    controller.step()
    assert controller.state == "paused" and controller.iteration == 1 and np.isfinite(controller.loss)


def test_a_divergence_after_good_iterations_keeps_the_last_good_weights(qtbot, controller, session):
    controller.set_optimizer("sgd")
    controller.set_lr(0.01)
    for _ in range(3):
        controller.step()
    good = params_of(session.model)
    controller.set_lr(1e6)
    with qtbot.waitSignal(controller.failed, timeout=WAIT) as blocker:
        controller.step()
    assert blocker.args[0].startswith("iteration 4: training diverged:") and "the weights of iteration 3 kept" in blocker.args[0]
    assert controller.state == "failed" and controller.iteration == 3
    for k, v in session.model.params().items():
        np.testing.assert_array_equal(v, good[k], err_msg=k)


def test_warn_on_divergence_warns_once_and_the_run_goes_on(qtbot, controller):
    controller.set_budget(None)
    controller.train()
    qtbot.waitUntil(lambda: controller.iteration >= 5, timeout=WAIT)
    warnings = []
    controller.warned.connect(warnings.append)
    controller.set_on_divergence("warn")  # posted to the running worker, like the rate
    controller.set_lr(1e6)
    with qtbot.waitSignal(controller.warned, timeout=WAIT):
        pass
    warned_at = controller.iteration
    qtbot.waitUntil(lambda: controller.iteration >= warned_at + 30, timeout=WAIT)
    assert controller.state == "running" and controller.message == ""
    controller.pause()
    qtbot.waitUntil(lambda: controller.state == "paused", timeout=WAIT)
    assert len(warnings) == 1 and "training diverged" in warnings[0] and "goes on as asked" in warnings[0]
    assert controller.warning == warnings[0]
    assert max(float(np.abs(v).max()) for v in controller.trainer.model.params().values()) > 1e3  # not rolled back


def test_the_choice_on_divergence_is_saved_with_the_session_and_old_files_mean_stop(tmp_path, session, controller):
    from rnnviz.app.io import session_file, session_snapshot

    controller.set_on_divergence("warn")
    controller.step()
    path = tmp_path / "warn.rnnviz"
    session_snapshot.save(path, session, controller)
    controller.set_on_divergence("stop")
    session_snapshot.restore(path, session, controller)
    assert controller.settings.on_divergence == "warn" and controller.trainer.on_divergence == "warn"
    # a file written before the setting existed has no such key: it opens, and stops on divergence
    doc, arrays = session_snapshot.capture(session, controller)
    del doc["training"]["settings"]["on_divergence"]
    old = tmp_path / "old.rnnviz"
    session_file.write_session(old, doc, arrays)
    session_snapshot.restore(old, session, controller)
    assert controller.settings.on_divergence == "stop" and controller.trainer.on_divergence == "stop"
