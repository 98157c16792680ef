"""Transport rules the editor's keys follow, without Qt: the J/K/L shuttle speeds and marker stepping."""
from __future__ import annotations

from collections.abc import Iterable

SHUTTLE_SPEEDS = (1, 2, 4, 8)      # each further press of J or L goes one step up, then stays at the top


def next_shuttle_rate(current: int, direction: int) -> int:
    """The playback rate after J (direction -1) or L (+1) while playing at `current` (0: stopped).

    The same way again is one speed faster (1, 2, 4, 8x; 8x stays 8x); the other way, or from a
    stop, starts at 1x that way. Direction 0 (K) stops: 0.
    """
    if direction == 0:
        return 0
    sign = 1 if direction > 0 else -1
    speed = abs(int(current))
    if current * sign <= 0 or speed not in SHUTTLE_SPEEDS:
        return sign * SHUTTLE_SPEEDS[0]
    step = min(SHUTTLE_SPEEDS.index(speed) + 1, len(SHUTTLE_SPEEDS) - 1)
    return sign * SHUTTLE_SPEEDS[step]


def next_marker_time(times: Iterable[int], position: int, direction: int) -> int | None:
    """The first marker time after `position` (direction +1) or before it (-1); None when there is none.

    A marker exactly at `position` is the one the playhead is on, so it is skipped either way.
    """
    if direction > 0:
        later = [t for t in times if t > position]
        return min(later) if later else None
    earlier = [t for t in times if t < position]
    return max(earlier) if earlier else None


__all__ = ["SHUTTLE_SPEEDS", "next_marker_time", "next_shuttle_rate"]
