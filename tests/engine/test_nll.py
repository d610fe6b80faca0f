"""The loss "nll": PyTorch's LogSoftmax on the readout + NLLLoss.

Held against the torch modules a user trains (nn.RNN / nn.LSTM / nn.GRU + nn.Linear +
nn.LogSoftmax + nn.NLLLoss, float64, 1e-9): the outputs are the log-probabilities the module
prints, and the hidden states, the loss and every parameter gradient equal autograd's; and
against central finite differences, in float64, with no torch at all.
"""
import numpy as np
import pytest

from rnnviz.engine import LOSSES, init_model, prepare_targets, run
from rnnviz.engine.gradcheck import numeric_hidden_grads, numeric_param_grads, relative_error
from rnnviz.engine.model import is_class_loss

I, H, O = 5, 4, 3


def test_nll_is_a_class_loss():
    assert "nll" in LOSSES
    assert [is_class_loss(name) for name in LOSSES] == [name != "mse" for name in LOSSES]


def _state_dict_model(rnn, fc, cell, architecture):
    """The torch modules' weights as an rnnviz model (through the state-dict importer)."""
    from rnnviz.engine.io.torch_import import model_from_torch_state_dict

    sd = {f"rnn.{k}": v.detach().numpy() for k, v in rnn.state_dict().items()}
    sd.update({f"fc.{k}": v.detach().numpy() for k, v in fc.state_dict().items()})
    model = model_from_torch_state_dict(sd, architecture=architecture, loss="nll")
    assert (model.cell, model.loss) == (cell, "nll")
    return model


@pytest.mark.parametrize("architecture", ["many-to-many", "many-to-one"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_nll_agrees_with_torch_logsoftmax_and_nllloss(cell, architecture):
    torch = pytest.importorskip("torch")
    from tests.engine.agreement import close

    torch.manual_seed(3)
    T, B = 6, 2
    rnn = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](I, H, dtype=torch.float64)
    fc = torch.nn.Linear(H, O, dtype=torch.float64)
    with torch.no_grad():  # weights large enough that the softmax is far from uniform
        for p in (*rnn.parameters(), *fc.parameters()):
            p.mul_(3.0)
    model = _state_dict_model(rnn, fc, cell, architecture)
    rng = np.random.default_rng(7)
    x = rng.normal(size=(T, B, I))
    many = architecture == "many-to-many"
    y = rng.integers(0, O, size=(T, B) if many else (B,))

    trace = run(model, x, y)

    out, _ = rnn(torch.tensor(x))  # (T, B, H)
    out.retain_grad()
    logp = torch.nn.LogSoftmax(dim=-1)(fc(out))  # (T, B, O): what the user's model prints
    picked = logp if many else logp[-1]
    loss = torch.nn.NLLLoss()(picked.reshape(-1, O), torch.tensor(y).reshape(-1))
    loss.backward()

    close(trace.y, logp, "outputs: the log-probabilities")
    close(trace.probs, torch.exp(logp), "probabilities")
    close(trace.h[1:], out, "hidden states")
    assert trace.loss == pytest.approx(loss.item(), rel=1e-9)
    close(trace.dL_dh_out, out.grad, "dL/dh_t from y_t (the grad of the recurrent module's output)")
    grads = {"W_hy": fc.weight.grad.T, "b_y": fc.bias.grad}
    gi, gh = rnn.weight_ih_l0.grad, rnn.weight_hh_l0.grad
    gates = {"rnn": ("h",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}[cell]
    for k, g in enumerate(gates):
        rows = slice(k * H, (k + 1) * H)
        if cell == "rnn":
            grads.update(W_xh=gi.T, W_hh=gh.T, b_h=rnn.bias_ih_l0.grad)
        elif cell == "gru" and g == "n":
            grads.update(W_xn=gi[rows].T, W_hn=gh[rows].T, b_xn=rnn.bias_ih_l0.grad[rows], b_hn=rnn.bias_hh_l0.grad[rows])
        else:
            grads.update({f"W_x{g}": gi[rows].T, f"W_h{g}": gh[rows].T, f"b_{g}": rnn.bias_ih_l0.grad[rows]})
    assert set(grads) == set(model.params())
    for name, g in grads.items():
        close(trace.grads["grad_" + name], g, f"grad {name}")


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_nll_gradients_agree_with_finite_differences(cell, reduction):
    rng = np.random.default_rng(11)
    model = init_model(cell, 2, 3, 3, loss="nll", seed=5, recurrent_scale=2.0)
    model.loss_reduction = reduction
    x = rng.normal(size=(4, 2, 2))
    y = rng.integers(0, 3, size=(4, 2))
    trace = run(model, x, y)
    numeric = numeric_param_grads(model, x, y)
    for name in model.params():
        assert relative_error(trace.grads["grad_" + name], numeric[name]) < 1e-7, name
    assert relative_error(trace.dL_dh, numeric_hidden_grads(model, x, y)) < 1e-7


def test_nll_and_cross_entropy_differ_only_in_what_the_outputs_show():
    """The same network with each class loss: the same loss and gradients; nll's outputs are
    cross-entropy's logits shifted to log-probabilities (each row's exp sums to 1)."""
    rng = np.random.default_rng(2)
    ce = init_model("rnn", I, H, O, loss="cross-entropy", seed=4)
    nll = init_model("rnn", I, H, O, loss="nll", seed=4)
    x = rng.normal(size=(5, 3, I))
    y = rng.integers(0, O, size=(5, 3))
    a, b = run(ce, x, y), run(nll, x, y)
    assert b.loss == pytest.approx(a.loss, rel=1e-13)
    for name in a.grads:
        np.testing.assert_allclose(b.grads[name], a.grads[name], rtol=1e-12, atol=1e-15)
    shift = a.y - b.y  # (T, B, O): logsumexp of each row
    np.testing.assert_allclose(shift, shift[..., :1].repeat(O, axis=2), rtol=1e-12)
    np.testing.assert_allclose(np.exp(b.y).sum(axis=2), 1.0, rtol=1e-12)
    np.testing.assert_allclose(run(nll, x).y, b.y, rtol=1e-13)  # without targets: still log-probabilities


@pytest.mark.parametrize("targets, message", [
    (np.full((4, 2), 3), "class targets must lie in 0..2, got 3"),
    (np.full((4, 2), 0.5), "nll targets must be integer class indices"),
])
def test_bad_nll_targets_are_named(targets, message):
    model = init_model("rnn", I, H, 3, loss="nll")
    with pytest.raises(ValueError, match=message):
        prepare_targets(model, targets, 4, 2)

