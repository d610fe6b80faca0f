"""The record of one forward pass and one backpropagation through time.

Everything the app draws comes from a `Trace`; nothing in the views recomputes the math.
Arrays are time-major: T steps, B sequences in the batch, I inputs, H hidden units, O outputs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

GRAD_NAMES = ("grad_W_xh", "grad_W_hh", "grad_b_h", "grad_W_hy", "grad_b_y")


def from_outputs(dL_dy_t: np.ndarray, W_hy_T: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """dL/dy_t·W_hyᵀ (B, O)·(O, H) -> (B, H): the part of dL/dh_t that comes from y_t.  BPTT and
    `Trace.dL_dh_out` both go through here, one step at a time, so the two agree to the bit."""
    if W_hy_T.shape[0] == 1:  # an outer product: one multiplication per entry
        return np.multiply(dL_dy_t, W_hy_T, out=out)
    return np.matmul(dL_dy_t, W_hy_T, out=out)


@dataclass
class Trace:
    # what produced it
    activation: str
    architecture: str
    loss_name: str
    params: dict[str, np.ndarray]  # copies of W_xh (I,H), W_hh (H,H), b_h (H,), W_hy (H,O), b_y (O,)
    # forward
    x: np.ndarray  # (T, B, I)  inputs as fed (one-to-many: zeros after step 1)
    targets: np.ndarray | None  # (T, B, O) float for mse, (T, B) int for cross-entropy / nll; None = no loss
    input_mask: np.ndarray  # (T,) bool: steps that receive an input
    target_mask: np.ndarray  # (T,) bool: steps that carry an output and a target
    a: np.ndarray  # (T, B, H)  pre-activations a_t
    h: np.ndarray  # (T+1, B, H)  h[0] = h_0, h[t] = h_t
    y: np.ndarray  # (T, B, O)  outputs (logits for cross-entropy, log-probabilities for nll)
    probs: np.ndarray | None  # (T, B, O)  softmax of the logits for cross-entropy / nll, else None
    loss: float  # mean over batch (and output units for mse), then over target steps, as PyTorch;
    #              summed over the target steps instead when loss_reduction is "sum"
    loss_t: np.ndarray  # (T,)  mean loss at each step; 0 where the step has no target
    # backward (all zero when there are no targets)
    dL_dy: np.ndarray  # (T, B, O)  dL/d(readout's linear output h_t·W_hy + b_y): for nll the
    #                    gradient at the logits, under LogSoftmax (which has no parameters)
    dL_dh: np.ndarray  # (T, B, H)  total dL/dh_t for h_1..h_T (from y_t and from the future)
    dL_da: np.ndarray  # (T, B, H)  dL/da_t = dL/dh_t ⊙ f'(a_t)
    grads: dict[str, np.ndarray]  # grad_W_xh ... grad_b_y: totals over steps and batch
    step_grad_norms: dict[str, np.ndarray]  # name -> (T,) ‖contribution of step t to that gradient‖
    grad_gain: np.ndarray  # (T,)  ‖∂h_T/∂h_t‖ along the loss direction (1 at t=T), mean over the first
    #                        min(B, run's gain_sequences = 4) sequences
    tbptt: int | None = None  # truncation window k, None for full BPTT
    h0_carried: bool = False  # h[0] (and c[0]) came from the previous batch of a stateful run, not the model's h_0
    extra: dict = field(default_factory=dict)
    # gated cells (engine/cells/); for the vanilla cell: "rnn" and empty.  For an LSTM / GRU,
    # `a` and `dL_da` above are the candidate's pre-activation and its gradient (LSTM g, GRU n),
    # `params` and `grads` hold the cell's own names (W_xi ... b_y / W_xr ... b_y), no W_hh.
    cell: str = "rnn"  # "rnn", "lstm" or "gru"
    gates: dict[str, np.ndarray] = field(default_factory=dict)  # gate -> (T, B, H) activation: LSTM i f g o, GRU r z n
    gate_pre: dict[str, np.ndarray] = field(default_factory=dict)  # gate -> (T, B, H) pre-activation
    dL_dgate_pre: dict[str, np.ndarray] = field(default_factory=dict)  # gate -> (T, B, H) dL/d(pre-activation)
    c: np.ndarray | None = None  # (T+1, B, H) LSTM cell state, c[0] = c_0
    dL_dc: np.ndarray | None = None  # (T, B, H) LSTM total dL/dc_t for c_1..c_T
    # cache of dL_dh_out; not an argument, so that dataclasses.replace() never carries a stale one
    _dL_dh_out: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def T(self) -> int:
        return self.x.shape[0]

    @property
    def B(self) -> int:
        return self.x.shape[1]

    @property
    def hidden_size(self) -> int:
        return self.h.shape[2]

    @property
    def dL_dh_out(self) -> np.ndarray:
        """(T, B, H): the part of dL/dh_t that comes from y_t, dL/dy_t·W_hyᵀ.  Worked out from
        dL_dy and W_hy when first asked for (only the inspector and the trace files use it)."""
        if self._dL_dh_out is None:
            W_hy_T = self.params["W_hy"].T  # (O, H)
            out = np.empty(self.dL_dy.shape[:2] + W_hy_T.shape[1:], dtype=np.result_type(self.dL_dy, W_hy_T))
            for dy_t, out_t in zip(self.dL_dy, out):
                from_outputs(dy_t, W_hy_T, out_t)
            self._dL_dh_out = out
        return self._dL_dh_out

    @property
    def dL_dh_future(self) -> np.ndarray:
        """(T, B, H): the part of dL/dh_t that arrives from step t+1 through W_hh."""
        return self.dL_dh - self.dL_dh_out

    def grad_norm(self) -> float:
        """Global L2 norm over all parameter gradients (what clipping looks at)."""
        return float(np.sqrt(sum(float(np.sum(g * g)) for g in self.grads.values())))
