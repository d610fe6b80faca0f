"""What a model file says, and a guess, with its reason, for what it does not say.

`probe_model(path, inputs, targets)` reads any model file rnnviz reads (an rnnviz model `.npz`,
a PyTorch nn.RNN / nn.LSTM / nn.GRU + nn.Linear state dict as `.npz` or `.pt`) and returns a
`ModelProbe`: the cell, the sizes, the dtype, which file key becomes which parameter, and a
`Guess` for each thing the file may not record: the architecture, the loss, an nn.RNN's
nonlinearity and the inputs' layout (time-major or batch_first). `probe_state_dict` does the same
for a state dict already in memory (rnnviz.show() with a torch module). The app's dialog, the CLI
and rnnviz.show() all ask only `probe.questions()`, then `probe.build(...)`, `arrange_inputs`,
`arrange_targets`; a target shape that does not fit says which option would make it fit.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from rnnviz.engine.activations import ACTIVATIONS
from rnnviz.engine.io.models import model_from_arrays
from rnnviz.engine.io.npz import FileFormatError, check_file, read_meta, read_npz
from rnnviz.engine.io.torch_import import (
    CELL_KINDS, TORCH_NONLINEARITIES, StateDictLayout, is_torch_state_dict, read_state_dict, read_torch_pt,
)
from rnnviz.engine.model import ARCHITECTURES, LOSSES, Model, is_class_loss

# How a hint names the option that would make a shape fit: the CLI's flags, or rnnviz.show()'s keywords.
CLI_OPTIONS = {"architecture": "--architecture {}", "loss": "--loss {}", "batch_first": "--batch-first", "time_major": "--time-major"}
PYTHON_OPTIONS = {"architecture": "architecture={!r}", "loss": "loss={!r}", "batch_first": "batch_first=True",
                  "time_major": "batch_first=False"}
LAYOUTS = (False, True)  # batch_first: time-major (T, B, I), or (B, T, I)
NO_LOGSOFTMAX = "a state dict does not record a LogSoftmax: pick nll if the model ends in LogSoftmax (NLLLoss)"


@dataclass(frozen=True)
class Guess:
    """One thing about the model: its value, why, and whether the file itself records it."""

    value: str | bool  # "many-to-one", "nll", "relu", True (batch_first) ...
    reason: str  # one line, e.g. "targets hold one value per sequence"
    recorded: bool  # True when the file (or the caller) says it: nothing to ask
    choices: tuple  # what the user may pick instead


@dataclass
class ModelProbe:
    """What a model file holds and the guesses for what it does not record (see the module doc)."""

    path: Path | None
    format: str  # "PyTorch state dict (.pt)", "rnnviz model (.npz)", "torch module nn.RNN" ...
    cell: str  # "rnn", "lstm" or "gru"
    input_size: int
    hidden_size: int
    output_size: int
    dtype: str  # "float64"
    key_map: list[tuple[str, str]]  # (file key, "W_xh (58, 128) = transposed")
    architecture: Guess
    loss: Guess
    nonlinearity: Guess | None  # None: an LSTM / GRU (fixed nonlinearities)
    batch_first: Guess | None  # None: the inputs given are one sequence (T, I)
    notes: list[str] = field(default_factory=list)
    make_model: Callable[..., Model] | None = field(default=None, repr=False)  # (activation=, architecture=, loss=) -> Model

    def questions(self) -> list[tuple[str, Guess]]:
        """The guesses the file does not record, in dialog order."""
        named = (("architecture", self.architecture), ("loss", self.loss), ("nonlinearity", self.nonlinearity),
                 ("batch_first", self.batch_first))
        return [(name, g) for name, g in named if g is not None and not g.recorded]

    def build(self, *, architecture: str | None = None, loss: str | None = None, nonlinearity: str | None = None) -> Model:
        """The model, with these settings or (None) the guesses."""
        architecture = architecture or str(self.architecture.value)
        loss = loss or str(self.loss.value)
        if architecture not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {architecture!r}; choose one of {', '.join(ARCHITECTURES)}")
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
        if self.nonlinearity is None:
            if nonlinearity not in (None, "tanh"):
                raise ValueError(f"{'an' if self.cell == 'lstm' else 'a'} {self.cell.upper()} has fixed nonlinearities "
                                 f"(σ and tanh); a nonlinearity ({nonlinearity!r}) applies to a vanilla RNN")
            activation = "tanh"
        else:
            activation = nonlinearity or str(self.nonlinearity.value)
            if activation not in self.nonlinearity.choices:
                raise ValueError(f"unknown nonlinearity {activation!r}; choose one of {', '.join(self.nonlinearity.choices)}")
        assert self.make_model is not None
        return self.make_model(activation=activation, architecture=architecture, loss=loss)

    def layout(self, batch_first: bool | None = None) -> bool:
        """Whether the inputs are batch first: `batch_first` when given, else the guess (else False)."""
        return bool(self.batch_first.value) if batch_first is None and self.batch_first is not None else bool(batch_first)

    def arrange_inputs(self, x: np.ndarray, batch_first: bool | None = None) -> np.ndarray:
        """Inputs as the engine reads them, (T, B, I): (T, I) is one sequence; (B, T, I) when
        batch_first (None: the guess). ValueError, one line, when they cannot be."""
        x = np.asarray(x)
        bf = self.layout(batch_first)
        if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating) or x.dtype == bool:
            raise ValueError(f"inputs must be real numbers, got dtype {x.dtype}")
        if x.ndim not in (2, 3):
            raise ValueError(f"inputs have shape {x.shape}; expected {'(B, T, I)' if bf else '(T, B, I)'} or (T, I) "
                             f"with I = {self.input_size}")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"inputs have {x.shape[-1]} features but the model takes {self.input_size} (inputs of shape "
                             f"{x.shape}; the features go in the last axis)")
        if 0 in x.shape:
            raise ValueError(f"inputs have shape {x.shape}: no time steps or no sequences")
        if not np.all(np.isfinite(x)):
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(x))[0])
            raise ValueError(f"inputs hold a non-finite value ({x[bad]}) at index {bad}")
        x = x[:, None, :] if x.ndim == 2 else (x.transpose(1, 0, 2) if bf else x)
        return np.ascontiguousarray(x, dtype=np.result_type(x.dtype, np.float32))

    def arrange_targets(self, y: np.ndarray, x_arranged: np.ndarray, *, architecture: str | None = None,
                        loss: str | None = None, batch_first: bool | None = None, options: dict = CLI_OPTIONS) -> np.ndarray:
        """Targets as the engine reads them for x_arranged (T, B, I): every step (T, B, O) float /
        (T, B) class indices; many-to-one (B, O) / (B,). A batch_first many-to-many (B, T, ...)
        is transposed. A shape that does not fit raises a ValueError naming the option (`options`:
        CLI_OPTIONS or PYTHON_OPTIONS) that would make it fit."""
        arch = architecture or str(self.architecture.value)
        loss = loss or str(self.loss.value)
        bf = self.layout(batch_first)
        y = check_targets(y, loss)
        T, B = x_arranged.shape[:2]
        fitted = fit_targets(y, arch, loss, T, B, self.output_size, bf)
        if fitted is not None:
            if is_class_loss(loss) and fitted.size and (fitted.min() < 0 or fitted.max() >= self.output_size):
                bad = int(fitted[(fitted < 0) | (fitted >= self.output_size)].flat[0])
                raise ValueError(f"class targets must lie in 0..{self.output_size - 1}, got {bad} (the model has "
                                 f"{self.output_size} outputs)")
            return fitted
        want = expected_targets(arch, loss, T, B, self.output_size, bf)
        raise ValueError(f"targets have shape {y.shape}; expected {want} for {arch}"
                         + self.hint(y, arch, loss, T, B, bf, options))

    def hint(self, y: np.ndarray, arch: str, loss: str, T: int, B: int, bf: bool, options: dict) -> str:
        """' — pass --architecture many-to-one if ...' when another choice would fit, else ''."""
        O = self.output_size
        for other in ("many-to-one", "many-to-many"):
            if other != arch and fit_targets(y, other, loss, T, B, O, bf) is not None:
                why = "there is one target per sequence" if other == "many-to-one" else "there is one target per step"
                return f" — pass {options['architecture'].format(other)} if {why}"
        for other in LOSSES:
            if is_class_loss(other) != is_class_loss(loss):
                try:
                    yy = check_targets(y, other)
                except ValueError:
                    continue
                if fit_targets(yy, arch, other, T, B, O, bf) is not None:
                    what = "class indices" if is_class_loss(other) else "values to regress"
                    return f" — pass {options['loss'].format(other)} if the targets are {what}"
        if B != T:  # read the other way round, the inputs would be (B, T) rather than (T, B)
            for other in (arch, *(a for a in ("many-to-one", "many-to-many") if a != arch)):
                if fit_targets(y, other, loss, B, T, O, not bf) is not None:
                    key, shape = ("time_major", "(T, B, I)") if bf else ("batch_first", "(B, T, I)")
                    extra = f" and {options['architecture'].format(other)}" if other != arch else ""
                    return f" — pass {options[key]}{extra} if the inputs are {shape}"
        return ""


def check_targets(y: np.ndarray, loss: str) -> np.ndarray:
    """Targets as numbers for this loss: class indices (int64) or reals; finite. ValueError otherwise."""
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.number) or np.issubdtype(y.dtype, np.complexfloating) or y.dtype == bool:
        raise ValueError(f"targets must be numbers, got dtype {y.dtype}")
    if np.issubdtype(y.dtype, np.floating) and not np.all(np.isfinite(y)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(y))[0])
        raise ValueError(f"targets hold a non-finite value ({y[bad]}) at index {bad}")
    if is_class_loss(loss):
        if not np.issubdtype(y.dtype, np.integer):
            if not np.all(y == np.round(y)):
                raise ValueError(f"{loss} takes integer class indices, but the targets hold fractions (dtype {y.dtype}) "
                                 "— use mse for values to regress")
        return y.astype(np.int64)
    return y.astype(np.result_type(y.dtype, np.float32))


def expected_targets(arch: str, loss: str, T: int, B: int, O: int, bf: bool) -> tuple:
    """The targets' shape this architecture and loss want (in the inputs' layout)."""
    step = () if is_class_loss(loss) else (O,)
    if arch == "many-to-one":
        return (B, *step)
    return (B, T, *step) if bf else (T, B, *step)


def fit_targets(y: np.ndarray, arch: str, loss: str, T: int, B: int, O: int, bf: bool) -> np.ndarray | None:
    """y in the engine's layout when it fits (see ModelProbe.arrange_targets), else None."""
    step = () if is_class_loss(loss) else (O,)
    if arch == "many-to-one":
        if y.shape == (B, *step):
            return y.copy()
        if B == 1 and y.shape == step:
            return y.reshape(1, *step).copy()
        return None
    if arch == "one-to-one" and T != 1:
        return None
    if y.shape == expected_targets(arch, loss, T, B, O, bf):
        return np.ascontiguousarray(np.swapaxes(y, 0, 1)) if bf else y.copy()
    if B == 1 and y.shape == (T, *step):  # one sequence: (T, O) or (T,)
        return y.reshape(T, 1, *step).copy()
    return None


