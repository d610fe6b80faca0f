"""The AR-baseline dock: its numbers are the engine's, it follows training, and it says when
the baseline does not apply."""
from __future__ import annotations

import pytest

from rnnviz.engine.baseline import compare


def test_panel_shows_the_engine_comparison_and_follows_training(window):
    s = window.session
    s.set_config(task="ar")
    panel = window.baseline_panel
    window.baseline_dock.show()
    window.baseline_dock.raise_()
    assert panel.fit.p == 2 and panel.fit.criterion == "bic"
    direct = compare(s.task, s.model, fit=panel.fit)
    assert panel.comparison.ar_mse == direct.ar_mse and panel.comparison.rnn_mse == direct.rnn_mse
    assert panel.verdict_label.text() == direct.verdict() + "."
    before = panel.comparison.rnn_mse
    window.training.step()
    assert panel.comparison.rnn_mse != before
    assert panel.comparison.rnn_mse == pytest.approx(compare(s.task, s.model, fit=panel.fit).rnn_mse, rel=1e-12)
    panel.set_order(3)
    assert panel.fit.p == 3 and panel.fit.criterion == "user" and "AR(3)" in panel.verdict_label.text()


def test_panel_says_when_the_baseline_does_not_apply(window):
    window.session.set_config(task="hello")
    panel = window.baseline_panel
    assert panel.comparison is None
    assert "does not apply" in panel.verdict_label.text() and "classification" in panel.verdict_label.text()
    window.session.set_config(task="sine")
    assert panel.comparison is not None
