"""The one comparison the PyTorch-agreement tests use (vanilla and gated cells alike)."""
import numpy as np
import torch

RTOL = 1e-9


def close(engine_value, torch_value, what=""):
    """Agreement to 1e-9 relative (absolute 1e-9 times the array's scale for entries near 0)."""
    expected = torch_value.detach().numpy() if isinstance(torch_value, torch.Tensor) else np.asarray(torch_value)
    got = np.asarray(engine_value)
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=RTOL * scale, err_msg=what)