# the guesses ----------------------------------------------------------------------------------
def guess_loss(targets: np.ndarray | None, recorded: str | None, state_dict: bool) -> Guess:
    """From the targets (class indices -> cross-entropy, reals -> mse), else the file, else mse."""
    if targets is not None and np.asarray(targets).size:
        classes = np.issubdtype(np.asarray(targets).dtype, np.integer)
        if recorded is not None and is_class_loss(recorded) == classes:
            return Guess(recorded, "the file records it", True, LOSSES)
        said = f"the file says {recorded}, but " if recorded else ""
        if classes:
            return Guess("cross-entropy", f"{said}the targets are integer class indices; {NO_LOGSOFTMAX}", False, LOSSES)
        return Guess("mse", f"{said}the targets are real numbers", False, LOSSES)
    if recorded is not None:
        return Guess(recorded, "the file records it", True, LOSSES)
    return Guess("mse", f"no targets given, and {'a state dict' if state_dict else 'the file'} does not record the loss; "
                        "cross-entropy for class indices, nll after a LogSoftmax", False, LOSSES)


def guess_shapes(x: np.ndarray | None, y: np.ndarray | None, loss: str, I: int, O: int, recorded_arch: str | None,
                 batch_first: bool | None) -> tuple[Guess, Guess | None]:
    """The architecture and the inputs' layout, from the shapes of the inputs and targets."""
    x = None if x is None else np.asarray(x)
    layouts = [bf for bf in LAYOUTS if batch_first is None or bf == batch_first]
    sizes = {}  # batch_first -> (T, B) the inputs would have
    if x is not None and x.ndim == 2:
        sizes = {False: (x.shape[0], 1)}
    elif x is not None and x.ndim == 3:
        sizes = {bf: ((x.shape[1], x.shape[0]) if bf else x.shape[:2]) for bf in layouts}
    fits: list[tuple[bool, str]] = []
    if y is not None and sizes:
        try:
            yy = check_targets(y, loss)
        except ValueError:
            yy = None
        archs = [a for a in ARCHITECTURES if a == recorded_arch] + ["many-to-many", "many-to-one"]
        fits = [(bf, a) for bf, (T, B) in sizes.items() for a in dict.fromkeys(archs)
                if yy is not None and fit_targets(yy, a, loss, T, B, O, bf) is not None]
    arch = guess_architecture(fits, y if sizes else None, recorded_arch)  # targets without inputs say nothing yet
    if x is not None and x.ndim == 2:
        return arch, None
    choices = LAYOUTS
    if batch_first is not None:
        return arch, Guess(batch_first, f"given: batch_first={batch_first}", True, choices)
    if x is None or x.ndim != 3:
        return arch, Guess(False, "no inputs given yet: time-major (T, B, I), PyTorch's default", False, choices)
    d0, d1 = x.shape[:2]
    if d0 != d1 and fits and len({bf for bf, a in fits if a == arch.value}) == 1:
        bf = next(bf for bf, a in fits if a == arch.value)
        T, B = sizes[bf]
        return arch, Guess(bf, f"the targets fix the batch: inputs {x.shape} are {'(B, T, I)' if bf else '(T, B, I)'} "
                               f"with T={T}, B={B}", False, choices)
    why = f"inputs {x.shape} read as T={d0}, B={d1} (time-major) or T={d1}, B={d0} (batch_first)" if d0 != d1 else \
        f"inputs {x.shape} have as many steps as sequences"
    return arch, Guess(False, f"ambiguous: {why}; time-major is PyTorch's default", False, choices)


