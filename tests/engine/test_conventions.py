"""The conventions of hand-written RNNs, each held against a reference written out here.

The headline: Karpathy's min-char-rnn loop (one-hot characters, the loss summed over time,
every gradient entry clipped to [-5, 5], the hidden state carried from one chunk to the next,
Adagrad with its epsilon inside the square root), in its own column-vector layout, agrees with
rnnviz's Trainer under loss_reduction="sum", clip_mode="value", stateful=True and
adagrad_eps="inside" over 20 training steps.
"""
import numpy as np
import pytest

from rnnviz.engine import TASKS, Trainer, init_model, init_rnn, make_task, run
from rnnviz.engine.optim import ADAGRAD_EPS, clip_grad_norm, clip_grads, make_optimizer

# ------------------------------------------------------------------------------------------
# min-char-rnn


def min_char_rnn(text, chars, Wxh, Whh, Why, bh, by, seq_length, steps, lr=0.1):
    """Karpathy's min-char-rnn training loop, as he wrote it (column vectors, W·x), on copies of
    the weights. Returns the loss of each step, the final weights, and the largest gradient
    entry seen before clipping."""
    Wxh, Whh, Why, bh, by = (a.copy() for a in (Wxh, Whh, Why, bh, by))
    hidden_size, vocab_size = Whh.shape[0], len(chars)
    char_to_ix = {ch: i for i, ch in enumerate(chars)}

    def lossFun(inputs, targets, hprev):
        xs, hs, ys, ps = {}, {}, {}, {}
        hs[-1] = np.copy(hprev)
        loss = 0
        for t in range(len(inputs)):
            xs[t] = np.zeros((vocab_size, 1))
            xs[t][inputs[t]] = 1
            hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
            ys[t] = np.dot(Why, hs[t]) + by
            ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))
            loss += -np.log(ps[t][targets[t], 0])
        dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
        dbh, dby = np.zeros_like(bh), np.zeros_like(by)
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(len(inputs))):
            dy = np.copy(ps[t])
            dy[targets[t]] -= 1
            dWhy += np.dot(dy, hs[t].T)
            dby += dy
            dh = np.dot(Why.T, dy) + dhnext
            dhraw = (1 - hs[t] * hs[t]) * dh
            dbh += dhraw
            dWxh += np.dot(dhraw, xs[t].T)
            dWhh += np.dot(dhraw, hs[t - 1].T)
            dhnext = np.dot(Whh.T, dhraw)
        raw = max(float(np.max(np.abs(d))) for d in (dWxh, dWhh, dWhy, dbh, dby))
        for dparam in [dWxh, dWhh, dWhy, dbh, dby]:
            np.clip(dparam, -5, 5, out=dparam)
        return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1], raw

    n, p = 0, 0
    mWxh, mWhh, mWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    mbh, mby = np.zeros_like(bh), np.zeros_like(by)
    losses, largest = [], 0.0
    while n < steps:
        if p + seq_length + 1 >= len(text) or n == 0:
            hprev = np.zeros((hidden_size, 1))
            p = 0
        inputs = [char_to_ix[ch] for ch in text[p:p + seq_length]]
        targets = [char_to_ix[ch] for ch in text[p + 1:p + seq_length + 1]]
        loss, dWxh, dWhh, dWhy, dbh, dby, hprev, raw = lossFun(inputs, targets, hprev)
        losses.append(loss)
        largest = max(largest, raw)
        for param, dparam, mem in zip([Wxh, Whh, Why, bh, by], [dWxh, dWhh, dWhy, dbh, dby],
                                      [mWxh, mWhh, mWhy, mbh, mby]):
            mem += dparam * dparam
            param += -lr * dparam / np.sqrt(mem + 1e-8)
        p += seq_length
        n += 1
    return np.array(losses), dict(Wxh=Wxh, Whh=Whh, Why=Why, bh=bh, by=by), largest


def char_chunks(text, chars, seq_length, n_chunks):
    """The text as rnnviz data: (L, N, V) one-hot chunks and (L, N) next-character targets,
    chunk k holding text[k·L : (k+1)·L]."""
    ix = np.array([chars.index(ch) for ch in text])
    V = len(chars)
    x = np.zeros((seq_length, n_chunks, V))
    y = np.zeros((seq_length, n_chunks), dtype=np.int64)
    for k in range(n_chunks):
        seg = ix[k * seq_length:(k + 1) * seq_length + 1]
        x[np.arange(seq_length), k, seg[:-1]] = 1.0
        y[:, k] = seg[1:]
    return x, y


