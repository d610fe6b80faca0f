"""The main window: every control changes the session state it should; keys do what buttons do."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from rnnviz.app.state import playback


def test_window_opens_on_the_sine_demo_with_a_trace(window, session):
    assert session.config.task == "sine"
    assert session.trace is not None and session.T == 25
    assert "Sine" in window.windowTitle()
    assert window.inspector_dock.isVisible() and window.setup_dock.isVisible()


def test_play_button_sets_playing_and_pause_clears_it(window, session, qtbot):
    qtbot.mouseClick(window.transport.play_button, Qt.LeftButton)
    assert session.playing
    qtbot.mouseClick(window.transport.play_button, Qt.LeftButton)
    assert not session.playing


def test_step_buttons_move_the_position_by_one(window, session, qtbot):
    session.set_position(5)
    qtbot.mouseClick(window.transport.step_forward_button, Qt.LeftButton)
    assert session.position == 6
    qtbot.mouseClick(window.transport.step_back_button, Qt.LeftButton)
    qtbot.mouseClick(window.transport.step_back_button, Qt.LeftButton)
    assert session.position == 4


def test_to_start_and_to_end_buttons(window, session, qtbot):
    session.set_position(5)
    qtbot.mouseClick(window.transport.to_end_button, Qt.LeftButton)
    assert session.position == session.frame_count - 1
    qtbot.mouseClick(window.transport.to_start_button, Qt.LeftButton)
    assert session.position == 0


def test_speed_control_changes_session_speed(window, session):
    combo = window.transport.speed_combo
    combo.setCurrentIndex(combo.findData(12.0))
    assert session.speed == 12.0
    session.set_speed(0.5)
    assert combo.currentText() == "0.5 steps/s"


def test_slider_scrubs_to_any_position_of_either_pass(window, session):
    window.transport.slider.setValue(session.T + 3)
    assert session.position == session.T + 3
    assert session.mode == "backward"
    assert window.transport.position_label.text() == f"Backward · dL/dh_{session.T - 2}"
    window.transport.slider.setValue(5)
    assert window.transport.position_label.text() == "Forward · step 5 of 25"


def test_loop_toggle_and_mode_toggle(window, session, qtbot):
    qtbot.mouseClick(window.transport.loop_button, Qt.LeftButton)
    assert session.loop
    session.set_position(3)
    qtbot.mouseClick(window.transport.backward_button, Qt.LeftButton)
    assert session.mode == "backward" and session.position == session.T + 1
    qtbot.mouseClick(window.transport.forward_button, Qt.LeftButton)
    assert session.mode == "forward" and session.position == 0


def test_playback_advances_under_the_event_loop(window, session, qtbot):
    session.to_start()
    session.set_speed(30.0)
    window.transport.play_button.click()
    qtbot.waitUntil(lambda: session.position > 0, timeout=5000)
    session.pause()
    assert not session.playing


@pytest.mark.parametrize("key, check", [
    (Qt.Key_Right, lambda s, p0: s.position == p0 + 1),
    (Qt.Key_Left, lambda s, p0: s.position == p0 - 1),
    (Qt.Key_Home, lambda s, p0: s.position == 0),
    (Qt.Key_End, lambda s, p0: s.position == s.frame_count - 1),
    (Qt.Key_Plus, lambda s, p0: s.speed == playback.faster(playback.DEFAULT_SPEED)),
    (Qt.Key_Minus, lambda s, p0: s.speed == playback.slower(playback.DEFAULT_SPEED)),
    (Qt.Key_B, lambda s, p0: s.mode == "backward"),
    (Qt.Key_L, lambda s, p0: s.loop),
])
def test_keyboard_shortcuts_do_what_the_buttons_do(window, session, qtbot, key, check):
    session.set_position(5)
    qtbot.keyClick(window, key)
    assert check(session, 5)


def test_space_toggles_play(window, session, qtbot):
    qtbot.keyClick(window, Qt.Key_Space)
    assert session.playing
    qtbot.keyClick(window, Qt.Key_Space)
    assert not session.playing


def test_f11_enters_and_esc_leaves_presentation_mode(window, session, qtbot):
    qtbot.keyClick(window, Qt.Key_F11)
    assert session.presentation
    assert window.font().pointSizeF() > 15
    qtbot.keyClick(window, Qt.Key_Escape)
    assert not session.presentation


def test_h_hides_the_controls(window, session, qtbot):
    qtbot.keyClick(window, Qt.Key_H)
    assert not window.transport_bar.isVisible() and not window.setup_dock.isVisible()
    qtbot.keyClick(window, Qt.Key_H)
    assert window.transport_bar.isVisible()


def test_fit_and_zoom_shortcuts_reach_the_view(window, session, qtbot, monkeypatch):
    calls = []
    monkeypatch.setattr(window.view, "fit_to_window", lambda: calls.append("fit"))
    monkeypatch.setattr(window.view, "zoom_in", lambda: calls.append("in"))
    qtbot.keyClick(window, Qt.Key_0, Qt.ControlModifier)
    window.header.zoom_in_button.click()
    window.header.fit_button.click()
    assert calls == ["fit", "in", "fit"]


def test_theme_menu_and_rolled_toggle(window, session):
    window.theme_actions["dark"].trigger()
    assert session.theme == "dark"
    window.theme_actions["contrast"].trigger()
    assert session.theme == "contrast"
    window.header.rolled_button.click()
    assert window.view.is_rolled() and window.rolled_action.isChecked()
    window.rolled_action.trigger()
    assert not window.view.is_rolled() and not window.header.rolled_button.isChecked()


def test_error_reaches_status_bar_and_is_recorded(window, session):
    session.error.emit("something went wrong")
    assert window.last_error == "something went wrong"
    assert "something went wrong" in window.status.error_label.text()


def test_error_dialog_does_not_block(window, session, qtbot):
    window.error_dialogs = True
    session.error.emit("boom")
    assert window._error_box is not None and window._error_box.isVisible()
    window._error_box.close()


def test_loading_a_model_file_shows_exactly_that_network(window, session, tmp_path):
    from rnnviz.engine import init_rnn, save_model

    model = init_rnn(1, 5, 1, activation="relu", architecture="many-to-many", loss="mse", seed=7)
    path = tmp_path / "m.npz"
    save_model(model, path)
    session.load_model_file(path)
    assert session.source == "file" and session.trace.hidden_size == 5
    np.testing.assert_array_equal(session.trace.params["W_hh"], model.W_hh)
    assert "m.npz" in window.windowTitle()
    assert window.inspector.numbers["h[0]"] == session.trace.h[session.frame.active, 0, 0]


def test_a_malformed_model_file_shows_an_error_and_changes_nothing(window, session, tmp_path):
    before = session.trace
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"this is not a zip file")
    session.load_model_file(bad)
    assert session.trace is before and session.source == "task"
    assert window.last_error and "bad.npz" in window.last_error


def test_exception_hook_reports_and_keeps_running(window):
    from rnnviz.app.main import ExceptionHook

    hook = ExceptionHook(window)
    try:
        raise RuntimeError("slot exploded")
    except RuntimeError as e:
        hook(type(e), e, e.__traceback__)
    assert "slot exploded" in window.last_error


def test_presentation_mode_hides_the_setup_panel_and_brings_it_back(window, session):
    session.set_presentation(True)
    assert not window.setup_dock.isVisible() and window.inspector_dock.isVisible()
    session.set_presentation(False)
    assert window.setup_dock.isVisible()


def test_hide_controls_leaves_only_the_network(window, session):
    """H: every panel, the inspector too, goes, and comes back as it was (issue 12)."""
    docks = lambda: {d.objectName() for d in window.findChildren(type(window.setup_dock)) if d.isVisible()}  # noqa: E731
    before = docks()
    assert {"setupDock", "trainingDock", "inspectorDock"} <= before
    window.set_controls_hidden(True)
    assert docks() == set() and not window.transport_bar.isVisible()
    window.set_controls_hidden(False)
    assert docks() == before


def test_presentation_gives_the_room_to_the_network_and_brings_the_panels_back(window, session):
    before = {d.objectName() for d in window.findChildren(type(window.setup_dock)) if d.isVisible()}
    session.set_presentation(True)
    shown = {d.objectName() for d in window.findChildren(type(window.setup_dock)) if d.isVisible()}
    assert shown == {"inspectorDock"} and window.transport_bar.isVisible()  # controls stay unless H
    window.set_controls_hidden(True)
    window.set_controls_hidden(False)
    assert {d.objectName() for d in window.findChildren(type(window.setup_dock)) if d.isVisible()} == shown
    session.set_presentation(False)
    assert {d.objectName() for d in window.findChildren(type(window.setup_dock)) if d.isVisible()} == before
