"""What a `.rnnviz` session file may hold, and the check of it: the format's name and version,
the allowed values (themes, sources, selections), each cell's parameters and their shapes, and
`validate(path, doc, arrays)`, which checks every key, type, range, array shape and dtype of a
file's session.json and arrays.npz and how they fit together, raising `FileFormatError` that
names the file and the problem.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from rnnviz.engine.activations import ACTIVATIONS
from rnnviz.engine.guards import ON_DIVERGENCE
from rnnviz.engine.io.npz import FileFormatError
from rnnviz.engine.model import ARCHITECTURES, CELLS, GRU_PARAM_NAMES, LOSS_REDUCTIONS, LOSSES, LSTM_PARAM_NAMES, PARAM_NAMES, is_class_loss
from rnnviz.engine.optim import ADAGRAD_EPS, CLIP_MODES, OPTIMIZERS
from rnnviz.engine.tasks import TASKS

FORMAT = "rnnviz-session"
VERSION = 1
MAX_HIDDEN = 4096
THEMES = ("light", "dark", "contrast")
SOURCES = ("task", "file")
SELECTION_KINDS = ("x", "h", "y", "W_xh", "W_hh", "W_hy",
                   "c", "gate:i", "gate:f", "gate:g", "gate:o", "gate:r", "gate:z", "gate:n")  # the last: LSTM / GRU
CELL_PARAMS = {"rnn": PARAM_NAMES, "lstm": LSTM_PARAM_NAMES, "gru": GRU_PARAM_NAMES}
CELL_STATES = {"rnn": ("h0",), "lstm": ("h0", "c0"), "gru": ("h0",)}


def param_shapes(cell: str, I: int, H: int, O: int) -> dict[str, tuple[int, ...]]:
    """Each parameter of a cell by name with its shape (the engine's row-vector layout)."""
    def shape(name: str) -> tuple[int, ...]:
        if name == "W_hy":
            return (H, O)
        if name == "b_y":
            return (O,)
        if name.startswith("W_x"):
            return (I, H)
        if name.startswith("W_h"):
            return (H, H)
        return (H,)
    return {n: shape(n) for n in CELL_PARAMS[cell]}


class _Check:
    """The checks of one file: each fails with a FileFormatError saying where and what; `used`
    collects the arrays the document refers to."""

    def __init__(self, p: Path, arrays: dict[str, np.ndarray]) -> None:
        self.p = p
        self.arrays = arrays
        self.used: set[str] = set()

    def fail(self, problem: str) -> None:
        raise FileFormatError(self.p, problem)

    def obj(self, d: object, where: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
        if not isinstance(d, dict):
            self.fail(f"session.json: {where} must be an object, got {_kind(d)}")
        missing = [k for k in required if k not in d]
        if missing:
            self.fail(f"session.json: {where} lacks {', '.join(repr(k) for k in missing)}")
        unknown = [k for k in d if k not in required and k not in optional]
        if unknown:
            self.fail(f"session.json: {where} has unknown key{'s' if len(unknown) > 1 else ''} "
                      f"{', '.join(repr(k) for k in unknown)}")
        return d

    def int_(self, v: object, where: str, lo: int | None = None, hi: int | None = None, none: bool = False) -> int | None:
        if v is None and none:
            return None
        if not isinstance(v, int) or isinstance(v, bool):
            self.fail(f"session.json: {where} must be a whole number{' or null' if none else ''}, got {_kind(v)}")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            self.fail(f"session.json: {where} is {v}; it must lie between {lo} and {hi}")
        return v

    def num(self, v: object, where: str, lo: float | None = None, hi: float | None = None, none: bool = False,
            positive: bool = False) -> float | None:
        if v is None and none:
            return None
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
            self.fail(f"session.json: {where} must be a finite number{' or null' if none else ''}, got {_kind(v)}")
        if positive and v <= 0:
            self.fail(f"session.json: {where} is {v}; it must be positive")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            self.fail(f"session.json: {where} is {v}; it must lie between {lo} and {hi}")
        return float(v)

    def str_(self, v: object, where: str, choices: tuple[str, ...] | None = None, none: bool = False,
             max_len: int = 10_000) -> str | None:
        if v is None and none:
            return None
        if not isinstance(v, str):
            self.fail(f"session.json: {where} must be text, got {_kind(v)}")
        if choices is not None and v not in choices:
            self.fail(f"session.json: {where} is {v!r}; expected one of {', '.join(choices)}")
        if len(v) > max_len:
            self.fail(f"session.json: {where} is {len(v):,} characters long")
        return v

    def bool_(self, v: object, where: str) -> bool:
        if not isinstance(v, bool):
            self.fail(f"session.json: {where} must be true or false, got {_kind(v)}")
        return v

    def array(self, key: str, shape: tuple[int | None, ...], kind: str = "f", finite: bool = True) -> np.ndarray:
        if key not in self.arrays:
            self.fail(f"arrays.npz lacks {key!r}")
        a = self.arrays[key]
        self.used.add(key)
        kinds = {"f": "fiu", "i": "iu", "f!": "f"}[kind]
        if a.dtype.kind not in kinds:
            self.fail(f"arrays.npz: {key!r} has dtype {a.dtype}; expected {'integers' if kind == 'i' else 'real numbers'}")
        if len(a.shape) != len(shape) or any(s is not None and g != s for g, s in zip(a.shape, shape)):
            want = "(" + ", ".join("·" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
            self.fail(f"arrays.npz: {key!r} has shape {a.shape}; expected {want}")
        if finite and a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            self.fail(f"arrays.npz: {key!r} holds NaN or Inf")
        return a


def _kind(v: object) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null",
            int: "a number", float: "a number"}.get(type(v), type(v).__name__)


def validate(p: Path, doc: object, arrays: dict[str, np.ndarray]) -> None:
    """Check session.json (`doc`) and arrays.npz (`arrays`) read from the file p: every key, type,
    range, array shape and dtype, and how they fit together; a FileFormatError names the first
    problem. Arrays that nothing in `doc` uses are refused too."""
    c = _Check(p, arrays)
    if not isinstance(doc, dict):
        c.fail(f"session.json must be an object, got {_kind(doc)}")
    if doc.get("format") != FORMAT:
        c.fail(f"session.json: 'format' is {doc.get('format')!r}; expected {FORMAT!r} (is this an rnnviz session?)")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        c.fail(f"session.json: 'version' must be a whole number ≥ 1, got {version!r}")
    if version > VERSION:
        c.fail(f"was saved by a newer rnnviz (session format {version}; this version reads up to {VERSION}): update rnnviz")
    c.obj(doc, "the top level", ("format", "version", "config", "source", "model", "data", "training", "view"),
          ("task", "saved_by"))
    # config
    cfg = c.obj(doc["config"], "'config'", ("task", "architecture", "activation", "hidden", "steps", "seed", "lag"),
                ("cell",))
    if "cell" in cfg:
        c.str_(cfg["cell"], "config.cell", CELLS)
    c.str_(cfg["task"], "config.task", tuple(TASKS))
    c.str_(cfg["architecture"], "config.architecture", ARCHITECTURES, none=True)
    c.str_(cfg["activation"], "config.activation", tuple(ACTIVATIONS))
    c.int_(cfg["hidden"], "config.hidden", 1, MAX_HIDDEN)
    c.int_(cfg["steps"], "config.steps", 1, 100_000, none=True)
    c.int_(cfg["seed"], "config.seed", 0, 2**63 - 1)
    c.int_(cfg["lag"], "config.lag", 0, 100_000)
    # source
    src = c.obj(doc["source"], "'source'", ("kind", "label", "imported"))
    c.str_(src["kind"], "source.kind", SOURCES)
    c.str_(src["label"], "source.label")
    imported = c.bool_(src["imported"], "source.imported")
    # model
    m = c.obj(doc["model"], "'model'", ("activation", "architecture", "loss"), ("extra_meta", "cell"))
    cell = c.str_(m.get("cell", "rnn"), "model.cell", CELLS)
    c.str_(m["activation"], "model.activation", tuple(ACTIVATIONS) if cell == "rnn" else ("tanh",))
    c.str_(m["architecture"], "model.architecture", ARCHITECTURES)
    loss = c.str_(m["loss"], "model.loss", LOSSES)
    if "extra_meta" in m and not isinstance(m["extra_meta"], dict):
        c.fail("session.json: model.extra_meta must be an object")
    W_xh = c.array(f"model.{CELL_PARAMS[cell][0]}", (None, None))  # W_xh, W_xi or W_xr
    I, H = W_xh.shape
    W_hy = c.array("model.W_hy", (H, None))
    O = W_hy.shape[1]
    if 0 in (I, H, O) or H > MAX_HIDDEN:
        c.fail(f"arrays.npz: the model's sizes I={I}, H={H}, O={O} are not usable")
    shapes = param_shapes(cell, I, H, O)
    for k, s in shapes.items():
        c.array(f"model.{k}", s)
    for k in CELL_STATES[cell]:
        c.array(f"model.{k}", (H,))
    # task (imported data)
    task = doc.get("task")
    if imported:
        t = c.obj(task, "'task'", ("name", "title", "description", "architecture", "loss", "vocab", "defaults", "params"))
        c.str_(t["name"], "task.name", ("series", "text"))
        c.str_(t["title"], "task.title")
        c.str_(t["description"], "task.description", max_len=100_000)
        c.str_(t["architecture"], "task.architecture", ARCHITECTURES)
        tloss = c.str_(t["loss"], "task.loss", LOSSES)
        c.str_(t["vocab"], "task.vocab", none=True)
        for k in ("defaults", "params"):
            if not isinstance(t[k], dict):
                c.fail(f"session.json: task.{k} must be an object")
        dft = c.obj(t["defaults"], "task.defaults", (), ("hidden", "activation", "optimizer", "lr", "iterations"))
        if "hidden" in dft:
            c.int_(dft["hidden"], "task.defaults.hidden", 1, MAX_HIDDEN)
        if "activation" in dft:
            c.str_(dft["activation"], "task.defaults.activation", tuple(ACTIVATIONS))
        if "optimizer" in dft:
            c.str_(dft["optimizer"], "task.defaults.optimizer", OPTIMIZERS)
        if "lr" in dft:
            c.num(dft["lr"], "task.defaults.lr", positive=True)
        if "iterations" in dft:
            c.int_(dft["iterations"], "task.defaults.iterations", 1, 10**12, none=True)
        xt = c.array("task.x_train", (None, None, I))
        T, N = xt.shape[:2]
        if T < 1 or N < 1:
            c.fail(f"arrays.npz: 'task.x_train' has shape {xt.shape}: no data")
        _targets(c, "task.y_train", tloss, T, N, O)
        if "task.x_val" in arrays or "task.y_val" in arrays:
            xv = c.array("task.x_val", (T, None, I))
            _targets(c, "task.y_val", tloss, T, xv.shape[1], O)
        if is_class_loss(tloss):
            classes = t["params"].get("classes")
            if not isinstance(classes, int) or isinstance(classes, bool) or classes != O:
                c.fail(f"session.json: task.params.classes must be the model's output size {O}")
    elif task is not None:
        c.fail("session.json: 'task' is set but source.imported is false")
    # data the watched sequence comes from
    d = c.obj(doc["data"], "'data'", ("stored", "has_targets"))
    stored = c.bool_(d["stored"], "data.stored")
    has_targets = c.bool_(d["has_targets"], "data.has_targets")
    N_data = None
    if stored:
        x = c.array("data.x", (None, None, I))
        T, N_data = x.shape[:2]
        if T < 1 or N_data < 1:
            c.fail(f"arrays.npz: 'data.x' has shape {x.shape}: no data")
        if has_targets:
            _targets(c, "data.y", loss, T, N_data, O)
    elif src["kind"] == "file":
        c.fail("session.json: a session showing a model file must store its data (data.stored)")
    # training
    tr = c.obj(doc["training"], "'training'", ("settings", "trainer"))
    st = c.obj(tr["settings"], "training.settings", ("optimizer", "lr", "momentum", "clip", "batch_size", "iterations"),
               # optional: files from before these were settings mean today's defaults ("stop", PyTorch's conventions)
               ("on_divergence", "loss_reduction", "clip_mode", "stateful", "adagrad_eps"))
    c.str_(st["optimizer"], "training.settings.optimizer", OPTIMIZERS)
    c.num(st["lr"], "training.settings.lr", positive=True)
    c.num(st["momentum"], "training.settings.momentum", 0, 0.999999)
    c.num(st["clip"], "training.settings.clip", none=True, positive=True)
    c.int_(st["batch_size"], "training.settings.batch_size", 1, 10**9, none=True)
    c.int_(st["iterations"], "training.settings.iterations", 1, 10**12, none=True)
    if "on_divergence" in st:
        c.str_(st["on_divergence"], "training.settings.on_divergence", ON_DIVERGENCE)
    for key, choices in (("loss_reduction", LOSS_REDUCTIONS), ("clip_mode", CLIP_MODES), ("adagrad_eps", tuple(ADAGRAD_EPS))):
        if key in st:
            c.str_(st[key], f"training.settings.{key}", choices)
    if "stateful" in st:
        c.bool_(st["stateful"], "training.settings.stateful")
    if tr["trainer"] is not None:
        _validate_trainer(c, tr["trainer"], shapes)
    # view
    v = c.obj(doc["view"], "'view'", ("position", "watched", "theme", "presentation", "speed", "loop", "rolled",
                                      "selection"))
    c.int_(v["position"], "view.position", 0, 10**7)
    c.int_(v["watched"], "view.watched", 0, 10**9)
    if N_data is not None and v["watched"] >= N_data:
        c.fail(f"session.json: view.watched is {v['watched']} but the data has {N_data} sequences")
    c.str_(v["theme"], "view.theme", THEMES)
    c.bool_(v["presentation"], "view.presentation")
    c.num(v["speed"], "view.speed", 0.01, 1000)
    c.bool_(v["loop"], "view.loop")
    c.bool_(v["rolled"], "view.rolled")
    if v["selection"] is not None:
        sel = c.obj(v["selection"], "view.selection", ("kind", "t", "unit"))
        c.str_(sel["kind"], "view.selection.kind", SELECTION_KINDS)
        c.int_(sel["t"], "view.selection.t", 0, 10**7)
        c.int_(sel["unit"], "view.selection.unit", 0, 10**7, none=True)
    if doc.get("saved_by") is not None:
        c.str_(doc["saved_by"], "saved_by", max_len=200)
    unused = sorted(set(arrays) - c.used)
    if unused:
        c.fail(f"arrays.npz holds unexpected arrays: {', '.join(unused[:5])}{' …' if len(unused) > 5 else ''}")


def _targets(c: _Check, key: str, loss: str, T: int, N: int, O: int) -> None:
    if loss == "mse":
        c.array(key, (T, N, O))
        return
    y = c.array(key, (T, N), "i")
    if y.size and (y.min() < 0 or y.max() >= O):
        c.fail(f"arrays.npz: {key!r} holds class {int(y.max() if y.max() >= O else y.min())}; classes run from 0 to {O - 1}")


def _validate_trainer(c: _Check, t: object, shapes: dict[str, tuple[int, ...]]) -> None:
    t = c.obj(t, "training.trainer", ("version", "iteration", "optimizer", "lr", "momentum", "clip", "batch_size",
                                      "seed", "tbptt", "val_every", "optimizer_steps", "optimizer_state", "rng", "pos",
                                      "history", "snapshot_every", "snapshot_iterations"),
              ("loss_reduction", "clip_mode", "stateful", "adagrad_eps"))  # optional: older runs, PyTorch's conventions
    w = "training.trainer"
    for key, choices in (("loss_reduction", LOSS_REDUCTIONS), ("clip_mode", CLIP_MODES), ("adagrad_eps", tuple(ADAGRAD_EPS))):
        if key in t:
            c.str_(t[key], f"{w}.{key}", choices)
    if "stateful" in t:
        c.bool_(t["stateful"], f"{w}.stateful")
    H = shapes["W_hy"][0]
    for key in ("trainer.carried.h", "trainer.carried.c"):  # a stateful run's carried state, (B, H)
        if key in c.arrays:
            c.array(key, (None, H))
    c.int_(t["version"], f"{w}.version", 1, 1)
    it = c.int_(t["iteration"], f"{w}.iteration", 0, 10**12)
    opt = c.str_(t["optimizer"], f"{w}.optimizer", OPTIMIZERS)
    c.num(t["lr"], f"{w}.lr", positive=True)
    c.num(t["momentum"], f"{w}.momentum", 0, 0.999999)
    c.num(t["clip"], f"{w}.clip", none=True, positive=True)
    c.int_(t["batch_size"], f"{w}.batch_size", 1, 10**9, none=True)
    c.int_(t["seed"], f"{w}.seed", 0, 2**63 - 1)
    c.int_(t["tbptt"], f"{w}.tbptt", 1, 10**7, none=True)
    c.int_(t["val_every"], f"{w}.val_every", 1, 10**9)
    c.int_(t["optimizer_steps"], f"{w}.optimizer_steps", 0, 10**12)
    c.int_(t["pos"], f"{w}.pos", 0, 10**9)
    c.int_(t["snapshot_every"], f"{w}.snapshot_every", 1, 10**12)
    ost = t["optimizer_state"]
    if not isinstance(ost, dict):
        c.fail(f"session.json: {w}.optimizer_state must be an object")
    parts = {"adam": 2, "sgd": 0, "adagrad": 0}[opt]
    for key, n in ost.items():
        if key not in shapes:
            c.fail(f"session.json: {w}.optimizer_state names unknown parameter {key!r}")
        if n != parts or isinstance(n, bool):
            c.fail(f"session.json: {w}.optimizer_state[{key!r}] is {n!r}; {opt} keeps {parts or 1} array(s) per parameter")
        for i in range(max(parts, 1)):
            c.array(f"trainer.optim.{key}.{i}", shapes[key])
    rng = t["rng"]
    if not isinstance(rng, dict) or rng.get("bit_generator") != "PCG64" or not isinstance(rng.get("state"), dict):
        c.fail(f"session.json: {w}.rng must be a PCG64 bit-generator state")
    try:
        np.random.PCG64().state = rng
    except (TypeError, ValueError, KeyError, OverflowError) as e:
        c.fail(f"session.json: {w}.rng is not a valid PCG64 state ({str(e)[:120]})")
    for k in shapes:
        c.array(f"trainer.params.{k}", shapes[k])
        c.array(f"trainer.initial.{k}", shapes[k])
    order = c.array("trainer.order", (None,), "i")
    if t["pos"] > len(order):
        c.fail(f"session.json: {w}.pos {t['pos']} lies past the batch order ({len(order)})")
    hist = c.obj(t["history"], f"{w}.history", ("loss", "grad_norm", "val_loss"))
    for name, h in hist.items():
        h = c.obj(h, f"{w}.history.{name}", ("stride", "offered"))
        c.int_(h["stride"], f"{w}.history.{name}.stride", 1, 2**40)
        c.int_(h["offered"], f"{w}.history.{name}.offered", 0, 10**12)
        its = c.array(f"trainer.history.{name}.iterations", (None,), "i")
        c.array(f"trainer.history.{name}.values", (len(its),), finite=False)
        if len(its) > 262_144:
            c.fail(f"arrays.npz: history {name!r} holds {len(its):,} points, more than a run keeps")
        if its.size and (its.min() < 1 or its.max() > it):
            c.fail(f"arrays.npz: history {name!r} has iterations outside 1..{it}")
    snaps = t["snapshot_iterations"]
    if not isinstance(snaps, list) or len(snaps) > 10_000:
        c.fail(f"session.json: {w}.snapshot_iterations must be a list")
    for i, s in enumerate(snaps):
        c.int_(s, f"{w}.snapshot_iterations[{i}]", 0, it)
        for k in shapes:
            c.array(f"trainer.snapshot.{i}.{k}", shapes[k])
