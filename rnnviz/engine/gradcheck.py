"""Central finite differences in float64: the ground truth BPTT is checked against."""
from __future__ import annotations

import numpy as np

from rnnviz.engine import activations
from rnnviz.engine.cells.gated import loss_with_nudge
from rnnviz.engine.kernels import output_loss
from rnnviz.engine.model import PARAM_NAMES, RNN, Model, init_model, init_rnn
from rnnviz.engine.run import run


def relative_error(a: np.ndarray, b: np.ndarray, floor: float = 1e-8) -> float:
    """Worst elementwise |a−b| / max(|a|, |b|, floor'), where the floor' is the larger of
    `floor` and 1e-4 of the array's largest entry: an entry 10⁴ times smaller than its
    neighbours is judged against their scale, not against its own size (whose last digits
    finite differences cannot resolve)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    denom = np.maximum(np.maximum(np.abs(a), np.abs(b)), max(floor, 1e-4 * scale))
    return float(np.max(np.abs(a - b) / denom, initial=0.0))


EPS = 1e-3


def central_difference(f, eps: float = EPS) -> float:
    """f'(0) by the fourth-order central stencil (8[f(ε)−f(−ε)] − [f(2ε)−f(−2ε)]) / 12ε.

    Its error is O(ε⁴) plus roundoff O(1e-16/ε): about 1e-12 at ε = 1e-3, where the plain
    two-point difference cannot get below ~1e-10 at any ε and so cannot certify 1e-6
    relative error on gradient entries of size 1e-5."""
    return (8 * (f(eps) - f(-eps)) - (f(2 * eps) - f(-2 * eps))) / (12 * eps)


def numeric_param_grads(model: Model, x: np.ndarray, targets: np.ndarray, eps: float = EPS) -> dict[str, np.ndarray]:
    """dL/dθ for every parameter entry by central differences of the loss."""
    out = {}
    for name, p in model.params().items():  # any cell: vanilla, LSTM, GRU
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]

            def loss_at(d: float) -> float:
                p[i] = old + d
                return run(model, x, targets).loss

            g[i] = central_difference(loss_at, eps)
            p[i] = old
        out[name] = g
    return out


def numeric_hidden_grads(model: Model, x: np.ndarray, targets: np.ndarray, eps: float = EPS) -> np.ndarray:
    """(T, B, H) total dL/dh_t by perturbing h_t: h_t enters the rest of the pass through
    y_t and a_{t+1}, so add ε to h_t after it is computed (via a perturbed activation)."""
    base = run(model, x, targets)
    T, B, H = base.a.shape
    g = np.zeros((T, B, H))
    for t in range(T):
        for b in range(B):
            for j in range(H):
                if model.cell != "rnn":
                    f = lambda d: loss_with_nudge(model, x, targets, "h", t, b, j, d)  # noqa: E731
                else:
                    f = lambda d: _loss_with_hidden_nudge(model, base, targets, t, b, j, d)  # noqa: E731
                g[t, b, j] = central_difference(f, eps)
    return g


def numeric_cell_grads(model, x: np.ndarray, targets: np.ndarray, eps: float = EPS) -> np.ndarray:
    """(T, B, H) an LSTM's total dL/dc_t by perturbing c_t as soon as it is computed."""
    T, B, H = run(model, x, targets).dL_dc.shape
    g = np.zeros((T, B, H))
    for i in np.ndindex(T, B, H):
        g[i] = central_difference(lambda d: loss_with_nudge(model, x, targets, "c", *i, d), eps)
    return g


def _loss_with_hidden_nudge(model: RNN, base, targets, t: int, b: int, j: int, delta: float) -> float:
    """Loss when h_{t+1}[b, j] (1-based h_t) is shifted by delta, recomputing the steps after it."""
    h = base.h.copy()
    a = base.a.copy()
    h[t + 1, b, j] += delta
    for s in range(t + 1, base.T):
        a[s] = base.x[s] @ model.W_xh + h[s] @ model.W_hh + model.b_h
        h[s + 1] = activations.apply(model.activation, a[s])
    y = h[1:] @ model.W_hy + model.b_y
    return output_loss(model, y, base.targets)[1]


def random_check(seed: int = 0, activation: str = "tanh", architecture: str = "many-to-many",
                 loss: str = "mse", T: int = 5, B: int = 3, I: int = 3, H: int = 4, O: int = 2,
                 cell: str = "rnn") -> dict[str, float]:
    """Worst relative error of each BPTT gradient against finite differences on a random model
    (cell 'lstm' / 'gru': activation is ignored, and dL_dc is checked too for the LSTM)."""
    if architecture == "one-to-one":
        T = 1
    rng = np.random.default_rng(seed)
    eps = EPS
    if cell != "rnn":
        model = init_model(cell, I, H, O, architecture=architecture, loss=loss, seed=int(rng.integers(2**31)),
                           recurrent_scale=2.0)  # larger weights make the check less trivial
        for p in model.params().values():
            p *= 2.0
        x = rng.normal(size=(T, B, I))
        targets = rng.normal(size=(T, B, O)) if loss == "mse" else rng.integers(0, O, size=(T, B))
        trace = run(model, x, targets)
        numeric = numeric_param_grads(model, x, targets, eps)
        errors = {name: relative_error(trace.grads["grad_" + name], numeric[name]) for name in model.params()}
        errors["dL_dh"] = relative_error(trace.dL_dh, numeric_hidden_grads(model, x, targets, eps))
        if cell == "lstm":
            errors["dL_dc"] = relative_error(trace.dL_dc, numeric_cell_grads(model, x, targets, eps))
        return errors
    for _ in range(200):
        model = init_rnn(I, H, O, activation=activation, architecture=architecture, loss=loss, seed=int(rng.integers(2**31)))
        model.W_hh *= 2.0  # larger weights make the check less trivial
        x = rng.normal(size=(T, B, I))
        if loss == "mse":
            targets = rng.normal(size=(T, B, O))
        else:
            targets = rng.integers(0, O, size=(T, B))
        trace = run(model, x, targets)
        if activation != "relu":
            break
        # relu is piecewise linear: a difference that steps across a = 0 measures the kink,
        # not the derivative. Draw until every pre-activation keeps clear of 0, and step small.
        eps = 1e-4
        if np.min(np.abs(trace.a)) > 0.02:
            break
    numeric = numeric_param_grads(model, x, targets, eps)
    errors = {name: relative_error(trace.grads["grad_" + name], numeric[name]) for name in PARAM_NAMES}
    errors["dL_dh"] = relative_error(trace.dL_dh, numeric_hidden_grads(model, x, targets, eps))
    return errors
