"""The series import dialog: index-like columns named and left unticked, the defaults for the
series' length, a preview that says windows, rows dropped and the training statistics, OK
disabled (with the reason) for a choice that cannot be imported; a bad file leaves the session
as it was."""
from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QDialogButtonBox

from tests.engine.io.test_importers_series import air_csv, passengers


def fingerprint(session):
    return (session.task, session.model, session.source)


def test_air_passengers_dialog_leaves_the_month_off_and_previews_the_import(tmp_path, window):
    p = air_csv(tmp_path / "air.csv")
    d = window.files.series_dialog(p)
    month, count = d.column_boxes
    assert not month.isChecked() and month.text() == "Month — looks like an index: dates such as '1949-01'"
    assert count.isChecked() and count.text() == "Passengers"
    assert d.steps_spin.value() == 12 and d.stride is None and d.columns_edit.text() == "Passengers"
    v = passengers()[:120]  # rows 0..119: the training windows' rows
    text = d.preview_label.text()
    assert "108 training + 2 held-out windows of 12 steps, stride 1 (held out: the newest 24 rows)" in text
    assert "Left off 'Month' (looks like an index: dates such as '1949-01')" in text
    assert "No rows dropped" in text and f"Passengers: mean {v.mean():.4g}, std {v.std():.4g}" in text
    ok = d.buttons.button(QDialogButtonBox.Ok)
    assert ok.isEnabled()

    month.setChecked(True)  # ticked by hand: taken, and the preview says what is wrong with it
    assert d.columns_edit.text() == "Month, Passengers"
    assert "Cannot import" in d.preview_label.text() and "'1949-01' is not a number" in d.preview_label.text()
    assert not ok.isEnabled()
    month.setChecked(False)
    d.stride_spin.setValue(12)
    assert "9 training + 2 held-out windows of 12 steps, stride 12" in d.preview_label.text()
    assert "Dropped the oldest 11 rows (rows 1–11)" in d.preview_label.text() and ok.isEnabled()
    d.held_spin.setValue(0.9)
    assert "leaves no room for a training window" in d.preview_label.text() and not ok.isEnabled()
    d.held_spin.setValue(0.2)

    assert window.files.import_from_dialog(p, d)
    s = window.session
    assert s.task.params["columns"] == ["Passengers"] and s.task.x_train.shape == (12, 9, 1)
    z_last = (passengers()[-1] - s.task.params["mean"][0]) / s.task.params["std"][0]
    assert s.task.y_val[-1, -1, 0] == z_last  # the newest row is in the last window
    status = window.statusBar().currentMessage()
    assert "9 training + 2 held-out windows" in status and "dropped the oldest 11 rows" in status


def test_typing_columns_ticks_the_boxes(tmp_path, window):
    p = tmp_path / "two.csv"
    p.write_text("t,a,b\n" + "\n".join(f"{i},{np.sin(i)},{np.cos(i)}" for i in range(100)))
    d = window.files.series_dialog(p)
    assert [b.isChecked() for b in d.column_boxes] == [False, True, True]
    assert "looks like an index: whole numbers that only go up (0, 1, …)" in d.column_boxes[0].text()
    d.columns_edit.setText("1, b")
    assert [b.isChecked() for b in d.column_boxes] == [True, False, True]


def test_nothing_numeric_says_so_and_leaves_the_session_as_it_was(tmp_path, window, qtbot):
    p = tmp_path / "words.csv"
    p.write_text("name,colour\nann,red\nbob,green\ncy,blue\n")
    s = window.session
    before = fingerprint(s)
    d = window.files.series_dialog(p)
    assert "holds no column of plain numbers" in d.preview_label.text()
    assert not d.buttons.button(QDialogButtonBox.Ok).isEnabled()
    with qtbot.waitSignal(s.error) as said:
        assert window.files.import_series(p) is False
    assert "holds no column of plain numbers" in said.args[0] and fingerprint(s) == before
    with qtbot.waitSignal(s.error) as said:
        assert window.files.import_series(air_csv(tmp_path / "air.csv"), stride=0) is False
    assert "the stride must be a whole number" in said.args[0] and fingerprint(s) == before
