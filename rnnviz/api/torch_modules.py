"""A caller's PyTorch objects, read by duck typing (rnnviz never imports torch for them): which
module is the recurrent layer and which the readout, their settings (nonlinearity, batch_first),
their weights as a NumPy state dict, and tensors as NumPy arrays.

A class counts as PyTorch's when it, or a class it derives from, is defined in a `torch.`
module: `nn.RNN` subclasses and a user's own `nn.Module` both qualify; nothing is called on an
object beyond what its class says it is (`named_modules`, `named_parameters`, `detach().cpu()`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

RECURRENT = {"RNN": "nn.RNN", "LSTM": "nn.LSTM", "GRU": "nn.GRU"}
CELLS = ("RNNCell", "LSTMCell", "GRUCell")  # one step each: not a layer rnnviz can unroll
NOT_YET = "rnnviz shows one layer, one direction, no projection (num_layers > 1, bidirectional and proj_size are not supported yet)"


def torch_class(obj: object) -> str | None:
    """The name of the first class in obj's type's MRO that PyTorch defines ("RNN", "Linear",
    "Module", "Tensor", ...), None if obj is not a PyTorch object."""
    for cls in type(obj).__mro__:
        if cls.__module__.split(".")[0] == "torch":
            return cls.__name__
    return None


def is_torch_module(obj: object) -> bool:
    return hasattr(obj, "named_modules") and hasattr(obj, "named_parameters") and torch_class(obj) is not None


def is_tensor(obj: object) -> bool:
    return torch_class(obj) in ("Tensor", "Parameter") and all(hasattr(obj, a) for a in ("detach", "cpu", "numpy"))


def describe(module: object) -> str:
    """ "nn.RNN(58, 128)", "nn.RNN(2, 6, nonlinearity='relu', batch_first=True)", "nn.Linear(128, 4)"."""
    kind = torch_class(module)
    if kind in RECURRENT:
        extras = []
        if kind == "RNN" and getattr(module, "nonlinearity", "tanh") != "tanh":
            extras.append(f"nonlinearity={module.nonlinearity!r}")
        for name, default in (("num_layers", 1), ("bidirectional", False), ("proj_size", 0), ("batch_first", False),
                              ("bias", True)):
            value = getattr(module, name, default)
            if value != default:
                extras.append(f"{name}={value!r}")
        return f"nn.{kind}({', '.join([str(module.input_size), str(module.hidden_size), *extras])})"
    if kind == "Linear":
        extras = [] if getattr(module, "bias", None) is not None else ["bias=False"]
        return f"nn.Linear({', '.join([str(module.in_features), str(module.out_features), *extras])})"
    return f"nn.{kind}" if kind else type(module).__name__


def tensor_array(t: object, name: str) -> np.ndarray:
    """A torch tensor's values as a NumPy array (a copy, on the CPU, without autograd). Dtypes
    NumPy lacks (bfloat16, float8) go through float64; complex tensors are refused."""
    t = t.detach().cpu()
    if getattr(t, "is_complex", lambda: False)():
        raise TypeError(f"{name} is a complex tensor ({t.dtype}); rnnviz takes real numbers")
    try:
        return np.array(t.numpy())
    except (TypeError, RuntimeError):  # a dtype NumPy has no equivalent for
        if getattr(t, "is_floating_point", lambda: False)():
            return np.array(t.double().numpy())
        raise TypeError(f"{name} is a tensor of dtype {t.dtype}, which NumPy cannot hold") from None


def as_array(value: object, name: str) -> np.ndarray:
    """inputs / targets as a NumPy array: an ndarray as is, a torch tensor through tensor_array, a
    (rectangular) list of numbers through np.asarray. TypeError for anything else."""
    if isinstance(value, np.ndarray):
        return value
    if is_tensor(value):
        return tensor_array(value, name)
    kind = torch_class(value)
    if kind == "PackedSequence":
        raise TypeError(f"{name} is a PackedSequence; pass the padded tensor (torch.nn.utils.rnn.pad_packed_sequence) "
                        "of sequences of one length")
    if isinstance(value, (list, tuple)):
        try:
            arr = np.asarray(value)
        except ValueError:
            raise ValueError(f"{name} is a ragged list (its rows differ in length); pass an array of shape (T, B, I)") from None
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise TypeError(f"{name} is a list of {arr.dtype} values, not numbers")
        return arr
    raise TypeError(f"{name} must be a NumPy array or a torch tensor, got {type(value).__name__}")


@dataclass(frozen=True)
class TorchNetwork:
    """What rnnviz reads from a torch module: the recurrent layer and the readout's weights as a
    state dict of float64 arrays under "<name>.weight_ih_l0", "<readout>.weight" ..., and the
    layer's own settings."""

    arrays: dict  # key -> np.ndarray float64, PyTorch's layout
    kind: str  # "nn.RNN", "nn.LSTM" or "nn.GRU"
    nonlinearity: str | None  # nn.RNN's "tanh" / "relu"; None for LSTM / GRU
    batch_first: bool
    found: str  # "found rnn: nn.RNN(58, 128), readout h2o: nn.Linear(128, 4)"
    log_softmax: str | None = None  # the name of an nn.LogSoftmax in the module (outputs are log-probabilities)
    notes: list = field(default_factory=list)


