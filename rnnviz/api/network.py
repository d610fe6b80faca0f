"""From what a caller hands rnnviz.show() / rnnviz.trace() to an engine model and its data.

`prepare(model, inputs, targets, ...)` accepts a torch nn.RNN / nn.LSTM / nn.GRU (with
`readout=`), a torch nn.Module holding one of them and one nn.Linear, an rnnviz model
(engine.model RNN / LSTM / GRU) or a model file's path; inputs and targets as NumPy arrays or
torch tensors. Everything goes through the model probe (engine/io/probe.py), so the guesses are
the file dialog's and the CLI's: what the caller says is used, what the module records
(nonlinearity, batch_first) is read from it, and every other guess is listed in the report, one
line each ("architecture: many-to-one (targets hold one value per sequence)").

Every problem is a TypeError (the wrong kind of object) or a ValueError (the right kind, but it
does not fit), one line naming it; nothing from deep inside NumPy.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from rnnviz.api.torch_modules import as_array, find_network, is_torch_module, torch_class
from rnnviz.engine.activations import ACTIVATIONS
from rnnviz.engine.inputs import prepare_inputs, prepare_targets
from rnnviz.engine.io.probe import PYTHON_OPTIONS, Guess, ModelProbe, assemble, probe_model, probe_state_dict
from rnnviz.engine.model import GRU, LSTM, RNN, Model

ENGINE_MODELS = (RNN, LSTM, GRU)


@dataclass
class Prepared:
    """A model and its data, ready for engine.run or Session.use_model."""

    model: Model  # a copy: training it in the app never touches the caller's objects
    x: np.ndarray  # (T, B, I) in the model's dtype
    y: np.ndarray | None  # (T, B, O) float (mse) or (T, B) class indices, steps without a target zeroed
    label: str  # the window's title for it: "CharRNN (torch module)", "model.pt"
    report: list[str] = field(default_factory=list)  # what was found and each guess taken


@dataclass
class Source:
    """What was read from the caller's model before any data is fitted to it."""

    probe_for: Callable[[np.ndarray | None], ModelProbe]  # targets -> the probe, with its guesses
    label: str
    batch_first: bool | None  # the module's own, or the caller's (None: guessed)
    options: dict  # how a shape error names the fix (PYTHON_OPTIONS, or a torch module's)
    found: list[str] = field(default_factory=list)  # "found rnn: nn.RNN(58, 128), …" and notes
    log_softmax: str | None = None  # a torch module's nn.LogSoftmax: its outputs are log-probabilities
    torch: bool = False


def prepare(model: object, inputs: object, targets: object = None, *, readout: object = None,
            architecture: str | None = None, loss: str | None = None, nonlinearity: str | None = None,
            batch_first: bool | None = None) -> Prepared:
    """See the module doc. Raises TypeError / ValueError with one line."""
    for name, value in (("architecture", architecture), ("loss", loss), ("nonlinearity", nonlinearity)):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name} must be a string or None, got {type(value).__name__}")
    if batch_first is not None and not isinstance(batch_first, (bool, np.bool_)):
        raise TypeError(f"batch_first must be True, False or None, got {batch_first!r}")
    if inputs is None:
        raise TypeError("inputs are required: a NumPy array or torch tensor of shape (T, B, I), (B, T, I) or (T, I)")
    x = as_array(inputs, "inputs")
    y = None if targets is None else as_array(targets, "targets")
    said = {"architecture": architecture, "loss": loss, "nonlinearity": nonlinearity,
            "batch_first": None if batch_first is None else bool(batch_first)}
    source = read_source(model, readout, x, said)
    try:
        return fit(source, x, y, said)
    except ValueError as first:
        # one output unit, targets without its axis ((N,) for (N, 1), as `loss(out.squeeze(-1), y)`
        # takes them): read so when nothing else fits, and say so
        if y is None or y.ndim == 0 or y.shape[-1] == 1 or not np.issubdtype(y.dtype, np.floating):
            raise
        try:
            prepared = fit(source, x, y[..., None], said)
        except ValueError:
            raise first from None
        if prepared.model.output_size != 1:
            raise first from None
        prepared.report.append(f"targets: {y.shape} read as {(*y.shape, 1)} (the model has one output unit)")
        return prepared


