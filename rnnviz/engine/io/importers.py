"""Bringing your own data in: a time series from CSV or `.npy`, or text from a `.txt` file,
turned into a `Task` the app can show and train, plus one sentence saying what was done.

Time series: next-value prediction, many-to-many. The series (n rows, C columns) is cut into
non-overlapping windows of `steps` steps: inputs s[k·T : (k+1)·T], targets one step later. The
last `held_out` fraction of windows (the end of the series) is kept for validation. Values are
z-scored with the mean and standard deviation of the training part.

Text: character level. The vocabulary is the sorted set of characters in the file; inputs are
one-hot (T, N, V), targets the index of the next character (T, N).

Every problem with a file raises `FileFormatError` naming the file and the problem (row and
column for a bad CSV cell). Pure NumPy and the csv module; nothing is evaluated or unpickled.
"""
from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from rnnviz.engine.io.npz import MAX_ELEMENTS, FileFormatError, check_file, read_npy
from rnnviz.engine.tasks import Task

MAX_CSV_BYTES = 200_000_000
MAX_TEXT_BYTES = 5_000_000
MAX_TEXT_CHARS = 50_000  # characters used for training (one-hot arrays grow as chars × vocabulary)
MAX_VOCAB = 128
MAX_STEPS = 10_000

Column = str | int


# reading -------------------------------------------------------------------------------------
def _read_bytes(p: Path, limit: int, kind: str) -> bytes:
    p = check_file(p)
    size = p.stat().st_size
    if size > limit:
        raise FileFormatError(p, f"the file is {size:,} bytes; rnnviz reads {kind} files up to {limit:,} bytes")
    try:
        return p.read_bytes()
    except OSError as e:
        raise FileFormatError(p, f"cannot be read ({e.strerror or e})") from None


def _decode_text(p: Path, raw: bytes, kind: str) -> str:
    if b"\0" in raw[:65536] or raw.startswith((b"PK\x03\x04", b"\x93NUMPY")):
        raise FileFormatError(p, f"is a binary file, not {kind}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FileFormatError(p, f"is not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start}); "
                                 f"save it as UTF-8") from None
    bad = next((c for c in text if ord(c) < 32 and c not in "\n\r\t\f\v"), None)
    if bad is not None:
        raise FileFormatError(p, f"holds the control character U+{ord(bad):04X}: a binary file, not {kind}")
    return text


def _number(cell: str) -> float | None:
    try:
        return float(cell.strip())
    except ValueError:
        return None


def read_csv(path: str | os.PathLike, header: bool | None = None) -> tuple[list[str], list[tuple[int, list[str]]], bool]:
    """(column names, data rows as (line number, text cells), whether a header was found).
    `header=None` detects it. Blank lines are skipped; every row must have the same number of cells."""
    p = Path(path)
    text = _decode_text(p, _read_bytes(p, MAX_CSV_BYTES, "CSV"), "a CSV text file")
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    try:
        rows = [(i, r) for i, r in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)
                if any(c.strip() for c in r)]
    except csv.Error as e:
        raise FileFormatError(p, f"is not a valid CSV file ({e})") from None
    if not rows:
        raise FileFormatError(p, "holds no rows (only blank lines)")
    if header is None:
        first = rows[0][1]
        if len(rows) > 1:
            second = rows[1][1]
            header = any(_number(a) is None and _number(b) is not None for a, b in zip(first, second))
            if not header and all(_number(c) is None for c in first) and not all(_number(c) is None for c in second):
                header = True
        else:
            header = any(_number(c) is None for c in first)
    width = len(rows[0][1])
    for line, r in rows:
        if len(r) != width:
            raise FileFormatError(p, f"row {line} has {len(r)} cell{'s' if len(r) != 1 else ''}; "
                                     f"the first row has {width}")
    if header:
        names = [c.strip() or f"column {j + 1}" for j, c in enumerate(rows[0][1])]
        rows = rows[1:]
        if not rows:
            raise FileFormatError(p, "holds a header row but no data")
    else:
        names = [f"column {j + 1}" for j in range(width)]
    if len(rows) * len(names) > MAX_ELEMENTS:
        raise FileFormatError(p, f"holds {len(rows):,} rows × {len(names)} columns, more than rnnviz reads")
    return names, rows, bool(header)


