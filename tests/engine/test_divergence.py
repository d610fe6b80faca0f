"""Divergence is caught like a NaN: at lr = 1e6 every optimizer and cell is stopped at its first
update, the built-in tasks at their defaults never are, the weights kept are those before the
update that blew up, and in warn mode one warning is given and training goes on."""
from __future__ import annotations

import numpy as np
import pytest

from rnnviz.cli import main as cli_main
from rnnviz.engine import CELLS, OPTIMIZERS, TASKS, DivergenceError, NonFiniteError, Trainer, init_model, make_task
from rnnviz.engine.guards import DivergenceLimits, check_on_divergence, largest_entries

NO_LIMITS = dict(max_weight=1e300, max_grad=1e300)  # leaves only the loss check


def task_trainer(task_name="sine", cell="rnn", **kwargs) -> Trainer:
    """A trainer as the app and `rnnviz train` build one for a task: its defaults, seed 0."""
    task = make_task(task_name)
    d = task.defaults
    model = init_model(cell, task.input_size, d["hidden"], task.output_size,
                       activation=d["activation"] if cell == "rnn" else "tanh",
                       architecture=task.architecture, loss=task.loss, seed=0)
    settings = dict(optimizer=d["optimizer"], lr=d["lr"], x_val=task.x_val, y_val=task.y_val)
    return Trainer(model, task.x_train, task.y_train, **{**settings, **kwargs})


def params_copy(trainer):
    return {k: v.copy() for k, v in trainer.model.params().items()}


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


# lr = 1e6: caught at the first update ---------------------------------------------------------------
@pytest.mark.parametrize("task_name", ["sine", "hello"])
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_lr_1e6_is_stopped_at_the_first_update_with_the_initial_weights_kept(task_name, cell, optimizer):
    trainer = task_trainer(task_name, cell, optimizer=optimizer, lr=1e6)
    initial = params_copy(trainer)
    with pytest.raises(DivergenceError) as excinfo:
        trainer.step()
    err = excinfo.value
    assert isinstance(err, NonFiniteError)  # whatever catches the NaN failure catches this one
    assert err.iteration == 1 and err.step is None
    assert err.what.startswith(("the weight ", "the bias ")) and err.value > err.limit == 1e3
    name = err.what.split()[2].split("[")[0]
    assert name in initial
    text = str(err)
    assert text.startswith(f"iteration 1: training diverged: {err.what} reached {err.value:.3g}, past the limit of 1000")
    assert "training stopped and the initial weights kept" in text and "lower the learning rate" in text
    # nothing of the bad update stays: weights, optimizer, count, history
    assert_same(params_copy(trainer), initial)
    assert trainer.iteration == 0 and trainer.optimizer.steps == 0 and trainer.optimizer.state == {}
    assert len(trainer.history.loss) == 0 and trainer.history.snapshots.items == []


# the built-in tasks at their defaults: no false alarm ----------------------------------------------
@pytest.mark.parametrize("task_name", sorted(TASKS))
@pytest.mark.parametrize("cell", CELLS)
def test_the_built_in_tasks_at_their_defaults_never_diverge(task_name, cell):
    trainer = task_trainer(task_name, cell)
    first = trainer.step().loss
    for _ in range(299):
        assert trainer.step().warning is None  # stop mode: a false alarm would raise
    # and with room to spare: an order of magnitude below every limit
    limits = trainer.limits
    assert trainer.history.loss.values.max() < limits.loss_limit(first) / 100
    assert largest_entries(trainer.model.params())[1] < limits.max_weight / 100
    assert np.max(trainer.history.grad_norm.values) < limits.max_grad / 1000


# which weights are kept -------------------------------------------------------------------------------
@pytest.mark.parametrize("optimizer, momentum", [("sgd", 0.9), ("adam", 0.0), ("adagrad", 0.0)])
def test_a_weight_past_its_limit_undoes_the_update_that_made_it(optimizer, momentum):
    trainer = task_trainer(optimizer=optimizer, lr=0.01, momentum=momentum)
    reference = task_trainer(optimizer=optimizer, lr=0.01, momentum=momentum)
    for _ in range(3):
        trainer.step()
        reference.step()
    before = params_copy(trainer)
    trainer.set_lr(1e6)
    with pytest.raises(DivergenceError) as excinfo:
        trainer.step()
    assert excinfo.value.iteration == 4 and "the weights of iteration 3 kept" in str(excinfo.value)
    assert_same(params_copy(trainer), before)
    assert trainer.iteration == 3 and list(trainer.history.loss.iterations) == [1, 2, 3]
    # the optimizer's buffers went back too: a lower rate carries on as if the step was never tried
    trainer.set_lr(0.01)
    for _ in range(3):
        a, b = trainer.step(), reference.step()
        assert a.iteration == b.iteration and a.loss == b.loss
    assert_same(params_copy(trainer), params_copy(reference))


