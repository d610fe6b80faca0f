"""Sessions (.rnnviz): save and reopen the same picture, carry on training exactly where it
stopped, atomic saves, autosave and recovery, recent files and window layout; and every
malformed file (session, model, trace, inputs, CSV, text) ends in a clear error that names the
file and the problem while the session stays exactly as it was."""
from __future__ import annotations

import copy
import io
import json
import os
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnviz.app.io import session_file
from rnnviz.app.io import session_snapshot, session_store
from rnnviz.app.state.network_config import NetworkConfig
from rnnviz.app.state.selection import Selection
from rnnviz.app.state.session import Session
from rnnviz.app.state.training import TrainingController
from rnnviz.engine import init_rnn, save_model, save_trace, run
from rnnviz.engine.io.npz import FileFormatError, is_temporary
from rnnviz.engine.io.traces import load_trace
from rnnviz.engine.io.importers import import_series


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch):
    """Recovery file and QSettings in this test's own folder: never the person's."""
    monkeypatch.setenv("RNNVIZ_DATA_DIR", str(tmp_path / "appdata"))
    monkeypatch.setenv("RNNVIZ_CONFIG_DIR", str(tmp_path / "config"))


def fingerprint(s: Session) -> tuple:
    x, y = s.data
    return (s.config, s.source, s.source_label, s.watched, s.position, s.selection, s.theme, s.presentation,
            s.speed, s.loop, s.task.title if s.task else None, s.imported is not None,
            tuple((k, v.dtype.str, v.tobytes()) for k, v in s.model.params().items()), s.model.h0.tobytes(),
            s.model.activation, s.model.architecture, s.model.loss, x.tobytes(), x.shape,
            None if y is None else y.tobytes(), repr(s.trace.loss), s.trace.h.tobytes())


def trained(session, controller, steps=5):
    controller.set_batch_size(8)
    for _ in range(steps):
        controller.step()
    session.set_watched(2)
    session.set_position(7)
    session.select(Selection("h", 3, 1))
    session.set_theme("dark")
    return session, controller


# round trip -------------------------------------------------------------------------------------
def test_reopening_restores_the_same_picture(tmp_path, session, controller, qapp):
    trained(session, controller)
    path = tmp_path / "s.rnnviz"
    session_snapshot.save(path, session, controller, {"rolled": True})
    before = fingerprint(session)
    other = Session(NetworkConfig(task="parity", hidden=3))
    other_c = TrainingController(other)
    try:
        view = session_snapshot.restore(path, other, other_c)
        assert view["rolled"] is True
        assert fingerprint(other) == before
        assert other_c.iteration == controller.iteration and other_c.state == "paused"
        assert other_c.settings == controller.settings
        np.testing.assert_array_equal(other_c.snapshot.loss_curve[1], controller.snapshot.loss_curve[1])
    finally:
        other_c.shutdown()
        other.shutdown()


@pytest.mark.parametrize("optimizer,batch", [("adam", 8), ("sgd", 5), ("adagrad", None)])
def test_training_continues_exactly_where_it_stopped(tmp_path, session, controller, qapp, optimizer, batch):
    controller.set_optimizer(optimizer)
    if optimizer == "sgd":
        controller.set_momentum(0.9)
    controller.set_batch_size(batch)
    for _ in range(9):
        controller.step()
    path = tmp_path / "run.rnnviz"
    session_snapshot.save(path, session, controller)
    reference = []
    for _ in range(4):
        controller.step()
        reference.append(controller.loss)
    other = Session(NetworkConfig(task="hello"))
    other_c = TrainingController(other)
    try:
        session_snapshot.restore(path, other, other_c)
        resumed = []
        for _ in range(4):
            other_c.step()
            resumed.append(other_c.loss)
        assert resumed == reference  # exact, float64
        assert other_c.iteration == controller.iteration
    finally:
        other_c.shutdown()
        other.shutdown()


def test_imported_series_round_trip(tmp_path, session, controller):
    csv = tmp_path / "p.csv"
    csv.write_text("t,price\n" + "\n".join(f"{i},{np.sin(i / 4):.5f}" for i in range(300)))
    task, summary = import_series(csv, ["price"], steps=15)
    session.use_task(task, summary)
    controller.step()
    path = tmp_path / "imp.rnnviz"
    session_snapshot.save(path, session, controller)
    controller.step()
    ref = controller.loss
    other = Session()
    other_c = TrainingController(other)
    try:
        session_snapshot.restore(path, other, other_c)
        assert other.task.title == task.title and other.imported is not None
        np.testing.assert_array_equal(other.task.x_val, task.x_val)
        other_c.step()
        assert other_c.loss == ref
    finally:
        other_c.shutdown()
        other.shutdown()


