"""The one place every training setting is checked (engine.optim), used by the engine's Trainer,
the app's TrainingController and the lab alike."""
from __future__ import annotations

import math

import pytest

from rnnviz.engine import Trainer, init_rnn, make_task
from rnnviz.engine.optim import OPTIMIZERS, check_clip, check_lr, check_momentum, check_optimizer, make_optimizer


@pytest.mark.parametrize("bad", [0.0, -1e-3, math.inf, math.nan])
def test_check_lr_names_the_learning_rate(bad):
    with pytest.raises(ValueError, match="learning rate must be a positive number"):
        check_lr(bad)


def test_check_clip_accepts_none_and_positive_numbers():
    assert check_clip(None) is None
    assert check_clip(2) == 2.0 and isinstance(check_clip(2), float)
    for bad in (0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="clipping threshold must be a positive number"):
            check_clip(bad)


def test_check_momentum_is_half_open():
    assert check_momentum(0) == 0.0 and check_momentum(0.9) == 0.9
    for bad in (1.0, -0.1, math.nan):
        with pytest.raises(ValueError, match=r"momentum must lie in \[0, 1\)"):
            check_momentum(bad)


def test_check_optimizer_lists_the_choices():
    assert [check_optimizer(n) for n in OPTIMIZERS] == list(OPTIMIZERS)
    with pytest.raises(ValueError, match="choose one of sgd, adam, adagrad"):
        check_optimizer("rmsprop")
    with pytest.raises(ValueError, match="choose one of"):
        make_optimizer("rmsprop", 0.1)
    with pytest.raises(ValueError, match=r"momentum must lie"):
        make_optimizer("sgd", 0.1, momentum=1.0)


def test_trainer_checks_its_clip_when_built_and_when_changed():
    task = make_task("sine")
    with pytest.raises(ValueError, match="clipping threshold"):
        Trainer(init_rnn(1, 4, 1), task.x_train, task.y_train, clip=-1.0)
    trainer = Trainer(init_rnn(1, 4, 1), task.x_train, task.y_train, clip=1)
    assert trainer.clip == 1.0
    with pytest.raises(ValueError, match="clipping threshold"):
        trainer.set_clip(0.0)
    assert trainer.clip == 1.0
