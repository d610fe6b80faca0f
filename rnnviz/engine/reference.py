"""The forward pass and BPTT of each cell written as plainly as a textbook: one loop forward, one
loop backward, one named array per formula, no workspace, no fused blocks, no alignment tricks.

It is slow and it is not used by the app: it is what the fast engine (engine/cells/) is held
equal to (tests/engine/test_reference.py), and the place to read the math.  The equations are
engine/model.py's (row vectors: x_t (B, I), h_t (B, H), weights (in, out)); the losses are

    mse            L = mean over sequences b, target steps t and output units k of (y_tbk − ŷ_tbk)²
    cross-entropy  L = mean over sequences b and target steps t of −log softmax(y_tb)[ŷ_tb]
    nll            the same number, with the outputs y_tb = log_softmax(h_t·W_hy + b_y)

("mean over target steps"; with the model's loss_reduction "sum" the per-step losses, each a
mean over sequences (and output units), are added up over the target steps instead).

x (T, B, I) and the targets are laid out as inputs.prepare_inputs / prepare_targets lay them
out; a TBPTT window of k steps cuts the backward chain between steps t and t+1 when t+1 is a
multiple of k (0-based t), so dL/dh_t then comes from y_t only.
"""
from __future__ import annotations

import numpy as np

from rnnviz.engine.model import GRU, LSTM, RNN, Model, target_steps

ACTIVATION = {  # f(a) and f'(a) written through a and h = f(a)
    "tanh": (np.tanh, lambda a, h: 1.0 - h * h),
    "relu": (lambda a: np.maximum(a, 0.0), lambda a, h: (a > 0).astype(a.dtype)),
    "sigmoid": (lambda a: 1.0 / (1.0 + np.exp(-a)), lambda a, h: h * (1.0 - h)),
    "identity": (lambda a: a.copy(), lambda a, h: np.ones_like(a)),
}


def sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def loss_and_dL_dy(model: Model, y: np.ndarray, targets: np.ndarray) -> dict:
    """loss, loss_t (T,), dL_dy (T, B, O), probs and the outputs y of the readout's linear
    outputs y (T, B, O) against the targets, over the architecture's target steps.

    cross-entropy: y are logits, probs = softmax(y).  nll: the outputs are log_softmax(y)
    (LogSoftmax + NLLLoss), probs their exp.  For both, dL_dy is the gradient at the linear
    output, (probs − one-hot)/N.  The loss is the mean of the per-step losses over the target
    steps, or their sum with model.loss_reduction "sum"."""
    T, B, O = y.shape
    has_target = target_steps(model.architecture, T)  # (T,) bool
    n_steps = int(has_target.sum())
    N_t = 1 if model.loss_reduction == "sum" else n_steps  # a step's loss counts 1/N_t
    loss_t = np.zeros(T)
    dL_dy = np.zeros_like(y)
    probs = None
    if model.loss == "mse":
        for t in np.flatnonzero(has_target):
            err = y[t] - targets[t]  # (B, O)
            loss_t[t] = np.mean(err * err)
            dL_dy[t] = 2.0 * err / (N_t * B * O)
    else:
        probs = np.exp(y - y.max(axis=2, keepdims=True))
        probs /= probs.sum(axis=2, keepdims=True)  # (T, B, O) softmax
        if model.loss == "nll":
            y = np.log(probs)  # the model's outputs: log-probabilities
        for t in np.flatnonzero(has_target):
            p_right = probs[t, np.arange(B), targets[t]]  # (B,) probability of the right class
            loss_t[t] = np.mean(-np.log(p_right))
            one_hot = np.zeros((B, O))
            one_hot[np.arange(B), targets[t]] = 1.0
            dL_dy[t] = (probs[t] - one_hot) / (N_t * B)
    total = loss_t[has_target].sum() if model.loss_reduction == "sum" else loss_t[has_target].mean()
    return {"loss": float(total), "loss_t": loss_t, "dL_dy": dL_dy, "probs": probs, "y": y}


