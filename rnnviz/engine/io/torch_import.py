"""PyTorch state dicts as models: nn.RNN, nn.LSTM or nn.GRU (one layer, one direction) plus an
nn.Linear readout, from a dict of arrays (an `.npz` of the state dict) or a `.pt` file read with
torch.load(weights_only=True), PyTorch's restricted loader (torch is imported only then).

`read_state_dict` checks a dict once and says which file key becomes which rnnviz parameter
(a `StateDictLayout`); the loader (`model_from_torch_state_dict`) and the probe
(engine/io/probe.py) both build from that layout, so the mapping is written once."""
from __future__ import annotations

import os
import pickletools
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnviz.engine.io.npz import ANSI_CODES, FileFormatError, check_file, check_numeric, read_meta, read_settings, short_error
from rnnviz.engine.model import GRU, GRU_GATES, LSTM, LSTM_GATES, RNN, Model

TORCH_RNN_KEYS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
TORCH_NONLINEARITIES = ("tanh", "relu")  # nn.RNN's choices
CELL_KINDS = {"rnn": "nn.RNN", "lstm": "nn.LSTM", "gru": "nn.GRU"}


def is_torch_state_dict(data: dict) -> bool:
    return any(k.endswith("weight_ih_l0") for k in data)


@dataclass(frozen=True)
class KeyMapping:
    """One file key and the rnnviz parameter(s) it becomes."""

    file_key: str  # "(none)" when the file has no such array (the parameter is zeros)
    param: str  # e.g. "W_xh (58, 128)"
    how: str  # e.g. "transposed", "summed with rnn.bias_hh_l0"

    def row(self) -> tuple[str, str]:
        """(file key, "W_xh (58, 128) = transposed"), as ModelProbe.key_map lists them."""
        return self.file_key, f"{self.param} = {self.how}"



@dataclass(frozen=True)
class StateDictLayout:
    """A checked one-layer nn.RNN / nn.LSTM / nn.GRU + nn.Linear state dict: which key is which,
    the sizes, and the arrays (checked numeric and finite)."""

    path: Path
    cell: str  # "rnn", "lstm" or "gru"
    keys: dict  # "weight_ih_l0" ... "bias_hh_l0" -> the file's key, or None when absent
    head_weight: str  # the nn.Linear's weight key, (O, H)
    head_bias: str | None
    arrays: dict  # file key -> np.ndarray
    meta: dict  # the file's JSON meta when it has one (an .npz may), else {}
    input_size: int
    hidden_size: int
    output_size: int
    dtype: np.dtype
    mapping: tuple  # KeyMapping, in parameter order

    @property
    def kind(self) -> str:
        return CELL_KINDS[self.cell]

    def build(self, *, activation: str = "tanh", architecture: str = "many-to-many", loss: str = "mse",
              loss_reduction: str = "mean") -> Model:
        """The rnnviz model with these settings (nothing else is read from the file again)."""
        if self.cell != "rnn" and activation != "tanh":
            raise FileFormatError(self.path, f"{'an' if self.cell == 'lstm' else 'a'} {self.kind} has fixed nonlinearities "
                                             f"(σ and tanh), not the activation {activation!r}")
        if self.cell == "rnn" and activation not in TORCH_NONLINEARITIES:
            raise FileFormatError(self.path, f"nn.RNN has tanh or relu, not {activation!r}")
        dt, H = self.dtype, self.hidden_size

        def arr(key: str | None, n: int) -> np.ndarray:  # (n,) the array or zeros
            return np.zeros(n, dtype=dt) if key is None else self.arrays[key].astype(dt)

        w_ih, w_hh = self.arrays[self.keys["weight_ih_l0"]], self.arrays[self.keys["weight_hh_l0"]]  # (nH, I), (nH, H)
        w_out = np.ascontiguousarray(self.arrays[self.head_weight].T, dtype=dt)  # (H, O)
        b_out = arr(self.head_bias, self.output_size)
        settings = dict(activation=activation, architecture=architecture, loss=loss, loss_reduction=loss_reduction,
                        extra_meta={"imported_from": "pytorch"})
        if self.cell == "rnn":
            b_h = arr(self.keys["bias_ih_l0"], H) + arr(self.keys["bias_hh_l0"], H)
            return RNN(W_xh=np.ascontiguousarray(w_ih.T, dtype=dt), W_hh=np.ascontiguousarray(w_hh.T, dtype=dt), b_h=b_h,
                       W_hy=w_out, b_y=b_out, h0=np.zeros(H, dtype=dt), **settings)
        gates, cls = (LSTM_GATES, LSTM) if self.cell == "lstm" else (GRU_GATES, GRU)
        b_ih, b_hh = arr(self.keys["bias_ih_l0"], len(gates) * H), arr(self.keys["bias_hh_l0"], len(gates) * H)
        params = {}
        for k, g in enumerate(gates):  # PyTorch stacks the gates: rows k·H .. (k+1)·H − 1
            sl = slice(k * H, (k + 1) * H)
            params["W_x" + g] = np.ascontiguousarray(w_ih[sl].T, dtype=dt)
            params["W_h" + g] = np.ascontiguousarray(w_hh[sl].T, dtype=dt)
            if g == "n":  # the GRU's r_t multiplies only b_hn: the two biases stay apart
                params["b_xn"], params["b_hn"] = b_ih[sl].copy(), b_hh[sl].copy()
            else:
                params["b_" + g] = b_ih[sl] + b_hh[sl]
        states = {s: np.zeros(H, dtype=dt) for s in cls.STATE_NAMES}
        return cls(**params, W_hy=w_out, b_y=b_out, **states, **settings)


