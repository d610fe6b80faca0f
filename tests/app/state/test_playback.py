"""The playback timeline and the session's playback state, without timers."""
import pytest

from rnnviz.app.state import playback
from rnnviz.app.state.network_config import NetworkConfig
from rnnviz.app.state.selection import Selection
from rnnviz.app.state.session import Session


def test_timeline_covers_forward_then_backward():
    T = 4
    frames = [playback.frame_at(p, T) for p in range(playback.frame_count(T))]
    assert [f.mode for f in frames] == ["forward"] * 5 + ["backward"] * 4
    assert [f.active for f in frames] == [0, 1, 2, 3, 4, 4, 3, 2, 1]
    assert [f.backward_from for f in frames[5:]] == [4, 3, 2, 1]
    for mode in ("forward", "backward"):
        for step in range(1, T + 1):
            assert playback.frame_at(playback.position_of(mode, step, T), T).active == step


def test_advance_stops_at_the_end_unless_looping():
    assert playback.advance(7, 4, 1, loop=False) == (8, True)
    assert playback.advance(8, 4, 1, loop=False) == (8, False)
    assert playback.advance(8, 4, 1, loop=True) == (0, True)
    assert playback.advance(0, 4, -1, loop=False) == (0, False)
    assert playback.advance(3, 4, 3, loop=False) == (6, True)  # a dropped frame jumps two steps


def test_speed_steps_cover_half_a_step_to_thirty_steps_per_second():
    assert playback.SPEEDS[0] == 0.5 and playback.SPEEDS[-1] == 30
    assert playback.faster(3.0) == 5.0 and playback.slower(3.0) == 2.0
    assert playback.faster(30.0) == 30.0 and playback.slower(0.5) == 0.5


@pytest.fixture
def session(qapp):
    s = Session(NetworkConfig(task="sine", hidden=4, steps=6))
    yield s
    s.shutdown()


def test_session_opens_on_the_finished_forward_pass(session):
    assert session.T == 6 and session.trace.h.shape == (7, 1, 4)
    assert session.frame.mode == "forward" and session.frame.active == 6


def test_step_and_mode_change_the_position(session, qtbot):
    with qtbot.waitSignal(session.positionChanged):
        session.to_start()
    assert session.position == 0
    session.step_forward()
    assert session.position == 1
    session.step_back()
    session.step_back()
    assert session.position == 0
    session.set_mode("backward")
    assert session.frame.mode == "backward" and session.frame.active == 6
    session.to_end()
    assert session.frame.active == 1 and session.position == session.frame_count - 1


def test_clock_tick_advances_and_stops_at_the_end(session):
    session.to_start()
    session.play()
    assert session.playing
    session.advance_clock(3)
    assert session.position == 3
    session.advance_clock(100)
    assert session.position == session.frame_count - 1 and not session.playing


def test_playing_advances_the_animation(session, qtbot):
    session.to_start()
    session.set_speed(30)
    session.play()
    qtbot.waitUntil(lambda: session.position >= 2, timeout=5000)
    session.pause()
    assert not session.playing


def test_config_change_builds_a_new_trace_and_bad_config_keeps_the_old(session, qtbot):
    with qtbot.waitSignal(session.networkChanged):
        session.set_config(hidden=5, architecture="many-to-one")
    assert session.trace.h.shape[2] == 5 and session.trace.architecture == "many-to-one"
    before = session.trace
    errors = []
    session.error.connect(errors.append)
    session.set_config(task="echo", lag=50, steps=10)
    assert errors and "lag" in errors[0]
    assert session.trace is before and session.config.task == "sine"


def test_selection_emits_only_on_change(session, qtbot):
    seen = []
    session.selectionChanged.connect(seen.append)
    session.select(Selection("W_hh", 3))
    session.select(Selection("W_hh", 3))
    assert seen == [Selection("W_hh", 3)]


def test_loading_a_malformed_model_leaves_the_session_unchanged(session, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip at all")
    errors = []
    session.error.connect(errors.append)
    model, trace = session.model, session.trace
    session.load_model_file(bad)
    assert errors and str(bad) in errors[0]
    assert session.model is model and session.trace is trace


def test_loading_a_model_file_shows_that_network(session, tmp_path):
    from rnnviz.engine import init_rnn, save_model

    m = init_rnn(1, 3, 1, activation="relu", seed=7)
    save_model(m, tmp_path / "m.npz")
    session.load_model_file(tmp_path / "m.npz")
    assert session.model.hidden_size == 3 and session.model.activation == "relu"
    assert (session.trace.params["W_hh"] == m.W_hh).all()