def test_session_of_a_model_file_keeps_its_data(tmp_path, session):
    m = init_rnn(3, 5, 2, seed=4)
    save_model(m, tmp_path / "m.npz")
    session.load_model_file(tmp_path / "m.npz")
    path = tmp_path / "f.rnnviz"
    session_snapshot.save(path, session)
    before = fingerprint(session)
    other = Session()
    try:
        session_snapshot.restore(path, other)
        assert fingerprint(other) == before
    finally:
        other.shutdown()


def test_session_json_is_readable_and_documented_keys(tmp_path, session, controller):
    trained(session, controller, 2)
    path = tmp_path / "s.rnnviz"
    session_snapshot.save(path, session, controller)
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["arrays.npz", "session.json"]
        doc = json.loads(zf.read("session.json"))
    assert doc["format"] == "rnnviz-session" and doc["version"] == 1
    assert set(doc) >= {"config", "source", "model", "data", "training", "view"}
    assert doc["training"]["trainer"]["iteration"] == 2


# atomic saving ------------------------------------------------------------------------------------
def test_save_interrupted_midway_leaves_old_file_byte_identical(tmp_path, session, controller, monkeypatch):
    path = tmp_path / "s.rnnviz"
    session_snapshot.save(path, session, controller)
    old = path.read_bytes()
    controller.step()
    real = zipfile.ZipFile.writestr

    def fail_on_arrays(self, name, data, *a, **k):
        if name == "arrays.npz":
            raise OSError(28, "No space left on device")
        return real(self, name, data, *a, **k)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", fail_on_arrays)
    with pytest.raises(OSError):
        session_snapshot.save(path, session, controller)
    assert path.read_bytes() == old
    assert [p for p in os.listdir(tmp_path) if p.endswith(".rnnviz") or is_temporary(p)] == ["s.rnnviz"]
    # through the store: the person is told, nothing is lost
    store = session_store.SessionStore(session, controller)
    errors = []
    session.error.connect(errors.append)
    assert store.save(path) is False
    assert path.read_bytes() == old and "Could not save" in errors[-1]


def test_save_failing_at_fsync_leaves_old_file(tmp_path, session, monkeypatch):
    path = tmp_path / "s.rnnviz"
    session_snapshot.save(path, session)
    old = path.read_bytes()
    session.set_config(hidden=3)

    def no_space(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError):
        session_snapshot.save(path, session)
    assert path.read_bytes() == old
    assert not [p for p in os.listdir(tmp_path) if is_temporary(p)]


# autosave, recovery, recent files, layout ----------------------------------------------------------
def test_autosave_and_recovery_after_unclean_exit(qtbot, tmp_path, window):
    files = window.files
    window.session.set_config(hidden=5)
    window.session.set_position(4)
    assert not files.store.has_recovery()
    files.store.start_autosave(20)
    qtbot.waitUntil(files.store.has_recovery, timeout=5000)
    files.store.stop_autosave()
    assert str(files.store.recovery_path).startswith(str(tmp_path / "appdata"))
    saved = fingerprint(window.session)
    from rnnviz.app.main_window import MainWindow

    def another_window():
        w = MainWindow(Session(NetworkConfig(task="xor")), allow_fullscreen=False)
        w.error_dialogs = False
        qtbot.addWidget(w)
        return w

    # a second rnnviz started while the first runs: the first's autosave is not an orphan
    w2 = another_window()
    assert w2.files.offer_recovery(ask=lambda text: pytest.fail("offered a running window's autosave")) is False
    assert files.store.has_recovery()
    # "crash": the first app dies (its lock goes, its recovery file stays); the next start offers it
    files.store._lock.unlock()
    w3 = another_window()
    asked = []
    assert w3.files.offer_recovery(ask=lambda text: asked.append(text) or True) is True
    assert asked and "did not close cleanly" in asked[0]
    assert fingerprint(w3.session) == saved
    assert not files.store.recovery_path.exists()  # restored: gone
    assert w2.files.offer_recovery(ask=lambda text: pytest.fail("offered twice")) is False
    for w in (w2, w3):
        w.session.shutdown()


