"""The command line: train, trace and gradcheck, called as rnnviz.cli.main([...])."""
import re

import numpy as np
import pytest
import torch

from rnnviz.cli import main
from rnnviz.engine import LOSSES, PARAM_NAMES, TASKS, init_rnn, load_model, load_trace, make_task, run, save_model

torch.set_num_threads(1)


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def printed_loss(out, which):
    return float(re.search(rf"^{which} loss\s+(\S+)$", out, re.M).group(1))


@pytest.mark.parametrize("name", list(TASKS))
def test_train_on_builtin_task_prints_first_and_last_loss_and_writes_a_loadable_model(tmp_path, capsys, name):
    out_file = tmp_path / f"{name}.npz"
    code, out, err = cli(capsys, "train", "--task", name, "--iterations", 4, "--out", out_file)
    assert code == 0, err
    assert err == ""
    task = make_task(name)
    # the first loss is that of the freshly initialised network on the training set
    hidden = task.defaults["hidden"]
    initial = init_rnn(task.input_size, hidden, task.output_size, activation=task.defaults["activation"],
                       architecture=task.architecture, loss=task.loss, seed=0)
    first = printed_loss(out, "first")
    assert first == pytest.approx(run(initial, task.x_train, task.y_train).loss, rel=1e-5)
    assert np.isfinite(printed_loss(out, "last"))
    assert f"{hidden} hidden units, 4 iterations of {task.defaults['optimizer']}" in out
    assert f"wrote {out_file}" in out
    model = load_model(out_file)
    assert (model.architecture, model.loss, model.activation) == (task.architecture, task.loss, task.defaults["activation"])
    assert model.extra_meta["task"] == name
    assert (model.input_size, model.hidden_size, model.output_size) == (task.input_size, hidden, task.output_size)
    assert any(not np.array_equal(getattr(model, p), getattr(initial, p)) for p in PARAM_NAMES)  # it trained
    if task.x_val is not None:
        assert "held-out loss" in out


def test_training_longer_lowers_the_loss(tmp_path, capsys):
    code, out, _ = cli(capsys, "train", "--task", "xor", "--iterations", 150)
    assert code == 0
    assert printed_loss(out, "last") < 0.5 * printed_loss(out, "first")


def test_train_options_reach_the_trainer(tmp_path, capsys):
    out_file = tmp_path / "m.npz"
    code, out, err = cli(capsys, "train", "--task", "echo", "--steps", 8, "--lag", 2, "--hidden", 5, "--activation", "relu",
                         "--optimizer", "sgd", "--lr", 0.05, "--momentum", 0.9, "--clip", 1, "--batch-size", 8,
                         "--tbptt", 4, "--seed", 3, "--iterations", 3, "--float32", "--out", out_file)
    assert code == 0, err
    assert "5 hidden units, 3 iterations of sgd" in out
    model = load_model(out_file)
    assert model.dtype == np.float32 and model.activation == "relu" and model.hidden_size == 5
    # the same command gives the same model (the seed fixes everything)
    again = tmp_path / "again.npz"
    cli(capsys, "train", "--task", "echo", "--steps", 8, "--lag", 2, "--hidden", 5, "--activation", "relu",
        "--optimizer", "sgd", "--lr", 0.05, "--momentum", 0.9, "--clip", 1, "--batch-size", 8,
        "--tbptt", 4, "--seed", 3, "--iterations", 3, "--float32", "--out", again)
    for p in PARAM_NAMES:
        np.testing.assert_array_equal(getattr(load_model(again), p), getattr(model, p))


@pytest.mark.parametrize("loss", ["mse", "cross-entropy"])
def test_train_own_model_many_to_one_with_one_target_per_sequence(tmp_path, capsys, loss):
    rng = np.random.default_rng(0)
    T, N, I, O = 5, 6, 2, 3
    model_file = tmp_path / "m.npz"
    save_model(init_rnn(I, 4, O, architecture="many-to-one", loss=loss, seed=1), model_file)
    x_file, y_file = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(x_file, rng.normal(size=(T, N, I)))
    np.save(y_file, rng.normal(size=(N, O)) if loss == "mse" else rng.integers(0, O, size=N))
    out_file = tmp_path / "trained.npz"
    code, out, err = cli(capsys, "train", "--model", model_file, "--inputs", x_file, "--targets", y_file,
                         "--iterations", 5, "--lr", 0.05, "--out", out_file)
    assert code == 0, err
    assert out.startswith(f"{model_file}: 4 hidden units, 5 iterations of adam")
    assert printed_loss(out, "last") < printed_loss(out, "first")
    assert load_model(out_file).architecture == "many-to-one"


