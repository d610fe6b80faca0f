"""LSTM and GRU cells: BPTT against finite differences (float64, < 1e-6) and against PyTorch's
nn.LSTM / nn.GRU + nn.Linear (float64, 1e-9) — forward values, every gate, the cell state, the
loss, dL/dh_t, dL/dc_t, every gate pre-activation's gradient and every parameter gradient —
across architectures and losses, truncated BPTT, the gradient-gain probe, state-dict import
(.npz with prefixed keys, .pt, batch_first both ways), model files and Adam.
torch is a test dependency: these tests run, they never skip.
"""
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnviz.engine import ARCHITECTURES, LOSSES, Trainer, jacobian_norms, load_any_model, load_model, run, save_model
from rnnviz.engine.io.npz import FileFormatError
from rnnviz.engine.io.torch_import import model_from_torch_state_dict
from rnnviz.engine.model import GRU, GRU_GATES, LSTM, LSTM_GATES, init_gru, init_lstm, init_model
from rnnviz.engine.gradcheck import numeric_cell_grads, numeric_hidden_grads, random_check, relative_error
from tests.engine.agreement import RTOL, close

torch.set_num_threads(1)

TOLERANCE = 1e-6
CELLS = ("lstm", "gru")
GATES = {"lstm": LSTM_GATES, "gru": GRU_GATES}



# ------------------------------------------------------------------------------------------
# finite differences
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("cell", CELLS)
def test_bptt_gradients_match_finite_differences(cell, architecture, loss):
    errors = random_check(seed=1, architecture=architecture, loss=loss, cell=cell, T=4, B=2, I=2, H=3, O=2)
    model = init_model(cell, 2, 3, 2)
    assert set(errors) == {*model.params(), "dL_dh", *(["dL_dc"] if cell == "lstm" else [])}
    worst = max(errors, key=errors.get)
    assert errors[worst] < TOLERANCE, f"{worst}: relative error {errors[worst]:.3e}"


@pytest.mark.parametrize("cell", CELLS)
def test_hidden_gradient_includes_the_future_share(cell):
    model = init_model(cell, 2, 3, 2, seed=4, recurrent_scale=2.0)
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(4, 2, 2)), rng.normal(size=(4, 2, 2))
    trace = run(model, x, y)
    numeric = numeric_hidden_grads(model, x, y)
    assert relative_error(trace.dL_dh, numeric) < TOLERANCE
    assert relative_error(trace.dL_dh_out[:-1], numeric[:-1]) > 1e-3  # the future's share is real
    if cell == "lstm":
        assert relative_error(trace.dL_dc, numeric_cell_grads(model, x, y)) < TOLERANCE


# ------------------------------------------------------------------------------------------
# PyTorch: the modules themselves, and a step-by-step reference that exposes every gate
def torch_modules(cell, I, H, O, seed, batch_first=False, scale=1.5):
    torch.manual_seed(seed)
    rnn = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(I, H, batch_first=batch_first).double()
    fc = torch.nn.Linear(H, O).double()
    with torch.no_grad():
        for p in rnn.parameters():
            p.mul_(scale)  # away from the trivial regime
    return rnn, fc


def state_dict(rnn, fc, prefix=("encoder.rnn.", "head.")):
    return {**{prefix[0] + k: v.detach().numpy().copy() for k, v in rnn.state_dict().items()},
            **{prefix[1] + k: v.detach().numpy().copy() for k, v in fc.state_dict().items()}}


def problem(cell, architecture, loss, seed=0, T=5, B=3, I=3, H=4, O=3):
    if architecture == "one-to-one":
        T = 1
    rnn, fc = torch_modules(cell, I, H, O, seed)
    model = model_from_torch_state_dict(state_dict(rnn, fc), architecture=architecture, loss=loss)
    rng = np.random.default_rng(seed + 100)
    model.h0[...] = rng.normal(scale=0.5, size=H)
    if cell == "lstm":
        model.c0[...] = rng.normal(scale=0.5, size=H)
    x = rng.normal(size=(T, B, I))
    if loss == "mse":
        y = rng.normal(size=(B, O) if architecture == "many-to-one" else (T, B, O))
    else:
        y = rng.integers(0, O, size=(B,) if architecture == "many-to-one" else (T, B))
    return model, rnn, fc, x, y


