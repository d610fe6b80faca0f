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

Before / after (`--compare DIR`): DIR holds an older engine, e.g. HEAD's,

    git archive HEAD rnnviz | tar -x -C /tmp/s3/old_engine
    .venv/bin/python bench/bench_trainer_step.py --compare /tmp/s3/old_engine --rounds 5

Each round runs both sides, in turns and each in a fresh process (PYTHONPATH pointing at DIR
or at this checkout), and prints per case the median over rounds, the spread over rounds and
the median of the per-round ratios new/old (paired runs: a machine shared with other work
slows both sides of a round alike).  A side reports, per cell on the sine task (the default
demo, T = 25, full batch of 32, H = 8):
* step/pass: one Trainer.step() against a `run` on the same batch (what the step calls), the
  trainer's overhead as a ratio (the step's validation pass every 10 iterations included);
* the fixed cost of a pass, two ways, at B = 1, H = 32, one input and output: the time of a
  pass at T = 1, and the intercept of a least-squares line through the pass times at
  T = 1, 25, 100, 400 (what a pass costs apart from its steps).
One BLAS thread (threadpoolctl), as the numbers are about Python overhead, not arithmetic.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from rnnviz.engine import CELLS, Trainer, init_model, make_task, run

FIXED_TS = (1, 25, 100, 400)


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


def median_time(f, n: int, blocks: int) -> float:
    """Median over `blocks` of the seconds per call of f over n calls."""
    f()
    times = []
    for _ in range(blocks):
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        times.append((time.perf_counter() - t0) / n)
    return statistics.median(times)


def side(steps: int, blocks: int) -> dict[str, float]:
    """One side's figures in µs (see the module docstring), keyed "<what>/<cell>".  Each call is
    timed on its own and the figure is the median of the calls, the things compared taking
    turns call by call (a step, then a pass; T = 1, 25, 100, 400, then again), so that a burst
    of load from the other work on the machine lands on both and the median steps over it."""
    out: dict[str, float] = {}
    clock = time.perf_counter
    for cell in CELLS:
        trainer = trainer_for("sine", cell)
        step_t, pass_t = [], []
        for _ in range(blocks):
            trainer.reset()  # the weights stay in the same regime
            for _ in range(steps):
                t0 = clock()
                trainer.step()
                t1 = clock()
                run(trainer.model, trainer.x, trainer.targets)  # the pass inside the step, on its batch
                t2 = clock()
                step_t.append(t1 - t0)
                pass_t.append(t2 - t1)
        out[f"step/{cell}"] = statistics.median(step_t) * 1e6
        out[f"pass/{cell}"] = statistics.median(pass_t) * 1e6
        out[f"step÷pass/{cell}"] = out[f"step/{cell}"] / out[f"pass/{cell}"]
        model = init_model(cell, 1, 32, 1, seed=0)
        rng = np.random.default_rng(0)
        data = [(rng.standard_normal((T, 1, 1)), rng.standard_normal((T, 1, 1))) for T in FIXED_TS]
        times: list[list[float]] = [[] for _ in FIXED_TS]
        for _ in range(blocks * steps):
            for (x, y), ts in zip(data, times):
                t0 = clock()
                run(model, x, y)
                ts.append(clock() - t0)
        med = [statistics.median(ts) * 1e6 for ts in times]
        out[f"pass T=1/{cell}"] = med[0]
        out[f"fixed (intercept)/{cell}"] = float(np.polyfit(FIXED_TS, med, 1)[1])
    return out


def compare(old_dir: str, rounds: int, steps: int, blocks: int) -> None:
    """Both sides in turns, each in a fresh process; medians, spreads and paired ratios."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    results: dict[str, list[dict]] = {"old": [], "new": []}
    for r in range(rounds):
        for name in (("old", "new") if r % 2 == 0 else ("new", "old")):
            env = dict(os.environ, PYTHONPATH=old_dir if name == "old" else here)
            cmd = [sys.executable, os.path.abspath(__file__), "--side", "--steps", str(steps), "--blocks", str(blocks)]
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, cwd="/")
            results[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    print(f"sine task (T = 25, B = 32, H = 8) and fixed cost (B = 1, H = 32); {rounds} rounds, "
          f"sides in turns in fresh processes, 1 BLAS thread; median over rounds [min–max]; "
          f"paired ratio = median of per-round new/old")
    print("| figure | cell | old | new | paired new/old |")
    print("|---|---|---|---|---|")
    for key in results["old"][0]:
        what, cell = key.split("/")
        old = [d[key] for d in results["old"]]
        new = [d[key] for d in results["new"]]
        fmt = (lambda v: f"{v:.2f}") if what.startswith("step÷") else (lambda v: f"{v:.0f} µs")
        ratio = statistics.median(n / o for n, o in zip(new, old))
        print(f"| {what} | {cell} | {fmt(statistics.median(old))} [{fmt(min(old))}–{fmt(max(old))}] | "
              f"{fmt(statistics.median(new))} [{fmt(min(new))}–{fmt(max(new))}] | {ratio:.2f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100, help="steps per block (default 100)")
    ap.add_argument("--blocks", type=int, default=11, help="blocks per figure; the median is printed (default 11)")
    ap.add_argument("--compare", metavar="DIR", help="before/after against the engine package under DIR")
    ap.add_argument("--rounds", type=int, default=5, help="--compare: rounds of both sides (default 5)")
    ap.add_argument("--side", action="store_true", help="(internal) one side's figures as JSON")
    args = ap.parse_args()
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    if args.side:
        print(json.dumps(side(args.steps, args.blocks)))
        return
    if args.compare:
        compare(args.compare, args.rounds, args.steps, args.blocks)
        return
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
