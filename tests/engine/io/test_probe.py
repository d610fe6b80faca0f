"""engine/io/probe.py: what a model file says, the guesses for what it does not, and the models it
builds, against PyTorch autograd in float64 (the four reference models of tests/torch_models.py,
saved with torch.save(model.state_dict()) or as an .npz of it)."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rnnviz.engine import FileFormatError, init_model, run, save_model  # noqa: E402
from rnnviz.engine.io.npz import short_error  # noqa: E402
from rnnviz.engine.io.probe import CLI_OPTIONS, PYTHON_OPTIONS, probe_model, probe_state_dict  # noqa: E402
from tests import torch_models as tm  # noqa: E402
from tests.engine.agreement import close  # noqa: E402

torch.set_num_threads(1)
NO_NONLINEARITY = "a state dict does not record nn.RNN's nonlinearity; tanh is PyTorch's default"


def engine_outputs(trace, ref):
    """The trace's outputs laid out as the reference module returns them."""
    if ref.architecture == "many-to-one":
        return trace.y[-1]  # (B, O): the last step
    return trace.y


@pytest.mark.parametrize("suffix", [".pt", ".npz"])
@pytest.mark.parametrize("make", tm.ALL, ids=lambda f: f.__name__)
def test_reference_model_is_probed_built_and_agrees_with_autograd(tmp_path, make, suffix):
    ref = make()
    path = ref.save(tmp_path, suffix)
    probe = probe_model(path, ref.x, ref.y)
    module_rnn = ref.module.rnn
    assert (probe.cell, probe.input_size, probe.hidden_size, probe.dtype) == \
        (ref.cell, module_rnn.input_size, module_rnn.hidden_size, "float64")
    assert probe.format == f"PyTorch state dict ({suffix})"
    assert probe.architecture.value == ref.architecture and not probe.architecture.recorded
    assert probe.batch_first.value == ref.batch_first
    class_targets = ref.loss != "mse"
    assert probe.loss.value == ("cross-entropy" if class_targets else "mse")
    if class_targets:
        assert "pick nll if the model ends in LogSoftmax" in probe.loss.reason
    if ref.cell == "rnn":
        assert probe.nonlinearity.value == "tanh" and probe.nonlinearity.reason == NO_NONLINEARITY
        assert not probe.nonlinearity.recorded and probe.nonlinearity.choices == ("tanh", "relu")
    else:
        assert probe.nonlinearity is None
    assert [name for name, _ in probe.questions()] == \
        ["architecture", "loss", *(["nonlinearity"] if ref.cell == "rnn" else []), "batch_first"]
    assert [k for k, _ in probe.key_map] == list(ref.state_dict())

    model = probe.build(loss=ref.loss, nonlinearity=ref.nonlinearity)
    x = probe.arrange_inputs(ref.x)
    y = probe.arrange_targets(ref.y, x, loss=ref.loss)
    trace = run(model, x, y)
    want = tm.torch_reference(ref)
    close(trace.h[1:], want["h"], "h")
    close(engine_outputs(trace, ref), want["y"], "outputs")
    assert trace.loss == pytest.approx(want["loss"], rel=1e-9)
    got = tm.grads_as_torch(trace.grads, ref)
    assert set(got) == set(want["grads"])
    for key, g in want["grads"].items():
        close(got[key], g, key)


def test_tutorial_model_with_the_guessed_cross_entropy_has_nll_loss_and_gradients(tmp_path):
    # cross-entropy on logits is LogSoftmax + NLLLoss: the guess gets loss and gradients right,
    # only the outputs shown differ (logits rather than log-probabilities)
    ref = tm.char_rnn()
    probe = probe_model(ref.save(tmp_path), ref.x, ref.y)
    model = probe.build()
    assert (model.loss, model.architecture, model.activation) == ("cross-entropy", "many-to-one", "tanh")
    x = probe.arrange_inputs(ref.x)
    trace = run(model, x, probe.arrange_targets(ref.y, x))
    want = tm.torch_reference(ref)
    assert trace.loss == pytest.approx(want["loss"], rel=1e-9)
    close(tm.grads_as_torch(trace.grads, ref)["rnn.weight_hh_l0"], want["grads"]["rnn.weight_hh_l0"])
    close(trace.y[-1] - np.log(np.exp(trace.y[-1]).sum(axis=1, keepdims=True)), want["y"], "log-softmax of the logits")


def test_key_map_says_what_each_key_becomes(tmp_path):
    ref = tm.char_rnn()
    probe = probe_model(ref.save(tmp_path), ref.x, ref.y)
    assert probe.key_map[0] == ("rnn.weight_ih_l0", "W_xh (58, 128) = transposed")
    assert dict(probe.key_map)["rnn.bias_ih_l0"] == "b_h (128,) = summed with rnn.bias_hh_l0"
    assert dict(probe.key_map)["h2o.weight"] == "W_hy (128, 4) = transposed"
    gru = tm.gru_classifier()
    rows = dict(probe_model(gru.save(tmp_path)).key_map)
    assert "kept apart as b_xn" in rows["rnn.bias_ih_l0"] and "kept apart as b_hn" in rows["rnn.bias_hh_l0"]


