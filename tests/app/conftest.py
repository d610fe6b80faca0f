"""Fixtures for the app's Qt tests: a session, its training controller and a main window, each
stopping its timers and threads on teardown."""
from __future__ import annotations

import pytest


@pytest.fixture
def session(qapp):
    from rnnviz.app.state.network_config import NetworkConfig
    from rnnviz.app.state.session import Session

    s = Session(NetworkConfig(task="sine"))
    yield s
    s.shutdown()


@pytest.fixture
def controller(session):
    """The session's TrainingController; on teardown its worker thread must be gone."""
    import threading

    from rnnviz.app.state.training import TrainingController

    c = TrainingController(session)
    yield c
    c.shutdown()
    assert not any(t.name == "rnnviz-training" and t.is_alive() for t in threading.enumerate())


@pytest.fixture
def window(qtbot, session):
    from rnnviz.app.main_window import MainWindow

    w = MainWindow(session, allow_fullscreen=False)
    w.error_dialogs = False
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    yield w
    session.shutdown()
