"""Four reference PyTorch models, with data, for the tests of opening a user's own network (the
probe, the CLI, the app's dialog, rnnviz.show): each is built in float64 with a fixed seed, and
`torch_reference` runs it and its loss through autograd.

    char_rnn()        PyTorch's char-RNN name-classification tutorial: nn.RNN(58, 128) + nn.Linear(128, 4),
                      LogSoftmax on the last step, NLLLoss, one-hot letters (T, 1, 58), one class target (1,)
    relu_regression() nn.RNN(2, 6, nonlinearity='relu', batch_first=True) + nn.Linear(6, 1): windows
                      (N, T, 2) -> one value per window (N, 1), MSELoss
    lstm_classifier() nn.LSTM(3, 5) + nn.Linear(5, 3): (T, B, 3) -> one class per sequence (B,), CrossEntropyLoss
    gru_classifier()  nn.GRU(4, 5) + nn.Linear(5, 3): (T, B, 4) -> a class at every step (T, B), CrossEntropyLoss

Import torch first with pytest.importorskip("torch"); this module imports it at the top.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,;'_"  # 58, the tutorial's allowed_characters


class CharRNN(nn.Module):
    """The tutorial's network: the last hidden state -> Linear -> LogSoftmax."""

    def __init__(self, input_size: int = 58, hidden_size: int = 128, output_size: int = 4) -> None:
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, line_tensor: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        rnn_out, hidden = self.rnn(line_tensor)
        return rnn_out, self.softmax(self.h2o(hidden[0]))  # (T, 1, H), (1, 4) log-probabilities


class LastStep(nn.Module):
    """A recurrent layer and a Linear readout of the last step (many-to-one)."""

    def __init__(self, rnn: nn.Module, fc: nn.Linear) -> None:
        super().__init__()
        self.rnn, self.fc = rnn, fc

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out, _ = self.rnn(x)
        last = out[:, -1] if getattr(self.rnn, "batch_first", False) else out[-1]
        return out, self.fc(last)


class EveryStep(nn.Module):
    """A recurrent layer and a Linear readout of every step (many-to-many)."""

    def __init__(self, rnn: nn.Module, fc: nn.Linear) -> None:
        super().__init__()
        self.rnn, self.fc = rnn, fc

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out, _ = self.rnn(x)
        return out, self.fc(out)


@dataclass
class RefModel:
    """A reference model, its data in the model's own layout, and what rnnviz should make of it."""

    name: str
    module: nn.Module
    x: np.ndarray  # inputs in the module's layout ((B, T, I) when batch_first)
    y: np.ndarray  # targets as the torch loss takes them
    torch_loss: str  # "nll", "mse" or "cross-entropy": the loss module applied to the forward's 2nd output
    architecture: str  # what rnnviz should guess
    loss: str  # the rnnviz loss that computes exactly the torch loss
    nonlinearity: str | None  # nn.RNN's (None for LSTM / GRU)
    batch_first: bool
    cell: str

    def state_dict(self) -> dict[str, np.ndarray]:
        return {k: v.detach().numpy() for k, v in self.module.state_dict().items()}

    def save(self, folder: Path, suffix: str = ".pt") -> Path:
        """torch.save(model.state_dict()) (or np.savez of it for .npz); the path written."""
        path = Path(folder) / f"{self.name}{suffix}"
        if suffix == ".npz":
            np.savez(path, **self.state_dict())
        else:
            torch.save(self.module.state_dict(), path)
        return path

    def save_data(self, folder: Path) -> tuple[Path, Path]:
        """The inputs and targets as .npy files, as the user has them."""
        xp, yp = Path(folder) / f"{self.name}_x.npy", Path(folder) / f"{self.name}_y.npy"
        np.save(xp, self.x)
        np.save(yp, self.y)
        return xp, yp


def char_rnn(name: str = "Albertson", category: int = 2, seed: int = 0) -> RefModel:
    torch.manual_seed(seed)
    module = CharRNN().double()
    x = np.zeros((len(name), 1, len(LETTERS)))  # (T, 1, 58) one-hot letters
    for t, ch in enumerate(name):
        x[t, 0, LETTERS.index(ch)] = 1.0
    return RefModel("char_rnn", module, x, np.array([category]), "nll", "many-to-one", "nll", "tanh", False, "rnn")


