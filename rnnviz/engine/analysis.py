"""Numbers the views read off weights and traces: eigenvalues and spectral radius of a
recurrent matrix, the two-component PCA of a hidden-state trajectory, and the per-step norms of
the gradient flowing back through the recurrence (the unrolled view's arrow widths).

Every function here tolerates NaN and Inf (a diverged run is something the app must still
draw): eigenvalues of a non-finite matrix are empty, a spectral radius of nothing is NaN.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.engine.trace import Trace


def eigenvalues(W: np.ndarray) -> np.ndarray:
    """The complex eigenvalues of the square matrix W, shape (n,); empty when W holds NaN or Inf
    (LAPACK refuses those)."""
    with np.errstate(all="ignore"):
        return np.linalg.eigvals(W) if np.all(np.isfinite(W)) else np.zeros(0, dtype=complex)


def largest_modulus(ev: np.ndarray) -> float:
    """max |λ| over the eigenvalues ev; NaN when there are none."""
    return float(np.max(np.abs(ev))) if ev.size else float("nan")


def spectral_radius(W: np.ndarray) -> float:
    """ρ(W) = max |λ| of the square matrix W; NaN when W holds NaN or Inf."""
    return largest_modulus(eigenvalues(W))


@dataclass(frozen=True)
class HiddenPCA:
    """A hidden-state trajectory projected on its first two principal directions."""

    mean: np.ndarray  # (H,) the trajectory's mean state, the projection's origin
    basis: np.ndarray  # (H, 2) unit principal directions (zero columns when there are fewer than 2)
    explained: tuple[float, float]  # share of the variance along each direction
    points: np.ndarray  # (T+1, 2) the centred trajectory in that basis


def hidden_pca(h: np.ndarray, previous_basis: np.ndarray | None = None) -> HiddenPCA:
    """PCA of the trajectory h (T+1, H) by SVD of the centred states (NaN/Inf read as numbers by
    nan_to_num). If previous_basis (H, 2) is given, each direction's sign is chosen to agree
    with it, so the picture does not flip between frames; a basis of another H is ignored."""
    H = h.shape[1]
    if previous_basis is not None and previous_basis.shape[0] != H:
        previous_basis = None
    mean = h.mean(axis=0)  # (H,)
    centred = h - mean  # (T+1, H)
    with np.errstate(all="ignore"):
        _, s, vt = np.linalg.svd(np.nan_to_num(centred), full_matrices=False)
    basis = np.zeros((H, 2))
    k = min(2, vt.shape[0])
    basis[:, :k] = vt[:k].T
    if previous_basis is not None:
        for j in range(2):
            if basis[:, j] @ previous_basis[:, j] < 0:
                basis[:, j] *= -1
    var = s**2
    total = var.sum() or 1.0
    explained = tuple(float(var[j] / total) if j < len(var) else 0.0 for j in range(2))
    return HiddenPCA(mean, basis, explained, centred @ basis)


def recurrent_flow(trace: Trace, seq: int = 0) -> np.ndarray:
    """(T+1,) for sequence seq, the norm of the gradient step t sends back through the recurrent
    matrices: ‖dL/da_t‖ for the vanilla cell, ‖every gate's dL/d pre-activation, side by side‖
    for a gated one.  Index 0 (no step) is 0; NaN reads as 0 and +Inf as 1e300, so that a
    diverged run still has widths to draw."""
    if trace.cell == "rnn":
        per_step = np.asarray(trace.dL_da, float)[:, seq, :]  # (T, H)
    else:
        per_step = np.concatenate([np.asarray(trace.dL_dgate_pre[g], float)[:, seq, :] for g in trace.dL_dgate_pre],
                                  axis=1)  # (T, gates·H)
    with np.errstate(over="ignore", invalid="ignore"):  # a diverged run: inf / NaN in, handled below
        flow = np.concatenate([[0.0], np.linalg.norm(per_step, axis=1)])
    return np.nan_to_num(flow, nan=0.0, posinf=1e300)


def cell_state_flow(trace: Trace, seq: int = 0) -> np.ndarray:
    """(T+1,) for an LSTM's sequence seq, ‖dL/dc_t ⊙ f_t‖: what step t hands back to c_{t−1}
    along the cell state.  Index 0 is 0; NaN reads as 0 and +Inf as 1e300."""
    with np.errstate(over="ignore", invalid="ignore"):  # inf · 0 and overflowing norms: handled below
        carried = np.asarray(trace.dL_dc, float)[:, seq, :] * np.asarray(trace.gates["f"], float)[:, seq, :]  # (T, H)
        flow = np.concatenate([[0.0], np.linalg.norm(carried, axis=1)])
    return np.nan_to_num(flow, nan=0.0, posinf=1e300)
