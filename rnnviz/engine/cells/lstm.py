"""The LSTM's pass (nn.LSTM's equations, in engine/model.py): the forward loop, the coefficients
BPTT multiplies by, and the backward loop.  cells/gated.py runs it and records the trace.

The four gates are stacked along the last axis, the three sigmoid gates first (STACK_ORDER),
so a step's pre-activations are one product rows[t]·[W_h; b; W_x] and one sigmoid call covers
o, i, f.  BPTT multiplies by coefficients worked out for all steps at once after the forward
pass, so a step costs one product and 6 ufunc calls; the rows of e hold [the gates' gradients |
dL/dy_{t-1}], so that e[t+1]·[W_hᵀ; W_hyᵀ] is all of dL/dh_t in one product.
"""
from __future__ import annotations

import numpy as np

from rnnviz.engine.kernels import FRESH, Arrays, as_view, gate_sigmoid, step_rows, weight_block
from rnnviz.engine.model import LSTM
from rnnviz.engine.trace import from_outputs

STACK_ORDER = ("o", "i", "f", "g")  # internal stacking: the three sigmoid gates (o first: BPTT
#                                     multiplies it by dL/dh, i, f, g by dL/dc), then g


def forward(model: LSTM, x: np.ndarray, h0: np.ndarray, c0: np.ndarray, nudge: tuple | None = None,
            ws: Arrays | None = None) -> dict:
    """nudge = (what, t, b, j, delta): add delta to h_t or c_t (0-based step t) once computed,
    before the rest of the pass uses it — for finite differences of dL/dh_t and dL/dc_t.
    ws: where the big arrays come from (kernels.workspace), fresh ones by default."""
    T, B, I = x.shape
    H = model.hidden_size
    dt = model.dtype
    ws = FRESH if ws is None else ws
    H3 = 3 * H
    rows = step_rows(x, h0, H, ws, "lstm_rows")  # (T+1, B, K)
    w = weight_block("lstm_w", (H + 1 + I, 4 * H), dt, [[getattr(model, p + g) for g in STACK_ORDER]
                                                         for p in ("W_h", "b_", "W_x")])  # (K, 4H) [W_h; b; W_x]
    pre = ws.get("lstm_pre", (T, B, 4 * H), dt)  # (T, B, 4H) pre-activations of o, i, f, g
    sig = ws.get("lstm_sig", (T, B, H3), dt)  # (T, B, 3H) o, i, f
    # q[t] = [tanh(c_t) | g_t | c_{t-1}], what o, i, f's derivatives get multiplied by in BPTT, side
    # by side in the gates' order: the coefficients then take one pass instead of three
    q = ws.get("lstm_q", (T + 1, B, H3), dt)  # (T+1, B, 3H); q[T] holds only c_T
    tc, g, c = q[:T, :, :H], q[:T, :, H:2 * H], q[:, :, 2 * H:]  # (T, B, H), (T, B, H), (T+1, B, H)
    c[0] = c0
    h = rows[:, :, :H]  # (T+1, B, H)
    tmp = np.empty((B, H), dtype=dt)
    matmul, multiply, tanh = np.matmul, np.multiply, np.tanh
    for t in range(T):
        pre_t, s_t, g_t, c_t = pre[t], sig[t], g[t], c[t + 1]
        matmul(rows[t], w, out=pre_t)  # x_t·W_x + h_{t-1}·W_h + b
        gate_sigmoid(pre_t[:, :H3], out=s_t)  # o, i, f
        tanh(pre_t[:, H3:], out=g_t)  # g
        multiply(s_t[:, 2 * H:], c[t], out=c_t)  # f ⊙ c_{t-1}
        multiply(s_t[:, H:2 * H], g_t, out=tmp)  # i ⊙ g
        c_t += tmp
        if nudge is not None and nudge[0] == "c" and nudge[1] == t:
            c_t[nudge[2], nudge[3]] += nudge[4]
        tanh(c_t, out=tc[t])
        multiply(s_t[:, :H], tc[t], out=h[t + 1])  # o ⊙ tanh(c_t)
        if nudge is not None and nudge[0] == "h" and nudge[1] == t:
            h[t + 1, nudge[2], nudge[3]] += nudge[4]
    return {"rows": rows, "h": h, "c": c, "tc": tc, "pre": pre, "sig": sig, "g": g, "q": q[:T]}


