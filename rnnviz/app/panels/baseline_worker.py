"""The AR baseline's numbers, computed off the UI thread: fitting AR(p) on the training part
(when needed) and scoring it and the RNN on the held-out part (engine.baseline) run on a thread
pool of their own, one request at a time; the result comes back to the UI thread by a queued
signal, and only the newest request's result is delivered (a result for weights or settings
that have since changed is dropped)."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from rnnviz.engine.baseline import ARFit, Comparison, NotApplicable, compare, fit_ar
from rnnviz.engine.model import Model
from rnnviz.engine.tasks import Task


@dataclass(frozen=True)
class BaselineResult:
    key: tuple  # what the fit belongs to: (id of the task, the AR order or None for BIC)
    fit: ARFit | None  # None when AR(p) could not be fitted (reason says why)
    comparison: Comparison | None
    reason: str | None  # why the baseline does not apply after all, or None


def compute_baseline(key: tuple, task: Task, model: Model, order: int | None, fit: ARFit | None) -> BaselineResult:
    """Fit AR(order) unless `fit` is given, then compare it with `model` on the held-out part."""
    if fit is None:
        try:
            fit = fit_ar(task.x_train, task.y_train, order)
        except ValueError as e:
            return BaselineResult(key, None, None, str(e))
    try:
        return BaselineResult(key, fit, compare(task, model, fit=fit), None)
    except (NotApplicable, ValueError) as e:
        return BaselineResult(key, fit, None, str(e))


class _Relay(QObject):
    """Lives in the UI thread; emitted from the pool's thread, so the connection is queued."""

    finished = Signal(int, object)  # request number, BaselineResult or the exception raised


class _Job(QRunnable):
    def __init__(self, number: int, args: tuple, relay: _Relay) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the worker holds it until its result is back
        self.number, self.args, self.relay = number, args, relay

    def run(self) -> None:
        # let go of the arguments (a copy of the weights, the task) once taken: the pool keeps
        # its runnables' Python wrappers alive, and each kept a model copy for good (issue 13)
        args, self.args = self.args, ()
        try:
            result: object = compute_baseline(*args)
        except Exception as e:  # noqa: BLE001 - delivered to the UI thread, raised there
            result = e
        self.relay.finished.emit(self.number, result)


class BaselineWorker(QObject):
    """`request(...)` computes in the background; `computed` brings the newest request's result."""

    computed = Signal(object)  # BaselineResult

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)  # requests run in order; the newest one wins anyway
        self._relay = _Relay(self)
        self._relay.finished.connect(self._finished)
        self._jobs: dict[int, _Job] = {}
        self._latest = 0

    @property
    def busy(self) -> bool:
        """Whether the newest request's result is still to come."""
        return self._latest in self._jobs

    def request(self, key: tuple, task: Task, model: Model, order: int | None, fit: ARFit | None) -> None:
        """Compute in the background; `model` must be the worker's own (a copy): training goes on
        changing the session's."""
        for number, waiting in list(self._jobs.items()):  # requests not started yet are out of date:
            if self._pool.tryTake(waiting):  # drop them (else a backlog of weight copies grows)
                del self._jobs[number]
        self._latest += 1
        job = _Job(self._latest, (key, task, model, order, fit), self._relay)
        self._jobs[self._latest] = job
        self._pool.start(job)

    def cancel(self) -> None:
        """Drop the results of every request made so far."""
        self._latest += 1

    def _finished(self, number: int, result: object) -> None:
        self._jobs.pop(number, None)
        if number != self._latest:
            return
        if isinstance(result, BaseException):
            raise result  # a bug, not a refusal: to the app's exception hook
        self.computed.emit(result)
