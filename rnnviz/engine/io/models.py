"""Model files: an rnnviz model `.npz` (the parameters under their names, h0 (and an LSTM's c0),
and a JSON `meta` saying cell, activation, architecture and loss) for any cell; `load_any_model`
also takes PyTorch state dicts (engine/io/torch_import.py)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from rnnviz.engine.io.npz import FileFormatError, check_numeric, read_meta, read_npz, read_settings, save_npz
from rnnviz.engine.io.torch_import import is_torch_state_dict, load_torch_pt, model_from_torch_state_dict
from rnnviz.engine.model import GRU, LSTM, PARAM_NAMES, RNN, Model


def save_model(model: Model, path: str | os.PathLike) -> None:
    arrays = dict(model.params())  # any cell: vanilla, LSTM, GRU (their own parameter names)
    for name in getattr(model, "STATE_NAMES", ("h0",)):  # h0, and an LSTM's c0
        arrays[name] = getattr(model, name)
    arrays["meta"] = np.array(json.dumps(model.meta()))
    save_npz(path, arrays)


def load_model(path: str | os.PathLike, report: list[str] | None = None, **overrides: str | None) -> Model:
    """A model from an rnnviz model file; `overrides` (activation, architecture, loss) win over meta.
    A PyTorch state dict adds to `report` (if given) what was mapped to what."""
    p = Path(path)
    return model_from_arrays(read_npz(p), p, report=report, **overrides)


def model_from_arrays(data: dict[str, np.ndarray], path: str | os.PathLike, report: list[str] | None = None,
                      **overrides: str | None) -> Model:
    """The model in an .npz's arrays (as load_model; `path` names the file in errors)."""
    p = Path(path)
    if is_torch_state_dict(data):
        return model_from_torch_state_dict(data, p, report=report, **overrides)
    if "meta" in data:
        try:
            cell = read_meta(p, data).get("cell")
        except FileFormatError:
            cell = None  # reported below, after the arrays
        if cell in ("lstm", "gru"):
            return _load_gated_model(p, data, overrides)
    missing = [k for k in PARAM_NAMES if k not in data]
    if missing:
        raise FileFormatError(p, f"missing array{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                                 f"(an rnnviz model file holds {', '.join(PARAM_NAMES)}, optional h0, and meta)")
    meta = read_meta(p, data)
    arrays = {k: check_numeric(p, k, data[k], ndim=2 if k.startswith("W") else 1) for k in PARAM_NAMES}
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
        h0 = check_numeric(p, "h0", data["h0"], ndim=1).astype(dtype)
        if h0.shape != (H,):
            raise FileFormatError(p, f"'h0' has shape {h0.shape}; expected ({H},)")
    settings = read_settings(p, meta, overrides)
    cell = meta.get("cell", "rnn")
    if cell != "rnn":
        raise FileFormatError(p, f"meta says cell {cell!r}; this version of rnnviz reads 'rnn' models")
    extra = {k: v for k, v in meta.items() if k not in ("cell", "activation", "architecture", "loss", "loss_reduction",
                                                          "input_size", "hidden_size", "output_size")}
    return RNN(**arrays, h0=h0, extra_meta=extra, **settings)


def _load_gated_model(p: Path, data: dict[str, np.ndarray], overrides: dict) -> LSTM | GRU:
    """An LSTM / GRU model file: its parameter names (engine/model.py), h0 (and c0), meta."""
    meta = read_meta(p, data)
    cls = LSTM if meta["cell"] == "lstm" else GRU
    missing = [k for k in cls.PARAM_NAMES if k not in data]
    if missing:
        raise FileFormatError(p, f"meta says cell {meta['cell']!r} but the file lacks {', '.join(missing)} "
                                 f"(its model file holds {', '.join(cls.PARAM_NAMES)})")
    arrays = {k: check_numeric(p, k, data[k], ndim=2 if k.startswith("W") else 1) for k in cls.PARAM_NAMES}
    dtype = np.result_type(*[a.dtype for a in arrays.values()], np.float32)
    arrays = {k: v.astype(dtype) for k, v in arrays.items()}
    I, H = arrays[cls.PARAM_NAMES[0]].shape
    O = arrays["W_hy"].shape[1]
    if 0 in (I, H, O):
        raise FileFormatError(p, f"sizes I={I}, H={H}, O={O}; each must be at least 1")
    for k in cls.STATE_NAMES:
        arrays[k] = check_numeric(p, k, data[k], ndim=1).astype(dtype) if k in data else np.zeros(H, dtype=dtype)
    settings = read_settings(p, {**meta, "activation": meta.get("activation", "tanh")}, overrides)
    extra = {k: v for k, v in meta.items() if k not in ("cell", "activation", "architecture", "loss", "loss_reduction",
                                                          "input_size", "hidden_size", "output_size")}
    try:
        return cls(**arrays, extra_meta=extra, **settings)
    except ValueError as e:
        raise FileFormatError(p, str(e)) from None


def load_any_model(path: str | os.PathLike, report: list[str] | None = None, **overrides: str | None) -> Model:
    """rnnviz model .npz, PyTorch state dict .npz, or .pt (`report`: see load_model)."""
    if str(path).endswith((".pt", ".pth")):
        return load_torch_pt(path, report=report, **overrides)
    return load_model(path, report=report, **overrides)
