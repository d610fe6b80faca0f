"""What the LSTM and GRU passes share: running one (cells/lstm.py, cells/gru.py) and recording its
trace, the gradient-gain probe, the weight gradients with their per-step norms, the exact
Jacobian norms, and the loss with one state nudged (for finite differences).

How the arrays are laid out, which is what makes the per-step loops cheap (bench/README.md
has the vanilla cell's measurements behind the same choices):
* rows (T+1, B, K = H+1+I) hold [h_{t-1} | 1 | x_t], as in the vanilla cell: a step's gate
  pre-activations are one product rows[t]·W with W = [W_h; b; W_x] (the gates side by side,
  64-byte aligned), and the step writes h_t straight into rows[t+1] (h = rows[:, :, :H]).
  The weight gradients are products of the same rows with the gates' gradients.
* The activations go to contiguous arrays of their own (the σ gates together, the tanh
  candidate apart): ufuncs that write into strided views cost about twice as much (σ of
  (32, 384): 41 µs into a (32, 512) array's columns, 22 µs into a (32, 384) one).
* BPTT multiplies by coefficients worked out for all steps at once after the forward pass
  (the gates' derivatives times what each gate's gradient picks up), so a step costs one
  product and 3 (GRU) or 6 (LSTM) ufunc calls.  The rows of e hold [the gates' gradients |
  dL/dy_{t-1}], so that e[t+1]·[W_hᵀ; W_hyᵀ] is all of dL/dh_t in one product.
* The gradient-gain probe reuses those coefficients (their first P rows).
* The per-step gradient norms come from Gram matrices or chunks of per-step products
  (grouped_step_products), the totals with them.
* The big arrays come from the workspace pool (kernels.Workspace): fresh ones above malloc's
  mmap threshold cost their page faults on every run.
"""
from __future__ import annotations

import numpy as np

from rnnviz.engine.cells import gru, lstm
from rnnviz.engine.inputs import check_state, prepare_inputs, prepare_targets
from rnnviz.engine.kernels import FRESH, Arrays, output_loss, outputs, pool, step_products, workspace
from rnnviz.engine.model import GRU, LSTM, LSTM_GATES, input_steps, target_steps
from rnnviz.engine.trace import Trace


