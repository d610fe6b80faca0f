"""The inspector's output page for the loss "nll" (LogSoftmax on the readout)."""
import numpy as np
import pytest

from rnnviz.app.state.playback import frame_at
from rnnviz.app.state.selection import Selection
from rnnviz.app.style.theme import LIGHT
from rnnviz.app.views.inspector.pages import page_for
from rnnviz.engine import init_model, run

I, H, O = 5, 4, 3


def test_inspector_shows_nll_outputs_as_log_softmax_of_the_readout():
    """The output page of an nll trace: z = h·W_hy + b_y, then y = log_softmax(z), p = exp(y)."""
    rng = np.random.default_rng(1)
    model = init_model("rnn", I, H, O, loss="nll", seed=3)
    tr = run(model, rng.normal(size=(4, 1, I)), rng.integers(0, O, size=(4, 1)))
    page = page_for(tr, Selection("y", 2), frame_at(2 * tr.T + 2, tr.T), LIGHT)
    z = tr.h[2, 0] @ model.W_hy + model.b_y  # (O,) the readout's linear output at step 2
    for k in range(O):
        assert page.numbers[f"z[{k}]"] == pytest.approx(z[k], rel=1e-14)
        assert page.numbers[f"y[{k}]"] == tr.y[1, 0, k]
        assert page.numbers[f"p[{k}]"] == tr.probs[1, 0, k]
    assert "log_softmax" in page.html and "log-probabilities" in page.html
