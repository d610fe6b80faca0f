"""rnnviz: see, step by step, what a recurrent neural network computes.

From Python:

    rnnviz.show(model, inputs, targets)    # the app on exactly that network and data
    rnnviz.trace(model, inputs, targets)   # the same, headless: the engine's Trace

Both are loaded on first use (module-level __getattr__), so `import rnnviz` imports neither
torch nor Qt, nor even NumPy; see rnnviz.api.
"""
from __future__ import annotations

from rnnviz.version import __version__

LAZY = ("show", "trace")


def __getattr__(name: str):
    if name == "show":
        from rnnviz.api.show import show

        return show
    if name == "trace":
        from rnnviz.api.headless import trace

        return trace
    raise AttributeError(f"module 'rnnviz' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *LAZY])


__all__ = ["__version__", "show", "trace"]
