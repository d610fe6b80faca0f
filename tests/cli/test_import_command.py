"""`rnnviz import FILE`: the columns and what each holds (an index-like column left off), the
windows, rows dropped and training statistics; --out writes the windows; bad input is one line."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.cli import main
from tests.engine.io.test_importers_series import air_csv, passengers


def test_import_prints_columns_windows_and_statistics(tmp_path, capsys):
    p = air_csv(tmp_path / "air.csv")
    out = tmp_path / "w.npz"
    assert main(["import", str(p), "--stride", "12", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "  Month — looks like an index: dates such as '1949-01'  [left off]" in lines
    assert "  Passengers  [used]" in lines
    assert "9 training + 2 held-out windows of 12 steps, stride 12 (held out: the newest 24 rows)" in lines
    assert "Dropped the oldest 11 rows (rows 1–11)" in lines
    v = passengers()[11:120]  # the training windows' rows
    assert f"Normalised with the training part's statistics (Passengers: mean {v.mean():.4g}, std {v.std():.4g})" in lines
    with np.load(out) as z:
        assert z["x_train"].shape == (12, 9, 1) and z["x_val"].shape == (12, 2, 1)
        assert z["mean"][0] == pytest.approx(v.mean()) and z["std"][0] == pytest.approx(v.std())
        assert z["y_val"][-1, -1, 0] == pytest.approx((passengers()[-1] - v.mean()) / v.std())


@pytest.mark.parametrize("extra,problem", [
    (["--stride", "0"], "argument --stride: expected a positive whole number, got 0"),
    (["--stride", "two"], "argument --stride: expected a whole number, got 'two'"),
    (["--steps", "500"], "144 rows are too few for one sequence of 500 steps"),
    (["--held-out", "0.95"], "leaves no room for a training window"),
    (["--columns", "Month"], "row 2, column 'Month': '1949-01' is not a number"),
])
def test_import_bad_arguments_are_one_line(tmp_path, capsys, extra, problem):
    p = air_csv(tmp_path / "air.csv")
    assert main(["import", str(p), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("rnnviz import: error:") and problem in err


def test_import_nothing_numeric(tmp_path, capsys):
    p = tmp_path / "w.csv"
    p.write_text("name,colour\nann,red\nbob,green\n")
    assert main(["import", str(p)]) == 2
    assert "holds no column of plain numbers" in capsys.readouterr().err
