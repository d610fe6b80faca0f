"""Exports: the view (PNG at the chosen size, SVG with vector shapes and text), the plots, the
animation (GIF frames and timing, MP4), the trace (JSON round trip), the history (CSV), and
clear errors for bad paths — from the export module and from File ▸ Export."""
from __future__ import annotations

import csv
import json
import os
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from PySide6.QtGui import QImage

from rnnviz.app.io import export as ex
from rnnviz.app.state.network_config import NetworkConfig
from rnnviz.app.state.session import Session
from rnnviz.app.state.training import TrainingController
from rnnviz.app.views.unrolled.view import UnrolledView
from rnnviz.engine import load_trace
from rnnviz.engine.io.export import HISTORY_COLUMNS, history_rows, load_trace_json, trace_arrays

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def view(qtbot, session):
    v = UnrolledView(session)
    qtbot.addWidget(v)
    v.resize(900, 600)
    v.show()
    return v


def svg_tags(path) -> dict[str, int]:
    root = ET.parse(path).getroot()  # raises on malformed XML
    counts: dict[str, int] = {}
    for el in root.iter():
        tag = el.tag.replace(SVG, "")
        counts[tag] = counts.get(tag, 0) + 1
    return counts


# the view ----------------------------------------------------------------------------------------
def test_view_png_has_the_chosen_size(view, tmp_path):
    out = ex.export_view(view, tmp_path / "v.png", 1234, 567)
    img = QImage()
    assert img.load(str(out))
    assert (img.width(), img.height()) == (1234, 567)
    assert img.pixelColor(5, 5).isValid()


def test_view_svg_holds_vector_cells_arrows_and_text(view, tmp_path, session):
    session.go_to("backward", 5)
    out = ex.export_view(view, tmp_path / "v.svg", 1000, 700)
    tags = svg_tags(out)
    assert tags.get("path", 0) >= 10  # arrows and outlines
    assert tags.get("text", 0) >= 50  # labels and the numbers in the cells
    # the cell strips are drawn as filled rectangles, not as embedded bitmaps (only the legend's
    # colour bar stays an image)
    assert tags.get("image", 0) <= 1
    texts = "".join(el.text or "" for el in ET.parse(out).getroot().iter(f"{SVG}text"))
    assert "W" in texts and "t = 5" in texts
    # no empty <path d=""> (readers such as Qt's own warn about them)
    for forward_or_backward in ("forward", "backward"):
        session.go_to(forward_or_backward, 3)
        out = ex.export_view(view, tmp_path / f"{forward_or_backward}.svg", 1000, 700)
        assert not [el for el in ET.parse(out).getroot().iter(f"{SVG}path") if not el.get("d", "").strip()]


def test_view_export_refuses_a_bad_extension_and_size(view, tmp_path):
    with pytest.raises(ex.ExportError, match=r"\.png or \.svg"):
        ex.export_view(view, tmp_path / "v.jpg", 100, 100)
    with pytest.raises(ex.ExportError, match="between 1 and 8000"):
        ex.export_view(view, tmp_path / "v.png", 0, 100)
    assert list(tmp_path.iterdir()) == []


def test_export_into_a_missing_folder_is_a_clear_error_and_writes_nothing(view, tmp_path):
    with pytest.raises(ex.ExportError, match="does not exist"):
        ex.export_view(view, tmp_path / "nope" / "v.png", 100, 100)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_export_into_an_unwritable_folder_is_a_clear_error(view, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(ex.ExportError, match="cannot write"):
            ex.export_view(view, ro / "v.png", 100, 100)
    finally:
        ro.chmod(0o700)


def test_a_failed_export_leaves_the_previous_file_intact(view, tmp_path, monkeypatch):
    target = tmp_path / "v.png"
    target.write_bytes(b"previous")

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ex, "_image_bytes", lambda img, fmt="PNG": b"\x89PNG" + b"x" * 10)
    import rnnviz.engine.io.npz as npz

    real = npz.os.fsync
    monkeypatch.setattr(npz.os, "fsync", boom)
    with pytest.raises(RuntimeError):
        ex.export_view(view, target, 50, 50)
    monkeypatch.setattr(npz.os, "fsync", real)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["v.png"]


# the animation -----------------------------------------------------------------------------------
@pytest.mark.parametrize("passes, frames", [("both", 2 * 25 + 1), ("forward", 26), ("backward", 26)])
def test_gif_has_one_frame_per_position_and_the_chosen_speed(view, session, tmp_path, passes, frames):
    from PIL import Image

    assert session.T == 25
    before = session.position
    out = ex.export_gif(session, view, tmp_path / "a.gif", 320, 200, speed=5.0, passes=passes)
    with Image.open(out) as im:
        assert im.n_frames == frames
        assert im.size == (320, 200)
        assert im.info["duration"] == 200  # 5 steps/s
        assert im.info.get("loop") == 0  # loops forever
        im.seek(frames - 1)
        assert im.info["duration"] == 200
    assert session.position == before  # the picture the person looks at is where it was


