"""rnnviz.trace(): the four reference PyTorch models, given as modules, bare layers with
readout=, model files and rnnviz models, agree with PyTorch autograd to 1e-9 in float64; what
was found and guessed is reported."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import rnnviz  # noqa: E402
import rnnviz.api.network  # noqa: E402
from tests.api.reference import assert_matches_torch  # noqa: E402
from tests.torch_models import ALL, char_rnn, lstm_classifier, relu_regression  # noqa: E402


@pytest.mark.parametrize("build", ALL, ids=lambda f: f.__name__)
def test_a_torch_module_and_tensors_agree_with_autograd(build, capsys):
    ref = build()
    tr = rnnviz.trace(ref.module, torch.tensor(ref.x), torch.tensor(ref.y))
    assert_matches_torch(tr, ref)
    err = capsys.readouterr().err
    assert f"rnnviz: found rnn: nn.{ref.cell.upper()}(" in err
    assert f"architecture: {ref.architecture} (" in err  # guessed from the targets, and said so


@pytest.mark.parametrize("build", ALL, ids=lambda f: f.__name__)
def test_numpy_arrays_and_the_bare_layer_with_readout(build):
    ref = build()
    rnn, fc = ref.module.rnn, [m for n, m in ref.module.named_children() if n in ("fc", "h2o")][0]
    tr = rnnviz.trace(rnn, ref.x, ref.y, readout=fc, loss=ref.loss, quiet=True)
    assert_matches_torch(tr, ref)


def test_the_tutorial_char_rnn_is_found_and_its_log_softmax_read_as_nll(capsys):
    ref = char_rnn()
    tr = rnnviz.trace(ref.module, ref.x, ref.y)
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "rnnviz: found rnn: nn.RNN(58, 128), readout h2o: nn.Linear(128, 4)"
    assert err[1].startswith("rnnviz: loss: nll (found softmax: nn.LogSoftmax")
    assert tr.loss_name == "nll"
    # the outputs are the log-probabilities the tutorial's model prints
    np.testing.assert_allclose(np.exp(tr.y[-1]).sum(axis=-1), 1.0, atol=1e-12)


def test_the_module_s_own_settings_are_read_not_guessed(capsys):
    ref = relu_regression()
    tr = rnnviz.trace(ref.module, ref.x, ref.y)  # (N, T, 2) batch_first, relu: read from the module
    err = capsys.readouterr().err
    assert "found rnn: nn.RNN(2, 6, nonlinearity='relu', batch_first=True)" in err
    assert not [line for line in err.splitlines() if line.startswith(("rnnviz: nonlinearity:", "rnnviz: batch_first:"))]
    assert tr.activation == "relu" and tr.x.shape == (ref.x.shape[1], ref.x.shape[0], 2)


def test_the_caller_s_choices_are_used_and_not_reported(capsys):
    ref = lstm_classifier()
    tr = rnnviz.trace(ref.module, ref.x, ref.y, architecture="many-to-one", loss="cross-entropy")
    err = capsys.readouterr().err
    assert "architecture:" not in err and "loss:" not in err
    assert_matches_torch(tr, ref)


@pytest.mark.parametrize("suffix", [".pt", ".npz"])
def test_a_saved_state_dict_by_path(tmp_path, suffix):
    ref = relu_regression()
    path = ref.save(tmp_path, suffix)
    tr = rnnviz.trace(str(path), ref.x, ref.y, nonlinearity="relu", batch_first=True, quiet=True)
    assert_matches_torch(tr, ref)
    tr2 = rnnviz.trace(path, ref.x, ref.y, nonlinearity="relu", batch_first=True, quiet=True)  # a Path too
    assert tr2.loss == tr.loss


def test_an_rnnviz_model_is_copied_not_changed():
    from rnnviz.engine import init_lstm, make_task, run

    task = make_task("hello")
    model = init_lstm(task.input_size, 6, task.output_size, loss="cross-entropy", seed=3)
    before = {k: v.copy() for k, v in model.params().items()}
    tr = rnnviz.trace(model, task.x_train, task.y_train, quiet=True)
    want = run(model, task.x_train, task.y_train)
    assert tr.loss == want.loss and np.array_equal(tr.h, want.h)
    for k, v in tr.grads.items():
        np.testing.assert_array_equal(v, want.grads[k])
    tr.params["W_hy"][...] = 0.0
    assert all(np.array_equal(v, before[k]) for k, v in model.params().items())
    # a setting the caller passes replaces the model's own, on a copy
    assert rnnviz.trace(model, task.x_train, task.y_train, loss="nll", quiet=True).loss_name == "nll"
    assert model.loss == "cross-entropy"


def test_no_targets_is_a_forward_pass_only():
    ref = lstm_classifier()
    tr = rnnviz.trace(ref.module, torch.tensor(ref.x), quiet=True)
    assert tr.targets is None and tr.h.shape == (ref.x.shape[0] + 1, ref.x.shape[1], 5)
    with torch.no_grad():
        out, _ = ref.module.rnn(torch.tensor(ref.x))
    np.testing.assert_allclose(tr.h[1:], out.numpy(), rtol=0, atol=1e-12)


def test_a_float32_module_and_a_tensor_that_requires_grad():
    ref = relu_regression()
    module32 = ref.module.float()
    x = torch.tensor(ref.x, dtype=torch.float32, requires_grad=True)
    tr = rnnviz.trace(module32, x, torch.tensor(ref.y, dtype=torch.float32), quiet=True)
    assert tr.h.dtype == np.float64  # rnnviz computes in float64 from the module's float32 values
    with torch.no_grad():
        out, _ = module32.rnn(x)
    np.testing.assert_allclose(tr.h[1:], out.numpy().transpose(1, 0, 2), atol=1e-5)


def test_modules_rnnviz_does_not_draw_are_named():
    from torch import nn

    class WithExtras(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn, self.drop, self.act, self.fc = nn.RNN(3, 4), nn.Dropout(0.1), nn.ReLU(), nn.Linear(4, 2)

    report = rnnviz.api.network.prepare(WithExtras(), np.zeros((5, 1, 3))).report
    assert report[0] == "found rnn: nn.RNN(3, 4), readout fc: nn.Linear(4, 2)"
    assert report[1] == "drop: nn.Dropout left out (rnnviz computes as in eval mode, without dropout)"
    assert report[2].startswith("act: nn.ReLU is not drawn (rnnviz computes y_t = h_t·W_hy + b_y; if forward() applies it")
    # the tutorial's LogSoftmax is read as the loss nll, not listed as undrawn
    assert not [line for line in rnnviz.api.network.prepare(char_rnn().module, char_rnn().x).report if "not drawn" in line]


def test_one_output_s_targets_without_their_axis_are_read_with_it(capsys):
    ref = relu_regression()  # nn.Linear(6, 1): targets (N, 1); a PyTorch user often holds them as (N,)
    tr = rnnviz.trace(ref.module, ref.x, ref.y[:, 0])
    assert_matches_torch(tr, ref)
    assert "rnnviz: targets: (5,) read as (5, 1) (the model has one output unit)" in capsys.readouterr().err.splitlines()
