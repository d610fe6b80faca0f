"""Plots readable in their dock: the eigenvalue plot framed on the unit circle with the outliers
still shown (on the frame's edge, with a note), the gradient-flow plot not packing many decades
into a few pixels."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow

from rnnviz.app.state.network_config import NetworkConfig
from rnnviz.app.state.session import Session
from rnnviz.app.state.training import TrainingController
from rnnviz.app.views.plots import WeightsPlot, make_plot_docks
from rnnviz.app.views.plots.weights import EIGEN_MAX_RADIUS, EIGEN_MIN_RADIUS, eigen_frame


@pytest.fixture
def plots(qtbot, request):
    session = Session(NetworkConfig(task="sine", architecture=getattr(request, "param", None)))
    controller = TrainingController(session)
    window = QMainWindow()
    window.resize(1400, 1000)
    qtbot.addWidget(window)
    docks = make_plot_docks(session, controller, window)
    for d in docks:
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, d)
    window.show()
    qtbot.waitExposed(window)
    yield session, controller, {type(d.widget()): d.widget() for d in docks}
    controller.shutdown()
    session.shutdown()


def test_eigen_frame_follows_most_eigenvalues_not_the_outliers():
    small = np.array([0.5, -0.3 + 0.2j, -0.3 - 0.2j, 0.1, 0.8, -0.6, 0.2j, -0.2j, 0.4, 0.05])
    R, out = eigen_frame(small)
    assert R == EIGEN_MIN_RADIUS and not out.any()  # the unit circle, whole
    with_outliers = np.concatenate([small[:8], [25.0, -20.0 + 3j]])
    R, out = eigen_frame(with_outliers)
    assert R == EIGEN_MIN_RADIUS  # two runaways of ten do not move the frame
    assert out.tolist() == [False] * 8 + [True, True]
    R, out = eigen_frame(np.array([1.6, -1.5, 1.2j, -1.2j]))  # a little beyond 1: all in view
    assert R >= 1.6 and not out.any()
    R, _ = eigen_frame(np.full(8, 40.0))  # all far out: the frame stops at 3, all on the edge
    assert R == EIGEN_MAX_RADIUS


def test_eigenvalue_plot_is_framed_on_the_unit_circle_with_outliers_on_the_edge(plots):
    session, _, p = plots
    plot: WeightsPlot = p[WeightsPlot]
    H = session.model.hidden_size
    params = {k: v.copy() for k, v in session.model.params().items()}
    lam = np.array([25.0, -20.0] + [0.9, -0.7, 0.5, 0.3, -0.2, 0.1][: H - 2])
    params["W_hh"] = np.diag(lam)
    session.set_params(params)
    np.testing.assert_allclose(np.sort(plot.eigenvalues.real), np.sort(lam))
    (x0, x1), (y0, y1) = plot.eig_plot.getViewBox().viewRange()
    R = plot.eig_radius
    assert R == EIGEN_MIN_RADIUS  # framed on the unit circle despite |λ| = 25
    assert y0 == pytest.approx(-R) and y1 == pytest.approx(R) and x0 <= -R and x1 >= R  # aspect kept
    xs, ys = plot.eig.getData()
    np.testing.assert_allclose(np.sort(xs), np.sort(lam[2:]))  # the inside ones where they are
    ox, oy = plot.eig_outside.getData()
    assert len(ox) == 2
    np.testing.assert_allclose(np.hypot(ox, oy), 0.94 * R)  # the outliers on the edge ...
    np.testing.assert_allclose(np.sort(np.sign(ox)), [-1, 1])  # ... in their direction
    note = plot.outside_note.textItem.toPlainText()
    assert "2 eigenvalues outside" in note and "25" in note
    # back to a tame matrix: no diamonds, no note, the unit circle framed again
    params["W_hh"] = np.diag(lam[2:].tolist() + [0.4, 0.6])
    session.set_params(params)
    assert len(plot.eig_outside.getData()[0]) == 0 and plot.outside_note.textItem.toPlainText() == ""
    assert plot.eig_radius == EIGEN_MIN_RADIUS
    assert plot.eig_plot.getViewBox().viewRange()[1] == pytest.approx([-1.1, 1.1])


def test_decades_that_fit():
    from rnnviz.app.views.axes import decades_that_fit

    assert decades_that_fit(-12.0, 0.0, 60.0, 24.0) == -2.0
    assert decades_that_fit(-12.0, 0.0, 10.0, 24.0) == -1.0  # one decade at least
    assert decades_that_fit(-12.0, 0.0, 240.0, 24.0) == -10.0
    assert decades_that_fit(-3.0, 0.0, 240.0, 24.0) == -3.0  # fits: nothing cut
    assert np.isnan(decades_that_fit(float("nan"), float("nan"), 100.0))


@pytest.mark.parametrize("plots", ["many-to-one"], indirect=True)  # a loss at the end only
def test_gradient_flow_shows_few_decades_and_says_what_it_cut(plots):
    from rnnviz.app.views.plots import GradientFlowPlot

    session, _, p = plots
    plot: GradientFlowPlot = p[GradientFlowPlot]
    params = {k: v.copy() for k, v in session.model.params().items()}
    params["W_hh"] = 0.02 * np.eye(session.model.hidden_size)  # gradients vanish: ~1.7 decades a step
    session.set_params(params)
    norms = plot.dl_dh_norm  # (T,)
    assert np.log10(norms.max() / norms[norms > 0].min()) > 10  # many decades in the data
    vb = plot.steps_plot.getViewBox()
    lo, hi = vb.viewRange()[1]
    decades = hi - lo
    assert decades <= max(2, vb.height() // 24) + 1  # the cap, plus the head-room's rounding
    below = int(np.sum(norms < 10.0**lo))
    assert below > 0
    assert f"{below} steps below" in plot.steps_note.textItem.toPlainText()
    assert np.log10(norms.max()) <= hi  # the largest (last steps') gradients stay in view
