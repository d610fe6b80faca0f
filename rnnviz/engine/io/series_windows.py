"""How a series of n rows is cut into windows for next-value prediction, and the defaults
chosen from its length.

A window of T steps starting at row a holds inputs s[a … a+T−1] and targets s[a+1 … a+T]: it
spans T+1 rows. Windows are aligned to the END of the series, so the newest data are always
used and what does not fit is dropped at the OLD end:

  - held out (validation): the newest `n_val` windows, side by side (stride T, so every held-out
    target row is scored once): the last one ends at the last row. Together they hold the last
    n_val·T rows as targets, from row `split`+1 on.
  - training: windows whose last target is row `split` at the latest (so no training target is a
    held-out target), stepping back by `stride` rows from there: stride 1 = every window, stride T
    = side by side, stride < T overlapping. The first held-out window's first input (row `split`)
    is the last training target; an input is not a target, so nothing is scored twice.
  - rows before the first training window (fewer than `stride`) are dropped, and said.

Defaults, from the series' length n (rows):
  - window length T = min(20, max(2, n // 12)): about a twelfth of the series, so a monthly
    series of 12 years (144 rows) gets windows of one year and long series keep 20 steps;
  - stride = T (side by side) when that still gives at least 32 training windows, else 1 (a
    short series uses every window: 144 monthly rows give ~108 training windows, not 6);
  - the held-out part: n_val = round(held_out · (n−1) / T) windows, at least 1 when held_out > 0.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

MAX_STEPS = 10_000
MIN_TILED_WINDOWS = 32  # fewer side-by-side training windows than this: use every window (stride 1)


class WindowError(ValueError):
    """The windows asked for do not fit the series; the message says why and what to change."""


def default_steps(n: int) -> int:
    """The default window length for a series of n rows (see the module docstring)."""
    return max(1, min(20, max(2, n // 12), n - 1))


def default_stride(n: int, steps: int) -> int:
    """Side by side (stride T) when that gives at least MIN_TILED_WINDOWS windows, else 1."""
    return steps if (n - 1) // steps >= MIN_TILED_WINDOWS else 1


def _whole(value, what: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise ValueError(f"the {what} must be a whole number from {lo} to {hi:,}, got {value!r}")
    return int(value)


def check_params(steps, stride, held_out) -> None:
    """ValueError naming the parameter when steps, stride (None: default) or held_out is not usable."""
    _whole(steps, "sequence length", 1, MAX_STEPS)
    if stride is not None:
        _whole(stride, "stride", 1, 10**9)
    if isinstance(held_out, bool) or not (isinstance(held_out, (int, float)) and 0 <= held_out < 1):
        raise ValueError(f"the held-out fraction must lie in [0, 1), got {held_out!r}")


@dataclass(frozen=True)
class WindowPlan:
    """Where each window of a series starts (0-based rows), and what was left out."""

    n: int  # rows in the series
    steps: int  # T
    stride: int  # between training windows
    train_starts: np.ndarray  # (N_train,) ascending
    val_starts: np.ndarray  # (N_val,) ascending, T apart; the last is n−1−T
    split: int  # the last row a training target may be (n−1 without a held-out part)

    @property
    def n_train(self) -> int:
        return len(self.train_starts)

    @property
    def n_val(self) -> int:
        return len(self.val_starts)

    @property
    def first_row(self) -> int:
        """The first row any window uses; the rows before it are dropped (the oldest)."""
        return int(self.train_starts[0])

    @property
    def training_rows(self) -> slice:
        """The rows the training windows cover (inputs and targets): the normalisation's rows."""
        return slice(self.first_row, self.split + 1)

    @property
    def skipped(self) -> int:
        """Rows between training windows that no window uses (only when stride > T + 1)."""
        return max(0, self.stride - self.steps - 1) * max(0, self.n_train - 1)

    def dropped_text(self) -> str:
        """Which rows no window uses, in words (row numbers 1-based)."""
        k = self.first_row
        parts = [f"dropped the oldest {k} row{'s' if k != 1 else ''} (rows 1–{k})" if k > 1 else
                 "dropped the oldest row (row 1)" if k == 1 else "no rows dropped"]
        if self.skipped:
            parts.append(f"{self.skipped} rows between training windows are skipped (stride {self.stride} > {self.steps} + 1)")
        return ", ".join(parts)

    def windows_text(self) -> str:
        """"108 training + 2 held-out windows of 12 steps, stride 1 (held out: the newest 24 rows)"."""
        held = f" (held out: the newest {self.n_val * self.steps} rows)" if self.n_val else " (nothing held out)"
        return (f"{self.n_train} training + {self.n_val} held-out window{'s' if self.n_val != 1 else ''} "
                f"of {self.steps} steps, stride {self.stride}{held}")


def plan_windows(n: int, steps: int, stride: int | None = None, held_out: float = 0.2) -> WindowPlan:
    """The windows of a series of n rows (module docstring). WindowError when none fits."""
    check_params(steps, stride, held_out)
    if n < 2:
        raise WindowError(f"{n} row{'s are' if n != 1 else ' is'} too few for a series: next-value prediction needs "
                          "at least 2 rows")
    if steps + 1 > n:
        raise WindowError(f"{n:,} rows are too few for one sequence of {steps} steps (it needs {steps + 1}); "
                          "choose a shorter sequence length")
    stride = default_stride(n, steps) if stride is None else stride
    n_val = 0
    if held_out > 0:
        n_val = max(1, int(round(held_out * (n - 1) / steps)))
    split = n - 1 - n_val * steps  # the first held-out window starts here; training targets end here
    if split < steps:
        raise WindowError(f"the held-out part ({n_val} window{'s' if n_val != 1 else ''} of {steps} steps = the newest "
                          f"{n_val * steps} of {n} rows) leaves no room for a training window ({steps + 1} rows); "
                          "hold out less or choose a shorter sequence length")
    last = split - steps  # the newest training window's start
    train = last - stride * np.arange((last // stride) + 1)[::-1]  # (N_train,) ascending, ≥ 0
    val = split + steps * np.arange(n_val)  # (N_val,)
    return WindowPlan(n, steps, stride, train.astype(np.int64), val.astype(np.int64), split)


def cut(values: np.ndarray, starts: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows of values (n, C) starting at `starts` (N,): inputs (T, N, C) and next-value targets (T, N, C)."""
    idx = starts[:, None] + np.arange(steps)[None, :]  # (N, T)
    return values[idx].transpose(1, 0, 2), values[idx + 1].transpose(1, 0, 2)


def stats_text(names: Sequence[str], mean: np.ndarray, std: np.ndarray) -> str:
    """"normalised with the training part's statistics (Passengers: mean 230.1, std 80.21)"."""
    cols = "; ".join(f"{nm}: mean {m:.4g}, std {sd:.4g}{' (constant)' if sd == 0 else ''}"
                     for nm, m, sd in zip(names, mean, std))
    return f"normalised with the training part's statistics ({cols})"
