"""Malformed model, trace and input files and bad arguments: each ends in one clear error.

Loaders answer with a FileFormatError whose message names the file and the problem; the CLI
answers with exit status 2 and exactly one line on stderr, `rnnviz <cmd>: error: ...`, never a
traceback. Nothing in a file is ever unpickled.
"""
import io
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch

from rnnviz.cli import main
from rnnviz.engine import (
    FileFormatError,
    init_rnn,
    load_any_model,
    load_model,
    load_trace,
    prepare_targets,
    run,
    save_model,
    save_trace,
)
from rnnviz.engine.io.npz import load_array

torch.set_num_threads(1)

META = {"cell": "rnn", "activation": "tanh", "architecture": "many-to-many", "loss": "mse"}


def model_arrays(I=2, H=3, O=2, seed=0):
    m = init_rnn(I, H, O, seed=seed)
    return {**m.params(), "h0": m.h0, "meta": np.array(json.dumps(META))}


def write_npz(path, arrays):
    np.savez(path, **arrays)
    return path


def write_raw_npz(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def npy_bytes(arr, allow_pickle=False):
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def huge_header_npy(shape=(1_000_000, 1_000_000), descr="<f8"):
    """A .npy whose header claims an absurd shape, followed by a few bytes of 'data'."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue() + b"\0" * 64


class Boom:
    """Unpickling this would create a folder: proof that nothing is ever unpickled."""

    def __init__(self, sentinel):
        self.sentinel = sentinel

    def __reduce__(self):
        return (os.mkdir, (self.sentinel,))


def assert_names_file_and_problem(excinfo, path, *words):
    message = str(excinfo.value)
    assert str(path) in message, message
    assert excinfo.value.path == str(path)
    for w in words:
        assert w.lower() in message.lower(), f"{w!r} not in {message!r}"
    assert "\n" not in message


@pytest.fixture
def good_model_file(tmp_path):
    path = tmp_path / "good.npz"
    save_model(init_rnn(2, 3, 2, seed=0), path)
    return path


# ------------------------------------------------------------------------------------------
# model files: each case builds a broken file and names a word the message must contain
def case_empty(p):
    p.write_bytes(b"")
    return "empty"


def case_not_zip(p):
    p.write_text("W_xh = [[1, 2], [3, 4]]\n")
    return "not an .npz archive"


def case_truncated_zip(p):
    write_npz(p, model_arrays())
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    return "npz"


def case_corrupt_compressed_data(p):
    np.savez_compressed(p, **{k: np.random.default_rng(0).normal(size=(40, 40)) for k in ("W_xh", "W_hh")})
    data = bytearray(p.read_bytes())
    for i in range(200, 2000, 7):
        data[i] ^= 0x55
    p.write_bytes(bytes(data))
    return "damaged"


def case_member_not_npy(p):
    write_raw_npz(p, {"W_xh.npy": npy_bytes(np.zeros((2, 3))), "notes.txt": b"hello"})
    return "not a NumPy array"


def case_missing_key(p):
    arrays = model_arrays()
    del arrays["W_hh"]
    write_npz(p, arrays)
    return "missing array W_hh"


def case_missing_meta(p):
    arrays = model_arrays()
    del arrays["meta"]
    write_npz(p, arrays)
    return "missing 'meta'"


def case_wrong_shape(p):
    write_npz(p, {**model_arrays(), "W_hh": np.zeros((3, 4))})
    return "'W_hh' has shape (3, 4)"


def case_wrong_ndim(p):
    write_npz(p, {**model_arrays(), "b_h": np.zeros((3, 1))})
    return "'b_h' has shape (3, 1); expected 1 dimension"


def case_wrong_output_bias(p):
    write_npz(p, {**model_arrays(), "b_y": np.zeros(5)})
    return "'b_y' has shape (5,)"


def case_wrong_h0(p):
    write_npz(p, {**model_arrays(), "h0": np.zeros(7)})
    return "'h0' has shape (7,)"


def case_zero_hidden_units(p):
    write_npz(p, {**model_arrays(), "W_xh": np.zeros((2, 0)), "W_hh": np.zeros((0, 0)), "b_h": np.zeros(0),
                  "W_hy": np.zeros((0, 2)), "h0": np.zeros(0)})
    return "at least 1"


def case_zero_outputs(p):
    write_npz(p, {**model_arrays(), "W_hy": np.zeros((3, 0)), "b_y": np.zeros(0)})
    return "at least 1"


def case_strings(p):
    write_npz(p, {**model_arrays(), "W_xh": np.array([["a", "b", "c"], ["d", "e", "f"]])})
    return "'W_xh' has dtype <U1"


def case_bool(p):
    write_npz(p, {**model_arrays(), "W_hh": np.ones((3, 3), dtype=bool)})
    return "'W_hh' has dtype bool"


def case_complex(p):
    write_npz(p, {**model_arrays(), "W_hy": np.ones((3, 2), dtype=complex)})
    return "'W_hy' has dtype complex128"


def case_nan(p):
    w = np.zeros((3, 3))
    w[1, 2] = np.nan
    write_npz(p, {**model_arrays(), "W_hh": w})
    return "'W_hh' holds a non-finite value (nan) at index (1, 2)"


def case_inf(p):
    write_npz(p, {**model_arrays(), "b_y": np.array([0.0, -np.inf])})
    return "'b_y' holds a non-finite value (-inf) at index (1,)"


def case_meta_not_json(p):
    write_npz(p, {**model_arrays(), "meta": np.array("{activation: tanh")})
    return "'meta' is not valid JSON"


def case_meta_not_object(p):
    write_npz(p, {**model_arrays(), "meta": np.array("[1, 2]")})
    return "JSON object"


def case_meta_not_string(p):
    write_npz(p, {**model_arrays(), "meta": np.arange(3.0)})
    return "'meta' must be a JSON string"


def case_meta_unknown_activation(p):
    write_npz(p, {**model_arrays(), "meta": np.array(json.dumps({**META, "activation": "swish"}))})
    return "unknown activation 'swish'"


def case_meta_unknown_architecture(p):
    write_npz(p, {**model_arrays(), "meta": np.array(json.dumps({**META, "architecture": "many-to-some"}))})
    return "unknown architecture 'many-to-some'"


def case_meta_without_loss(p):
    write_npz(p, {**model_arrays(), "meta": np.array(json.dumps({"activation": "tanh", "architecture": "one-to-one"}))})
    return "does not say the loss"


def case_meta_other_cell(p):
    write_npz(p, {**model_arrays(), "meta": np.array(json.dumps({**META, "cell": "lstm"}))})
    return "cell 'lstm'"


def case_huge_header(p):
    arrays = model_arrays()
    members = {f"{k}.npy": npy_bytes(v) for k, v in arrays.items() if k != "W_xh"}
    members["W_xh.npy"] = huge_header_npy()
    write_raw_npz(p, members)
    return "too large to be real"


def case_huge_itemsize_header(p):
    members = {f"{k}.npy": npy_bytes(v) for k, v in model_arrays().items()}
    members["W_hh.npy"] = huge_header_npy(shape=(1000,), descr="|V2000000000")
    write_raw_npz(p, members)
    return "too large to be real"


def case_header_lies_about_size(p):
    members = {f"{k}.npy": npy_bytes(v) for k, v in model_arrays().items()}
    members["W_hh.npy"] = huge_header_npy(shape=(300, 300))  # claims 90,000 values, holds 8
    write_raw_npz(p, members)
    return "damaged"


MODEL_CASES = [v for k, v in sorted(globals().items()) if k.startswith("case_")]


@pytest.mark.parametrize("make_bad", MODEL_CASES, ids=lambda f: f.__name__[5:])
def test_malformed_model_file_raises_error_naming_file_and_problem(tmp_path, make_bad):
    path = tmp_path / "bad_model.npz"
    problem = make_bad(path)
    with pytest.raises(FileFormatError) as excinfo:
        load_model(path)
    assert_names_file_and_problem(excinfo, path, problem)
    with pytest.raises(FileFormatError):  # the same through the loader the CLI uses
        load_any_model(path)


# a meta without the loss: the CLI guesses it (tests/cli/test_cli_models.py), as the app's dialog does
@pytest.mark.parametrize("make_bad", [c for c in MODEL_CASES if c is not case_meta_without_loss], ids=lambda f: f.__name__[5:])
def test_cli_trace_on_malformed_model_prints_one_error_line_and_exits_2(tmp_path, capsys, make_bad):
    path = tmp_path / "bad_model.npz"
    problem = make_bad(path)
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((3, 1, 2)))
    out = tmp_path / "trace.npz"
    assert main(["trace", "--model", str(path), "--inputs", str(x), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.endswith("\n")
    assert err.startswith("rnnviz trace: error: ")
    assert str(path) in err and problem.lower() in err.lower()
    assert "Traceback" not in err
    assert not out.exists()


def test_object_arrays_are_refused_without_unpickling(tmp_path):
    sentinel = tmp_path / "unpickled"
    path = tmp_path / "evil.npz"
    members = {f"{k}.npy": npy_bytes(v) for k, v in model_arrays().items()}
    members["W_xh.npy"] = npy_bytes(np.array([Boom(str(sentinel))], dtype=object), allow_pickle=True)
    write_raw_npz(path, members)
    with pytest.raises(FileFormatError) as excinfo:
        load_model(path)
    assert_names_file_and_problem(excinfo, path, "Python objects", "never unpickles")
    npy = tmp_path / "evil.npy"
    npy.write_bytes(npy_bytes(np.array([Boom(str(sentinel))], dtype=object), allow_pickle=True))
    with pytest.raises(FileFormatError) as excinfo:
        load_array(npy)
    assert_names_file_and_problem(excinfo, npy, "Python objects")
    assert not sentinel.exists()
    # the crafted payload really would run if unpickled (so the check above means something)
    np.load(npy, allow_pickle=True)
    assert sentinel.is_dir()


def test_nonexistent_file(tmp_path):
    path = tmp_path / "nope.npz"
    with pytest.raises(FileFormatError) as excinfo:
        load_any_model(path)
    assert_names_file_and_problem(excinfo, path, "no such file")


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(FileFormatError) as excinfo:
        load_any_model(tmp_path)
    assert_names_file_and_problem(excinfo, tmp_path, "is a folder")
    with pytest.raises(FileFormatError):
        load_array(tmp_path)


def test_model_file_that_is_good_loads(good_model_file):
    model = load_model(good_model_file)
    assert (model.input_size, model.hidden_size, model.output_size) == (2, 3, 2)


# ------------------------------------------------------------------------------------------
# PyTorch files
def torch_sd(module, I=2, H=3, O=1):
    head = torch.nn.Linear(H, O)
    return {**{"rnn." + k: v for k, v in module.state_dict().items()},
            **{"fc." + k: v for k, v in head.state_dict().items()}}


@pytest.mark.parametrize("kind, problem", [
    ("lstm_bias_wrong", "rnn.bias_hh_l0 has shape (3,); expected (12,)"),
    ("gru_head_wrong_width", "fc.weight has shape (1, 5)"),
    ("lstm_meta_relu", "fixed nonlinearities"),
    ("two_layers", "multi-layer or bidirectional"),
    ("bidirectional", "multi-layer or bidirectional"),
    ("hidden_weights_1d", "do not form an nn.RNN"),
    ("no_head", "no nn.Linear readout"),
    ("head_wrong_width", "fc.weight has shape (1, 5)"),
    ("bias_wrong", "rnn.bias_ih_l0 has shape (4,)"),
    ("meta_sigmoid", "tanh or relu"),
])
def test_malformed_pytorch_state_dict_npz(tmp_path, kind, problem):
    torch.manual_seed(0)
    if kind.startswith("lstm"):  # LSTM / GRU state dicts load (test_gated_cells.py); broken ones do not
        sd = torch_sd(torch.nn.LSTM(2, 3))
    elif kind.startswith("gru"):
        sd = torch_sd(torch.nn.GRU(2, 3))
    elif kind == "two_layers":
        sd = torch_sd(torch.nn.RNN(2, 3, num_layers=2))
    elif kind == "bidirectional":
        sd = torch_sd(torch.nn.RNN(2, 3, bidirectional=True))
    else:
        sd = torch_sd(torch.nn.RNN(2, 3))
    sd = {k: v.detach().numpy() for k, v in sd.items()}
    if kind == "lstm_bias_wrong":
        sd["rnn.bias_hh_l0"] = np.zeros(3)
    elif kind == "gru_head_wrong_width":
        sd["fc.weight"] = np.zeros((1, 5))
    elif kind == "lstm_meta_relu":
        sd["meta"] = np.array(json.dumps({"activation": "relu"}))
    elif kind == "hidden_weights_1d":
        sd["rnn.weight_hh_l0"] = np.zeros(5)
    elif kind == "no_head":
        del sd["fc.weight"], sd["fc.bias"]
    elif kind == "head_wrong_width":
        sd["fc.weight"] = np.zeros((1, 5))
    elif kind == "bias_wrong":
        sd["rnn.bias_ih_l0"] = np.zeros(4)
    elif kind == "meta_sigmoid":
        sd["meta"] = np.array(json.dumps({"activation": "sigmoid"}))
    path = write_npz(tmp_path / f"{kind}.npz", sd)
    with pytest.raises(FileFormatError) as excinfo:
        load_any_model(path)
    assert_names_file_and_problem(excinfo, path, problem)


@pytest.mark.parametrize("content, problem", [
    (b"this is not a pickle or a zip", "not a PyTorch .pt file"),
    (b"", "empty"),
    ("list", "does not hold a state dict of tensors"),
    ("nested", "does not hold a state dict of tensors"),
    ("lstm_no_head", "no nn.Linear readout"),
    ("complex", "dtype complex64"),
])
def test_malformed_pt_file(tmp_path, content, problem):
    path = tmp_path / "model.pt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content == "list":
        torch.save([torch.zeros(3)], path)
    elif content == "nested":
        torch.save({"model": torch_sd(torch.nn.RNN(2, 3)), "epoch": 3}, path)
    elif content == "lstm_no_head":
        torch.save({"rnn." + k: v for k, v in torch.nn.LSTM(2, 3).state_dict().items()}, path)
    else:
        sd = torch_sd(torch.nn.RNN(2, 3))
        sd["rnn.weight_hh_l0"] = sd["rnn.weight_hh_l0"].to(torch.complex64)
        torch.save(sd, path)
    with pytest.raises(FileFormatError) as excinfo:
        load_any_model(path)
    assert_names_file_and_problem(excinfo, path, problem)


def test_pt_file_that_would_need_unpickling_code_is_refused(tmp_path):
    sentinel = tmp_path / "unpickled"
    path = tmp_path / "evil.pt"
    torch.save({"rnn.weight_ih_l0": Boom(str(sentinel))}, path)
    with pytest.raises(FileFormatError) as excinfo:
        load_any_model(path)
    assert_names_file_and_problem(excinfo, path, "holds a pickled")
    assert "will not unpickle" in str(excinfo.value)
    assert not sentinel.exists()


# ------------------------------------------------------------------------------------------
# trace files
@pytest.fixture
def trace_arrays(tmp_path):
    model = init_rnn(2, 3, 2, seed=1)
    rng = np.random.default_rng(1)
    path = tmp_path / "good_trace.npz"
    save_trace(run(model, rng.normal(size=(4, 2, 2)), rng.normal(size=(4, 2, 2))), path)
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


@pytest.mark.parametrize("change, problem", [
    (lambda a: a.pop("dL_dh"), "not an rnnviz trace: missing dL_dh"),
    (lambda a: a.pop("meta"), "missing meta"),
    (lambda a: a.update(h=a["h"][1:]), "'h' has shape (4, 2, 3)"),
    (lambda a: a.update(a=a["a"][:, :, :2]), "'a' has shape (4, 2, 2)"),
    (lambda a: a.update(grad_W_hh=a["grad_W_hh"].T[:2]), "'grad_W_hh' has shape (2, 3)"),
    (lambda a: a.update(y=np.full(a["y"].shape, np.nan)), "'y' holds a non-finite value (nan)"),
    (lambda a: a.update(x=a["x"].astype(str)), "'x' has dtype <U"),
    (lambda a: a.update(x=a["x"][0]), "'x' has shape (2, 2); expected (T, B, I)"),
    (lambda a: a.update(meta=np.array(json.dumps({"activation": "tanh"}))), "does not say the architecture"),
    (lambda a: a.update(grad_gain=np.ones(3)), "'grad_gain' has shape (3,); expected (4,)"),
    (lambda a: a.update(dL_dh_out=a["dL_dh_out"][:, :1]), "'dL_dh_out' has shape (4, 1, 3)"),
    (lambda a: a.update(targets=a["targets"][..., 0]), "'targets' has shape (4, 2); expected (4, 2, 2)"),
    (lambda a: a.update(targets=a["targets"].astype(str)), "'targets' has dtype <U"),
])
def test_malformed_trace_file(tmp_path, trace_arrays, change, problem):
    change(trace_arrays)
    path = write_npz(tmp_path / "bad_trace.npz", trace_arrays)
    with pytest.raises(FileFormatError) as excinfo:
        load_trace(path)
    assert_names_file_and_problem(excinfo, path, problem)


def test_model_file_is_not_a_trace(good_model_file):
    with pytest.raises(FileFormatError) as excinfo:
        load_trace(good_model_file)
    assert_names_file_and_problem(excinfo, good_model_file, "not an rnnviz trace")


# ------------------------------------------------------------------------------------------
# inputs and targets
@pytest.mark.parametrize("write, problem", [
    (lambda p: p.write_text("1 2 3\n"), "not a valid .npy file"),
    (lambda p: p.write_bytes(huge_header_npy()), "too large to be real"),
    (lambda p: np.save(p, np.array([[np.nan, 1.0]])), "non-finite value (nan)"),
    (lambda p: np.save(p, np.array([[1 + 2j]])), "dtype complex128"),
    (lambda p: np.save(p, np.array([["a"]])), "dtype <U1"),
    (lambda p: np.save(p, np.ones((2, 2), dtype=bool)), "dtype bool"),
    (lambda p: p.write_bytes(npy_bytes(np.zeros((100, 100)))[:300]), "not a valid .npy file"),
])
def test_malformed_input_array_file(tmp_path, write, problem):
    path = tmp_path / "inputs.npy"
    write(path)
    with pytest.raises(FileFormatError) as excinfo:
        load_array(path, "inputs")
    assert_names_file_and_problem(excinfo, path, problem)


def test_npz_inputs_with_two_arrays(tmp_path):
    path = write_npz(tmp_path / "inputs.npz", {"x": np.zeros((2, 1, 1)), "y": np.zeros(3)})
    with pytest.raises(FileFormatError) as excinfo:
        load_array(path)
    assert_names_file_and_problem(excinfo, path, "holds 2 arrays (x, y); expected one")


@pytest.mark.parametrize("x, problem", [
    (np.zeros((4, 2, 3)), "inputs have 3 features but the model takes 2"),
    (np.zeros((4, 2, 2, 1)), "inputs must have shape (T, B, I) or (T, I)"),
    (np.zeros(4), "inputs must have shape (T, B, I) or (T, I)"),
    (np.zeros((0, 2, 2)), "inputs hold no time steps"),
    (np.zeros((4, 0, 2)), "inputs hold no sequences"),
    (np.array([[["a", "b"]]]), "inputs must be real numbers"),
    (np.ones((4, 2, 2), dtype=bool), "inputs must be real numbers"),
    (np.ones((4, 2, 2), dtype=complex), "inputs must be real numbers"),
])
def test_bad_inputs_to_run(x, problem):
    model = init_rnn(2, 3, 2, seed=0)
    with pytest.raises(ValueError, match=None) as excinfo:
        run(model, x)
    assert problem in str(excinfo.value)


def test_one_to_many_with_no_time_steps_and_steps_given():
    model = init_rnn(1, 3, 1, architecture="one-to-many")
    with pytest.raises(ValueError, match="inputs hold no time steps"):
        run(model, np.zeros((0, 2, 1)), steps=5)


def test_one_to_one_with_several_steps():
    model = init_rnn(1, 3, 1, architecture="one-to-one")
    with pytest.raises(ValueError, match="exactly one step, but the inputs have 3"):
        run(model, np.zeros((3, 2, 1)))


@pytest.mark.parametrize("loss, architecture, targets, problem", [
    ("cross-entropy", "many-to-many", np.full((4, 2), 3), "class targets must lie in 0..2, got 3"),
    ("cross-entropy", "many-to-many", np.full((4, 2), -1), "class targets must lie in 0..2, got -1"),
    ("cross-entropy", "many-to-one", np.array([0, 7]), "class targets must lie in 0..2, got 7"),
    ("cross-entropy", "many-to-many", np.full((4, 2), 0.5), "integer class indices"),
    ("cross-entropy", "many-to-many", np.full((4, 2), np.nan), "integer class indices"),
    ("mse", "many-to-many", np.zeros((4, 2, 5)), "targets have shape (4, 2, 5); expected (4, 2, 3)"),
    ("mse", "many-to-one", np.zeros((3, 3)), "expected (4, 2, 3) or (2, 3)"),
    ("mse", "many-to-many", np.array([["x"]]), "mse targets must be real numbers"),
])
def test_bad_targets(loss, architecture, targets, problem):
    model = init_rnn(2, 3, 3, loss=loss, architecture=architecture)
    with pytest.raises(ValueError) as excinfo:
        run(model, np.zeros((4, 2, 2)), targets)
    assert problem in str(excinfo.value)
    with pytest.raises(ValueError):
        prepare_targets(model, targets, 4, 2)


# ------------------------------------------------------------------------------------------
# the command line
def run_cli(capsys, args):
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_error_line(code, err, command, *words):
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    prefix = f"rnnviz {command}: error:" if command else "rnnviz: error:"
    assert lines[0].startswith(prefix), err
    assert "Traceback" not in err
    for w in words:
        assert w in lines[0], f"{w!r} not in {lines[0]!r}"


@pytest.mark.parametrize("args, command, words", [
    (["train", "--lr", "-1"], "train", ["--lr", "expected a positive number, got -1"]),
    (["train", "--lr", "nan"], "train", ["--lr", "expected a positive number"]),
    (["train", "--lr", "fast"], "train", ["--lr", "expected a number, got 'fast'"]),
    (["train", "--iterations", "0"], "train", ["--iterations", "expected a positive whole number, got 0"]),
    (["train", "--iterations", "2.5"], "train", ["--iterations", "expected a whole number"]),
    (["train", "--momentum", "1.5"], "train", ["--momentum", "[0, 1)"]),
    (["train", "--clip", "0"], "train", ["--clip"]),
    (["train", "--task", "nope"], "train", ["--task", "invalid choice: 'nope'"]),
    (["train", "--optimizer", "rmsprop"], "train", ["--optimizer", "invalid choice: 'rmsprop'"]),
    (["train", "--frobnicate"], "train", ["unrecognized arguments: --frobnicate"]),
    (["trace", "--model", "m.npz"], "trace", ["required: --inputs, --out"]),
    (["trace", "--model", "m.npz", "--inputs", "x.npy", "--out", "t.npz", "--tbptt", "0"], "trace", ["--tbptt"]),
    (["gradcheck", "--activation", "swish"], "gradcheck", ["invalid choice: 'swish'"]),
    (["bogus"], None, ["invalid choice: 'bogus'"]),
    (["--task", "nope"], "app", ["invalid choice: 'nope'"]),
])
def test_bad_cli_arguments_print_one_error_line_and_exit_2(capsys, args, command, words):
    code, out, err = run_cli(capsys, args)
    assert out == ""
    assert_one_error_line(code, err, command, *words)


@pytest.mark.parametrize("extra, words", [
    (["--task", "sine", "--steps", "2", "--lag", "5"], ["echo lag"]),
    (["--task", "sine", "--batch-size", "1000"], ["batch size must lie between 1 and the 32"]),
    (["--task", "sine", "--out", "/nonexistent-folder/model.npz"], ["/nonexistent-folder/model.npz", "does not exist"]),
    (["--task", "sine", "--model", "m.npz"], ["either --task or --model"]),
    (["--model", "m.npz"], ["--model needs --inputs and --targets"]),
    (["--inputs", "x.npy"], ["--inputs and --targets go with --model"]),
])
def test_bad_cli_train_settings_print_one_error_line_and_exit_2(capsys, extra, words):
    args = ["train", "--iterations", "2", *extra]
    if "echo lag" in words:
        args[args.index("sine")] = "echo"
    code, out, err = run_cli(capsys, args)
    assert_one_error_line(code, err, "train", *words)


def test_cli_trace_with_inputs_of_wrong_feature_count(tmp_path, capsys, good_model_file):
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((5, 1, 7)))
    code, _, err = run_cli(capsys, ["trace", "--model", str(good_model_file), "--inputs", str(x), "--out", str(tmp_path / "t.npz")])
    assert_one_error_line(code, err, "trace", str(x), "inputs have 7 features but the model takes 2")


def test_cli_trace_with_class_targets_out_of_range(tmp_path, capsys):
    model = tmp_path / "ce.npz"
    save_model(init_rnn(2, 3, 4, loss="cross-entropy"), model)
    x, y = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(x, np.zeros((5, 2, 2)))
    np.save(y, np.full((5, 2), 4))
    code, _, err = run_cli(capsys, ["trace", "--model", str(model), "--inputs", str(x), "--targets", str(y),
                                    "--out", str(tmp_path / "t.npz")])
    assert_one_error_line(code, err, "trace", str(y), "class targets must lie in 0..3, got 4")


def test_cli_train_with_nonexistent_and_folder_model(tmp_path, capsys):
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((5, 1, 2)))
    for model, words in ((tmp_path / "missing.npz", "no such file"), (tmp_path, "is a folder")):
        code, _, err = run_cli(capsys, ["train", "--model", str(model), "--inputs", str(x), "--targets", str(x)])
        assert_one_error_line(code, err, "train", str(model), words)


def test_cli_train_on_garbage_pt(tmp_path, capsys):
    pt = tmp_path / "model.pt"
    pt.write_bytes(os.urandom(256))
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((5, 1, 2)))
    code, _, err = run_cli(capsys, ["train", "--model", str(pt), "--inputs", str(x), "--targets", str(x)])
    assert_one_error_line(code, err, "train", str(pt), "not a PyTorch .pt file")


def test_cli_run_as_module_shows_no_traceback(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 truncated")
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((3, 1, 2)))
    for args, command in ((["trace", "--model", str(bad), "--inputs", str(x), "--out", str(tmp_path / "t.npz")], "trace"),
                          (["train", "--lr", "-1"], "train")):
        proc = subprocess.run([sys.executable, "-m", "rnnviz", *args], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2
        assert proc.stdout == ""
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"rnnviz {command}: error:"), proc.stderr
        assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("shape", [(3,), (2, 5), (4, 5, 1)])
def test_an_initial_state_of_the_wrong_shape_is_named(cell, shape):
    from rnnviz.engine import run
    from rnnviz.engine.model import init_model

    model = init_model(cell, 2, 5, 1)
    x = np.zeros((3, 4, 2))  # B = 4, so h0 must be (5,) or (4, 5)
    with pytest.raises(ValueError, match=r"h0 must have shape \(5,\) or \(4, 5\)"):
        run(model, x, np.zeros((3, 4, 1)), h0=np.zeros(shape))
