"""The conventions of hand-written RNNs in the app: the training panel sets them, the trace the
views show follows the loss reduction, the trainer gets them, and a session file keeps them
(with the carried hidden state) while files from before they existed open with PyTorch's."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.app.io import session_file, session_snapshot
from rnnviz.app.panels.training import TrainingPanel
from rnnviz.app.state.network_config import NetworkConfig
from rnnviz.app.state.session import Session
from rnnviz.app.state.training import TrainingController
from rnnviz.app.state.training_loop import TrainingSettings
from rnnviz.engine import Trainer

KARPATHY = dict(loss_reduction="sum", clip_mode="value", stateful=True, adagrad_eps="inside")
CONVENTIONS = tuple(KARPATHY)


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch):
    """Recovery file and QSettings in this test's own folder: never the person's."""
    monkeypatch.setenv("RNNVIZ_DATA_DIR", str(tmp_path / "appdata"))
    monkeypatch.setenv("RNNVIZ_CONFIG_DIR", str(tmp_path / "config"))


def test_the_panel_sets_each_convention_and_the_view_follows_the_loss_reduction(qtbot, session, controller):
    panel = TrainingPanel(controller)
    qtbot.addWidget(panel)
    mean_loss = session.trace.loss
    assert controller.settings.loss_reduction == "mean" and session.model.loss_reduction == "mean"
    panel.loss_reduction.setCurrentIndex(1)
    assert controller.settings.loss_reduction == "sum" and session.model.loss_reduction == "sum"
    # the trace the views show now sums its per-step losses
    assert session.trace.loss == pytest.approx(session.trace.loss_t[session.trace.target_mask].sum(), rel=1e-13)
    assert session.trace.loss == pytest.approx(mean_loss * session.trace.target_mask.sum(), rel=1e-12)
    panel.clip_on.setChecked(True)
    panel.clip_mode.setCurrentIndex(1)
    panel.stateful.setChecked(True)
    panel.optimizer.setCurrentText("adagrad")
    assert panel.adagrad_eps.isEnabled()
    panel.adagrad_eps.setCurrentIndex(1)
    assert {k: getattr(controller.settings, k) for k in CONVENTIONS} == KARPATHY
    controller.step()
    controller.step()
    t = controller.trainer
    assert (t.model.loss_reduction, t.clip_mode, t.stateful, t.adagrad_eps) == ("sum", "value", True, "inside")
    assert t.optimizer.eps_placement == "inside" and "h" in t.carried
    # changed between iterations: the trainer follows
    panel.loss_reduction.setCurrentIndex(0)
    panel.stateful.setChecked(False)
    assert t.model.loss_reduction == "mean" and session.model.loss_reduction == "mean" and t.carried == {}
    # and the settings show in the panel when set from elsewhere
    controller.set_settings(TrainingSettings(**KARPATHY))
    assert (panel.loss_reduction.currentIndex(), panel.clip_mode.currentIndex(), panel.stateful.isChecked(),
            panel.adagrad_eps.currentIndex()) == (1, 1, True, 1)


def test_the_controller_trains_as_the_engine_trainer_with_the_same_conventions(session, controller):
    controller.set_settings(TrainingSettings(optimizer="adagrad", lr=0.05, clip=0.1, batch_size=4, **KARPATHY))
    x, y = session.data
    ref_model = session.model.copy()
    ref = Trainer(ref_model, x, y, optimizer="adagrad", lr=0.05, clip=0.1, batch_size=4, seed=session.config.seed,
                  **KARPATHY)
    for _ in range(5):
        controller.step()
        assert controller.loss == ref.step().loss
    for name, p in ref_model.params().items():
        np.testing.assert_array_equal(controller.trainer.model.params()[name], p)


def test_a_session_keeps_the_conventions_and_the_carried_state(tmp_path, session, controller):
    controller.set_settings(TrainingSettings(optimizer="adagrad", lr=0.05, clip=0.1, batch_size=4, **KARPATHY))
    for _ in range(6):
        controller.step()
    path = tmp_path / "k.rnnviz"
    session_snapshot.save(path, session, controller)
    shown = session.trace.loss  # the view's loss, summed over the steps
    reference = []
    for _ in range(4):
        controller.step()
        reference.append(controller.loss)
    other = Session(NetworkConfig(task="hello"))
    other_c = TrainingController(other)
    try:
        session_snapshot.restore(path, other, other_c)
        assert other_c.settings == controller.settings
        assert other.model.loss_reduction == "sum" and other.trace.loss == shown
        assert "h" in other_c.trainer.carried
        resumed = []
        for _ in range(4):
            other_c.step()
            resumed.append(other_c.loss)
        assert resumed == reference  # exact: the carried state came back too
    finally:
        other_c.shutdown()
        other.shutdown()


def test_a_session_file_from_before_the_conventions_opens_with_pytorchs(tmp_path, session, controller):
    controller.set_settings(TrainingSettings(batch_size=4, **KARPATHY))
    for _ in range(3):
        controller.step()
    path = tmp_path / "k.rnnviz"
    session_snapshot.save(path, session, controller)
    f = session_file.read_session(path)
    doc, arrays = f.doc, dict(f.arrays)
    for key in CONVENTIONS:  # as an older rnnviz wrote it
        del doc["training"]["settings"][key]
        del doc["training"]["trainer"][key]
    arrays = {k: v for k, v in arrays.items() if not k.startswith("trainer.carried.")}
    old = tmp_path / "old.rnnviz"
    session_file.write_session(old, doc, arrays)
    other = Session(NetworkConfig(task="hello"))
    other_c = TrainingController(other)
    try:
        session_snapshot.restore(old, other, other_c)
        assert {k: getattr(other_c.settings, k) for k in CONVENTIONS} == {k: getattr(TrainingSettings(), k)
                                                                          for k in CONVENTIONS}
        t = other_c.trainer
        assert (t.model.loss_reduction, t.clip_mode, t.stateful, t.adagrad_eps, t.carried) == (
            "mean", "norm", False, "outside", {})
        assert other.model.loss_reduction == "mean"
    finally:
        other_c.shutdown()
        other.shutdown()


@pytest.mark.parametrize("where, key, value, message", [
    ("settings", "clip_mode", "max", "training.settings.clip_mode"),
    ("settings", "stateful", "yes", "training.settings.stateful must be true or false"),
    ("trainer", "loss_reduction", "avg", "training.trainer.loss_reduction"),
])
def test_a_bad_convention_in_a_session_file_is_refused_and_the_session_stays(tmp_path, session, controller,
                                                                             where, key, value, message):
    controller.set_batch_size(4)
    controller.step()
    path = tmp_path / "k.rnnviz"
    session_snapshot.save(path, session, controller)
    f = session_file.read_session(path)
    f.doc["training"][where][key] = value
    bad = tmp_path / "bad.rnnviz"
    session_file.write_session(bad, f.doc, dict(f.arrays))
    other = Session(NetworkConfig(task="hello"))
    other_c = TrainingController(other)
    try:
        before = (other.model.params()["W_hh"].copy(), other_c.settings)
        with pytest.raises(Exception, match=message):
            session_snapshot.restore(bad, other, other_c)
        np.testing.assert_array_equal(other.model.params()["W_hh"], before[0])
        assert other_c.settings == before[1]
    finally:
        other_c.shutdown()
        other.shutdown()


def test_a_stateful_run_shows_the_carried_h0_in_the_view_and_the_inspector(session, controller):
    """Full batch, stateful: after an iteration the watched sequence's trace starts from the
    state the next iteration starts it from (the last batch's h_T of that sequence), is marked
    carried, and the inspector says so; Reset and turning it off give the model's h_0 back."""
    from rnnviz.app.state.playback import frame_at
    from rnnviz.app.state.selection import Selection
    from rnnviz.app.style.theme import LIGHT
    from rnnviz.app.views.inspector.pages import page_for

    def h0_page():
        tr = session.trace
        return page_for(tr, Selection("h", 0), frame_at(0, tr.T), LIGHT).html

    assert not session.trace.h0_carried and "initial hidden state" in h0_page()
    controller.set_stateful(True)
    session.set_watched(2)
    controller.step()
    carried = controller.trainer.carried["h"][2]  # (H,) sequence 2's last h of the batch just trained
    assert session.trace.h0_carried
    np.testing.assert_array_equal(session.trace.h[0, 0], carried)
    assert "carried from the previous sequence" in h0_page()
    controller.step()  # the view's trace is the pass the next iteration makes of that sequence
    np.testing.assert_array_equal(session.trace.h[0, 0], controller.trainer.carried["h"][2])
    controller.reset()
    assert not session.trace.h0_carried
    np.testing.assert_array_equal(session.trace.h[0, 0], session.model.h0)
    controller.set_stateful(False)
    controller.step()
    assert not session.trace.h0_carried and "initial hidden state" in h0_page()
