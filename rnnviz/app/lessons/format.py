"""The lesson file format: the dataclasses a lesson is read into, the schema every key is
checked against, and strict loading from resources/lessons/*.json.

A lesson is data (format in resources/lessons/README.md): a title and short steps, each with
text, a `setup` (task, network, view), an optional `ask` and an optional declarative `check` on
the app's state. Nothing in a file is ever evaluated: every key is checked against a fixed table
of names and types, and an unknown key, a wrong type or an unknown task name is a `LessonError`
naming the file, the step and the key.

Setups are cumulative within a lesson: the network of step k is the defaults, then the network
keys of steps 1..k in order (`Lesson.network`, turned into a NetworkConfig by `config_for`).
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rnnviz.engine import ACTIVATIONS, ARCHITECTURES, TASKS, make_task
from rnnviz.app.state.network_config import NetworkConfig
from rnnviz.app.state.session import THEMES

FORMAT = 1


def lessons_dir(checkout: Path | None = None, prefix: str | None = None) -> Path:
    """resources/lessons in a checkout (the README's editable install), else where an installed
    wheel put them (<prefix>/share/rnnviz/lessons, pyproject's data-files)."""
    checkout = checkout or Path(__file__).resolve().parents[3] / "resources" / "lessons"
    installed = Path(prefix or sys.prefix) / "share" / "rnnviz" / "lessons"
    return checkout if checkout.is_dir() or not installed.is_dir() else installed


LESSONS_DIR = lessons_dir()
MAX_FILE_BYTES = 200_000

SELECTION_KINDS = ("x", "h", "y", "W_xh", "W_hh", "W_hy")
CELLS = ("vanilla", "lstm", "gru")
MODES = ("forward", "backward")
# docks a step may show or hide (by these names; unknown names are an error, absent docks are skipped)
DOCKS = {
    "setup": ("setupDock",), "inspector": ("inspectorDock",), "training": ("trainingDock",),
    "loss": ("plot-loss",), "hidden-time": ("plot-hidden-time",), "hidden-training": ("plot-hidden-training",),
    "gradients": ("plot-gradients",), "predictions": ("plot-predictions",), "weights": ("plot-weights",),
    "baseline": ("baselineDock",), "lessons": ("lessonsDock",), "lab": ("labDock", "gradient labDock"),
}
NETWORK_KEYS = ("task", "architecture", "activation", "hidden", "steps", "seed", "lag", "cell")


class LessonError(ValueError):
    """A lesson file is malformed; the message names the file and the key."""


# the schema: key -> (types, required, what it means, for messages) -------------------------------
def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


LESSON_KEYS = {"format": "int", "number": "int", "title": "str", "summary": "str", "steps": "list"}
LESSON_REQUIRED = ("format", "number", "title", "steps")
STEP_KEYS = {"title": "str", "text": "str", "setup": "dict", "ask": "str", "check": "dict"}
STEP_REQUIRED = ("text",)
SETUP_KEYS = {
    # the network (cumulative within a lesson)
    "task": "str", "architecture": "str|null", "activation": "str", "hidden": "int", "steps": "int|null",
    "seed": "int", "lag": "int", "cell": "str",
    # the view (this step only)
    "mode": "str", "step": "int|last", "position": "int", "rolled": "bool", "select": "str|null",
    "show": "list", "hide": "list", "theme": "str", "presentation": "bool",
}
CHECK_KEYS = {
    "position_at_least": "int", "position_at_most": "int", "step_at_least": "int", "step_at_most": "int",
    "mode": "str", "selection_kind": "str", "selection_step": "int", "rolled": "bool", "task": "str",
    "architecture": "str", "activation": "str", "hidden_at_least": "int", "lag_at_least": "int",
    "iteration_at_least": "int", "theme": "str", "cell": "str",
}


def _type_ok(value: Any, spec: str) -> bool:
    for t in spec.split("|"):
        if (t == "int" and _is_int(value)) or (t == "str" and isinstance(value, str)) \
                or (t == "bool" and isinstance(value, bool)) or (t == "list" and isinstance(value, list)) \
                or (t == "dict" and isinstance(value, dict)) or (t == "null" and value is None) \
                or (t == "last" and value == "last"):
            return True
    return False


_TYPE_WORDS = {"int": "a whole number", "str": "text", "bool": "true or false", "list": "a list",
               "dict": "an object {…}", "null": "null", "last": '"last"'}


def _expect(spec: str) -> str:
    return " or ".join(_TYPE_WORDS[t] for t in spec.split("|"))


@dataclass(frozen=True)
class Step:
    text: str
    setup: dict
    title: str = ""
    ask: str = ""
    check: dict | None = None


@dataclass(frozen=True)
class Lesson:
    number: int
    title: str
    steps: tuple[Step, ...]
    summary: str = ""
    path: Path | None = None

    def network(self, index: int) -> dict:
        """The network keys in force at step `index` (0-based): each step's on top of the last."""
        merged: dict = {}
        for step in self.steps[: index + 1]:
            merged.update({k: v for k, v in step.setup.items() if k in NETWORK_KEYS})
        return merged


# reading ------------------------------------------------------------------------------------------
def _check_keys(where: str, obj: dict, table: dict, required: tuple = ()) -> None:
    for key in obj:
        if key not in table:
            raise LessonError(f"{where}: unknown key {key!r}; allowed: {', '.join(table)}")
    for key in required:
        if key not in obj:
            raise LessonError(f"{where}: the key {key!r} is missing")
    for key, value in obj.items():
        if not _type_ok(value, table[key]):
            raise LessonError(f"{where}: {key!r} must be {_expect(table[key])}, got {json.dumps(value)}")


def _one_of(where: str, key: str, value: Any, allowed: tuple | dict) -> None:
    if value not in allowed:
        raise LessonError(f"{where}: {key!r} is {value!r}; choose one of {', '.join(allowed)}")


def _range(where: str, key: str, value: int, lo: int, hi: int | None = None) -> None:
    if value < lo or (hi is not None and value > hi):
        raise LessonError(f"{where}: {key!r} must lie between {lo} and {hi}, got {value}" if hi is not None
                          else f"{where}: {key!r} must be at least {lo}, got {value}")


def parse_selection(text: str) -> tuple[str, int, int | None]:
    """'W_hh:3' -> ("W_hh", 3, None); 'h:2:1' -> ("h", 2, 1): kind, time step, optional unit."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or parts[0] not in SELECTION_KINDS or not all(p.isdigit() for p in parts[1:]):
        raise ValueError(f"a selection is KIND:STEP or KIND:STEP:UNIT with KIND one of "
                         f"{', '.join(SELECTION_KINDS)} (e.g. \"W_hh:3\"), got {text!r}")
    return parts[0], int(parts[1]), (int(parts[2]) if len(parts) == 3 else None)


def _check_setup(where: str, setup: dict) -> None:
    _check_keys(where, setup, SETUP_KEYS)
    if "task" in setup:
        _one_of(where, "task", setup["task"], TASKS)
    if setup.get("architecture") is not None:
        _one_of(where, "architecture", setup["architecture"], ARCHITECTURES)
    if "activation" in setup:
        _one_of(where, "activation", setup["activation"], ACTIVATIONS)
    if "hidden" in setup:
        _range(where, "hidden", setup["hidden"], 1, 64)
    if setup.get("steps") is not None:
        _range(where, "steps", setup["steps"], 1, 200)
    if "seed" in setup:
        _range(where, "seed", setup["seed"], 0)
    if "lag" in setup:
        _range(where, "lag", setup["lag"], 0, 199)
    if "cell" in setup:
        _one_of(where, "cell", setup["cell"], CELLS)
    if "mode" in setup:
        _one_of(where, "mode", setup["mode"], MODES)
    if _is_int(setup.get("step")):
        _range(where, "step", setup["step"], 0)
    if "position" in setup:
        _range(where, "position", setup["position"], 0)
        if "step" in setup or "mode" in setup:
            raise LessonError(f"{where}: give either 'position' or 'mode'/'step', not both")
    if "step" in setup and "mode" not in setup:
        raise LessonError(f"{where}: 'step' needs a 'mode' (forward or backward)")
    if setup.get("select") is not None:
        try:
            parse_selection(setup["select"])
        except ValueError as e:
            raise LessonError(f"{where}: 'select': {e}") from None
    for key in ("show", "hide"):
        for name in setup.get(key, []):
            if not isinstance(name, str):
                raise LessonError(f"{where}: {key!r} must list dock names (text), got {json.dumps(name)}")
            _one_of(where, key, name, DOCKS)
    if "theme" in setup:
        _one_of(where, "theme", setup["theme"], THEMES)


def _check_check(where: str, check: dict) -> None:
    if not check:
        raise LessonError(f"{where}: an empty check; leave 'check' out instead")
    _check_keys(where, check, CHECK_KEYS)
    for key in ("mode",):
        if key in check:
            _one_of(where, key, check[key], MODES)
    if "selection_kind" in check:
        _one_of(where, "selection_kind", check["selection_kind"], SELECTION_KINDS)
    if "task" in check:
        _one_of(where, "task", check["task"], TASKS)
    if "architecture" in check:
        _one_of(where, "architecture", check["architecture"], ARCHITECTURES)
    if "activation" in check:
        _one_of(where, "activation", check["activation"], ACTIVATIONS)
    if "theme" in check:
        _one_of(where, "theme", check["theme"], THEMES)
    if "cell" in check:
        _one_of(where, "cell", check["cell"], CELLS)
    for key, value in check.items():
        if _is_int(value):
            _range(where, key, value, 0)


def parse_lesson(data: Any, path: Path | str = "<lesson>") -> Lesson:
    """A Lesson from parsed JSON, checked strictly (LessonError names `path` and the key)."""
    name = Path(path).name
    if not isinstance(data, dict):
        raise LessonError(f"{name}: a lesson file holds one JSON object {{…}}, got {type(data).__name__}")
    _check_keys(name, data, LESSON_KEYS, LESSON_REQUIRED)
    if data["format"] != FORMAT:
        raise LessonError(f"{name}: 'format' is {data['format']}; this version of rnnviz reads format {FORMAT}")
    _range(name, "number", data["number"], 1)
    if not data["title"].strip():
        raise LessonError(f"{name}: 'title' is empty")
    if not data["steps"]:
        raise LessonError(f"{name}: 'steps' is empty; a lesson needs at least one step")
    steps = []
    network: dict = {}
    for i, raw in enumerate(data["steps"], start=1):
        where = f"{name}, step {i}"
        if not isinstance(raw, dict):
            raise LessonError(f"{where}: a step is an object {{\"text\": …}}, got {json.dumps(raw)[:60]}")
        _check_keys(where, raw, STEP_KEYS, STEP_REQUIRED)
        if not raw["text"].strip():
            raise LessonError(f"{where}: 'text' is empty")
        setup = raw.get("setup", {})
        _check_setup(f"{where}, setup", setup)
        check = raw.get("check")
        if check is not None:
            _check_check(f"{where}, check", check)
        network.update({k: v for k, v in setup.items() if k in NETWORK_KEYS})
        _check_network(where, network)
        steps.append(Step(raw["text"], dict(setup), raw.get("title", ""), raw.get("ask", ""),
                          dict(check) if check is not None else None))
    return Lesson(data["number"], data["title"], tuple(steps), data.get("summary", ""),
                  Path(path) if not isinstance(path, Path) else path)


def _check_network(where: str, network: dict) -> None:
    """The network in force at this step must be one the engine can build (e.g. echo's lag
    below the sequence length)."""
    c = config_for(network, NetworkConfig())
    try:
        make_task(c.task, steps=c.steps, seed=c.seed, lag=c.lag)
    except ValueError as e:
        raise LessonError(f"{where}: the network it sets up cannot be built: {e}") from None


def load_lesson(path: str | Path) -> Lesson:
    p = Path(path)
    try:
        if p.stat().st_size > MAX_FILE_BYTES:
            raise LessonError(f"{p.name}: the file is larger than {MAX_FILE_BYTES:,} bytes; a lesson is short")
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise LessonError(f"{p.name}: cannot be read ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise LessonError(f"{p.name}: is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise LessonError(f"{p.name}: not valid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    return parse_lesson(data, p)


def load_lessons(folder: str | Path = LESSONS_DIR) -> list[Lesson]:
    """Every *.json lesson in `folder`, ordered by number. Two lessons with one number is an error."""
    lessons = [load_lesson(p) for p in sorted(Path(folder).glob("*.json"))]
    lessons.sort(key=lambda lesson: lesson.number)
    for a, b in zip(lessons, lessons[1:]):
        if a.number == b.number:
            raise LessonError(f"{b.path.name}: lesson number {b.number} is also used by {a.path.name}")
    return lessons


def load_lessons_lenient(folder: str | Path = LESSONS_DIR) -> tuple[list[Lesson], list[str]]:
    """Like load_lessons, but a bad file is skipped and reported: (lessons, error messages)."""
    lessons, errors = [], []
    for p in sorted(Path(folder).glob("*.json")):
        try:
            lessons.append(load_lesson(p))
        except LessonError as e:
            errors.append(str(e))
    lessons.sort(key=lambda lesson: lesson.number)
    return lessons, errors


# the network a step sets up ---------------------------------------------------------------------
def config_cell(name: str) -> str:
    """A lesson's cell name ("vanilla", "lstm", "gru") as NetworkConfig.cell ("rnn", ...)."""
    return "rnn" if name == "vanilla" else name


def lesson_cell(name: str) -> str:
    """NetworkConfig.cell as a lesson names it."""
    return "vanilla" if name == "rnn" else name


def config_for(network: dict, base: NetworkConfig) -> NetworkConfig:
    """`base` changed by a lesson's network keys (its cell name translated)."""
    changes = {k: v for k, v in network.items() if k != "cell"}
    if "cell" in network:
        changes["cell"] = config_cell(network["cell"])
    return replace(base, **changes)