def test_the_single_recovery_file_of_earlier_versions_is_offered_too(qtbot, tmp_path, window):
    from rnnviz.app.io.session_store import OLD_RECOVERY_NAME, data_dir

    store = window.files.store
    assert store.autosave()
    old = data_dir() / OLD_RECOVERY_NAME
    old.write_bytes(store.recovery_path.read_bytes())
    assert window.files.offer_recovery(ask=lambda text: False) is False  # declined: deleted
    assert not old.exists() and store.has_recovery()  # the window's own autosave stays


def test_declining_recovery_discards_it_and_clean_exit_leaves_none(qtbot, window):
    from rnnviz.app.main_window import MainWindow

    store = window.files.store
    assert store.autosave() and store.has_recovery()
    left = store.recovery_path
    store._lock.unlock()  # its app "crashed"
    w2 = MainWindow(Session(NetworkConfig(task="xor")), allow_fullscreen=False)
    w2.error_dialogs = False
    qtbot.addWidget(w2)
    before = fingerprint(w2.session)
    assert w2.files.offer_recovery(ask=lambda text: False) is False
    assert not left.exists() and fingerprint(w2.session) == before
    assert w2.files.store.autosave() and w2.files.store.has_recovery()
    w2.close()  # a clean exit
    assert not w2.files.store.has_recovery()
    assert not list(w2.files.store.recovery_path.parent.glob("*.lock"))
    w2.session.shutdown()


def test_a_recovery_file_that_cannot_be_read_says_so_and_is_not_offered_again(qtbot, window):
    from rnnviz.app.io.session_store import data_dir

    bad = data_dir() / "recovery-1-1.rnnviz"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(b"not a zip file")
    errors = []
    window.session.error.connect(errors.append)
    before = fingerprint(window.session)
    assert window.files.offer_recovery(ask=lambda text: True) is False
    assert errors and "recovery-1-1.rnnviz" in errors[0]
    assert fingerprint(window.session) == before and not bad.exists()
    assert window.files.offer_recovery(ask=lambda text: pytest.fail("offered again")) is False


def test_recent_files_and_open_recent(tmp_path, window):
    files = window.files
    a, b = tmp_path / "a.rnnviz", tmp_path / "b.rnnviz"
    assert files.save_session(a) and files.save_session(b)
    assert files.store.recent()[:2] == [str(b.resolve()), str(a.resolve())]
    assert (tmp_path / "config" / "rnnviz.ini").exists()  # the test's settings, not the person's
    files._fill_recent()
    names = [act.text() for act in files.recent_menu.actions()]
    assert names[:2] == ["b.rnnviz", "a.rnnviz"]
    window.session.set_config(hidden=3)
    files.recent_menu.actions()[1].trigger()  # open a.rnnviz
    assert window.session.config.hidden == 8


def test_window_remembers_its_geometry_and_panels(qtbot, window):
    # the offscreen screen is 800×600 and the window's minimum size is larger, so the panels'
    # state and a height different from the default carry the check (well above the minimum: a
    # window not shown yet, whose docks are stacked under the inspector, can need a few pixels more)
    height = window.minimumSizeHint().height() + 27
    assert height != window.height()
    window.resize(window.width(), height)
    window.inspector_dock.hide()
    window.files.save_layout()
    from rnnviz.app.main_window import MainWindow

    s2 = Session()
    w2 = MainWindow(s2, allow_fullscreen=False)
    qtbot.addWidget(w2)
    assert w2.height() != height and not w2.inspector_dock.isHidden()
    assert w2.files.restore_layout()
    assert w2.height() == height and w2.inspector_dock.isHidden()
    s2.shutdown()


