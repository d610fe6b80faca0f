"""PyTorch state dicts as models: nn.RNN, nn.LSTM or nn.GRU (one layer, one direction) plus an
nn.Linear head, from a dict of arrays (an `.npz` of the state dict) or a `.pt` file read with
torch.load(weights_only=True), PyTorch's restricted loader (torch is imported only then)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from rnnviz.engine.io.npz import FileFormatError, check_file, check_numeric, read_meta, read_settings, short_error
from rnnviz.engine.model import GRU, GRU_GATES, LSTM, LSTM_GATES, RNN, Model


TORCH_RNN_KEYS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


def is_torch_state_dict(data: dict) -> bool:
    return any(k.endswith("weight_ih_l0") for k in data)


def model_from_torch_state_dict(
    data: dict[str, np.ndarray], path: str | os.PathLike = "<state dict>", report: list[str] | None = None, **overrides: str | None
) -> Model:
    """A model from an nn.RNN / nn.LSTM / nn.GRU (1 layer) + nn.Linear state dict, keys possibly prefixed
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
    arr = {k: check_numeric(p, k, np.asarray(v)) for k, v in data.items() if k != "meta"}
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
        meta = read_meta(p, data)
    overrides = {k: v for k, v in overrides.items() if v}
    settings = read_settings(p, {"activation": meta.get("activation", "tanh"), "architecture": meta.get("architecture", "many-to-many"),
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
                      report: list[str] | None, overrides: dict) -> LSTM | GRU:
    """nn.LSTM / nn.GRU (1 layer) + nn.Linear in PyTorch's gate order (LSTM i, f, g, o; GRU r, z, n):
    W_x* = weight_ih_l0[gate]ᵀ, W_h* = weight_hh_l0[gate]ᵀ, b_* = bias_ih + bias_hh of the gate,
    except the GRU's n gate: b_xn = bias_ih_n, b_hn = bias_hh_n (r multiplies only b_hn)."""
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
    meta = read_meta(p, data) if "meta" in data else {}
    overrides = {k: v for k, v in overrides.items() if v}
    settings = read_settings(p, {"activation": meta.get("activation", "tanh"), "architecture": meta.get("architecture", "many-to-many"),
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


def load_torch_pt(path: str | os.PathLike, report: list[str] | None = None, **overrides: str | None) -> Model:
    """A .pt state dict, read with torch.load(weights_only=True) (needs torch installed)."""
    p = check_file(path)
    try:
        import torch
    except ImportError:
        raise FileFormatError(p, "reading .pt files needs PyTorch; install torch, or save the state dict as .npz") from None
    try:
        sd = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for corrupt files
        raise FileFormatError(p, f"is not a readable PyTorch state dict ({short_error(e)})") from None
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
            raise FileFormatError(p, f"{k!r} is a tensor NumPy cannot read ({short_error(e)})") from None
    return model_from_torch_state_dict(arrays, p, report=report, **overrides)
