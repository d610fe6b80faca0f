"""The rnnviz engine: a NumPy RNN that records every value and every gradient, step by step.

Pure NumPy; importing it never imports Qt or pyqtgraph (a test checks this).
"""
from rnnviz.engine.activations import ACTIVATIONS
from rnnviz.engine.guards import DivergenceError, NonFiniteError
from rnnviz.engine.io.models import load_any_model, load_model, save_model
from rnnviz.engine.io.npz import FileFormatError
from rnnviz.engine.io.traces import load_trace, save_trace
from rnnviz.engine.inputs import prepare_inputs, prepare_targets
from rnnviz.engine.model import (ARCHITECTURES, CELLS, GRU, LOSSES, LSTM, PARAM_NAMES, RNN, init_gru, init_lstm, init_model,
                                 init_rnn, input_steps, target_steps)
from rnnviz.engine.optim import OPTIMIZERS, clip_grad_norm, make_optimizer
from rnnviz.engine.run import jacobian_norms, run
from rnnviz.engine.tasks import DEFAULT_TASK, TASKS, Task, make_task
from rnnviz.engine.trace import Trace
from rnnviz.engine.trainer import StepResult, Trainer

__all__ = [
    "ACTIVATIONS", "ARCHITECTURES", "CELLS", "GRU", "LSTM", "init_gru", "init_lstm", "init_model", "DEFAULT_TASK", "LOSSES", "OPTIMIZERS", "PARAM_NAMES", "TASKS",
    "DivergenceError", "FileFormatError", "NonFiniteError", "RNN", "StepResult", "Task", "Trace", "Trainer",
    "clip_grad_norm", "init_rnn", "input_steps", "jacobian_norms", "load_any_model", "load_model",
    "load_trace", "make_optimizer", "make_task", "prepare_inputs", "prepare_targets", "run",
    "save_model", "save_trace", "target_steps",
]
