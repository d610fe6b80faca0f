"""The AR baseline's numbers, computed off the UI thread: fitting AR(p) on the training part
(when needed) and scoring it and the RNN on the held-out part (engine.baseline) run on a thread
pool of their own (one Python thread), one request at a time; the result comes back to the UI thread by a queued
signal, and only the newest request's result is delivered (a result for weights or settings
that have since changed is dropped)."""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

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


def _run_job(number: int, args: tuple, relay: _Relay) -> None:
    """On the pool's thread: compute, and send the result (or the exception) to the UI thread.
    (A plain Python pool: QThreadPool kept the Python wrapper of every QRunnable it had run,
    one more per request for good: issue 13's memory growth under random use.)"""
    try:
        result: object = compute_baseline(*args)
    except Exception as e:  # noqa: BLE001 - delivered to the UI thread, raised there
        result = e
    relay.finished.emit(number, result)


class BaselineWorker(QObject):
    """`request(...)` computes in the background; `computed` brings the newest request's result."""

    computed = Signal(object)  # BaselineResult

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rnnviz-baseline")  # in order; the newest wins anyway
        self._relay = _Relay(self)
        self._relay.finished.connect(self._finished)
        self._jobs: dict[int, Future] = {}
        self._latest = 0

    @property
    def busy(self) -> bool:
        """Whether the newest request's result is still to come."""
        return self._latest in self._jobs

    def request(self, key: tuple, task: Task, model: Model, order: int | None, fit: ARFit | None) -> None:
        """Compute in the background; `model` must be the worker's own (a copy): training goes on
        changing the session's."""
        for number, waiting in list(self._jobs.items()):  # requests not started yet are out of date:
            if waiting.cancel():  # drop them (else a backlog of weight copies grows)
                del self._jobs[number]
        self._latest += 1
        self._jobs[self._latest] = self._pool.submit(_run_job, self._latest, (key, task, model, order, fit), self._relay)

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