def _choose(p: Path, names: list[str], columns: Sequence[Column] | None) -> list[int]:
    if columns is None or len(columns) == 0:
        return list(range(len(names)))
    out = []
    for c in columns:
        if isinstance(c, (int, np.integer)) and not isinstance(c, bool):
            if not 0 <= c < len(names):
                raise FileFormatError(p, f"has no column {int(c) + 1} (it has {len(names)}: {', '.join(names)})")
            out.append(int(c))
        elif isinstance(c, str):
            if c not in names:
                raise FileFormatError(p, f"has no column named {c!r} (columns: {', '.join(names)})")
            out.append(names.index(c))
        else:
            raise FileFormatError(p, f"cannot choose a column by {c!r}")
    if len(set(out)) != len(out):
        raise FileFormatError(p, "the same column is chosen twice")
    return out


def parse_columns(text: str, names: Sequence[str]) -> list[Column]:
    """What a person types to choose columns: names or 1-based numbers, separated by commas.
    A name wins over a number. Empty: all columns."""
    out: list[Column] = []
    for part in (s.strip() for s in text.split(",")):
        if not part:
            continue
        if part in names:
            out.append(part)
        elif part.isdigit():
            out.append(int(part) - 1)
        else:
            out.append(part)  # an unknown name: _choose names it in the error
    return out


def read_series(path: str | os.PathLike, columns: Sequence[Column] | None = None,
                header: bool | None = None) -> tuple[np.ndarray, list[str], str]:
    """(values (n, C) float64, column names, a note on what was read) from a CSV or .npy/.npz file."""
    p = Path(path)
    head = b""
    if p.is_file():
        with open(p, "rb") as f:
            head = f.read(8)
    if p.suffix.lower() in (".npy", ".npz") or head.startswith((b"\x93NUMPY", b"PK\x03\x04")):
        arr = read_npy(p)
        if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
            raise FileFormatError(p, f"holds an array of {arr.dtype}; a time series must hold real numbers")
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            raise FileFormatError(p, f"holds an array of shape {arr.shape}; a time series is (n,) or (n, columns)")
        names = [f"column {j + 1}" for j in range(arr.shape[1])]
        if arr.shape[1] == 0:
            raise FileFormatError(p, f"holds an array of shape {arr.shape}: no columns")
        cols = _choose(p, names, columns)
        values = arr[:, cols].astype(np.float64)
        bad = np.argwhere(~np.isfinite(values))
        if bad.size:
            r, c = bad[0]
            raise FileFormatError(p, f"row {r + 1}, {names[cols[c]]}: {values[r, c]} is not a finite number")
        return values, [names[c] for c in cols], f"read {values.shape[0]:,} rows × {len(cols)} column{'s' if len(cols) > 1 else ''}"
    names, rows, has_header = read_csv(p, header)
    cols = _choose(p, names, columns)
    values = np.empty((len(rows), len(cols)), dtype=np.float64)
    for i, (line, r) in enumerate(rows):
        for k, j in enumerate(cols):
            v = _number(r[j])
            if v is None or not math.isfinite(v):
                cell = r[j].strip()
                what = "is empty" if not cell else (f"{cell[:40]!r} is not a finite number" if v is not None
                                                    else f"{cell[:40]!r} is not a number")
                raise FileFormatError(p, f"row {line}, column {names[j]!r}: {what}")
            values[i, k] = v
    chosen = [names[c] for c in cols]
    quoted = ", ".join(repr(n) for n in chosen)
    note = (f"read {len(rows):,} rows × {len(cols)} column{'s' if len(cols) > 1 else ''} {quoted}"
            + (" (header found)" if has_header else " (no header)"))
    return values, chosen, note


