"""Lessons: every shipped file loads, each step sets up what it says (driven through a fake
LessonHost, no window), bad files give clear messages, and checks tick when their condition
holds."""
from __future__ import annotations

import json

import pytest

from rnnviz.app.lessons import format as L
from rnnviz.app.lessons.markup import render_markup
from rnnviz.app.lessons.runner import apply_step, check_status
from rnnviz.app.state.selection import Selection
from tests.app.lessons.fake_host import FakeHost

SHIPPED = L.load_lessons()


@pytest.fixture
def host(session):
    return FakeHost(session)


def test_eight_lessons_ship_in_order():
    assert [lesson.number for lesson in SHIPPED] == list(range(1, 9))
    assert all(lesson.steps for lesson in SHIPPED)
    titles = " ".join(lesson.title.lower() for lesson in SHIPPED)
    for word in ("memory", "unrolling", "architectures", "forward", "backpropagation", "vanishing", "gates", "ar"):
        assert word in titles


@pytest.mark.parametrize("lesson", SHIPPED, ids=lambda lesson: f"lesson{lesson.number}")
def test_every_step_sets_up_what_it_says(session, host, lesson):
    for i, step in enumerate(lesson.steps):
        assert apply_step(lesson, i, host) == []
        net = lesson.network(i)
        c = session.config
        assert session.imported is None
        if "task" in net:
            assert c.task == net["task"]
            assert session.task.name == net["task"]
        for key in ("activation", "hidden", "seed", "lag", "steps"):
            if key in net:
                assert getattr(c, key) == net[key], (i, key)
        if "architecture" in net:
            want = net["architecture"] or session.task.architecture
            assert session.model.architecture == want
        s = step.setup
        T = session.T
        if "position" in s:
            assert session.position == s["position"]
        elif "step" in s:
            t = T if s["step"] == "last" else min(s["step"], T)
            assert session.mode == s["mode"]
            if s["mode"] == "forward" or t >= 1:
                assert session.frame.active == t
        elif "mode" in s:
            assert session.mode == s["mode"]
        if "select" in s:
            if s["select"] is None:
                assert session.selection is None
            else:
                kind, t, _ = L.parse_selection(s["select"])
                assert session.selection == Selection(kind, min(t, T))
        if "theme" in s:
            assert session.theme == s["theme"]
        if "rolled" in s:
            assert host.rolled == s["rolled"]
        for name in s.get("show", []):
            assert host.shown[name] is True
        for name in s.get("hide", []):
            assert host.shown[name] is False


def test_setups_are_cumulative_within_a_lesson(session, host):
    lesson = next(x for x in SHIPPED if x.number == 6)
    apply_step(lesson, 2, host)  # jump straight to step 3
    assert (session.config.task, session.config.lag, session.config.activation) == ("echo", 8, "relu")
    apply_step(lesson, 0, host)  # back to step 1: lag 3 and tanh again
    assert (session.config.lag, session.config.activation, session.config.hidden) == (3, "tanh", 16)


def test_a_step_that_keeps_the_network_keeps_its_weights(session, host):
    lesson = next(x for x in SHIPPED if x.number == 4)
    apply_step(lesson, 0, host)
    model = session.model
    apply_step(lesson, 1, host)
    assert session.model is model
    assert session.mode == "forward" and session.frame.active == 2


def test_lesson_steps_in_the_window_show_docks_and_roll(window):
    host = window.lesson_host
    lesson = next(x for x in SHIPPED if x.number == 2)
    apply_step(lesson, 0, host)
    assert window.view.is_rolled() and window.header.rolled_button.isChecked()
    assert check_status(lesson.steps[0].check, host) is False
    window.set_rolled(False)
    assert check_status(lesson.steps[0].check, host) is True
    window.inspector_dock.hide()
    apply_step(next(x for x in SHIPPED if x.number == 4), 0, host)
    assert window.inspector_dock.isVisible()
    assert host.show_dock("baseline", True) and window.baseline_dock.isVisible()
    assert not host.show_dock("lab", True)  # the lab is a window of its own, not a dock


def test_a_panel_the_app_lacks_is_a_note_not_an_error(session):
    lesson = next(x for x in SHIPPED if any(s.setup.get("show") for s in x.steps))
    i = next(i for i, s in enumerate(lesson.steps) if s.setup.get("show"))
    name = lesson.steps[i].setup["show"][0]
    notes = apply_step(lesson, i, FakeHost(session, docks=()))
    assert f"(The {name} panel is not in this window.)" in notes


# malformed files ------------------------------------------------------------------------------
GOOD = {"format": 1, "number": 3, "title": "T", "steps": [{"text": "hello", "setup": {"task": "sine"}}]}


def write(tmp_path, data, name="bad.json"):
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return p


def with_step(**step):
    return {**GOOD, "steps": [{"text": "x", **step}]}


