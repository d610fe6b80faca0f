"""What one `Trainer.step()` costs, per cell and task, at the app's default settings.

The step is the hot loop of training (the app's worker and `rnnviz train` call nothing else),
so every check added to it is paid on each iteration: this prints the median time of one step
(forward pass, BPTT, the NaN/Inf and divergence checks, the copy of the last good state, the
optimizer's update) for the vanilla, LSTM and GRU cells on the sine and hello tasks (their
default hidden size, optimizer and learning rate, full batch). Each figure is the median over
`--blocks` blocks of `--steps` steps, on a trainer reset before each block so the weights stay
in the same regime. A benchmark, not a test: nothing asserts on time.

    .venv/bin/python bench/bench_trainer_step.py
    .venv/bin/python bench/bench_trainer_step.py --steps 200 --blocks 15
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from rnnviz.engine import CELLS, Trainer, init_model, make_task


def trainer_for(task_name: str, cell: str, trainer_class: type = Trainer) -> Trainer:
    """A trainer as the app builds one for a task: its defaults, seed 0, full batch."""
    task = make_task(task_name)
    d = task.defaults
    model = init_model(cell, task.input_size, d["hidden"], task.output_size,
                       activation=d["activation"] if cell == "rnn" else "tanh",
                       architecture=task.architecture, loss=task.loss, seed=0)
    return trainer_class(model, task.x_train, task.y_train, optimizer=d["optimizer"], lr=d["lr"],
                         x_val=task.x_val, y_val=task.y_val)


def block_time(trainer: Trainer, steps: int) -> float:
    """Seconds per step over `steps` steps from a fresh start."""
    trainer.reset()
    t0 = time.perf_counter()
    for _ in range(steps):
        trainer.step()
    return (time.perf_counter() - t0) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100, help="steps per block (default 100)")
    ap.add_argument("--blocks", type=int, default=11, help="blocks per figure; the median is printed (default 11)")
    args = ap.parse_args()
    print(f"median µs per Trainer.step() ({args.blocks} blocks × {args.steps} steps), NumPy {np.__version__}")
    print("| task | cell | µs/step |")
    print("|---|---|---|")
    for task_name in ("sine", "hello"):
        for cell in CELLS:
            trainer = trainer_for(task_name, cell)
            block_time(trainer, 5)  # warm up
            times = [block_time(trainer, args.steps) for _ in range(args.blocks)]
            print(f"| {task_name} | {cell} | {statistics.median(times) * 1e6:.0f} |", flush=True)


if __name__ == "__main__":
    main()
