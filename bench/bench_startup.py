"""Startup time: launching `python -m rnnviz` to the first painted main window (not a test).

Runs the app headless (QT_QPA_PLATFORM=offscreen) with RNNVIZ_EXIT_AFTER_FIRST_PAINT=1, which
makes run_app print the wall-clock time of the first paint and quit. Prints each run and the
median of 5; the target is ≤ 1.5 s.

    python bench/bench_startup.py [runs]
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.5


def one_run() -> tuple[float, float]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RNNVIZ_EXIT_AFTER_FIRST_PAINT="1")
    start = time.time()
    out = subprocess.run([sys.executable, "-m", "rnnviz"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60)
    total = time.time() - start
    line = next((x for x in out.stdout.splitlines() if x.startswith("first-paint ")), None)
    if out.returncode != 0 or line is None:
        raise SystemExit(f"the app did not report a first paint (exit {out.returncode}):\n{out.stderr[-2000:]}")
    painted_at = float(line.split()[1])
    return painted_at - start, total


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    one_run()  # warm the file cache; not counted
    firsts, totals = [], []
    for i in range(runs):
        first, total = one_run()
        firsts.append(first)
        totals.append(total)
        print(f"run {i + 1}: first paint {first:.3f} s (process exit {total:.3f} s)")
    med = statistics.median(firsts)
    print(f"median launch → first paint over {runs} runs: {med:.3f} s "
          f"(target ≤ {TARGET} s: {'ok' if med <= TARGET else 'TOO SLOW'}; ratio to target {med / TARGET:.2f})")


if __name__ == "__main__":
    main()