def fed_inputs(model, x):
    x = torch.tensor(x, dtype=torch.float64)
    if model.architecture == "one-to-many":
        x = torch.cat([x[:1], torch.zeros_like(x[1:])])
    return x


def torch_loss(model, y, targets):
    T = y.shape[0]
    steps = [T - 1] if model.architecture == "many-to-one" else list(range(T))
    tgt = torch.tensor(np.asarray(targets))
    if model.architecture == "many-to-one":
        tgt = tgt[None]
    elif tgt.shape[0] == T:
        tgt = tgt[steps]
    ys = y[steps]
    if model.loss == "mse":
        return F.mse_loss(ys, tgt.to(torch.float64))
    if model.loss == "nll":  # y: LogSoftmax's output (see shown)
        return F.nll_loss(ys.reshape(-1, ys.shape[-1]), tgt.reshape(-1).long())
    return F.cross_entropy(ys.reshape(-1, ys.shape[-1]), tgt.reshape(-1).long())


def shown(model, y):
    """The outputs the model shows: LogSoftmax on the readout for nll."""
    return torch.log_softmax(y, dim=-1) if model.loss == "nll" else y


def torch_reference(model, x, targets, tbptt=None):
    """The cell written out in torch with the engine's own parameters (PyTorch's equations),
    gradients retained on every gate pre-activation, h_t and c_t; detach at TBPTT windows."""
    T, B, _ = x.shape
    x = fed_inputs(model, x)
    P = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in model.params().items()}
    h = torch.tensor(model.h0).expand(B, -1)
    c = torch.tensor(model.c0).expand(B, -1) if model.cell == "lstm" else None
    rec = {"h": [], "c": [], **{f"pre_{g}": [] for g in GATES[model.cell]}, **{f"act_{g}": [] for g in GATES[model.cell]}}
    for t in range(T):
        if tbptt is not None and t > 0 and t % tbptt == 0:
            h = h.detach()
            c = c.detach() if c is not None else None
        if model.cell == "lstm":
            pre = {g: x[t] @ P["W_x" + g] + h @ P["W_h" + g] + P["b_" + g] for g in "ifgo"}
            act = {g: (torch.tanh if g == "g" else torch.sigmoid)(pre[g]) for g in "ifgo"}
            c = act["f"] * c + act["i"] * act["g"]
            c.retain_grad()
            rec["c"].append(c)
            h = act["o"] * torch.tanh(c)
        else:
            pre = {g: x[t] @ P["W_x" + g] + h @ P["W_h" + g] + P["b_" + g] for g in "rz"}
            act = {g: torch.sigmoid(pre[g]) for g in "rz"}
            pre["n"] = x[t] @ P["W_xn"] + P["b_xn"] + act["r"] * (h @ P["W_hn"] + P["b_hn"])
            act["n"] = torch.tanh(pre["n"])
            h = (1 - act["z"]) * act["n"] + act["z"] * h
        for g in pre:
            pre[g].retain_grad()
            rec[f"pre_{g}"].append(pre[g])
            rec[f"act_{g}"].append(act[g])
        h.retain_grad()
        rec["h"].append(h)
    hs = torch.stack(rec["h"])
    y = shown(model, hs @ P["W_hy"] + P["b_y"])
    loss = torch_loss(model, y, targets)
    loss.backward()
    return P, rec, y, loss


