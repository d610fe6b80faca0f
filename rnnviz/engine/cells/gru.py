"""The GRU's pass (nn.GRU's equations, in engine/model.py): the forward loop, the coefficients
BPTT multiplies by, and the backward loop.  cells/gated.py runs it and records the trace.

The gates are stacked along the last axis as [r | z | n_h | n] (n_h = h_{t-1}·W_hn + b_hn, which
r_t multiplies), so one sigmoid call covers r and z and a step's recurrent part is one product.
BPTT multiplies by coefficients worked out for all steps at once after the forward pass, so a
step costs one product and 3 ufunc calls.
"""
from __future__ import annotations

import numpy as np

from rnnviz.engine.kernels import FRESH, Arrays, as_view, gate_sigmoid, step_rows, weight_block
from rnnviz.engine.model import GRU
from rnnviz.engine.trace import from_outputs


def forward(model: GRU, x: np.ndarray, h0: np.ndarray, nudge: tuple | None = None, ws: Arrays | None = None) -> dict:
    T, B, I = x.shape
    H = model.hidden_size
    dt = model.dtype
    ws = FRESH if ws is None else ws
    H2, H3 = 2 * H, 3 * H
    rows = step_rows(x, h0, H, ws, "gru_rows")  # (T+1, B, K)
    w = weight_block("gru_w", (H + 1 + I, 3 * H), dt, [[model.W_hr, model.W_hz, model.W_hn],
                                                        [model.b_r, model.b_z, model.b_hn],
                                                        [model.W_xr, model.W_xz, np.zeros((I, H), dtype=dt)]])  # (K, 3H)
    # [r | z | n_h | n] pre-activations, n_h = h_{t-1}·W_hn + b_hn, n = x_t·W_xn + b_xn + r ⊙ n_h;
    # x_t·W_xn + b_xn does not wait for r_t: all steps in one product
    pre = ws.get("gru_pre", (T, B, 4 * H), dt)
    np.matmul(as_view(rows[:T, :, H:], (T * B, 1 + I)), np.concatenate([model.b_xn[None, :], model.W_xn]),
              out=as_view(pre[..., H3:], (T * B, H)))
    rz = ws.get("gru_rz", (T, B, H2), dt)  # (T, B, 2H) r, z
    n = ws.get("gru_n", (T, B, H), dt)  # (T, B, H)
    h = rows[:, :, :H]  # (T+1, B, H)
    tmp = np.empty((B, H), dtype=dt)
    matmul, multiply = np.matmul, np.multiply
    for t in range(T):
        p, rz_t, n_t = pre[t], rz[t], n[t]
        matmul(rows[t], w, out=p[:, :H3])
        gate_sigmoid(p[:, :H2], out=rz_t)  # r, z
        multiply(rz_t[:, :H], p[:, H2:H3], out=tmp)  # r ⊙ n_h
        p[:, H3:] += tmp
        np.tanh(p[:, H3:], out=n_t)  # n
        np.subtract(h[t], n_t, out=tmp)
        tmp *= rz_t[:, H:]
        np.add(tmp, n_t, out=h[t + 1])  # h_t = n + z ⊙ (h_{t-1} − n)
        if nudge is not None and nudge[0] == "h" and nudge[1] == t:
            h[t + 1, nudge[2], nudge[3]] += nudge[4]
    return {"rows": rows, "h": h, "pre": pre, "rz": rz, "n": n}


