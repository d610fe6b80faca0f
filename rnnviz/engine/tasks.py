"""Built-in tasks, each generated from a seed (no downloads).

A task holds training and held-out sequences laid out time-major, (T, N, I) inputs and targets
in the engine's full layout ((T, N, O) for mse, (T, N) class indices for cross-entropy and nll), plus
the network shape and settings it is meant for.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class Task:
    name: str
    title: str
    description: str
    architecture: str
    loss: str
    x_train: np.ndarray  # (T, N, I)
    y_train: np.ndarray  # (T, N, O) float or (T, N) int
    x_val: np.ndarray | None = None  # (T, M, I)
    y_val: np.ndarray | None = None
    vocab: str | None = None  # characters of the one-hot inputs/classes, for text tasks
    defaults: dict = field(default_factory=dict)  # hidden, activation, optimizer, lr, iterations
    params: dict = field(default_factory=dict)  # what the task was generated with

    @property
    def steps(self) -> int:
        return self.x_train.shape[0]

    @property
    def input_size(self) -> int:
        return self.x_train.shape[2]

    @property
    def output_size(self) -> int:
        if self.loss != "mse":  # a class loss (model.CLASS_LOSSES): class indices, no output axis
            return int(self.params["classes"])
        return self.y_train.shape[2]


def _split(x: np.ndarray, y: np.ndarray, n_val: int) -> tuple[np.ndarray, ...]:
    return x[:, n_val:], y[:, n_val:], x[:, :n_val], y[:, :n_val]


def sine(steps: int = 25, seed: int = 0, n: int = 40, n_val: int = 8, **_: object) -> Task:
    rng = np.random.default_rng(seed)
    t = np.arange(steps + 1)[:, None]  # (T+1, 1)
    omega = 2 * np.pi / 16 * rng.uniform(0.8, 1.25, size=(1, n))
    phase = rng.uniform(0, 2 * np.pi, size=(1, n))
    wave = np.sin(omega * t + phase)  # (T+1, N)
    x, y = wave[:-1, :, None], wave[1:, :, None]
    xt, yt, xv, yv = _split(x, y, n_val)
    return Task(
        "sine", "Sine wave: predict the next value",
        "Each step sees one value of a sine wave (random phase, slightly different frequencies) "
        "and must predict the next one. The hidden state has to work out where on the wave it is.",
        "many-to-many", "mse", xt, yt, xv, yv,
        defaults=dict(hidden=8, activation="tanh", optimizer="adam", lr=0.01, iterations=500),
        params=dict(steps=steps, seed=seed),
    )


def ar(steps: int = 30, seed: int = 0, n: int = 40, n_val: int = 8, **_: object) -> Task:
    """Noisy AR(2): s_t = 1.6 s_{t-1} − 0.8 s_{t-2} + ε, normalised, next-value prediction."""
    rng = np.random.default_rng(seed)
    length = n * (steps + 1) + 200
    s = np.zeros(length)
    eps = rng.normal(0, 1, size=length)
    for i in range(2, length):
        s[i] = 1.6 * s[i - 1] - 0.8 * s[i - 2] + eps[i]
    s = s[200:]  # drop the burn-in
    s = (s - s.mean()) / s.std()
    seqs = s[: n * (steps + 1)].reshape(n, steps + 1).T  # (T+1, N)
    x, y = seqs[:-1, :, None], seqs[1:, :, None]
    xt, yt, xv, yv = _split(x, y, n_val)
    return Task(
        "ar", "Noisy autoregressive series",
        "A noisy AR(2) process s_t = 1.6·s_{t-1} − 0.8·s_{t-2} + noise, normalised. Predict the next "
        "value; the noise sets a floor no model can go below.",
        "many-to-many", "mse", xt, yt, xv, yv,
        defaults=dict(hidden=8, activation="tanh", optimizer="adam", lr=0.01, iterations=500),
        params=dict(steps=steps, seed=seed),
    )


def hello(steps: int | None = None, seed: int = 0, word: str = "hello", **_: object) -> Task:
    if len(word) < 2:
        raise ValueError("the word must have at least two characters")
    vocab = "".join(sorted(set(word)))
    idx = np.array([vocab.index(c) for c in word])
    V = len(vocab)
    x = np.eye(V)[idx[:-1]][:, None, :]  # (T, 1, V) one-hot
    y = idx[1:][:, None]  # (T, 1) next character
    return Task(
        "hello", f"Characters: spell “{word}”",
        f"Each step sees one character of “{word}” (one-hot over the vocabulary “{vocab}”) and must "
        "predict the next. The two l's need memory: after the first l comes l, after the second o.",
        "many-to-many", "cross-entropy", x, y, vocab=vocab,
        defaults=dict(hidden=8, activation="tanh", optimizer="adam", lr=0.05, iterations=200),
        params=dict(steps=len(word) - 1, seed=seed, word=word, classes=V),
    )


def sum_task(steps: int = 10, seed: int = 0, n: int = 64, n_val: int = 16, **_: object) -> Task:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-0.5, 0.5, size=(steps, n, 1))
    y = np.zeros((steps, n, 1))
    y[-1] = x.sum(axis=0)
    xt, yt, xv, yv = _split(x, y, n_val)
    return Task(
        "sum", "Sum of a sequence (many-to-one)",
        "Read a sequence of numbers and output their sum at the end. Only the last step has a target.",
        "many-to-one", "mse", xt, yt, xv, yv,
        defaults=dict(hidden=8, activation="tanh", optimizer="adam", lr=0.01, iterations=500),
        params=dict(steps=steps, seed=seed),
    )


def parity(steps: int = 6, seed: int = 0, n: int = 64, n_val: int = 16, **_: object) -> Task:
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, size=(steps, n))
    x = bits[..., None].astype(float)
    y = np.zeros((steps, n), dtype=np.int64)
    y[-1] = bits.sum(axis=0) % 2
    xt, yt, xv, yv = _split(x, y, n_val)
    return Task(
        "parity", "Parity of bits (many-to-one)",
        "Read a sequence of bits and say at the end whether the number of ones is odd. "
        "One flipped bit anywhere changes the answer, so the network must carry state all the way.",
        "many-to-one", "cross-entropy", xt, yt, xv, yv,
        defaults=dict(hidden=16, activation="tanh", optimizer="adam", lr=0.01, iterations=1500),
        params=dict(steps=steps, seed=seed, classes=2),
    )


def wave(steps: int = 20, seed: int = 0, n: int = 32, n_val: int = 8, **_: object) -> Task:
    rng = np.random.default_rng(seed)
    amp = rng.uniform(-1, 1, size=n)
    x = np.zeros((steps, n, 1))
    x[0, :, 0] = amp
    t = np.arange(1, steps + 1)[:, None]
    y = (amp[None, :] * np.sin(2 * np.pi * t / 10))[..., None]  # (T, N, 1)
    xt, yt, xv, yv = _split(x, y, n_val)
    return Task(
        "wave", "Draw a wave from one number (one-to-many)",
        "The first step receives an amplitude A; every step must output A·sin(2πt/10). Later steps "
        "get no input, so the wave must come from the hidden state alone.",
        "one-to-many", "mse", xt, yt, xv, yv,
        defaults=dict(hidden=8, activation="tanh", optimizer="adam", lr=0.01, iterations=800),
        params=dict(steps=steps, seed=seed),
    )


def xor(steps: int | None = None, seed: int = 0, **_: object) -> Task:
    bits = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    x = bits[None, :, :]  # (1, 4, 2)
    y = (bits[:, 0] != bits[:, 1]).astype(np.int64)[None, :]  # (1, 4)
    return Task(
        "xor", "XOR of two bits (one-to-one)",
        "A single step: two bits in, their XOR out. No recurrence is used; this is the plain "
        "feed-forward network that the other architectures unroll.",
        "one-to-one", "cross-entropy", x, y,
        defaults=dict(hidden=4, activation="tanh", optimizer="adam", lr=0.05, iterations=300),
        params=dict(steps=1, seed=seed, classes=2),
    )


def echo(steps: int = 20, seed: int = 0, lag: int = 3, n: int = 64, n_val: int = 16, **_: object) -> Task:
    if not 0 <= lag < steps:
        raise ValueError(f"the echo lag must lie between 0 and steps−1 = {steps - 1}, got {lag}")
    rng = np.random.default_rng(seed)
    x = rng.choice([-1.0, 1.0], size=(steps, n, 1))
    y = np.zeros_like(x)
    y[lag:] = x[: steps - lag]
    xt, yt, xv, yv = _split(x, y, n_val)
    return Task(
        "echo", f"Echo: output the input from {lag} steps ago",
        f"Each step sees ±1 and must output the value it saw {lag} steps earlier (0 before that). "
        "Raise the lag to see how hard it is for a vanilla RNN to reach into the past.",
        "many-to-many", "mse", xt, yt, xv, yv,
        defaults=dict(hidden=16, activation="tanh", optimizer="adam", lr=0.01, iterations=1000),
        params=dict(steps=steps, seed=seed, lag=lag),
    )


TASKS: dict[str, Callable[..., Task]] = {
    "sine": sine,
    "ar": ar,
    "hello": hello,
    "sum": sum_task,
    "parity": parity,
    "wave": wave,
    "xor": xor,
    "echo": echo,
}
DEFAULT_TASK = "sine"


def make_task(name: str, *, steps: int | None = None, seed: int = 0, **options: object) -> Task:
    """Generate a built-in task. `steps` overrides the sequence length where the task allows."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")
    if steps is not None and (not isinstance(steps, (int, np.integer)) or steps < 1 or steps > 100_000):
        raise ValueError(f"steps must be a whole number from 1 to 100000, got {steps!r}")
    kwargs = dict(seed=seed, **options)
    if steps is not None:
        kwargs["steps"] = steps
    return TASKS[name](**kwargs)