def torch_module_pass(model, rnn, fc, x, targets, batch_first=False):
    """nn.LSTM / nn.GRU + nn.Linear on the same inputs (model.h0, model.c0 as initial state)."""
    xt = fed_inputs(model, x)
    B = xt.shape[1]
    h0 = torch.tensor(model.h0).expand(1, B, -1).contiguous()
    state = (h0, torch.tensor(model.c0).expand(1, B, -1).contiguous()) if model.cell == "lstm" else h0
    rnn.zero_grad(set_to_none=True)
    fc.zero_grad(set_to_none=True)
    if batch_first:
        out, last = rnn(xt.transpose(0, 1), state)
        out = out.transpose(0, 1)
    else:
        out, last = rnn(xt, state)
    y = shown(model, fc(out))
    loss = torch_loss(model, y, targets)
    loss.backward()
    return out, last, y, loss


def module_grads(model, rnn, fc):
    """The modules' gradients in the engine's names (bias_ih's gradient is the summed bias's)."""
    H = model.hidden_size
    gi, gh = rnn.weight_ih_l0.grad.numpy(), rnn.weight_hh_l0.grad.numpy()
    bi, bh = rnn.bias_ih_l0.grad.numpy(), rnn.bias_hh_l0.grad.numpy()
    out = {"W_hy": fc.weight.grad.numpy().T, "b_y": fc.bias.grad.numpy()}
    for k, g in enumerate(GATES[model.cell]):
        sl = slice(k * H, (k + 1) * H)
        out["W_x" + g], out["W_h" + g] = gi[sl].T, gh[sl].T
        if g == "n":
            out["b_xn"], out["b_hn"] = bi[sl], bh[sl]
        else:
            np.testing.assert_allclose(bi[sl], bh[sl], rtol=1e-12, atol=1e-15)
            out["b_" + g] = bi[sl]
    return out


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("cell", CELLS)
def test_agrees_with_pytorch(cell, architecture, loss):
    model, rnn, fc, x, targets = problem(cell, architecture, loss, seed=3)
    trace = run(model, x, targets)
    T = trace.T
    # nn.LSTM / nn.GRU + nn.Linear: h, c, y, loss and every parameter gradient
    out, last, y, tloss = torch_module_pass(model, rnn, fc, x, targets)
    close(trace.h[1:], out, "h")
    close(trace.y, y, "y")
    assert trace.loss == pytest.approx(tloss.item(), rel=RTOL)
    if cell == "lstm":
        close(trace.c[-1], last[1][0], "c_T")
    grads = module_grads(model, rnn, fc)
    assert set(grads) == set(model.params())
    for name, g in grads.items():
        close(trace.grads["grad_" + name], g, f"grad {name}")
    # the step-by-step reference: every gate, c_t, dL/dh_t, dL/dc_t, dL/d(gate pre-activation)
    P, rec, y2, loss2 = torch_reference(model, x, targets)
    close(y2.detach().numpy(), y, "the reference equals the module")
    for g in GATES[cell]:
        close(trace.gates[g], torch.stack(rec[f"act_{g}"]), f"gate {g}")
        close(trace.gate_pre[g], torch.stack(rec[f"pre_{g}"]), f"pre-activation {g}")
        close(trace.dL_dgate_pre[g], torch.stack([p.grad for p in rec[f"pre_{g}"]]), f"dL/d pre {g}")
    close(trace.dL_dh, torch.stack([h.grad for h in rec["h"]]), "dL/dh")
    for name, p in P.items():
        close(trace.grads["grad_" + name], p.grad, f"reference grad {name}")
    if cell == "lstm":
        close(trace.c[1:], torch.stack(rec["c"]), "c")
        close(trace.c[0], np.broadcast_to(model.c0, trace.c[0].shape), "c_0")
        close(trace.dL_dc, torch.stack([c.grad for c in rec["c"]]), "dL/dc")
        close(trace.a, trace.gate_pre["g"], "a is g's pre-activation")
    else:
        close(trace.a, trace.gate_pre["n"], "a is n's pre-activation")
        n_pre = torch.stack(rec["pre_n"])  # n_pre = x·W_xn + b_xn + r ⊙ n_h
        xn = fed_inputs(model, x).numpy() @ model.W_xn + model.b_xn
        close(xn + trace.gates["r"] * trace.extra["n_h"], n_pre, "n_h")
    close(trace.dL_da, trace.dL_dgate_pre["g" if cell == "lstm" else "n"], "dL_da")
    # per-step contributions add up to the gradients (for the biases: exactly their norms)
    b = "b_i" if cell == "lstm" else "b_r"
    np.testing.assert_allclose(trace.step_grad_norms[b],
                               np.linalg.norm(trace.dL_dgate_pre[b[2:]].sum(axis=1), axis=1), rtol=1e-12)
    assert set(trace.step_grad_norms) == set(model.params())
    assert all(v.shape == (T,) for v in trace.step_grad_norms.values())


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("tbptt", [1, 2, 3])
def test_truncated_bptt_agrees_with_pytorch_detach(cell, tbptt):
    model, _, _, x, targets = problem(cell, "many-to-many", "mse", seed=5, T=7)
    trace = run(model, x, targets, tbptt=tbptt)
    P, rec, _, loss = torch_reference(model, x, targets, tbptt=tbptt)
    assert trace.loss == pytest.approx(loss.item(), rel=RTOL)
    close(trace.dL_dh, torch.stack([h.grad for h in rec["h"]]), "dL/dh")
    for name, p in P.items():
        close(trace.grads["grad_" + name], p.grad, f"grad {name}")
    if cell == "lstm":
        close(trace.dL_dc, torch.stack([c.grad for c in rec["c"]]), "dL/dc")
    full = run(model, x, targets)
    np.testing.assert_array_equal(trace.grad_gain, full.grad_gain)  # the probe measures the network


