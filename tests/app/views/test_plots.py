"""Every plot shows the session's data: the arrays it plotted equal the trace and the history."""
from __future__ import annotations

import numpy as np
import pytest

from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

from rnnviz.app.views.plots import (
    GradientFlowPlot,
    HiddenTimePlot,
    HiddenTrainingPlot,
    LossPlot,
    PredictionPlot,
    WeightsPlot,
    make_plot_docks,
)
from rnnviz.app.views.plots.display import minmax_decimate
from rnnviz.app.state.network_config import NetworkConfig
from rnnviz.app.state.session import Session
from rnnviz.app.state.training import TrainingController
from rnnviz.app.state.training_loop import Snapshot

WAIT = 20_000


@pytest.fixture
def setup(qtbot, request):
    task = getattr(request, "param", "sine")
    session = Session(NetworkConfig(task=task))
    controller = TrainingController(session)
    window = QMainWindow()
    window.resize(1400, 1000)
    qtbot.addWidget(window)
    docks = make_plot_docks(session, controller, window)
    for d in docks:
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, d)
    window.show()
    qtbot.waitExposed(window)
    plots = {type(d.widget()): d.widget() for d in docks}
    yield session, controller, plots, docks
    controller.shutdown()
    session.shutdown()


def trained(qtbot, controller, n=12):
    for _ in range(n):
        controller.step()


def test_docks_are_closable_and_floatable(setup):
    _, _, plots, docks = setup
    assert len(docks) == 6 and len(plots) == 6
    for d in docks:
        f = d.features()
        assert f & QDockWidget.DockWidgetFeature.DockWidgetClosable
        assert f & QDockWidget.DockWidgetFeature.DockWidgetFloatable
        assert d.objectName().startswith("plot-")


def test_loss_plot_receives_the_training_run(qtbot, setup):
    session, controller, plots, _ = setup
    plot: LossPlot = plots[LossPlot]
    controller.set_budget(60)
    with qtbot.waitSignal(controller.finished, timeout=WAIT):
        controller.train()
    h = controller.trainer.history
    np.testing.assert_array_equal(plot.loss[0], h.loss.iterations)
    np.testing.assert_array_equal(plot.loss[1], h.loss.values)
    x, y = plot.raw_curve.getOriginalDataset()
    np.testing.assert_array_equal(x, h.loss.iterations)  # short: drawn as it is
    np.testing.assert_array_equal(y, h.loss.values)
    np.testing.assert_array_equal(plot.val[1], h.val_loss.values)  # sine has a held-out set
    assert len(plot.val[1]) > 0 and plot.val_curve.isVisible()
    assert len(plot.smoothed[1]) == len(h.loss.values)
    assert "iteration 60" in plot.readout.text()


def test_loss_plot_log_scale_and_hover(qtbot, setup):
    session, controller, plots, _ = setup
    plot: LossPlot = plots[LossPlot]
    trained(qtbot, controller, 20)
    assert plot.raw_curve.opts["logMode"][1] is True
    plot.log_box.setChecked(False)
    assert plot.raw_curve.opts["logMode"][1] is False
    it, loss, smooth, val = plot.value_at(7.2)
    assert it == 7 and loss == controller.trainer.history.loss.values[6]
    # a mouse over iteration 7 shows its exact value
    vb = plot.plot.getViewBox()
    vb.autoRange()
    qtbot.wait(50)
    scene_pos = vb.mapViewToScene(QPointF(7, loss))
    plot._on_mouse((scene_pos,))
    assert plot.label.isVisible() and f"{loss:.5g}" in plot.label.textItem.toPlainText()


