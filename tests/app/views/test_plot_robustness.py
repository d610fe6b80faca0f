"""Plots do not rely on the order of signals, and a plot that fails to draw takes neither the
app nor training down (issue 13)."""
from __future__ import annotations

import sys

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow

from rnnviz.app.state.network_config import NetworkConfig
from rnnviz.app.state.session import Session
from rnnviz.app.state.training import TrainingController
from rnnviz.app.views.plots import HiddenTimePlot, WeightsPlot, make_plot_docks

WAIT = 20_000


@pytest.fixture
def setup(qtbot):
    session = Session(NetworkConfig(task="sine", hidden=3))
    controller = TrainingController(session)
    window = QMainWindow()
    window.resize(1400, 1000)
    qtbot.addWidget(window)
    docks = make_plot_docks(session, controller, window)
    for d in docks:  # all side by side: every plot on screen
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, d)
    window.show()
    qtbot.waitExposed(window)
    plots = {type(d.widget()): d.widget() for d in docks}
    yield session, controller, plots
    controller.shutdown()
    session.shutdown()


def test_a_trace_of_a_new_layout_before_network_changed_rebuilds_the_plot(setup):
    session, _, plots = setup
    plot = plots[HiddenTimePlot]
    assert len(plot.lines) == 3
    # the new network (H = 2) is in place, but networkChanged has not reached the plots yet:
    # traceChanged comes first (as when a session was opened while the plot held H = 3 lines)
    session.blockSignals(True)
    session.set_config(hidden=2)
    session.blockSignals(False)
    session.traceChanged.emit()
    assert len(plot.lines) == 2
    np.testing.assert_array_equal(plot.h, session.trace.h[:, 0, :])
    np.testing.assert_array_equal(plots[WeightsPlot].plotted["W_hh"], session.model.W_hh)


def test_a_plot_that_raises_is_reported_once_and_training_keeps_running(setup, qtbot, monkeypatch):
    session, controller, plots = setup
    plot = plots[HiddenTimePlot]
    reported = []
    monkeypatch.setattr(sys, "excepthook", lambda etype, value, tb: reported.append(f"{etype.__name__}: {value}"))
    good = HiddenTimePlot.draw_trace
    broken = {"on": True}

    def draw_trace(self):
        if broken["on"] and self is plot:
            raise ValueError("broken drawing")
        good(self)

    monkeypatch.setattr(HiddenTimePlot, "draw_trace", draw_trace)
    assert plot.is_on_screen(), [p.is_on_screen() for p in plots.values()]
    controller.set_budget(None)
    controller.train()
    qtbot.waitUntil(lambda: len(reported) > 0, timeout=WAIT)
    it = controller.iteration
    qtbot.waitUntil(lambda: controller.iteration >= it + 60, timeout=WAIT)  # many snapshots later
    assert controller.running  # the failing plot did not stop the run
    assert reported == ["ValueError: broken drawing"]  # shown once, not once per snapshot
    broken["on"] = False  # the plot recovers on its next update
    it = controller.iteration
    qtbot.waitUntil(lambda: controller.iteration >= it + 20, timeout=WAIT)
    controller.pause(wait=True)
    qtbot.waitUntil(lambda: controller.state == "paused", timeout=WAIT)
    np.testing.assert_array_equal(plot.h, session.trace.h[:, 0, :])
    assert reported == ["ValueError: broken drawing"]