def test_file_menu_has_import_and_session_entries(window):
    texts = [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    for t in ("Import time series…", "Import text…", "Open session…", "Save session", "Save session as…", "Open recent"):
        assert t in texts


def test_import_from_the_window_says_what_it_did(tmp_path, window):
    csv = tmp_path / "p.csv"
    csv.write_text("price\n" + "\n".join(str(12 + np.sin(i)) for i in range(1000)))
    assert window.files.import_series(csv, ["price"], steps=20)
    s = window.session
    assert s.task.name == "series" and s.model.input_size == 1 and s.config.hidden == 8
    assert "39 training + 10 held-out windows of 20 steps" in window.statusBar().currentMessage()
    txt = tmp_path / "t.txt"
    txt.write_text("abracadabra " * 40)
    assert window.files.import_text(txt, steps=10)
    assert s.task.name == "text" and s.model.output_size == len(set("abracadabra "))
    s.set_config(hidden=4)  # a new network on the same imported data
    assert s.task.name == "text" and s.model.hidden_size == 4


def test_pytorch_mapping_report_reaches_the_message(tmp_path, session):
    import torch

    net = torch.nn.RNN(2, 3)
    fc = torch.nn.Linear(3, 1)
    sd = {f"rnn.{k}": v.detach().numpy() for k, v in net.state_dict().items()}
    sd.update({f"fc.{k}": v.detach().numpy() for k, v in fc.state_dict().items()})
    np.savez(tmp_path / "torch.npz", **sd)
    messages = []
    session.message.connect(messages.append)
    session.load_model_file(tmp_path / "torch.npz")
    assert "W_xh (2, 3) ← rnn.weight_ih_l0ᵀ" in messages[-1] and "b_h (3,) ← rnn.bias_ih_l0 + rnn.bias_hh_l0" in messages[-1]
    assert session.last_model_report[0].startswith("W_xh")


# the malformed corpus --------------------------------------------------------------------------------
def parts(session, controller):
    trained(session, controller, 3)
    doc, arrays = session_snapshot.capture(session, controller, {"rolled": False})
    return {**doc, "format": "rnnviz-session", "version": 1}, arrays


def npz_bytes(arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def session_bytes(doc, arrays, json_text=None) -> bytes:
    return zip_bytes({"session.json": (json_text if json_text is not None else json.dumps(doc)).encode(),
                      "arrays.npz": npz_bytes(arrays)})


def huge_npy():
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (40000, 40000), }"
    header = header + " " * (63 - (len(header) + 10) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + b"\0" * 64


def obj_npy():
    buf = io.BytesIO()
    np.save(buf, np.array([object()], dtype=object), allow_pickle=True)
    return buf.getvalue()


def _set(doc, path, value):
    d = copy.deepcopy(doc)
    *head, last = path
    target = d
    for k in head:
        target = target[k]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return d


def _arr(arrays, key, value):
    a = dict(arrays)
    if value is KeyError:
        del a[key]
    else:
        a[key] = value
    return a


def _members(doc, arrays, replace: dict) -> bytes:
    members = {"session.json": json.dumps(doc).encode(), "arrays.npz": npz_bytes(arrays)}
    for k, v in replace.items():
        if v is None:
            members.pop(k)
        else:
            members[k] = v
    return zip_bytes(members)


SESSION_CASES = {
    "empty": (lambda d, a: b"", "empty"),
    "text_file": (lambda d, a: b"just some words, not a session\n", "not a zip"),
    "truncated_zip": (lambda d, a: session_bytes(d, a)[: len(session_bytes(d, a)) // 2], "not a zip|damaged"),
    "corrupt_zip": (lambda d, a: _corrupt(session_bytes(d, a)), "damaged|not valid JSON|arrays.npz"),
    "model_npz_instead": (lambda d, a: npz_bytes({"W_xh": np.zeros((1, 2))}), "missing session.json"),
    "no_json": (lambda d, a: _members(d, a, {"session.json": None}), "missing session.json"),
    "no_arrays": (lambda d, a: _members(d, a, {"arrays.npz": None}), "missing arrays.npz"),
    "extra_member": (lambda d, a: _members(d, a, {"evil.py": b"print(1)"}), "unexpected members"),
    "json_garbage": (lambda d, a: session_bytes(d, a, json_text="{not json"), "not valid JSON"),
    "json_nan": (lambda d, a: session_bytes(d, a, json_text=json.dumps(d).replace('"lr": 0.01', '"lr": NaN', 1)), "not valid JSON"),
    "json_list": (lambda d, a: session_bytes(d, a, json_text="[1, 2]"), "must be an object"),
    "json_binary": (lambda d, a: _members(d, a, {"session.json": b"\xff\xfe\x00garbage"}), "not valid JSON"),
    "wrong_format": (lambda d, a: session_bytes(_set(d, ["format"], "something-else"), a), "'format'"),
    "future_version": (lambda d, a: session_bytes(_set(d, ["version"], 99), a), "newer rnnviz"),
    "version_text": (lambda d, a: session_bytes(_set(d, ["version"], "1"), a), "'version'"),
    "missing_config": (lambda d, a: session_bytes(_set(d, ["config"], KeyError), a), "lacks 'config'"),
    "hidden_text": (lambda d, a: session_bytes(_set(d, ["config", "hidden"], "8"), a), "config.hidden must be a whole number"),
    "hidden_negative": (lambda d, a: session_bytes(_set(d, ["config", "hidden"], -3), a), "config.hidden is -3"),
    "hidden_bool": (lambda d, a: session_bytes(_set(d, ["config", "hidden"], True), a), "config.hidden"),
    "unknown_config_key": (lambda d, a: session_bytes(_set(d, ["config", "colour"], 1), a), "unknown key 'colour'"),
    "unknown_task": (lambda d, a: session_bytes(_set(d, ["config", "task"], "stocks"), a), "config.task is 'stocks'"),
    "unknown_activation": (lambda d, a: session_bytes(_set(d, ["model", "activation"], "gelu"), a), "model.activation"),
    "bad_theme": (lambda d, a: session_bytes(_set(d, ["view", "theme"], "neon"), a), "view.theme"),
    "position_text": (lambda d, a: session_bytes(_set(d, ["view", "position"], "7"), a), "view.position"),
    "selection_kind": (lambda d, a: session_bytes(_set(d, ["view", "selection", "kind"], "q"), a), "view.selection.kind"),
    "selection_outside": (lambda d, a: session_bytes(_set(d, ["view", "selection", "unit"], 999), a), "selection"),
    "watched_outside": (lambda d, a: session_bytes(_set(d, ["view", "watched"], 10_000), a), "view.watched"),
    "lr_zero": (lambda d, a: session_bytes(_set(d, ["training", "settings", "lr"], 0), a), "training.settings.lr"),
    "optimizer_unknown": (lambda d, a: session_bytes(_set(d, ["training", "settings", "optimizer"], "lbfgs"), a), "optimizer"),
    "missing_W_hh": (lambda d, a: session_bytes(d, _arr(a, "model.W_hh", KeyError)), "lacks 'model.W_hh'"),
    "W_hh_shape": (lambda d, a: session_bytes(d, _arr(a, "model.W_hh", np.zeros((3, 4)))), "'model.W_hh' has shape (3, 4)"),
    "W_xh_strings": (lambda d, a: session_bytes(d, _arr(a, "model.W_xh", np.array([["a"] * 8]))), "'model.W_xh' has dtype"),
    "W_hy_nan": (lambda d, a: session_bytes(d, _arr(a, "model.W_hy", np.full((8, 1), np.nan))), "NaN or Inf"),
    "b_h_inf": (lambda d, a: session_bytes(d, _arr(a, "model.b_h", np.full(8, np.inf))), "NaN or Inf"),
    "data_wrong_inputs": (lambda d, a: session_bytes(d, _arr(a, "data.x", np.zeros((25, 32, 3)))), "'data.x' has shape"),
    "data_y_shape": (lambda d, a: session_bytes(d, _arr(a, "data.y", np.zeros((25, 31, 1)))), "'data.y' has shape"),
    "unexpected_array": (lambda d, a: session_bytes(d, _arr(a, "model.secret", np.zeros(2))), "unexpected arrays"),
    "object_array": (lambda d, a: _members(d, a, {"arrays.npz": zip_bytes({"model.W_xh.npy": obj_npy()})}), "never unpickles"),
    "huge_header": (lambda d, a: _members(d, a, {"arrays.npz": zip_bytes({"model.W_xh.npy": huge_npy()})}), "too large to be real"),
    "arrays_not_zip": (lambda d, a: _members(d, a, {"arrays.npz": b"hello"}), "arrays.npz"),
    "optim_state_shape": (lambda d, a: session_bytes(d, _arr(a, "trainer.optim.W_hh.0", np.zeros((2, 2)))), "'trainer.optim.W_hh.0' has shape"),
    "rng_garbage": (lambda d, a: session_bytes(_set(d, ["training", "trainer", "rng"], {"bit_generator": "PCG64", "state": {"state": "x", "inc": 1}}), a), "PCG64"),
    "rng_other_generator": (lambda d, a: session_bytes(_set(d, ["training", "trainer", "rng"], {"bit_generator": "os.system"}), a), "PCG64"),
    "history_future": (lambda d, a: session_bytes(d, _arr(a, "trainer.history.loss.iterations", np.array([1, 2, 99]))), "history 'loss'"),
    "pos_past_order": (lambda d, a: session_bytes(_set(d, ["training", "trainer", "pos"], 10_000), a), "pos"),
    "json_bomb": (lambda d, a: _members(d, a, {"session.json": b" " * (session_file.MAX_JSON_BYTES + 1)}), "would inflate"),
    "arrays_bomb": (lambda d, a: _bzip_bomb(), "zip bomb"),
    "model_wrong_architecture": (lambda d, a: session_bytes(_set(d, ["model", "architecture"], "many-to-one"), a), "does not fit its task"),
}


def _corrupt(data: bytes) -> bytes:
    b = bytearray(data)
    mid = len(b) // 3
    b[mid : mid + 64] = bytes(64)
    return bytes(b)


def _bzip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_BZIP2) as zf:
        zf.writestr("session.json", b"{}")
        zf.writestr("arrays.npz", bytes(session_file.BOMB_BYTES + 1_000_000))
    return buf.getvalue()


@pytest.mark.parametrize("case", list(SESSION_CASES))
def test_malformed_session_file_is_refused_and_session_unchanged(tmp_path, session, controller, case):
    make, problem = SESSION_CASES[case]
    doc, arrays = parts(session, controller)
    path = tmp_path / f"{case}.rnnviz"
    path.write_bytes(make(doc, arrays))
    before = fingerprint(session)
    iteration = controller.iteration
    with pytest.raises(FileFormatError) as e:
        session_snapshot.restore(path, session, controller)
    assert str(path) in str(e.value)
    assert any(p in str(e.value) for p in problem.split("|")), str(e.value)
    assert fingerprint(session) == before and controller.iteration == iteration
    # and through the store: the person is told, nothing changes
    errors = []
    session.error.connect(errors.append)
    assert session_store.SessionStore(session, controller).open(path) is False
    assert errors and str(path) in errors[-1] and fingerprint(session) == before


def test_session_corpus_is_large_enough():
    assert len(SESSION_CASES) + len(MODEL_CASES) + len(TRACE_CASES) + len(INPUT_CASES) >= 40


# model, trace and inputs files through the session ---------------------------------------------------
def model_npz(**change):
    m = init_rnn(1, 4, 1, seed=1)
    arrays = {**m.params(), "h0": m.h0, "meta": np.array(json.dumps(m.meta()))}
    for k, v in change.items():
        if v is None:
            arrays.pop(k)
        else:
            arrays[k] = v
    return npz_bytes(arrays)


MODEL_CASES = {
    "empty.npz": (b"", "empty"),
    "text.npz": (b"W_xh = [[1, 2]]", "not an .npz archive"),
    "truncated.npz": (model_npz()[:200], "not an .npz archive|damaged"),
    "missing_W_hh.npz": (model_npz(W_hh=None), "missing array W_hh"),
    "W_hh_shape.npz": (model_npz(W_hh=np.zeros((4, 5))), "'W_hh' has shape (4, 5)"),
    "W_xh_text.npz": (model_npz(W_xh=np.array([["a", "b", "c", "d"]])), "expected real numbers"),
    "nan.npz": (model_npz(b_h=np.array([0, np.nan, 0, 0])), "non-finite"),
    "meta_garbage.npz": (model_npz(meta=np.array("{oops")), "not valid JSON"),
    "object.npz": (zip_bytes({"W_xh.npy": obj_npy()}), "never unpickles"),
    "huge.npz": (zip_bytes({"W_xh.npy": huge_npy()}), "too large to be real"),
    "garbage.pt": (b"\x80\x04not a torch file", "not a readable PyTorch state dict|is not a PyTorch .pt file"),
}


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")  # torch's restricted loader on garbage.pt
@pytest.mark.parametrize("name", list(MODEL_CASES))
def test_malformed_model_file_leaves_session_unchanged(tmp_path, session, name):
    content, problem = MODEL_CASES[name]
    path = tmp_path / name
    path.write_bytes(content)
    session.set_position(3)
    before = fingerprint(session)
    errors = []
    session.error.connect(errors.append)
    session.load_model_file(path)
    assert fingerprint(session) == before
    assert errors and str(path) in errors[-1] and any(p in errors[-1] for p in problem.split("|")), errors


INPUT_CASES = {
    "empty.npy": (b"", "empty"),
    "strings.npy": (None, "real numbers"),
    "nan.npy": (None, "non-finite"),
    "wrong_features.npy": (None, "input"),
    "object.npy": (obj_npy(), "never unpickles"),
    "huge.npy": (huge_npy(), "too large to be real"),
}


def _npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


@pytest.mark.parametrize("name", list(INPUT_CASES))
def test_malformed_inputs_file_leaves_session_unchanged(tmp_path, session, name):
    content, problem = INPUT_CASES[name]
    content = {"strings.npy": _npy(np.array(["a", "b"])), "nan.npy": _npy(np.full((5, 1), np.nan)),
               "wrong_features.npy": _npy(np.zeros((5, 3)))}.get(name, content)
    path = tmp_path / name
    path.write_bytes(content)
    before = fingerprint(session)
    errors = []
    session.error.connect(errors.append)
    session.load_inputs_file(path)
    assert fingerprint(session) == before
    assert errors and str(path) in errors[-1] and problem in errors[-1], errors


def _trace_arrays():
    m = init_rnn(1, 3, 1)
    tr = run(m, np.zeros((4, 1, 1)), np.zeros((4, 1, 1)))
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        save_trace(tr, os.path.join(d, "t.npz"))
        with np.load(os.path.join(d, "t.npz")) as z:
            return {k: z[k] for k in z.files}


TRACE_CASES = {
    "empty": lambda a: b"",
    "missing_h": lambda a: npz_bytes({k: v for k, v in a.items() if k != "h"}),
    "h_shape": lambda a: npz_bytes({**a, "h": np.zeros((2, 1, 3))}),
    "nan_a": lambda a: npz_bytes({**a, "a": np.full(a["a"].shape, np.nan)}),
    "object_x": lambda a: zip_bytes({"x.npy": obj_npy()}),
    "truncated": lambda a: npz_bytes(a)[:300],
}


@pytest.mark.parametrize("case", list(TRACE_CASES))
def test_malformed_trace_file_names_file_and_problem(tmp_path, case):
    path = tmp_path / f"{case}.npz"
    path.write_bytes(TRACE_CASES[case](_trace_arrays()))
    with pytest.raises(FileFormatError) as e:
        load_trace(path)
    assert str(path) in str(e.value) and len(e.value.problem) > 5


@pytest.mark.parametrize("content,problem", [
    (b"price\n1\n2\nabc\n" + b"4\n" * 50, "row 4, column 'price': 'abc' is not a number"),
    (b"", "empty"),
    (b"\x00\x01binary", "binary"),
])
def test_bad_csv_import_in_the_window_leaves_session_unchanged(tmp_path, window, content, problem):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    before = fingerprint(window.session)
    assert window.files.import_series(path, steps=5) is False
    assert fingerprint(window.session) == before
    assert str(path) in window.last_error and problem in window.last_error


def test_bad_text_import_in_the_window_leaves_session_unchanged(tmp_path, window):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"")
    before = fingerprint(window.session)
    assert window.files.import_text(path) is False
    assert fingerprint(window.session) == before and "empty" in window.last_error


# fuzzing the session loader ----------------------------------------------------------------------------
FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def valid_session_parts(qapp):
    s = Session()
    c = TrainingController(s)
    try:
        yield parts(s, c)
    finally:
        c.shutdown()
        s.shutdown()


@FUZZ
@given(data=st.binary(max_size=600))
def test_fuzz_session_random_bytes(tmp_path, data):
    p = tmp_path / "r.rnnviz"
    p.write_bytes(data)
    try:
        session_file.read_session(p)
    except FileFormatError:
        pass


@FUZZ
@given(data=st.data())
def test_fuzz_session_mutated_bytes(tmp_path, valid_session_parts, data):
    doc, arrays = valid_session_parts
    b = bytearray(session_bytes(doc, arrays))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(b) - 1))
        b[i] = data.draw(st.integers(0, 255))
    p = tmp_path / "m.rnnviz"
    p.write_bytes(bytes(b))
    s = Session()
    try:
        session_snapshot.restore(p, s)
    except FileFormatError:
        pass
    finally:
        s.shutdown()


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False)
                           | st.text(max_size=8), lambda ch: st.lists(ch, max_size=3) | st.dictionaries(st.text(max_size=5), ch, max_size=3),
                           max_leaves=6)


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))


