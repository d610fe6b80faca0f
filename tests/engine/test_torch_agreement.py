"""The engine against PyTorch autograd, in float64, to 1e-9.

Forward values (a, h, y, softmax), the loss, dL/dy, dL/dh_t (total and the part from y_t),
dL/da, all five parameter gradients; truncated BPTT; the gradient-gain and Jacobian views;
models imported from PyTorch nn.RNN + nn.Linear (.npz and .pt); the optimizers and clipping.
torch is a test dependency: these tests run, they never skip.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnviz.engine import (
    ACTIVATIONS,
    ARCHITECTURES,
    LOSSES,
    PARAM_NAMES,
    Trainer,
    clip_grad_norm,
    init_rnn,
    jacobian_norms,
    load_any_model,
    make_optimizer,
    run,
)
from rnnviz.engine import kernels
from rnnviz.engine.activations import derivative
from rnnviz.engine.io.torch_import import model_from_torch_state_dict
from rnnviz.engine.cells.vanilla import gradient_gain
from tests.engine.agreement import RTOL, close

torch.set_num_threads(1)

TORCH_F = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "identity": lambda a: a}



# ------------------------------------------------------------------------------------------
# an independent reference: the cell written out in torch, one step at a time
def random_problem(activation, architecture, loss, seed=0, T=6, B=3, I=3, H=5, O=4):
    if architecture == "one-to-one":
        T = 1
    model = init_rnn(I, H, O, activation=activation, architecture=architecture, loss=loss, seed=seed)
    rng = np.random.default_rng(seed + 100)
    model.W_hh *= 1.7  # away from the trivial regime
    model.h0[...] = rng.normal(scale=0.5, size=H)  # a non-zero h_0 takes part too
    x = rng.normal(size=(T, B, I))  # one-to-many: the engine must zero steps 2..T itself
    if loss == "mse":
        y = rng.normal(size=(B, O) if architecture == "many-to-one" else (T, B, O))
    else:
        y = rng.integers(0, O, size=(B,) if architecture == "many-to-one" else (T, B))
    return model, x, y


def torch_reference(model, x, targets, tbptt=None, h0=None):
    """The vanilla RNN written out in torch; h.detach() at the start of every TBPTT window."""
    T, B, _ = x.shape
    x = torch.tensor(x, dtype=torch.float64)
    if model.architecture == "one-to-many":
        x = torch.cat([x[:1], torch.zeros_like(x[1:])])
    P = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in model.params().items()}
    f = TORCH_F[model.activation]
    h = torch.tensor(model.h0 if h0 is None else h0, dtype=torch.float64).expand(B, -1)
    a_list, h_list = [], []
    for t in range(T):
        if tbptt is not None and t > 0 and t % tbptt == 0:
            h = h.detach()
        a = x[t] @ P["W_xh"] + h @ P["W_hh"] + P["b_h"]
        a.retain_grad()
        h = f(a)
        h.retain_grad()
        a_list.append(a)
        h_list.append(h)
    hs = torch.stack(h_list)  # (T, B, H): y sees it; the recurrence used the separate h_t
    hs.retain_grad()
    y = hs @ P["W_hy"] + P["b_y"]  # the readout's linear output (logits for the class losses)
    y.retain_grad()
    # nll: LogSoftmax on the readout, the outputs the model prints and the trace shows
    shown = torch.log_softmax(y, dim=2) if model.loss == "nll" else y
    out = dict(P=P, a_list=a_list, h_list=h_list, hs=hs, y=y, shown=shown, x=x)
    out["probs"] = torch.softmax(y, dim=2) if model.loss in ("cross-entropy", "nll") else None
    if targets is None:
        return out
    tg = torch.tensor(targets)
    last_only = model.architecture == "many-to-one"
    if model.loss == "mse":
        tg = tg.to(torch.float64)
        if last_only:
            loss = F.mse_loss(y[-1], tg)
            loss_t = [0.0] * (T - 1) + [loss.item()]
        else:
            loss = F.mse_loss(y, tg)
            loss_t = [F.mse_loss(y[t], tg[t]).item() for t in range(T)]
    else:
        tg = tg.long()
        # cross-entropy on the logits, or NLLLoss on the log-probabilities
        lossf, z = (F.nll_loss, shown) if model.loss == "nll" else (F.cross_entropy, y)
        if last_only:
            loss = lossf(z[-1], tg)
            loss_t = [0.0] * (T - 1) + [loss.item()]
        else:
            loss = lossf(z.reshape(T * B, -1), tg.reshape(T * B))
            loss_t = [lossf(z[t], tg[t]).item() for t in range(T)]
    loss.backward(retain_graph=True)
    out.update(loss=loss, loss_t=np.array(loss_t))
    return out


def assert_trace_matches_torch(trace, ref, with_loss=True):
    close(trace.x, ref["x"], "x as fed")
    close(trace.a, torch.stack(ref["a_list"]), "a")
    close(trace.h[1:], torch.stack(ref["h_list"]), "h")
    close(trace.y, ref["shown"], "y (log-probabilities for nll)")
    if ref["probs"] is not None:
        close(trace.probs, ref["probs"], "softmax")
    if not with_loss:
        return
    assert trace.loss == pytest.approx(ref["loss"].item(), rel=RTOL, abs=1e-15)
    close(trace.loss_t, ref["loss_t"], "loss_t")
    close(trace.dL_dy, ref["y"].grad, "dL/dy")
    close(trace.dL_dh_out, ref["hs"].grad, "dL/dh_t from y_t")
    close(trace.dL_dh, torch.stack([h.grad for h in ref["h_list"]]), "dL/dh_t")
    close(trace.dL_da, torch.stack([a.grad for a in ref["a_list"]]), "dL/da_t")
    for name in PARAM_NAMES:
        close(trace.grads["grad_" + name], ref["P"][name].grad, "grad_" + name)


# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_forward_and_backward_match_torch_autograd(activation, architecture, loss):
    model, x, y = random_problem(activation, architecture, loss, seed=3)
    trace = run(model, x, y)
    assert_trace_matches_torch(trace, torch_reference(model, x, y))


@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_forward_without_targets_matches_torch_and_has_zero_gradients(activation, architecture):
    model, x, _ = random_problem(activation, architecture, "cross-entropy", seed=4)
    trace = run(model, x)
    assert_trace_matches_torch(trace, torch_reference(model, x, None), with_loss=False)
    assert np.isnan(trace.loss)
    for g in (trace.dL_dy, trace.dL_dh, trace.dL_da, *trace.grads.values()):
        assert not np.any(g)


@pytest.mark.parametrize("seed", range(3))
def test_backward_matches_torch_on_larger_random_models(seed):
    rng = np.random.default_rng(seed)
    activation = ACTIVATIONS[seed % 4]
    model, x, y = random_problem(activation, "many-to-many", LOSSES[seed % 2], seed=seed,
                                 T=int(rng.integers(8, 20)), B=int(rng.integers(1, 6)), I=4, H=12, O=3)
    assert_trace_matches_torch(run(model, x, y), torch_reference(model, x, y))


def test_batch_of_initial_states_matches_torch():
    model, x, y = random_problem("tanh", "many-to-many", "mse", seed=5)
    h0 = np.random.default_rng(5).normal(size=(x.shape[1], model.hidden_size))
    trace = run(model, x, y, h0=h0)
    close(trace.h[0], h0, "h_0")
    assert_trace_matches_torch(trace, torch_reference(model, x, y, h0=h0))


def test_one_to_many_with_steps_matches_torch_on_zero_inputs_after_step_one():
    model, x, y = random_problem("tanh", "one-to-many", "mse", seed=6, T=7)
    trace = run(model, x[:1], y, steps=7)
    assert trace.T == 7
    assert not np.any(trace.x[1:])
    assert_trace_matches_torch(trace, torch_reference(model, x, y))


def test_relu_gradient_at_exactly_zero_is_zero_as_in_torch():
    model, x, y = random_problem("relu", "many-to-many", "mse", seed=19)
    model.W_xh[:, 0] = model.W_hh[:, 0] = model.b_h[0] = 0.0  # a_t = 0 exactly for unit 0
    trace = run(model, x, y)
    assert not np.any(trace.a[:, :, 0])
    assert not np.any(trace.dL_da[:, :, 0]) and np.any(trace.dL_dh[:, :, 0])
    assert_trace_matches_torch(trace, torch_reference(model, x, y))


@pytest.mark.parametrize("k", [1, 2, 3, 4, 6, 10])
@pytest.mark.parametrize("architecture", ["many-to-many", "many-to-one", "one-to-many"])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_truncated_bptt_matches_torch_with_detach_every_k_steps(activation, architecture, k):
    model, x, y = random_problem(activation, architecture, "mse", seed=7, T=8)
    trace = run(model, x, y, tbptt=k)
    assert trace.tbptt == k
    assert_trace_matches_torch(trace, torch_reference(model, x, y, tbptt=k))


def test_truncated_bptt_changes_the_gradient_and_window_of_T_does_not():
    model, x, y = random_problem("tanh", "many-to-many", "cross-entropy", seed=8, T=8)
    full = run(model, x, y)
    np.testing.assert_array_equal(run(model, x, y, tbptt=8).grads["grad_W_hh"], full.grads["grad_W_hh"])
    cut = run(model, x, y, tbptt=3)
    assert np.max(np.abs(cut.grads["grad_W_hh"] - full.grads["grad_W_hh"])) > 1e-6
    close(cut.dL_dh[[2, 5]], cut.dL_dh_out[[2, 5]], "window ends get nothing from the future")


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_grad_gain_matches_torch_vector_jacobian_products(activation):
    model, x, y = random_problem(activation, "many-to-many", "mse", seed=9, T=7)
    trace = run(model, x, y)
    ref = torch_reference(model, x, y)
    h_list = ref["h_list"]
    g_T = h_list[-1].grad
    u = g_T / g_T.norm(dim=1, keepdim=True)
    expected = []
    for t in range(len(h_list)):
        (vjp,) = torch.autograd.grad(h_list[-1], h_list[t], grad_outputs=u, retain_graph=True)
        expected.append(vjp.norm(dim=1).mean().item())
    close(trace.grad_gain, np.array(expected), "grad_gain")
    assert trace.grad_gain[-1] == pytest.approx(1.0)


@pytest.mark.parametrize("B, gain_sequences, probed", [(11, None, 4), (11, 11, 11), (11, 8, 8), (3, None, 3)])
def test_grad_gain_is_the_mean_over_the_first_sequences_of_a_batch(B, gain_sequences, probed):
    # a batch probes its first min(B, gain_sequences) sequences (8 unless asked otherwise)
    model, x, y = random_problem("tanh", "many-to-many", "mse", seed=12, T=6, B=B)
    trace = run(model, x, y) if gain_sequences is None else run(model, x, y, gain_sequences=gain_sequences)
    h_list = torch_reference(model, x, y)["h_list"]
    g_T = h_list[-1].grad[:probed]
    u = torch.zeros_like(h_list[-1])
    u[:probed] = g_T / g_T.norm(dim=1, keepdim=True)
    expected = []
    for t in range(len(h_list)):
        (vjp,) = torch.autograd.grad(h_list[-1], h_list[t], grad_outputs=u, retain_graph=True)
        expected.append(vjp[:probed].norm(dim=1).mean().item())
    close(trace.grad_gain, np.array(expected), "grad_gain")
    # the standalone reference probe says the same
    fprime = derivative("tanh", trace.a[:, :probed], trace.h[1:, :probed])
    close(trace.grad_gain, gradient_gain(trace.dL_dh[-1, :probed], fprime, model.W_hh.T), "reference probe")


@pytest.mark.parametrize("bad", [0, -2, 2.5, True, "8"])
def test_gain_sequences_must_be_a_positive_whole_number(bad):
    model, x, y = random_problem("tanh", "many-to-many", "mse")
    with pytest.raises(ValueError, match="gain_sequences"):
        run(model, x, y, gain_sequences=bad)


@pytest.mark.parametrize("ord", ["spectral", "fro"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_jacobian_norms_match_torch_jacobians(activation, ord):
    model, x, y = random_problem(activation, "many-to-many", "mse", seed=10, T=6)
    trace = run(model, x, y)
    h_list = torch_reference(model, x, y)["h_list"]
    seq, H = 1, model.hidden_size
    expected = []
    for t in range(len(h_list)):
        rows = [torch.autograd.grad(h_list[-1][seq, j], h_list[t], retain_graph=True)[0][seq] for j in range(H)]
        J = torch.stack(rows).numpy()  # J[j, i] = ∂h_T[j] / ∂h_t[i]
        expected.append(np.linalg.norm(J, 2 if ord == "spectral" else "fro"))
    close(jacobian_norms(trace, seq=seq, ord=ord), np.array(expected), f"‖∂h_T/∂h_t‖ ({ord})")


@pytest.mark.parametrize("chunk_bytes", [None, 1])
@pytest.mark.parametrize("B, I, H, O", [(1, 3, 5, 2), (2, 6, 6, 5), (9, 2, 3, 2)])
def test_step_gradient_norms_are_norms_of_each_steps_torch_contribution(B, I, H, O, chunk_bytes, monkeypatch):
    # one sequence (outer products of vectors) and batches (products made a chunk of steps at a
    # time: all 5 steps in one chunk, or, with chunk_bytes=1, one step per chunk)
    if chunk_bytes is not None:
        monkeypatch.setattr(kernels, "CHUNK_BYTES", chunk_bytes)
    model, x, y = random_problem("tanh", "many-to-many", "mse", seed=11, T=5, B=B, I=I, H=H, O=O)
    trace = run(model, x, y)
    ref = torch_reference(model, x, y)
    da = torch.stack([a.grad for a in ref["a_list"]]).numpy()
    dy = ref["y"].grad.numpy()
    hs = np.concatenate([np.broadcast_to(model.h0, (1, B, H)), ref["hs"].detach().numpy()])
    xs = ref["x"].numpy()
    expected = {
        "W_xh": [np.linalg.norm(xs[t].T @ da[t]) for t in range(5)],
        "W_hh": [np.linalg.norm(hs[t].T @ da[t]) for t in range(5)],
        "b_h": [np.linalg.norm(da[t].sum(0)) for t in range(5)],
        "W_hy": [np.linalg.norm(hs[t + 1].T @ dy[t]) for t in range(5)],
        "b_y": [np.linalg.norm(dy[t].sum(0)) for t in range(5)],
    }
    for name, values in expected.items():
        close(trace.step_grad_norms[name], np.array(values), f"step norms of {name}")
    # the contributions add up to the gradient
    close(np.sum([xs[t].T @ da[t] for t in range(5)], axis=0), ref["P"]["W_xh"].grad, "sum of step contributions")


# ------------------------------------------------------------------------------------------
# models imported from PyTorch
class TorchNet(torch.nn.Module):
    def __init__(self, I, H, O, nonlinearity="tanh", batch_first=False, bias=True, dtype=torch.float64):
        super().__init__()
        self.rnn = torch.nn.RNN(I, H, nonlinearity=nonlinearity, batch_first=batch_first, bias=bias, dtype=dtype)
        self.fc = torch.nn.Linear(H, O, dtype=dtype)

    def forward(self, x, h0=None):
        out, _ = self.rnn(x, h0)
        return out, self.fc(out)


def save_state_dict(net, path):
    sd = net.state_dict()
    if path.suffix == ".pt":
        torch.save(sd, path)
    else:
        np.savez(path, **{k: v.numpy() for k, v in sd.items()})
    return sd


def torch_loss(logits, targets, loss):
    if loss == "mse":
        return F.mse_loss(logits, targets)
    if loss == "nll":  # LogSoftmax + NLLLoss, as a model trained with NLLLoss is
        return torch.nn.NLLLoss()(torch.nn.LogSoftmax(dim=-1)(logits).reshape(-1, logits.shape[-1]), targets.reshape(-1))
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("suffix", [".npz", ".pt"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_pytorch_model_file_gives_torch_outputs_and_gradients(tmp_path, nonlinearity, batch_first, suffix, loss):
    T, B, I, H, O = 6, 3, 3, 5, 4
    torch.manual_seed(12)
    net = TorchNet(I, H, O, nonlinearity, batch_first)
    path = tmp_path / f"net{suffix}"
    sd = save_state_dict(net, path)
    assert "rnn.weight_ih_l0" in sd and "fc.weight" in sd
    overrides = {"activation": nonlinearity} if nonlinearity != "tanh" else {}
    model = load_any_model(path, loss=loss, **overrides)
    assert (model.activation, model.architecture, model.loss) == (nonlinearity, "many-to-many", loss)
    assert model.dtype == np.float64

    rng = np.random.default_rng(12)
    x = rng.normal(size=(T, B, I))
    y = rng.normal(size=(T, B, O)) if loss == "mse" else rng.integers(0, O, size=(T, B))
    trace = run(model, x, y)

    xt = torch.tensor(x.transpose(1, 0, 2) if batch_first else x)
    yt = torch.tensor(y.transpose(1, 0, *range(2, y.ndim)) if batch_first else y)
    out, logits = net(xt)
    out.retain_grad()
    L = torch_loss(logits, yt, loss)
    L.backward()
    tm = (lambda v: v.transpose(0, 1)) if batch_first else (lambda v: v)  # to time-major
    close(trace.h[1:], tm(out), "h")
    close(trace.y, tm(torch.log_softmax(logits, -1) if loss == "nll" else logits), "y (log-probabilities for nll)")
    assert trace.loss == pytest.approx(L.item(), rel=RTOL)
    close(trace.dL_dh_out, tm(out.grad), "dL/dh_t from y_t (= grad of nn.RNN's output)")
    close(trace.grads["grad_W_xh"], net.rnn.weight_ih_l0.grad.T, "W_xh")
    close(trace.grads["grad_W_hh"], net.rnn.weight_hh_l0.grad.T, "W_hh")
    close(trace.grads["grad_b_h"], net.rnn.bias_ih_l0.grad, "b_h vs bias_ih")
    close(trace.grads["grad_b_h"], net.rnn.bias_hh_l0.grad, "b_h vs bias_hh")
    close(trace.grads["grad_W_hy"], net.fc.weight.grad.T, "W_hy")
    close(trace.grads["grad_b_y"], net.fc.bias.grad, "b_y")

    # total dL/dh_t: drive nn.RNN one step at a time and keep every hidden state's gradient
    h = None
    hs = []
    for t in range(T):
        step_in = xt[:, t : t + 1] if batch_first else xt[t : t + 1]
        _, h = net.rnn(step_in, h)  # h: (1, B, H)
        h.retain_grad()
        hs.append(h)
    logits = net.fc(torch.cat(hs))  # (T, B, O), time-major
    torch_loss(logits, torch.tensor(y), loss).backward()
    close(trace.dL_dh, torch.cat([h.grad for h in hs]), "total dL/dh_t")


def test_unprefixed_state_dict_without_rnn_biases_imports_with_zero_biases():
    torch.manual_seed(13)
    net = TorchNet(2, 4, 3, bias=False)
    sd = {k.removeprefix("rnn."): v.numpy() for k, v in net.state_dict().items()}
    assert "weight_ih_l0" in sd and "bias_ih_l0" not in sd
    report = []
    model = model_from_torch_state_dict(sd, report=report)
    assert not np.any(model.b_h)
    assert len(report) == 5 and "zeros" in report[2]
    x = np.random.default_rng(13).normal(size=(5, 2, 2))
    out, logits = net(torch.tensor(x))
    trace = run(model, x)
    close(trace.h[1:], out, "h")
    close(trace.y, logits, "y")


def test_float32_torch_model_loads_as_float32(tmp_path):
    torch.manual_seed(14)
    net = TorchNet(2, 3, 1, dtype=torch.float32)
    path = tmp_path / "net32.npz"
    save_state_dict(net, path)
    model = load_any_model(path)
    assert model.dtype == np.float32
    x = np.random.default_rng(14).normal(size=(4, 2, 2)).astype(np.float32)
    _, logits = net(torch.tensor(x))
    np.testing.assert_allclose(run(model, x).y, logits.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_bfloat16_pt_file_loads_as_float32(tmp_path):
    torch.manual_seed(15)
    net = TorchNet(2, 3, 1, dtype=torch.bfloat16)
    path = tmp_path / "bf16.pt"
    save_state_dict(net, path)
    model = load_any_model(path)
    assert model.dtype == np.float32
    np.testing.assert_array_equal(model.W_hh, net.rnn.weight_hh_l0.detach().float().numpy().T)


# ------------------------------------------------------------------------------------------
# optimizers and clipping
def torch_train(model, x, y, optimizer, lr, momentum, clip, iterations):
    P = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in model.params().items()}
    params = [P[k] for k in PARAM_NAMES]
    opt = {
        "sgd": lambda: torch.optim.SGD(params, lr=lr, momentum=momentum),
        "adam": lambda: torch.optim.Adam(params, lr=lr),
        "adagrad": lambda: torch.optim.Adagrad(params, lr=lr),
    }[optimizer]()
    history = []
    for _ in range(iterations):
        opt.zero_grad()
        snapshot = model.copy()
        for k in PARAM_NAMES:
            getattr(snapshot, k)[...] = P[k].detach().numpy()
        ref = torch_reference(snapshot, x, y)
        for k in PARAM_NAMES:
            P[k].grad = ref["P"][k].grad.clone()
        norm = torch.nn.utils.clip_grad_norm_(params, clip) if clip else None
        opt.step()
        history.append(({k: P[k].detach().numpy().copy() for k in PARAM_NAMES}, ref["loss"].item(), norm))
    return history


@pytest.mark.parametrize(
    "optimizer, lr, momentum, clip",
    [("sgd", 0.1, 0.0, None), ("sgd", 0.05, 0.9, None), ("adam", 0.02, 0.0, None), ("adagrad", 0.1, 0.0, None),
     ("sgd", 0.1, 0.5, 0.05), ("adam", 0.01, 0.0, 0.05)],
)
def test_trainer_updates_match_torch_optim(optimizer, lr, momentum, clip):
    model, x, y = random_problem("tanh", "many-to-many", "cross-entropy", seed=16, T=5, B=4)
    expected = torch_train(model.copy(), x, y, optimizer, lr, momentum, clip, iterations=6)
    trainer = Trainer(model, x, y, optimizer=optimizer, lr=lr, momentum=momentum, clip=clip)
    for it, (weights, loss, norm) in enumerate(expected, start=1):
        result = trainer.step()
        assert result.iteration == it
        assert result.loss == pytest.approx(loss, rel=RTOL)
        if clip:
            assert result.grad_norm == pytest.approx(norm.item(), rel=RTOL)
            assert result.clipped == (norm.item() > clip)
        for k in PARAM_NAMES:
            close(getattr(model, k), weights[k], f"{optimizer} iteration {it}: {k}")
    if clip:
        assert any(r.item() > clip for _, _, r in expected)  # clipping did happen


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adagrad"])
def test_optimizer_step_on_given_gradients_matches_torch(optimizer):
    rng = np.random.default_rng(17)
    params = {"w": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    opt = make_optimizer(optimizer, lr=0.03, momentum=0.8 if optimizer == "sgd" else 0.0)
    topt = {"sgd": lambda p: torch.optim.SGD(p, lr=0.03, momentum=0.8), "adam": lambda p: torch.optim.Adam(p, lr=0.03),
            "adagrad": lambda p: torch.optim.Adagrad(p, lr=0.03)}[optimizer](list(tp.values()))
    for _ in range(8):
        grads = {k: rng.normal(size=v.shape) * rng.uniform(0.01, 10) for k, v in params.items()}
        for k in tp:
            tp[k].grad = torch.tensor(grads[k])
        topt.step()
        opt.step(params, grads)
        for k in params:
            close(params[k], tp[k], f"{optimizer}: {k}")


@pytest.mark.parametrize("max_norm", [0.01, 1.0, 3.0, 1e6])
def test_clip_grad_norm_matches_torch(max_norm):
    rng = np.random.default_rng(18)
    grads = {"a": rng.normal(size=(4, 3)), "b": rng.normal(size=5), "c": rng.normal(size=(2, 2))}
    tensors = []
    for v in grads.values():
        t = torch.zeros(v.shape, dtype=torch.float64, requires_grad=True)
        t.grad = torch.tensor(v)
        tensors.append(t)
    expected_norm = torch.nn.utils.clip_grad_norm_(tensors, max_norm).item()
    norm = clip_grad_norm(grads, max_norm)
    assert norm == pytest.approx(expected_norm, rel=RTOL)
    for g, t in zip(grads.values(), tensors):
        close(g, t.grad, "clipped gradient")
    total = np.sqrt(sum(np.sum(g * g) for g in grads.values()))
    if norm > max_norm:  # clipped to the threshold (just under it, by the 1e-6 in the coefficient)
        assert total == pytest.approx(max_norm, rel=1e-5) and total < max_norm
    else:
        assert total == pytest.approx(norm, rel=1e-15)
