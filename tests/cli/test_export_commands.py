"""`rnnviz export …`: every kind of export from the command line, and its errors."""
from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from rnnviz.cli import main
from rnnviz.engine import Trainer, init_rnn, load_trace, make_task, run, save_model
from rnnviz.engine.io.export import load_trace_json


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_export_view_png_at_the_chosen_size(tmp_path, capsys, qapp):
    from PySide6.QtGui import QImage

    out = tmp_path / "view.png"
    code, stdout, err = cli(capsys, "export", "view", "--task", "sine", "--mode", "backward", "--step", 5,
                            "--width", 800, "--height", 500, "--out", out)
    assert code == 0, err
    assert f"wrote {out}" in stdout and "backward pass, step 5" in stdout
    img = QImage(str(out))
    assert (img.width(), img.height()) == (800, 500)


def test_export_view_svg_parses_and_holds_text(tmp_path, capsys, qapp):
    out = tmp_path / "view.svg"
    code, _, err = cli(capsys, "export", "view", "--task", "hello", "--fit", "--theme", "dark", "--out", out)
    assert code == 0, err
    root = ET.parse(out).getroot()
    tags = [el.tag.split("}")[-1] for el in root.iter()]
    assert tags.count("text") > 20 and tags.count("path") > 5


def test_export_animation_gif(tmp_path, capsys, qapp):
    from PIL import Image

    out = tmp_path / "anim.gif"
    code, stdout, err = cli(capsys, "export", "animation", "--task", "sine", "--steps", 6, "--speed", 4,
                            "--width", 300, "--height", 200, "--passes", "both", "--out", out)
    assert code == 0, err
    assert "13 frames at 4 steps/s" in stdout
    with Image.open(out) as im:
        assert im.n_frames == 13 and im.info["duration"] == 250 and im.size == (300, 200)


def test_export_animation_mp4(tmp_path, capsys, qapp):
    out = tmp_path / "anim.mp4"
    code, _, err = cli(capsys, "export", "animation", "--task", "sine", "--steps", 4, "--fps", 8,
                       "--width", 200, "--height", 120, "--passes", "forward", "--out", out)
    assert code == 0, err
    assert out.read_bytes()[4:8] == b"ftyp"  # an MP4 container


def test_export_trace_json_equals_the_npz(tmp_path, capsys):
    code, stdout, err = cli(capsys, "export", "trace", "--task", "sine", "--out", tmp_path / "t.json")
    assert code == 0, err
    code, _, err = cli(capsys, "export", "trace", "--task", "sine", "--out", tmp_path / "t.npz")
    assert code == 0, err
    t = load_trace(tmp_path / "t.npz")
    j = load_trace_json(tmp_path / "t.json")
    np.testing.assert_array_equal(j["h"], t.h)
    np.testing.assert_array_equal(j["dL_dh"], t.dL_dh)
    assert float(j["loss"]) == t.loss
    assert "T=25, B=1, H=8" in stdout


def test_export_trace_of_a_model_file_on_given_inputs(tmp_path, capsys):
    model = init_rnn(2, 5, 1, seed=3)
    save_model(model, tmp_path / "m.npz")
    x = np.random.default_rng(0).normal(size=(7, 2))
    np.save(tmp_path / "x.npy", x)
    code, _, err = cli(capsys, "export", "trace", "--model", tmp_path / "m.npz", "--inputs", tmp_path / "x.npy",
                       "--out", tmp_path / "t.json")
    assert code == 0, err
    j = load_trace_json(tmp_path / "t.json")
    np.testing.assert_allclose(j["h"], run(model, x[:, None, :]).h)


def test_export_history_csv_equals_the_trainer_history(tmp_path, capsys):
    out = tmp_path / "h.csv"
    code, stdout, err = cli(capsys, "export", "history", "--task", "sine", "--iterations", 30, "--out", out)
    assert code == 0, err
    task = make_task("sine")
    d = task.defaults
    model = init_rnn(task.input_size, d["hidden"], task.output_size, activation=d["activation"],
                     architecture=task.architecture, loss=task.loss, seed=0)
    trainer = Trainer(model, task.x_train, task.y_train, optimizer=d["optimizer"], lr=d["lr"], seed=0,
                      x_val=task.x_val, y_val=task.y_val)
    for _ in range(30):
        trainer.step()
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["iteration", "loss", "grad_norm", "val_loss"]
    assert len(rows) == 31
    np.testing.assert_allclose([float(r[1]) for r in rows[1:]], trainer.history.loss.values, rtol=1e-12)
    np.testing.assert_allclose([float(r[2]) for r in rows[1:]], trainer.history.grad_norm.values, rtol=1e-12)
    assert [int(r[0]) for r in rows[1:] if r[3]] == trainer.history.val_loss.iterations.tolist()


@pytest.mark.parametrize("name", ["loss", "hidden", "gradients", "predictions", "weights"])
def test_export_plot(tmp_path, capsys, qapp, name):
    from PySide6.QtGui import QImage

    png = tmp_path / f"{name}.png"
    code, _, err = cli(capsys, "export", "plot", "--name", name, "--iterations", 5, "--width", 900, "--out", png)
    assert code == 0, err
    assert QImage(str(png)).width() == 900
    svg = tmp_path / f"{name}.svg"
    code, _, err = cli(capsys, "export", "plot", "--name", name, "--iterations", 5, "--out", svg)
    assert code == 0, err
    ET.parse(svg)


@pytest.mark.parametrize("args, message", [
    (["view", "--out", "{tmp}/missing/v.png"], "does not exist"),
    (["view", "--out", "{tmp}/v.jpg"], "can be saved as .png or .svg"),
    (["view", "--step", "99", "--out", "{tmp}/v.png"], "--step must lie in 0..25"),
    (["view", "--width", "9000", "--out", "{tmp}/v.png"], "at most 8000"),
    (["animation", "--out", "{tmp}/a.avi"], "can be saved as .gif or .mp4"),
    (["trace", "--model", "{tmp}/nope.npz", "--out", "{tmp}/t.json"], "no such file"),
    (["trace", "--task", "sine", "--model", "{tmp}/m.npz", "--out", "{tmp}/t.json"], "either --task or --model"),
    (["trace", "--inputs", "{tmp}/x.npy", "--out", "{tmp}/t.json"], "go with --model"),
    (["history", "--iterations", "0", "--out", "{tmp}/h.csv"], "at least 1"),
    (["history", "--out", "{tmp}/h.txt"], "as .csv"),
    ([], "choose what to export"),
    (["plot", "--name", "nope", "--out", "{tmp}/p.png"], "invalid choice"),
])
def test_export_errors_are_one_line_and_exit_2(tmp_path, capsys, qapp, args, message):
    code, stdout, err = cli(capsys, "export", *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and err.startswith("rnnviz export")
    assert [p for p in tmp_path.iterdir()] == []


def test_export_view_of_a_model_without_inputs_says_it_uses_random_inputs(tmp_path, capsys):
    from rnnviz.cli import main

    assert main(["train", "--task", "hello", "--iterations", "2", "--out", str(tmp_path / "m.npz")]) == 0
    capsys.readouterr()
    assert main(["export", "view", "--model", str(tmp_path / "m.npz"), "--out", str(tmp_path / "v.png")]) == 0
    err = capsys.readouterr().err
    assert "random inputs" in err and "--inputs" in err
    assert (tmp_path / "v.png").stat().st_size > 0
