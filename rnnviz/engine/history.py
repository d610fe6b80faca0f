"""Bounded records of a training run: scalar series and parameter snapshots.

An hour of training must not grow memory without bound, yet a plot of 100,000 iterations
must show every one of them. A series keeps every point until it holds `capacity` points,
then drops every second one (keeping the newest) and records only every second new point
from then on, so it always spans the whole run at a resolution that halves as it grows.
"""
from __future__ import annotations

import numpy as np


class Series:
    """(iteration, value) pairs in preallocated arrays; bounded by `capacity`. A value is a
    number, or an array of `shape` (e.g. one sequence's hidden states (T+1, H)).

    With `keep_ends`, the first point survives every halving (every second one from the first
    is kept) and the newest point offered is always included, even when the stride skips it:
    it waits in a spare slot after the kept points until the next kept point replaces it."""

    def __init__(self, capacity: int = 262_144, shape: tuple[int, ...] = (), keep_ends: bool = False) -> None:
        if capacity < 4:
            raise ValueError("a series needs room for at least 4 points")
        self.capacity = capacity
        self.keep_ends = keep_ends
        self._it = np.empty(capacity + keep_ends, dtype=np.int64)
        self._val = np.empty((capacity + keep_ends, *shape), dtype=np.float64)
        self._n = 0
        self._newest = False  # keep_ends: slot _n holds the newest point, skipped by the stride
        self.stride = 1  # every how many offered points one is kept
        self._offered = 0

    def __len__(self) -> int:
        return self._n + self._newest

    def append(self, iteration: int, value: float | np.ndarray) -> None:
        self._offered += 1
        if (self._offered - 1) % self.stride:
            if self.keep_ends:
                self._it[self._n] = iteration
                self._val[self._n] = value
                self._newest = True
            return
        if self._n == self.capacity:
            first = 0 if self.keep_ends else 1
            half = (self._n - first + 1) // 2
            self._it[:half] = self._it[first : self._n : 2]
            self._val[:half] = self._val[first : self._n : 2]
            self._n = half
            self.stride *= 2
        self._it[self._n] = iteration
        self._val[self._n] = value
        self._n += 1
        self._newest = False

    @property
    def iterations(self) -> np.ndarray:
        return self._it[: len(self)]  # (n,) a view: copy before handing to another thread

    @property
    def values(self) -> np.ndarray:
        return self._val[: len(self)]  # (n, *shape)

    def last(self) -> float:
        return float(self._val[len(self) - 1]) if len(self) else float("nan")

    def clear(self) -> None:
        self._n = 0
        self._newest = False
        self._offered = 0
        self.stride = 1

    def state(self) -> dict:
        return {"iterations": self.iterations.copy(), "values": self.values.copy(), "stride": self.stride, "offered": self._offered}

    def restore(self, state: dict) -> None:
        n = len(state["iterations"])
        if n > self.capacity:
            raise ValueError("the saved series is longer than this history can hold")
        self._it[:n] = state["iterations"]
        self._val[:n] = state["values"]
        self._n = n
        self._newest = False
        self.stride = int(state["stride"])
        self._offered = int(state["offered"])


class Snapshots:
    """Parameter copies every `every` iterations, at most `capacity`; when full, every second
    snapshot is dropped and the interval doubles."""

    def __init__(self, every: int = 10, capacity: int = 200) -> None:
        self.every = every
        self.capacity = capacity
        self.items: list[tuple[int, dict[str, np.ndarray]]] = []

    def offer(self, iteration: int, params: dict[str, np.ndarray]) -> None:
        if iteration % self.every:
            return
        if len(self.items) >= self.capacity:
            self.every *= 2
            # keep the snapshots on the doubled interval's grid (every second one), so that
            # they stay evenly spaced and the newest on that grid is not the one dropped
            self.items = [item for item in self.items if item[0] % self.every == 0]
            if iteration % self.every:
                return
        self.items.append((iteration, {k: v.copy() for k, v in params.items()}))

    def clear(self, every: int = 10) -> None:
        self.items.clear()
        self.every = every


class History:
    """Everything a training run records per iteration."""

    SERIES = ("loss", "grad_norm", "val_loss")

    def __init__(self, capacity: int = 262_144, snapshot_every: int = 10, snapshot_capacity: int = 200) -> None:
        self.loss = Series(capacity)
        self.grad_norm = Series(capacity)  # before clipping
        self.val_loss = Series(capacity)
        self.snapshots = Snapshots(snapshot_every, snapshot_capacity)
        self._snapshot_every = snapshot_every

    def clear(self) -> None:
        for name in self.SERIES:
            getattr(self, name).clear()
        self.snapshots.clear(self._snapshot_every)
