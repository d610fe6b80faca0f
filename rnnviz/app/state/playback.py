"""The playback timeline as pure functions, so it can be tested without a timer.

One timeline covers both passes of a sequence of T steps, 2T+1 positions:
  position 0        forward, nothing computed yet but h_0 (and the inputs)
  position k ≤ T    forward, steps 1..k computed, step k active
  position T+k      backward, dL/dh computed for steps T..T−k+1, step T−k+1 active (k = 1..T)
"""
from __future__ import annotations

from dataclasses import dataclass

SPEEDS = (0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 20.0, 30.0)  # steps per second
DEFAULT_SPEED = 3.0


@dataclass(frozen=True)
class Frame:
    mode: str  # "forward" or "backward"
    active: int  # 1-based active time step (0 = h_0 only, at the very start)
    forward_done: int  # steps 1..forward_done have their forward values
    backward_from: int  # steps backward_from..T have their gradients (T+1 = none yet)


def frame_count(T: int) -> int:
    return 2 * T + 1


def frame_at(position: int, T: int) -> Frame:
    position = clamp(position, T)
    if position <= T:
        return Frame("forward", position, position, T + 1)
    k = position - T
    return Frame("backward", T - k + 1, T, T - k + 1)


def position_of(mode: str, step: int, T: int) -> int:
    """The timeline position where `step` (1-based) is the active step of `mode`."""
    step = max(0, min(step, T))
    if mode == "forward":
        return step
    return T + (T - max(step, 1) + 1)


def clamp(position: int, T: int) -> int:
    return max(0, min(int(position), frame_count(T) - 1))


def advance(position: int, T: int, steps: int = 1, loop: bool = False) -> tuple[int, bool]:
    """Move `steps` positions (negative: backwards). Returns (new position, still playing):
    at either end, wraps when looping, else stops there."""
    last = frame_count(T) - 1
    new = position + steps
    if 0 <= new <= last:
        return new, True
    if loop:
        return new % (last + 1), True
    return (last if new > last else 0), False


def faster(speed: float) -> float:
    return next((s for s in SPEEDS if s > speed + 1e-9), SPEEDS[-1])


def slower(speed: float) -> float:
    return next((s for s in reversed(SPEEDS) if s < speed - 1e-9), SPEEDS[0])