def read_state_dict(data: dict[str, np.ndarray], path: str | os.PathLike = "<state dict>") -> StateDictLayout:
    """Check a state dict (keys possibly prefixed, `rnn.weight_ih_l0`, `fc.weight`) and map it:
    W_xh = weight_ih_l0ᵀ, W_hh = weight_hh_l0ᵀ, b_h = bias_ih_l0 + bias_hh_l0 (LSTM / GRU: per gate
    in PyTorch's order, i f g o / r z n; the GRU's n gate keeps b_xn and b_hn apart),
    W_hy = weightᵀ and b_y = bias of the nn.Linear readout."""
    p = Path(path)
    keys = [k for k in data if k != "meta"]
    if any(k.endswith(("weight_ih_l1", "weight_ih_l0_reverse")) for k in keys):
        raise FileFormatError(p, "holds a multi-layer or bidirectional RNN; rnnviz reads one layer, one direction")
    recurrent = [k for k in keys if k == "weight_ih_l0" or k.endswith(".weight_ih_l0")]
    if len(recurrent) > 1:
        raise FileFormatError(p, f"holds {len(recurrent)} recurrent layers ({', '.join(recurrent)}); "
                                 "rnnviz reads one nn.RNN / nn.LSTM / nn.GRU and one nn.Linear readout")
    if not recurrent:
        raise FileFormatError(p, "holds no weight_ih_l0 of an nn.RNN / nn.LSTM / nn.GRU")
    prefix = recurrent[0][: -len("weight_ih_l0")]
    rnn_keys = {s: (prefix + s if prefix + s in data else None) for s in TORCH_RNN_KEYS}
    if rnn_keys["weight_hh_l0"] is None:
        raise FileFormatError(p, f"has {recurrent[0]} but no {prefix}weight_hh_l0")
    head = [k for k in keys if k.endswith("weight") and not (prefix and k.startswith(prefix)) and k not in rnn_keys.values()]
    if not head:
        raise FileFormatError(p, f"has no nn.Linear readout after the recurrent layer (a '<name>.weight' of shape (O, H) beside "
                                 f"{prefix}weight_ih_l0); rnnviz needs one to have outputs")
    if len(head) > 1:
        raise FileFormatError(p, f"has {len(head)} candidate readouts ({', '.join(head)}); rnnviz reads one nn.Linear after the "
                                 "recurrent layer")
    head_prefix = head[0][: -len("weight")]
    head_bias = head_prefix + "bias" if head_prefix + "bias" in data else None
    used = [k for k in (*rnn_keys.values(), head[0], head_bias) if k is not None]
    arr = {k: check_numeric(p, k, np.asarray(data[k])) for k in used}
    w_ih, w_hh, w_out = arr[rnn_keys["weight_ih_l0"]], arr[rnn_keys["weight_hh_l0"]], arr[head[0]]
    if w_ih.ndim != 2 or w_hh.ndim != 2 or 0 in w_ih.shape or 0 in w_hh.shape or w_ih.shape[0] != w_hh.shape[0]:
        raise FileFormatError(p, f"weight_ih_l0 {w_ih.shape} and weight_hh_l0 {w_hh.shape} do not form an nn.RNN / nn.LSTM / "
                                 "nn.GRU (expect (nH, I) and (nH, H) with n = 1, 4 or 3)")
    H = w_hh.shape[1]
    n = w_hh.shape[0] // H
    if w_hh.shape[0] % H or n not in (1, 3, 4):
        raise FileFormatError(p, f"weight_hh_l0 has shape {w_hh.shape}; expected (H, H) for nn.RNN, (4H, H) for nn.LSTM "
                                 "or (3H, H) for nn.GRU")
    cell = {1: "rnn", 4: "lstm", 3: "gru"}[n]
    kind = CELL_KINDS[cell]
    for s in ("bias_ih_l0", "bias_hh_l0"):
        key = rnn_keys[s]
        if key is not None and arr[key].shape != (n * H,):
            raise FileFormatError(p, f"{key} has shape {arr[key].shape}; expected ({n * H},) for an {kind} with H={H}")
    if w_out.ndim != 2 or w_out.shape[1] != H or w_out.shape[0] == 0:
        raise FileFormatError(p, f"{head[0]} has shape {w_out.shape}; expected (O, {H}) with O at least 1 (the readout of H={H} "
                                 "hidden units)")
    O = w_out.shape[0]
    if head_bias is not None and arr[head_bias].shape != (O,):
        raise FileFormatError(p, f"{head_bias} has shape {arr[head_bias].shape}; expected ({O},)")
    I = w_ih.shape[1]
    layout = dict(path=p, cell=cell, keys=rnn_keys, head_weight=head[0], head_bias=head_bias, arrays=arr,
                  meta=read_meta(p, data) if "meta" in data else {}, input_size=I, hidden_size=H, output_size=O,
                  dtype=np.result_type(w_ih.dtype, w_hh.dtype, w_out.dtype, np.float32))
    return StateDictLayout(**layout, mapping=tuple(_mapping(cell, rnn_keys, head[0], head_bias, I, H, O)))