def test_gif_frames_show_the_passes(view, session, tmp_path):
    from PIL import Image

    out = ex.export_gif(session, view, tmp_path / "a.gif", 400, 300, speed=10, passes="both")
    with Image.open(out) as im:
        im.seek(3)
        forward = np.asarray(im.convert("RGB"), dtype=float)
        im.seek(40)
        backward = np.asarray(im.convert("RGB"), dtype=float)
    assert np.abs(forward - backward).mean() > 1.0  # different pictures, not one frame repeated


def test_animation_progress_can_cancel_and_restores_the_position(view, session, tmp_path):
    seen = []
    before = session.position

    def progress(done, total):
        seen.append((done, total))
        return done < 3

    with pytest.raises(ex.ExportError, match="cancelled"):
        ex.export_gif(session, view, tmp_path / "a.gif", 200, 100, passes="forward", progress=progress)
    assert seen[0] == (0, 26) and seen[-1] == (3, 26)
    assert not (tmp_path / "a.gif").exists()
    assert session.position == before


def test_frame_duration_follows_the_speed():
    assert ex.frame_duration_ms(1) == 1000
    assert ex.frame_duration_ms(4) == 250
    with pytest.raises(ex.ExportError):
        ex.frame_duration_ms(0)


def test_mp4_is_written_with_the_frames(view, session, tmp_path):
    import imageio.v2 as iio

    out = ex.export_mp4(session, view, tmp_path / "a.mp4", 321, 201, speed=10, passes="forward")
    reader = iio.get_reader(str(out))
    try:
        meta = reader.get_meta_data()
        n = reader.count_frames()
        first = reader.get_data(0)
    finally:
        reader.close()
    assert first.shape[:2] == (200, 320)  # rounded down to even sizes for the codec
    assert meta["fps"] == pytest.approx(10)
    assert n == 26


def test_mp4_without_imageio_says_how_to_install_it(view, session, tmp_path, monkeypatch):
    monkeypatch.setattr(ex, "video_available", lambda: (False, f"MP4 export needs imageio and imageio-ffmpeg: {ex.VIDEO_HINT}"))
    with pytest.raises(ex.ExportError, match=r"pip install 'rnnviz\[video\]'"):
        ex.export_mp4(session, view, tmp_path / "a.mp4", 100, 100)


# trace and history ---------------------------------------------------------------------------------
@pytest.mark.parametrize("task", ["sine", "hello"])
def test_trace_json_round_trips_to_the_same_arrays(tmp_path, qapp, task):
    s = Session(NetworkConfig(task=task))
    try:
        out = ex.export_trace(s.trace, tmp_path / "t.json")
        doc = json.loads(out.read_text())
        assert doc["format"] == "rnnviz-trace-json" and doc["meta"]["activation"] == s.trace.activation
        back = load_trace_json(out)
        want = trace_arrays(s.trace)
        assert set(back) == set(want)
        for k, a in want.items():
            assert back[k].dtype == a.dtype, k
            np.testing.assert_array_equal(back[k], a, err_msg=k)
    finally:
        s.shutdown()


def test_trace_json_holds_the_same_arrays_as_the_npz(tmp_path, session):
    ex.export_trace(session.trace, tmp_path / "t.npz")
    ex.export_trace(session.trace, tmp_path / "t.json")
    with np.load(tmp_path / "t.npz") as z:
        npz_keys = set(z.files) - {"meta"}
    assert set(load_trace_json(tmp_path / "t.json")) == npz_keys
    t = load_trace(tmp_path / "t.npz")
    np.testing.assert_array_equal(t.h, session.trace.h)


def test_trace_json_writes_non_finite_values_as_strings(tmp_path, session):
    tr = session.trace
    tr.dL_dh = tr.dL_dh.copy()
    tr.dL_dh[0, 0, 0] = np.nan
    tr.dL_dh[0, 0, 1] = np.inf
    out = ex.export_trace(tr, tmp_path / "t.json")
    text = out.read_text()
    assert '"NaN"' in text and '"Infinity"' in text
    back = load_trace_json(out)
    assert np.isnan(back["dL_dh"][0, 0, 0]) and back["dL_dh"][0, 0, 1] == np.inf


