"""Your own series: windows aligned to the end (the newest row is used), a chosen stride, the
newest windows held out with no training target among them, defaults from the length, index-like
columns left off, statistics from the training part only, and one clear error per bad input."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.engine.io.column_kinds import cell_kind, numeric_kind
from rnnviz.engine.io.importers import import_series, series_columns, series_summary, series_task
from rnnviz.engine.io.npz import FileFormatError
from rnnviz.engine.io.series_windows import default_steps, plan_windows

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def passengers() -> np.ndarray:
    """144 monthly values shaped like the air-passengers series: growth and a yearly swing."""
    i = np.arange(144)
    return np.round(112 * np.exp(0.0085 * i) * (1 + 0.12 * np.sin(2 * np.pi * i / 12)))  # (144,)


def air_csv(path, month=lambda i: f"{1949 + i // 12}-{i % 12 + 1:02d}"):
    v = passengers()
    path.write_text("Month,Passengers\n" + "\n".join(f"{month(i)},{int(v[i])}" for i in range(144)) + "\n")
    return path


def test_air_passengers_keep_the_newest_row_leave_the_date_off_and_say_the_figures(tmp_path):
    p = air_csv(tmp_path / "air.csv")
    task, summary = import_series(p)  # every default
    v = passengers()
    # defaults from the length: windows of 144 // 12 = 12 steps, stride 1 (12-step tiles give only 11)
    assert task.params["steps"] == 12 and task.params["stride"] == 1 and task.params["columns"] == ["Passengers"]
    # held out: round(0.2 · 143 / 12) = 2 windows = the newest 24 rows; training: starts 0..107
    assert task.x_train.shape == (12, 108, 1) and task.x_val.shape == (12, 2, 1)
    mean, std = v[: 143 - 24 + 1].mean(), v[: 143 - 24 + 1].std()  # rows 0..119: the training windows' rows
    assert task.params["mean"] == [pytest.approx(mean)] and task.params["std"] == [pytest.approx(std)]
    z = (v - mean) / std
    assert task.y_val[-1, -1, 0] == pytest.approx(z[-1])  # the newest row is the last held-out target
    assert task.x_val[0, 0, 0] == pytest.approx(z[119]) and task.y_train[-1, -1, 0] == pytest.approx(z[119])
    assert task.x_train[0, 0, 0] == pytest.approx(z[0])  # 0 rows dropped
    assert ("left off 'Month' (looks like an index: dates such as '1949-01')" in summary
            and "108 training + 2 held-out windows of 12 steps, stride 1 (held out: the newest 24 rows)" in summary
            and "no rows dropped" in summary
            and f"Passengers: mean {mean:.4g}, std {std:.4g}" in summary)


@pytest.mark.parametrize("month", [lambda i: f"{1949 + i // 12}/{i % 12 + 1:02d}",
                                   lambda i: f"{MONTHS[i % 12]} {1949 + i // 12}",
                                   lambda i: f"{1949 + i // 12}-{i % 12 + 1:02d}-01T00:00:00"],
                         ids=["slash", "month-name", "iso-datetime"])
def test_date_like_columns_look_like_an_index(tmp_path, month):
    kinds, n = series_columns(air_csv(tmp_path / "air.csv", month))
    assert n == 144 and [k.kind for k in kinds] == ["index", "values"]
    assert kinds[0].why.startswith("looks like an index: dates such as")


@pytest.mark.parametrize("column,kind", [
    (np.arange(1, 145.0), "index"),  # 1, 2, 3…
    (1949 + np.arange(144.0) // 12, "index"),  # a year column of monthly data
    (1949 + np.arange(144) / 12, "index"),  # decimal years: a constant step
    (np.array([3.0, 5, 4, 8, 7, 9]), "values"),
    (np.array([np.nan, np.inf, -np.inf]), "empty"),
])
def test_numeric_column_kinds(column, kind):
    assert numeric_kind("c", column).kind == kind


def test_an_increasing_integer_index_column_is_left_off_but_may_be_chosen(tmp_path):
    v = passengers()
    p = tmp_path / "counted.csv"
    p.write_text("t,Passengers\n" + "\n".join(f"{i + 1},{int(v[i])}" for i in range(144)))
    task, summary = import_series(p, steps=12)
    assert task.params["columns"] == ["Passengers"] and task.input_size == 1
    assert "left off 't' (looks like an index: whole numbers that only go up (1, 2, …))" in summary
    task, _ = import_series(p, ["t", "Passengers"], steps=12)  # ticked by hand: taken
    assert task.params["columns"] == ["t", "Passengers"] and task.input_size == 2
    npy = tmp_path / "counted.npy"
    np.save(npy, np.stack([np.arange(144.0), v], axis=1))
    task, summary = import_series(npy, steps=12)
    assert task.params["columns"] == ["column 2"] and "left off 'column 1'" in summary


@pytest.mark.parametrize("stride,held_out,n_train,n_val,dropped", [
    (1, 0.2, 108, 2, 0), (5, 0.2, 22, 2, 2), (12, 0.0, 11, 0, 11), (12, 0.5, 5, 6, 11), (20, 0.1, 6, 1, 19),
])
def test_stride_and_held_out_part(stride, held_out, n_train, n_val, dropped):
    v = passengers()[:, None]  # (144, 1)
    task, summary = series_task(v, ["v"], steps=12, stride=stride, held_out=held_out, normalise=False)
    assert task.x_train.shape[1] == n_train and (task.x_val.shape[1] if n_val else 0) == n_val
    train_targets = set()
    for k in range(n_train):  # each window is next-value prediction on consecutive rows
        start = dropped + k * stride
        np.testing.assert_array_equal(task.x_train[:, k, 0], v[start:start + 12, 0])
        np.testing.assert_array_equal(task.y_train[:, k, 0], v[start + 1:start + 13, 0])
        train_targets |= set(range(start + 1, start + 13))
    assert start + 12 == 143 - 12 * n_val  # the newest training window ends where the held-out part begins
    assert min(train_targets) - 1 == dropped
    if n_val:  # held out: the newest rows, side by side, the last ending at the last row
        held = v[144 - 12 * n_val:, 0]
        np.testing.assert_array_equal(task.y_val[:, :, 0].T.ravel(), held)
        assert not train_targets & set(range(144 - 12 * n_val, 144))
    said = "no rows dropped" if dropped == 0 else f"dropped the oldest {dropped} rows (rows 1–{dropped})"
    assert said in summary and task.params["dropped"] == dropped


def test_statistics_come_from_the_training_part_only():
    v = passengers()[:, None]
    task, _ = series_task(v, ["v"], steps=12, stride=1, held_out=0.2)
    spiked = v.copy()
    spiked[-24:] *= 100  # the held-out rows change wildly
    task2, summary2 = series_task(spiked, ["v"], steps=12, stride=1, held_out=0.2)
    assert task2.params["mean"] == task.params["mean"] and task2.params["std"] == task.params["std"]
    np.testing.assert_array_equal(task2.x_train, task.x_train)
    assert summary2 == series_summary(spiked, ["v"], steps=12, stride=1, held_out=0.2)


def test_default_window_length_from_the_series_length():
    assert [default_steps(n) for n in (2, 3, 30, 144, 240, 1000, 10**6)] == [1, 2, 2, 12, 20, 20, 20]
    plan = plan_windows(1000, 20)
    assert plan.stride == 20 and plan.n_train == 39  # long: side by side


BAD = [
    ("words.csv", "a,b\nx,y\nz,w\nq,r\n", {}, "holds no column of plain numbers"),
    ("one_row.csv", "v\n5\n", {}, "1 row is too few for a series"),
    ("nan_col.csv", "a,b\nnan,1\ninf,3\nnan,2\nnan,5\n", {"columns": ["a"]}, "row 2, column 'a': 'nan' is not a finite number"),
    ("nan_only.csv", "a,b\nnan,x\ninf,y\nnan,z\n", {}, "'a' holds no finite number (all NaN or Inf)"),
    ("long.csv", "v\n3\n1\n4\n1\n5\n", {"steps": 5}, "5 rows are too few for one sequence of 5 steps"),
    ("held.csv", "v\n" + "\n".join(str((i * 7) % 11) for i in range(30)), {"steps": 10, "held_out": 0.7},
     "leaves no room for a training window"),
]


@pytest.mark.parametrize("name,text,kwargs,problem", BAD, ids=[b[0] for b in BAD])
def test_bad_series_one_clear_message(tmp_path, name, text, kwargs, problem):
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(FileFormatError) as e:
        import_series(p, **kwargs)
    assert str(p) in str(e.value) and problem in str(e.value), str(e.value)


@pytest.mark.parametrize("stride", [0, -1, 1.5, "2", True])
def test_bad_stride_is_a_value_error_naming_it(tmp_path, stride):
    with pytest.raises(ValueError, match="the stride must be a whole number"):
        import_series(air_csv(tmp_path / "air.csv"), stride=stride)


def test_text_cells_are_not_dates():
    assert cell_kind("c", ["red", "green", "blue"]).kind == "text"
    assert cell_kind("c", ["1", "2", "x", "4", "0"]).kind == "values"  # a bad cell: named when read
