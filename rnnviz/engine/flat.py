"""Named arrays laid end to end in one 1-D buffer, so that the trainer's per-iteration work on
all parameters at once (gradient norm, NaN/Inf check, optimizer update, the copy kept for a
rollback) is a handful of NumPy calls instead of a handful per parameter.

At the app's default sizes every parameter is small (the sine task's W_hh is 8×8), so each
NumPy call costs its ~1 µs of overhead, not its arithmetic: an Adam update of the 12 arrays of
an LSTM was 12 × 10 calls.  Elementwise arithmetic on the flat buffer gives exactly the numbers
it gives on the arrays one by one; sums are made on views shaped as the arrays (np.sum of a
2-D array does not add up in the order of the same entries in 1-D), so they match too.
"""
from __future__ import annotations

import numpy as np


class Layout:
    """Where each named array (e.g. a model's parameters) lies in a flat buffer of `size` entries."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.names = tuple(arrays)
        self.shapes = {k: a.shape for k, a in arrays.items()}
        self.dtype = np.result_type(*arrays.values()) if arrays else np.dtype(np.float64)
        self.slices: dict[str, slice] = {}
        n = 0
        for k, a in arrays.items():
            self.slices[k] = slice(n, n + a.size)
            n += a.size
        self.size = n

    def fits(self, arrays: dict[str, np.ndarray]) -> bool:
        """Whether `arrays` have this layout's names, shapes and dtype (a layout is reused while so)."""
        return (tuple(arrays) == self.names and all(a.shape == self.shapes[k] for k, a in arrays.items())
                and all(a.dtype == self.dtype for a in arrays.values()))

    def empty(self) -> np.ndarray:
        """(size,) a new buffer, contents undefined."""
        return np.empty(self.size, dtype=self.dtype)

    def views(self, buf: np.ndarray) -> dict[str, np.ndarray]:
        """name -> the part of buf (size,) that holds it, shaped as that array (views, not copies)."""
        return {k: buf[s].reshape(self.shapes[k]) for k, s in self.slices.items()}

    def gather(self, arrays: dict[str, np.ndarray], out: np.ndarray) -> np.ndarray:
        """Copy `arrays` (by this layout's names) into out (size,) and return it."""
        for k, s in self.slices.items():
            out[s] = arrays[k].ravel()  # a view for a contiguous array: one copy
        return out

    def scatter(self, buf: np.ndarray, arrays: dict[str, np.ndarray]) -> None:
        """Copy buf (size,) into `arrays` (by name), in place."""
        for k, s in self.slices.items():
            arrays[k][...] = buf[s].reshape(self.shapes[k])


def largest_abs(buf: np.ndarray, scratch: np.ndarray) -> float:
    """The largest |entry| of buf: NaN if any entry is NaN, Inf if any is infinite, so that this
    is the finiteness check too (scratch: a buffer of buf's shape, overwritten)."""
    if not buf.size:
        return 0.0
    np.abs(buf, out=scratch)
    return float(scratch.max())