# tasks ---------------------------------------------------------------------------------------
def _windows(n_values: int, steps: int) -> int:
    return (n_values - 1) // steps


def _split_counts(p: Path, n_seq: int, held_out: float, what: str, n_values: int, steps: int) -> tuple[int, int]:
    if n_seq < 1:
        raise FileFormatError(p, f"{n_values:,} {what} are too few for one sequence of {steps} steps "
                                 f"(it needs {steps + 1}); choose a shorter sequence length")
    n_val = int(round(n_seq * held_out)) if held_out > 0 else 0
    if held_out > 0 and n_seq >= 2:
        n_val = max(1, n_val)
    n_val = min(n_val, n_seq - 1)
    return n_seq - n_val, n_val


def _check_params(steps: int, held_out: float) -> None:
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"the sequence length must be a whole number from 1 to {MAX_STEPS}, got {steps!r}")
    if not (isinstance(held_out, (int, float)) and 0 <= held_out < 1):
        raise ValueError(f"the held-out fraction must lie in [0, 1), got {held_out!r}")


def series_task(values: np.ndarray, names: Sequence[str], *, steps: int = 20, held_out: float = 0.2,
                normalise: bool = True, source: str = "data", path: str | os.PathLike | None = None,
                note: str = "") -> tuple[Task, str]:
    """A next-value-prediction task from values (n, C); returns (task, what was done)."""
    _check_params(steps, held_out)
    p = Path(path or source)
    values = np.asarray(values, dtype=np.float64)  # (n, C)
    n, C = values.shape
    n_seq = _windows(n, steps)
    n_train, n_val = _split_counts(p, n_seq, held_out, "rows", n, steps)
    train_rows = n_train * steps + 1
    # finite values beyond ~1e154 overflow the squares in std (and beyond ~1e308 / n the sum in
    # mean): checked just below instead of warning and normalising everything to NaN
    with np.errstate(over="ignore", invalid="ignore"):
        mean = values[:train_rows].mean(axis=0)  # (C,)
        std = values[:train_rows].std(axis=0)
    if normalise and not (np.isfinite(mean).all() and np.isfinite(std).all()):
        raise FileFormatError(p, f"holds values as large as {np.abs(values[:train_rows]).max():.4g}: too large "
                                 f"to normalise (their squares overflow); scale them down first")
    constant = std == 0
    if normalise:
        scale = np.where(constant, 1.0, std)
        values = (values - mean) / scale
    used = n_seq * steps + 1
    s = values[:used]  # (n_seq·T + 1, C)
    idx = np.arange(n_seq)[:, None] * steps + np.arange(steps)[None, :]  # (N, T)
    x = s[idx].transpose(1, 0, 2)  # (T, N, C)
    y = s[idx + 1].transpose(1, 0, 2)  # (T, N, C) the next value
    xt, yt, xv, yv = x[:, :n_train], y[:, :n_train], x[:, n_train:], y[:, n_train:]
    if normalise:
        if C == 1:
            how = f"normalised (mean {mean[0]:.4g}, std {std[0]:.4g}{', constant' if constant[0] else ''})"
        else:
            how = "normalised each column to mean 0, std 1 (" + "; ".join(
                f"{nm}: mean {m:.4g}, std {sd:.4g}" for nm, m, sd in zip(names, mean, std)) + ")"
    else:
        how = "not normalised"
    split = f"{n_train} training + {n_val} held-out sequence{'s' if n_val != 1 else ''} of {steps} steps"
    dropped = n - used
    summary = "; ".join(part for part in (note, how, split) if part)
    if dropped:
        summary += f" (the last {dropped} row{'s' if dropped != 1 else ''} did not fill a sequence)"
    name = Path(source).name
    task = Task(
        "series", f"Time series: {name}",
        f"Your data ({', '.join(names)} from {name}): each step sees the current value"
        f"{'s' if C > 1 else ''} and must predict the next. {summary}.",
        "many-to-many", "mse", xt, yt, xv if n_val else None, yv if n_val else None,
        defaults=dict(hidden=16, activation="tanh", optimizer="adam", lr=0.01, iterations=500),
        params=dict(kind="series", source=name, columns=list(names), steps=steps, held_out=float(held_out),
                    normalise=bool(normalise), mean=[float(m) for m in mean], std=[float(v) for v in std], seed=0),
    )
    return task, summary