def test_long_histories_are_decimated_for_display_not_truncated(qtbot, setup):
    session, controller, plots, _ = setup
    plot: LossPlot = plots[LossPlot]
    n = 100_000
    its = np.arange(1, n + 1)
    vals = 1.0 / its
    vals[54_321] = 50.0  # a spike must survive decimation
    snap = Snapshot.empty(session.model.params())
    snap.loss_curve = (its, vals)
    snap.smoothed_curve = (its, vals)
    controller.snapshot = snap
    controller.updated.emit()
    assert len(plot.loss[0]) == n  # the data in full
    x, y = plot.raw_curve.getOriginalDataset()
    assert len(x) < 5000 and x[0] == 1 and x[-1] == n
    assert y.max() == 50.0 and y.min() == vals.min()


def test_minmax_decimate_keeps_extremes_in_order():
    x = np.arange(10_000)
    y = np.sin(x / 50.0)
    y[1234] = 9
    y[7777] = -9
    dx, dy = minmax_decimate(x, y, bins=100)
    assert len(dx) <= 200 + 100
    assert np.all(np.diff(dx) > 0)
    assert dy.max() == 9 and dy.min() == -9 and dx[-1] == x[-1]


def test_hidden_time_plot_shows_the_trace_and_follows_the_cursor(qtbot, setup):
    session, controller, plots, _ = setup
    plot: HiddenTimePlot = plots[HiddenTimePlot]
    trained(qtbot, controller, 3)
    h = session.trace.h[:, 0, :]
    np.testing.assert_array_equal(plot.h, h)
    for i, line in enumerate(plot.lines):
        x, y = line.getData()
        np.testing.assert_array_equal(x, np.arange(session.T + 1))
        np.testing.assert_array_equal(y, h[:, i])
    np.testing.assert_array_equal(plot.image.image, h)
    assert plot.image.levels[0] == -plot.image.levels[1] == -1.0  # tanh: fixed ±1
    session.go_to("forward", 7)
    assert plot.line_cursor.value() == 7 == plot.map_cursor.value()


def test_hidden_training_plot_records_h_at_the_cursor_step(qtbot, setup):
    session, controller, plots, _ = setup
    plot: HiddenTrainingPlot = plots[HiddenTrainingPlot]
    session.go_to("forward", 5)
    trained(qtbot, controller, 6)
    rec = controller.hidden
    np.testing.assert_array_equal(plot.map_iterations, np.arange(0, 7))
    np.testing.assert_array_equal(plot.map_data, rec.values[:, 5, :])
    np.testing.assert_array_equal(plot.map_data[-1], session.trace.h[5, 0, :])
    h = session.trace.h[:, 0, :]
    expected = (h - h.mean(axis=0)) @ plot.basis
    np.testing.assert_allclose(plot.pca_points, expected)
    assert plot.pca_points.shape == (session.T + 1, 2)


def test_gradient_flow_plot_shows_dl_dh_and_grad_norm_with_clip(qtbot, setup):
    session, controller, plots, _ = setup
    plot: GradientFlowPlot = plots[GradientFlowPlot]
    controller.set_clip(0.3)
    trained(qtbot, controller, 5)
    expected = np.linalg.norm(session.trace.dL_dh[:, 0, :], axis=1)
    np.testing.assert_allclose(plot.dl_dh_norm, expected)
    x, y = plot.steps_curve.getOriginalDataset()
    np.testing.assert_array_equal(x, np.arange(1, session.T + 1))
    g = controller.trainer.history.grad_norm
    np.testing.assert_array_equal(plot.grad_norm[1], g.values)
    np.testing.assert_array_equal(plot.norm_curve.getOriginalDataset()[1], g.values)
    assert plot.clip_line.isVisible() and plot.clip_line.value() == pytest.approx(np.log10(0.3))
    controller.set_clip(None)
    assert not plot.clip_line.isVisible()


def test_prediction_plot_regression(qtbot, setup):
    session, controller, plots, _ = setup
    plot: PredictionPlot = plots[PredictionPlot]
    trained(qtbot, controller, 2)
    tr = session.trace
    assert plot.kind == "regression"
    np.testing.assert_array_equal(plot.output_curves[0].getData()[1], tr.y[:, 0, 0])
    np.testing.assert_array_equal(plot.target_curves[0].getData()[1], tr.targets[:, 0, 0])


