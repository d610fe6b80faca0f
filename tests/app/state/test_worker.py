"""The training worker on its own: runs start on their own threads, deliver snapshots to the UI
thread, stop, abort and settle, and an exception in the loop reaches the UI as a message."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from rnnviz.engine import NonFiniteError, Trainer, init_model, make_task
from rnnviz.app.state.network_config import NetworkConfig
from rnnviz.app.state.session import Session
from rnnviz.app.state.training import TrainingController
from rnnviz.app.state.training_loop import SmoothedLoss
from rnnviz.app.state.worker import Delivery, TrainingWorker

WAIT = 20_000  # ms: generous, so slow machines never fail on time


def make_trainer(seed: int = 0, **options: object) -> Trainer:
    task = make_task("sine", seed=seed)
    model = init_model("rnn", task.input_size, 8, task.output_size, architecture=task.architecture,
                       loss=task.loss, seed=seed)
    return Trainer(model, task.x_train, task.y_train, seed=seed, **options)


class Recorder:
    """Every delivery, with the thread it arrived on."""

    def __init__(self, worker: TrainingWorker) -> None:
        self.deliveries: list[Delivery] = []
        self.threads: set[int] = set()
        worker.delivered.connect(self.add)

    def add(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)
        self.threads.add(threading.get_ident())

    def iterations(self, name: str) -> list[int]:
        return [d.snapshots[name].iteration for d in self.deliveries if name in d.snapshots]

    def ends(self, name: str) -> list:
        return [d.ended[name] for d in self.deliveries if name in d.ended]


@pytest.fixture
def worker(qtbot):
    w = TrainingWorker()
    yield w
    w.abort()
    assert not any(t.name.startswith("test-run") and t.is_alive() for t in threading.enumerate())


def test_a_run_delivers_snapshots_on_the_ui_thread_and_settles_when_stopped(qtbot, worker):
    trainer = make_trainer()
    rec = Recorder(worker)
    worker.start("a", trainer, SmoothedLoss(), None, thread_name="test-run-a")
    assert worker.active and worker.is_active("a")
    qtbot.waitUntil(lambda: len(rec.iterations("a")) >= 3, timeout=WAIT)
    assert rec.threads == {threading.get_ident()}
    assert rec.iterations("a") == sorted(rec.iterations("a"))  # newest first never comes late
    worker.stop()  # waits for the thread: settled at once
    assert not worker.active and not worker.is_active("a")
    (end,) = rec.ends("a")
    assert end.error is None and not end.reached_budget
    # the last delivery holds the weights the run stopped at (copies)
    last = [d.snapshots["a"] for d in rec.deliveries if "a" in d.snapshots][-1]
    assert last.iteration == trainer.iteration
    for k, v in trainer.model.params().items():
        np.testing.assert_array_equal(last.params[k], v)
        assert not np.shares_memory(last.params[k], v)


def test_a_run_stops_at_its_budget_and_says_so(qtbot, worker):
    trainer = make_trainer()
    rec = Recorder(worker)
    worker.start("a", trainer, SmoothedLoss(), 25, thread_name="test-run-a")
    qtbot.waitUntil(lambda: bool(rec.ends("a")), timeout=WAIT)
    (end,) = rec.ends("a")
    assert end.reached_budget and end.error is None
    assert trainer.iteration == 25 == rec.iterations("a")[-1]
    assert not worker.active


def test_stop_with_a_timeout_leaves_a_slow_run_to_a_later_tick(qtbot, worker):
    trainer = make_trainer()
    entered, release = threading.Event(), threading.Event()
    step = trainer.step

    def slow_step():
        entered.set()
        release.wait(WAIT / 1000)
        return step()

    trainer.step = slow_step
    rec = Recorder(worker)
    worker.start("a", trainer, SmoothedLoss(), None, thread_name="test-run-a")
    assert entered.wait(WAIT / 1000)
    worker.stop(timeout=0.0)  # the iteration under way does not end within the timeout
    assert worker.active and not rec.ends("a")
    release.set()
    qtbot.waitUntil(lambda: bool(rec.ends("a")), timeout=WAIT)  # the timer settles it
    assert not worker.active and trainer.iteration == 1


def test_abort_forgets_the_run_without_delivering(qtbot, worker):
    trainer = make_trainer()
    rec = Recorder(worker)
    worker.start("a", trainer, SmoothedLoss(), None, thread_name="test-run-a")
    qtbot.waitUntil(lambda: trainer.iteration >= 5, timeout=WAIT)
    before = len(rec.deliveries)
    worker.abort()
    assert not worker.active
    assert not any(t.name == "test-run-a" and t.is_alive() for t in threading.enumerate())
    stopped = trainer.iteration
    qtbot.wait(100)  # the event loop runs: nothing more arrives, nothing moves
    assert len(rec.deliveries) == before and not rec.ends("a") and trainer.iteration == stopped


def test_a_setting_posted_to_a_going_run_is_applied_between_iterations(qtbot, worker):
    trainer = make_trainer(optimizer="sgd", lr=0.05)
    worker.start("a", trainer, SmoothedLoss(), None, thread_name="test-run-a")
    assert worker.post("a", "lr", 0.002)
    qtbot.waitUntil(lambda: trainer.optimizer.lr == 0.002, timeout=WAIT)
    worker.stop()
    assert not worker.post("a", "lr", 0.003)  # no going run: the caller applies it itself
    assert not worker.post("b", "lr", 0.003)


def test_two_runs_go_at_once_and_each_delivery_holds_the_newest_of_each(qtbot, worker):
    trainers = {"a": make_trainer(0), "b": make_trainer(1)}
    rec = Recorder(worker)
    for name, trainer in trainers.items():
        worker.start(name, trainer, SmoothedLoss(), 40, thread_name=f"test-run-{name}")
    with pytest.raises(RuntimeError):
        worker.start("a", trainers["a"], SmoothedLoss(), 40, thread_name="test-run-a")
    qtbot.waitUntil(lambda: bool(rec.ends("a")) and bool(rec.ends("b")), timeout=WAIT)
    for name, trainer in trainers.items():
        assert trainer.iteration == 40 == rec.iterations(name)[-1]
        assert rec.ends(name)[0].reached_budget
    assert not worker.active


def test_an_exception_in_the_loop_is_delivered_with_its_traceback(qtbot, worker):
    trainer = make_trainer()
    step = trainer.step

    def failing_step():
        if trainer.iteration == 3:
            raise RuntimeError("boom")
        return step()

    trainer.step = failing_step
    rec = Recorder(worker)
    worker.start("a", trainer, SmoothedLoss(), None, thread_name="test-run-a")
    qtbot.waitUntil(lambda: bool(rec.ends("a")), timeout=WAIT)
    (end,) = rec.ends("a")
    assert isinstance(end.error, RuntimeError) and "boom" in end.error_text and "failing_step" in end.error_text
    assert rec.iterations("a")[-1] == 3 == trainer.iteration  # the weights before the failure


def test_a_non_finite_value_ends_the_run_with_the_engines_error(qtbot, worker):
    trainer = make_trainer(optimizer="sgd", lr=1e6)
    rec = Recorder(worker)
    worker.start("a", trainer, SmoothedLoss(), None, thread_name="test-run-a")
    qtbot.waitUntil(lambda: bool(rec.ends("a")), timeout=WAIT)
    (end,) = rec.ends("a")
    assert isinstance(end.error, NonFiniteError) and end.error_text == ""


def test_an_exception_in_the_loop_reaches_the_ui_as_a_message(qtbot):
    session = Session(NetworkConfig(task="sine"))
    controller = TrainingController(session)
    try:
        controller.set_budget(None)
        controller.step()  # the controller's trainer exists from here
        trainer = controller.trainer
        step = trainer.step

        def failing_step():
            if trainer.iteration == 5:
                raise RuntimeError("boom")
            return step()

        trainer.step = failing_step
        with qtbot.waitSignal(controller.failed, timeout=WAIT) as blocker:
            controller.train()
        message, t = blocker.args
        assert message == "training stopped: RuntimeError: boom" and t == 0
        assert controller.state == "failed" and controller.message == message
        assert controller.iteration == 5 and not controller.worker.active
    finally:
        controller.shutdown()
        session.shutdown()