def coefficients(rz: np.ndarray, n: np.ndarray, nh: np.ndarray, hp: np.ndarray, ws: Arrays) -> dict:
    """What BPTT multiplies dL/dh_t by, for all steps at once: C (T, B, 4H) such that
    [dL/dn_pre | dL/dz_pre | dL/dr_pre | dL/dn_h] = dL/dh ⊙ C, and z (the direct path's
    share).  rz (T, B, 2H) r, z; n, n_h (T, B, H); hp: h_{t-1} (T, B, H).  The work is done in
    contiguous scratch arrays and each block of C written once: ufuncs writing into strided
    views cost about twice as much."""
    T, B, H = n.shape
    dt = n.dtype
    C = ws.get("gru_coef", (T, B, 4 * H), dt)
    an, az, ar, anr = (C[..., k * H:(k + 1) * H] for k in range(4))
    r, z = rz[..., :H], rz[..., H:]
    s1 = ws.get("gru_coef_s1", (T, B, H), dt)
    s2 = ws.get("gru_coef_s2", (T, B, H), dt)
    np.square(n, out=s1)
    np.subtract(1.0, s1, out=s1)  # 1 − n²
    np.subtract(1.0, z, out=s2)  # 1 − z
    np.multiply(s2, s1, out=an)  # a_n = (1−z)(1−n²): dL/dn_pre = dL/dh ⊙ a_n
    np.subtract(hp, n, out=s1)
    s1 *= z
    np.multiply(s1, s2, out=az)  # a_z = (h_{t-1} − n) ⊙ z(1−z)
    np.subtract(1.0, r, out=s2)
    s2 *= r
    s2 *= nh
    np.multiply(s2, an, out=ar)  # dL/dr_pre = dL/dn_pre ⊙ n_h ⊙ r(1−r)
    np.multiply(an, r, out=anr)  # dL/dn_h = dL/dn_pre ⊙ r
    return {"C": C, "z": z}


def backward(coef: dict, w: np.ndarray, e: np.ndarray, dh: np.ndarray, cut: tuple | None = None) -> None:
    """BPTT of the GRU, back from dh[T-1] (set by the caller): fills dh (T, R, H) and
    e[..., :4H] = [dL/dn_pre | dL/dz_pre | dL/dr_pre | dL/dn_h].  e (T, R, 4H+O): e[t+1, :, 4H:]
    holds dL/dy_t for w = [W_hzᵀ; W_hrᵀ; W_hnᵀ; W_hyᵀ] (3H+O, H), or O = 0.  coef:
    coefficients (R rows).  cut: as lstm.backward's."""
    T, R, H = dh.shape
    C4 = as_view(coef["C"], (T, R, 4, H))
    z = coef["z"]
    e4 = as_view(e[..., :4 * H], (T, R, 4, H))
    tmp = np.empty((R, H), dtype=dh.dtype)
    matmul, multiply = np.matmul, np.multiply
    for t in range(T - 1, -1, -1):
        if t == T - 1:
            pass
        elif cut is None or (t + 1) % cut[0] != 0:
            matmul(e[t + 1, :, H:], w, out=dh[t])  # through h_t·W_h* of step t+1, and y_t
            multiply(dh[t + 1], z[t + 1], out=tmp)  # the direct path z ⊙ h_t
            dh[t] += tmp
        else:
            from_outputs(cut[1][t], cut[2], out=dh[t])
        multiply(dh[t][:, None, :], C4[t], out=e4[t])


def bptt(model: GRU, fwd: dict, dL_dy: np.ndarray, tbptt: int | None, ws: Arrays) -> dict:
    T, B, O = dL_dy.shape
    H = model.hidden_size
    dt = fwd["n"].dtype
    coef = coefficients(fwd["rz"], fwd["n"], fwd["pre"][..., 2 * H:3 * H], fwd["h"][:-1], ws)
    W_hy_T = model.W_hy.T  # (O, H)
    w = weight_block("gru_w_back", (3 * H + O, H), dt, [[model.W_hz.T], [model.W_hr.T], [model.W_hn.T], [W_hy_T]])  # (3H+O, H)
    e = ws.get("gru_e", (T, B, 4 * H + O), dt)  # [dL/d pre n, z, r | dL/dn_h | dL/dy_{t-1}]
    e[1:, :, 4 * H:] = dL_dy[:-1]
    e[0, :, 4 * H:] = 0.0
    dh = ws.get("gru_dh", (T, B, H), dt)
    from_outputs(dL_dy[T - 1], W_hy_T, out=dh[T - 1])
    cut = None if tbptt is None or tbptt >= T else (tbptt, dL_dy, W_hy_T)
    backward(coef, w, e, dh, cut)
    return {"e": e, "dh": dh, "coef": coef, "w": w[:3 * H]}
