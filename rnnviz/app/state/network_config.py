"""What the side panel sets about the network (`NetworkConfig`), and the task data laid out for
the architecture it asks for. Plain data, no Qt: the session builds its network from these.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from rnnviz.engine import Task


@dataclass(frozen=True)
class NetworkConfig:
    """What the side panel sets. `architecture=None` means the task's own."""

    task: str = "sine"
    architecture: str | None = None
    activation: str = "tanh"
    hidden: int = 8
    steps: int | None = None  # None: the task's default length
    seed: int = 0
    lag: int = 3  # echo task only
    cell: str = "rnn"  # "rnn" (vanilla), "lstm" or "gru"; gated cells are always tanh


def cell_activation(config: NetworkConfig) -> str:
    """The activation the model gets: the config's for the vanilla cell, tanh for gated cells."""
    return config.activation if config.cell == "rnn" else "tanh"


CELL_TITLES = {"rnn": "vanilla RNN", "lstm": "LSTM", "gru": "GRU"}


def task_for_architecture(task: Task, architecture: str) -> Task:
    """The task's data laid out for another architecture, so any architecture can be shown
    on any task: many-to-one keeps the last target, one-to-many keeps the first input,
    one-to-one keeps the first step."""

    def targets_last(y: np.ndarray | None) -> np.ndarray | None:
        if y is None:
            return None
        out = np.zeros_like(y)
        out[-1] = y[-1]
        return out

    def inputs_first(x: np.ndarray | None) -> np.ndarray | None:
        if x is None:
            return None
        out = np.zeros_like(x)
        out[0] = x[0]
        return out

    if architecture == "many-to-one":
        return replace(task, architecture=architecture, y_train=targets_last(task.y_train), y_val=targets_last(task.y_val))
    if architecture == "one-to-many":
        return replace(task, architecture=architecture, x_train=inputs_first(task.x_train), x_val=inputs_first(task.x_val))
    if architecture == "one-to-one":
        first = lambda a: None if a is None else a[:1]  # noqa: E731
        return replace(task, architecture=architecture, x_train=first(task.x_train), y_train=first(task.y_train),
                       x_val=first(task.x_val), y_val=first(task.y_val))
    return replace(task, architecture=architecture)
