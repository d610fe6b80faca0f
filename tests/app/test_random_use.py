"""Random use of the real main window while training runs (issue 13): a bounded, seeded run of
the driver in tests/app/random_actions.py must raise no exception and log no Qt warning, and
the window must still work afterwards. The long run, with stalls and memory, is
bench/bench_random_use.py."""
from __future__ import annotations

import pytest

from tests.app.random_actions import RandomUse, Recorder

ACTIONS = 150


@pytest.mark.parametrize("seed", [1, 2])
def test_random_use_raises_nothing_and_warns_nothing(window, qtbot, tmp_path, seed):
    driver = RandomUse(window, seed, tmp_path / "sessions")
    with Recorder() as rec:
        for _ in range(ACTIONS):
            rec.current = driver.next_name()
            driver.run_one(rec.current)
        window.training.pause(wait=True)
        qtbot.wait(20)
    assert rec.exceptions == []
    assert rec.warnings == []
    assert len(driver.done) == ACTIONS
    # the run covered the table's kinds of action, not a few of them over and over
    assert len(set(driver.done)) >= 25
    # and the window still answers: one training step moves the iteration on
    window.session.set_presentation(False)
    before = window.training.iteration
    window.training_panel.step_button.click()
    assert window.training.iteration == before + 1 or window.training.state == "failed"
