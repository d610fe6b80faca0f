"""Units are numbered from 0 in the heatmaps, as in the inspector and the unrolled view: unit i
of h (row i of a matrix) is drawn centred on y = i (column j on x = j) under the tick "h{i}"."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QMainWindow

from rnnviz.app.state.network_config import NetworkConfig
from rnnviz.app.state.session import Session
from rnnviz.app.state.training import TrainingController
from rnnviz.app.views.plots import HiddenTimePlot, HiddenTrainingPlot, WeightsPlot, make_plot_docks


@pytest.fixture
def plots(qtbot):
    session = Session(NetworkConfig(task="sine"))
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


def pixel_centre(item, col: int, row: int) -> QPointF:
    """Where the centre of image pixel (x index `col`, y index `row`) lands in the plot's data coordinates."""
    return item.mapToParent(QPointF(col + 0.5, row + 0.5))


def tick_values(axis) -> list[float]:
    return sorted(v for level in axis._tickLevels for v, _ in level)  # pyqtgraph keeps fixed ticks there


def tick_labels(axis) -> dict[float, str]:
    return {v: s for level in axis._tickLevels for v, s in level}


def test_hidden_heatmap_puts_unit_i_on_y_i_under_tick_h_i(plots):
    session, _, p = plots
    plot: HiddenTimePlot = p[HiddenTimePlot]
    H = session.model.hidden_size
    T1 = plot.h.shape[0]  # h_0 .. h_T
    img = plot.image
    for t, i in [(0, 0), (T1 - 1, H - 1), (T1 // 2, H // 2)]:
        c = pixel_centre(img, t, i)  # image[x=t, y=i]
        assert (c.x(), c.y()) == pytest.approx((t, i))
        # the value drawn there is h_t[i]
        assert img.image[t, i] == pytest.approx(session.trace.h[t, 0, i])
    axis = plot.map_plot.getAxis("left")
    assert tick_values(axis)[0] == 0 and tick_values(axis)[-1] <= H - 1
    assert all(label == f"h{int(v)}" for v, label in tick_labels(axis).items())


def test_weights_heatmaps_put_cell_r_c_on_x_c_y_r(plots):
    session, _, p = plots
    plot: WeightsPlot = p[WeightsPlot]
    W = session.model.params()["W_hh"]  # (H, H)
    img = plot.images["W_hh"]
    r, c = W.shape[0] - 1, 0
    centre = pixel_centre(img, c, r)  # image is W.T: x = column, y = row
    assert (centre.x(), centre.y()) == pytest.approx((c, r))
    assert img.image[c, r] == pytest.approx(W[r, c])
    left = tick_labels(plot.mats["W_hy"].getAxis("left"))
    assert 0 in left and left[0] == "h0" and max(left) <= W.shape[0] - 1


def test_hidden_training_heatmap_rows_are_units_from_0(qtbot, plots):
    session, controller, p = plots
    plot: HiddenTrainingPlot = p[HiddenTrainingPlot]
    for _ in range(3):
        controller.step()
    qtbot.waitUntil(lambda: plot.map_data.shape[0] >= 2, timeout=20_000)
    H = session.model.hidden_size
    top = pixel_centre(plot.image, 0, 0)
    bottom = pixel_centre(plot.image, 0, H - 1)
    assert top.y() == pytest.approx(0) and bottom.y() == pytest.approx(H - 1)
    lo, hi = plot.map_plot.getViewBox().viewRange()[1]
    assert lo <= -0.5 + 1e-9 and hi >= H - 0.5 - 1e-9  # every row in view, none cut


def test_unit_ticks_number_from_zero():
    from rnnviz.app.views.axes import unit_axis_ticks

    assert [v for level in unit_axis_ticks(3, "h") for v, _ in level] == [0, 1, 2]
    labels = {v: s for level in unit_axis_ticks(8, "x") for v, s in level}
    assert sorted(labels) == list(range(8)) and labels[0] == "x0" and labels[7] == "x7"