def guess_architecture(fits: list[tuple[bool, str]], y: np.ndarray | None, recorded: str | None) -> Guess:
    """From the (layout, architecture) pairs the targets fit: the file's when they fit it, else the
    one they fit, else many-to-many."""
    archs = list(dict.fromkeys(a for _, a in fits))
    if recorded is not None and (y is None or recorded in archs):
        return Guess(recorded, "the file records it", True, ARCHITECTURES)
    said = f"the file says {recorded}, but " if recorded else ""
    if len(archs) == 1:
        one = archs[0]
        why = "targets hold one value per sequence" if one == "many-to-one" else "targets hold one value per step"
        return Guess(one, said + why, False, ARCHITECTURES)
    if y is None:
        return Guess("many-to-many", "no targets given; many-to-many (an output at every step) is the default", False, ARCHITECTURES)
    if archs:
        return Guess("many-to-many", f"{said}the targets fit either (a single step); many-to-many is the default", False,
                     ARCHITECTURES)
    return Guess(recorded or "many-to-many", f"{said}the targets' shape {np.shape(y)} fits no architecture with these inputs",
                 recorded is not None, ARCHITECTURES)


# probing -----------------------------------------------------------------------------------------
def probe_model(path: str | os.PathLike, inputs: np.ndarray | None = None, targets: np.ndarray | None = None, *,
                batch_first: bool | None = None) -> ModelProbe:
    """Probe any model file rnnviz reads (FileFormatError when it cannot be read). `batch_first`:
    the inputs' layout when the caller knows it (e.g. the CLI's --batch-first); None: guess it."""
    p = check_file(path)
    if p.suffix.lower() in (".pt", ".pth"):
        return probe_layout(read_state_dict(read_torch_pt(p), p), p, "PyTorch state dict (.pt)", inputs, targets,
                            batch_first=batch_first)
    data = read_npz(p)
    if is_torch_state_dict(data):
        return probe_layout(read_state_dict(data, p), p, "PyTorch state dict (.npz)", inputs, targets, batch_first=batch_first)
    meta = read_meta(p, data)
    defaults = {"activation": "tanh", "architecture": "many-to-many", "loss": "mse"}
    model = model_from_arrays(data, p, **{k: v for k, v in defaults.items() if k not in meta})
    names = [*model.params(), *getattr(model, "STATE_NAMES", ("h0",))]
    key_map = [(k, f"{k} {getattr(model, k).shape} = as is") for k in names]

    def make(activation: str, architecture: str, loss: str) -> Model:
        return replace(model.copy(), activation=activation, architecture=architecture, loss=loss)

    nonlinearity = None if model.cell != "rnn" else (
        Guess(model.activation, "the file records it", True, ACTIVATIONS) if "activation" in meta
        else Guess("tanh", "the file does not record the nonlinearity; tanh is the default", False, ACTIVATIONS))
    return assemble(p, "rnnviz model (.npz)", model.cell, model.input_size, model.hidden_size, model.output_size,
                    str(model.dtype), key_map, make, nonlinearity, meta, inputs, targets, batch_first, state_dict=False)