def cut_after(t: int, T: int, tbptt: int | None) -> bool:
    """Whether nothing flows back from step t+1 into step t (t 0-based): t is the last step,
    or a TBPTT window of tbptt steps ends at t."""
    return t == T - 1 or (tbptt is not None and (t + 1) % tbptt == 0)


def add_step(grads: dict, norms: dict, name: str, t: int, dW_t: np.ndarray) -> None:
    """Add step t's contribution dW_t to grads[name] and record its norm in norms[name][t]."""
    grads[name] = grads.get(name, 0.0) + dW_t
    norms[name][t] = np.linalg.norm(dW_t)


def output_layer(model: Model, h: np.ndarray, dL_dy: np.ndarray, grads: dict, norms: dict) -> None:
    """W_hy and b_y's gradients: step t contributes h_tᵀ·dL/dy_t and Σ_b dL/dy_t."""
    for t in range(dL_dy.shape[0]):
        add_step(grads, norms, "W_hy", t, h[t + 1].T @ dL_dy[t])  # (H, O)
        add_step(grads, norms, "b_y", t, dL_dy[t].sum(axis=0))  # (O,)


def vanilla(model: RNN, x: np.ndarray, targets: np.ndarray, tbptt: int | None = None) -> dict:
    """a_t = x_t·W_xh + h_{t-1}·W_hh + b_h,  h_t = f(a_t),  y_t = h_t·W_hy + b_y."""
    T, B, _ = x.shape
    H = model.hidden_size
    f, f_prime = ACTIVATION[model.activation]
    W_xh, W_hh, b_h, W_hy, b_y = model.W_xh, model.W_hh, model.b_h, model.W_hy, model.b_y
    # forward
    a = np.zeros((T, B, H))
    h = np.zeros((T + 1, B, H))  # h[0] = h_0
    h[0] = model.h0
    for t in range(T):
        a[t] = x[t] @ W_xh + h[t] @ W_hh + b_h
        h[t + 1] = f(a[t])
    y = h[1:] @ W_hy + b_y  # (T, B, O)
    out = loss_and_dL_dy(model, y, targets)
    dL_dy = out["dL_dy"]
    # backward: dL/dh_t = dL/dy_t·W_hyᵀ + dL/da_{t+1}·W_hhᵀ,  dL/da_t = dL/dh_t ⊙ f'(a_t)
    dL_dh = np.zeros((T, B, H))
    dL_da = np.zeros((T, B, H))
    grads: dict = {}
    norms = {name: np.zeros(T) for name in model.params()}
    for t in range(T - 1, -1, -1):
        dL_dh[t] = dL_dy[t] @ W_hy.T
        if not cut_after(t, T, tbptt):
            dL_dh[t] += dL_da[t + 1] @ W_hh.T
        dL_da[t] = dL_dh[t] * f_prime(a[t], h[t + 1])
        add_step(grads, norms, "W_xh", t, x[t].T @ dL_da[t])  # (I, H)
        add_step(grads, norms, "W_hh", t, h[t].T @ dL_da[t])  # (H, H)
        add_step(grads, norms, "b_h", t, dL_da[t].sum(axis=0))  # (H,)
    output_layer(model, h, dL_dy, grads, norms)
    return {**out, "a": a, "h": h, "dL_dh": dL_dh, "dL_da": dL_da,
            "grads": {"grad_" + k: v for k, v in grads.items()}, "step_grad_norms": norms}