def test_train_from_pytorch_state_dict(tmp_path, capsys):
    torch.manual_seed(0)
    rnn, fc = torch.nn.RNN(2, 3, nonlinearity="relu"), torch.nn.Linear(3, 1)
    sd = {**{f"rnn.{k}": v for k, v in rnn.state_dict().items()}, **{f"fc.{k}": v for k, v in fc.state_dict().items()}}
    pt = tmp_path / "net.pt"
    torch.save(sd, pt)
    x_file, y_file = tmp_path / "x.npy", tmp_path / "y.npy"
    rng = np.random.default_rng(1)
    np.save(x_file, rng.normal(size=(6, 4, 2)))
    np.save(y_file, rng.normal(size=(6, 4, 1)))
    code, out, err = cli(capsys, "train", "--model", pt, "--activation", "relu", "--inputs", x_file, "--targets", y_file,
                         "--iterations", 2, "--out", tmp_path / "out.npz")
    assert code == 0, err
    model = load_model(tmp_path / "out.npz")
    assert model.activation == "relu" and model.extra_meta["imported_from"] == "pytorch"


def test_train_stops_with_one_line_on_nonfinite_values(capsys):
    # warned of the divergence at iteration 1, it goes on until the numbers overflow
    code, out, err = cli(capsys, "train", "--task", "sine", "--activation", "identity", "--optimizer", "sgd",
                         "--lr", "1e100", "--iterations", 5, "--on-divergence", "warn")
    assert code == 2
    warning, error = err.splitlines()
    assert warning.startswith("rnnviz train: warning: iteration 1: training diverged: ")
    assert re.match(r"rnnviz train: error: iteration 2: non-finite value in .* at time step t=\d+", error)


def test_train_stops_a_diverging_run_with_one_line(capsys):
    code, out, err = cli(capsys, "train", "--task", "hello", "--optimizer", "adam", "--lr", "1e6", "--iterations", 5)
    assert code == 2 and len(err.splitlines()) == 1
    assert re.match(r"rnnviz train: error: iteration 1: training diverged: the (weight|bias) \w+\[[\d, ]+\] "
                    r"reached 1e\+06, past the limit of 1000 for any weight; training stopped and the initial weights kept", err)


# ------------------------------------------------------------------------------------------
def make_files(tmp_path, architecture="many-to-many", loss="mse", T=5, B=3, I=2, H=4, O=2, x_steps=None, target_shape=None):
    rng = np.random.default_rng(5)
    model = init_rnn(I, H, O, architecture=architecture, loss=loss, seed=5)
    model_file, x_file, y_file = tmp_path / "m.npz", tmp_path / "x.npy", tmp_path / "y.npy"
    save_model(model, model_file)
    x = rng.normal(size=(x_steps or T, B, I))
    shape = target_shape or ((T, B, O) if loss == "mse" else (T, B))
    y = rng.normal(size=shape) if loss == "mse" else rng.integers(0, O, size=shape)
    np.save(x_file, x)
    np.save(y_file, y)
    return model, x, y, model_file, x_file, y_file


def assert_trace_file_equals_run(path, expected):
    got = load_trace(path)
    for name in ("x", "a", "h", "y", "loss_t", "dL_dy", "dL_dh", "dL_dh_out", "dL_da", "grad_gain"):
        np.testing.assert_array_equal(getattr(got, name), getattr(expected, name), err_msg=name)
    for name in expected.grads:
        np.testing.assert_array_equal(got.grads[name], expected.grads[name], err_msg=name)
    for name in expected.params:
        np.testing.assert_array_equal(got.params[name], expected.params[name], err_msg=name)
    if expected.probs is not None:
        np.testing.assert_array_equal(got.probs, expected.probs)
    assert got.loss == expected.loss or (np.isnan(got.loss) and np.isnan(expected.loss))
    assert got.tbptt == expected.tbptt
    return got