def relu_regression(seed: int = 1, N: int = 5, T: int = 7) -> RefModel:
    torch.manual_seed(seed)
    module = LastStep(nn.RNN(2, 6, nonlinearity="relu", batch_first=True), nn.Linear(6, 1)).double()
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, T, 2))  # (N, T, 2) batch first
    y = x[:, -3:, 0].sum(axis=1, keepdims=True)  # (N, 1)
    return RefModel("relu_regression", module, x, y, "mse", "many-to-one", "mse", "relu", True, "rnn")


def lstm_classifier(seed: int = 2, T: int = 6, B: int = 4) -> RefModel:
    torch.manual_seed(seed)
    module = LastStep(nn.LSTM(3, 5), nn.Linear(5, 3)).double()
    rng = np.random.default_rng(seed)
    return RefModel("lstm_classifier", module, rng.normal(size=(T, B, 3)), rng.integers(0, 3, size=B),
                    "cross-entropy", "many-to-one", "cross-entropy", None, False, "lstm")


def gru_classifier(seed: int = 3, T: int = 5, B: int = 3) -> RefModel:
    torch.manual_seed(seed)
    module = EveryStep(nn.GRU(4, 5), nn.Linear(5, 3)).double()
    rng = np.random.default_rng(seed)
    return RefModel("gru_classifier", module, rng.normal(size=(T, B, 4)), rng.integers(0, 3, size=(T, B)),
                    "cross-entropy", "many-to-many", "cross-entropy", None, False, "gru")


ALL = (char_rnn, relu_regression, lstm_classifier, gru_classifier)


def torch_reference(ref: RefModel) -> dict:
    """Run the module on its data with autograd: hidden states `h` (T, B, H) time-major, the
    outputs `y` as rnnviz's trace holds them for `ref.loss` (T_out, B, O) time-major (many-to-one:
    the last step only, (B, O)), the loss, and `grads`: each state-dict key's gradient (PyTorch's
    layout and names)."""
    ref.module.zero_grad()
    xt = torch.tensor(ref.x)
    out, logits = ref.module(xt)
    yt = torch.tensor(ref.y)
    if ref.torch_loss == "nll":
        L = nn.NLLLoss()(logits, yt)
    elif ref.torch_loss == "mse":
        L = nn.MSELoss()(logits, yt)
    else:
        L = nn.CrossEntropyLoss()(logits.reshape(-1, logits.shape[-1]), yt.reshape(-1))
    L.backward()
    h = out.detach().numpy()
    if ref.batch_first:
        h = h.transpose(1, 0, 2)
        logits = logits.transpose(0, 1) if logits.ndim == 3 else logits
    return {"h": h, "y": logits.detach().numpy(), "loss": L.item(),
            "grads": {k: p.grad.numpy().copy() for k, p in ref.module.named_parameters()}}


def grads_as_torch(grads: dict[str, np.ndarray], ref: RefModel) -> dict[str, np.ndarray]:
    """An rnnviz trace's gradients (grad_W_xh ...) in PyTorch's layout under the module's key
    names, written out here independently of rnnviz's importer: weights transposed and the gates
    stacked in PyTorch's order; both PyTorch biases of a gate get the summed bias's gradient
    (the GRU's n gate: b_xn's and b_hn's own)."""
    rnn_name, fc_name = [n for n, _ in ref.module.named_children() if n != "softmax"]
    gates = {"rnn": ("h",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}[ref.cell]
    if ref.cell == "rnn":
        w_ih, w_hh = grads["grad_W_xh"].T, grads["grad_W_hh"].T
        b_ih = b_hh = grads["grad_b_h"]
    else:
        w_ih = np.concatenate([grads[f"grad_W_x{g}"].T for g in gates])
        w_hh = np.concatenate([grads[f"grad_W_h{g}"].T for g in gates])
        b_ih = np.concatenate([grads["grad_b_xn" if g == "n" else f"grad_b_{g}"] for g in gates])
        b_hh = np.concatenate([grads["grad_b_hn" if g == "n" else f"grad_b_{g}"] for g in gates])
    return {f"{rnn_name}.weight_ih_l0": w_ih, f"{rnn_name}.weight_hh_l0": w_hh, f"{rnn_name}.bias_ih_l0": b_ih,
            f"{rnn_name}.bias_hh_l0": b_hh, f"{fc_name}.weight": grads["grad_W_hy"].T, f"{fc_name}.bias": grads["grad_b_y"]}
