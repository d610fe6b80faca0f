"""Importing your own data: CSV / .npy time series and .txt text become tasks; every malformed
file ends in a FileFormatError naming the file and the problem (row and column for a CSV cell)."""
from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnviz.engine import Trainer, init_rnn
from rnnviz.engine.io.npz import FileFormatError
from rnnviz.engine.io.importers import (
    MAX_TEXT_BYTES,
    import_series,
    import_text,
    parse_columns,
    read_series,
)


def write(path, data: bytes | str):
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def price_csv(n=1000, header=True, sep=","):
    rows = [f"2020-01-{i % 28 + 1:02d}{sep}{12.3 + np.sin(i / 5):.6f}{sep}{i % 7}" for i in range(n)]
    return ("date" + sep + "price" + sep + "volume\n" if header else "") + "\n".join(rows) + "\n"


# good files ------------------------------------------------------------------------------------
def test_csv_column_by_name_is_split_into_next_value_sequences(tmp_path):
    p = write(tmp_path / "prices.csv", price_csv(1000))
    task, summary = import_series(p, ["price"], steps=20, held_out=0.2)
    assert task.x_train.shape == (20, 39, 1) and task.x_val.shape == (20, 10, 1)
    assert summary.startswith("read 1,000 rows × 1 column 'price'")
    assert "39 training + 10 held-out windows of 20 steps, stride 20" in summary
    assert "dropped the oldest 19 rows (rows 1–19)" in summary  # 1000 − 1 − 10·20 − 39·20 = 19: aligned to the end
    assert "normalised with the training part's statistics (price: mean" in summary
    # next-value prediction: the target at t is the input at t+1
    np.testing.assert_array_equal(task.y_train[:-1], task.x_train[1:])
    # z-scored with the training part's statistics
    train_values = np.concatenate([task.x_train[:, :, 0].T.ravel(), task.y_train[-1:, -1, 0]])
    assert abs(train_values.mean()) < 1e-9 and abs(train_values.std() - 1) < 1e-9
    assert task.architecture == "many-to-many" and task.loss == "mse"


def test_csv_without_header_and_columns_by_index(tmp_path):
    p = write(tmp_path / "raw.csv", price_csv(200, header=False, sep=";"))
    task, summary = import_series(p, [1, 2], steps=10, stride=10, held_out=0.0, normalise=False)
    assert task.x_train.shape == (10, 19, 2) and task.x_val is None
    assert "no header" in summary and "not normalised" in summary
    lines = price_csv(200, header=False, sep=";").splitlines()
    # aligned to the end: 200 rows = 9 dropped + 19 windows of 10 + the last target
    assert "dropped the oldest 9 rows (rows 1–9)" in summary
    assert task.x_train[0, 0, 0] == pytest.approx(float(lines[9].split(";")[1]))
    assert task.y_train[-1, -1, 0] == pytest.approx(float(lines[-1].split(";")[1]))


def test_parse_columns_names_win_over_numbers():
    names = ["date", "price", "2"]
    assert parse_columns("price, 1", names) == ["price", 0]
    assert parse_columns("2", names) == ["2"]
    assert parse_columns(" ", names) == []


def test_npy_series_1d_and_2d(tmp_path):
    np.save(tmp_path / "s.npy", np.sin(np.arange(101.0)))
    task, summary = import_series(tmp_path / "s.npy", steps=10, stride=10, held_out=0.2)
    assert task.x_train.shape == (10, 8, 1) and task.x_val.shape == (10, 2, 1)
    np.save(tmp_path / "m.npy", np.random.default_rng(0).normal(size=(50, 3)))
    values, names, _ = read_series(tmp_path / "m.npy", [2, 0])
    assert values.shape == (50, 2) and names == ["column 3", "column 1"]


