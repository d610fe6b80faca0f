"""Palettes and sizes for the light, dark and high-contrast themes, and presentation mode."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Theme:
    name: str
    background: str  # view background
    panel: str  # node frames, panels
    text: str
    muted: str  # secondary text, inactive arrows
    arrow: str  # weight arrows
    highlight: str  # the active step, selection
    shared: str  # every copy of a hovered/selected weight
    forward: str  # forward-pass accent
    backward: str  # backward-pass accent (gradients)
    grid: str


LIGHT = Theme("light", "#ffffff", "#f4f5f7", "#1d2125", "#6b7380", "#5b6470", "#e8a400", "#7b2cbf",
              "#1f6fb5", "#c2410c", "#e3e6ea")
DARK = Theme("dark", "#1b1e23", "#262a31", "#e8eaed", "#9aa3ad", "#aab3bd", "#ffc53d", "#c77dff",
             "#6cb4ff", "#ff8a4c", "#353a42")
CONTRAST = Theme("contrast", "#000000", "#111111", "#ffffff", "#d0d0d0", "#ffffff", "#ffd400", "#ff5cf0",
                 "#5cc8ff", "#ff9a3c", "#444444")
THEMES = {t.name: t for t in (LIGHT, DARK, CONTRAST)}


def theme_for(name: str, presentation: bool = False) -> Theme:
    """Presentation mode always uses the high-contrast theme, whatever the chosen one."""
    return CONTRAST if presentation else THEMES[name]


def font_scale(presentation: bool) -> float:
    """How much larger text and strokes are in presentation mode (readable at the back of a room)."""
    return 1.8 if presentation else 1.0