@FUZZ
@given(data=st.data())
def test_fuzz_session_mutated_json_and_arrays(tmp_path, valid_session_parts, data):
    doc, arrays = valid_session_parts
    doc = copy.deepcopy(doc)
    arrays = dict(arrays)
    paths = [p for p in _paths(doc) if p]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        doc = _set(doc, path, data.draw(JSON_VALUES))
        paths = [p for p in _paths(doc) if p]
    if data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(arrays)))
        shape = data.draw(st.lists(st.integers(0, 4), max_size=3))
        dtype = data.draw(st.sampled_from(["f8", "f4", "i8", "u1", "?", "U2", "c16"]))
        arrays[key] = np.zeros(shape, dtype=dtype)
    p = tmp_path / "j.rnnviz"
    p.write_bytes(session_bytes(doc, arrays))
    s = Session()
    c = TrainingController(s)
    before = fingerprint(s)
    try:
        session_snapshot.restore(p, s, c)
    except FileFormatError:
        assert fingerprint(s) == before
    finally:
        c.shutdown()
        s.shutdown()


def test_window_sessions_include_the_training_run(tmp_path, window):
    controller = window.training  # the run the composition root hands the file actions
    window.discard_answer = lambda text: True  # the window asks before a new network discards the run
    for _ in range(3):
        controller.step()
    path = tmp_path / "w.rnnviz"
    assert window.files.save_session(path)
    controller.step()
    ref = controller.loss
    window.session.set_config(hidden=3)  # discards the run
    assert controller.iteration == 0
    assert window.files.open_session(path)
    assert controller.iteration == 3
    controller.step()
    assert controller.loss == ref