def test_a_loss_past_its_limit_undoes_the_update_that_blew_it_up():
    # weights left unbounded: the update at iteration 4 makes them huge but under the limit, and
    # the loss check sees it at iteration 5: the weights kept are those of iteration 3
    trainer = task_trainer(optimizer="sgd", lr=0.01, limits=DivergenceLimits(**NO_LIMITS))
    reference = task_trainer(optimizer="sgd", lr=0.01)
    first = trainer.step().loss
    reference.step()
    for _ in range(2):
        trainer.step()
        reference.step()
    good = params_copy(trainer)
    trainer.set_lr(1e6)
    result = trainer.step()  # iteration 4: the blow-up, its loss still that of the good weights
    assert result.iteration == 4 and result.warning is None
    with pytest.raises(DivergenceError) as excinfo:
        trainer.step()
    err = excinfo.value
    assert err.iteration == 5 and err.what == "the loss" and err.value > 1000 * first == err.limit
    assert str(err).startswith(f"iteration 5: training diverged: the loss reached {err.value:.3g}, "
                               f"over 1000× its starting value {first:.3g}")
    assert "the weights of iteration 3 kept" in str(err)
    assert_same(params_copy(trainer), good)
    assert trainer.iteration == 3 and trainer.optimizer.steps == 3
    assert list(trainer.history.loss.iterations) == [1, 2, 3] and list(trainer.history.grad_norm.iterations) == [1, 2, 3]
    trainer.set_lr(0.01)
    a, b = trainer.step(), reference.step()
    assert a.iteration == b.iteration == 4 and a.loss == b.loss


@pytest.mark.parametrize("which", ["weight", "loss", "gradient"])
def test_a_rollback_winds_the_mini_batch_order_back_too(which):
    """After a divergence is rolled back, training at a sane rate draws the same mini-batches as
    a run that never tried the bad update: the same losses, bit for bit (batches of 5 of 32
    sequences: the order is reshuffled every 6 batches, so the rollback crosses an epoch)."""
    limits = {"weight": None, "loss": DivergenceLimits(**NO_LIMITS), "gradient": DivergenceLimits(max_grad=1.0)}[which]
    trainer = task_trainer(optimizer="adam", lr=0.01, batch_size=5, limits=limits)
    reference = task_trainer(optimizer="adam", lr=0.01, batch_size=5)
    for _ in range(5):
        trainer.step()
        reference.step()
    with pytest.raises(DivergenceError):
        if which == "gradient":
            trainer.set_clip(None)
            trainer.limits = DivergenceLimits(max_grad=1e-12)  # any gradient is past it: no update made
            trainer.step()
        elif which == "loss":
            trainer.set_lr(1e6)
            trainer.step()  # the blow-up; the next step's loss check undoes it too
            trainer.step()
        else:
            trainer.set_lr(1e6)
            trainer.step()
    assert trainer.iteration == 5
    trainer.set_lr(0.01)
    trainer.limits = reference.limits
    for _ in range(8):
        a, b = trainer.step(), reference.step()
        assert a.iteration == b.iteration and a.loss == b.loss
    assert_same(params_copy(trainer), params_copy(reference))


def test_a_gradient_past_its_limit_stops_before_the_update_unless_clipping_bounds_it():
    trainer = task_trainer(optimizer="sgd", lr=0.01, limits=DivergenceLimits(max_grad=1e-3))
    before = params_copy(trainer)
    with pytest.raises(DivergenceError) as excinfo:
        trainer.step()
    err = excinfo.value
    assert err.what.startswith("the gradient of ") and err.value > 1e-3 and err.limit == 1e-3
    grads = run_grads(trainer)
    name = err.what.split()[3].split("[")[0]
    assert err.value == pytest.approx(float(np.abs(grads[name]).max()))
    assert err.value == pytest.approx(max(float(np.abs(g).max()) for g in grads.values()))
    assert_same(params_copy(trainer), before)
    assert trainer.iteration == 0 and len(trainer.history.loss) == 0
    trainer.set_clip(1.0)  # clipping bounds the update: the gradient check is off
    assert trainer.step().iteration == 1


def run_grads(trainer):
    from rnnviz.engine import run

    return {k[5:]: v for k, v in run(trainer.model, trainer.x, trainer.targets).grads.items()}


