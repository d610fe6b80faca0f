"""The AR-baseline dock on your own series: the verdict says how many held-out points it rests
on, and "too few to call" below engine.baseline.MIN_POINTS."""
from __future__ import annotations

from rnnviz.engine.baseline import MIN_POINTS, compare
from tests.engine.io.test_importers_series import air_csv


def test_air_passengers_verdict_is_too_few_to_call_then_judged_with_more_held_out(tmp_path, window, qtbot):
    p = air_csv(tmp_path / "air.csv")
    panel = window.baseline_panel
    window.baseline_dock.show()
    window.baseline_dock.raise_()
    assert window.files.import_series(p, held_out=0.2)  # defaults: 2 held-out windows of 12 steps
    panel.set_order(2)
    qtbot.waitUntil(lambda: not panel.worker.busy and panel.comparison is not None and panel.fit.p == 2)
    c = panel.comparison
    assert c.points == 2 * 11 < MIN_POINTS  # AR(2) scores steps 2..12 of each window
    assert panel.verdict_label.text().endswith(
        f"too few to call (a verdict needs at least {MIN_POINTS} held-out points).")
    assert "(22 points)" in panel.verdict_label.text() and "22 points" in panel.numbers_label.text()

    assert window.files.import_series(p, held_out=0.4)  # round(0.4 · 143 / 12) = 5 windows: 55 points
    qtbot.waitUntil(lambda: not panel.worker.busy and panel.comparison is not None
                    and panel.comparison.sequences == 5)
    c = panel.comparison
    direct = compare(window.session.task, window.session.model, fit=panel.fit)
    assert c.points == 55 and panel.verdict_label.text() == direct.verdict() + "."
    assert "too few to call" not in panel.verdict_label.text()