@pytest.mark.parametrize("setup", ["hello"], indirect=True)
def test_prediction_plot_classification(qtbot, setup):
    session, controller, plots, _ = setup
    plot: PredictionPlot = plots[PredictionPlot]
    trained(qtbot, controller, 4)
    tr = session.trace
    assert plot.kind == "classification"
    probs = tr.probs[:, 0, :]
    np.testing.assert_array_equal(plot.image.image, probs)
    cls = tr.targets[:, 0]
    np.testing.assert_array_equal(plot.true_class, cls)
    np.testing.assert_array_equal(plot.p_true, probs[np.arange(tr.T), cls])
    np.testing.assert_array_equal(plot.p_true_curve.getData()[1], plot.p_true)


def test_weights_plot_shows_the_matrices_and_eigenvalues(qtbot, setup):
    session, controller, plots, _ = setup
    plot: WeightsPlot = plots[WeightsPlot]
    trained(qtbot, controller, 3)
    for name in ("W_xh", "W_hh", "W_hy"):
        W = getattr(controller.trainer.model, name)
        np.testing.assert_array_equal(plot.plotted[name], W)
        np.testing.assert_array_equal(plot.images[name].image, W.T)
        lo, hi = plot.images[name].levels
        assert lo == -hi
    ev = np.linalg.eigvals(session.model.W_hh)
    np.testing.assert_allclose(np.sort_complex(plot.eigenvalues), np.sort_complex(ev))
    assert plot.spectral_radius == pytest.approx(np.abs(ev).max())
    assert f"ρ = {plot.spectral_radius:.3f}" in plot.rho_note.textItem.toPlainText()


def test_plots_follow_training_in_the_background(qtbot, setup):
    session, controller, plots, _ = setup
    controller.set_budget(None)
    controller.train()
    qtbot.waitUntil(lambda: controller.iteration >= 100, timeout=WAIT)
    controller.pause()
    qtbot.waitUntil(lambda: controller.state == "paused", timeout=WAIT)
    np.testing.assert_array_equal(plots[HiddenTimePlot].h, session.trace.h[:, 0, :])
    np.testing.assert_array_equal(plots[WeightsPlot].plotted["W_hh"], controller.trainer.model.W_hh)
    np.testing.assert_array_equal(plots[LossPlot].loss[1], controller.trainer.history.loss.values)


def test_a_new_network_rebuilds_the_plots(qtbot, setup):
    session, controller, plots, _ = setup
    trained(qtbot, controller, 2)
    session.set_config(task="hello", hidden=5)
    assert plots[PredictionPlot].kind == "classification"
    assert len(plots[HiddenTimePlot].lines) == 5
    assert plots[LossPlot].loss[0].size == 0
    np.testing.assert_array_equal(plots[WeightsPlot].plotted["W_hh"], session.model.W_hh)


def test_hidden_plots_catch_up_when_shown(qtbot, setup):
    session, controller, plots, docks = setup
    plot = plots[HiddenTimePlot]
    dock = next(d for d in docks if d.widget() is plot)
    dock.hide()
    trained(qtbot, controller, 3)
    assert not np.array_equal(plot.h, session.trace.h[:, 0, :])  # not drawn while hidden
    dock.show()
    qtbot.waitUntil(lambda: np.array_equal(plot.h, session.trace.h[:, 0, :]), timeout=WAIT)


