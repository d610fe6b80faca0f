"""`rnnviz screenshot` writes a PNG of the requested size; bad arguments are one line, exit 2."""
from __future__ import annotations

import pytest
from PySide6.QtGui import QImage

from rnnviz.cli import main


@pytest.mark.parametrize("extra", [
    ["--step", "5"],
    ["--step", "10", "--mode", "backward", "--select", "W_hh:10"],
    ["--task", "hello", "--select", "h:2"],
    ["--theme", "dark", "--width", "900", "--height", "600"],
    ["--presentation", "--width", "1920", "--height", "1080"],
])
def test_screenshot_writes_png_of_requested_size(qapp, tmp_path, extra):
    out = tmp_path / "view.png"
    assert main(["screenshot", "--out", str(out), *extra]) == 0
    img = QImage(str(out))
    w = int(extra[extra.index("--width") + 1]) if "--width" in extra else 1600
    h = int(extra[extra.index("--height") + 1]) if "--height" in extra else 1000
    assert (img.width(), img.height()) == (w, h)
    assert out.stat().st_size > 10_000


@pytest.mark.parametrize("args, words", [
    (["--step", "99"], "--step"),
    (["--select", "Q:1"], "--select"),
    (["--hidden", "0"], "positive"),
    (["--select", "h:3:50"], "unit must lie in 0..7"),  # H = 8: unit 50 does not exist
    (["--task", "hello", "--select", "x:2:4"], "unit must lie in 0..3"),
    (["--select", "gate:f:3:1"], "no gates"),  # the vanilla cell
    (["--cell", "gru", "--select", "gate:f:3"], "r, z, n"),
    (["--cell", "gru", "--select", "c:3"], "LSTM"),
])
def test_bad_screenshot_arguments_are_one_line_and_exit_2(qapp, tmp_path, capsys, args, words):
    assert main(["screenshot", "--out", str(tmp_path / "x.png"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1
