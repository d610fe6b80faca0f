"""`rnnviz train` with the conventions of hand-written RNNs: --loss-reduction, --clip-mode,
--stateful, --adagrad-eps reach the trainer (the same run as the engine's Trainer with them)."""
import re

import numpy as np
import pytest

from rnnviz.cli import main
from rnnviz.engine import Trainer, init_rnn, load_model, make_task


def test_convention_flags_give_the_engines_run(tmp_path, capsys):
    out_file = tmp_path / "m.npz"
    code = main(["train", "--task", "sine", "--steps", "10", "--hidden", "5", "--optimizer", "adagrad", "--lr", "0.1",
                 "--clip", "0.05", "--clip-mode", "value", "--loss-reduction", "sum", "--stateful",
                 "--adagrad-eps", "inside", "--batch-size", "4", "--iterations", "5", "--out", str(out_file)])
    out, err = capsys.readouterr()
    assert code == 0, err
    task = make_task("sine", steps=10)
    model = init_rnn(1, 5, 1, activation=task.defaults["activation"], seed=0)
    trainer = Trainer(model, task.x_train, task.y_train, optimizer="adagrad", lr=0.1, clip=0.05, clip_mode="value",
                      loss_reduction="sum", stateful=True, adagrad_eps="inside", batch_size=4, x_val=task.x_val,
                      y_val=task.y_val)
    losses = [trainer.step().loss for _ in range(5)]
    assert float(re.search(r"last loss\s+(\S+)", out).group(1)) == pytest.approx(losses[-1], rel=1e-5)
    got = load_model(out_file)
    for name, p in model.params().items():
        np.testing.assert_allclose(got.params()[name], p, rtol=1e-12, err_msg=name)


@pytest.mark.parametrize("flag, value", [("--clip-mode", "max"), ("--loss-reduction", "avg"), ("--adagrad-eps", "under")])
def test_unknown_convention_values_are_refused_naming_the_choices(capsys, flag, value):
    assert main(["train", "--task", "sine", flag, value]) == 2
    err = capsys.readouterr().err
    assert flag in err and "invalid choice" in err


def test_help_names_the_conventions(capsys):
    assert main(["train", "--help"]) == 0
    out = capsys.readouterr().out
    for flag in ("--clip-mode", "--loss-reduction", "--stateful", "--adagrad-eps", "min-char-rnn"):
        assert flag in out


def test_trace_with_sum_reduction_saves_the_summed_loss_and_gradients(tmp_path, capsys):
    from rnnviz.engine import load_trace, run, save_model

    model = init_rnn(2, 3, 2, seed=4)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 2, 2)), rng.normal(size=(5, 2, 2))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    save_model(model, tmp_path / "m.npz")
    out = {}
    for reduction in ("mean", "sum"):
        out[reduction] = tmp_path / f"{reduction}.npz"
        assert main(["trace", "--model", str(tmp_path / "m.npz"), "--inputs", str(tmp_path / "x.npy"), "--targets",
                     str(tmp_path / "y.npy"), "--loss-reduction", reduction, "--out", str(out[reduction])]) == 0
    mean, total = load_trace(out["mean"]), load_trace(out["sum"])
    assert mean.loss == pytest.approx(run(model, x, y).loss, rel=1e-13)
    assert total.loss == pytest.approx(5 * mean.loss, rel=1e-13)
    np.testing.assert_allclose(total.grads["grad_W_hh"], 5 * mean.grads["grad_W_hh"], rtol=1e-12)
