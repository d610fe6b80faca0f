"""The AR-baseline dock: its numbers are the engine's, computed off the UI thread, it follows
training, and it says when the baseline does not apply."""
from __future__ import annotations

import threading

import pytest

from rnnviz.app.panels import baseline_worker
from rnnviz.engine.baseline import compare


def settled(panel) -> bool:
    """The newest comparison the panel asked for has come back."""
    return not panel.worker.busy


def test_panel_shows_the_engine_comparison_and_follows_training(window, qtbot):
    s = window.session
    s.set_config(task="ar")
    panel = window.baseline_panel
    window.baseline_dock.show()
    window.baseline_dock.raise_()
    qtbot.waitUntil(lambda: settled(panel))
    assert panel.fit.p == 2 and panel.fit.criterion == "bic"
    direct = compare(s.task, s.model, fit=panel.fit)
    assert panel.comparison.ar_mse == direct.ar_mse and panel.comparison.rnn_mse == direct.rnn_mse
    assert panel.verdict_label.text() == direct.verdict() + "."
    before = panel.comparison.rnn_mse
    window.training.step()
    qtbot.waitUntil(lambda: settled(panel) and panel.comparison.rnn_mse != before)
    assert panel.comparison.rnn_mse == pytest.approx(compare(s.task, s.model, fit=panel.fit).rnn_mse, rel=1e-12)
    panel.set_order(3)
    qtbot.waitUntil(lambda: settled(panel))
    assert panel.fit.p == 3 and panel.fit.criterion == "user" and "AR(3)" in panel.verdict_label.text()


def test_panel_says_when_the_baseline_does_not_apply(window, qtbot):
    window.session.set_config(task="hello")
    panel = window.baseline_panel
    assert panel.comparison is None
    assert "does not apply" in panel.verdict_label.text() and "classification" in panel.verdict_label.text()
    window.session.set_config(task="sine")
    qtbot.waitUntil(lambda: settled(panel) and panel.comparison is not None)


def test_the_comparison_runs_off_the_ui_thread_and_only_the_newest_is_shown(window, qtbot, monkeypatch):
    threads = []

    def recording_compare(*args, **kwargs):
        threads.append(threading.current_thread())
        return compare(*args, **kwargs)

    monkeypatch.setattr(baseline_worker, "compare", recording_compare)
    s = window.session
    s.set_config(task="ar")
    panel = window.baseline_panel
    shown = []
    panel.worker.computed.connect(shown.append)
    panel.set_order(3)
    panel.set_order(4)  # asked before the AR(3) result is back: only AR(4) is delivered
    qtbot.waitUntil(lambda: settled(panel))
    assert threads and threading.main_thread() not in threads
    assert shown[-1].fit.p == 4 and all(r.fit.p == 4 for r in shown)
    assert panel.fit.p == 4
