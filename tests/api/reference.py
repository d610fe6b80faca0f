"""What the tests of rnnviz.show() and rnnviz.trace() share: a trace held against PyTorch autograd."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

TOL = 1e-9


def first_sequence(ref):
    """The reference model on its first sequence only (B = 1), as a window's trace shows it."""
    x = ref.x[:1] if ref.batch_first else ref.x[:, :1]
    if ref.architecture == "many-to-one":
        y = ref.y[:1]
    else:
        y = ref.y[:1] if ref.batch_first else ref.y[:, :1]
    return replace(ref, x=x, y=y)


def assert_matches_torch(tr, ref) -> None:
    """Hidden states, outputs, loss and every parameter gradient of an rnnviz trace equal
    PyTorch autograd's on the same module and data, to TOL in float64."""
    from tests.torch_models import grads_as_torch, torch_reference

    want = torch_reference(ref)
    assert tr.cell == ref.cell and tr.architecture == ref.architecture and tr.loss_name == ref.loss
    assert tr.h.dtype == np.float64
    np.testing.assert_allclose(tr.h[1:], want["h"], rtol=0, atol=TOL)
    y = tr.y[-1] if ref.architecture == "many-to-one" else tr.y  # many-to-one: the last step's output
    np.testing.assert_allclose(y, want["y"], rtol=0, atol=TOL)
    assert abs(tr.loss - want["loss"]) < TOL
    got = grads_as_torch(tr.grads, ref)
    assert sorted(got) == sorted(want["grads"])
    for key, g in want["grads"].items():
        np.testing.assert_allclose(got[key], g, rtol=0, atol=TOL, err_msg=key)