def test_relu_is_taken_when_said_and_changes_the_hidden_states(tmp_path):
    ref = tm.relu_regression()
    probe = probe_model(ref.save(tmp_path), ref.x, ref.y)
    x = probe.arrange_inputs(ref.x)
    want = tm.torch_reference(ref)["h"]
    close(run(probe.build(nonlinearity="relu"), x).h[1:], want, "relu")
    assert not np.allclose(run(probe.build(), x).h[1:], want)  # the tanh guess is a different network


def test_without_data_the_guesses_are_the_defaults_with_their_reasons(tmp_path):
    probe = probe_model(tm.lstm_classifier().save(tmp_path))
    assert (probe.architecture.value, probe.loss.value, probe.batch_first.value) == ("many-to-many", "mse", False)
    assert "no targets given" in probe.architecture.reason and "no targets given" in probe.loss.reason
    assert "no inputs given" in probe.batch_first.reason


def test_square_inputs_are_ambiguous_and_read_time_major(tmp_path):
    ref = tm.gru_classifier(T=4, B=4)
    probe = probe_model(ref.save(tmp_path), ref.x, ref.y)
    assert probe.batch_first.value is False and probe.batch_first.reason.startswith("ambiguous: ")
    assert probe.architecture.value == "many-to-many"


def test_rnnviz_model_file_records_what_it_is(tmp_path):
    model = init_model("rnn", 3, 4, 2, activation="relu", architecture="many-to-one", loss="cross-entropy", seed=1)
    save_model(model, tmp_path / "m.npz")
    x = np.random.default_rng(0).normal(size=(6, 5, 3))
    probe = probe_model(tmp_path / "m.npz", x, np.array([0, 1, 1, 0, 1]))
    assert probe.format == "rnnviz model (.npz)"
    assert all(g.recorded for g in (probe.architecture, probe.loss, probe.nonlinearity))
    assert (probe.architecture.value, probe.loss.value, probe.nonlinearity.value) == ("many-to-one", "cross-entropy", "relu")
    assert probe.batch_first.value is False  # the 5 targets fix B = 5
    built = probe.build()
    for name, value in model.params().items():
        np.testing.assert_array_equal(getattr(built, name), value)
    assert probe.build(loss="mse").loss == "mse" and model.loss == "cross-entropy"  # the file's model is left alone


def test_rnnviz_file_without_the_loss_in_its_meta_gets_a_guess(tmp_path):
    model = init_model("rnn", 2, 3, 1, seed=0)
    arrays = {**model.params(), "meta": np.array(json.dumps({"cell": "rnn", "activation": "tanh", "architecture": "many-to-many"}))}
    np.savez(tmp_path / "m.npz", **arrays)
    probe = probe_model(tmp_path / "m.npz")
    assert probe.loss.value == "mse" and not probe.loss.recorded
    assert [n for n, _ in probe.questions()] == ["loss", "batch_first"]


def test_state_dict_from_a_module_records_what_the_caller_passes():
    ref = tm.relu_regression()
    probe = probe_state_dict(ref.state_dict(), source="torch module nn.RNN", nonlinearity="relu", batch_first=True,
                             inputs=ref.x, targets=ref.y)
    assert probe.path is None and probe.format == "torch module nn.RNN"
    assert probe.nonlinearity.recorded and probe.nonlinearity.value == "relu"
    assert probe.batch_first.recorded and probe.batch_first.value is True
    assert [n for n, _ in probe.questions()] == ["architecture", "loss"]
    with pytest.raises(ValueError, match="nonlinearity must be one of tanh, relu"):
        probe_state_dict(ref.state_dict(), source="m", nonlinearity="sigmoid")


# --- shapes that do not fit name the option that would -------------------------------------------
def test_targets_that_do_not_fit_name_the_flag_or_keyword_that_would(tmp_path):
    ref = tm.char_rnn()
    probe = probe_model(ref.save(tmp_path), ref.x, ref.y)
    x = probe.arrange_inputs(ref.x)
    with pytest.raises(ValueError) as e:
        probe.arrange_targets(ref.y, x, architecture="many-to-many")
    assert str(e.value) == ("targets have shape (1,); expected (9, 1) for many-to-many — pass --architecture many-to-one "
                            "if there is one target per sequence")
    with pytest.raises(ValueError, match="pass architecture='many-to-one' if there is one target per sequence"):
        probe.arrange_targets(ref.y, x, architecture="many-to-many", options=PYTHON_OPTIONS)


def test_inputs_read_on_the_wrong_layout_say_so(tmp_path):
    ref = tm.relu_regression()
    probe = probe_model(ref.save(tmp_path), ref.x, ref.y)
    x = probe.arrange_inputs(ref.x, batch_first=False)  # (5, 7, 2) read as T=5, B=7
    with pytest.raises(ValueError) as e:
        probe.arrange_targets(ref.y, x, batch_first=False)
    assert str(e.value) == "targets have shape (5, 1); expected (7, 1) for many-to-one — pass --batch-first if the inputs are (B, T, I)"
    assert CLI_OPTIONS["batch_first"] == "--batch-first"


