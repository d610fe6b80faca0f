"""Fixtures for the app's Qt tests: a session and a main window that stop their timers."""
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
