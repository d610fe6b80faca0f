"""A session as plain data and arrays, and back: `capture()` turns the session (and the training
run, if a controller is given) into (session.json data, arrays) that share nothing with the
live session; `save()` writes that to a `.rnnviz` file (session_file); `restore()` reads one,
builds everything it describes *before* touching the session, then puts it in place, so a bad
file leaves the session exactly as it was. session_store.py adds autosave, recovery and recent
files on top.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from rnnviz.version import __version__
from rnnviz.engine import RNN, Task, Trainer, make_task, run
from rnnviz.engine.io.npz import FileFormatError
from rnnviz.engine.model import GRU, LSTM, is_class_loss
from rnnviz.app.io import session_file, session_schema
from rnnviz.app.state.network_config import NetworkConfig, task_for_architecture
from rnnviz.app.state.selection import Selection
from rnnviz.app.state.session import Session
from rnnviz.app.state.training import TrainingController
from rnnviz.app.state.training_loop import TrainingSettings


# capture ---------------------------------------------------------------------------------------
def _json_safe(obj: object) -> object:
    return json.loads(json.dumps(obj, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o),
                                 allow_nan=False))


def capture(session: Session, controller: TrainingController | None = None, view: dict | None = None,
            trainer_state: tuple[dict, dict[str, np.ndarray]] | None = None) -> tuple[dict, dict[str, np.ndarray]]:
    """The session (and training run) as (session.json data, arrays): a snapshot that shares
    nothing with the live session (fresh JSON data, copies of every array), so another thread
    may write it while the session and its training go on.

    `trainer_state`: the run's `Trainer.state_dict()` handed over by its worker (autosave while
    training: `controller.request_state()`); without it a running training is paused for its
    trainer's state and resumed, on this thread."""
    s, m = session, session.model
    assert m is not None
    arrays: dict[str, np.ndarray] = {f"model.{k}": v.copy() for k, v in m.params().items()}
    cell = m.cell
    for k in session_schema.CELL_STATES[cell]:  # h0 (and an LSTM's c0)
        arrays[f"model.{k}"] = getattr(m, k).copy()
    imported = s.imported is not None and s.task is not None and s.task.name in ("series", "text")
    task_doc = None
    if imported:
        t = s.imported
        task_doc = {"name": t.name, "title": t.title, "description": t.description, "architecture": t.architecture,
                    "loss": t.loss, "vocab": t.vocab, "defaults": _json_safe(t.defaults), "params": _json_safe(t.params)}
        arrays["task.x_train"], arrays["task.y_train"] = t.x_train.copy(), t.y_train.copy()
        if t.x_val is not None and t.y_val is not None:
            arrays["task.x_val"], arrays["task.y_val"] = t.x_val.copy(), t.y_val.copy()
    x, y = s.data
    arrays["data.x"] = x.copy()
    if y is not None:
        arrays["data.y"] = y.copy()
    settings = {"optimizer": "adam", "lr": 0.01, "momentum": 0.0, "clip": None, "batch_size": None, "iterations": 500}
    trainer_doc = None
    if controller is not None:
        settings = dict(controller.settings.__dict__)
        trainer = controller.trainer
        if trainer_state is not None:
            meta, tarrays = trainer_state
            trainer_doc = _json_safe(meta)
            arrays.update({f"trainer.{k}": v for k, v in tarrays.items()})
        elif trainer is not None and trainer.iteration > 0:
            was_running = controller.running
            if was_running:
                controller.pause(wait=True)  # the worker owns the trainer while it runs
            trainer = controller.trainer
            meta, tarrays = trainer.state_dict()
            trainer_doc = _json_safe(meta)
            arrays.update({f"trainer.{k}": v for k, v in tarrays.items()})
            if was_running:
                controller.train()
    view_doc = {**s.view_state(), "rolled": False, **(view or {})}
    doc = {
        "saved_by": f"rnnviz {__version__}",
        "config": _config_doc(s.config),
        "source": {"kind": s.source, "label": s.source_label, "imported": imported},
        "task": task_doc,
        "model": {"activation": m.activation, "architecture": m.architecture, "loss": m.loss,
                  "extra_meta": _json_safe(m.extra_meta), **({"cell": cell} if cell != "rnn" else {})},
        "data": {"stored": True, "has_targets": y is not None},
        "training": {"settings": settings, "trainer": trainer_doc},
        "view": view_doc,
    }
    return _json_safe(doc), arrays  # (the trainer's arrays are copies already)


def _config_doc(config: NetworkConfig) -> dict:
    """The config as JSON; the vanilla cell is left implicit (files stay readable by versions
    without cells)."""
    d = asdict(config)
    if d.get("cell") == "rnn":
        del d["cell"]
    return d


def _model_from(m: dict, arrays: dict[str, np.ndarray]):
    """The model a session file's `model` entry and arrays describe (any cell, by name)."""
    cell = m.get("cell", "rnn")
    cls = {"rnn": RNN, "lstm": LSTM, "gru": GRU}[cell]
    names = (*session_schema.CELL_PARAMS[cell], *session_schema.CELL_STATES[cell])
    return cls(**{k: arrays[f"model.{k}"].copy() for k in names}, activation=m["activation"],
               architecture=m["architecture"], loss=m["loss"], extra_meta=dict(m.get("extra_meta", {})))