def read_source(model: object, readout: object, x: np.ndarray, said: dict) -> Source:
    """The caller's model, read (see the module doc); TypeError / ValueError when it cannot be."""
    if isinstance(model, ENGINE_MODELS):
        if readout is not None:
            raise TypeError("readout= goes with a torch nn.RNN / nn.LSTM / nn.GRU; an rnnviz model has its own (W_hy, b_y)")
        return Source(lambda y: probe_engine_model(model, x, y, said["batch_first"]),
                      f"rnnviz {model.cell.upper() if model.cell != 'rnn' else 'RNN'} (from Python)",
                      said["batch_first"], PYTHON_OPTIONS)
    if isinstance(model, (str, os.PathLike)):
        if readout is not None:
            raise TypeError("readout= goes with a torch nn.RNN / nn.LSTM / nn.GRU, not with a model file")
        path = Path(model)
        if not path.is_file():
            raise ValueError(f"model {str(model)!r} is not a file (a model is a torch module, an rnnviz model or the path "
                             "of a model file: .npz, .pt)")
        return Source(lambda y: probe_model(path, x, y), path.name, said["batch_first"], PYTHON_OPTIONS)
    if is_torch_module(model):
        net = find_network(model, readout)
        for name, own in (("nonlinearity", net.nonlinearity), ("batch_first", net.batch_first)):
            if said[name] is not None and own is not None and said[name] != own:
                raise ValueError(f"{name}={said[name]!r} contradicts the module, whose {name} is {own!r} "
                                 f"({net.found.removeprefix('found ')}); leave {name} out")
        if net.kind != "nn.RNN" and said["nonlinearity"] is not None:
            raise ValueError(f"an {net.kind} has fixed nonlinearities (σ and tanh); nonlinearity= applies to an nn.RNN")

        def probe_for(y: np.ndarray | None) -> ModelProbe:
            return probe_state_dict(net.arrays, source=f"torch module {type(model).__name__}",
                                    nonlinearity=net.nonlinearity, batch_first=net.batch_first, inputs=x, targets=y)

        return Source(probe_for, f"{type(model).__name__} (torch module)", net.batch_first,
                      torch_layout_options(net.batch_first), [net.found, *net.notes], net.log_softmax, torch=True)
    raise TypeError(f"model must be a torch nn.RNN / nn.LSTM / nn.GRU (with readout=), a torch nn.Module holding one "
                    f"of them and an nn.Linear, an rnnviz model (rnnviz.engine RNN / LSTM / GRU) or a model file's "
                    f"path; got {type(model).__name__}")


def fit(source: Source, x: np.ndarray, y: np.ndarray | None, said: dict) -> Prepared:
    """The model built with what the caller said and the probe's other guesses (each reported),
    and the data laid out for it. ValueError, naming the fix, when the data do not fit."""
    probe = source.probe_for(y)
    report = list(source.found)
    loss = said["loss"]
    if loss is None and source.log_softmax is not None and is_class_guess(probe, y):
        loss = "nll"
        report.append(f"loss: nll (found {source.log_softmax}: nn.LogSoftmax, so the outputs are log-probabilities "
                      "as NLLLoss takes them)")
    for name, g in probe.questions():
        if said[name] is None and not (name == "loss" and loss is not None):
            reason = g.reason
            if name == "loss" and g.value == "cross-entropy" and source.torch:
                # the module was looked through: say so rather than that a file cannot tell
                reason = ("the targets are integer class indices and the module holds no nn.LogSoftmax; pass loss='nll' "
                          "if its forward applies log_softmax")
            report.append(f"{name}: {guess_text(g)} ({reason})")
    built = probe.build(architecture=said["architecture"], loss=loss, nonlinearity=said["nonlinearity"])
    xa = probe.arrange_inputs(x, source.batch_first)
    ya = None if y is None else probe.arrange_targets(y, xa, architecture=built.architecture, loss=built.loss,
                                                       batch_first=source.batch_first, options=source.options)
    xa = prepare_inputs(built, xa)
    T, B = xa.shape[:2]
    ya = None if ya is None else prepare_targets(built, ya, T, B)
    return Prepared(model=built, x=xa, y=ya, label=source.label, report=report)


def guess_text(g: Guess) -> str:
    if isinstance(g.value, bool):  # batch_first
        return "batch_first (B, T, I)" if g.value else "time-major (T, B, I)"
    return str(g.value)


def is_class_guess(probe: ModelProbe, y: np.ndarray | None) -> bool:
    """Whether LogSoftmax's nll fits: class-index targets, or none to say otherwise."""
    return y is None or str(probe.loss.value) == "cross-entropy"


def torch_layout_options(batch_first: bool) -> dict:
    """The hints of a shape error for a torch module: its layout is fixed, so a hint says to
    transpose the inputs rather than to pass batch_first (which would contradict the module)."""
    fix = "transpose the inputs (x.transpose(0, 1)): the module is " + (
        "batch_first, it takes (B, T, I)," if batch_first else "time-major, it takes (T, B, I),")
    return {**PYTHON_OPTIONS, "batch_first": fix, "time_major": fix}


def probe_engine_model(model: Model, x: np.ndarray, y: np.ndarray | None, batch_first: bool | None) -> ModelProbe:
    """The probe of an rnnviz model in memory: it records its own architecture, loss and
    activation; the inputs' layout is guessed unless the caller says it."""
    key_map = [(k, f"{k} {getattr(model, k).shape} = as is") for k in model.params()]

    def make(activation: str, architecture: str, loss: str) -> Model:
        return replace(model.copy(), activation=activation, architecture=architecture, loss=loss)

    nonlinearity = (Guess(model.activation, "the model records it", True, ACTIVATIONS) if model.cell == "rnn" else None)
    return assemble(None, "rnnviz model", model.cell, model.input_size, model.hidden_size, model.output_size,
                    str(model.dtype), key_map, make, nonlinearity, model.meta(), x, y,
                    None if batch_first is None else bool(batch_first), state_dict=False)
