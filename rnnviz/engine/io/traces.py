"""Trace files: every array of a Trace in an `.npz` under fixed names (the JSON export uses the
same names, `trace_arrays`), with a JSON `meta`; LSTM and GRU traces add their gates, cell state
and extras."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from rnnviz.engine.io.npz import FileFormatError, check_numeric, read_meta, read_npz, read_settings, save_npz
from rnnviz.engine.model import GRU, LSTM, PARAM_NAMES, input_steps, target_steps
from rnnviz.engine.trace import GRAD_NAMES, Trace


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
    if trace.h0_carried:  # h_0 came from the previous batch of a stateful run
        meta["h0_carried"] = True
    return meta


def save_trace(trace: Trace, path: str | os.PathLike) -> None:
    arrays = trace_arrays(trace)
    arrays["meta"] = np.array(json.dumps(trace_meta(trace)))
    save_npz(path, arrays)


def load_trace(path: str | os.PathLike) -> Trace:
    p = Path(path)
    data = read_npz(p)
    if "meta" in data:
        try:
            cell = read_meta(p, data).get("cell", "rnn")
        except FileFormatError:
            cell = "rnn"  # reported below
        if cell in ("lstm", "gru"):
            return _load_gated_trace(p, data)
    missing = [k for k in (*TRACE_ARRAYS, *PARAM_NAMES, "meta") if k not in data]
    if missing:
        raise FileFormatError(p, f"not an rnnviz trace: missing {', '.join(missing)}")
    meta = read_meta(p, data)
    settings = read_settings(p, meta, {})
    for k in data:
        if k not in ("meta", "targets", "input_mask", "target_mask"):
            check_numeric(p, k, data[k], finite=k not in ("loss",))
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
        check_numeric(p, "targets", data["targets"])
        shapes["targets"] = (T, B, O) if settings["loss"] == "mse" else (T, B)
    for k, shape in shapes.items():
        if data[k].shape != shape:
            raise FileFormatError(p, f"{k!r} has shape {data[k].shape}; expected {shape}")
    get = lambda k, default: data[k] if k in data else default  # noqa: E731
    return Trace(
        activation=settings["activation"], architecture=settings["architecture"], loss_name=settings["loss"], h0_carried=bool(meta.get("h0_carried", False)),
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
    meta = read_meta(p, data)
    cls = LSTM if meta["cell"] == "lstm" else GRU
    gate_keys = [f"{w}_{g}" for g in cls.GATES for w in ("gate", "pre", "dL_dpre")]
    need = ["x", "a", "h", "y", "loss", "loss_t", "dL_dy", "dL_dh", "dL_da", *cls.PARAM_NAMES,
            *("grad_" + n for n in cls.PARAM_NAMES), *gate_keys, *(["c", "dL_dc"] if cls is LSTM else [])]
    missing = [k for k in need if k not in data]
    if missing:
        raise FileFormatError(p, f"not an rnnviz {meta['cell'].upper()} trace: missing {', '.join(missing)}")
    settings = read_settings(p, {**meta, "activation": "tanh"}, {})
    for k in data:
        if k not in ("meta", "targets", "input_mask", "target_mask"):
            check_numeric(p, k, data[k], finite=k != "loss")
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
        check_numeric(p, "targets", data["targets"])
        shapes["targets"] = (T, B, O) if settings["loss"] == "mse" else (T, B)
    for k, shape in shapes.items():
        if k in data and data[k].shape != shape:
            raise FileFormatError(p, f"{k!r} has shape {data[k].shape}; expected {shape}")
    get = lambda k, default=None: data[k] if k in data else default  # noqa: E731
    return Trace(
        activation="tanh", architecture=settings["architecture"], loss_name=settings["loss"], h0_carried=bool(meta.get("h0_carried", False)),
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
