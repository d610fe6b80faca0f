"""`run`: one forward pass and one backpropagation through time of any model, everything
recorded in a Trace; and `jacobian_norms`, the exact ‖∂h_T/∂h_t‖ of a trace.  Both dispatch by
cell to engine/cells/ (vanilla.py; gated.py for the LSTM and the GRU)."""
from __future__ import annotations

import numpy as np

from rnnviz.engine.cells.gated import forward_loss_gated, jacobian_norms_gated, run_gated
from rnnviz.engine.cells.vanilla import forward_loss_vanilla, jacobian_norms_vanilla, run_vanilla
from rnnviz.engine.model import Model
from rnnviz.engine.trace import Trace

GAIN_SEQUENCES = 4  # grad_gain follows the first min(B, 4) sequences of a batch by default


def run(
    model: Model,
    x: np.ndarray,
    targets: np.ndarray | None = None,
    *,
    steps: int | None = None,
    tbptt: int | None = None,
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
    gain_sequences: int = GAIN_SEQUENCES,
) -> Trace:
    """One forward pass and (when targets are given) one BPTT pass, with everything recorded.

    x: (T, B, I) or (T, I).  targets: see `inputs.prepare_targets`.  tbptt: truncation window k —
    gradients do not flow back across the boundaries of consecutive windows of k steps.
    h0: (H,) or (B, H) initial state; default the model's h0.  c0: an LSTM's initial cell state.
    gain_sequences: `grad_gain` is the mean over the first min(B, gain_sequences) sequences
    (the probe costs as much per sequence as BPTT; see cells/vanilla.py).
    """
    if isinstance(gain_sequences, bool) or not isinstance(gain_sequences, (int, np.integer)) or gain_sequences < 1:
        raise ValueError(f"gain_sequences must be a whole number of at least 1, got {gain_sequences!r}")
    if model.cell != "rnn":
        return run_gated(model, x, targets, steps=steps, tbptt=tbptt, h0=h0, c0=c0, gain_sequences=gain_sequences)
    if c0 is not None:
        raise ValueError("c0 is the initial cell state of an LSTM; a vanilla RNN has none")
    return run_vanilla(model, x, targets, steps=steps, tbptt=tbptt, h0=h0, gain_sequences=gain_sequences)


def forward_loss(model: Model, x: np.ndarray, targets: np.ndarray) -> float:
    """The loss of a forward pass alone, from the model's h_0: run(model, x, targets).loss to the
    bit (the same forward arithmetic) at about a third of its cost, with no BPTT, no gain probe
    and no trace (the trainer's validation loss)."""
    if model.cell != "rnn":
        return forward_loss_gated(model, x, targets)
    return forward_loss_vanilla(model, x, targets)


def jacobian_norms(trace: Trace, seq: int = 0, ord: str = "spectral") -> np.ndarray:
    """(T,) exact ‖∂h_T/∂h_t‖ for one sequence of a trace (spectral or Frobenius norm; for an
    LSTM c_t is held fixed: the partial derivative through the whole state, as dL/dh_t).

    Costs T·H³; meant for the vanishing-gradient views, not for every pass.
    """
    if trace.cell != "rnn":
        return jacobian_norms_gated(trace, seq, ord)
    return jacobian_norms_vanilla(trace, seq, ord)