def run_gated(model: LSTM | GRU, x: np.ndarray, targets: np.ndarray | None, *, steps: int | None,
              tbptt: int | None, h0: np.ndarray | None, c0: np.ndarray | None, gain_sequences: int) -> Trace:
    """Forward + BPTT of an LSTM or GRU, everything recorded (run.run checks gain_sequences and
    explains the arguments; c0: (H,) or (B, H) initial cell state of an LSTM, default the model's c0)."""
    if tbptt is not None and tbptt < 1:
        raise ValueError(f"the truncation window must be at least 1 step, got {tbptt}")
    if c0 is not None and model.cell != "lstm":
        raise ValueError("c0 is the initial cell state of an LSTM; a GRU has none")
    x = prepare_inputs(model, x, steps)
    T, B, _ = x.shape
    tgt = None if targets is None else prepare_targets(model, targets, T, B)
    h0 = model.h0 if h0 is None else check_state(h0, model, B, "h0")
    H = model.hidden_size
    is_lstm = model.cell == "lstm"
    ws = workspace(T * B * H)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        if is_lstm:
            c0 = model.c0 if c0 is None else check_state(c0, model, B, "c0")
            fwd = lstm.forward(model, x, h0, c0, ws=ws)
        else:
            fwd = gru.forward(model, x, h0, ws=ws)
        rows = fwd["rows"]  # (T+1, B, K) [h_t | 1 | x_{t+1}]
        h = fwd["h"]  # (T+1, B, H)
        y = outputs(rows, model.W_hy, model.b_y)  # (T, B, O)
        probs, loss, loss_t, dL_dy = output_loss(model, y, tgt)
        back = (lstm if is_lstm else gru).bptt(model, fwd, dL_dy, tbptt, ws)
        grads, step_norms = param_grads(model, rows, dL_dy, back["e"], ws)
        # the gradient-gain probe: a unit signal at h_T carried back through the whole state, for
        # the first P sequences (as the vanilla cell's; see cells/vanilla.py), with BPTT's coefficients
        P = min(B, int(gain_sequences))
        g_T = back["dh"][-1, :P] if tgt is not None else None  # dL/dh_T = dL/dy_T·W_hyᵀ
        n = None if g_T is None else np.linalg.norm(g_T, axis=1, keepdims=True)
        u = (np.full((P, H), 1.0 / np.sqrt(H), dtype=model.dtype) if g_T is None
             else np.where(n > 0, g_T / np.where(n > 0, n, 1.0), 1.0 / np.sqrt(H)))
        probe = gain_probe(model, back, u, ws)
    if is_lstm:
        o, i, f = (fwd["sig"][..., k * H:(k + 1) * H] for k in range(3))
        pre = {g: fwd["pre"][..., k * H:(k + 1) * H] for k, g in enumerate(lstm.STACK_ORDER)}
        e = back["e"]
        gates = {"i": i, "f": f, "g": fwd["g"], "o": o}
        gate_pre = {g: pre[g] for g in LSTM_GATES}
        dgate = {g: e[..., k * H:(k + 1) * H] for k, g in enumerate(lstm.STACK_ORDER)}
        dgate = {g: dgate[g] for g in LSTM_GATES}
        a_name = "g"
        extra = {"tanh_c": fwd["tc"], "grad_gain_c": np.linalg.norm(probe["dc"], axis=2).mean(axis=1)}
    else:
        pre, rz, e = fwd["pre"], fwd["rz"], back["e"]
        gates = {"r": rz[..., :H], "z": rz[..., H:], "n": fwd["n"]}
        gate_pre = {"r": pre[..., :H], "z": pre[..., H:2 * H], "n": pre[..., 3 * H:]}
        dgate = {"r": e[..., 2 * H:3 * H], "z": e[..., H:2 * H], "n": e[..., :H]}
        a_name = "n"
        extra = {"n_h": pre[..., 2 * H:3 * H], "dL_dn_h": e[..., 3 * H:4 * H]}
    return Trace(
        activation="tanh", architecture=model.architecture, loss_name=model.loss,
        params={k: v.copy() for k, v in model.params().items()},
        x=x, targets=tgt, input_mask=input_steps(model.architecture, T), target_mask=target_steps(model.architecture, T),
        a=gate_pre[a_name], h=h, y=y, probs=probs, loss=loss, loss_t=loss_t,
        dL_dy=dL_dy, dL_dh=back["dh"], dL_da=dgate[a_name],
        grads=grads, step_grad_norms=step_norms, grad_gain=np.linalg.norm(probe["dh"], axis=2).mean(axis=1),
        tbptt=tbptt, extra=extra, cell=model.cell, gates=gates, gate_pre=gate_pre, dL_dgate_pre=dgate,
        c=fwd.get("c"), dL_dc=back.get("dc"),
    )


def gain_probe(model: LSTM | GRU, back: dict, u: np.ndarray, ws: Arrays) -> dict:
    """BPTT of a unit signal u (P, H) at h_T for the first P sequences, no loss and no
    truncation: dh (and, LSTM, dc) (T, P, H)."""
    T, _, H = back["dh"].shape
    P = u.shape[0]
    dt = back["dh"].dtype
    coef = {k: v[:, :P] for k, v in back["coef"].items()}
    dh = ws.get("probe_dh", (T, P, H), dt)
    dh[T - 1] = u
    e = ws.get("probe_e", (T, P, 4 * H), dt)
    if model.cell == "lstm":
        dc = ws.get("probe_dc", (T, P, H), dt)
        lstm.backward(coef, back["w"], e, dh, dc)
        return {"dh": dh, "dc": dc}
    gru.backward(coef, back["w"], e, dh)
    return {"dh": dh}


GRAM_FACTOR = 2  # Gram matrices when they cost less than 1/_GRAM_FACTOR of the products' passes (measured)