def test_text_task_one_hot_inputs_and_class_targets(tmp_path):
    p = write(tmp_path / "poem.txt", "the cat sat on the mat.\n" * 30)
    task, summary = import_text(p, steps=16, held_out=0.1)
    V = len(task.vocab)
    assert task.vocab == "".join(sorted(set("the cat sat on the mat.\n")))
    assert task.x_train.shape[0] == 16 and task.x_train.shape[2] == V and task.output_size == V
    assert task.loss == "cross-entropy" and task.y_train.dtype == np.int64
    np.testing.assert_array_equal(task.x_train.sum(axis=2), 1)
    np.testing.assert_array_equal(task.y_train[:-1], task.x_train[1:].argmax(axis=2))
    assert f"vocabulary of {V} characters" in summary and "held-out" in summary


def test_imported_tasks_train(tmp_path):
    p = write(tmp_path / "prices.csv", price_csv(300))
    task, _ = import_series(p, ["price"], steps=10)
    model = init_rnn(task.input_size, 4, task.output_size)
    trainer = Trainer(model, task.x_train, task.y_train, x_val=task.x_val, y_val=task.y_val)
    first = trainer.step().loss
    for _ in range(30):
        last = trainer.step().loss
    assert last < first


# bad files: each names the file and the problem ------------------------------------------------
def npy_header(shape, descr="<f8"):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %r, }" % (descr, shape)
    header = header + " " * (63 - (len(header) + 10) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()


def obj_npy():
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    return buf.getvalue()


def npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


BAD_SERIES = [
    ("empty.csv", b"", {}, "empty"),
    ("blank.csv", b"\n\n  \n", {}, "no rows"),
    ("header_only.csv", b"price\n", {}, "header row but no data"),
    ("word.csv", b"price\n1\n2\nabc\n4\n", {}, "row 4, column 'price': 'abc' is not a number"),
    ("empty_cell.csv", b"a,b\n1,2\n3,\n5,6\n", {"columns": ["b"]}, "row 3, column 'b': is empty"),
    ("nan.csv", b"x\n1\nnan\n3\n", {}, "row 3, column 'x': 'nan' is not a finite number"),
    ("inf.csv", b"x\n1\n2\n-inf\n", {}, "row 4, column 'x': '-inf' is not a finite number"),
    ("ragged.csv", b"a,b\n1,2\n3\n", {}, "row 3 has 1 cell"),
    ("nocol.csv", b"a,b\n1,2\n3,4\n", {"columns": ["c"]}, "no column named 'c'"),
    ("nocol_index.csv", b"a,b\n1,2\n3,4\n", {"columns": [5]}, "no column 6"),
    ("twice.csv", b"a,b\n1,2\n3,4\n", {"columns": ["a", 0]}, "same column is chosen twice"),
    ("short.csv", b"x\n1\n3\n2\n", {"steps": 20}, "too few for one sequence of 20 steps"),
    ("binary.csv", b"\x00\x01\x02garbage\xff", {}, "binary"),
    ("latin1.csv", "x\nnaïve\n".encode("latin-1"), {}, "not UTF-8"),
    ("zip_as.csv", b"PK\x03\x04" + b"\x00" * 40, {}, "not a valid .npy|not a valid .npz|not an .npz"),
    ("control.csv", b"x\n1\x07\n2\n", {}, "control character"),
    ("truncated.npy", npy(np.arange(100.0))[:90], {}, "not a valid .npy"),
    ("huge.npy", npy_header((100_000, 100_000)) + b"\0" * 16, {}, "too large to be real"),
    ("object.npy", obj_npy(), {}, "never unpickles"),
    ("strings.npy", npy(np.array(["a", "b"])), {}, "a time series must hold real numbers"),
    ("bool.npy", npy(np.array([True, False] * 30)), {}, "a time series must hold real numbers"),
    ("cube.npy", npy(np.zeros((4, 4, 4))), {}, "a time series is (n,) or (n, columns)"),
    ("nan.npy", npy(np.array([1.0, np.nan, 2.0] * 20)), {}, "row 2, column 1: nan is not a finite number"),
    ("overflow.npy", npy(np.array([1e300, -1e300] * 30)), {}, "1e+300: too large to normalise"),
    ("text_as.npy", b"1\n2\n3\n", {}, "not a valid .npy"),
    ("noncol.npy", npy(np.zeros((30, 0))), {}, "no columns"),
]


@pytest.mark.parametrize("name,content,kwargs,problem", BAD_SERIES, ids=[b[0] for b in BAD_SERIES])
def test_malformed_series_file_names_file_and_problem(tmp_path, name, content, kwargs, problem):
    p = write(tmp_path / name, content)
    with pytest.raises(FileFormatError) as e:
        import_series(p, **kwargs)
    assert str(p) in str(e.value)
    assert any(part in str(e.value) for part in problem.split("|")), str(e.value)


BAD_TEXT = [
    ("empty.txt", b"", {}, "empty"),
    ("spaces.txt", b"   \n\n\t ", {}, "no text"),
    ("binary.txt", bytes(range(256)) * 4, {}, "binary"),
    ("png.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", {}, "binary"),
    ("latin1.txt", "café au lait ".encode("latin-1") * 10, {}, "not UTF-8"),
    ("one_char.txt", b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", {}, "only one character"),
    ("short.txt", b"abc", {"steps": 25}, "too few for one sequence"),
    ("vocab.txt", "".join(chr(0x4E00 + i) for i in range(400)).encode() * 2, {}, "different characters"),
    ("npz_as.txt", b"PK\x03\x04rest", {}, "binary"),
]


@pytest.mark.parametrize("name,content,kwargs,problem", BAD_TEXT, ids=[b[0] for b in BAD_TEXT])
def test_malformed_text_file_names_file_and_problem(tmp_path, name, content, kwargs, problem):
    p = write(tmp_path / name, content)
    with pytest.raises(FileFormatError) as e:
        import_text(p, **kwargs)
    assert str(p) in str(e.value) and problem in str(e.value), str(e.value)


def test_text_file_too_large_is_refused_before_reading(tmp_path):
    p = tmp_path / "big.txt"
    with open(p, "wb") as f:
        f.truncate(MAX_TEXT_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(FileFormatError, match="up to"):
        import_text(p)


def test_bad_parameters_are_value_errors(tmp_path):
    p = write(tmp_path / "s.csv", price_csv(100))
    with pytest.raises(ValueError, match="sequence length"):
        import_series(p, steps=0)
    with pytest.raises(ValueError, match="held-out"):
        import_text(p, held_out=1.5)


# fuzzing -----------------------------------------------------------------------------------------
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _only_own_errors(fn, path) -> None:
    try:
        fn(path)
    except FileFormatError:
        pass


@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".npy", ".txt"]))
def test_fuzz_random_bytes(tmp_path, data, suffix):
    p = tmp_path / f"f{suffix}"
    p.write_bytes(data)
    _only_own_errors(lambda q: import_series(q, steps=3), p)
    _only_own_errors(lambda q: import_text(q, steps=3), p)


def _mutate(valid: bytes, draw) -> bytes:
    b = bytearray(valid)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert"]))
        i = draw(st.integers(0, max(len(b) - 1, 0)))
        if op == "flip" and b:
            b[i] = draw(st.integers(0, 255))
        elif op == "cut":
            del b[i:]
        else:
            b[i:i] = draw(st.binary(min_size=1, max_size=8))
    return bytes(b)


@FUZZ
@given(data=st.data(), kind=st.sampled_from(["csv", "npy", "txt"]))
def test_fuzz_mutated_valid_files(tmp_path, data, kind):
    valid = {"csv": price_csv(40).encode(), "npy": npy(np.arange(60.0)), "txt": ("some text here. " * 10).encode()}[kind]
    p = tmp_path / f"m.{kind}"
    p.write_bytes(_mutate(valid, data.draw))
    if kind == "txt":
        _only_own_errors(lambda q: import_text(q, steps=4), p)
    else:
        _only_own_errors(lambda q: import_series(q, steps=4), p)
