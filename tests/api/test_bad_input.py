"""Bad input to rnnviz.trace() and rnnviz.show(): a TypeError (the wrong kind of object) or a
ValueError (it does not fit) with one line naming the problem, raised from rnnviz's own call
with no NumPy or Qt frames under it, and (show) before any window opens."""
from __future__ import annotations

import traceback

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import rnnviz  # noqa: E402
from tests.torch_models import char_rnn, gru_classifier, lstm_classifier, relu_regression  # noqa: E402


class TwoRNNs(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.fc = nn.RNN(3, 4), nn.RNN(4, 4), nn.Linear(4, 2)


class NoReadout(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(3, 4)


class WithEmbedding(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb, self.rnn, self.fc = nn.Embedding(10, 3), nn.RNN(3, 4), nn.Linear(4, 2)


X = np.zeros((5, 2, 3))  # (T, B, I) for the small modules above


def cases():
    ref, reg, lstm, gru = char_rnn(), relu_regression(), lstm_classifier(), gru_classifier()
    nan_x = ref.x.copy()
    nan_x[2, 0, 5] = np.nan
    inf_y = reg.y.copy()
    inf_y[1, 0] = np.inf
    return [
        ("dict model", ({"W": 1}, X), {}, TypeError, "model must be a torch nn.RNN"),
        ("string not a path", ("char_rnn", X), {}, ValueError, "is not a file"),
        ("file not a model", (__file__, X), {}, ValueError, "test_bad_input.py"),
        ("Sequential of two RNNs", (nn.Sequential(nn.RNN(3, 4), nn.RNN(4, 4), nn.Linear(4, 2)), X), {}, ValueError,
         "holds 2 recurrent layers (0: nn.RNN(3, 4), 1: nn.RNN(4, 4))"),
        ("module with two RNNs", (TwoRNNs(), X), {}, ValueError, "TwoRNNs holds 2 recurrent layers"),
        ("module with no readout", (NoReadout(), X), {}, ValueError, "NoReadout holds 0 nn.Linear"),
        ("bare RNN without readout", (nn.RNN(3, 4), X), {}, TypeError, "nn.RNN(3, 4) has no readout: pass readout=nn.Linear(4, O)"),
        ("readout of the wrong size", (nn.RNN(3, 4), X), {"readout": nn.Linear(6, 2)}, ValueError,
         "readout nn.Linear(6, 2) takes 6 inputs, but rnn: nn.RNN(3, 4) gives 4 hidden units"),
        ("readout not a Linear", (nn.LSTM(3, 4), X), {"readout": nn.ReLU()}, TypeError, "readout must be an nn.Linear"),
        ("an RNNCell", (nn.RNNCell(3, 4), X), {"readout": nn.Linear(4, 2)}, TypeError, "nn.RNNCell(3, 4) is a single step; pass the layer that runs the whole sequence, nn.RNN"),
        ("two layers", (nn.LSTM(3, 4, num_layers=2), X), {"readout": nn.Linear(4, 2)}, ValueError, "num_layers=2"),
        ("bidirectional", (nn.GRU(3, 4, bidirectional=True), X), {"readout": nn.Linear(8, 2)}, ValueError,
         "bidirectional=True"),
        ("projection", (nn.LSTM(3, 4, proj_size=2), X), {"readout": nn.Linear(2, 2)}, ValueError, "proj_size=2"),
        ("other parameters", (WithEmbedding(), X), {}, ValueError, "parameters outside rnn and fc: emb.weight (nn.Embedding)"),
        ("inputs a dict", (ref.module, {"x": 1}), {}, TypeError, "inputs must be a NumPy array or a torch tensor, got dict"),
        ("no inputs", (ref.module, None), {}, TypeError, "inputs are required"),
        ("inputs of the wrong size", (ref.module, np.zeros((9, 1, 57))), {}, ValueError, "the model takes 58"),
        ("inputs of four axes", (ref.module, np.zeros((9, 1, 1, 58))), {}, ValueError, "inputs have shape (9, 1, 1, 58)"),
        ("ragged list", (ref.module, [[0.0] * 58, [0.0] * 57]), {}, ValueError, "ragged list"),
        ("complex tensor", (ref.module, torch.zeros(9, 1, 58, dtype=torch.complex64)), {}, TypeError, "complex"),
        ("time-major inputs for a batch_first module", (reg.module, reg.x.transpose(1, 0, 2), reg.y), {}, ValueError,
         "transpose the inputs (x.transpose(0, 1)): the module is batch_first"),
        ("NaN in the inputs", (ref.module, nan_x, ref.y), {}, ValueError, "inputs hold a non-finite value (nan) at index (2, 0, 5)"),
        ("Inf in the targets", (reg.module, reg.x, inf_y), {}, ValueError, "targets hold a non-finite value (inf)"),
        ("class out of range", (lstm.module, lstm.x, np.array([0, 1, 7, 2])), {}, ValueError, "class targets must lie in 0..2"),
        ("targets per step for many-to-one", (lstm.module, lstm.x, np.zeros((5, 4), dtype=int)), {"architecture": "many-to-one"},
         ValueError, "targets have shape (5, 4)"),
        ("class indices as floats", (gru.module, gru.x, gru.y.astype(float)), {}, ValueError,
         "targets have shape (5, 3); expected (5, 3, 3) for many-to-many — pass loss='cross-entropy' if the targets are class indices"),
        ("nonlinearity against the module", (reg.module, reg.x, reg.y), {"nonlinearity": "tanh"}, ValueError,
         "nonlinearity='tanh' contradicts the module, whose nonlinearity is 'relu'"),
        ("batch_first against the module", (reg.module, reg.x, reg.y), {"batch_first": False}, ValueError,
         "batch_first=False contradicts the module"),
        ("nonlinearity of a GRU", (gru.module, gru.x), {"nonlinearity": "relu"}, ValueError, "fixed nonlinearities"),
        ("unknown architecture", (gru.module, gru.x), {"architecture": "many-to-few"}, ValueError, "unknown architecture"),
        ("batch_first not a bool", (gru.module, gru.x), {"batch_first": "yes"}, TypeError, "batch_first must be True"),
        ("loss not a string", (gru.module, gru.x), {"loss": 3}, TypeError, "loss must be a string"),
    ]


CASES = cases()


def check(excinfo, want: str) -> None:
    e = excinfo.value
    text = str(e)
    assert want in text, text
    assert "\n" not in text and "\x1b" not in text
    assert e.__cause__ is None and (e.__context__ is None or e.__suppress_context__)
    frames = traceback.extract_tb(e.__traceback__)
    assert len(frames) <= 3, [f.filename for f in frames]  # this test, rnnviz's entry point
    assert not any(part in f.filename for f in frames for part in ("numpy", "PySide6", "torch"))


@pytest.mark.parametrize("name,args,kwargs,error,want", CASES, ids=[c[0] for c in CASES])
def test_trace_refuses_with_one_line(name, args, kwargs, error, want):
    with pytest.raises(error) as excinfo:
        rnnviz.trace(*args, quiet=True, **kwargs)
    check(excinfo, want)


@pytest.mark.parametrize("name,args,kwargs,error,want", CASES[::3], ids=[c[0] for c in CASES[::3]])
def test_show_refuses_before_any_window_opens(qapp, name, args, kwargs, error, want):
    before = [w for w in qapp.topLevelWidgets() if w.isVisible()]
    with pytest.raises(error) as excinfo:
        rnnviz.show(*args, block=False, quiet=True, **kwargs)
    check(excinfo, want)
    assert [w for w in qapp.topLevelWidgets() if w.isVisible()] == before


def test_show_refuses_a_block_that_is_not_a_bool():
    ref = gru_classifier()
    with pytest.raises(TypeError, match="block must be True, False or None"):
        rnnviz.show(ref.module, ref.x, block="no")