@pytest.mark.parametrize("data, words", [
    ({**GOOD, "colour": "red"}, ["bad.json", "unknown key 'colour'"]),
    (with_step(setup={"task": "sine", "speed": 3}), ["bad.json, step 1, setup", "unknown key 'speed'"]),
    (with_step(setup={"task": "fibonacci"}), ["bad.json, step 1, setup", "'task' is 'fibonacci'", "sine"]),
    (with_step(setup={"hidden": "8"}), ["'hidden' must be a whole number", '"8"']),
    (with_step(setup={"hidden": True}), ["'hidden' must be a whole number"]),
    (with_step(setup={"select": "W_qq:3"}), ["'select'", "W_qq:3"]),
    (with_step(setup={"step": 3}), ["'step' needs a 'mode'"]),
    (with_step(setup={"show": ["plots"]}), ["'show' is 'plots'"]),
    (with_step(setup={"task": "echo", "steps": 5, "lag": 7}), ["cannot be built", "lag"]),
    (with_step(check={"weights_at_least": 3}), ["check", "unknown key 'weights_at_least'"]),
    (with_step(check={"mode": "sideways"}), ["'mode' is 'sideways'"]),
    (with_step(check={}), ["empty check"]),
    ({**GOOD, "steps": [{"setup": {}}]}, ["step 1", "'text' is missing"]),
    ({**GOOD, "steps": []}, ["'steps' is empty"]),
    ({k: v for k, v in GOOD.items() if k != "title"}, ["'title' is missing"]),
    ({**GOOD, "format": 2}, ["format 1"]),
    ([1, 2], ["one JSON object"]),
    ('{"format": 1, "number": ', ["not valid JSON", "line 1"]),
    ('{"format": 1, "__import__": "os"}', ["unknown key '__import__'"]),
])
def test_malformed_lessons_give_clear_errors(tmp_path, data, words):
    with pytest.raises(L.LessonError) as err:
        L.load_lesson(write(tmp_path, data))
    for w in words:
        assert w in str(err.value)


def test_duplicate_numbers_are_an_error_and_lenient_loading_skips_bad_files(tmp_path):
    write(tmp_path, GOOD, "a.json")
    write(tmp_path, GOOD, "b.json")
    with pytest.raises(L.LessonError, match="number 3 is also used by a.json"):
        L.load_lessons(tmp_path)
    write(tmp_path, {**GOOD, "number": 4}, "b.json")
    write(tmp_path, {**GOOD, "nmber": 5}, "c.json")
    lessons, errors = L.load_lessons_lenient(tmp_path)
    assert [x.number for x in lessons] == [3, 4]
    assert len(errors) == 1 and "c.json" in errors[0] and "'nmber'" in errors[0]


def test_markup_is_escaped_before_rendering():
    html = render_markup("**a** <b>x</b> & `<i>` h_t\n\n- one\n- two")
    assert "<b>a</b>" in html and "&lt;b&gt;x&lt;/b&gt;" in html and "&amp;" in html
    assert "<code>&lt;i&gt;</code>" in html and "h<sub>t</sub>" in html
    assert "<ul><li>one</li><li>two</li></ul>" in html


# checks -----------------------------------------------------------------------------------------
def test_check_ticks_when_satisfied(session, host):
    check = {"position_at_least": 10, "mode": "forward"}
    session.set_position(3)
    assert check_status(check, host) is False
    session.set_position(10)
    assert check_status(check, host) is True
    session.set_mode("backward")
    assert check_status(check, host) is False
    assert check_status({"mode": "backward"}, host) is True
    assert check_status({"selection_kind": "W_hh"}, host) is False
    session.select(Selection("W_hh", 2))
    assert check_status({"selection_kind": "W_hh", "selection_step": 2}, host) is True
    assert check_status(None, host) is None
    assert check_status({"iteration_at_least": 5}, host) is None  # no training run to look at
    assert check_status({"rolled": True}, host) is False
    host.rolled = True
    assert check_status({"rolled": True}, host) is True


def test_iteration_check_follows_training(session):
    from rnnviz.app.state.training import TrainingController

    c = TrainingController(session)
    host = FakeHost(session, controller=c)
    check = {"iteration_at_least": 2}
    assert check_status(check, host) is False
    c.step()
    c.step()
    assert check_status(check, host) is True
    c.shutdown()


def test_panel_steps_through_a_lesson_and_ticks_the_check(qtbot, window):
    panel = window.lessons_panel
    assert window.lessons_dock.widget() is panel and panel.lesson_combo.count() == 8
    panel.open_lesson(3)  # lesson 4: forward formulas
    assert window.session.config.hidden == 3 and window.session.selection == Selection("h", 1)
    assert not panel.back_button.isEnabled()
    panel.next()
    assert panel.index == 1 and panel.progress.text() == "step 2 of 3"
    assert panel.status is False and "Goal" in panel.check_label.text()
    window.session.go_to("forward", 4)
    assert panel.status is True and "✔" in panel.check_label.text()
    panel.back()
    assert panel.index == 0


def test_lessons_are_found_in_a_checkout_and_in_an_installed_wheel(tmp_path):
    # the README's editable install reads resources/lessons; a wheel puts them in <prefix>/share
    assert L.LESSONS_DIR == L.lessons_dir() and L.LESSONS_DIR.is_dir()
    installed = tmp_path / "share" / "rnnviz" / "lessons"
    installed.mkdir(parents=True)
    assert L.lessons_dir(checkout=tmp_path / "no-checkout", prefix=str(tmp_path)) == installed
    checkout = tmp_path / "resources" / "lessons"
    checkout.mkdir(parents=True)
    assert L.lessons_dir(checkout=checkout, prefix=str(tmp_path)) == checkout
