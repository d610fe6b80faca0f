"""Bringing your own data in: a time series from CSV or `.npy`, or text from a `.txt` file,
turned into a `Task` the app can show and train, plus one sentence saying what was done.

Time series: next-value prediction, many-to-many. Which columns: those given, else every column
that holds plain values; a column that looks like an index (dates, a row counter, years:
column_kinds.py) is left off unless chosen, and the summary says so. The series (n rows, C
columns) is cut into windows aligned to the END, so the newest rows are always used, with a
chosen stride and the newest windows held out (series_windows.py; defaults from the length).
Values are z-scored with the mean and standard deviation of the training windows' rows only.

Text: character level. The vocabulary is the sorted set of characters in the file; inputs are
one-hot (T, N, V), targets the index of the next character (T, N).

Every problem with a file raises `FileFormatError` naming the file and the problem (row and
column for a bad CSV cell); a bad parameter (length, stride, held-out part) a ValueError naming
it. Pure NumPy and the csv module; nothing is evaluated or unpickled.
"""
from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from rnnviz.engine.io.column_kinds import ColumnKind, cell_kind, left_off, numeric_kind, proposed_columns
from rnnviz.engine.io.npz import MAX_ELEMENTS, FileFormatError, check_file, read_npy
from rnnviz.engine.io.series_windows import (
    WindowError, check_params, cut, default_steps, plan_windows, stats_text,
)
from rnnviz.engine.tasks import Task

MAX_CSV_BYTES = 200_000_000
MAX_TEXT_BYTES = 5_000_000
MAX_TEXT_CHARS = 50_000  # characters used for training (one-hot arrays grow as chars × vocabulary)
MAX_VOCAB = 128

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


def _npy_series(p: Path) -> np.ndarray:
    """The array of a .npy/.npz series as (n, C) float64 (non-finite values kept, checked later)."""
    arr = read_npy(p)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise FileFormatError(p, f"holds an array of {arr.dtype}; a time series must hold real numbers")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise FileFormatError(p, f"holds an array of shape {arr.shape}; a time series is (n,) or (n, columns)")
    if arr.shape[1] == 0:
        raise FileFormatError(p, f"holds an array of shape {arr.shape}: no columns")
    return arr.astype(np.float64)  # (n, C)


def _is_npy(p: Path) -> bool:
    head = b""
    if p.is_file():
        with open(p, "rb") as f:
            head = f.read(8)
    return p.suffix.lower() in (".npy", ".npz") or head.startswith((b"\x93NUMPY", b"PK\x03\x04"))


class SeriesFile:
    """A CSV or .npy series read once: its column names, what each holds (column_kinds.py) and its
    rows; `values(columns)` gives the chosen columns as numbers. The import dialog keeps one to
    preview the import as the choices change; `read_series` is one call of it."""

    def __init__(self, path: str | os.PathLike, header: bool | None = None) -> None:
        self.path = p = Path(path)
        self.array: np.ndarray | None = None  # (n, C) float64 for .npy, else None
        self.rows: list[tuple[int, list[str]]] = []  # CSV: (line number, cells)
        self.has_header = False
        if _is_npy(p):
            self.array = _npy_series(p)
            self.names = [f"column {j + 1}" for j in range(self.array.shape[1])]
            self.kinds = [numeric_kind(nm, self.array[:, j]) for j, nm in enumerate(self.names)]
            self.n = self.array.shape[0]
        else:
            self.names, self.rows, self.has_header = read_csv(p, header)
            self.kinds = [cell_kind(nm, [r[j] for _, r in self.rows]) for j, nm in enumerate(self.names)]
            self.n = len(self.rows)

    def values(self, columns: Sequence[Column] | None = None) -> tuple[np.ndarray, list[str], str]:
        """(values (n, C) float64, column names, a note on what was read). `columns=None`: the
        columns that hold plain values; those that look like an index (dates, a row counter,
        years), text or no finite number are left off, and the note says so."""
        p, names = self.path, self.names
        if columns is None or len(columns) == 0:
            columns, _ = _default_columns(p, self.kinds)
        cols = _choose(p, names, columns)
        chosen = [names[c] for c in cols]
        off = left_off([k for k in self.kinds if k.name not in chosen])  # what is not used, and why
        if self.array is not None:
            values = self.array[:, cols]  # (n, C)
            bad = np.argwhere(~np.isfinite(values))
            if bad.size:
                r, c = bad[0]
                raise FileFormatError(p, f"row {r + 1}, {names[cols[c]]}: {values[r, c]} is not a finite number")
            note = f"read {values.shape[0]:,} rows × {len(cols)} column{'s' if len(cols) > 1 else ''}"
            return values, chosen, "; ".join(x for x in (note, off) if x)
        values = np.empty((len(self.rows), len(cols)), dtype=np.float64)
        for i, (line, r) in enumerate(self.rows):
            for k, j in enumerate(cols):
                v = _number(r[j])
                if v is None or not math.isfinite(v):
                    cell = r[j].strip()
                    what = "is empty" if not cell else (f"{cell[:40]!r} is not a finite number" if v is not None
                                                        else f"{cell[:40]!r} is not a number")
                    raise FileFormatError(p, f"row {line}, column {names[j]!r}: {what}")
                values[i, k] = v
        quoted = ", ".join(repr(n) for n in chosen)
        note = (f"read {len(self.rows):,} rows × {len(cols)} column{'s' if len(cols) > 1 else ''} {quoted}"
                + (" (header found)" if self.has_header else " (no header)"))
        return values, chosen, "; ".join(x for x in (note, off) if x)