def test_import_time_series_menu_entry_with_its_dialog(tmp_path, window, monkeypatch):
    from PySide6.QtWidgets import QDialog, QFileDialog

    from rnnviz.app.io import file_actions

    csv = tmp_path / "two.csv"
    csv.write_text("date,a,b\n" + "\n".join(f"d{i},{np.sin(i)},{np.cos(i)}" for i in range(120)))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(csv), "")))
    seen = {}

    def accept(dialog):
        seen["columns"] = dialog.columns_edit.text()
        dialog.columns_edit.setText("a, 3")  # a name and a 1-based number
        dialog.steps_spin.setValue(10)
        return QDialog.Accepted

    monkeypatch.setattr(file_actions.ImportDialog, "exec", accept)
    window.files.import_series_action.trigger()
    s = window.session
    assert seen["columns"] == "a, b"  # the numeric columns are proposed
    assert s.task.name == "series" and s.task.x_train.shape[0] == 10 and s.model.input_size == 2
    assert s.task.params["columns"] == ["a", "b"]


def test_imported_session_with_bad_task_defaults_is_refused(tmp_path, session, controller):
    csv = tmp_path / "p.csv"
    csv.write_text("\n".join(str(np.sin(i / 3)) for i in range(200)))
    session.use_task(*import_series(csv, steps=10))
    doc, arrays = session_snapshot.capture(session, controller)
    doc = {**doc, "format": "rnnviz-session", "version": 1}
    before = fingerprint(session)
    for path_, value, problem in ((["task", "defaults", "lr"], "fast", "task.defaults.lr"),
                                  (["task", "defaults", "exec"], 1, "unknown key 'exec'"),
                                  (["task", "name"], "sine", "task.name"),
                                  (["source", "imported"], False, "'task' is set")):
        p = tmp_path / "bad.rnnviz"
        p.write_bytes(session_bytes(_set(doc, path_, value), arrays))
        with pytest.raises(FileFormatError, match=problem):
            session_snapshot.restore(p, session, controller)
        assert fingerprint(session) == before


def test_autosave_while_training_runs_keeps_it_running(qtbot, tmp_path, window):
    controller = window.training
    try:
        controller.set_budget(None)
        controller.train()
        qtbot.waitUntil(lambda: controller.iteration > 3, timeout=20_000)
        assert window.files.store.autosave()
        assert controller.running
        doc = session_file.read_session(window.files.store.recovery_path).doc
        assert doc["training"]["trainer"]["iteration"] > 3
    finally:
        controller.shutdown()