@pytest.mark.parametrize("cell", CELLS)
def test_gradient_gain_and_jacobian_norms_agree_with_torch_autograd(cell):
    model, _, _, x, targets = problem(cell, "many-to-many", "mse", seed=6, T=6, B=1)
    trace = run(model, x, targets)
    T, H = trace.T, trace.hidden_size
    P = {k: torch.tensor(v) for k, v in model.params().items()}
    xt = fed_inputs(model, x)[:, 0]

    def h_T_from(t, h_t):  # c_t held fixed (the LSTM's dL/dh_t is the partial derivative too)
        h = h_t
        c = torch.tensor(trace.c[t + 1, 0]) if cell == "lstm" else None
        for s in range(t + 1, T):
            if cell == "lstm":
                a = {g: xt[s] @ P["W_x" + g] + h @ P["W_h" + g] + P["b_" + g] for g in "ifgo"}
                c = torch.sigmoid(a["f"]) * c + torch.sigmoid(a["i"]) * torch.tanh(a["g"])
                h = torch.sigmoid(a["o"]) * torch.tanh(c)
            else:
                r = torch.sigmoid(xt[s] @ P["W_xr"] + h @ P["W_hr"] + P["b_r"])
                z = torch.sigmoid(xt[s] @ P["W_xz"] + h @ P["W_hz"] + P["b_z"])
                n = torch.tanh(xt[s] @ P["W_xn"] + P["b_xn"] + r * (h @ P["W_hn"] + P["b_hn"]))
                h = (1 - z) * n + z * h
        return h

    u = trace.dL_dh_out[-1, 0] / np.linalg.norm(trace.dL_dh_out[-1, 0])
    norms = jacobian_norms(trace)
    for t in range(T):
        J = torch.autograd.functional.jacobian(lambda h: h_T_from(t, h), torch.tensor(trace.h[t + 1, 0])).numpy()
        assert trace.grad_gain[t] == pytest.approx(np.linalg.norm(u @ J), rel=1e-9, abs=1e-14)
        assert norms[t] == pytest.approx(np.linalg.norm(J, 2), rel=1e-9, abs=1e-14)
    assert trace.grad_gain[-1] == pytest.approx(1.0)
    np.testing.assert_allclose(jacobian_norms(trace, ord="fro")[-1], np.sqrt(H))


