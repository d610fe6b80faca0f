"""What the person has clicked in the unrolled view: a `Selection` (plain data, no Qt)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Selection:
    """What the user clicked: a vector node or a weight arrow at step t (1-based; 0 = h_0)."""

    kind: str  # "x", "h", "y", "W_xh", "W_hh", "W_hy"
    t: int
    unit: int | None = None

    @property
    def is_weight(self) -> bool:
        return self.kind.startswith("W_")
