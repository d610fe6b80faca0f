"""rnnviz.show(): the app opens on exactly the caller's network and data. The four reference
PyTorch models' window traces agree with autograd to 1e-9; beside a notebook whose Qt loop runs
(simulated: IPython's shell with active_eventloop "qt") show() returns at once with the window
live; in a plain script it blocks until the window closes."""
from __future__ import annotations

import sys
import types

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import rnnviz  # noqa: E402
from rnnviz.api import show as show_module  # noqa: E402
from tests.api.reference import assert_matches_torch, first_sequence  # noqa: E402
from tests.torch_models import ALL, char_rnn, gru_classifier, relu_regression  # noqa: E402


@pytest.fixture
def opened(qapp):
    """Handles to close at the end (each window's close stops its session, training and autosave)."""
    handles = []
    yield handles
    for h in handles:
        h.close()
    show_module.OPEN.clear()


def visible_main_windows(qapp) -> list:
    return [w for w in qapp.topLevelWidgets() if w.isVisible() and type(w).__name__ == "MainWindow"]


@pytest.mark.parametrize("build", ALL, ids=lambda f: f.__name__)
def test_the_window_shows_the_module_as_pytorch_computes_it(qtbot, opened, build):
    ref = build()
    h = rnnviz.show(ref.module, torch.tensor(ref.x), torch.tensor(ref.y), block=False, quiet=True)
    opened.append(h)
    qtbot.waitExposed(h.window)
    assert h.window.isVisible() and h.session is h.window.session
    assert h.session.model.cell == ref.cell and h.session.source == "file"
    # the window shows the first sequence (B = 1): held against autograd on that sequence
    assert h.trace is h.session.trace and h.trace.h.shape[1] == 1
    assert_matches_torch(h.trace, first_sequence(ref))
    # the whole data is the session's (training uses it), in the engine's layout
    x, y = h.session.data
    assert x.shape[1] == (ref.x.shape[0] if ref.batch_first else ref.x.shape[1])


def test_the_report_reaches_the_handle_and_the_status_bar(qtbot, opened):
    ref = char_rnn()
    h = rnnviz.show(ref.module, ref.x, ref.y, block=False, quiet=True)
    opened.append(h)
    assert h.report[0] == "found rnn: nn.RNN(58, 128), readout h2o: nn.Linear(128, 4)"
    assert any(line.startswith("loss: nll") for line in h.report)
    assert "found rnn: nn.RNN(58, 128)" in h.window.statusBar().currentMessage()
    assert "RNN" in repr(h) and "many-to-one" in repr(h) and "nll" in repr(h)


def test_the_handle_s_trace_follows_the_window(qtbot, opened):
    ref = gru_classifier()
    h = rnnviz.show(ref.module, ref.x, ref.y, block=False, quiet=True)
    opened.append(h)
    first = h.trace
    h.session.set_watched(2)  # the person picks another sequence
    assert h.trace is not first
    assert_matches_torch(h.trace, first_sequence(type(ref)(**{**ref.__dict__, "x": ref.x[:, 2:], "y": ref.y[:, 2:]})))


def test_training_in_the_window_leaves_the_caller_s_module_alone(qtbot, opened):
    ref = relu_regression()
    before = {k: v.detach().clone() for k, v in ref.module.state_dict().items()}
    h = rnnviz.show(ref.module, ref.x, ref.y, block=False, quiet=True)
    opened.append(h)
    params = h.session.model.params()
    h.session.set_params({k: v + 1.0 for k, v in params.items()})
    assert all(torch.equal(v, before[k]) for k, v in ref.module.state_dict().items())


def fake_ipython(monkeypatch, loop: str | None) -> None:
    """IPython as a notebook with `%gui qt` shows it: a shell whose active_eventloop is "qt"."""
    shell = types.SimpleNamespace(active_eventloop=loop)
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))