def _mapping(cell: str, keys: dict, head: str, head_bias: str | None, I: int, H: int, O: int) -> list[KeyMapping]:
    """What becomes of each file key (the same arithmetic as StateDictLayout.build, in words)."""
    b_ih, b_hh = keys["bias_ih_l0"], keys["bias_hh_l0"]
    if cell == "rnn":
        rows = [KeyMapping(keys["weight_ih_l0"], f"W_xh ({I}, {H})", "transposed"),
                KeyMapping(keys["weight_hh_l0"], f"W_hh ({H}, {H})", "transposed")]
        if b_ih is None and b_hh is None:
            rows.append(KeyMapping("(none)", f"b_h ({H},)", "zeros (no RNN biases)"))
        for key, other in ((b_ih, b_hh), (b_hh, b_ih)):
            if key is not None:
                rows.append(KeyMapping(key, f"b_h ({H},)", f"summed with {other}" if other else "as is"))
    else:
        gates = LSTM_GATES if cell == "lstm" else GRU_GATES
        spans = ", ".join(f"{g} rows {k * H}..{(k + 1) * H - 1}" for k, g in enumerate(gates))
        rows = [KeyMapping(keys["weight_ih_l0"], f"{', '.join('W_x' + g for g in gates)} ({I}, {H}) each", f"transposed gate rows ({spans})"),
                KeyMapping(keys["weight_hh_l0"], f"{', '.join('W_h' + g for g in gates)} ({H}, {H}) each", "transposed gate rows")]
        summed = [g for g in gates if g != "n"]
        if b_ih is None and b_hh is None:
            rows.append(KeyMapping("(none)", f"{', '.join('b_' + g for g in summed)}{', b_xn, b_hn' if cell == 'gru' else ''} ({H},)",
                                   "zeros (no biases)"))
        for key, other, n_name in ((b_ih, b_hh, "b_xn"), (b_hh, b_ih, "b_hn")):
            if key is None:
                continue
            how = f"gate rows summed with {other}" if other else "gate rows as is"
            if cell == "gru":
                how += f"; the n rows kept apart as {n_name} (r_t multiplies only b_hn)"
            rows.append(KeyMapping(key, f"{', '.join('b_' + g for g in summed)}{', ' + n_name if cell == 'gru' else ''} ({H},)", how))
    rows.append(KeyMapping(head, f"W_hy ({H}, {O})", "transposed"))
    rows.append(KeyMapping(head_bias, f"b_y ({O},)", "as is") if head_bias else KeyMapping("(none)", f"b_y ({O},)", "zeros (no Linear bias)"))
    return rows


def report_lines(mapping: tuple) -> list[str]:
    """One line per parameter, "b_h (3,) ← rnn.bias_ih_l0 + rnn.bias_hh_l0", for a loader's report."""
    groups: dict[str, list[KeyMapping]] = {}
    for m in mapping:
        groups.setdefault(m.param, []).append(m)
    lines = []
    for param, ms in groups.items():
        if ms[0].file_key == "(none)":
            lines.append(f"{param} ← {ms[0].how}")
            continue
        keys = " + ".join(m.file_key + ("ᵀ" if m.how == "transposed" else "") for m in ms)
        details = [m.how for m in ms if m.how not in ("transposed", "as is") and not m.how.startswith("summed with")]
        lines.append(f"{param} ← {keys}" + (f" ({'; '.join(dict.fromkeys(details))})" if details else ""))
    return lines