def test_class_indices_under_mse_suggest_a_class_loss(tmp_path):
    ref = tm.gru_classifier()
    probe = probe_model(ref.save(tmp_path), ref.x, ref.y)
    with pytest.raises(ValueError, match="pass --loss cross-entropy if the targets are class indices"):
        probe.arrange_targets(ref.y, probe.arrange_inputs(ref.x), loss="mse")


@pytest.mark.parametrize("bad, message", [
    (np.full((9, 1, 58), np.nan), r"inputs hold a non-finite value \(nan\) at index \(0, 0, 0\)"),
    (np.full((9, 1, 58), np.inf), r"inputs hold a non-finite value \(inf\)"),
    (np.zeros((9, 1, 57)), r"inputs have 57 features but the model takes 58"),
    (np.zeros((9, 58, 1)), r"the features go in the last axis"),
    (np.zeros(58), r"inputs have shape \(58,\); expected \(T, B, I\) or \(T, I\)"),
    (np.array([["a"]]), r"inputs must be real numbers"),
])
def test_bad_inputs_get_one_clean_message(tmp_path, bad, message):
    ref = tm.char_rnn()
    probe = probe_model(ref.save(tmp_path))
    with pytest.raises(ValueError, match=message):
        probe.arrange_inputs(bad)


def test_bad_targets_get_one_clean_message(tmp_path):
    ref = tm.relu_regression()
    probe = probe_model(ref.save(tmp_path), ref.x, ref.y)
    x = probe.arrange_inputs(ref.x)
    with pytest.raises(ValueError, match=r"targets hold a non-finite value \(nan\) at index \(2, 0\)"):
        probe.arrange_targets(np.where(np.arange(5)[:, None] == 2, np.nan, ref.y), x)
    with pytest.raises(ValueError, match="nll takes integer class indices, but the targets hold fractions"):
        probe.arrange_targets(ref.y, x, loss="nll")
    lstm = tm.lstm_classifier()
    probe = probe_model(lstm.save(tmp_path), lstm.x, lstm.y)
    with pytest.raises(ValueError, match=r"class targets must lie in 0..2, got 7 \(the model has 3 outputs\)"):
        probe.arrange_targets(np.array([0, 7, 1, 1]), probe.arrange_inputs(lstm.x))


# --- files rnnviz refuses ---------------------------------------------------------------------------
def test_two_recurrent_layers_in_one_dict_are_refused(tmp_path):
    sd = {**{f"enc.{k}": v for k, v in tm.lstm_classifier().state_dict().items()},
          **{f"dec.{k}": v for k, v in tm.gru_classifier().state_dict().items()}}
    np.savez(tmp_path / "two.npz", **sd)
    with pytest.raises(FileFormatError, match=r"holds 2 recurrent layers \(enc.rnn.weight_ih_l0, dec.rnn.weight_ih_l0\); "
                                              "rnnviz reads one nn.RNN / nn.LSTM / nn.GRU and one nn.Linear readout"):
        probe_model(tmp_path / "two.npz")


def test_a_recurrent_layer_without_readout_is_refused(tmp_path):
    torch.save(torch.nn.GRU(3, 4).state_dict(), tmp_path / "bare.pt")
    with pytest.raises(FileFormatError, match="has no nn.Linear readout after the recurrent layer"):
        probe_model(tmp_path / "bare.pt")
    with pytest.raises(FileFormatError, match="has 2 candidate readouts"):
        probe_state_dict({**tm.char_rnn().state_dict(), "extra.weight": np.zeros((2, 128))}, source="torch module")


def test_multi_layer_rnn_is_refused(tmp_path):
    torch.save(torch.nn.RNN(3, 4, num_layers=2).state_dict(), tmp_path / "deep.pt")
    with pytest.raises(FileFormatError, match="multi-layer or bidirectional"):
        probe_model(tmp_path / "deep.pt")


def test_whole_pickled_module_gets_one_clean_line(tmp_path):
    ref = tm.char_rnn()
    path = tmp_path / "whole.pt"
    torch.save(ref.module, path)  # the whole module, not its state dict
    with pytest.raises(FileFormatError) as e:
        probe_model(path)
    assert str(e.value) == (f"{path}: holds a pickled nn.Module, which rnnviz will not unpickle (it could run code); "
                            "save model.state_dict() instead")


def test_short_error_strips_ansi_and_keeps_whole_sentences():
    long = ("\x1b[1mWeights only load failed.\x1b[0m This file can still be loaded, to do so you have two options, "
            "do those steps only if you trust the source of the checkpoint. (1) Re-running with weights_only=False. "
            "(2) Alternatively, to load with weights_only=True please check the recommended steps.\nmore")
    text = short_error(RuntimeError(long))
    assert "\x1b" not in text and "\n" not in text
    assert text == "Weights only load failed"  # the next sentence does not fit whole in 160 characters
    assert short_error(ValueError("\x1b[31mbad\x1b[0m thing")) == "bad thing"
    assert short_error(ValueError("x" * 50 + " " + "y" * 200)).endswith(" …")
