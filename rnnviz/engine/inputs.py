"""Inputs, targets and initial states laid out as a pass reads them: time-major (T, B, ...),
in the model's dtype, with the steps that take no input or carry no target zeroed."""
from __future__ import annotations

import numpy as np

from rnnviz.engine.model import Model, input_steps, is_class_loss, target_steps


# the architectures that feed an input (_IN) / take a target (_OUT) at every step: their inputs and
# targets need no step zeroed
_EVERY_STEP_IN = ("many-to-many", "many-to-one")  # (one-to-one also checks T = 1)
_EVERY_STEP_OUT = ("many-to-many", "one-to-many", "one-to-one")


def prepare_inputs(model: Model, x: np.ndarray, steps: int | None = None) -> np.ndarray:
    """Inputs as the architecture feeds them: (T, B, I) in the model's dtype.

    Accepts (T, B, I) or (T, I).  one-to-many: x may hold only the first step when `steps`
    says how many steps to run; later steps are fed zeros whatever x holds there.
    one-to-one: exactly one step.
    """
    if (type(x) is np.ndarray and x.ndim == 3 and x.dtype == model.dtype and x.shape[2] == model.input_size
            and x.shape[0] >= 1 and x.shape[1] >= 1 and (steps is None or steps == x.shape[0])
            and model.architecture in _EVERY_STEP_IN):
        # already laid out (the trainer's data, a pass's own inputs): what the checks below would
        # let through unchanged, at one copy instead of ~8 µs of checks per pass
        return x.copy()
    x = np.asarray(x)
    if x.ndim == 2:
        x = x[:, None, :]
    if x.ndim != 3:
        raise ValueError(f"inputs must have shape (T, B, I) or (T, I), got {x.shape}")
    if x.shape[2] != model.input_size:
        raise ValueError(f"inputs have {x.shape[2]} features but the model takes {model.input_size}")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise ValueError(f"inputs must be real numbers, got dtype {x.dtype}")
    if x.shape[0] < 1:
        raise ValueError("inputs hold no time steps")
    if x.shape[1] < 1:
        raise ValueError("inputs hold no sequences (the batch dimension B is 0)")
    x = x.astype(model.dtype, copy=True)
    if model.architecture == "one-to-many" and steps is not None and steps != x.shape[0]:
        if steps < 1:
            raise ValueError(f"steps must be at least 1, got {steps}")
        full = np.zeros((steps, x.shape[1], x.shape[2]), dtype=model.dtype)
        full[0] = x[0]
        x = full
    if model.architecture == "one-to-one" and x.shape[0] != 1:
        raise ValueError(f"a one-to-one network runs exactly one step, but the inputs have {x.shape[0]}")
    x[~input_steps(model.architecture, x.shape[0])] = 0.0
    return x


def prepare_targets(model: Model, targets: np.ndarray, T: int, B: int) -> np.ndarray:
    """Targets laid out over all T steps: (T, B, O) float for mse, (T, B) int class indices for
    cross-entropy and nll.

    many-to-one takes one target per sequence, (B, O) / (B,) (or the full layout); the steps
    without a target hold zeros and are masked out of the loss.
    """
    if (type(targets) is np.ndarray and model.architecture in _EVERY_STEP_OUT
            and (targets.shape, targets.dtype) == (((T, B, model.output_size), model.dtype) if model.loss == "mse"
                                                   else ((T, B), np.dtype(np.int64)))
            and (model.loss == "mse" or (targets.size and 0 <= targets.min() and targets.max() < model.output_size))):
        return targets.copy()  # already laid out, every step a target (see prepare_inputs): nothing to change
    targets = np.asarray(targets)
    mask = target_steps(model.architecture, T)
    O = model.output_size
    if model.loss == "mse":
        if not np.issubdtype(targets.dtype, np.number) or np.issubdtype(targets.dtype, np.complexfloating):
            raise ValueError(f"mse targets must be real numbers, got dtype {targets.dtype}")
        full_shape, step_shape = (T, B, O), (B, O)
        dtype = model.dtype
    else:
        if not np.issubdtype(targets.dtype, np.integer):
            if np.issubdtype(targets.dtype, np.floating) and np.all(np.isfinite(targets)) and np.all(targets == np.round(targets)):
                targets = targets.astype(np.int64)
            else:
                raise ValueError(f"{model.loss} targets must be integer class indices, got dtype {targets.dtype}")
        full_shape, step_shape = (T, B), (B,)
        dtype = np.int64
    if targets.shape == full_shape:
        full = targets.astype(dtype, copy=True)
    elif B == 1 and targets.shape == (T, *step_shape[1:]):  # (T, O) or (T,) for a single sequence
        full = targets.astype(dtype).reshape(full_shape).copy()
    elif mask.sum() == 1 and targets.shape == step_shape:  # one target per sequence
        full = np.zeros(full_shape, dtype=dtype)
        full[-1] = targets
    elif mask.sum() == 1 and B == 1 and targets.shape == step_shape[1:]:
        full = np.zeros(full_shape, dtype=dtype)
        full[-1] = targets
    else:
        raise ValueError(
            f"targets have shape {targets.shape}; expected {full_shape}"
            + (f" or {step_shape}" if mask.sum() == 1 else "")
        )
    if is_class_loss(model.loss):
        bad = (full < 0) | (full >= O)
        if np.any(bad & mask[:, None]):
            raise ValueError(f"class targets must lie in 0..{O - 1}, got {int(full[bad & mask[:, None]].flat[0])}")
        full[~mask] = 0
    else:
        full[~mask] = 0.0
    return full


def check_state(value, model: Model, B: int, name: str) -> np.ndarray:
    """An initial state (h0, c0) given as (H,) or (B, H), in the model's dtype."""
    H = model.hidden_size
    arr = np.asarray(value, dtype=model.dtype)
    if arr.shape not in ((H,), (B, H)):
        raise ValueError(f"{name} must have shape ({H},) or ({B}, {H}), got {arr.shape}")
    return arr