# ------------------------------------------------------------------------------------------
# importing PyTorch state dicts
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("fmt", ["npz", "pt"])
@pytest.mark.parametrize("cell", CELLS)
def test_state_dict_import_paths(tmp_path, cell, fmt, batch_first):
    rnn, fc = torch_modules(cell, 2, 3, 2, seed=7, batch_first=batch_first)
    if fmt == "npz":
        path = tmp_path / "model.npz"
        np.savez(path, **state_dict(rnn, fc, ("encoder.lstm.", "out.")),
                 meta=np.array(json.dumps({"architecture": "many-to-one", "loss": "cross-entropy"})))
    else:
        path = tmp_path / "model.pt"
        torch.save({**{"rnn." + k: v for k, v in rnn.state_dict().items()},
                    **{"fc." + k: v for k, v in fc.state_dict().items()}}, path)
    report = []
    model = load_any_model(path, report=report)
    assert isinstance(model, LSTM if cell == "lstm" else GRU) and model.cell == cell
    assert model.extra_meta["imported_from"] == "pytorch"
    assert (model.architecture, model.loss) == (("many-to-one", "cross-entropy") if fmt == "npz" else ("many-to-many", "mse"))
    assert any("kept apart" in line for line in report) == (cell == "gru")
    rng = np.random.default_rng(7)
    x = rng.normal(size=(5, 4, 2))
    targets = rng.integers(0, 2, size=(4,)) if fmt == "npz" else rng.normal(size=(5, 4, 2))
    trace = run(model, x, targets)
    out, last, y, loss = torch_module_pass(model, rnn, fc, x, targets, batch_first=batch_first)
    close(trace.h[1:], out, "h")
    close(trace.y, y, "y")
    assert trace.loss == pytest.approx(loss.item(), rel=RTOL)
    for name, g in module_grads(model, rnn, fc).items():
        close(trace.grads["grad_" + name], g, f"grad {name}")


def test_gru_keeps_its_two_n_biases_apart():
    rnn, fc = torch_modules("gru", 2, 3, 1, seed=8)
    sd = state_dict(rnn, fc)
    model = model_from_torch_state_dict(sd)
    np.testing.assert_array_equal(model.b_xn, sd["encoder.rnn.bias_ih_l0"][6:])
    np.testing.assert_array_equal(model.b_hn, sd["encoder.rnn.bias_hh_l0"][6:])
    np.testing.assert_array_equal(model.b_z, sd["encoder.rnn.bias_ih_l0"][3:6] + sd["encoder.rnn.bias_hh_l0"][3:6])
    np.testing.assert_array_equal(model.W_xr, sd["encoder.rnn.weight_ih_l0"][:3].T)
    lstm = model_from_torch_state_dict(state_dict(*torch_modules("lstm", 2, 3, 1, seed=8)))
    np.testing.assert_array_equal(lstm.W_hg, state_dict(*torch_modules("lstm", 2, 3, 1, seed=8))["encoder.rnn.weight_hh_l0"][6:9].T)


def test_gated_state_dict_without_biases_loads():
    torch.manual_seed(0)
    rnn = torch.nn.LSTM(2, 3, bias=False).double()
    fc = torch.nn.Linear(3, 1).double()
    model = model_from_torch_state_dict(state_dict(rnn, fc))
    assert all(np.all(getattr(model, "b_" + g) == 0) for g in "ifgo")


