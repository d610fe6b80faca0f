"""`rnnviz trace|train --model` on a user's own PyTorch network: the guesses for what a state dict
does not record, said on stderr one line each and right for the four reference models of
tests/torch_models.py (only `--nonlinearity relu` given, where a state dict cannot say it); the
trace written agrees with PyTorch autograd to 1e-9; shapes that do not fit name the flag that would."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rnnviz.cli import main  # noqa: E402
from rnnviz.engine import init_model, load_trace  # noqa: E402
from tests import torch_models as tm  # noqa: E402
from tests.engine.agreement import close  # noqa: E402

torch.set_num_threads(1)


def cli(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("make", tm.ALL, ids=lambda f: f.__name__)
def test_trace_of_a_reference_model_guesses_right_and_agrees_with_autograd(tmp_path, capsys, make):
    ref = make()
    model = ref.save(tmp_path)
    xp, yp = ref.save_data(tmp_path)
    out = tmp_path / "trace.npz"
    flags = ["--nonlinearity", "relu"] if ref.nonlinearity == "relu" else []
    code, stdout, err = cli(capsys, "trace", "--model", model, "--inputs", xp, "--targets", yp, "--out", out, *flags)
    assert code == 0, err
    said = dict(line.split(": ", 1) for line in err.splitlines())
    assert said["architecture"].startswith(f"{ref.architecture} (targets hold one value per ")
    guessed_loss = "mse" if ref.loss == "mse" else "cross-entropy"
    assert said["loss"].startswith(f"{guessed_loss} (")
    assert said["layout"].startswith("batch first (B, T, I)" if ref.batch_first else "time-major (T, B, I)")
    if ref.cell == "rnn" and not flags:
        assert said["nonlinearity"] == "tanh (a state dict does not record nn.RNN's nonlinearity; tanh is PyTorch's default)"
    else:
        assert "nonlinearity" not in said  # given, or an LSTM / GRU
    assert len(said) == len(err.splitlines())

    trace = load_trace(out)
    want = tm.torch_reference(ref)
    close(trace.h[1:], want["h"], "h")
    assert trace.loss == pytest.approx(want["loss"], rel=1e-9)  # cross-entropy on logits = LogSoftmax + NLLLoss
    if ref.loss != "nll":
        close(trace.y[-1] if ref.architecture == "many-to-one" else trace.y, want["y"], "outputs")
    got = tm.grads_as_torch(trace.grads, ref)
    for key, g in want["grads"].items():
        close(got[key], g, key)
    assert f"loss {trace.loss:.6g}" in stdout


def test_tutorial_model_with_loss_nll_shows_the_log_probabilities(tmp_path, capsys):
    ref = tm.char_rnn()
    xp, yp = ref.save_data(tmp_path)
    code, _, err = cli(capsys, "trace", "--model", ref.save(tmp_path), "--inputs", xp, "--targets", yp, "--loss", "nll",
                       "--out", tmp_path / "t.npz")
    assert code == 0, err
    assert not any(line.startswith("loss:") for line in err.splitlines())  # given, not guessed
    close(load_trace(tmp_path / "t.npz").y[-1], tm.torch_reference(ref)["y"], "log-probabilities")


def test_explicit_architecture_wins_and_the_error_names_the_flag_that_fits(tmp_path, capsys):
    ref = tm.char_rnn()
    xp, yp = ref.save_data(tmp_path)
    code, _, err = cli(capsys, "trace", "--model", ref.save(tmp_path), "--inputs", xp, "--targets", yp,
                       "--architecture", "many-to-many", "--out", tmp_path / "t.npz")
    assert code == 2
    assert err == (f"rnnviz trace: error: {yp}: targets have shape (1,); expected (9, 1) for many-to-many — "
                   "pass --architecture many-to-one if there is one target per sequence\n")


def test_inputs_on_the_wrong_layout_name_batch_first(tmp_path, capsys):
    ref = tm.relu_regression()
    xp, yp = ref.save_data(tmp_path)
    code, _, err = cli(capsys, "trace", "--model", ref.save(tmp_path), "--inputs", xp, "--targets", yp, "--time-major",
                       "--out", tmp_path / "t.npz")
    assert code == 2 and len(err.splitlines()) == 1
    # read time-major, (5, 7, 2) is 5 steps of 7 sequences: the 5 targets fit no architecture
    assert err.endswith("targets have shape (5, 1); expected (5, 7, 1) for many-to-many — pass --batch-first and "
                        "--architecture many-to-one if the inputs are (B, T, I)\n")
    assert not (tmp_path / "t.npz").exists()


def test_nan_inputs_get_one_line(tmp_path, capsys):
    ref = tm.lstm_classifier()
    ref.x[2, 1, 0] = np.nan
    xp, yp = ref.save_data(tmp_path)
    code, _, err = cli(capsys, "trace", "--model", ref.save(tmp_path), "--inputs", xp, "--out", tmp_path / "t.npz")
    assert code == 2 and len(err.splitlines()) == 1
    assert "non-finite value (nan) at index (2, 1, 0)" in err


def test_whole_pickled_module_gets_one_clean_line(tmp_path, capsys):
    ref = tm.char_rnn()
    path = tmp_path / "whole.pt"
    torch.save(ref.module, path)
    xp, _ = ref.save_data(tmp_path)
    code, _, err = cli(capsys, "trace", "--model", path, "--inputs", xp, "--out", tmp_path / "t.npz")
    assert code == 2
    assert err == (f"rnnviz trace: error: {path}: holds a pickled nn.Module, which rnnviz will not unpickle "
                   "(it could run code); save model.state_dict() instead\n")


def test_train_on_a_reference_model_says_its_guesses_and_learns(tmp_path, capsys):
    ref = tm.relu_regression()
    xp, yp = ref.save_data(tmp_path)
    code, stdout, err = cli(capsys, "train", "--model", ref.save(tmp_path), "--inputs", xp, "--targets", yp,
                            "--nonlinearity", "relu", "--iterations", "30", "--out", tmp_path / "trained.npz")
    assert code == 0, err
    assert "architecture: many-to-one (targets hold one value per sequence)" in err.splitlines()
    first = float(stdout.split("first loss")[1].split()[0])
    last = float(stdout.split("last loss")[1].split()[0])
    assert first == pytest.approx(tm.torch_reference(ref)["loss"], rel=1e-5) and last < first  # printed to 6 digits


def test_flags_that_go_with_a_model_are_refused_with_a_task(capsys):
    code, _, err = cli(capsys, "train", "--task", "sine", "--batch-first")
    assert code == 2 and "--batch-first" in err and "go with --model" in err


def test_rnnviz_file_without_its_loss_in_meta_gets_the_guess_said(tmp_path, capsys):
    model = init_model("rnn", 2, 3, 1, seed=0)
    meta = {"cell": "rnn", "activation": "tanh", "architecture": "many-to-many"}
    np.savez(tmp_path / "m.npz", **model.params(), meta=np.array(json.dumps(meta)))
    np.save(tmp_path / "x.npy", np.zeros((4, 2)))
    code, _, err = cli(capsys, "trace", "--model", tmp_path / "m.npz", "--inputs", tmp_path / "x.npy", "--out", tmp_path / "t.npz")
    assert code == 0, err
    assert err.startswith("loss: mse (no targets given, and the file does not record the loss")


# --- rnnviz show --model ------------------------------------------------------------------------------
def test_show_opens_the_app_on_the_model_as_guessed(tmp_path, capsys, monkeypatch):
    import rnnviz.app.main as app_main

    opened = {}
    monkeypatch.setattr(app_main, "run_app", lambda **kw: opened.update(kw) or 0)  # no window in this test
    ref = tm.lstm_classifier()
    xp, yp = ref.save_data(tmp_path)
    code, _, err = cli(capsys, "show", "--model", ref.save(tmp_path), "--inputs", xp, "--targets", yp)
    assert code == 0, err
    assert opened["label"] == "lstm_classifier.pt" and opened["report"] == err.splitlines()
    model = opened["model"]
    assert (model.cell, model.architecture, model.loss) == ("lstm", "many-to-one", "cross-entropy")
    np.testing.assert_array_equal(model.W_hy, ref.module.fc.weight.detach().numpy().T)
    np.testing.assert_array_equal(opened["inputs"], ref.x)  # time-major already
    np.testing.assert_array_equal(opened["targets"], ref.y)


def test_show_with_data_that_do_not_fit_says_one_line_before_any_window(tmp_path, capsys, monkeypatch):
    import rnnviz.app.main as app_main

    monkeypatch.setattr(app_main, "run_app", lambda **kw: pytest.fail("no window for data that do not fit"))
    ref = tm.gru_classifier()
    xp, yp = ref.save_data(tmp_path)
    code, _, err = cli(capsys, "show", "--model", ref.save(tmp_path), "--inputs", xp, "--targets", yp, "--loss", "mse")
    assert code == 2 and len(err.splitlines()) == 1
    assert "pass --loss cross-entropy if the targets are class indices" in err
    code, _, err = cli(capsys, "show", "--model", ref.save(tmp_path), "--targets", yp)
    assert code == 2 and err == "rnnviz show: error: --targets needs --inputs\n"


def test_show_runs_the_real_app_to_its_first_paint(tmp_path):
    import os
    import subprocess
    import sys

    ref = tm.relu_regression()
    xp, yp = ref.save_data(tmp_path)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RNNVIZ_EXIT_AFTER_FIRST_PAINT="1",  # quits after the first paint
               RNNVIZ_DATA_DIR=str(tmp_path / "data"), RNNVIZ_CONFIG_DIR=str(tmp_path / "config"))  # the user's left alone
    done = subprocess.run([sys.executable, "-m", "rnnviz", "show", "--model", str(ref.save(tmp_path)), "--inputs", str(xp),
                           "--targets", str(yp), "--nonlinearity", "relu"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "layout: batch first (B, T, I) (the targets fix the batch" in done.stderr
    assert "Traceback" not in done.stderr
