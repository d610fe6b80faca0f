"""Running a lesson: set the app up as a step says (`apply_step`) and judge its check
(`check_status`, `describe_check` for the words). Everything goes through a `LessonHost`: the
session's API for the network and the playback, the host for the view, the panels and the
training run."""
from __future__ import annotations

from dataclasses import fields

from rnnviz.app.lessons.format import Lesson, config_for, lesson_cell, parse_selection
from rnnviz.app.lessons.host import LessonHost
from rnnviz.app.state.network_config import NetworkConfig
from rnnviz.app.state.selection import Selection


def apply_step(lesson: Lesson, index: int, host: LessonHost) -> list[str]:
    """Set the app up as step `index` (0-based) of `lesson` says. Returns notes for the person
    about what could not be done here (a panel this app does not have)."""
    session = host.session
    setup = lesson.steps[index].setup
    notes: list[str] = []
    target = config_for(lesson.network(index), NetworkConfig())
    if session.imported is not None or session.source != "task":
        session.imported = None  # a lesson brings its own data: drop imported data / a loaded file
        if target == session.config:
            session.rebuild()
    session.set_config(**{f.name: getattr(target, f.name) for f in fields(NetworkConfig)})
    if "theme" in setup:
        session.set_theme(setup["theme"])
    if "presentation" in setup:
        session.set_presentation(setup["presentation"])
    if "position" in setup:
        session.set_position(setup["position"])
    elif "step" in setup:
        t = session.T if setup["step"] == "last" else min(setup["step"], session.T)
        session.go_to(setup["mode"], t)
    elif "mode" in setup:
        session.set_mode(setup["mode"])
    if "select" in setup:
        if setup["select"] is None:
            session.select(None)
        else:
            kind, t, unit = parse_selection(setup["select"])
            t = min(t, session.T)
            if kind == "x" or kind == "y" or kind.startswith("W_"):
                t = max(t, 1)  # only h has a step 0 (h_0)
            session.select(Selection(kind, t, unit))
    if "rolled" in setup:
        host.set_rolled(setup["rolled"])
    for key, visible in (("hide", False), ("show", True)):
        for name in setup.get(key, []):
            if not host.show_dock(name, visible):
                notes.append(f"(The {name} panel is not in this window.)")
    return notes


def check_status(check: dict | None, host: LessonHost) -> bool | None:
    """Whether every condition of `check` holds now (None: no check, or one that cannot be
    judged here, such as training progress without a training run)."""
    if not check:
        return None
    session = host.session
    frame = session.frame
    sel = session.selection
    c = session.config
    results = []
    for key, want in check.items():
        if key == "position_at_least":
            ok = session.position >= want
        elif key == "position_at_most":
            ok = session.position <= want
        elif key == "step_at_least":
            ok = frame.active >= want
        elif key == "step_at_most":
            ok = frame.active <= want
        elif key == "mode":
            ok = session.mode == want
        elif key == "selection_kind":
            ok = sel is not None and sel.kind == want
        elif key == "selection_step":
            ok = sel is not None and sel.t == want
        elif key == "rolled":
            ok = host.is_rolled() == want
        elif key == "task":
            ok = c.task == want and session.imported is None
        elif key == "architecture":
            ok = session.model is not None and session.model.architecture == want
        elif key == "activation":
            ok = c.activation == want
        elif key == "hidden_at_least":
            ok = c.hidden >= want
        elif key == "lag_at_least":
            ok = c.lag >= want
        elif key == "theme":
            ok = session.theme == want
        elif key == "cell":
            ok = lesson_cell(c.cell) == want
        elif key == "iteration_at_least":
            iteration = host.training_iteration()
            if iteration is None:
                return None
            ok = iteration >= want
        else:  # parse_lesson allows no other key
            return None
        results.append(ok)
    return all(results)


_CHECK_WORDS = {
    "position_at_least": "move the timeline to position {} or later",
    "position_at_most": "move the timeline back to position {} or earlier",
    "step_at_least": "reach step {}", "step_at_most": "go back to step {}",
    "mode": "be in the {} pass", "selection_kind": "select a {}", "selection_step": "at step {}",
    "task": "use the {} task", "architecture": "use {}", "activation": "use {}",
    "hidden_at_least": "use at least {} hidden units", "lag_at_least": "set the lag to {} or more",
    "iteration_at_least": "train for at least {} iterations", "theme": "use the {} theme",
    "cell": "use the {} cell",
}


def describe_check(check: dict) -> str:
    """A check in words, for the panel ("Goal: …")."""
    parts = []
    for key, value in check.items():
        if key == "rolled":
            parts.append("roll the network up" if value else "unroll the network")
        else:
            parts.append(_CHECK_WORDS[key].format(value))
    return "; ".join(parts)
