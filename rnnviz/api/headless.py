"""rnnviz.trace(): the engine's trace of a caller's network on the caller's data, no window."""
from __future__ import annotations

import sys

from rnnviz.api.network import prepare
from rnnviz.engine import Trace, run


def trace(model: object, inputs: object, targets: object = None, *, readout: object = None,
          architecture: str | None = None, loss: str | None = None, nonlinearity: str | None = None,
          batch_first: bool | None = None, quiet: bool = False) -> Trace:
    """One forward pass and (with targets) BPTT of `model` on `inputs`, every value recorded:
    `h` (T+1, B, H), `y` (T, B, O), `loss`, `grads` ... for all B sequences (see
    rnnviz.engine.Trace). The arguments are rnnviz.show()'s (see rnnviz.api.network.prepare);
    what was found in a torch module and each guess taken are printed on stderr, one line each,
    unless `quiet`. TypeError / ValueError, one line, when the model or the data do not fit."""
    try:
        prepared = prepare(model, inputs, targets, readout=readout, architecture=architecture, loss=loss,
                           nonlinearity=nonlinearity, batch_first=batch_first)
        result = run(prepared.model, prepared.x, prepared.y)
    except (TypeError, ValueError) as e:
        raise e.with_traceback(None) from None  # the message is the whole story: no NumPy frames under it
    if not quiet:
        for line in prepared.report:
            print(f"rnnviz: {line}", file=sys.stderr)
    return result