def model_from_torch_state_dict(
    data: dict[str, np.ndarray], path: str | os.PathLike = "<state dict>", report: list[str] | None = None, **overrides: str | None
) -> Model:
    """A model from an nn.RNN / nn.LSTM / nn.GRU (1 layer) + nn.Linear state dict (see read_state_dict).
    activation, architecture and loss: `overrides`, else the dict's meta, else tanh, many-to-many, mse.
    `report` (if given) gets one line per file key saying what it became."""
    layout = read_state_dict(data, path)
    meta = layout.meta
    settings = read_settings(layout.path, {"activation": meta.get("activation", "tanh"),
                                           "architecture": meta.get("architecture", "many-to-many"),
                                           "loss": meta.get("loss", "mse")}, {k: v for k, v in overrides.items() if v})
    if report is not None:
        report += report_lines(layout.mapping)
    return layout.build(**settings)


# .pt files -------------------------------------------------------------------------------------

def pickled_globals(path: Path) -> list[str]:
    """The classes and functions a .pt file's pickle names ("torch.nn.modules.rnn RNN", ...),
    read with pickletools.genops, which parses the opcodes and runs nothing."""
    names: list[str] = []
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.filename.endswith("data.pkl") or info.file_size > 50_000_000:
                    continue
                strings: list[str] = []
                for op, arg, _ in pickletools.genops(zf.read(info)):
                    if op.name in ("GLOBAL", "INST"):
                        names.append(str(arg))
                    elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                        names.append(f"{strings[-2]} {strings[-1]}")
                    elif isinstance(arg, str):
                        strings.append(arg)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):  # not a zip .pt, or a damaged pickle
        pass
    return names


def read_torch_pt(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The state dict in a .pt file as NumPy arrays, read with torch.load(weights_only=True)
    (needs torch installed). A whole pickled nn.Module is refused with one line saying so."""
    p = check_file(path)
    try:
        import torch
    except ImportError:
        raise FileFormatError(p, "reading .pt files needs PyTorch; install torch, or save the state dict as .npz") from None
    try:
        sd = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for corrupt files and refused pickles
        names = pickled_globals(p)
        if any(n.startswith("torch.nn.modules") for n in names):
            raise FileFormatError(p, "holds a pickled nn.Module, which rnnviz will not unpickle (it could run code); "
                                     "save model.state_dict() instead") from None
        # a state dict's pickle names only torch's tensor rebuilders and an OrderedDict
        foreign = [n.replace(" ", ".") for n in names if not n.startswith(("torch", "collections ", "_codecs "))]
        refused = re.search(r"Unsupported global: GLOBAL ([\w.]+)", ANSI_CODES.sub("", str(e)))
        if foreign or refused:
            raise FileFormatError(p, f"holds a pickled {foreign[0] if foreign else refused.group(1)}, which rnnviz will not "
                                     "unpickle (it could run code); save a state dict of tensors (model.state_dict()) instead") from None
        if not zipfile.is_zipfile(p):
            raise FileFormatError(p, "is not a PyTorch .pt file (torch.save writes a zip archive; this is not one)") from None
        if "Weights only load failed" in str(e):  # torch's long advice to unpickle anyway is not for us to pass on
            detail = re.search(r"WeightsUnpickler error:\s*([^\n]+)", ANSI_CODES.sub("", str(e)))
            raise FileFormatError(p, "holds a pickle that torch.load cannot read safely"
                                     + (f" ({detail.group(1).strip()})" if detail else "") + "; save model.state_dict()") from None
        raise FileFormatError(p, f"is not a readable PyTorch state dict ({short_error(e)})") from None
    if not isinstance(sd, dict) or not all(hasattr(v, "detach") for v in sd.values()):
        raise FileFormatError(p, "does not hold a state dict of tensors; save model.state_dict()")
    arrays = {}
    for k, v in sd.items():
        t = v.detach().cpu()
        if t.is_floating_point() and t.dtype not in (torch.float16, torch.float32, torch.float64):
            t = t.to(torch.float32)  # bfloat16, float8: NumPy has no such dtype; float32 holds them exactly
        try:
            arrays[str(k)] = t.numpy()
        except (TypeError, RuntimeError) as e:
            raise FileFormatError(p, f"{k!r} is a tensor NumPy cannot read ({short_error(e)})") from None
    return arrays


def load_torch_pt(path: str | os.PathLike, report: list[str] | None = None, **overrides: str | None) -> Model:
    """A .pt state dict as a model (read_torch_pt, then model_from_torch_state_dict)."""
    return model_from_torch_state_dict(read_torch_pt(path), Path(path), report=report, **overrides)
