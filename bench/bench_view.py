"""How long one animation frame of the unrolled view takes to draw (not a test).

A frame = session.set_position(next) + a forced repaint of a 1600×1000 viewport, offscreen.
Measured for the view's default (readable) zoom and for fit-to-window, forward and backward.
Targets: ≤ 8 ms median at T=100, H=64; ≤ 16 ms at T=500, H=256.

    QT_QPA_PLATFORM=offscreen python bench/bench_view.py
"""
from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from rnnviz.app.state.network_config import NetworkConfig  # noqa: E402
from rnnviz.app.state.session import Session  # noqa: E402
from rnnviz.app.views.unrolled.view import UnrolledView  # noqa: E402

W, H = 1600, 1000
FRAMES = 60


def frame_times(view: UnrolledView, session: Session, positions: list[int]) -> list[float]:
    app = QApplication.instance()
    out = []
    for p in positions:
        t0 = time.perf_counter()
        session.set_position(p)
        view.viewport().repaint()
        out.append((time.perf_counter() - t0) * 1000)
        app.processEvents()
    return out


def main() -> None:
    app = QApplication.instance() or QApplication([])
    rows = []
    for T, hidden, target in ((100, 64, 8.0), (500, 256, 16.0)):
        s = Session(NetworkConfig(task="sine", steps=T, hidden=hidden))
        v = UnrolledView(s)
        v.resize(W, H)
        v.show()
        app.processEvents()
        for zoom in ("default", "fit"):
            if zoom == "fit":
                v.fit_to_window()
            for mode, start in (("forward", 1), ("backward", T + 1)):
                positions = [start + (i % T) for i in range(FRAMES)]
                frame_times(v, s, positions[:5])  # warm up
                times = frame_times(v, s, positions)
                med = statistics.median(times)
                rows.append((T, hidden, zoom, mode, med, max(times), target))
        t0 = time.perf_counter()
        img = v.render_image(W, H)
        export = (time.perf_counter() - t0) * 1000
        assert not img.isNull()
        rows.append((T, hidden, "render_image", "-", export, export, None))
        v.close()
        s.shutdown()
    print(f"Unrolled view, one frame = set_position + viewport repaint at {W}×{H} (offscreen)\n")
    print("| T | H | zoom | pass | median ms | max ms | target ms | ok |")
    print("|---:|---:|---|---|---:|---:|---:|---|")
    for T, hidden, zoom, mode, med, mx, target in rows:
        ok = "" if target is None else ("yes" if med <= target else "NO")
        tgt = "" if target is None else f"{target:.0f}"
        print(f"| {T} | {hidden} | {zoom} | {mode} | {med:.2f} | {mx:.2f} | {tgt} | {ok} |")


if __name__ == "__main__":
    main()