def test_min_char_rnn_trains_exactly_as_rnnviz_with_its_conventions():
    L, n_chunks, H = 8, 3, 12
    base = "hello world, hello rnn. "
    chars = sorted(set(base))
    # N·L + 2 characters: min-char-rnn then uses all N chunks before it starts over
    text = (base * 4)[: n_chunks * L + 2]
    x, y = char_chunks(text, chars, L, n_chunks)
    model = init_rnn(len(chars), H, len(chars), loss="cross-entropy", seed=1)
    for p in model.params().values():
        p *= 4.0  # larger weights: gradient entries past 5, so the clipping is exercised
    # min-char-rnn's column layout: W·x, so every matrix transposed and the biases columns
    ref_losses, ref, largest = min_char_rnn(text, chars, model.W_xh.T, model.W_hh.T, model.W_hy.T,
                                            model.b_h[:, None], model.b_y[:, None], L, steps=20)
    assert largest > 5.0  # element-wise clipping changed this run

    trainer = Trainer(model, x, y, optimizer="adagrad", lr=0.1, clip=5.0, batch_size=1, loss_reduction="sum",
                      clip_mode="value", stateful=True, adagrad_eps="inside")
    losses, carried = [], []
    for _ in range(20):
        result = trainer.step()
        losses.append(result.loss)
        carried.append(result.trace.h0_carried)
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-12)
    for mine, theirs in (("W_xh", "Wxh"), ("W_hh", "Whh"), ("W_hy", "Why")):
        np.testing.assert_allclose(getattr(model, mine), ref[theirs].T, rtol=1e-12, atol=1e-12, err_msg=mine)
    np.testing.assert_allclose(model.b_h, ref["bh"][:, 0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model.b_y, ref["by"][:, 0], rtol=1e-12, atol=1e-12)
    # the state is carried within a pass over the chunks and starts from h_0 when they start over
    assert carried == [k % n_chunks != 0 for k in range(20)]


def test_without_any_one_convention_rnnviz_no_longer_follows_min_char_rnn():
    """Each setting matters: turning any one back to PyTorch's default changes the run."""
    L, n_chunks, H = 8, 3, 12
    chars = sorted(set("hello world, hello rnn. "))
    text = ("hello world, hello rnn. " * 4)[: n_chunks * L + 2]
    x, y = char_chunks(text, chars, L, n_chunks)
    model = init_rnn(len(chars), H, len(chars), loss="cross-entropy", seed=1)
    for p in model.params().values():
        p *= 4.0
    ref_losses, _, _ = min_char_rnn(text, chars, model.W_xh.T, model.W_hh.T, model.W_hy.T,
                                     model.b_h[:, None], model.b_y[:, None], L, steps=6)
    karpathy = dict(loss_reduction="sum", clip_mode="value", stateful=True, adagrad_eps="inside")
    for name, default in (("loss_reduction", "mean"), ("clip_mode", "norm"), ("stateful", False),
                          ("adagrad_eps", "outside")):
        trainer = Trainer(model.copy(), x, y, optimizer="adagrad", lr=0.1, clip=5.0, batch_size=1,
                          **{**karpathy, name: default})
        losses = [trainer.step().loss for _ in range(6)]
        assert not np.allclose(losses, ref_losses, rtol=1e-6), name


# ------------------------------------------------------------------------------------------
# each convention on its own


@pytest.mark.parametrize("loss", ["mse", "cross-entropy", "nll"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_sum_reduction_is_the_sum_of_the_per_step_losses_and_matches_torch(cell, loss):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    T, B, I, H, O = 5, 3, 2, 4, 3
    rng = np.random.default_rng(4)
    model = init_model(cell, I, H, O, loss=loss, seed=2)
    x = rng.normal(size=(T, B, I))
    y = rng.normal(size=(T, B, O)) if loss == "mse" else rng.integers(0, O, size=(T, B))
    mean = run(model, x, y)
    model.loss_reduction = "sum"
    total = run(model, x, y)
    assert total.loss == pytest.approx(mean.loss_t.sum(), rel=1e-13)
    np.testing.assert_array_equal(total.loss_t, mean.loss_t)
    # torch: the same network, the per-step losses (each a batch mean) added over time
    P = {k: torch.tensor(v, requires_grad=True) for k, v in model.params().items()}
    rnn = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](I, H, dtype=torch.float64)
    gates = {"rnn": ("h",), "lstm": "ifgo", "gru": "rzn"}[cell]
    with torch.no_grad():
        for k, g in enumerate(gates):
            rows = slice(k * H, (k + 1) * H)
            w = "W_xh" if cell == "rnn" else f"W_x{g}"
            rnn.weight_ih_l0[rows] = torch.tensor(getattr(model, w).T)
            rnn.weight_hh_l0[rows] = torch.tensor(getattr(model, w.replace("W_x", "W_h")).T)
            if cell == "gru" and g == "n":
                rnn.bias_ih_l0[rows], rnn.bias_hh_l0[rows] = torch.tensor(model.b_xn), torch.tensor(model.b_hn)
            else:
                rnn.bias_ih_l0[rows] = torch.tensor(model.b_h if cell == "rnn" else getattr(model, f"b_{g}"))
                rnn.bias_hh_l0[rows] = 0.0
    out, _ = rnn(torch.tensor(x))
    z = out @ P["W_hy"] + P["b_y"]
    if loss == "mse":
        torch_loss = sum(F.mse_loss(z[t], torch.tensor(y[t])) for t in range(T))
    elif loss == "nll":
        torch_loss = sum(F.nll_loss(torch.log_softmax(z[t], -1), torch.tensor(y[t])) for t in range(T))
    else:
        torch_loss = sum(F.cross_entropy(z[t], torch.tensor(y[t])) for t in range(T))
    torch_loss.backward()
    assert total.loss == pytest.approx(torch_loss.item(), rel=1e-12)
    np.testing.assert_allclose(total.grads["grad_W_hy"], P["W_hy"].grad.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(total.grads["grad_b_y"], P["b_y"].grad.numpy(), rtol=1e-10, atol=1e-13)
    w = "W_xh" if cell == "rnn" else f"W_x{gates[0]}"
    np.testing.assert_allclose(total.grads["grad_" + w], rnn.weight_ih_l0.grad[:H].T.numpy(), rtol=1e-10, atol=1e-13)
    for name in total.grads:  # every gradient: the mean's, times the number of target steps
        np.testing.assert_allclose(total.grads[name], T * mean.grads[name], rtol=1e-12, atol=1e-15, err_msg=name)


def test_value_clipping_clips_each_entry_as_np_clip():
    rng = np.random.default_rng(0)
    grads = {"a": rng.normal(scale=3.0, size=(4, 5)), "b": rng.normal(scale=3.0, size=6)}
    expected = {k: np.clip(g, -1.5, 1.5) for k, g in grads.items()}
    norm = float(np.sqrt(sum((g * g).sum() for g in grads.values())))
    assert clip_grads(grads, 1.5, "value") == pytest.approx(norm, rel=1e-14)
    for k in grads:
        np.testing.assert_array_equal(grads[k], expected[k])
    with pytest.raises(ValueError, match="unknown clipping mode 'max'; choose one of norm, value"):
        clip_grads(grads, 1.0, "max")


@pytest.mark.parametrize("clip_mode", ["norm", "value"])
def test_trainer_clips_as_asked(clip_mode):
    task = make_task("sine", steps=10)
    model = init_rnn(1, 6, 1, seed=3)
    model.W_hh *= 3.0
    start = model.copy()
    trainer = Trainer(model, task.x_train, task.y_train, optimizer="sgd", lr=0.1, clip=0.05, clip_mode=clip_mode)
    result = trainer.step()
    grads = {k[5:]: g.copy() for k, g in run(start, task.x_train, task.y_train).grads.items()}
    if clip_mode == "value":
        grads = {k: np.clip(g, -0.05, 0.05) for k, g in grads.items()}
    else:
        clip_grad_norm(grads, 0.05)
    for k, p in start.params().items():
        np.testing.assert_allclose(model.params()[k], p - 0.1 * grads[k], rtol=1e-13, atol=1e-16, err_msg=k)
    assert result.clipped


def test_adagrad_with_eps_inside_is_min_char_rnns_rule():
    rng = np.random.default_rng(5)
    p0 = rng.normal(size=(3, 4))
    gs = [rng.normal(size=(3, 4)) for _ in range(4)]
    for placement in ("inside", "outside"):
        opt = make_optimizer("adagrad", 0.3, adagrad_eps=placement)
        p, mem = p0.copy(), np.zeros_like(p0)
        ref = p0.copy()
        for g in gs:
            opt.step({"w": p}, {"w": g})
            mem += g * g
            eps = ADAGRAD_EPS[placement]
            ref -= 0.3 * g / (np.sqrt(mem + eps) if placement == "inside" else np.sqrt(mem) + eps)
        np.testing.assert_array_equal(p, ref)
    assert ADAGRAD_EPS == {"outside": 1e-10, "inside": 1e-8}
    with pytest.raises(ValueError, match="Adagrad's epsilon"):
        make_optimizer("adagrad", 0.1, adagrad_eps="under")


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_stateful_training_carries_the_last_state_of_each_batch(cell):
    """Full batch, stateful: step k starts from step k-1's last h (and c); no gradient crosses
    (each step is one run from that state); Reset and turning it off start from h_0 again."""
    task = make_task("sine", steps=8)
    model = init_model(cell, 1, 5, 1, seed=2)
    ref = model.copy()
    trainer = Trainer(model, task.x_train, task.y_train, optimizer="sgd", lr=0.05, stateful=True)
    opt = make_optimizer("sgd", 0.05)
    h0, c0 = None, None
    for k in range(4):
        start = {} if h0 is None else {"h0": h0, **({"c0": c0} if cell == "lstm" else {})}
        expected = run(ref, task.x_train, task.y_train, **start)
        result = trainer.step()
        assert result.trace.h0_carried == (k > 0)
        assert result.loss == pytest.approx(expected.loss, rel=1e-13)
        np.testing.assert_allclose(result.trace.h[0], expected.h[0], rtol=1e-13)
        opt.step(ref.params(), {n[5:]: g.copy() for n, g in expected.grads.items()})
        h0 = expected.h[-1]
        c0 = expected.c[-1] if cell == "lstm" else None
    np.testing.assert_allclose(trainer.carried["h"], h0, rtol=1e-12)
    trainer.reset()
    assert trainer.carried == {} and not trainer.step().trace.h0_carried
    trainer.set_stateful(False)
    assert not trainer.step().trace.h0_carried


def test_the_carried_state_and_the_conventions_survive_state_dict():
    task = make_task("sine", steps=8)
    kw = dict(optimizer="adagrad", lr=0.05, clip=0.5, batch_size=4, loss_reduction="sum", clip_mode="value",
              stateful=True, adagrad_eps="inside")
    a = Trainer(init_rnn(1, 5, 1, seed=2), task.x_train, task.y_train, **kw)
    for _ in range(3):
        a.step()
    meta, arrays = a.state_dict()
    assert meta["stateful"] is True and "carried.h" in arrays
    b = Trainer(init_rnn(1, 5, 1, seed=2), task.x_train, task.y_train, batch_size=4)  # else today's defaults
    b.load_state_dict(meta, arrays)
    assert (b.model.loss_reduction, b.clip_mode, b.stateful, b.adagrad_eps) == ("sum", "value", True, "inside")
    for _ in range(4):
        assert b.step().loss == a.step().loss
    # a state saved before these were settings: today's defaults
    old = {k: v for k, v in meta.items() if k not in ("loss_reduction", "clip_mode", "stateful", "adagrad_eps")}
    c = Trainer(init_rnn(1, 5, 1, seed=2), task.x_train, task.y_train)
    c.load_state_dict(old, {k: v for k, v in arrays.items() if not k.startswith("carried.")})
    assert (c.model.loss_reduction, c.clip_mode, c.stateful, c.adagrad_eps) == ("mean", "norm", False, "outside")
    bad = dict(arrays, **{"carried.h": np.zeros((4, 7))})
    with pytest.raises(ValueError, match=r"'carried.h' has shape \(4, 7\); expected \(B, 5\)"):
        c.load_state_dict(meta, bad)
    assert c.clip_mode == "norm"  # left as it was


@pytest.mark.parametrize("name", sorted(TASKS))
def test_divergence_limits_stay_quiet_with_sum_reduction_on_built_in_tasks(name):
    """The loss grows ×T and the gradients with it under "sum": the default limits must still
    not fire on the built-in tasks at their default settings (optimizer, learning rate)."""
    task = make_task(name)
    d = task.defaults
    model = init_model("rnn", task.input_size, d.get("hidden", 8), task.output_size, architecture=task.architecture,
                       loss=task.loss, seed=0)
    trainer = Trainer(model, task.x_train, task.y_train, optimizer=d["optimizer"], lr=d["lr"], loss_reduction="sum")
    for _ in range(d["iterations"]):  # the task's whole default budget (at most 1500 iterations, < 1 s)
        result = trainer.step()  # stop mode: a DivergenceError would fail the test here
    assert trainer.iteration == d["iterations"] and np.isfinite(result.loss)


def test_carried_starts_name_the_sequences_the_next_iteration_starts_from_a_carried_state():
    task = make_task("sine", steps=6)
    x, y = task.x_train[:, :3], task.y_train[:, :3]
    trainer = Trainer(init_rnn(1, 4, 1, seed=0), x, y, optimizer="sgd", lr=0.01, batch_size=1, stateful=True)
    assert trainer.carried_starts() == {}
    first = trainer.step()  # sequence 0; next: sequence 1, from sequence 0's last h
    starts = trainer.carried_starts()
    assert list(starts) == [1]
    np.testing.assert_array_equal(starts[1]["h0"], first.trace.h[-1, 0])
    second = trainer.step()
    assert second.trace.h0_carried
    np.testing.assert_array_equal(second.trace.h[0, 0], first.trace.h[-1, 0])
    trainer.step()  # sequence 2: the data start over next, from h_0
    assert trainer.carried_starts() == {}
    assert not trainer.step().trace.h0_carried
    trainer.set_stateful(False)
    assert trainer.carried_starts() == {}