# ------------------------------------------------------------------------------------------
# models: files, dtypes, states, training
@pytest.mark.parametrize("cell", CELLS)
def test_model_file_round_trip(tmp_path, cell):
    model = init_model(cell, 2, 3, 2, architecture="many-to-one", loss="cross-entropy", seed=9)
    model.h0[...] = 0.25
    if cell == "lstm":
        model.c0[...] = -0.5
    model.extra_meta["task"] = "echo"
    save_model(model, tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as data:
        assert set(data.files) == {*model.params(), *model.STATE_NAMES, "meta"}
        assert json.loads(str(data["meta"]))["cell"] == cell
    back = load_model(tmp_path / "m.npz")
    assert type(back) is type(model) and back.meta() == model.meta()
    for name in (*model.params(), *model.STATE_NAMES):
        np.testing.assert_array_equal(getattr(back, name), getattr(model, name))
    with pytest.raises(FileFormatError, match="fixed nonlinearities"):
        load_model(tmp_path / "m.npz", activation="relu")


def test_gated_model_file_missing_a_gate_names_it(tmp_path):
    model = init_lstm(2, 3, 1)
    arrays = {**model.params(), "meta": np.array(json.dumps(model.meta()))}
    del arrays["W_hf"]
    np.savez(tmp_path / "m.npz", **arrays)
    with pytest.raises(FileFormatError, match="lacks W_hf"):
        load_model(tmp_path / "m.npz")


@pytest.mark.parametrize("cell", CELLS)
def test_float32_on_request(cell):
    m64 = init_model(cell, 2, 4, 1, seed=10)
    m32 = init_model(cell, 2, 4, 1, seed=10, dtype=np.float32)
    assert m32.dtype == np.float32 and m64.astype(np.float32).dtype == np.float32
    rng = np.random.default_rng(10)
    x, y = rng.normal(size=(6, 3, 2)), rng.normal(size=(6, 3, 1))
    t32, t64 = run(m32, x, y), run(m64, x, y)
    for arr in (t32.h, t32.y, t32.dL_dh, *t32.gates.values(), *t32.grads.values(), *t32.dL_dgate_pre.values()):
        assert arr.dtype == np.float32
    assert t32.loss == pytest.approx(t64.loss, rel=1e-5)
    for k in t64.grads:
        np.testing.assert_allclose(t32.grads[k], t64.grads[k], rtol=1e-3, atol=1e-5)


def test_initial_state_per_sequence_and_checks():
    model = init_lstm(2, 3, 1, seed=11)
    rng = np.random.default_rng(11)
    x = rng.normal(size=(4, 2, 2))
    h0, c0 = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    trace = run(model, x, None, h0=h0, c0=c0)
    np.testing.assert_array_equal(trace.h[0], h0)
    np.testing.assert_array_equal(trace.c[0], c0)
    one = run(model, x[:, 1:], None, h0=h0[1], c0=c0[1])
    np.testing.assert_allclose(one.h[:, 0], trace.h[:, 1], rtol=1e-14)
    assert np.isnan(trace.loss) and np.all(trace.dL_dh == 0) and np.all(trace.dL_dc == 0)
    with pytest.raises(ValueError, match="c0"):
        run(init_gru(2, 3, 1), x, None, c0=c0)
    with pytest.raises(ValueError, match="h0 must have shape"):
        run(model, x, None, h0=np.zeros(4))
    with pytest.raises(ValueError, match="fixed nonlinearities"):
        init_model("gru", 2, 3, 1, activation="relu")
    with pytest.raises(ValueError, match="unknown cell"):
        init_model("transformer", 2, 3, 1)


def test_init_is_pytorch_style_uniform():
    model = init_lstm(3, 16, 2, seed=12, recurrent_scale=0.5)
    k = 1 / np.sqrt(16)
    for name, p in model.params().items():
        bound = k * (0.5 if name.startswith("W_h") and name != "W_hy" else 1.0)
        assert np.all(np.abs(p) <= bound), name
    assert np.all(model.h0 == 0) and np.all(model.c0 == 0)


@pytest.mark.parametrize("cell", CELLS)
def test_adam_iterations_match_torch_optim_adam(cell):
    model, _, _, x, targets = problem(cell, "many-to-many", "mse", seed=13, T=5, B=4)
    model.h0[...] = 0.0
    if cell == "lstm":
        model.c0[...] = 0.0
    ref = model.copy()
    trainer = Trainer(model, x, targets, optimizer="adam", lr=0.02, clip=0.5)
    P = {k: torch.tensor(v, requires_grad=True) for k, v in ref.params().items()}
    opt = torch.optim.Adam(P.values(), lr=0.02)
    for _ in range(5):
        result = trainer.step()
        ref.set_params({k: v.detach().numpy() for k, v in P.items()})
        opt.zero_grad()
        losses = []
        Pr, rec, y, loss = torch_reference(ref, x, targets)
        losses.append(loss.item())
        for k, p in P.items():
            p.grad = Pr[k].grad
        torch.nn.utils.clip_grad_norm_(P.values(), 0.5)
        opt.step()
        assert result.loss == pytest.approx(losses[0], rel=1e-9)
    for name, p in P.items():
        close(model.params()[name], p, name)


@pytest.mark.parametrize("cell", CELLS)
def test_trainer_learns_and_saves_its_state(cell):
    from rnnviz.engine import make_task

    task = make_task("echo", seed=0, lag=2)
    model = init_model(cell, task.input_size, 8, task.output_size, architecture=task.architecture, loss=task.loss)
    trainer = Trainer(model, task.x_train, task.y_train, optimizer="adam", lr=0.05)
    first = trainer.step().loss
    for _ in range(60):
        last = trainer.step().loss
    assert last < first
    meta, arrays = trainer.state_dict()
    other = Trainer(init_model(cell, task.input_size, 8, task.output_size, architecture=task.architecture,
                               loss=task.loss, seed=5), task.x_train, task.y_train)
    other.load_state_dict(meta, arrays)
    assert other.step().loss == trainer.step().loss


# ------------------------------------------------------------------------------------------
# the command line
@pytest.mark.parametrize("cell", CELLS)
def test_cli_train_and_gradcheck_with_a_gated_cell(tmp_path, capsys, cell):
    from rnnviz.cli import main

    out = tmp_path / "m.npz"
    assert main(["train", "--task", "echo", "--cell", cell, "--hidden", "6", "--iterations", "30", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"({cell.upper()})" in printed and "last loss" in printed
    model = load_model(out)
    assert model.cell == cell and model.hidden_size == 6 and model.extra_meta["task"] == "echo"
    assert main(["gradcheck", "--cell", cell, "--architecture", "many-to-one", "--loss", "mse"]) == 0
    assert "(ok)" in capsys.readouterr().out
    assert main(["gradcheck", "--cell", cell, "--activation", "relu"]) == 2
    assert "fixed nonlinearities" in capsys.readouterr().err
    other = "gru" if cell == "lstm" else "lstm"
    x, y = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(x, np.zeros((4, 2, 1)))
    np.save(y, np.zeros((4, 2, 1)))
    assert main(["train", "--model", str(out), "--cell", other, "--inputs", str(x), "--targets", str(y)]) == 2
    assert f"holds a '{cell}' model" in capsys.readouterr().err


@pytest.mark.parametrize("cell", CELLS)
def test_trace_file_round_trip(tmp_path, cell):
    from rnnviz.engine import load_trace, save_trace

    model, _, _, x, targets = problem(cell, "many-to-one", "cross-entropy", seed=14)
    trace = run(model, x, targets, tbptt=2)
    save_trace(trace, tmp_path / "t.npz")
    back = load_trace(tmp_path / "t.npz")
    assert (back.cell, back.tbptt, back.architecture, back.loss_name) == (cell, 2, "many-to-one", "cross-entropy")
    for name in ("x", "a", "h", "y", "probs", "targets", "loss_t", "dL_dy", "dL_dh", "dL_dh_out", "dL_da", "grad_gain",
                 *(["c", "dL_dc"] if cell == "lstm" else [])):
        np.testing.assert_array_equal(getattr(back, name), getattr(trace, name), err_msg=name)
    for field_name in ("params", "grads", "step_grad_norms", "gates", "gate_pre", "dL_dgate_pre", "extra"):
        a, b = getattr(back, field_name), getattr(trace, field_name)
        assert set(a) == set(b), field_name
        for k in a:
            np.testing.assert_array_equal(a[k], b[k], err_msg=f"{field_name}[{k}]")
    assert back.loss == trace.loss
    with np.load(tmp_path / "t.npz") as data:
        arrays = {k: data[k] for k in data.files if k != f"gate_{GATES[cell][0]}"}
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(FileFormatError, match=f"missing gate_{GATES[cell][0]}"):
        load_trace(tmp_path / "bad.npz")