def probe_state_dict(arrays: dict[str, np.ndarray], *, source: str, nonlinearity: str | None = None,
                     batch_first: bool | None = None, inputs: np.ndarray | None = None,
                     targets: np.ndarray | None = None) -> ModelProbe:
    """Probe a state dict in memory (e.g. a torch module's state_dict() as NumPy); `source` names it
    ("torch module nn.RNN"). What the caller passes (nonlinearity, batch_first) is recorded."""
    if nonlinearity is not None and nonlinearity not in TORCH_NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {', '.join(TORCH_NONLINEARITIES)}, got {nonlinearity!r}")
    if batch_first is not None and not isinstance(batch_first, (bool, np.bool_)):
        raise TypeError(f"batch_first must be True, False or None, got {batch_first!r}")
    return probe_layout(read_state_dict(arrays, source), None, source, inputs, targets, nonlinearity,
                        None if batch_first is None else bool(batch_first))


def probe_layout(layout: StateDictLayout, path: Path | None, fmt: str, inputs, targets,
                 nonlinearity: str | None = None, batch_first: bool | None = None) -> ModelProbe:
    """The probe of a checked PyTorch state dict."""
    meta = layout.meta
    if layout.cell != "rnn":
        act = None
    elif nonlinearity is not None:
        act = Guess(nonlinearity, f"read from the {layout.kind} module", True, TORCH_NONLINEARITIES)
    elif "activation" in meta:
        act = Guess(meta["activation"], "the file records it", True, TORCH_NONLINEARITIES)
    else:
        act = Guess("tanh", "a state dict does not record nn.RNN's nonlinearity; tanh is PyTorch's default", False,
                    TORCH_NONLINEARITIES)
    return assemble(path, fmt, layout.cell, layout.input_size, layout.hidden_size, layout.output_size,
                    str(layout.dtype), [m.row() for m in layout.mapping], layout.build, act, meta, inputs, targets,
                    batch_first, state_dict=True)


