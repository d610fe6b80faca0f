"""Engine benchmark: rnnviz forward + BPTT (recording everything) against PyTorch on the CPU.

What is timed, per grid cell (B sequences, T steps, H hidden units; I = O = 1; tanh;
many-to-many; MSE loss; float64):

* rnnviz: ``rnnviz.engine.run(model, x, targets)`` — the forward pass, the loss, BPTT and the
  full ``Trace`` (every a_t, h_t, y_t, dL/dh_t, dL/da_t, the gradients, the per-step gradient
  norms and the gradient-gain probe).
* PyTorch: ``nn.RNN`` + ``nn.Linear`` forward, ``nn.MSELoss`` and ``loss.backward()``, with the
  gradients reset (``zero_grad(set_to_none=True)``) before each pass.  PyTorch records nothing
  beyond what autograd needs, so this is the lean reference.

Each side runs in its own subprocess, one after the other (never at the same time): NumPy's
OpenBLAS pool and PyTorch's OpenMP pool fight over the cores when they share a process.

Threads: by default both sides run with their libraries' defaults, as a user would run them
(NumPy: OpenBLAS uses one thread per core; PyTorch: ``torch.get_num_threads()``, also one per
physical core).  ``--threads N`` pins both sides to N threads (OPENBLAS/OMP/MKL_NUM_THREADS in
the environment of both subprocesses and ``torch.set_num_threads(N)``).  The thread counts in
effect are printed with the table.  rnnviz starts no threads of its own.

Timing: three rounds, and in each round each side once, in its own process, the sides taking
turns (rnnviz, torch, torch, rnnviz, rnnviz, torch), so that a slower or faster spell of the
machine (on the project's 2-vCPU VM the same pass varies by ±10 % from minute to minute) falls
on both sides alike.  Per round and cell: a few warm-up passes, then as many timed passes as
fit a third of the time budget (``--budget`` seconds per cell and side, at least
``--min-repeats``), and their median; per cell the lowest of the three medians counts (a burst
of other load during one round does not).  A benchmark, not a test: it never asserts on time.

    .venv/bin/python bench/bench_engine.py             # the full grid, a few minutes
    .venv/bin/python bench/bench_engine.py --threads 1 # both sides pinned to one thread
    .venv/bin/python bench/bench_engine.py --quick     # smaller budget, for a rough look
    .venv/bin/python bench/bench_engine.py --gated-only  # only the LSTM / GRU table

A second table times the gated cells the same way on a smaller grid (GATED_GRID): rnnviz
``run`` on an LSTM / GRU (every gate, the cell state, every gradient recorded) against
``nn.LSTM`` / ``nn.GRU`` + ``nn.Linear`` with ``loss.backward()``; ``--no-gated`` skips it.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time

B_GRID = (1, 32)
T_GRID = (25, 100, 500)
H_GRID = (8, 32, 128)
I_SIZE = 1
O_SIZE = 1
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def grid() -> list[tuple[int, int, int]]:
    return [(B, T, H) for B in B_GRID for T in T_GRID for H in H_GRID]


GATED_CELLS = ("lstm", "gru")
GATED_T_GRID = (25, 100)


def gated_grid() -> list[tuple[str, int, int, int]]:
    return [(cell, B, T, H) for cell in GATED_CELLS for B in B_GRID for T in GATED_T_GRID for H in H_GRID]


# --------------------------------------------------------------------------------------
# timing, shared by both workers


ROUNDS = 3


def time_it(fn, budget: float, min_repeats: int, max_repeats: int, rounds: int = ROUNDS) -> dict:
    """Wall time of fn() in ms after warm-up: the median of each of `rounds` rounds of timed
    calls, and the lowest of those medians, so that a burst of other load on the machine during
    one round does not count; the repeat count adapts to the budget."""
    gc.collect()
    t0 = time.perf_counter()
    fn()  # first call: caches, lazy initialisation
    first = time.perf_counter() - t0
    warm = 2 if first < 0.05 else 1
    for _ in range(warm):
        fn()
    est = max(first, 1e-6)
    repeats = int(min(max_repeats, max(min_repeats, budget / est)))
    per_round = max(min_repeats, -(-repeats // rounds))
    medians, fastest = [], float("inf")
    for _ in range(rounds):
        times = []
        for _ in range(per_round):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        times.sort()
        n = len(times)
        medians.append(times[n // 2] if n % 2 else 0.5 * (times[n // 2 - 1] + times[n // 2]))
        fastest = min(fastest, times[0])
    return {"ms": 1e3 * min(medians), "round_ms": [1e3 * m for m in medians], "min_ms": 1e3 * fastest,
            "repeats": rounds * per_round}


def inputs(B: int, T: int, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(T, B, I_SIZE))
    y = rng.normal(size=(T, B, O_SIZE))
    return x, y


# --------------------------------------------------------------------------------------
# workers (each runs in its own process)


def worker_rnnviz(args) -> dict:
    import numpy as np

    from rnnviz.engine import init_rnn, run

    out = {}
    for B, T, H in grid():
        x, y = inputs(B, T)
        model = init_rnn(I_SIZE, H, O_SIZE, activation="tanh", architecture="many-to-many",
                         loss="mse", seed=0, dtype=np.float64)
        out[f"{B},{T},{H}"] = time_it(lambda: run(model, x, y), args.budget, args.min_repeats, args.max_repeats, args.rounds)
    try:
        import threadpoolctl  # optional: only to report the pool size

        info = threadpoolctl.threadpool_info()
        threads = max((p["num_threads"] for p in info if p["user_api"] == "blas"), default=None)
    except ImportError:
        threads = _openblas_threads()
    return {"results": out, "threads": threads, "version": np.__version__}


def _openblas_threads():
    """OpenBLAS pool size via its C API (NumPy wheels ship scipy-openblas), None if unknown."""
    import ctypes
    import glob

    import numpy as np

    libs_dir = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    for path in glob.glob(os.path.join(libs_dir, "*openblas*.so*")):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                     "scipy_openblas_get_num_threads", "openblas_get_num_threads"):
            fn = getattr(lib, name, None)
            if fn is not None:
                return int(fn())
    return None


def torch_pass(rnn, lin, xt, yt):
    """One PyTorch forward + MSE + backward() of `rnn` and its Linear head, as a callable."""
    from torch import nn

    mse = nn.MSELoss()
    params = [*rnn.parameters(), *lin.parameters()]

    def step():
        for p in params:
            p.grad = None
        hs, _ = rnn(xt)  # (T, B, H), h_0 = 0
        mse(lin(hs), yt).backward()

    return step


def worker_torch(args) -> dict:
    import torch
    from torch import nn

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    out = {}
    for B, T, H in grid():
        x, y = inputs(B, T)
        xt = torch.from_numpy(x)
        yt = torch.from_numpy(y)
        rnn = nn.RNN(I_SIZE, H, nonlinearity="tanh", dtype=torch.float64)
        step = torch_pass(rnn, nn.Linear(H, O_SIZE, dtype=torch.float64), xt, yt)
        out[f"{B},{T},{H}"] = time_it(step, args.budget, args.min_repeats, args.max_repeats, args.rounds)
    return {"results": out, "threads": torch.get_num_threads(), "version": torch.__version__}


def worker_rnnviz_gated(args) -> dict:
    import numpy as np

    from rnnviz.engine import run
    from rnnviz.engine.model import init_model

    out = {}
    for cell, B, T, H in gated_grid():
        x, y = inputs(B, T)
        model = init_model(cell, I_SIZE, H, O_SIZE, architecture="many-to-many", loss="mse", seed=0, dtype=np.float64)
        out[f"{cell},{B},{T},{H}"] = time_it(lambda: run(model, x, y), args.budget, args.min_repeats, args.max_repeats, args.rounds)
    return {"results": out, "threads": _openblas_threads(), "version": np.__version__}


def worker_torch_gated(args) -> dict:
    import torch
    from torch import nn

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    out = {}
    for cell, B, T, H in gated_grid():
        x, y = inputs(B, T)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(I_SIZE, H, dtype=torch.float64)
        step = torch_pass(rnn, nn.Linear(H, O_SIZE, dtype=torch.float64), xt, yt)
        out[f"{cell},{B},{T},{H}"] = time_it(step, args.budget, args.min_repeats, args.max_repeats, args.rounds)
    return {"results": out, "threads": torch.get_num_threads(), "version": torch.__version__}


def report_gated(rv: dict, tc: dict, args) -> str:
    lines = [
        f"Gated cells: rnnviz run() on an LSTM / GRU (all gates, cell state, all gradients recorded) vs PyTorch "
        f"nn.LSTM / nn.GRU + nn.Linear + MSE backward; float64, I={I_SIZE}, O={O_SIZE}, many-to-many; "
        f"{'threads pinned to ' + str(args.threads) if args.threads else 'library default threads'}.",
        "",
        "| cell | B | T | H | rnnviz ms | torch ms | ratio torch/rnnviz |",
        "|:---|---:|---:|---:|---:|---:|---:|",
    ]
    for cell, B, T, H in gated_grid():
        key = f"{cell},{B},{T},{H}"
        r, t = rv["results"][key]["ms"], tc["results"][key]["ms"]
        lines.append(f"| {cell.upper()} | {B} | {T} | {H} | {r:.3f} | {t:.3f} | {t / r:.2f} |")
    lines += ["", f"Took {rv['wall_s']:.0f} s + {tc['wall_s']:.0f} s.", *machine_note(rv, tc)]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# driver


def _cpu_jiffies() -> tuple[int, int] | None:
    """(busy, total) CPU time of the whole machine so far, in clock ticks (Linux only)."""
    try:
        with open("/proc/stat") as f:
            v = [int(n) for n in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return sum(v) - v[3] - v[4], sum(v)


def _children_cpu_s() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_side(side: str, args) -> dict:
    env = dict(os.environ)
    if args.threads:
        for var in THREAD_VARS:
            env[var] = str(args.threads)
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = repo + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", side, "--rounds", "1",
           "--budget", str(args.budget / ROUNDS), "--min-repeats", str(args.min_repeats),
           "--max-repeats", str(max(1, args.max_repeats // ROUNDS))]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    j0, c0 = _cpu_jiffies(), _children_cpu_s()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"the {side} worker failed (exit code {proc.returncode})")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    # How much of the machine other processes used meanwhile: busy CPU time minus the worker's.
    j1 = _cpu_jiffies()
    if j0 and j1 and j1[1] > j0[1]:
        busy_s = (j1[0] - j0[0]) / os.sysconf("SC_CLK_TCK")
        result["others_busy"] = max(0.0, busy_s - (_children_cpu_s() - c0)) / (wall * (os.cpu_count() or 1))
    return result


def run_pair(first: str, second: str, args) -> tuple[dict, dict]:
    """Both sides, ROUNDS times each, taking turns (first, second, second, first, first, ...):
    one round per worker process, so that a slower or faster spell of the machine falls on both
    sides alike instead of on whichever happened to run then.  Per cell the lowest of the round
    medians counts."""
    runs: dict[str, list[dict]] = {first: [], second: []}
    for r in range(ROUNDS):
        for side in (first, second) if r % 2 == 0 else (second, first):
            runs[side].append(run_side(side, args))
    merged = []
    for side in (first, second):
        rs = runs[side]
        results = {}
        for key in rs[0]["results"]:
            cells = [r["results"][key] for r in rs]
            round_ms = [c["ms"] for c in cells]
            results[key] = {"ms": min(round_ms), "round_ms": round_ms, "min_ms": min(c["min_ms"] for c in cells),
                            "repeats": sum(c["repeats"] for c in cells)}
        merged.append({**rs[0], "results": results, "wall_s": sum(r["wall_s"] for r in rs),
                       "others_busy": max(r.get("others_busy", 0.0) for r in rs)})
    return merged[0], merged[1]


def machine_note(*sides: dict) -> list[str]:
    """A warning when other processes kept the CPUs busy while a side was timed."""
    busy = max((s.get("others_busy", 0.0) for s in sides), default=0.0)
    if busy < 0.1:
        return []
    return ["", f"WARNING: other processes used up to {100 * busy:.0f}% of the CPUs while this ran; "
                "the timings are not reliable (run again on an idle machine)."]


def report(rv: dict, tc: dict, args) -> str:
    lines = [
        f"rnnviz (NumPy {rv['version']}, BLAS threads: {rv['threads'] if rv['threads'] is not None else 'library default'}) "
        f"vs PyTorch {tc['version']} (threads: {tc['threads']}), CPU float64, "
        f"I={I_SIZE}, O={O_SIZE}, tanh, many-to-many, MSE; "
        f"{'threads pinned to ' + str(args.threads) + ' on both sides' if args.threads else 'library default threads'}; "
        f"{platform.machine()}, {os.cpu_count()} logical CPUs.",
        "",
        "| B | T | H | rnnviz ms | torch ms | ratio torch/rnnviz |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    worst, worst_fast = float("inf"), float("inf")
    worst_cell = worst_fast_cell = None
    for B, T, H in grid():
        key = f"{B},{T},{H}"
        r, t = rv["results"][key]["ms"], tc["results"][key]["ms"]
        ratio = t / r
        lines.append(f"| {B} | {T} | {H} | {r:.3f} | {t:.3f} | {ratio:.2f} |")
        if ratio < worst:
            worst, worst_cell = ratio, (B, T, H)
        if B == 1 and T <= 100 and H <= 32 and ratio < worst_fast:
            worst_fast, worst_fast_cell = ratio, (B, T, H)
    everywhere = worst >= 1.0
    small = worst_fast >= 4.0
    lines += [
        "",
        f"Verdict: {'PASS' if everywhere and small else 'SHORT'} — "
        f"rnnviz {'is' if everywhere else 'is NOT'} at least as fast as PyTorch on every cell "
        f"(lowest ratio {worst:.2f} at B,T,H={worst_cell}); "
        f"{'at least' if small else 'NOT at least'} 4x faster at B=1, T<=100, H<=32 "
        f"(lowest ratio there {worst_fast:.2f} at B,T,H={worst_fast_cell}).  "
        f"Lowest of {ROUNDS} round medians (sides taking turns, one process per side and round), {min(x['repeats'] for x in rv['results'].values())}+ (rnnviz) and "
        f"{min(x['repeats'] for x in tc['results'].values())}+ (torch) timed passes per cell; "
        f"took {rv['wall_s']:.0f} s + {tc['wall_s']:.0f} s.",
        *machine_note(rv, tc),
    ]
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=0,
                   help="pin BOTH sides to this many threads (default: each library's default)")
    p.add_argument("--budget", type=float, default=2.0, help="seconds of timed passes per cell and side")
    p.add_argument("--min-repeats", type=int, default=7)
    p.add_argument("--max-repeats", type=int, default=2000)
    p.add_argument("--quick", action="store_true", help="budget 0.3 s, at least 5 repeats")
    p.add_argument("--json", help="also write the raw results to this file")
    p.add_argument("--no-gated", action="store_true", help="skip the LSTM / GRU table")
    p.add_argument("--gated-only", action="store_true", help="only the LSTM / GRU table")
    p.add_argument("--worker", choices=("rnnviz", "torch", "rnnviz-gated", "torch-gated"), help=argparse.SUPPRESS)
    p.add_argument("--rounds", type=int, default=ROUNDS, help=argparse.SUPPRESS)  # per worker process
    args = p.parse_args(argv)
    if args.quick:
        args.budget, args.min_repeats = 0.3, 5
    if args.worker:
        fn = {"rnnviz": worker_rnnviz, "torch": worker_torch, "rnnviz-gated": worker_rnnviz_gated,
              "torch-gated": worker_torch_gated}[args.worker]
        print(json.dumps(fn(args)))
        return
    # Sequentially, each in its own process: never two thread pools at once.
    raw: dict = {"threads": args.threads}
    if not args.gated_only:
        rv, tc = run_pair("rnnviz", "torch", args)
        print(report(rv, tc, args))
        raw.update(rnnviz=rv, torch=tc)
    if not args.no_gated:
        rvg, tcg = run_pair("rnnviz-gated", "torch-gated", args)
        print(("\n\n" if not args.gated_only else "") + report_gated(rvg, tcg, args))
        raw.update(rnnviz_gated=rvg, torch_gated=tcg)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(raw, f, indent=1)


if __name__ == "__main__":
    main()