@pytest.mark.parametrize("loss", ["mse", "cross-entropy"])
def test_trace_writes_a_loadable_trace_equal_to_engine_run(tmp_path, capsys, loss):
    model, x, y, model_file, x_file, y_file = make_files(tmp_path, loss=loss)
    out_file = tmp_path / "trace.npz"
    code, out, err = cli(capsys, "trace", "--model", model_file, "--inputs", x_file, "--targets", y_file, "--out", out_file)
    assert code == 0, err
    expected = run(model, x, y)
    assert out.strip() == f"wrote {out_file}: T=5, B=3, H=4, loss {expected.loss:.6g}"
    assert_trace_file_equals_run(out_file, expected)


def test_trace_without_targets_and_with_truncation(tmp_path, capsys):
    model, x, y, model_file, x_file, _ = make_files(tmp_path)
    code, out, _ = cli(capsys, "trace", "--model", model_file, "--inputs", x_file, "--tbptt", 2, "--out", tmp_path / "t.npz")
    assert code == 0 and "loss" not in out
    assert_trace_file_equals_run(tmp_path / "t.npz", run(model, x, tbptt=2))


def test_trace_one_to_many_with_steps(tmp_path, capsys):
    model, x, y, model_file, x_file, y_file = make_files(tmp_path, architecture="one-to-many", T=7, x_steps=1)
    out_file = tmp_path / "trace.npz"
    code, out, err = cli(capsys, "trace", "--model", model_file, "--inputs", x_file, "--targets", y_file,
                         "--steps", 7, "--out", out_file)
    assert code == 0, err
    got = assert_trace_file_equals_run(out_file, run(model, x, y, steps=7))
    assert got.T == 7 and not np.any(got.x[1:])
    assert "T=7" in out


def test_trace_many_to_one_with_one_target_per_sequence(tmp_path, capsys):
    model, x, y, model_file, x_file, y_file = make_files(tmp_path, architecture="many-to-one", target_shape=(3, 2))
    out_file = tmp_path / "trace.npz"
    code, _, err = cli(capsys, "trace", "--model", model_file, "--inputs", x_file, "--targets", y_file, "--out", out_file)
    assert code == 0, err
    got = assert_trace_file_equals_run(out_file, run(model, x, y))
    np.testing.assert_array_equal(got.targets[-1], y)
    assert not np.any(got.targets[:-1]) and not np.any(got.loss_t[:-1])


def test_trace_overrides_the_models_settings(tmp_path, capsys):
    model, x, y, model_file, x_file, _ = make_files(tmp_path, O=3)
    np.save(tmp_path / "cls.npy", np.random.default_rng(0).integers(0, 3, size=(5, 3)))
    code, _, err = cli(capsys, "trace", "--model", model_file, "--inputs", x_file, "--targets", tmp_path / "cls.npy",
                       "--activation", "sigmoid", "--loss", "cross-entropy", "--out", tmp_path / "t.npz")
    assert code == 0, err
    got = load_trace(tmp_path / "t.npz")
    assert (got.activation, got.loss_name) == ("sigmoid", "cross-entropy")
    assert np.all(got.h[1:] > 0)


def test_gradcheck_exits_0_and_reports_every_combination(capsys):
    code, out, err = cli(capsys, "gradcheck")
    assert code == 0, out + err
    lines = out.strip().splitlines()
    assert len(lines) == 4 * 4 * len(LOSSES) + 1  # activations × architectures × losses, and the verdict
    worst = float(re.search(r"worst relative error (\S+) \(ok\)", lines[-1]).group(1))
    assert worst < 1e-6


def test_gradcheck_on_one_combination(capsys):
    code, out, _ = cli(capsys, "gradcheck", "--activation", "relu", "--architecture", "many-to-one", "--loss", "mse", "--seed", 3)
    assert code == 0
    assert len(out.strip().splitlines()) == 2 and out.startswith("relu")


def test_train_refuses_an_unusable_out_path_before_training(tmp_path, capsys):
    from rnnviz.cli import main

    assert main(["train", "--task", "sine", "--iterations", "3", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(tmp_path) in err[0] and "folder" in err[0] and ".tmp" not in err[0]
    assert main(["train", "--task", "sine", "--iterations", "3", "--out", str(tmp_path / "no" / "m.npz")]) == 2
    out = capsys.readouterr()
    assert "does not exist" in out.err and "first loss" not in out.out  # failed before training