def assemble(path: Path | None, fmt: str, cell: str, I: int, H: int, O: int, dtype: str, key_map: list[tuple[str, str]],
             make: Callable[..., Model], nonlinearity: Guess | None, meta: dict, inputs: np.ndarray | None,
             targets: np.ndarray | None, batch_first: bool | None, *, state_dict: bool) -> ModelProbe:
    """A ModelProbe from what was read (`make(activation=, architecture=, loss=)` builds the model;
    `meta` is what the file records), with the loss, architecture and layout guessed."""
    loss = guess_loss(targets, meta.get("loss") if meta.get("loss") in LOSSES else None, state_dict)
    recorded_arch = meta.get("architecture") if meta.get("architecture") in ARCHITECTURES else None
    arch, layout = guess_shapes(inputs, targets, str(loss.value), I, O, recorded_arch, batch_first)
    notes = [f"{CELL_KINDS[cell]}-style cell, I={I}, H={H}, O={O}, {dtype}",
             "the initial state h_0 is zeros, as PyTorch's default" if state_dict else "h_0 as the file holds it"]
    return ModelProbe(path=path, format=fmt, cell=cell, input_size=I, hidden_size=H, output_size=O, dtype=dtype,
                      key_map=key_map, architecture=arch, loss=loss, nonlinearity=nonlinearity, batch_first=layout,
                      notes=notes, make_model=make)


__all__ = ["CLI_OPTIONS", "PYTHON_OPTIONS", "FileFormatError", "Guess", "ModelProbe", "probe_model", "probe_state_dict"]