def grouped_step_products(A: np.ndarray, D: np.ndarray, G: int, groups: tuple[slice, ...], ws: Arrays, role: str
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Σ_t A_tᵀ·D_t (M, N), and (T, len(groups), G) the squared Frobenius norms of each step's
    product, by group of rows and block of N/G columns (a weight matrix: one gate's columns, the
    rows of h, 1 or x).  A: (T, B, M), D: (T, B, N).

    One sequence: every product is an outer product a·dᵀ, of squared norm ‖a‖²·‖d‖².  A batch,
    small against the products: from (B, B) Gram matrices, ‖A_tᵀ·D_t‖² = Σ (A_t·A_tᵀ) ⊙ (D_t·D_tᵀ),
    the totals one product over all steps (at B=32, H=128 an LSTM's are 6.8 ms this way against
    13 ms from the products themselves).  Otherwise the products, a chunk of steps at a time, their
    norms taken and their sum added up while in the cache (kernels.step_products)."""
    T, B, M = A.shape
    N = D.shape[2]
    n_g = N // G
    dt = np.result_type(A, D)
    sq = np.empty((T, len(groups), G), dtype=dt)
    total = pool().get(role + "_total", (M, N), dt)  # (the caller copies out what it keeps)
    if B == 1:
        a, d = A.reshape(T, M), D.reshape(T, N)
        d3 = d.reshape(T, G, n_g)
        d_sq = np.einsum("tgn,tgn->tg", d3, d3)  # (T, G)
        for k, rows in enumerate(groups):
            a_k = a[:, rows]
            np.multiply(np.einsum("tm,tm->t", a_k, a_k)[:, None], d_sq, out=sq[:, k])
        return np.matmul(a.T, d, out=total), sq
    if GRAM_FACTOR * B * (M + N) < M * N:
        np.matmul(A.reshape(T * B, M).T, D.reshape(T * B, N), out=total)
        Dg = D.reshape(T, B, G, n_g).transpose(0, 2, 1, 3)  # (T, G, B, N/G)
        gd = np.matmul(Dg, Dg.transpose(0, 1, 3, 2))  # (T, G, B, B)
        for k, rows in enumerate(groups):
            a_k = A[:, :, rows]
            ga = np.matmul(a_k, a_k.transpose(0, 2, 1))  # (T, B, B)
            np.einsum("tij,tgij->tg", ga, gd, out=sq[:, k])
        return total, np.maximum(sq, 0.0, out=sq)  # (a sum of products may round below 0)
    total, row_sq = step_products(A, D, ws, role, G)  # (M, N), (T, M, G)
    for k, rows in enumerate(groups):
        np.add.reduce(row_sq[:, rows], axis=1, out=sq[:, k])
    return total, sq


def param_grads(model: LSTM | GRU, rows: np.ndarray, dL_dy: np.ndarray, e: np.ndarray, ws: Arrays) -> tuple[dict, dict]:
    """The gradients (totals over steps and batch) and name -> (T,) ‖step t's contribution‖.
    rows (T+1, B, H+1+I) [h_t | 1 | x_{t+1}]; e: the backward pass's (T, B, 4H+O) gradients."""
    T, B, O = dL_dy.shape
    H = model.hidden_size
    # [h_{t-1} | 1 | x_t]ᵀ·(the four blocks of e): W_h*, b_*, W_x* of every gate in one go
    total, sq = grouped_step_products(rows[:T], e[..., :4 * H], 4, (slice(0, H), slice(H, H + 1), slice(H + 1, None)),
                                      ws, model.cell + "_contrib")  # (K, 4H), (T, 3, 4)
    # block k of e -> the parameters it is the gradient of, by row group (None: not one)
    if model.cell == "lstm":
        blocks = [("W_h" + g, "b_" + g, "W_x" + g) for g in lstm.STACK_ORDER]
    else:  # e: [dL/dn_pre | dL/dz_pre | dL/dr_pre | dL/dn_h]; h_{t-1}·W_hn + b_hn sits inside r ⊙ (...)
        blocks = [(None, "b_xn", "W_xn"), ("W_hz", "b_z", "W_xz"), ("W_hr", "b_r", "W_xr"), ("W_hn", "b_hn", None)]
    grads, sq_norms = {}, {}
    for k, names in enumerate(blocks):
        sl = slice(k * H, (k + 1) * H)
        for group, (name, rows_of) in enumerate(zip(names, (slice(0, H), H, slice(H + 1, None)))):
            if name is not None:
                grads["grad_" + name], sq_norms[name] = total[rows_of, sl], sq[:, group, k]
    ty, sy = grouped_step_products(rows[1:, :, :H], dL_dy, 1, (slice(0, H),), ws, "gated_contrib_y")  # (H, O), (T, 1, 1)
    grads["grad_W_hy"], sq_norms["W_hy"] = ty, sy[:, 0, 0]
    # b_y: as few numbers as dL/dy; summed as NumPy sums (its gradient often nearly cancels)
    dy_b = dL_dy.sum(axis=1)  # (T, O)
    grads["grad_b_y"], sq_norms["b_y"] = dL_dy.reshape(T * B, O).sum(axis=0), np.einsum("to,to->t", dy_b, dy_b)
    grads = {"grad_" + n: np.array(grads["grad_" + n], order="C") for n in model.PARAM_NAMES}  # copies: totals are pooled
    return grads, {n: np.sqrt(sq_norms[n]) for n in model.PARAM_NAMES}


def jacobian_norms_gated(trace: Trace, seq: int = 0, ord: str = "spectral") -> np.ndarray:
    """(T,) exact ‖∂h_T/∂h_t‖ for one sequence of an LSTM or GRU trace (c_t held fixed for
    the LSTM: the partial derivative through the whole state, as dL/dh_t)."""
    T, H = trace.T, trace.hidden_size
    P = trace.params
    rep = lambda a: np.repeat(a[:, seq:seq + 1], H, axis=1)  # noqa: E731  a batch of H copies of the sequence
    dt = trace.h.dtype
    dh = np.zeros((T, H, H), dtype=dt)
    dh[-1] = np.eye(H)  # row k: e_k·∂h_T/∂h_t
    e = np.empty((T, H, 4 * H), dtype=dt)
    if trace.cell == "lstm":
        c = rep(trace.c)
        sig = np.concatenate([rep(trace.gates[g]) for g in lstm.STACK_ORDER[:3]], axis=2)
        q = np.concatenate([np.tanh(c[1:]), rep(trace.gates["g"]), c[:-1]], axis=2)  # (T, H, 3H)
        coef = lstm.coefficients(sig, q, FRESH)
        lstm.backward(coef, np.concatenate([P["W_h" + g].T for g in lstm.STACK_ORDER]), e, dh, np.empty_like(dh))
    else:
        rz = np.concatenate([rep(trace.gates["r"]), rep(trace.gates["z"])], axis=2)
        coef = gru.coefficients(rz, rep(trace.gates["n"]), rep(trace.extra["n_h"]), rep(trace.h[:-1]), FRESH)
        gru.backward(coef, np.concatenate([P["W_hz"].T, P["W_hr"].T, P["W_hn"].T]), e, dh)
    return np.array([np.linalg.norm(dh[t], 2 if ord == "spectral" else "fro") for t in range(T)])


def forward_loss_gated(model: LSTM | GRU, x: np.ndarray, targets: np.ndarray) -> float:
    """run_gated(...).loss from the forward pass alone, from the model's h_0 (run.forward_loss)."""
    x = prepare_inputs(model, x)
    T, B, _ = x.shape
    tgt = prepare_targets(model, targets, T, B)
    ws = workspace(T * B * model.hidden_size)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        if model.cell == "lstm":
            fwd = lstm.forward(model, x, model.h0, model.c0, ws=ws)
        else:
            fwd = gru.forward(model, x, model.h0, ws=ws)
        y = outputs(fwd["rows"], model.W_hy, model.b_y)  # (T, B, O)
        return output_loss(model, y, tgt)[1]


def loss_with_nudge(model: LSTM | GRU, x: np.ndarray, targets: np.ndarray, what: str, t: int, b: int, j: int, delta: float) -> float:
    """The loss when h_t (what='h') or c_t (what='c', LSTM) of sequence b, unit j, at 0-based
    step t is shifted by delta as soon as it is computed (finite differences of dL/dh, dL/dc)."""
    x = prepare_inputs(model, x)
    T, B, _ = x.shape
    tgt = prepare_targets(model, targets, T, B)
    nudge = (what, t, b, j, delta)
    if model.cell == "lstm":
        fwd = lstm.forward(model, x, model.h0, model.c0, nudge)
    else:
        fwd = gru.forward(model, x, model.h0, nudge)
    H, O = model.hidden_size, model.output_size
    y = (fwd["h"][1:].reshape(T * B, H) @ model.W_hy + model.b_y).reshape(T, B, O)
    return output_loss(model, y, tgt)[1]