def test_history_csv_rows_equal_the_trainer_history(tmp_path, session):
    c = TrainingController(session)
    try:
        for _ in range(23):
            c.step()
        out = ex.export_history(c, tmp_path / "h.csv")
        with open(out, newline="") as f:
            rows = list(csv.reader(f))
        h = c.trainer.history
        assert tuple(rows[0]) == HISTORY_COLUMNS
        assert len(rows) - 1 == len(h.loss) == 23
        assert [int(r[0]) for r in rows[1:]] == h.loss.iterations.tolist()
        assert [float(r[1]) for r in rows[1:]] == h.loss.values.tolist()
        assert [float(r[2]) for r in rows[1:]] == h.grad_norm.values.tolist()
        val = {int(r[0]): float(r[3]) for r in rows[1:] if r[3]}
        assert val == dict(zip(h.val_loss.iterations.tolist(), h.val_loss.values.tolist()))
        assert history_rows(h)[0][0] == 1
    finally:
        c.shutdown()


def test_history_export_while_training_waits_for_a_slow_iteration(tmp_path, session):
    """pause() waits only 0.2 s for the worker; an iteration can take longer (T=500, H=256).
    The CSV must not be written while the worker can still append to the history."""
    import threading
    import time

    c = TrainingController(session)
    try:
        c.step()  # the trainer exists, 1 iteration
        orig, entered = c.trainer.step, threading.Event()

        def slow():
            entered.set()
            time.sleep(0.6)
            return orig()

        c.trainer.step = slow
        c.train()
        assert entered.wait(2)
        out = ex.export_history(c, tmp_path / "h.csv")
        with open(out, newline="") as f:
            rows = list(csv.reader(f))
        c.shutdown()
        assert len(rows) - 1 == len(c.trainer.history.loss)
    finally:
        c.shutdown()


def test_history_before_training_is_a_clear_error(tmp_path, session):
    c = TrainingController(session)
    try:
        with pytest.raises(ex.ExportError, match="train the network first"):
            ex.export_history(c, tmp_path / "h.csv")
        assert not (tmp_path / "h.csv").exists()
    finally:
        c.shutdown()


# plots --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["loss", "hidden-time", "gradients", "predictions", "weights"])
def test_each_plot_exports_as_png_at_the_width_and_as_svg(qtbot, session, tmp_path, key):
    from rnnviz.app.views.plots import PLOTS

    c = TrainingController(session)
    try:
        for _ in range(12):
            c.step()
        panel = dict(PLOTS)[key](session, c)
        qtbot.addWidget(panel)
        panel.resize(700, 450)
        panel.show()
        qtbot.waitExposed(panel)
        png = ex.export_plot(panel, tmp_path / f"{key}.png", 1100)
        img = QImage()
        assert img.load(str(png)) and img.width() == 1100 and img.height() > 300
        tags = svg_tags(ex.export_plot(panel, tmp_path / f"{key}.svg"))
        assert tags.get("path", 0) + tags.get("polyline", 0) >= 3
        assert tags.get("text", 0) >= 3  # tick labels, titles
    finally:
        c.shutdown()


# File ▸ Export ------------------------------------------------------------------------------------
def test_file_menu_has_the_export_submenu(window):
    titles = [a.text() for a in window.export_menu.actions() if not a.isSeparator()]
    assert titles == ["View as PNG…", "View as SVG…", "Animation as GIF…", "Animation as MP4…",
                      "Trace as NPZ…", "Trace as JSON…", "Training history as CSV…"]


def test_menu_exports_write_files_and_report_errors_in_the_window(window, tmp_path):
    acts = window.export_actions
    paths = iter([tmp_path / "v.png", tmp_path / "a.gif", tmp_path / "t.json", tmp_path / "missing" / "v.svg"])
    acts.ask_path = lambda *a: str(next(paths))
    acts.ask_options = lambda title, animation: ({"width": 300, "height": 200, "speed": 10.0, "passes": "forward"}
                                                 if animation else {"width": 640, "height": 480})
    acts.view_png.trigger()
    assert QImage(str(tmp_path / "v.png")).width() == 640
    acts.anim_gif.trigger()
    assert (tmp_path / "a.gif").stat().st_size > 0
    acts.trace_json.trigger()
    assert set(load_trace_json(tmp_path / "t.json")) == set(trace_arrays(window.session.trace))
    assert window.last_error is None
    acts.view_svg.trigger()  # into a folder that does not exist
    assert window.last_error is not None and "does not exist" in window.last_error
    assert not (tmp_path / "missing").exists()


def test_menu_history_export_without_training_says_so(window, tmp_path):
    acts = window.export_actions
    acts.ask_path = lambda *a: pytest.fail("no file dialog without a history")
    acts.history_csv.trigger()
    assert "train the network first" in window.last_error


def test_menu_history_export_writes_the_window_training_history(window, tmp_path):
    for _ in range(5):
        window.training.step()
    acts = window.export_actions
    acts.ask_path = lambda *a: str(tmp_path / "h.csv")
    acts.history_csv.trigger()
    assert window.last_error is None
    assert (tmp_path / "h.csv").read_text().splitlines()[0] == "iteration,loss,grad_norm,val_loss"
    assert len((tmp_path / "h.csv").read_text().splitlines()) == 6
