"""What one playback frame costs in the full main window (not a test).

The window as the person gets it: every panel and the default plot docks visible, the inspector
following the playback, at 1360×840 offscreen. A frame = `session.set_position(next)`, then the
posted events delivered (`sendPostedEvents`: the update requests, so every widget that changed is
painted, as the event loop does after a timer tick of the playback), then any events left
(`processEvents`). Forward and backward, at T = 100, H = 64 and T = 500, H = 256. Each case runs
in its own fresh process, the cases take turns over the rounds, and the median and spread of
each round are printed. Goal (issue 12): ≤ 16 ms per frame everywhere.

A second figure adds a forced repaint of the whole window (`window.repaint()`, every widget,
changed or not) after each frame: the first version of this bench counted that too, and it
shows what painting everything costs.

    python bench/bench_window_frame.py            # 3 rounds
    python bench/bench_window_frame.py --rounds 5
The bare view (no window around it) is bench/bench_view.py.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

CASES = [(100, 64, "forward"), (100, 64, "backward"), (500, 256, "forward"), (500, 256, "backward")]
FRAMES = 60


def one_case(T: int, H: int, mode: str) -> tuple[list[float], list[float], list[float]]:
    """Frame times (ms) of one case in this process; the part of each in `set_position` (the
    slots: inspector, plots' data, view state; the rest is painting); each with a full repaint."""
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    import offscreen_home  # noqa: F401  (offscreen, settings aside)
    from PySide6.QtWidgets import QApplication

    from rnnviz.app.main import make_application
    from rnnviz.app.main_window import MainWindow
    from rnnviz.app.state.network_config import NetworkConfig
    from rnnviz.app.state.session import Session

    app = make_application()
    session = Session(NetworkConfig(task="sine", hidden=H, steps=T))
    window = MainWindow(session, allow_fullscreen=False)
    window.resize(1360, 840)
    window.show()
    for _ in range(5):
        app.processEvents()
    session.set_mode(mode)
    positions = list(range(session.frame_count))
    start = len(positions) // 3
    frames, slots, with_full = [], [], []
    for i in range(FRAMES + 5):
        p = positions[(start + i) % len(positions)]
        t0 = time.perf_counter()
        session.set_position(p)
        ts = time.perf_counter()
        QApplication.sendPostedEvents()  # the update requests: what changed is painted here
        app.processEvents()
        t1 = time.perf_counter()
        window.repaint()  # every widget, changed or not
        t2 = time.perf_counter()
        frames.append((t1 - t0) * 1000)
        slots.append((ts - t0) * 1000)
        with_full.append((t2 - t0) * 1000)
    window.close()
    return frames[5:], slots[5:], with_full[5:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--case", help=argparse.SUPPRESS)  # "T,H,mode": run one case here
    args = ap.parse_args()
    if args.case:
        T, H, mode = args.case.split(",")
        print(json.dumps(one_case(int(T), int(H), mode)))
        return
    results: dict[tuple, list[float]] = {c: [] for c in CASES}
    full: dict[tuple, list[float]] = {c: [] for c in CASES}
    for r in range(args.rounds):
        for case in CASES:  # the cases take turns, each in a fresh process
            out = subprocess.run([sys.executable, __file__, "--case", ",".join(map(str, case))],
                                 capture_output=True, text=True, check=True)
            times, slots, with_full = json.loads(out.stdout.strip().splitlines()[-1])
            results[case].append(statistics.median(times))
            full[case].append(statistics.median(with_full))
            print(f"round {r + 1}: T={case[0]:>3} H={case[1]:>3} {case[2]:<8} median {statistics.median(times):6.1f} ms"
                  f"  (p90 {sorted(times)[int(len(times) * 0.9)]:6.1f}, max {max(times):6.1f})"
                  f"  in set_position {statistics.median(slots):5.1f}"
                  f"  with a full repaint {statistics.median(with_full):6.1f} ms", flush=True)
    print("\ncase                      frame: median of rounds (spread)     with a full repaint (spread)")
    for (T, H, mode), meds in results.items():
        f = full[(T, H, mode)]
        print(f"T={T:>3} H={H:>3} {mode:<8}          {statistics.median(meds):6.1f} ms ({min(meds):.1f}–{max(meds):.1f})"
              f"          {statistics.median(f):6.1f} ms ({min(f):.1f}–{max(f):.1f})")

if __name__ == "__main__":
    main()
