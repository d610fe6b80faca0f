"""Exports that need no Qt: a trace as JSON, a training history as CSV.

JSON trace format (`format: "rnnviz-trace-json"`, `version: 1`)::

    {"format": "rnnviz-trace-json", "version": 1,
     "meta":   {"activation": "tanh", "architecture": "many-to-many", "loss": "mse", "tbptt": null},
     "shapes": {"x": [T, B, I], ...},          # the shape of every array
     "dtypes": {"x": "float64", ...},          # its NumPy dtype
     "arrays": {"x": [[[...]]], ...}}          # every array as nested lists (a scalar as a number)

The arrays are exactly those of the `.npz` trace file (see `save_trace`): `x a h y loss loss_t
dL_dy dL_dh dL_dh_out dL_da input_mask target_mask grad_gain grad_* step_norm_* W_xh W_hh b_h
W_hy b_y` and, when present, `targets` and `probs` (LSTM/GRU traces: the cell's own parameter names,
`gate_*`, `pre_*`, `dL_dpre_*`, `c`, `dL_dc`, `extra_*`, and `cell` in meta). Numbers are written with full precision, so
reading them back gives the same float64 values. JSON has no NaN or infinity: those are written
as the strings "NaN", "Infinity" and "-Infinity" (`float()` in Python reads them).

History CSV: a header `iteration,loss,grad_norm,val_loss` and one row per recorded iteration;
`val_loss` is empty on iterations without a held-out evaluation (every 10th by default).
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path

import numpy as np

from rnnviz.engine.io.npz import write_atomic
from rnnviz.engine.io.traces import trace_arrays, trace_meta  # noqa: F401 (trace_arrays: public here too)
from rnnviz.engine.history import History
from rnnviz.engine.trace import Trace

JSON_FORMAT = "rnnviz-trace-json"
HISTORY_COLUMNS = ("iteration", "loss", "grad_norm", "val_loss")


class ExportError(ValueError):
    """An export could not be made; the message says why (and names the file)."""


def _write(path: str | os.PathLike, data: bytes) -> Path:
    """Write atomically; a folder that does not exist or cannot be written becomes an
    ExportError naming the file."""
    p = Path(path)
    if p.is_dir():
        raise ExportError(f"{p}: is a folder; give a file name")
    try:
        write_atomic(p, lambda f: f.write(data))
    except OSError as e:
        if not p.parent.exists():
            raise ExportError(f"{p}: the folder {p.parent} does not exist") from None
        raise ExportError(f"{p}: cannot write here ({e.strerror or e})") from None
    _usual_mode(p)
    return p


def _usual_mode(p: Path) -> None:
    """write_atomic's temporary file is private (0600); an export is a normal file (0666 & ~umask)."""
    try:
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(p, 0o666 & ~mask)
    except OSError:
        pass


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Public form of the atomic write with clear errors (the Qt exports use it too)."""
    return _write(path, data)


# trace -----------------------------------------------------------------------------------------
def _plain(value):
    """Nested lists of Python numbers, with non-finite floats as JSON-safe strings."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def trace_to_json(trace: Trace) -> dict:
    arrays = trace_arrays(trace)
    return {
        "format": JSON_FORMAT,
        "version": 1,
        "meta": {k: v for k, v in trace_meta(trace).items() if k not in ("format", "version")},
        "shapes": {k: list(a.shape) for k, a in arrays.items()},
        "dtypes": {k: str(a.dtype) for k, a in arrays.items()},
        "arrays": {k: _plain(a.tolist()) for k, a in arrays.items()},
    }


def save_trace_json(trace: Trace, path: str | os.PathLike) -> Path:
    text = json.dumps(trace_to_json(trace), allow_nan=False, separators=(",", ":"))
    return _write(path, text.encode("utf-8"))


def arrays_from_json(doc: dict) -> dict[str, np.ndarray]:
    """The arrays of a JSON trace document, with their shapes and dtypes restored."""
    if not isinstance(doc, dict) or doc.get("format") != JSON_FORMAT:
        raise ExportError(f"not an rnnviz JSON trace (format should be {JSON_FORMAT!r})")
    out = {}
    for k, v in doc["arrays"].items():
        dtype = np.dtype(doc["dtypes"][k])
        a = np.array(v, dtype=np.float64 if dtype.kind == "f" else dtype)
        out[k] = a.astype(dtype).reshape(doc["shapes"][k])
    return out


def load_trace_json(path: str | os.PathLike) -> dict[str, np.ndarray]:
    with open(path, encoding="utf-8") as f:
        return arrays_from_json(json.load(f))


# history ---------------------------------------------------------------------------------------
def history_rows(history: History) -> list[tuple[int, float | None, float | None, float | None]]:
    """(iteration, loss, grad_norm, val_loss) per recorded iteration; None where not recorded."""
    cols = {}
    for name in ("loss", "grad_norm", "val_loss"):
        s = getattr(history, name)
        cols[name] = dict(zip(s.iterations.tolist(), s.values.tolist()))
    its = sorted(set().union(*(c.keys() for c in cols.values())))
    return [(it, cols["loss"].get(it), cols["grad_norm"].get(it), cols["val_loss"].get(it)) for it in its]


def history_csv(history: History) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HISTORY_COLUMNS)
    for it, *vals in history_rows(history):
        w.writerow([it, *("" if v is None else repr(float(v)) for v in vals)])
    return buf.getvalue()


def save_history_csv(history: History | None, path: str | os.PathLike) -> Path:
    if history is None or len(history.loss) == 0:
        raise ExportError(f"{path}: there is no training history yet: train the network first")
    return _write(path, history_csv(history).encode("utf-8"))