def find_network(model: object, readout: object | None = None) -> TorchNetwork:
    """The recurrent layer and the linear readout of a torch module (see module doc): `model`
    is an nn.RNN / nn.LSTM / nn.GRU with `readout` an nn.Linear, or an nn.Module holding exactly
    one of each (found by walking named_modules()). TypeError / ValueError, one line, otherwise."""
    kind = torch_class(model)
    if kind in CELLS:
        raise TypeError(f"nn.{kind}({model.input_size}, {model.hidden_size}) is a single step; pass the layer that runs "
                        f"the whole sequence, nn.{kind[:-4]}, with a readout")
    if kind in RECURRENT:
        if readout is None:
            raise TypeError(f"{describe(model)} has no readout: pass readout=nn.Linear({model.hidden_size}, O), the layer that "
                            "turns h_t into the outputs (rnnviz draws y_t = h_t·W_hy + b_y and its loss on them)")
        rnn, rnn_name, head, head_name, softmax, notes = model, "rnn", readout, "readout", None, []
        if torch_class(readout) != "Linear":
            raise TypeError(f"readout must be an nn.Linear, got {describe(readout)}")
    else:
        if readout is not None:
            raise TypeError(f"readout= goes with a bare nn.RNN / nn.LSTM / nn.GRU; {type(model).__name__} holds its own "
                            "(or pass the layers themselves: rnnviz.show(model.rnn, x, readout=model.fc))")
        rnn_name, rnn, head_name, head, softmax = find_layers(model)
        notes = undrawn_modules(model, (rnn_name, head_name, softmax))
    check_layer(rnn, rnn_name)
    in_features = head.weight.shape[1]
    if in_features != rnn.hidden_size:
        named = "readout" if head_name == "readout" else f"the readout {head_name}:"
        raise ValueError(f"{named} {describe(head)} takes {in_features} inputs, but {rnn_name}: "
                         f"{describe(rnn)} gives {rnn.hidden_size} hidden units")
    arrays = {f"{rnn_name}.{k}": tensor_array(p, f"{rnn_name}.{k}").astype(np.float64) for k, p in rnn.named_parameters()}
    arrays.update({f"{head_name}.{k}": tensor_array(p, f"{head_name}.{k}").astype(np.float64)
                   for k, p in head.named_parameters()})
    return TorchNetwork(arrays=arrays, kind=RECURRENT[torch_class(rnn)],
                        nonlinearity=getattr(rnn, "nonlinearity", "tanh") if torch_class(rnn) == "RNN" else None,
                        batch_first=bool(getattr(rnn, "batch_first", False)),
                        found=f"found {rnn_name}: {describe(rnn)}, readout {head_name}: {describe(head)}",
                        log_softmax=softmax, notes=notes)


