"""argparse types for numbers on the command line: checked where they are typed, with the flag's name.

`--at nan`, `--gain-db 1e6` or `--tracks 1000000000` end as a usage error (exit 2) naming the flag and
the allowed range, before any file is opened; the checks themselves are `core.values`'.
"""
from __future__ import annotations

import argparse
from collections.abc import Callable

from foley_studio.core import values


def seconds(flag: str, *, lo: float = 0.0, hi: float = values.MAX_TIMELINE_SECONDS) -> Callable[[str], float]:
    """A time in seconds on the timeline (finite, inside its span)."""
    return lambda text: values.parse_seconds(text, "the value", lo=lo, hi=hi, error=argparse.ArgumentTypeError)


def number(flag: str, lo: float, hi: float, unit: str = "") -> Callable[[str], float]:
    """A finite number in [lo, hi]."""
    return lambda text: values.parse_number(text, "the value", lo=lo, hi=hi, error=argparse.ArgumentTypeError, unit=unit)


def count(flag: str, lo: int, hi: int) -> Callable[[str], int]:
    """A whole number in [lo, hi]."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"the value is {text!r}; it must be a whole number from {lo} to {hi}") from None
        return values.whole_number(value, "the value", lo=lo, hi=hi, error=argparse.ArgumentTypeError)
    return parse


GAIN_DB = number("--gain-db", values.MIN_GAIN_DB, values.MAX_GAIN_DB, " dB")


def loudness_target(text: str) -> float:
    """`--loudness`: a target in LUFS (-70..0), or "broadcast" (-23) / "web" (-14)."""
    from foley_studio.media.loudness import LOUDNESS_TARGETS
    if text.lower() in LOUDNESS_TARGETS:
        return LOUDNESS_TARGETS[text.lower()]
    return values.parse_number(text, "the value", lo=-70.0, hi=0.0, error=argparse.ArgumentTypeError, unit=" LUFS")


TRUE_PEAK_DB = number("--true-peak-limit", -20.0, 0.0, " dBTP")