def coefficients(sig: np.ndarray, q: np.ndarray, ws: Arrays) -> dict:
    """What BPTT multiplies by, for all steps at once.  sig (T, B, 3H): σ of o, i, f; q (T, B, 3H):
    [tanh(c_t) | g_t | c_{t-1}].  dL/d pre of o = dL/dh ⊙ Ks_o, of i, f = dL/dc ⊙ Ks_i, Ks_f, of
    g = dL/dc ⊙ Kcg_g; Kcg_c = ∂h_t/∂c_t (dL/dc_t's share of dL/dh_t); f: c_{t+1}'s share of c_t."""
    T, B, H3 = sig.shape
    H2 = 2 * H3 // 3
    Ks = ws.get("lstm_coef_s", (T, B, H3), sig.dtype)  # (T, B, 3H)
    np.subtract(1.0, sig, out=Ks)
    Ks *= sig  # σ' = σ(1−σ)
    Ks *= q  # o: ⊙ tanh(c_t), i: ⊙ g, f: ⊙ c_{t-1}
    Kcg = ws.get("lstm_coef_cg", (T, B, H2), sig.dtype)  # (T, B, 2H)
    np.square(q[..., :H2], out=Kcg)  # (np.square reads a strided view faster than multiply)
    np.subtract(1.0, Kcg, out=Kcg)
    Kcg *= sig[..., :H2]  # [o ⊙ (1 − tanh²c_t) | i ⊙ (1 − g²)]
    return {"Ks": Ks, "Kcg": Kcg, "f": sig[..., H2:]}


def backward(coef: dict, w: np.ndarray, e: np.ndarray, dh: np.ndarray, dc: np.ndarray, cut: tuple | None = None) -> None:
    """BPTT of the LSTM, back from dh[T-1] (set by the caller): fills dh, dc (T, R, H) and the
    gate pre-activations' gradients e[..., :4H] (o, i, f, g).  e (T, R, 4H+O): e[t+1, :, 4H:]
    holds what joins the next product (dL/dy_t, with w = [W_hᵀ; W_hyᵀ] (4H+O, H)), or O = 0.
    coef: coefficients (R rows).  cut = (k, dL_dy, W_hyᵀ): a TBPTT window of k steps."""
    T, R, H = dh.shape
    Ks, Kcg, f = coef["Ks"], coef["Kcg"], coef["f"]
    Kif = as_view(Ks[..., H:], (T, R, 2, H))  # i, f: both times dL/dc_t
    eif = as_view(e[..., H:3 * H], (T, R, 2, H))
    tmp = np.empty((R, H), dtype=dh.dtype)
    matmul, multiply = np.matmul, np.multiply
    for t in range(T - 1, -1, -1):
        if t == T - 1:
            multiply(dh[t], Kcg[t, :, :H], out=dc[t])
        elif cut is None or (t + 1) % cut[0] != 0:
            matmul(e[t + 1], w, out=dh[t])  # through the four h_t·W_h* of step t+1, and y_t
            multiply(dh[t], Kcg[t, :, :H], out=dc[t])
            multiply(dc[t + 1], f[t + 1], out=tmp)  # through c_{t+1} = f_{t+1} ⊙ c_t + ...
            dc[t] += tmp
        else:  # a TBPTT window starts at t+1: only y_t's share
            from_outputs(cut[1][t], cut[2], out=dh[t])
            multiply(dh[t], Kcg[t, :, :H], out=dc[t])
        multiply(dh[t], Ks[t, :, :H], out=e[t, :, :H])  # dL/do
        multiply(dc[t][:, None, :], Kif[t], out=eif[t])  # dL/di, dL/df
        multiply(dc[t], Kcg[t, :, H:], out=e[t, :, 3 * H:4 * H])  # dL/dg


def bptt(model: LSTM, fwd: dict, dL_dy: np.ndarray, tbptt: int | None, ws: Arrays) -> dict:
    T, B, O = dL_dy.shape
    H = model.hidden_size
    dt = fwd["g"].dtype
    coef = coefficients(fwd["sig"], fwd["q"], ws)
    W_hy_T = model.W_hy.T  # (O, H)
    w = weight_block("lstm_w_back", (4 * H + O, H), dt,
                      [[getattr(model, "W_h" + g).T] for g in STACK_ORDER] + [[W_hy_T]])  # (4H+O, H)
    e = ws.get("lstm_e", (T, B, 4 * H + O), dt)  # [dL/d pre o, i, f, g | dL/dy_{t-1}]
    e[1:, :, 4 * H:] = dL_dy[:-1]
    e[0, :, 4 * H:] = 0.0
    dh = ws.get("lstm_dh", (T, B, H), dt)
    dc = ws.get("lstm_dc", (T, B, H), dt)
    from_outputs(dL_dy[T - 1], W_hy_T, out=dh[T - 1])  # the last step has no future
    cut = None if tbptt is None or tbptt >= T else (tbptt, dL_dy, W_hy_T)
    backward(coef, w, e, dh, dc, cut)
    return {"e": e, "dh": dh, "dc": dc, "coef": coef, "w": w[:4 * H]}