def lstm(model: LSTM, x: np.ndarray, targets: np.ndarray, tbptt: int | None = None) -> dict:
    """i, f, o = σ(x_t·W_x* + h_{t-1}·W_h* + b_*),  g = tanh(...),  c_t = f ⊙ c_{t-1} + i ⊙ g,
    h_t = o ⊙ tanh(c_t),  y_t = h_t·W_hy + b_y."""
    T, B, _ = x.shape
    H = model.hidden_size
    P = model.params()
    gates = ("i", "f", "g", "o")
    # forward
    pre = {k: np.zeros((T, B, H)) for k in gates}  # pre-activations
    act = {k: np.zeros((T, B, H)) for k in gates}  # i_t, f_t, g_t, o_t
    c = np.zeros((T + 1, B, H))  # c[0] = c_0
    h = np.zeros((T + 1, B, H))  # h[0] = h_0
    c[0], h[0] = model.c0, model.h0
    for t in range(T):
        for k in gates:
            pre[k][t] = x[t] @ P["W_x" + k] + h[t] @ P["W_h" + k] + P["b_" + k]
            act[k][t] = np.tanh(pre[k][t]) if k == "g" else sigmoid(pre[k][t])
        i_t, f_t, g_t, o_t = (act[k][t] for k in gates)
        c[t + 1] = f_t * c[t] + i_t * g_t
        h[t + 1] = o_t * np.tanh(c[t + 1])
    y = h[1:] @ P["W_hy"] + P["b_y"]  # (T, B, O)
    out = loss_and_dL_dy(model, y, targets)
    dL_dy = out["dL_dy"]
    # backward
    dL_dh = np.zeros((T, B, H))
    dL_dc = np.zeros((T, B, H))
    dL_dpre = {k: np.zeros((T, B, H)) for k in gates}
    grads: dict = {}
    norms = {name: np.zeros(T) for name in P}
    for t in range(T - 1, -1, -1):
        i_t, f_t, g_t, o_t = (act[k][t] for k in gates)
        tanh_c = np.tanh(c[t + 1])
        # h_t feeds y_t and every gate of step t+1; c_t feeds h_t and c_{t+1} = f_{t+1} ⊙ c_t + ...
        dL_dh[t] = dL_dy[t] @ P["W_hy"].T
        if not cut_after(t, T, tbptt):
            dL_dh[t] += sum(dL_dpre[k][t + 1] @ P["W_h" + k].T for k in gates)
        dL_dc[t] = dL_dh[t] * o_t * (1.0 - tanh_c**2)
        if not cut_after(t, T, tbptt):
            dL_dc[t] += dL_dc[t + 1] * act["f"][t + 1]
        dL_dpre["o"][t] = dL_dh[t] * tanh_c * o_t * (1.0 - o_t)
        dL_dpre["i"][t] = dL_dc[t] * g_t * i_t * (1.0 - i_t)
        dL_dpre["f"][t] = dL_dc[t] * c[t] * f_t * (1.0 - f_t)
        dL_dpre["g"][t] = dL_dc[t] * i_t * (1.0 - g_t**2)
        for k in gates:
            add_step(grads, norms, "W_x" + k, t, x[t].T @ dL_dpre[k][t])  # (I, H)
            add_step(grads, norms, "W_h" + k, t, h[t].T @ dL_dpre[k][t])  # (H, H)
            add_step(grads, norms, "b_" + k, t, dL_dpre[k][t].sum(axis=0))  # (H,)
    output_layer(model, h, dL_dy, grads, norms)
    return {**out, "a": pre["g"], "h": h, "dL_dh": dL_dh, "dL_da": dL_dpre["g"], "c": c, "dL_dc": dL_dc,
            "gates": act, "gate_pre": pre, "dL_dgate_pre": dL_dpre, "extra": {"tanh_c": np.tanh(c[1:])},
            "grads": {"grad_" + k: v for k, v in grads.items()}, "step_grad_norms": norms}


