"""Reading and writing the engine's files: model `.npz`, trace `.npz`, input/target `.npy`/`.npz`,
and PyTorch `nn.RNN` + `nn.Linear` state dicts.

Every loader opens files with allow_pickle=False and answers anything wrong with a
`FileFormatError` that names the file and the problem. Nothing is unpickled or evaluated
(`.pt` files go through torch.load(weights_only=True), PyTorch's restricted loader).
"""
from __future__ import annotations

import json
import os
import tempfile
import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from rnnviz.engine.model import ARCHITECTURES, LOSSES, PARAM_NAMES, RNN
from rnnviz.engine.activations import ACTIVATIONS
from rnnviz.engine.trace import GRAD_NAMES, Trace

# a damaged .npy header is parsed by NumPy with Python's tokenizer: these escape as well
_HEADER_ERRORS = (SyntaxError, tokenize.TokenError, TypeError, OverflowError, MemoryError)
MAX_ELEMENTS = 50_000_000  # no array in a file we read may claim more than this (400 MB of float64)
MAX_FILE_BYTES = 2_000_000_000


class FileFormatError(ValueError):
    """A file could not be used; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


# low-level reading ---------------------------------------------------------------------------
def _check_file(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not p.exists():
        raise FileFormatError(p, "no such file")
    if p.is_dir():
        raise FileFormatError(p, "is a folder, not a file")
    size = p.stat().st_size
    if size == 0:
        raise FileFormatError(p, "the file is empty")
    if size > MAX_FILE_BYTES:
        raise FileFormatError(p, f"the file is {size / 1e9:.1f} GB, more than rnnviz reads")
    return p


def _check_header_size(p: Path, name: str, shape: tuple[int, ...], dtype: np.dtype | None = None) -> None:
    n = 1
    for d in shape:
        n *= int(d)
    if n > MAX_ELEMENTS:
        raise FileFormatError(p, f"array {name!r} claims shape {shape} ({n:,} values), too large to be real")
    if dtype is not None and n * dtype.itemsize > 8 * MAX_ELEMENTS:
        raise FileFormatError(p, f"array {name!r} claims {n:,} values of {dtype.itemsize:,} bytes each, too large to be real")


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """All arrays of an .npz archive, checked for size before reading, never unpickled."""
    p = _check_file(path)
    if not zipfile.is_zipfile(p):
        raise FileFormatError(p, "is not an .npz archive (not a zip file)")
    try:
        with zipfile.ZipFile(p) as zf:
            for info in zf.infolist():
                if not info.filename.endswith(".npy"):
                    raise FileFormatError(p, f"holds {info.filename!r}, which is not a NumPy array")
                with zf.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    shape, _, dtype = (np.lib.format.read_array_header_1_0(f) if version == (1, 0)
                                       else np.lib.format.read_array_header_2_0(f))
                    if dtype.hasobject:
                        raise FileFormatError(p, f"array {info.filename[:-4]!r} holds Python objects, which rnnviz never unpickles")
                    _check_header_size(p, info.filename[:-4], shape, dtype)
        with np.load(p, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except FileFormatError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError, NotImplementedError, RuntimeError,
            *_HEADER_ERRORS) as e:
        raise FileFormatError(p, f"is damaged or not a valid .npz archive ({_short(e)})") from None


def read_npy(path: str | os.PathLike) -> np.ndarray:
    """One array from a .npy file (or the single array of an .npz), never unpickled."""
    p = _check_file(path)
    if zipfile.is_zipfile(p):
        arrays = read_npz(p)
        if len(arrays) != 1:
            raise FileFormatError(p, f"holds {len(arrays)} arrays ({', '.join(arrays)}); expected one")
        return next(iter(arrays.values()))
    try:
        with open(p, "rb") as f:
            version = np.lib.format.read_magic(f)
            shape, _, dtype = (np.lib.format.read_array_header_1_0(f) if version == (1, 0)
                               else np.lib.format.read_array_header_2_0(f))
            if dtype.hasobject:
                raise FileFormatError(p, "holds Python objects, which rnnviz never unpickles")
            _check_header_size(p, "array", shape, dtype)
        return np.load(p, allow_pickle=False)
    except FileFormatError:
        raise
    except (ValueError, OSError, EOFError, *_HEADER_ERRORS) as e:
        raise FileFormatError(p, f"is not a valid .npy file ({_short(e)})") from None


def _short(e: Exception) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text[:160]


def _numeric(p: Path, name: str, arr: np.ndarray, *, ndim: int | None = None, finite: bool = True) -> np.ndarray:
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)) or arr.dtype == bool:
        raise FileFormatError(p, f"{name!r} has dtype {arr.dtype}; expected real numbers")
    if ndim is not None and arr.ndim != ndim:
        raise FileFormatError(p, f"{name!r} has shape {arr.shape}; expected {ndim} dimension{'s' if ndim != 1 else ''}")
    if finite and np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise FileFormatError(p, f"{name!r} holds a non-finite value ({arr[tuple(bad)]}) at index {tuple(int(i) for i in bad)}")
    return arr


# atomic writing --------------------------------------------------------------------------------
def check_writable(path: str | os.PathLike) -> None:
    """Raise an OSError naming `path` when it cannot be a file we write: a folder, or in a
    folder that does not exist. Call it before long work whose result goes there."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(21, "is a folder; give a file name", str(path))
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise FileNotFoundError(2, f"the folder {parent} does not exist", str(path))


