"""Numbers from outside checked once: finite, of the right kind, inside a sane range.

Every boundary that takes a number a user can set (a project file, a model config, a media header,
a command-line flag) checks it here, so NaN, infinities and absurd sizes stop at the door with a
message naming the field and the allowed range, before anything is computed or allocated from
them. Each check raises the caller's own error family (`error=ProjectError`, `RequestError`, ...).

Time limits live here too: `MAX_TIMELINE_SECONDS` bounds every timeline position a project or a
flag may name, and `seconds_samples` is the one checked way from user seconds to samples (the plain
`timebase.seconds_to_samples` is for values already checked).
"""
from __future__ import annotations

import math
from typing import Any

from .errors import FoleyError
from .timebase import SAMPLE_RATE, seconds_to_samples

MAX_TIMELINE_SECONDS = 24 * 3600                  # a day: longer than any film or recording session
MAX_TIMELINE_SAMPLES = MAX_TIMELINE_SECONDS * SAMPLE_RATE
MIN_GAIN_DB, MAX_GAIN_DB = -200.0, 60.0           # -200 dB is silence in float32; +60 dB is x1000
MIN_FPS, MAX_FPS = 1.0, 1000.0                    # below 1 fps there is no timecode; above, no camera
MAX_TEXT = 4096                                   # names, labels, paths: characters


def _fail(error: type[Exception], what: str, value: Any, rule: str) -> Exception:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
        shown = f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"   # str() of it is slow
    else:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    return error(f"{what} is {shown}; {rule}")


def _range_text(lo: float | None, hi: float | None, unit: str) -> str:
    if lo is not None and hi is not None:
        return f"from {lo:g} to {hi:g}{unit}"
    if lo is not None:
        return f"at least {lo:g}{unit}"
    if hi is not None:
        return f"at most {hi:g}{unit}"
    return "any size"


def finite_number(value: Any, what: str, *, lo: float | None = None, hi: float | None = None,
                  error: type[Exception] = FoleyError, unit: str = "") -> float:
    """`value` as a float, refusing non-numbers, NaN, infinities and values outside [lo, hi]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(error, what, value, "it must be a number")
    try:
        number = float(value)
    except OverflowError:     # an int too large for a float
        number = math.inf if value > 0 else -math.inf
    if not math.isfinite(number):
        raise _fail(error, what, value, f"it must be a finite number {_range_text(lo, hi, unit)}")
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        raise _fail(error, what, value, f"it must be {_range_text(lo, hi, unit)}")
    return number


def whole_number(value: Any, what: str, *, lo: int | None = None, hi: int | None = None,
                 error: type[Exception] = FoleyError, unit: str = "") -> int:
    """`value` as an int (not a bool, not a float), inside [lo, hi]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(error, what, value, f"it must be a whole number {_range_text(lo, hi, unit)}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise _fail(error, what, value, f"it must be {_range_text(lo, hi, unit)}")
    return value


def parse_number(text: str, what: str, *, lo: float | None = None, hi: float | None = None,
                 error: type[Exception] = FoleyError, unit: str = "") -> float:
    """A number typed by a user ('2.5', '1e3'), checked like `finite_number`."""
    try:
        value = float(str(text).strip())
    except ValueError:
        raise _fail(error, what, text, f"it must be a number {_range_text(lo, hi, unit)}") from None
    return finite_number(value, what, lo=lo, hi=hi, error=error, unit=unit)


def checked_seconds(value: Any, what: str, *, lo: float = 0.0, hi: float = MAX_TIMELINE_SECONDS,
                    error: type[Exception] = FoleyError) -> float:
    """A time in seconds on the timeline (finite, from `lo` to `hi`, by default the timeline's span)."""
    return finite_number(value, what, lo=lo, hi=hi, error=error, unit=" s")


def seconds_samples(value: Any, what: str, *, lo: float = 0.0, hi: float = MAX_TIMELINE_SECONDS,
                    error: type[Exception] = FoleyError) -> int:
    """Seconds from a user, checked, as timeline samples."""
    return seconds_to_samples(checked_seconds(value, what, lo=lo, hi=hi, error=error))


def parse_seconds(text: str, what: str, *, lo: float = 0.0, hi: float = MAX_TIMELINE_SECONDS,
                  error: type[Exception] = FoleyError) -> float:
    """Seconds typed by a user, checked like `checked_seconds`."""
    return parse_number(text, what, lo=lo, hi=hi, error=error, unit=" s")


def checked_text(value: Any, what: str, *, max_length: int = MAX_TEXT, allow_nul: bool = False,
                 error: type[Exception] = FoleyError) -> str:
    """A name or path: text, at most `max_length` characters, without NUL unless allowed."""
    if not isinstance(value, str):
        raise _fail(error, what, value, "it must be text")
    if len(value) > max_length:
        raise error(f"{what} is {len(value):,} characters long; at most {max_length:,} are allowed")
    if not allow_nul and "\x00" in value:
        raise error(f"{what} holds a NUL character (at position {value.index(chr(0))}); the file is damaged")
    return value
