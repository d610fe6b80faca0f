"""The header's summary, the status bar and the training panel write a loss the same way:
a finite loss as a number however large, only a real inf / nan as such."""
from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from PySide6.QtWidgets import QStatusBar

from rnnviz.app.state.network_config import NetworkConfig
from rnnviz.app.state.session import Session
from rnnviz.app.views.numbers import format_loss
from rnnviz.app.window.header import Header
from rnnviz.app.window.status import StatusLine


@pytest.mark.parametrize("value, text", [
    (0.012345678, "0.01235"), (3.19e302, "3.19e+302"), (1.7976931348623157e308, "1.798e+308"),
    (1.5e-300, "1.5e-300"), (0.0, "0"), (float("inf"), "inf"), (float("nan"), "nan"),
])
def test_format_loss(value, text):
    assert format_loss(value) == text


@pytest.mark.parametrize("value", [3.19e302, 0.25, float("inf")])
def test_header_and_status_bar_say_the_same_loss(qtbot, value):
    session = Session(NetworkConfig(task="sine"))
    try:
        header = Header()
        qtbot.addWidget(header)
        shown = SimpleNamespace(source_label="", task=session.task, model=session.model,
                                trace=dataclasses.replace(session.trace, loss=value))
        header.show_network(shown)
        bar = QStatusBar()
        qtbot.addWidget(bar)
        StatusLine(bar).show_training(7, value, 100.0, None)
        # the same number, written the same way; named for what each measures (the sequence
        # shown at the weights shown / the training batch)
        expected = f"loss {format_loss(value)} ·"
        assert header.subtitle_label.text().startswith("sequence " + expected)
        assert "training " + expected in bar.currentMessage()
        if value == 3.19e302:
            assert "inf" not in header.subtitle_label.text() and "3.19e+302" in bar.currentMessage()
    finally:
        session.shutdown()
