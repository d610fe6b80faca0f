"""The open-model dialog: what a file records is shown, only what it does not is asked, Open shows
exactly that network (PyTorch autograd agrees to 1e-9 in float64), Cancel and bad files change
nothing, and a model file dropped on the window opens the dialog."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox

from rnnviz.engine import run

torch = pytest.importorskip("torch")

from tests import torch_models as tm  # noqa: E402  (needs torch)
from tests.api.reference import assert_matches_torch, first_sequence  # noqa: E402


def _state(s):
    return (s.model, s.trace, s.config, s.source, s.source_label, s.data[0], s.data[1])


def _open(dialog) -> None:
    dialog.buttons.button(QDialogButtonBox.Open).click()


@pytest.mark.parametrize("make", tm.ALL, ids=lambda f: f.__name__)
def test_each_reference_model_opens_through_the_dialog_and_agrees_with_torch(window, session, tmp_path, make):
    ref = make()
    xp, yp = ref.save_data(tmp_path)
    dialog = window.open_model(ref.save(tmp_path), xp, yp)
    assert dialog is not None and dialog.isVisible() and window.last_error is None
    probe = dialog.probe
    # what the file records is shown
    assert f"hidden H = {probe.hidden_size}" in dialog.sizes_label.text()
    assert dialog.dtype_label.text() == "float64" and dialog.title_label.text().startswith(f"{ref.name}.pt")
    assert dialog.key_table.rowCount() == len(probe.key_map) > 0
    assert dialog.key_table.item(0, 0).text() == probe.key_map[0][0]
    # only what it does not record is asked, each preset to the guess with its reason
    asked = {"architecture", "loss", "batch_first"} | ({"nonlinearity"} if ref.cell == "rnn" else set())
    assert set(dialog.combos) == asked
    for name, guess in probe.questions():
        assert dialog.choices()[name] == guess.value and guess.reason in dialog.reasons[name].text()
    assert dialog.choices()["architecture"] == ref.architecture  # the targets told
    assert dialog.choices()["batch_first"] == ref.batch_first
    dialog.choose("loss", ref.loss)
    if ref.cell == "rnn":
        dialog.choose("nonlinearity", ref.nonlinearity)
    _open(dialog)
    assert dialog.result() == QDialog.Accepted and not dialog.isVisible()
    assert session.source == "file" and session.source_label == f"{ref.name}.pt"
    # the trace the window shows (the first sequence), and the whole batch, equal autograd's
    assert_matches_torch(session.trace, first_sequence(ref))
    assert_matches_torch(run(session.model, *session.data), ref)
    # the setup panel shows the loaded network's sizes
    p = window.setup_panel
    assert p.hidden_spin.value() == probe.hidden_size and p.task_combo.currentIndex() == -1
    assert f"I={probe.input_size} · H={probe.hidden_size} · O={probe.output_size}" in p.summary_label.text()
    assert p.loss_label.text().startswith(ref.loss)


def test_cancel_changes_nothing(window, session, tmp_path):
    ref = tm.lstm_classifier()
    before = _state(session)
    dialog = window.open_model(ref.save(tmp_path), *ref.save_data(tmp_path))
    dialog.buttons.button(QDialogButtonBox.Cancel).click()
    assert dialog.result() == QDialog.Rejected and _state(session) == before


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")  # torch's restricted loader on the garbage .pt
@pytest.mark.parametrize("name, content", [("corrupt.pt", b"\x80\x04not a torch file"),
                                           ("corrupt.npz", b"this is not a zip file")])
def test_a_corrupt_file_says_so_and_changes_nothing(window, session, tmp_path, name, content):
    bad = tmp_path / name
    bad.write_bytes(content)
    before = _state(session)
    assert window.open_model(bad) is None
    assert _state(session) == before
    assert window.last_error and name in window.last_error and "\n" not in window.last_error


def test_unreadable_inputs_say_so_and_change_nothing(window, session, tmp_path):
    ref = tm.gru_classifier()
    bad = tmp_path / "x.npy"
    bad.write_bytes(b"not an array")
    before = _state(session)
    assert window.open_model(ref.save(tmp_path), bad) is None
    assert _state(session) == before and "x.npy" in window.last_error


def test_answers_that_do_not_fit_the_data_are_said_in_the_dialog(window, session, tmp_path):
    ref = tm.char_rnn()
    dialog = window.open_model(ref.save(tmp_path), *ref.save_data(tmp_path))
    before = _state(session)
    dialog.choose("architecture", "many-to-many")  # but there is one target per sequence
    _open(dialog)
    assert dialog.isVisible() and _state(session) == before
    assert dialog.error_label.isVisibleTo(dialog) and "targets have shape (1,)" in dialog.error_label.text()
    assert "many-to-one" in dialog.error_label.text()  # the hint names the answer that fits
    dialog.choose("architecture", "many-to-one")
    _open(dialog)
    assert not dialog.isVisible() and session.model.architecture == "many-to-one"


def test_without_data_the_layout_is_not_asked_and_the_current_inputs_stay_if_they_fit(window, session, tmp_path):
    ref = tm.relu_regression()  # I = 2: the sine task's inputs (I = 1) do not fit
    dialog = window.open_model(ref.save(tmp_path))
    assert set(dialog.combos) == {"architecture", "loss", "nonlinearity"}
    assert "none" in dialog.inputs_label.text() and not dialog.targets_button.isEnabled()
    assert dialog.set_data(*ref.save_data(tmp_path))  # File ▸ Inputs… / Targets… in the dialog
    assert set(dialog.combos) == {"architecture", "loss", "nonlinearity", "batch_first"}
    assert dialog.choices()["batch_first"] is True and dialog.choices()["architecture"] == "many-to-one"
    dialog.choose("nonlinearity", "relu")
    _open(dialog)
    assert_matches_torch(run(session.model, *session.data), ref)


def test_a_dialog_with_a_training_run_kept_closes_and_changes_nothing(window, session, tmp_path):
    ref = tm.gru_classifier()
    dialog = window.open_model(ref.save(tmp_path), *ref.save_data(tmp_path))
    before = _state(session)
    session.may_replace = lambda what: False  # the person keeps the training run
    _open(dialog)
    assert dialog.result() == QDialog.Rejected and dialog.declined and _state(session) == before


def test_dropping_a_model_file_with_its_data_opens_the_dialog(window, session, tmp_path):
    ref = tm.relu_regression()
    path = ref.save(tmp_path)
    xp, yp = ref.save_data(tmp_path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in (yp, path, xp)])  # any order
    # dragged over the network view, which passes drags on to the window (Qt propagates an
    # ignored drag event to the parent widgets)
    target = window.view.viewport()
    pos = QPointF(target.width() / 2, target.height() / 2)
    for event in (QDragEnterEvent(pos.toPoint(), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier),
                  QDragMoveEvent(pos.toPoint(), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)):
        event.ignore()
        QApplication.sendEvent(target, event)
        assert event.isAccepted()
    assert window.model_dialog is None  # nothing opens before the drop
    drop = QDropEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    drop.ignore()
    QApplication.sendEvent(target, drop)
    assert drop.isAccepted()
    dialog = window.model_dialog
    assert dialog is not None and dialog.isVisible() and dialog.probe.path == path
    np.testing.assert_array_equal(dialog.x, ref.x)
    np.testing.assert_array_equal(dialog.y, ref.y)
    assert dialog.choices()["batch_first"] is True


def test_dropping_something_else_is_refused(window, tmp_path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "notes.txt"))])
    enter = QDragEnterEvent(QPointF(5, 5).toPoint(), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    window.dragEnterEvent(enter)
    assert not enter.isAccepted() and window.model_dialog is None


def test_a_whole_pickled_module_gets_one_clean_line(window, session, tmp_path):
    ref = tm.char_rnn()
    path = tmp_path / "whole.pt"
    torch.save(ref.module, path)  # the module, not its state dict
    before = _state(session)
    assert window.open_model(path) is None and _state(session) == before
    assert "state_dict()" in window.last_error and "\x1b" not in window.last_error and "\n" not in window.last_error


def test_an_rnnviz_model_file_records_everything_and_nothing_is_asked(window, session, tmp_path):
    from rnnviz.engine import init_model, save_model

    model = init_model("rnn", 3, 4, 2, activation="relu", architecture="many-to-one", loss="nll", seed=4)
    save_model(model, tmp_path / "mine.npz")
    dialog = window.open_model(tmp_path / "mine.npz")
    assert dialog.combos == {} and not dialog.questions_box.isVisibleTo(dialog)
    recorded = dialog.recorded_label.text()
    assert "architecture: many-to-one" in recorded and "loss: nll" in recorded and "nonlinearity: relu" in recorded
    _open(dialog)
    assert session.model is not model and session.source_label == "mine.npz"
    for name, value in model.params().items():
        np.testing.assert_array_equal(getattr(session.model, name), value)
    assert (session.model.architecture, session.model.loss, session.model.activation) == ("many-to-one", "nll", "relu")


def test_inputs_of_the_wrong_width_are_said_in_the_dialog_and_change_nothing(window, session, tmp_path):
    ref = tm.lstm_classifier()  # I = 3
    xp = tmp_path / "wide.npy"
    np.save(xp, np.zeros((6, 4, 5)))  # 5 features
    dialog = window.open_model(ref.save(tmp_path), xp)
    before = _state(session)
    _open(dialog)
    assert dialog.isVisible() and _state(session) == before
    assert "5 features" in dialog.error_label.text() and "takes 3" in dialog.error_label.text()


def test_a_network_opened_through_the_dialog_survives_a_session_file(window, session, tmp_path):
    from rnnviz.app.io import session_snapshot
    from rnnviz.app.state.session import Session

    ref = tm.char_rnn()
    dialog = window.open_model(ref.save(tmp_path), *ref.save_data(tmp_path))
    dialog.choose("loss", "nll")
    _open(dialog)
    session_snapshot.save(tmp_path / "s.rnnviz", session)
    other = Session()
    try:
        session_snapshot.restore(tmp_path / "s.rnnviz", other)
        assert (other.source, other.source_label, other.config) == ("file", "char_rnn.pt", session.config)
        assert other.model.loss == "nll" and other.model.architecture == "many-to-one"
        assert_matches_torch(other.trace, first_sequence(ref))
    finally:
        other.shutdown()