def test_beside_a_notebook_with_the_qt_loop_running_show_returns_at_once(qtbot, qapp, monkeypatch, opened):
    from PySide6.QtCore import QTimer

    fake_ipython(monkeypatch, "qt")
    assert show_module.qt_loop_in_ipython()
    ran_inside: list[bool] = []
    calling = [True]

    before = visible_main_windows(qapp)

    def during_show() -> None:  # runs only if show() ran an event loop of its own
        ran_inside.append(calling[0])
        if calling[0]:
            for w in visible_main_windows(qapp):
                if w not in before:
                    w.close()  # so that a blocking show() returns and the test fails instead of hanging

    QTimer.singleShot(0, during_show)
    ref = char_rnn()
    h = rnnviz.show(ref.module, ref.x, ref.y, quiet=True)  # block=None: decided by the loop found
    calling[0] = False
    opened.append(h)
    assert h.window.isVisible()
    qtbot.waitUntil(lambda: bool(ran_inside))  # the notebook's loop runs the timer afterwards
    assert ran_inside == [False]
    assert h in show_module.OPEN  # held, so a dropped handle does not take the window with it


def test_ipython_without_the_qt_loop_is_a_plain_script(monkeypatch):
    fake_ipython(monkeypatch, None)
    assert not show_module.qt_loop_in_ipython()
    fake_ipython(monkeypatch, "tk")
    assert not show_module.qt_loop_in_ipython()
    monkeypatch.delitem(sys.modules, "IPython")
    assert not show_module.qt_loop_in_ipython()


def test_in_a_script_show_blocks_until_the_window_closes(qtbot, qapp, opened):
    from PySide6.QtCore import QTimer

    seen: list = []
    before = visible_main_windows(qapp)

    def close_it() -> None:  # runs inside show()'s event loop
        windows = [w for w in visible_main_windows(qapp) if w not in before]
        seen.append(len(windows))
        for w in windows:
            w.close()

    QTimer.singleShot(0, close_it)
    ref = relu_regression()
    h = rnnviz.show(ref.module, ref.x, ref.y, quiet=True)
    assert seen == [1]  # the window was open while show() ran
    assert not h.window.isVisible()
    assert h not in show_module.OPEN
    assert_matches_torch(h.trace, first_sequence(ref))  # the trace outlives the window


def test_an_rnnviz_model_and_its_data(qtbot, opened):
    from rnnviz.engine import init_gru, make_task, run

    task = make_task("hello")
    model = init_gru(task.input_size, 5, task.output_size, loss="cross-entropy", seed=1)
    h = rnnviz.show(model, task.x_train, task.y_train, block=False, quiet=True)
    opened.append(h)
    want = run(model, task.x_train[:, :1], task.y_train[:, :1])
    assert h.trace.loss == want.loss and np.array_equal(h.trace.h, want.h)
    assert h.model is not model


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the display variables are Linux's")
def test_without_a_display_show_says_so_and_opens_nothing(qapp, monkeypatch):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    before = visible_main_windows(qapp)
    ref = gru_classifier()
    with pytest.raises(RuntimeError, match=r"needs a display.*use rnnviz.trace\(\)"):
        rnnviz.show(ref.module, ref.x, ref.y, block=False, quiet=True)
    assert visible_main_windows(qapp) == before


def test_a_network_the_session_refuses_raises_its_message_and_opens_nothing(qapp, monkeypatch):
    from rnnviz.app.state.session import Session

    def refuse(self, model, x=None, y=None, *, label, report=None):
        self.error.emit(f"{label}: the session cannot show it")
        return False

    monkeypatch.setattr(Session, "use_model", refuse)
    before = visible_main_windows(qapp)
    ref = gru_classifier()
    with pytest.raises(ValueError, match=r"^EveryStep \(torch module\): the session cannot show it$"):
        rnnviz.show(ref.module, ref.x, ref.y, block=False, quiet=True)
    assert visible_main_windows(qapp) == before