def save(path: str | os.PathLike, session: Session, controller: TrainingController | None = None, view: dict | None = None) -> None:
    doc, arrays = capture(session, controller, view)
    session_file.write_session(path, doc, arrays)


# restore ---------------------------------------------------------------------------------------
def restore(path: str | os.PathLike, session: Session, controller: TrainingController | None = None) -> dict:
    """Open a session file into `session` (and `controller`). Raises FileFormatError, leaving
    both exactly as they were, when anything is wrong. Returns the view state (e.g. rolled)."""
    p = Path(path)
    f = session_file.read_session(p)
    doc, arrays = f.doc, f.arrays
    try:
        config = NetworkConfig(**doc["config"])
        m = doc["model"]
        model = _model_from(m, arrays)
        if config.cell != model.cell:
            config = replace(config, cell=model.cell)  # the network shown is the file's
        imported = None
        if doc["source"]["imported"]:
            t = doc["task"]
            imported = Task(t["name"], t["title"], t["description"], t["architecture"], t["loss"],
                            arrays["task.x_train"], arrays["task.y_train"], arrays.get("task.x_val"),
                            arrays.get("task.y_val"), vocab=t["vocab"], defaults=t["defaults"], params=t["params"])
        task = imported if imported is not None else make_task(config.task, steps=config.steps, seed=config.seed,
                                                               lag=config.lag)
        arch = config.architecture or task.architecture
        if arch != task.architecture:
            task = task_for_architecture(task, arch)
        if doc["source"]["kind"] == "task" and (model.architecture != arch or model.loss != task.loss):
            raise ValueError(f"the model ({model.architecture}, {model.loss}) does not fit its task ({arch}, {task.loss})")
        if doc["source"]["kind"] == "task" and (task.input_size != model.input_size or task.output_size != model.output_size):
            raise ValueError(f"the model (I={model.input_size}, O={model.output_size}) does not fit its task "
                             f"(I={task.input_size}, O={task.output_size})")
        x = arrays["data.x"]
        y = arrays.get("data.y")
        if is_class_loss(model.loss) and y is not None and (y.dtype.kind not in "iu" or y.ndim != 2):
            raise ValueError("class targets must be whole numbers laid out (T, N)")
        view = doc["view"]
        T = x.shape[0]
        sel = view["selection"]
        if sel is not None:
            Selection(sel["kind"], sel["t"], sel["unit"])
            cell = model.cell
            if (sel["kind"] == "c" and cell != "lstm") or (
                    sel["kind"].startswith("gate:") and sel["kind"][5:] not in getattr(model, "GATES", ())):
                raise ValueError(f"view.selection {sel['kind']!r} is not part of a {cell} cell")
            size = {"x": model.input_size, "h": model.hidden_size, "y": model.output_size}.get(sel["kind"], model.hidden_size)
            if sel["t"] > T or (sel["unit"] is not None and sel["unit"] >= size):
                raise ValueError(f"view.selection {sel} lies outside the network (T={T})")
        trainer = None
        tdoc = doc["training"]["trainer"]
        if controller is not None and tdoc is not None:
            x_val = y_val = None
            if doc["source"]["kind"] == "task" and task.x_val is not None:
                x_val, y_val = task.x_val, task.y_val
            trainer = Trainer(model.copy(), x, y, optimizer=tdoc["optimizer"], lr=tdoc["lr"], momentum=tdoc["momentum"],
                              clip=tdoc["clip"], batch_size=tdoc["batch_size"], seed=tdoc["seed"], tbptt=tdoc["tbptt"],
                              x_val=x_val, y_val=y_val, val_every=tdoc["val_every"])
            trainer.load_state_dict(tdoc, {k[len("trainer."):]: v for k, v in arrays.items() if k.startswith("trainer.")})
            if any(not np.array_equal(trainer.model.params()[k], model.params()[k]) for k in model.params()):
                model.set_params(trainer.model.params())  # the run's weights are the ones shown
        with np.errstate(all="ignore"):
            probe = run(model, x[:, :1], None if y is None else y[:, :1])
        if not np.isfinite(probe.h).all():
            raise ValueError("the saved network gives non-finite hidden states on its data")
    except FileFormatError:
        raise
    except (ValueError, TypeError, KeyError, IndexError) as e:
        raise FileFormatError(p, f"does not describe a usable session ({str(e)[:200]})") from None
    # everything is built and checked: put it in place
    session.restore(config=config, task=task, imported=imported, model=model, x=x, y=y,
                    source=doc["source"]["kind"], source_label=doc["source"]["label"],
                    watched=view["watched"], view=view)
    if controller is not None:
        controller.set_settings(TrainingSettings(**doc["training"]["settings"]))
        if trainer is not None:
            controller.adopt(trainer)
    return view