# warn and go on ---------------------------------------------------------------------------------------
def test_warn_mode_warns_once_and_goes_on():
    trainer = task_trainer(optimizer="adam", lr=1e6, on_divergence="warn")
    initial = params_copy(trainer)
    results = [trainer.step() for _ in range(20)]
    warnings = [r.warning for r in results if r.warning is not None]
    assert len(warnings) == 1 and results[0].warning is warnings[0] and trainer.divergence is warnings[0]
    text = str(warnings[0])
    assert text.startswith("iteration 1: training diverged: ") and "training goes on as asked" in text
    assert trainer.iteration == 20 and len(trainer.history.loss) == 20
    assert largest_entries(trainer.model.params())[1] > 1e6  # nothing rolled back
    assert any(not np.array_equal(v, initial[k]) for k, v in trainer.model.params().items())
    # reset: a new run, a new warning
    trainer.reset()
    assert trainer.divergence is None and trainer.step().warning is not None
    # switching to stop watches again at once: the loss of the weights of iteration 1 is far past
    # its limit, so the update that made them is undone
    trainer.set_on_divergence("stop")
    with pytest.raises(DivergenceError) as excinfo:
        trainer.step()
    assert excinfo.value.what == "the loss" and "the initial weights kept" in str(excinfo.value)
    assert trainer.iteration == 0
    assert_same(params_copy(trainer), initial)


def test_the_run_keeps_its_starting_loss_across_a_saved_state():
    a = task_trainer(optimizer="sgd", lr=0.01, limits=DivergenceLimits(**NO_LIMITS))
    for _ in range(3):
        a.step()
    meta, arrays = a.state_dict()
    b = task_trainer(optimizer="sgd", lr=0.01, limits=DivergenceLimits(**NO_LIMITS))
    b.load_state_dict(meta, arrays)
    errors = []
    for t in (a, b):
        t.set_lr(1e6)
        with pytest.raises(DivergenceError) as excinfo:
            for _ in range(5):
                t.step()
        errors.append(excinfo.value)
    assert str(errors[0]) == str(errors[1]) and errors[0].limit == errors[1].limit


# the limits --------------------------------------------------------------------------------------
def test_limits_grow_with_data_that_is_not_normalised():
    limits = DivergenceLimits()
    x, y = np.ones((4, 2, 1)), np.full((4, 2, 1), 0.5)
    assert limits.for_data(x, y, "mse") is limits
    big = limits.for_data(10 * x, 300 * y, "mse")
    assert big.max_weight == 150 * limits.max_weight and big.max_grad == 10 * 150 * limits.max_grad
    assert limits.for_data(x, np.full((4, 2), 7), "cross-entropy") is limits  # class indices are no scale
    assert limits.loss_limit(0.5) == 500 and limits.loss_limit(1e-9) == 1e3 * limits.loss_floor


@pytest.mark.parametrize("bad", [dict(loss_factor=0), dict(max_weight=-1.0), dict(max_grad=float("nan")),
                                 dict(loss_floor=float("inf"))])
def test_limits_must_be_positive_numbers(bad):
    with pytest.raises(ValueError, match="divergence limit"):
        DivergenceLimits(**bad)


def test_unknown_choice_on_divergence_is_refused():
    with pytest.raises(ValueError, match="stop, warn"):
        check_on_divergence("ignore")
    with pytest.raises(ValueError, match="stop, warn"):
        task_trainer(on_divergence="ignore")


def test_the_command_line_stops_a_diverging_run_with_the_message(capsys):
    status = cli_main(["train", "--task", "sine", "--lr", "1e6", "--optimizer", "sgd", "--iterations", "5"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("rnnviz train: error: iteration 1: training diverged: ") and "initial weights kept" in err


def test_export_history_stops_a_diverging_run_and_writes_nothing(capsys, tmp_path):
    out = tmp_path / "h.csv"
    status = cli_main(["export", "history", "--task", "sine", "--lr", "1e6", "--optimizer", "adam",
                       "--iterations", "5", "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 2 and not out.exists()
    assert "iteration 1: training diverged: " in err and "initial weights kept" in err


def test_export_history_warns_once_and_goes_on_when_asked(capsys, tmp_path):
    out = tmp_path / "h.csv"
    status = cli_main(["export", "history", "--task", "sine", "--lr", "1e6", "--optimizer", "adam",
                       "--iterations", "5", "--on-divergence", "warn", "--out", str(out)])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    warnings = [line for line in captured.err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and warnings[0].startswith("rnnviz export history: warning: iteration 1: ")
    rows = out.read_text().splitlines()
    assert len(rows) == 1 + 5  # a header and every iteration: training went on