def gru(model: GRU, x: np.ndarray, targets: np.ndarray, tbptt: int | None = None) -> dict:
    """r, z = σ(x_t·W_x* + h_{t-1}·W_h* + b_*),  n_h = h_{t-1}·W_hn + b_hn,
    n = tanh(x_t·W_xn + b_xn + r ⊙ n_h),  h_t = (1 − z) ⊙ n + z ⊙ h_{t-1},  y_t = h_t·W_hy + b_y."""
    T, B, _ = x.shape
    H = model.hidden_size
    P = model.params()
    gates = ("r", "z", "n")
    # forward
    pre = {k: np.zeros((T, B, H)) for k in gates}  # pre-activations (n's includes r ⊙ n_h)
    act = {k: np.zeros((T, B, H)) for k in gates}  # r_t, z_t, n_t
    n_h = np.zeros((T, B, H))
    h = np.zeros((T + 1, B, H))  # h[0] = h_0
    h[0] = model.h0
    for t in range(T):
        for k in ("r", "z"):
            pre[k][t] = x[t] @ P["W_x" + k] + h[t] @ P["W_h" + k] + P["b_" + k]
            act[k][t] = sigmoid(pre[k][t])
        n_h[t] = h[t] @ P["W_hn"] + P["b_hn"]
        pre["n"][t] = x[t] @ P["W_xn"] + P["b_xn"] + act["r"][t] * n_h[t]
        act["n"][t] = np.tanh(pre["n"][t])
        z_t, n_t = act["z"][t], act["n"][t]
        h[t + 1] = (1.0 - z_t) * n_t + z_t * h[t]
    y = h[1:] @ P["W_hy"] + P["b_y"]  # (T, B, O)
    out = loss_and_dL_dy(model, y, targets)
    dL_dy = out["dL_dy"]
    # backward
    dL_dh = np.zeros((T, B, H))
    dL_dpre = {k: np.zeros((T, B, H)) for k in gates}
    dL_dn_h = np.zeros((T, B, H))
    grads: dict = {}
    norms = {name: np.zeros(T) for name in P}
    for t in range(T - 1, -1, -1):
        r_t, z_t, n_t = (act[k][t] for k in gates)
        # h_t feeds y_t, the gates of step t+1 and, directly, h_{t+1} = ... + z_{t+1} ⊙ h_t
        dL_dh[t] = dL_dy[t] @ P["W_hy"].T
        if not cut_after(t, T, tbptt):
            dL_dh[t] += (dL_dpre["r"][t + 1] @ P["W_hr"].T + dL_dpre["z"][t + 1] @ P["W_hz"].T
                         + dL_dn_h[t + 1] @ P["W_hn"].T + dL_dh[t + 1] * act["z"][t + 1])
        dL_dpre["n"][t] = dL_dh[t] * (1.0 - z_t) * (1.0 - n_t**2)
        dL_dpre["z"][t] = dL_dh[t] * (h[t] - n_t) * z_t * (1.0 - z_t)
        dL_dpre["r"][t] = dL_dpre["n"][t] * n_h[t] * r_t * (1.0 - r_t)
        dL_dn_h[t] = dL_dpre["n"][t] * r_t
        for k in ("r", "z"):
            add_step(grads, norms, "W_x" + k, t, x[t].T @ dL_dpre[k][t])  # (I, H)
            add_step(grads, norms, "W_h" + k, t, h[t].T @ dL_dpre[k][t])  # (H, H)
            add_step(grads, norms, "b_" + k, t, dL_dpre[k][t].sum(axis=0))  # (H,)
        add_step(grads, norms, "W_xn", t, x[t].T @ dL_dpre["n"][t])
        add_step(grads, norms, "b_xn", t, dL_dpre["n"][t].sum(axis=0))
        add_step(grads, norms, "W_hn", t, h[t].T @ dL_dn_h[t])
        add_step(grads, norms, "b_hn", t, dL_dn_h[t].sum(axis=0))
    output_layer(model, h, dL_dy, grads, norms)
    return {**out, "a": pre["n"], "h": h, "dL_dh": dL_dh, "dL_da": dL_dpre["n"],
            "gates": act, "gate_pre": pre, "dL_dgate_pre": dL_dpre, "extra": {"n_h": n_h, "dL_dn_h": dL_dn_h},
            "grads": {"grad_" + k: v for k, v in grads.items()}, "step_grad_norms": norms}


def reference_pass(model: Model, x: np.ndarray, targets: np.ndarray, tbptt: int | None = None) -> dict:
    """The textbook pass of any model: a dict named as the Trace's fields (a, h, y, probs, loss,
    loss_t, dL_dy, dL_dh, dL_da, grads, step_grad_norms; gated cells also gates, gate_pre,
    dL_dgate_pre, extra; an LSTM c and dL_dc).  x (T, B, I), targets laid out over all T steps."""
    x = np.asarray(x, dtype=float)
    cell = {"rnn": vanilla, "lstm": lstm, "gru": gru}[model.cell]
    return cell(model, x, targets, tbptt)
