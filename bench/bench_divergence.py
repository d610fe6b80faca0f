"""How far the divergence limits (engine.guards.DivergenceLimits) sit from normal training, and
how fast they catch a run that blows up.

1. margins: every built-in task × cell (vanilla, LSTM, GRU) trained at the task's default
   settings (hidden size, activation, optimizer, learning rate, full batch) for `--factor`
   times its default iteration budget, once per seed: the largest loss as a multiple of the
   first, the largest |weight|, the largest |gradient entry| and gradient norm, each beside its
   limit. A row whose figure reaches a tenth of its limit is marked "NEAR"; one past it, which
   the trainer would have stopped, "FIRES" (the run is then carried on in warn mode to measure).
2. the blow-up grid: SGD / Adam / Adagrad × the three cells × sine / hello at lr = 1e6 (and
   at `--lr2`), stop mode: at which iteration the run is stopped, by which check, the value it
   reached, and the largest |weight| kept.

Nothing asserts (tests/engine/test_divergence.py does, on a shorter run); this prints tables.

    .venv/bin/python bench/bench_divergence.py                # seed 0, twice the default budgets
    .venv/bin/python bench/bench_divergence.py --seeds 0 1 2 --factor 1
"""
from __future__ import annotations

import argparse

import numpy as np

from rnnviz.engine import CELLS, OPTIMIZERS, TASKS, DivergenceError, NonFiniteError, Trainer, init_model, make_task
from rnnviz.engine.guards import largest_entries


def trainer_for(task_name: str, cell: str, seed: int, **kwargs) -> Trainer:
    task = make_task(task_name, seed=seed)
    d = task.defaults
    model = init_model(cell, task.input_size, d["hidden"], task.output_size,
                       activation=d["activation"] if cell == "rnn" else "tanh",
                       architecture=task.architecture, loss=task.loss, seed=seed)
    settings = dict(optimizer=d["optimizer"], lr=d["lr"], seed=seed, x_val=task.x_val, y_val=task.y_val)
    return Trainer(model, task.x_train, task.y_train, **{**settings, **kwargs})


def margins(seeds: list[int], factor: float) -> None:
    print("## Margins at the default settings\n")
    print("| task | cell | seed | iterations | max loss / first | max abs weight | max abs gradient entry | max grad norm | |")
    print("|---|---|---|---|---|---|---|---|---|")
    worst = dict(loss=0.0, weight=0.0, grad=0.0)
    for task_name in TASKS:
        for cell in CELLS:
            for seed in seeds:
                trainer = trainer_for(task_name, cell, seed, on_divergence="warn")
                n = int(round(make_task(task_name, seed=seed).defaults["iterations"] * factor))
                lim = trainer.limits
                first = None
                top = dict(loss=0.0, weight=0.0, grad=0.0, norm=0.0)
                fired = False
                for _ in range(n):
                    r = trainer.step()
                    fired |= r.warning is not None
                    first = r.loss if first is None else first
                    top["loss"] = max(top["loss"], r.loss / first)
                    top["grad"] = max(top["grad"], largest_entries({k: v for k, v in r.trace.grads.items()})[1])
                    top["norm"] = max(top["norm"], r.grad_norm)
                    top["weight"] = max(top["weight"], largest_entries(trainer.model.params())[1])
                share = max(top["loss"] / lim.loss_factor, top["weight"] / lim.max_weight, top["grad"] / lim.max_grad)
                mark = "FIRES" if fired else ("NEAR" if share >= 0.1 else "")
                for k in worst:
                    worst[k] = max(worst[k], top[k])
                print(f"| {task_name} | {cell} | {seed} | {n} | {top['loss']:.3g} | {top['weight']:.3g} | "
                      f"{top['grad']:.3g} | {top['norm']:.3g} | {mark} |", flush=True)
    lim = trainer.limits.__class__()
    print(f"\nworst over all runs: loss {worst['loss']:.3g}× its first (limit {lim.loss_factor:g}×), "
          f"|weight| {worst['weight']:.3g} (limit {lim.max_weight:g}), |gradient entry| {worst['grad']:.3g} "
          f"(limit {lim.max_grad:g})\n")


def blow_up_grid(lrs: list[float]) -> None:
    print("## Blow-ups, stop mode\n")
    print("| lr | task | cell | optimizer | stopped at iteration | by | value | max abs weight kept |")
    print("|---|---|---|---|---|---|---|---|")
    for lr in lrs:
        for task_name in ("sine", "hello"):
            for cell in CELLS:
                for optimizer in OPTIMIZERS:
                    trainer = trainer_for(task_name, cell, 0, optimizer=optimizer, lr=lr)
                    it, by, value = "never (1000)", "", float("nan")
                    with np.errstate(all="ignore"):
                        try:
                            for _ in range(1000):
                                trainer.step()
                        except DivergenceError as e:
                            it, by, value = e.iteration, e.what, e.value
                        except NonFiniteError as e:
                            it, by, value = e.iteration, f"NaN/Inf in {e.what}", float("nan")
                    kept = largest_entries(trainer.model.params())[1]
                    print(f"| {lr:g} | {task_name} | {cell} | {optimizer} | {it} | {by} | {value:.3g} | {kept:.3g} |",
                          flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds of the tasks and networks (default 0)")
    ap.add_argument("--factor", type=float, default=2.0, help="iterations as a multiple of each task's default budget")
    ap.add_argument("--lr2", type=float, default=10.0, help="a second, milder learning rate for the blow-up grid")
    ap.add_argument("--no-margins", action="store_true", help="only the blow-up grid")
    args = ap.parse_args()
    if not args.no_margins:
        margins(args.seeds, args.factor)
    blow_up_grid([1e6, args.lr2])


if __name__ == "__main__":
    main()