def test_a_plot_behind_another_tab_does_not_redraw_until_its_tab_is_raised(qtbot, setup):
    """Qt keeps a dock behind another tab isVisible(); only its visible region is empty. Such a
    plot must not spend the UI thread's time drawing during training; the tab in front does."""
    session, controller, plots, docks = setup
    window = docks[0].parentWidget()
    front, back = plots[HiddenTimePlot], plots[WeightsPlot]
    front_dock = next(d for d in docks if d.widget() is front)
    back_dock = next(d for d in docks if d.widget() is back)
    window.tabifyDockWidget(front_dock, back_dock)
    front_dock.raise_()
    qtbot.waitUntil(lambda: front.is_on_screen() and not back.is_on_screen(), timeout=WAIT)
    assert back.isVisible()  # what a plain isVisible() check would get wrong
    drawn = {front: 0, back: 0}
    for p in drawn:
        p.draw_trace = lambda p=p, f=p.draw_trace: (drawn.__setitem__(p, drawn[p] + 1), f())
    trained(qtbot, controller, 3)
    assert drawn[front] == 3 and drawn[back] == 0
    assert np.array_equal(front.h, session.trace.h[:, 0, :])
    assert not np.array_equal(back.plotted["W_hh"], session.model.params()["W_hh"])
    back_dock.raise_()  # brought to the front: it catches up once, with the newest weights
    qtbot.waitUntil(lambda: drawn[back] >= 1, timeout=WAIT)
    assert np.array_equal(back.plotted["W_hh"], session.model.params()["W_hh"])
    trained(qtbot, controller, 1)
    n_front = drawn[front]
    assert drawn[back] == 2 and n_front == 3  # now the other one is behind


def test_themes_recolour_the_plots(qtbot, setup):
    session, controller, plots, _ = setup
    session.set_theme("dark")
    plot = plots[LossPlot]
    assert plot.canvas.backgroundBrush().color().name() == "#1b1e23"


@pytest.mark.parametrize("n", [1, 3, 8, 32, 100, 256, 1000])
def test_unit_axis_labels_are_few_at_first_and_round(n):
    from rnnviz.app.views.axes import unit_axis_ticks

    levels = unit_axis_ticks(n, "h")
    values = [v for level in levels for v, _ in level]
    assert len(levels[0]) <= 4  # what pyqtgraph always draws, however short the axis
    assert len(values) == len(set(values)) and all(0 <= v <= n - 1 for v in values)  # numbered from 0
    assert len(values) <= max(40, 4)
    if n <= 40:
        assert sorted(values) == list(range(n))  # every unit, where there is room
    if n >= 10:
        assert all(v % 5 == 0 for v, _ in levels[0])  # round numbers first
    assert all(label == f"h{v}" for level in levels for v, label in level)


def test_while_training_streams_the_plots_redraw_one_per_event_loop_turn(setup, qtbot, monkeypatch):
    # so an input waits for one plot's drawing, not all of them (issue 4: ≤ 50 ms)
    session, controller, plots, docks = setup
    on_screen = [p for p in plots.values() if p.is_on_screen()]
    assert len(on_screen) >= 2
    drawn = []
    for p in on_screen:
        monkeypatch.setattr(p, "draw_history", lambda p=p: drawn.append(p))
    monkeypatch.setattr(type(controller), "running", property(lambda self: True))
    controller.updated.emit()
    assert drawn == []  # nothing drawn in the emitting turn
    from rnnviz.app.views.plots import base

    stagger = base._staggered()
    stagger._next()
    assert len(drawn) == 1  # one plot per turn
    qtbot.waitUntil(lambda: len(drawn) == len(on_screen), timeout=WAIT)
    assert set(map(id, drawn)) == set(map(id, on_screen))
    # when training stops, whatever still waits is drawn at once
    drawn.clear()
    controller.updated.emit()
    controller.stateChanged.emit("paused")
    assert len(drawn) == len(on_screen)
    # ...unless a network change stopped it: the old run is not drawn into the new network's plots
    drawn.clear()
    controller.updated.emit()
    controller.changing_network = True
    controller.stateChanged.emit("paused")
    controller.changing_network = False
    qtbot.wait(20)
    assert drawn == [] and all(not p._waiting for p in on_screen)