def series_columns(path: str | os.PathLike, header: bool | None = None) -> tuple[list[ColumnKind], int]:
    """What each column of a CSV or .npy series holds (column_kinds.py), and the number of rows."""
    f = SeriesFile(path, header)
    return f.kinds, f.n


def _default_columns(p: Path, kinds: list[ColumnKind]) -> tuple[list[str], str]:
    """The proposed columns and what was left off; FileFormatError when no column holds plain values."""
    chosen = proposed_columns(kinds)
    if not chosen:
        raise FileFormatError(p, "holds no column of plain numbers to use as a series: "
                                 + "; ".join(f"{k.name!r} {k.why}" for k in kinds)
                                 + ". Choose the columns by hand if one of them is the series")
    return chosen, left_off(kinds)


def read_series(path: str | os.PathLike, columns: Sequence[Column] | None = None,
                header: bool | None = None) -> tuple[np.ndarray, list[str], str]:
    """(values (n, C) float64, column names, a note on what was read) from a CSV or .npy/.npz
    file: `SeriesFile(path, header).values(columns)`."""
    return SeriesFile(path, header).values(columns)


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
    check_params(steps, None, held_out)


def _normalisation(p: Path, values: np.ndarray, rows: slice, normalise: bool) -> tuple[np.ndarray, np.ndarray]:
    """(mean, std) per column (C,) of values[rows]: the training windows' rows only, so nothing of
    the held-out part leaks into the inputs' scale."""
    part = values[rows]  # (rows, C)
    # finite values beyond ~1e154 overflow the squares in std (and beyond ~1e308 / n the sum in
    # mean): checked just below instead of warning and normalising everything to NaN
    with np.errstate(over="ignore", invalid="ignore"):
        mean, std = part.mean(axis=0), part.std(axis=0)  # (C,) (C,)
    if normalise and not (np.isfinite(mean).all() and np.isfinite(std).all()):
        raise FileFormatError(p, f"holds values as large as {np.abs(part).max():.4g}: too large "
                                 f"to normalise (their squares overflow); scale them down first")
    return mean, std


def series_summary(values: np.ndarray, names: Sequence[str], *, steps: int | None = None, stride: int | None = None,
                   held_out: float = 0.2, normalise: bool = True, path: str | os.PathLike = "data",
                   note: str = "") -> str:
    """The sentence `series_task` would say for these values (n, C), without cutting the windows:
    the import dialog's preview. Raises as series_task does."""
    return _plan(values, names, steps, stride, held_out, normalise, Path(path), note)[3]


def _plan(values, names, steps, stride, held_out, normalise, p, note):
    values = np.asarray(values, dtype=np.float64)  # (n, C)
    n = values.shape[0]
    steps = default_steps(n) if steps is None else steps
    check_params(steps, stride, held_out)
    try:
        plan = plan_windows(n, steps, stride, held_out)
    except WindowError as e:
        raise FileFormatError(p, str(e)) from None
    mean, std = _normalisation(p, values, plan.training_rows, normalise)
    how = stats_text(names, mean, std) if normalise else "not normalised"
    summary = "; ".join(part for part in (note, plan.windows_text(), plan.dropped_text(), how) if part)
    return plan, mean, std, summary


def series_task(values: np.ndarray, names: Sequence[str], *, steps: int | None = None, stride: int | None = None,
                held_out: float = 0.2, normalise: bool = True, source: str = "data",
                path: str | os.PathLike | None = None, note: str = "") -> tuple[Task, str]:
    """A next-value-prediction task from values (n, C); returns (task, what was done).
    steps / stride None: the defaults for the series' length (series_windows.py): a monthly
    series of 144 rows gets windows of 12 steps at stride 1 (108 training windows)."""
    p = Path(path or source)
    values = np.asarray(values, dtype=np.float64)  # (n, C)
    plan, mean, std, summary = _plan(values, names, steps, stride, held_out, normalise, p, note)
    C, T = values.shape[1], plan.steps
    if normalise:
        values = (values - mean) / np.where(std == 0, 1.0, std)
    xt, yt = cut(values, plan.train_starts, T)  # (T, N_train, C) each
    xv, yv = cut(values, plan.val_starts, T) if plan.n_val else (None, None)  # (T, N_val, C) each
    name = Path(source).name
    task = Task(
        "series", f"Time series: {name}",
        f"Your data ({', '.join(names)} from {name}): each step sees the current value"
        f"{'s' if C > 1 else ''} and must predict the next. {summary}.",
        "many-to-many", "mse", xt, yt, xv, yv,
        defaults=dict(hidden=16, activation="tanh", optimizer="adam", lr=0.01, iterations=500),
        params=dict(kind="series", source=name, columns=list(names), steps=T, stride=plan.stride,
                    held_out=float(held_out), normalise=bool(normalise), dropped=plan.first_row,
                    mean=[float(m) for m in mean], std=[float(v) for v in std], seed=0),
    )
    return task, summary


def import_series(path: str | os.PathLike, columns: Sequence[Column] | None = None, *, steps: int | None = None,
                  stride: int | None = None, held_out: float = 0.2, normalise: bool = True,
                  header: bool | None = None) -> tuple[Task, str]:
    """A time-series task from a CSV or .npy file; (task, the sentence saying what was done).
    columns None: the columns holding plain values (an index-like column is left off)."""
    check_params(steps if steps is not None else 1, stride, held_out)
    values, names, note = read_series(path, columns, header)
    return series_task(values, names, steps=steps, stride=stride, held_out=held_out, normalise=normalise,
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