def import_series(path: str | os.PathLike, columns: Sequence[Column] | None = None, *, steps: int = 20,
                  held_out: float = 0.2, normalise: bool = True, header: bool | None = None) -> tuple[Task, str]:
    """A time-series task from a CSV or .npy file; (task, the sentence saying what was done)."""
    _check_params(steps, held_out)
    values, names, note = read_series(path, columns, header)
    return series_task(values, names, steps=steps, held_out=held_out, normalise=normalise,
                       source=str(path), path=path, note=note)


def _show(c: str) -> str:
    return {"\n": "↵", "\t": "⇥", " ": "␣"}.get(c, c)


def import_text(path: str | os.PathLike, *, steps: int = 25, held_out: float = 0.1,
                max_chars: int = MAX_TEXT_CHARS, max_vocab: int = MAX_VOCAB) -> tuple[Task, str]:
    """A character-level task from a UTF-8 text file; (task, the sentence saying what was done)."""
    _check_params(steps, held_out)
    p = Path(path)
    text = _decode_text(p, _read_bytes(p, MAX_TEXT_BYTES, "text"), "a text file")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise FileFormatError(p, "holds no text (only blank space)")
    total = len(text)
    used_text = text[:max_chars]
    vocab = "".join(sorted(set(used_text)))
    V = len(vocab)
    if V > max_vocab:
        raise FileFormatError(p, f"uses {V} different characters; rnnviz's character task takes at most {max_vocab} "
                                 "(one input and one output per character)")
    if V < 2:
        raise FileFormatError(p, f"uses only one character ({_show(vocab)!r}): there is nothing to predict")
    lookup = {c: i for i, c in enumerate(vocab)}
    idx = np.fromiter((lookup[c] for c in used_text), dtype=np.int64, count=len(used_text))  # (n,)
    n_seq = _windows(len(idx), steps)
    n_train, n_val = _split_counts(p, n_seq, held_out, "characters", len(idx), steps)
    win = np.arange(n_seq)[:, None] * steps + np.arange(steps)[None, :]  # (N, T)
    x = np.eye(V)[idx[win]].transpose(1, 0, 2)  # (T, N, V) one-hot
    y = idx[win + 1].T.astype(np.int64)  # (T, N) next character
    used = f"{len(used_text):,} characters" + (f" (the first of {total:,})" if total > len(used_text) else "")
    shown = "".join(_show(c) for c in vocab)
    summary = (f"read {used}; vocabulary of {V} characters “{shown[:60]}{'…' if len(shown) > 60 else ''}”; "
               f"{n_train} training + {n_val} held-out sequence{'s' if n_val != 1 else ''} of {steps} steps")
    task = Task(
        "text", f"Text: {p.name}",
        f"Each step sees one character of {p.name} (one-hot over its {V} characters) and must predict the next. "
        f"{summary}.",
        "many-to-many", "cross-entropy", x[:, :n_train], y[:, :n_train],
        x[:, n_train:] if n_val else None, y[:, n_train:] if n_val else None, vocab=vocab,
        defaults=dict(hidden=32, activation="tanh", optimizer="adam", lr=0.01, iterations=500),
        params=dict(kind="text", source=p.name, steps=steps, held_out=float(held_out), classes=V, seed=0,
                    chars=len(used_text)),
    )
    return task, summary