def write_atomic(path: str | os.PathLike, write: Any) -> None:
    """Call write(file) on a temporary file in the same folder, then replace `path` with it, so
    a failure midway leaves any previous file untouched."""
    path = Path(path)
    check_writable(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:  # name the file asked for, not the temporary one
        raise OSError(e.errno, e.strerror, str(path)) from None
    try:
        # mkstemp makes the file private (0600); give it the permissions a plain open() would
        # (an existing file keeps its own), so a saved model is as readable as any other file.
        try:
            mode = path.stat().st_mode & 0o7777
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _savez(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    write_atomic(path, lambda f: np.savez(f, **arrays))


# model files -------------------------------------------------------------------------------------
def save_model(model: RNN, path: str | os.PathLike) -> None:
    arrays = dict(model.params())  # any cell: vanilla, LSTM, GRU (their own parameter names)
    for name in getattr(model, "STATE_NAMES", ("h0",)):  # h0, and an LSTM's c0
        arrays[name] = getattr(model, name)
    arrays["meta"] = np.array(json.dumps(model.meta()))
    _savez(path, arrays)


def load_model(path: str | os.PathLike, report: list[str] | None = None, **overrides: str | None) -> RNN:
    """A model from an rnnviz model file; `overrides` (activation, architecture, loss) win over meta.
    A PyTorch state dict adds to `report` (if given) what was mapped to what."""
    p = Path(path)
    data = read_npz(p)
    if is_torch_state_dict(data):
        return model_from_torch_state_dict(data, p, report=report, **overrides)
    if "meta" in data:
        try:
            cell = _read_meta(p, data).get("cell")
        except FileFormatError:
            cell = None  # reported below, after the arrays
        if cell in ("lstm", "gru"):
            return _load_gated_model(p, data, overrides)
    missing = [k for k in PARAM_NAMES if k not in data]
    if missing:
        raise FileFormatError(p, f"missing array{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                                 f"(an rnnviz model file holds {', '.join(PARAM_NAMES)}, optional h0, and meta)")
    meta = _read_meta(p, data)
    arrays = {k: _numeric(p, k, data[k], ndim=2 if k.startswith("W") else 1) for k in PARAM_NAMES}
    dtype = np.result_type(*[a.dtype for a in arrays.values()], np.float32)
    arrays = {k: v.astype(dtype) for k, v in arrays.items()}
    I, H = arrays["W_xh"].shape
    expect = {"W_hh": (H, H), "b_h": (H,), "W_hy": (H, None), "b_y": (arrays["W_hy"].shape[1],)}
    for k, shape in expect.items():
        got = arrays[k].shape
        if len(got) != len(shape) or any(s is not None and g != s for g, s in zip(got, shape)):
            want = "(" + ", ".join("O" if s is None else str(s) for s in shape) + (",)" if len(shape) == 1 else ")")
            raise FileFormatError(p, f"{k!r} has shape {got}; with W_xh {arrays['W_xh'].shape} it must be {want}")
    O = arrays["W_hy"].shape[1]
    if 0 in (I, H, O):
        raise FileFormatError(p, f"'W_xh' {arrays['W_xh'].shape} and 'W_hy' {arrays['W_hy'].shape} give sizes I={I}, H={H}, O={O}; "
                                 "each must be at least 1")
    h0 = np.zeros(H, dtype=dtype)
    if "h0" in data:
        h0 = _numeric(p, "h0", data["h0"], ndim=1).astype(dtype)
        if h0.shape != (H,):
            raise FileFormatError(p, f"'h0' has shape {h0.shape}; expected ({H},)")
    settings = _settings(p, meta, overrides)
    cell = meta.get("cell", "rnn")
    if cell != "rnn":
        raise FileFormatError(p, f"meta says cell {cell!r}; this version of rnnviz reads 'rnn' models")
    extra = {k: v for k, v in meta.items() if k not in ("cell", "activation", "architecture", "loss",
                                                          "input_size", "hidden_size", "output_size")}
    return RNN(**arrays, h0=h0, extra_meta=extra, **settings)


def _load_gated_model(p: Path, data: dict[str, np.ndarray], overrides: dict):
    """An LSTM / GRU model file: its parameter names (engine/model.py), h0 (and c0), meta."""
    from rnnviz.engine.model import GRU, LSTM

    meta = _read_meta(p, data)
    cls = LSTM if meta["cell"] == "lstm" else GRU
    missing = [k for k in cls.PARAM_NAMES if k not in data]
    if missing:
        raise FileFormatError(p, f"meta says cell {meta['cell']!r} but the file lacks {', '.join(missing)} "
                                 f"(its model file holds {', '.join(cls.PARAM_NAMES)})")
    arrays = {k: _numeric(p, k, data[k], ndim=2 if k.startswith("W") else 1) for k in cls.PARAM_NAMES}
    dtype = np.result_type(*[a.dtype for a in arrays.values()], np.float32)
    arrays = {k: v.astype(dtype) for k, v in arrays.items()}
    I, H = arrays[cls.PARAM_NAMES[0]].shape
    O = arrays["W_hy"].shape[1]
    if 0 in (I, H, O):
        raise FileFormatError(p, f"sizes I={I}, H={H}, O={O}; each must be at least 1")
    for k in cls.STATE_NAMES:
        arrays[k] = _numeric(p, k, data[k], ndim=1).astype(dtype) if k in data else np.zeros(H, dtype=dtype)
    settings = _settings(p, {**meta, "activation": meta.get("activation", "tanh")}, overrides)
    extra = {k: v for k, v in meta.items() if k not in ("cell", "activation", "architecture", "loss",
                                                          "input_size", "hidden_size", "output_size")}
    try:
        return cls(**arrays, extra_meta=extra, **settings)
    except ValueError as e:
        raise FileFormatError(p, str(e)) from None


def _read_meta(p: Path, data: dict[str, np.ndarray]) -> dict:
    if "meta" not in data:
        raise FileFormatError(p, "missing 'meta' (a JSON string with cell, activation, architecture, loss)")
    raw = data["meta"]
    if raw.shape != () or raw.dtype.kind not in "US":
        raise FileFormatError(p, f"'meta' must be a JSON string, got an array of {raw.dtype} with shape {raw.shape}")
    text = raw.item()
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as e:
        raise FileFormatError(p, f"'meta' is not valid JSON ({e.msg} at position {e.pos})") from None
    if not isinstance(meta, dict):
        raise FileFormatError(p, "'meta' must be a JSON object")
    return meta


def _settings(p: Path, meta: dict, overrides: dict) -> dict:
    choices = {"activation": ACTIVATIONS, "architecture": ARCHITECTURES, "loss": LOSSES}
    out = {}
    for key, allowed in choices.items():
        value = overrides.get(key) or meta.get(key)
        if value is None:
            raise FileFormatError(p, f"meta does not say the {key}; pass --{key} ({'|'.join(allowed)})")
        if value not in allowed:
            raise FileFormatError(p, f"unknown {key} {value!r}; expected one of {', '.join(allowed)}")
        out[key] = value
    return out


# PyTorch state dicts --------------------------------------------------------------------------
TORCH_RNN_KEYS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


def is_torch_state_dict(data: dict) -> bool:
    return any(k.endswith("weight_ih_l0") for k in data)


def model_from_torch_state_dict(
    data: dict[str, np.ndarray], path: str | os.PathLike = "<state dict>", report: list[str] | None = None, **overrides: str | None
) -> RNN:
    """An RNN from an nn.RNN (1 layer) + nn.Linear state dict, keys possibly prefixed
    (`rnn.weight_ih_l0`, `fc.weight`). W_xh = weight_ih_l0ᵀ, W_hh = weight_hh_l0ᵀ,
    b_h = bias_ih_l0 + bias_hh_l0, W_hy = weightᵀ, b_y = bias of the Linear."""
    p = Path(path)
    keys = list(data)
    def find(suffix: str) -> str | None:
        hits = [k for k in keys if k == suffix or k.endswith("." + suffix)]
        if len(hits) > 1:
            raise FileFormatError(p, f"several arrays end in {suffix!r}: {', '.join(hits)}")
        return hits[0] if hits else None

    if any(k.endswith(("weight_ih_l1", "weight_ih_l0_reverse")) for k in keys):
        raise FileFormatError(p, "holds a multi-layer or bidirectional RNN; rnnviz reads one layer, one direction")
    rnn_keys = {s: find(s) for s in TORCH_RNN_KEYS}
    if rnn_keys["weight_ih_l0"] is None or rnn_keys["weight_hh_l0"] is None:
        raise FileFormatError(p, "missing weight_ih_l0 / weight_hh_l0 of an nn.RNN")
    rnn_prefix = rnn_keys["weight_ih_l0"][: -len("weight_ih_l0")]
    head = [k for k in keys if k.endswith("weight") and not k.startswith(rnn_prefix or "\0") and k[: -len("weight")] != rnn_prefix]
    if len(head) != 1:
        raise FileFormatError(p, f"expected one nn.Linear head (a '<name>.weight' beside the RNN's keys), found {len(head)}: {', '.join(head) or 'none'}")
    head_prefix = head[0][: -len("weight")]
    arr = {k: _numeric(p, k, np.asarray(v)) for k, v in data.items() if k != "meta"}
    w_ih, w_hh = arr[rnn_keys["weight_ih_l0"]], arr[rnn_keys["weight_hh_l0"]]
    if w_ih.ndim == 2 and w_hh.ndim == 2 and w_hh.shape[1] > 0 and w_ih.shape[0] == w_hh.shape[0] \
            and w_hh.shape[0] in (3 * w_hh.shape[1], 4 * w_hh.shape[1]):
        # nn.LSTM / nn.GRU stack their 4 / 3 gates: weight_hh_l0 is (4H, H) / (3H, H)
        return _gated_from_torch(p, data, arr, rnn_keys, head, head_prefix, report, overrides)
    if w_ih.ndim != 2 or w_hh.ndim != 2 or w_hh.shape[0] != w_hh.shape[1] or w_ih.shape[0] != w_hh.shape[0] or 0 in w_ih.shape:
        raise FileFormatError(p, f"weight_ih_l0 {w_ih.shape} and weight_hh_l0 {w_hh.shape} do not form an nn.RNN (expect (H, I) and (H, H))")
    H = w_hh.shape[0]
    b = np.zeros(H, dtype=w_hh.dtype)
    for s in ("bias_ih_l0", "bias_hh_l0"):
        if rnn_keys[s] is not None:
            if arr[rnn_keys[s]].shape != (H,):
                raise FileFormatError(p, f"{rnn_keys[s]} has shape {arr[rnn_keys[s]].shape}; expected ({H},)")
            b = b + arr[rnn_keys[s]]
    w_out = arr[head[0]]
    if w_out.ndim != 2 or w_out.shape[1] != H:
        raise FileFormatError(p, f"{head[0]} has shape {w_out.shape}; expected (O, {H})")
    if w_out.shape[0] == 0:
        raise FileFormatError(p, f"{head[0]} has shape {w_out.shape}: the Linear head has no outputs")
    b_out = arr.get(head_prefix + "bias", np.zeros(w_out.shape[0], dtype=w_out.dtype))
    if b_out.shape != (w_out.shape[0],):
        raise FileFormatError(p, f"{head_prefix}bias has shape {b_out.shape}; expected ({w_out.shape[0]},)")
    dtype = np.result_type(w_ih.dtype, w_hh.dtype, w_out.dtype, np.float32)
    meta = {}
    if "meta" in data:
        meta = _read_meta(p, data)
    overrides = {k: v for k, v in overrides.items() if v}
    settings = _settings(p, {"activation": meta.get("activation", "tanh"), "architecture": meta.get("architecture", "many-to-many"),
                             "loss": meta.get("loss", "mse")}, overrides)
    if settings["activation"] not in ("tanh", "relu"):
        raise FileFormatError(p, f"nn.RNN has tanh or relu, not {settings['activation']!r}")
    if report is not None:
        report += [
            f"W_xh {w_ih.T.shape} ← {rnn_keys['weight_ih_l0']}ᵀ",
            f"W_hh {w_hh.T.shape} ← {rnn_keys['weight_hh_l0']}ᵀ",
            f"b_h ({H},) ← " + " + ".join(k for k in (rnn_keys["bias_ih_l0"], rnn_keys["bias_hh_l0"]) if k) if any((rnn_keys["bias_ih_l0"], rnn_keys["bias_hh_l0"])) else f"b_h ({H},) ← zeros (no RNN biases)",
            f"W_hy {w_out.T.shape} ← {head[0]}ᵀ",
            f"b_y ({w_out.shape[0]},) ← " + (head_prefix + "bias" if head_prefix + "bias" in arr else "zeros (no Linear bias)"),
        ]
    return RNN(
        W_xh=np.ascontiguousarray(w_ih.T, dtype=dtype), W_hh=np.ascontiguousarray(w_hh.T, dtype=dtype),
        b_h=b.astype(dtype), W_hy=np.ascontiguousarray(w_out.T, dtype=dtype), b_y=b_out.astype(dtype),
        h0=np.zeros(H, dtype=dtype), extra_meta={"imported_from": "pytorch"}, **settings,
    )


def _gated_from_torch(p: Path, data: dict, arr: dict, rnn_keys: dict, head: list, head_prefix: str,
                      report: list[str] | None, overrides: dict):
    """nn.LSTM / nn.GRU (1 layer) + nn.Linear in PyTorch's gate order (LSTM i, f, g, o; GRU r, z, n):
    W_x* = weight_ih_l0[gate]ᵀ, W_h* = weight_hh_l0[gate]ᵀ, b_* = bias_ih + bias_hh of the gate,
    except the GRU's n gate: b_xn = bias_ih_n, b_hn = bias_hh_n (r multiplies only b_hn)."""
    from rnnviz.engine.model import GRU, GRU_GATES, LSTM, LSTM_GATES

    w_ih, w_hh = arr[rnn_keys["weight_ih_l0"]], arr[rnn_keys["weight_hh_l0"]]
    H = w_hh.shape[1]
    lstm = w_hh.shape[0] == 4 * H
    gates, cls, kind = (LSTM_GATES, LSTM, "nn.LSTM") if lstm else (GRU_GATES, GRU, "nn.GRU")
    n = len(gates)
    if w_ih.shape[1] == 0:
        raise FileFormatError(p, f"{rnn_keys['weight_ih_l0']} has shape {w_ih.shape}: the {kind} has no inputs")
    biases = {}
    for s in ("bias_ih_l0", "bias_hh_l0"):
        key = rnn_keys[s]
        if key is not None and arr[key].shape != (n * H,):
            raise FileFormatError(p, f"{key} has shape {arr[key].shape}; expected ({n * H},) for an {kind} with H={H}")
        biases[s] = arr[key] if key is not None else np.zeros(n * H, dtype=w_hh.dtype)
    w_out = arr[head[0]]
    if w_out.ndim != 2 or w_out.shape[1] != H or w_out.shape[0] == 0:
        raise FileFormatError(p, f"{head[0]} has shape {w_out.shape}; expected (O, {H}) with O at least 1")
    b_out = arr.get(head_prefix + "bias", np.zeros(w_out.shape[0], dtype=w_out.dtype))
    if b_out.shape != (w_out.shape[0],):
        raise FileFormatError(p, f"{head_prefix}bias has shape {b_out.shape}; expected ({w_out.shape[0]},)")
    dtype = np.result_type(w_ih.dtype, w_hh.dtype, w_out.dtype, np.float32)
    meta = _read_meta(p, data) if "meta" in data else {}
    overrides = {k: v for k, v in overrides.items() if v}
    settings = _settings(p, {"activation": meta.get("activation", "tanh"), "architecture": meta.get("architecture", "many-to-many"),
                             "loss": meta.get("loss", "mse")}, overrides)
    if settings["activation"] != "tanh":
        raise FileFormatError(p, f"{'an' if lstm else 'a'} {kind} has fixed nonlinearities (σ and tanh), not the activation {settings['activation']!r}")
    params, lines = {}, []
    for k, g in enumerate(gates):
        sl = slice(k * H, (k + 1) * H)
        params["W_x" + g] = np.ascontiguousarray(w_ih[sl].T, dtype=dtype)
        params["W_h" + g] = np.ascontiguousarray(w_hh[sl].T, dtype=dtype)
        lines.append(f"W_x{g}, W_h{g} ← rows {k * H}..{(k + 1) * H - 1} of {rnn_keys['weight_ih_l0']}, {rnn_keys['weight_hh_l0']} (ᵀ)")
        if g == "n":
            params["b_xn"], params["b_hn"] = biases["bias_ih_l0"][sl].astype(dtype), biases["bias_hh_l0"][sl].astype(dtype)
            lines.append(f"b_xn ← bias_ih_l0[{k * H}:{(k + 1) * H}], b_hn ← bias_hh_l0[{k * H}:{(k + 1) * H}] (kept apart)")
        else:
            params["b_" + g] = (biases["bias_ih_l0"][sl] + biases["bias_hh_l0"][sl]).astype(dtype)
            lines.append(f"b_{g} ← bias_ih_l0 + bias_hh_l0 [{k * H}:{(k + 1) * H}]")
    params["W_hy"] = np.ascontiguousarray(w_out.T, dtype=dtype)
    params["b_y"] = b_out.astype(dtype)
    if report is not None:
        report += [f"{kind} (gates {', '.join(gates)}), H={H}", *lines, f"W_hy {w_out.T.shape} ← {head[0]}ᵀ",
                   f"b_y ({w_out.shape[0]},) ← " + (head_prefix + "bias" if head_prefix + "bias" in arr else "zeros (no Linear bias)")]
    states = {s: np.zeros(H, dtype=dtype) for s in cls.STATE_NAMES}
    return cls(**params, **states, extra_meta={"imported_from": "pytorch"}, **settings)


def load_torch_pt(path: str | os.PathLike, report: list[str] | None = None, **overrides: str | None) -> RNN:
    """A .pt state dict, read with torch.load(weights_only=True) (needs torch installed)."""
    p = _check_file(path)
    try:
        import torch
    except ImportError:
        raise FileFormatError(p, "reading .pt files needs PyTorch; install torch, or save the state dict as .npz") from None
    try:
        sd = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for corrupt files
        raise FileFormatError(p, f"is not a readable PyTorch state dict ({_short(e)})") from None
    if hasattr(sd, "state_dict") and not isinstance(sd, dict):
        sd = sd.state_dict()
    if not isinstance(sd, dict) or not all(hasattr(v, "detach") for v in sd.values()):
        raise FileFormatError(p, "does not hold a state dict of tensors")
    arrays = {}
    for k, v in sd.items():
        t = v.detach().cpu()
        if t.is_floating_point() and t.dtype not in (torch.float16, torch.float32, torch.float64):
            t = t.to(torch.float32)  # bfloat16, float8: NumPy has no such dtype; float32 holds them exactly
        try:
            arrays[k] = t.numpy()
        except (TypeError, RuntimeError) as e:
            raise FileFormatError(p, f"{k!r} is a tensor NumPy cannot read ({_short(e)})") from None
    return model_from_torch_state_dict(arrays, p, report=report, **overrides)


def load_any_model(path: str | os.PathLike, report: list[str] | None = None, **overrides: str | None) -> RNN:
    """rnnviz model .npz, PyTorch state dict .npz, or .pt (`report`: see load_model)."""
    if str(path).endswith((".pt", ".pth")):
        return load_torch_pt(path, report=report, **overrides)
    return load_model(path, report=report, **overrides)


# trace files ---------------------------------------------------------------------------------
TRACE_ARRAYS = ("x", "a", "h", "y", "loss", "loss_t", "dL_dy", "dL_dh", "dL_da", *GRAD_NAMES)


def trace_arrays(trace: Trace) -> dict[str, np.ndarray]:
    """Every array of a trace under the names of the trace file (the JSON export uses the same
    names), without `meta`; LSTM/GRU traces add every gate, the cell state and extras."""
    arrays: dict[str, np.ndarray] = {
        "x": trace.x, "a": trace.a, "h": trace.h, "y": trace.y,
        "loss": np.array(trace.loss), "loss_t": trace.loss_t,
        "dL_dy": trace.dL_dy, "dL_dh": trace.dL_dh, "dL_da": trace.dL_da, "dL_dh_out": trace.dL_dh_out,
        "input_mask": trace.input_mask, "target_mask": trace.target_mask, "grad_gain": trace.grad_gain,
        **trace.grads,
        **{f"step_norm_{k}": v for k, v in trace.step_grad_norms.items()},
        **trace.params,
    }
    if trace.targets is not None:
        arrays["targets"] = trace.targets
    if trace.probs is not None:
        arrays["probs"] = trace.probs
    if trace.cell != "rnn":
        for g in trace.gates:
            arrays[f"gate_{g}"], arrays[f"pre_{g}"] = trace.gates[g], trace.gate_pre[g]
            arrays[f"dL_dpre_{g}"] = trace.dL_dgate_pre[g]
        if trace.c is not None:
            arrays["c"], arrays["dL_dc"] = trace.c, trace.dL_dc
        arrays.update({f"extra_{k}": v for k, v in trace.extra.items() if isinstance(v, np.ndarray)})
    return {k: np.asarray(v) for k, v in arrays.items()}


def trace_meta(trace: Trace) -> dict:
    meta = {"activation": trace.activation, "architecture": trace.architecture, "loss": trace.loss_name,
            "tbptt": trace.tbptt, "format": "rnnviz-trace", "version": 1}
    if trace.cell != "rnn":
        meta["cell"] = trace.cell
    return meta


def save_trace(trace: Trace, path: str | os.PathLike) -> None:
    arrays = trace_arrays(trace)
    arrays["meta"] = np.array(json.dumps(trace_meta(trace)))
    _savez(path, arrays)


def load_trace(path: str | os.PathLike) -> Trace:
    p = Path(path)
    data = read_npz(p)
    if "meta" in data:
        try:
            cell = _read_meta(p, data).get("cell", "rnn")
        except FileFormatError:
            cell = "rnn"  # reported below
        if cell in ("lstm", "gru"):
            return _load_gated_trace(p, data)
    missing = [k for k in (*TRACE_ARRAYS, *PARAM_NAMES, "meta") if k not in data]
    if missing:
        raise FileFormatError(p, f"not an rnnviz trace: missing {', '.join(missing)}")
    meta = _read_meta(p, data)
    settings = _settings(p, meta, {})
    for k in data:
        if k not in ("meta", "targets", "input_mask", "target_mask"):
            _numeric(p, k, data[k], finite=k not in ("loss",))
    x, h = data["x"], data["h"]
    if x.ndim != 3:
        raise FileFormatError(p, f"'x' has shape {x.shape}; expected (T, B, I)")
    T, B, I = x.shape
    if h.ndim != 3 or h.shape[:2] != (T + 1, B):
        raise FileFormatError(p, f"'h' has shape {h.shape}; expected (T+1, B, H) = ({T + 1}, {B}, H)")
    H = h.shape[2]
    O = data["y"].shape[-1] if data["y"].ndim == 3 else -1
    shapes = {"a": (T, B, H), "y": (T, B, O), "loss": (), "loss_t": (T,), "dL_dy": (T, B, O), "dL_dh": (T, B, H),
              "dL_da": (T, B, H), "grad_W_xh": (I, H), "grad_W_hh": (H, H), "grad_b_h": (H,), "grad_W_hy": (H, O),
              "grad_b_y": (O,), "W_xh": (I, H), "W_hh": (H, H), "b_h": (H,), "W_hy": (H, O), "b_y": (O,)}
    # the optional arrays too, when present (the app draws them; a stored dL_dh_out is checked
    # but not used: the Trace works it out from dL_dy and W_hy)
    shapes.update({k: s for k, s in {"dL_dh_out": (T, B, H), "probs": (T, B, O), "grad_gain": (T,),
                                     **{f"step_norm_{n}": (T,) for n in PARAM_NAMES}}.items() if k in data})
    if "targets" in data:
        _numeric(p, "targets", data["targets"])
        shapes["targets"] = (T, B, O) if settings["loss"] == "mse" else (T, B)
    for k, shape in shapes.items():
        if data[k].shape != shape:
            raise FileFormatError(p, f"{k!r} has shape {data[k].shape}; expected {shape}")
    from rnnviz.engine.model import input_steps, target_steps
    get = lambda k, default: data[k] if k in data else default  # noqa: E731
    return Trace(
        activation=settings["activation"], architecture=settings["architecture"], loss_name=settings["loss"],
        params={k: data[k] for k in PARAM_NAMES},
        x=x, targets=get("targets", None),
        input_mask=input_steps(settings["architecture"], T), target_mask=target_steps(settings["architecture"], T),
        a=data["a"], h=h, y=data["y"], probs=get("probs", None), loss=float(data["loss"]), loss_t=data["loss_t"],
        dL_dy=data["dL_dy"], dL_dh=data["dL_dh"],
        dL_da=data["dL_da"], grads={k: data[k] for k in GRAD_NAMES},
        step_grad_norms={k: get(f"step_norm_{k}", np.zeros(T)) for k in ("W_xh", "W_hh", "b_h", "W_hy", "b_y")},
        grad_gain=get("grad_gain", np.ones(T)), tbptt=meta.get("tbptt"),
    )


def _load_gated_trace(p: Path, data: dict[str, np.ndarray]) -> Trace:
    """An LSTM / GRU trace file (save_trace of a gated cell's trace)."""
    from rnnviz.engine.model import GRU, LSTM
    from rnnviz.engine.model import input_steps, target_steps

    meta = _read_meta(p, data)
    cls = LSTM if meta["cell"] == "lstm" else GRU
    gate_keys = [f"{w}_{g}" for g in cls.GATES for w in ("gate", "pre", "dL_dpre")]
    need = ["x", "a", "h", "y", "loss", "loss_t", "dL_dy", "dL_dh", "dL_da", *cls.PARAM_NAMES,
            *("grad_" + n for n in cls.PARAM_NAMES), *gate_keys, *(["c", "dL_dc"] if cls is LSTM else [])]
    missing = [k for k in need if k not in data]
    if missing:
        raise FileFormatError(p, f"not an rnnviz {meta['cell'].upper()} trace: missing {', '.join(missing)}")
    settings = _settings(p, {**meta, "activation": "tanh"}, {})
    for k in data:
        if k not in ("meta", "targets", "input_mask", "target_mask"):
            _numeric(p, k, data[k], finite=k != "loss")
    x, h = data["x"], data["h"]
    if x.ndim != 3 or h.ndim != 3 or h.shape[:2] != (x.shape[0] + 1, x.shape[1]):
        raise FileFormatError(p, f"'x' {x.shape} and 'h' {h.shape} are not (T, B, I) and (T+1, B, H)")
    (T, B, I), H = x.shape, h.shape[2]
    O = data["W_hy"].shape[-1] if data["W_hy"].ndim == 2 else -1
    shapes = {"y": (T, B, O), "loss": (), "loss_t": (T,), "dL_dy": (T, B, O), "c": (T + 1, B, H),
              **{k: (T, B, H) for k in ("a", "dL_dh", "dL_da", "dL_dc", "dL_dh_out", *gate_keys)}}
    for n in cls.PARAM_NAMES:
        shapes[n] = shapes["grad_" + n] = ((I, H) if n.startswith("W_x") else (H, O) if n == "W_hy" else
                                           (H, H) if n.startswith("W_h") else (O,) if n == "b_y" else (H,))
    shapes.update({f"step_norm_{n}": (T,) for n in cls.PARAM_NAMES})
    shapes.update({"probs": (T, B, O), "grad_gain": (T,)})
    if "targets" in data:
        _numeric(p, "targets", data["targets"])
        shapes["targets"] = (T, B, O) if settings["loss"] == "mse" else (T, B)
    for k, shape in shapes.items():
        if k in data and data[k].shape != shape:
            raise FileFormatError(p, f"{k!r} has shape {data[k].shape}; expected {shape}")
    get = lambda k, default=None: data[k] if k in data else default  # noqa: E731
    return Trace(
        activation="tanh", architecture=settings["architecture"], loss_name=settings["loss"],
        params={k: data[k] for k in cls.PARAM_NAMES}, x=x, targets=get("targets"),
        input_mask=input_steps(settings["architecture"], T), target_mask=target_steps(settings["architecture"], T),
        a=data["a"], h=h, y=data["y"], probs=get("probs"), loss=float(data["loss"]), loss_t=data["loss_t"],
        dL_dy=data["dL_dy"], dL_dh=data["dL_dh"],
        dL_da=data["dL_da"], grads={"grad_" + k: data["grad_" + k] for k in cls.PARAM_NAMES},
        step_grad_norms={k: get(f"step_norm_{k}", np.zeros(T)) for k in cls.PARAM_NAMES},
        grad_gain=get("grad_gain", np.ones(T)), tbptt=meta.get("tbptt"),
        extra={k[6:]: v for k, v in data.items() if k.startswith("extra_")}, cell=meta["cell"],
        gates={g: data[f"gate_{g}"] for g in cls.GATES}, gate_pre={g: data[f"pre_{g}"] for g in cls.GATES},
        dL_dgate_pre={g: data[f"dL_dpre_{g}"] for g in cls.GATES}, c=get("c"), dL_dc=get("dL_dc"),
    )


# input and target arrays --------------------------------------------------------------------
def load_array(path: str | os.PathLike, what: str = "inputs") -> np.ndarray:
    """A numeric array (inputs or targets) from .npy/.npz; checked for dtype and finiteness."""
    p = Path(path)
    arr = read_npy(p)
    return _numeric(p, what, arr)