def find_layers(model: object) -> tuple[str, object, str, object, str | None]:
    """(rnn name, rnn, readout name, readout, LogSoftmax name or None) inside a container module."""
    if not is_torch_module(model):
        raise TypeError(f"model must be a torch nn.RNN / nn.LSTM / nn.GRU (with readout=), a torch nn.Module holding one "
                        f"of them and an nn.Linear, an rnnviz model or a model file's path; got {type(model).__name__}")
    named = [(n, m) for n, m in model.named_modules() if n]
    recurrent = [(n, m) for n, m in named if torch_class(m) in RECURRENT]
    linear = [(n, m) for n, m in named if torch_class(m) == "Linear"]
    cells = [(n, m) for n, m in named if torch_class(m) in CELLS]
    what = type(model).__name__
    if cells:
        raise ValueError(f"{what} holds {', '.join(f'{n}: nn.{torch_class(m)}' for n, m in cells)}, a single step run in "
                         "a Python loop; rnnviz reads an nn.RNN / nn.LSTM / nn.GRU layer that runs the whole sequence")
    if len(recurrent) != 1:
        listed = ", ".join(f"{n}: {describe(m)}" for n, m in recurrent)
        raise ValueError(f"{what} holds {len(recurrent)} recurrent layers{f' ({listed})' if listed else ''}; rnnviz reads a "
                         "module with exactly one nn.RNN / nn.LSTM / nn.GRU and one nn.Linear readout")
    if len(linear) != 1:
        listed = ", ".join(f"{n}: {describe(m)}" for n, m in linear)
        fix = " (pass the layers themselves: rnnviz.show(model.rnn, x, readout=model.fc))" if linear else ""
        raise ValueError(f"{what} holds {len(linear)} nn.Linear{f' ({listed})' if listed else ''}; rnnviz needs exactly one "
                         f"readout after the recurrent layer{fix}")
    (rnn_name, rnn), (head_name, head) = recurrent[0], linear[0]
    # every parameter must belong to the two layers, or the network rnnviz draws is not the module's
    others = [k for k, _ in model.named_parameters()
              if not (k.startswith(rnn_name + ".") or k.startswith(head_name + "."))]
    if others:
        owners = {n: m for n, m in named}
        listed = ", ".join(f"{k} ({describe(owners.get(k.rpartition('.')[0], model))})" for k in others[:4])
        raise ValueError(f"{what} has parameters outside {rnn_name} and {head_name}: {listed}; rnnviz draws one recurrent "
                         "layer and one nn.Linear readout, nothing else")
    softmax = next((n for n, m in named if torch_class(m) == "LogSoftmax"), None)
    return rnn_name, rnn, head_name, head, softmax


def undrawn_modules(model: object, drawn: tuple) -> list[str]:
    """One note per parameter-free module rnnviz does not draw (its forward() may use it or not:
    rnnviz cannot tell): dropout is left out as in eval mode; anything else would make the
    module's outputs differ from rnnviz's if forward() applies it between the layers."""
    notes = []
    for name, m in model.named_modules():
        if not name or name in drawn or any(name.startswith(d + ".") for d in drawn if d) or any(True for _ in m.children()):
            continue
        kind = torch_class(m) or type(m).__name__
        if kind.startswith("Dropout"):
            notes.append(f"{name}: nn.{kind} left out (rnnviz computes as in eval mode, without dropout)")
        elif kind != "Identity":
            notes.append(f"{name}: nn.{kind} is not drawn (rnnviz computes y_t = h_t·W_hy + b_y; if forward() applies "
                         f"it, the module's outputs differ from rnnviz's)")
    return notes


def check_layer(rnn: object, name: str) -> None:
    """Refuse what rnnviz cannot show yet: several layers, two directions, an LSTM's projection."""
    if getattr(rnn, "num_layers", 1) != 1 or getattr(rnn, "bidirectional", False) or getattr(rnn, "proj_size", 0):
        raise ValueError(f"{name}: {describe(rnn)}: {NOT_YET}")
