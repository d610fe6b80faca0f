"""LSTM and GRU cells in the app: the setup panel builds them, every view, plot, the inspector,
exports and session files work with them, and every number shown is the trace's."""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from rnnviz.app.io import export as ex
from rnnviz.app.lessons.format import load_lessons
from rnnviz.app.lessons.runner import apply_step, check_status
from rnnviz.app.io import session_file
from rnnviz.app.io import session_snapshot
from rnnviz.app.views.inspector.pages import page_for
from rnnviz.app.state.playback import frame_at, position_of
from rnnviz.app.state.network_config import NetworkConfig
from rnnviz.app.state.selection import Selection
from rnnviz.app.state.session import Session
from rnnviz.app.style.theme import LIGHT
from rnnviz.app.state.training import TrainingController
from rnnviz.app.views.unrolled.view import UnrolledView
from rnnviz.engine import load_trace
from rnnviz.engine.io.npz import FileFormatError

CELLS = ["lstm", "gru"]
GATES = {"lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}


@pytest.fixture(params=CELLS)
def gated(request, qapp):
    s = Session(NetworkConfig(task="echo", cell=request.param, hidden=5, steps=8))
    yield s
    s.shutdown()


def _frame(tr, mode="forward", t=None):
    return frame_at(position_of(mode, tr.T if t is None else t, tr.T), tr.T)


# building ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
def test_config_cell_builds_that_model_and_gated_cells_are_tanh(qapp, cell):
    s = Session(NetworkConfig(task="sine", cell=cell, activation="relu"))
    try:
        assert s.model.cell == cell and s.model.activation == "tanh" and s.trace.cell == cell
        assert set(s.trace.gates) == set(GATES[cell])
        s.set_config(cell="rnn")
        assert s.model.cell == "rnn" and s.model.activation == "relu"
    finally:
        s.shutdown()


def test_setup_panel_cell_combo_and_activation(window, session):
    from rnnviz.app.panels.setup import SetupPanel

    panel = window.findChild(SetupPanel)
    combo = panel.cell_combo
    assert [combo.itemData(i) for i in range(combo.count())] == ["rnn", "lstm", "gru"]
    assert panel.activation_combo.isEnabled()
    combo.setCurrentIndex(combo.findData("lstm"))
    assert session.config.cell == "lstm" and session.model.cell == "lstm"
    assert not panel.activation_combo.isEnabled()
    assert "LSTM" in panel.summary_label.text()
    combo.setCurrentIndex(combo.findData("gru"))
    assert session.model.cell == "gru"
    combo.setCurrentIndex(combo.findData("rnn"))
    assert session.model.cell == "rnn" and panel.activation_combo.isEnabled()


def test_lesson_seven_sets_the_cells_and_its_checks_judge_them(session):
    from tests.app.lessons.fake_host import FakeHost

    host = FakeHost(session)
    lesson = next(x for x in load_lessons() if x.number == 7)
    apply_step(lesson, 0, host)
    assert session.config.cell == "rnn" and session.model.cell == "rnn"
    apply_step(lesson, 1, host)
    assert session.model.cell == "lstm" and session.config.lag == 8 and session.T == 20
    assert check_status({"cell": "lstm"}, host) is True
    assert check_status({"cell": "vanilla"}, host) is False
    apply_step(lesson, 2, host)
    assert session.model.cell == "gru"
    apply_step(next(x for x in load_lessons() if x.number == 1), 0, host)
    assert session.model.cell == "rnn"  # another lesson starts from the vanilla cell


# the main window and every plot -----------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
def test_main_window_and_every_plot_draw_a_gated_network(window, session, qtbot, cell):
    from rnnviz.app.views.plots import WeightsPlot
    from rnnviz.app.views.plots.base import PlotPanel

    session.may_replace = lambda what: True  # no "discard the training run?" dialog
    session.set_config(task="echo", cell=cell)
    assert cell.upper() in window.header.subtitle_label.text()
    plots = window.findChildren(PlotPanel)
    assert plots
    for mode in ("forward", "backward"):
        session.go_to(mode, 3)
        for p in plots:
            p.draw()
            p.move_cursor()
    for _ in range(3):
        window.training.step()
    for p in plots:
        p.draw()
    w = next(p for p in plots if isinstance(p, WeightsPlot))
    cand = "W_hg" if cell == "lstm" else "W_hn"
    assert w.shown["W_hh"] == cand and w.gate_combo.isVisibleTo(w)
    np.testing.assert_array_equal(w.plotted["W_hh"], session.model.params()[cand])
    rho = np.abs(np.linalg.eigvals(session.model.params()[cand])).max()
    assert w.spectral_radius == pytest.approx(rho)
    assert cand in w.eig_plot.titleLabel.text
    w.gate_combo.setCurrentIndex(w.gate_combo.findData(GATES[cell][1]))
    other = "W_h" + GATES[cell][1]
    np.testing.assert_array_equal(w.plotted["W_hh"], session.model.params()[other])
    np.testing.assert_array_equal(w.plotted["W_xh"], session.model.params()["W_x" + GATES[cell][1]])
    session.set_config(cell="rnn")
    w.draw()
    assert w.shown["W_hh"] == "W_hh" and not w.gate_combo.isVisibleTo(w)


@pytest.mark.parametrize("cell", CELLS)
def test_baseline_panel_scores_a_gated_network(window, qtbot, cell):
    from rnnviz.engine.baseline import compare

    s = window.session
    s.set_config(task="ar", cell=cell)
    window.baseline_dock.show()
    panel = window.baseline_panel
    qtbot.waitUntil(lambda: not panel.worker.busy)  # computed off the UI thread
    assert panel.comparison.rnn_mse == compare(s.task, s.model, fit=panel.fit).rnn_mse


# the inspector: every number is the trace's ---------------------------------------------------------
def test_inspector_gate_numbers_equal_the_trace(gated):
    tr = gated.trace
    H = tr.hidden_size
    for t in (1, 3, tr.T):
        for j in range(H):
            page = page_for(tr, Selection("h", t, j), _frame(tr), LIGHT)
            n = page.numbers
            x, hp = tr.x[t - 1, 0], tr.h[t - 1, 0]
            for g in GATES[tr.cell]:
                assert n[f"{g}.pre[{j}]"] == tr.gate_pre[g][t - 1, 0, j]
                assert n[f"{g}[{j}]"] == tr.gates[g][t - 1, 0, j]
                assert n[f"{g}.xW[{j}]"] == pytest.approx(x @ tr.params["W_x" + g][:, j], abs=1e-14)
                assert n[f"{g}.hW[{j}]"] == pytest.approx(hp @ tr.params["W_h" + g][:, j], abs=1e-14)
                if tr.cell == "gru" and g == "n":
                    parts = n["n.xW[%d]" % j] + n["n.b[%d]" % j] + n["n.r[%d]" % j] * n["n.nh[%d]" % j]
                    assert n["n.nh[%d]" % j] == tr.extra["n_h"][t - 1, 0, j]
                else:
                    parts = n[f"{g}.xW[{j}]"] + n[f"{g}.hW[{j}]"] + n[f"{g}.b[{j}]"]
                assert parts == pytest.approx(n[f"{g}.pre[{j}]"], abs=1e-12)
            assert n[f"h[{j}]"] == tr.h[t, 0, j]
            if tr.cell == "lstm":
                assert n[f"c[{j}]"] == tr.c[t, 0, j] and n[f"c_prev[{j}]"] == tr.c[t - 1, 0, j]
                assert n[f"f[{j}]"] * n[f"c_prev[{j}]"] + n[f"i[{j}]"] * n[f"g[{j}]"] == pytest.approx(n[f"c[{j}]"], abs=1e-14)
                assert n[f"o[{j}]"] * np.tanh(n[f"c[{j}]"]) == pytest.approx(n[f"h[{j}]"], abs=1e-14)
            else:
                z, nn, hprev = n[f"z[{j}]"], n[f"n[{j}]"], n[f"h_prev[{j}]"]
                assert hprev == tr.h[t - 1, 0, j]
                assert (1 - z) * nn + z * hprev == pytest.approx(n[f"h[{j}]"], abs=1e-14)


def test_inspector_backward_numbers_equal_the_trace(gated):
    tr = gated.trace
    t = 3
    page = page_for(tr, Selection("h", t, 1), _frame(tr, "backward", 2), LIGHT)
    n = page.numbers
    assert n["dL_dh[1]"] == tr.dL_dh[t - 1, 0, 1]
    assert n["dL_dh_out[1]"] == tr.dL_dh_out[t - 1, 0, 1]
    for g in GATES[tr.cell]:
        assert n[f"dL_d{g}_pre[1]"] == tr.dL_dgate_pre[g][t - 1, 0, 1]
    if tr.cell == "lstm":
        assert n["dL_dc[1]"] == tr.dL_dc[t - 1, 0, 1]
        o, tc = tr.gates["o"][t - 1, 0, 1], tr.extra["tanh_c"][t - 1, 0, 1]
        assert n["dc_from_h[1]"] == pytest.approx(tr.dL_dh[t - 1, 0, 1] * o * (1 - tc * tc))
        # along c the gradient is multiplied by the next forget gate
        assert n["dc_future[1]"] == pytest.approx(tr.dL_dc[t, 0, 1] * tr.gates["f"][t, 0, 1], abs=1e-15)


def test_every_gated_inspector_page_renders(gated):
    tr = gated.trace
    kinds = ["x", "y", "h", "W_xh", "W_hh", "W_hy"] + [f"gate:{g}" for g in GATES[tr.cell]]
    if tr.cell == "lstm":
        kinds.append("c")
    for mode in ("forward", "backward"):
        for kind in kinds:
            for t in (0, 1, tr.T):
                if t == 0 and kind not in ("h", "c"):
                    continue
                page = page_for(tr, Selection(kind, t, None), _frame(tr, mode, 1), LIGHT)
                assert page.html and "Nothing to show" not in page.html, kind
    gate = GATES[tr.cell][1]
    p = page_for(tr, Selection(f"gate:{gate}", 2, 0), _frame(tr), LIGHT)
    assert p.numbers[f"{gate}[0]"] == tr.gates[gate][1, 0, 0]
    assert p.numbers[f"{gate}[3]"] == tr.gates[gate][1, 0, 3]  # the strip
    w = page_for(tr, Selection("W_hh", 2), _frame(tr), LIGHT)
    cand = "W_hg" if tr.cell == "lstm" else "W_hn"
    assert w.weight == cand
    assert w.numbers[f"rho.{cand}"] == pytest.approx(np.abs(np.linalg.eigvals(tr.params[cand])).max())


def test_inspector_widget_with_weight_heatmaps(window, session):
    session.set_config(task="echo", cell="lstm")
    session.select(Selection("W_hh", 2))
    assert window.inspector.page.weight == "W_hg" and window.inspector.plots.isVisible()
    session.select(Selection("gate:f", 2, 1))
    assert window.inspector.numbers["f[1]"] == session.trace.gates["f"][1, 0, 1]


# the unrolled view --------------------------------------------------------------------------------------
def test_view_collapsed_and_expanded_hit_tests_and_renders(gated, qtbot):
    view = UnrolledView(gated)
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    qtbot.waitExposed(view)
    tr = gated.trace
    lstm = tr.cell == "lstm"
    assert ("c" in view.draw_context.layout.columns) == lstm
    assert not any(k.startswith("gate:") for k in view.draw_context.layout.columns)
    items = len(view.scene().items())
    assert view.gates_button.isVisible()
    view.setFocus()
    qtbot.keyClick(view, Qt.Key_G)
    assert view.gates_shown() and view.gates_button.isChecked()
    # one item per gate column (whatever T and H): no per-cell or per-step items
    assert len(view.scene().items()) == items + len(GATES[tr.cell])
    for g in GATES[tr.cell]:
        sel = view.hit_test(view.scene_point(f"gate:{g}", 3, 2))
        assert sel == Selection(f"gate:{g}", 3, 2)
        assert f"{g}_3[2] = {tr.gates[g][2, 0, 2]:.4f}" in view.value_text(f"gate:{g}", 3, 2)
    assert view.hit_test(view.scene_point("h", 4, 1)) == Selection("h", 4, 1)
    assert view.hit_test(view.scene_point("x", 4, 0)) == Selection("x", 4, 0)
    assert view.hit_test(view.scene_point("W_hh", 4)) == Selection("W_hh", 4)
    if lstm:
        assert view.hit_test(view.scene_point("c", 2, 0)) == Selection("c", 2, 0)
        assert view.hit_test(view.scene_point("c", 0, 0)) == Selection("c", 0, 0)
    gated.select(Selection("gate:" + GATES[tr.cell][0], 2, 1))
    for mode in ("forward", "backward"):
        gated.go_to(mode, 3)
        img = view.render_image(800, 600)
        assert img.width() == 800 and not img.isNull()
    view.set_rolled(True, animate=False)
    assert view.render_image(600, 400).width() == 600
    view.set_rolled(False, animate=False)
    view.set_gates_shown(False)
    assert not any(k.startswith("gate:") for k in view.draw_context.layout.columns)
    # the backward pass colours dL/dh (and dL/dc) as for the vanilla cell
    d = view.draw_context.data
    np.testing.assert_array_equal(d.backward["h"][1:], tr.dL_dh[:, 0])
    if lstm:
        np.testing.assert_array_equal(d.backward["c"][1:], tr.dL_dc[:, 0])
        np.testing.assert_array_equal(d.forward["c"], tr.c[:, 0])


def test_gate_strips_use_the_sequential_scale_and_the_candidate_the_diverging_one(gated, qtbot):
    from rnnviz.app.style import colors

    view = UnrolledView(gated)
    qtbot.addWidget(view)
    view.set_gates_shown(True)
    d = view.draw_context.data
    sig = GATES[gated.trace.cell][1]  # f or z
    cand = "g" if gated.trace.cell == "lstm" else "n"
    assert d.sequential(f"gate:{sig}") and not d.sequential(f"gate:{cand}")
    img = view.draw_context.images[("forward", f"gate:{sig}")]
    v = float(d.forward[f"gate:{sig}"][2, 1])
    want = colors.rgba_seq(np.array([v]))[0]
    c = img.pixelColor(1, 2)
    assert (c.red(), c.green(), c.blue()) == tuple(int(k) for k in want[:3])


# exports and sessions -------------------------------------------------------------------------------------
def test_exports_of_a_gated_network(gated, qtbot, tmp_path):
    view = UnrolledView(gated)
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.set_gates_shown(True)
    assert QImage(str(ex.export_view(view, tmp_path / "v.png", 640, 480))).width() == 640
    svg = ex.export_view(view, tmp_path / "v.svg", 640, 480).read_text()
    assert "<svg" in svg
    tr = load_trace(ex.export_trace(gated.trace, tmp_path / "t.npz"))
    assert tr.cell == gated.trace.cell
    np.testing.assert_array_equal(tr.h, gated.trace.h)
    json.loads(ex.export_trace(gated.trace, tmp_path / "t.json").read_text())
    out = ex.export_gif(gated, view, tmp_path / "a.gif", 200, 150, speed=5.0, passes="forward")
    assert out.stat().st_size > 0


def test_session_save_and_reopen_keeps_a_trained_gated_network(gated, tmp_path, qapp):
    controller = TrainingController(gated)
    try:
        for _ in range(3):
            controller.step()
        gated.go_to("forward", 4)
        sel = Selection("gate:" + GATES[gated.model.cell][1], 4, 2)
        gated.select(sel)
        path = tmp_path / "g.rnnviz"
        session_snapshot.save(path, gated, controller)
        other = Session(NetworkConfig(task="sine"))
        other_c = TrainingController(other)
        try:
            session_snapshot.restore(path, other, other_c)
            assert other.model.cell == gated.model.cell and other.config.cell == gated.config.cell
            for k, v in gated.model.params().items():
                np.testing.assert_array_equal(other.model.params()[k], v)
            np.testing.assert_array_equal(other.trace.h, gated.trace.h)
            assert other.selection == sel and other.position == gated.position
            assert other_c.trainer.iteration == controller.trainer.iteration
            other_c.step()  # training goes on from the saved state
            controller.step()
            for k, v in gated.model.params().items():
                np.testing.assert_allclose(other.model.params()[k], v, rtol=0, atol=1e-12)
        finally:
            other_c.shutdown()
            other.shutdown()
    finally:
        controller.shutdown()


def _rewrite(src, dst, edit_arrays=None, edit_doc=None):
    with zipfile.ZipFile(src) as z:
        doc = json.loads(z.read("session.json"))
        arrays = dict(np.load(io.BytesIO(z.read("arrays.npz"))))
    if edit_arrays:
        edit_arrays(arrays)
    if edit_doc:
        edit_doc(doc)
    session_file.write_session(dst, doc, arrays)


def test_gated_session_files_are_validated(gated, tmp_path):
    path = tmp_path / "g.rnnviz"
    session_snapshot.save(path, gated)
    first = gated.model.PARAM_NAMES[1]
    bad = tmp_path / "bad.rnnviz"
    _rewrite(path, bad, edit_arrays=lambda a: a.pop(f"model.{first}"))
    with pytest.raises(FileFormatError, match=first):
        session_file.read_session(bad)
    _rewrite(path, bad, edit_arrays=lambda a: a.__setitem__(f"model.{first}", np.zeros((2, 2))))
    with pytest.raises(FileFormatError, match="shape"):
        session_file.read_session(bad)
    _rewrite(path, bad, edit_doc=lambda d: d["model"].__setitem__("activation", "relu"))
    with pytest.raises(FileFormatError, match="activation"):
        session_file.read_session(bad)
    _rewrite(path, bad, edit_doc=lambda d: d["model"].__setitem__("cell", "rnn"))
    with pytest.raises(FileFormatError):
        session_file.read_session(bad)
    # a vanilla session names no cell (older readers keep reading it)
    v = Session(NetworkConfig(task="sine"))
    try:
        session_snapshot.save(tmp_path / "v.rnnviz", v)
        doc = session_file.read_session(tmp_path / "v.rnnviz").doc
        assert "cell" not in doc["config"] and "cell" not in doc["model"]
    finally:
        v.shutdown()


# the screenshot command ------------------------------------------------------------------------------------
@pytest.mark.parametrize("extra", [
    ["--cell", "lstm", "--task", "echo", "--step", "5", "--gates", "--select", "gate:f:5:1"],
    ["--cell", "gru", "--task", "echo", "--mode", "backward", "--step", "3", "--select", "h:3"],
])
def test_screenshot_of_gated_cells(qapp, tmp_path, extra):
    from rnnviz.cli import main

    out = tmp_path / "g.png"
    assert main(["screenshot", "--out", str(out), "--width", "1000", "--height", "700", *extra]) == 0
    img = QImage(str(out))
    assert (img.width(), img.height()) == (1000, 700)


def test_window_key_g_and_the_header_button_toggle_the_gates(window, session, qtbot):
    session.set_config(task="echo", cell="gru")
    view = window.view
    assert view.gates_button.isVisible() and not view.gates_shown()
    qtbot.keyClick(window, Qt.Key_G)
    assert view.gates_shown() and window.gates_action.isChecked()
    assert any(k.startswith("gate:") for k in view.draw_context.layout.columns)
    qtbot.mouseClick(view.gates_button, Qt.LeftButton)
    assert not view.gates_shown() and not window.gates_action.isChecked()
    session.set_config(cell="rnn")
    assert not view.gates_button.isVisible()


def test_export_command_draws_and_trains_gated_cells(qapp, tmp_path):
    from rnnviz.cli import main

    out = tmp_path / "v.png"
    assert main(["export", "view", "--cell", "lstm", "--gates", "--task", "echo", "--width", "700", "--height", "500",
                 "--out", str(out)]) == 0
    assert QImage(str(out)).width() == 700
    assert main(["export", "history", "--cell", "gru", "--task", "echo", "--iterations", "2",
                 "--out", str(tmp_path / "h.csv")]) == 0
    assert main(["export", "view", "--cell", "gru", "--activation", "relu", "--out", str(out)]) == 2
