from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

from foley_studio.core import timebase as tb


def test_rates_match_the_model_window():
    assert tb.LATENT_HOP == 1200
    assert tb.seconds_to_latents(8.0) == 320 == tb.MODEL_WINDOW_LATENTS
    assert tb.latents_to_samples(320) == 384_000


def test_partial_latent_rounds_up():
    assert tb.samples_to_latents(1) == 1
    assert tb.samples_to_latents(1200) == 1
    assert tb.samples_to_latents(1201) == 2


@pytest.mark.parametrize("value, expected", [
    ("30000/1001", Fraction(30000, 1001)), (29.97, Fraction(30000, 1001)), (23.976, Fraction(24000, 1001)),
    (25, Fraction(25)), ((24, 1), Fraction(24)), (12.5, Fraction(25, 2)),
])
def test_parse_fps(value, expected):
    assert tb.parse_fps(value) == expected


def test_parse_fps_rejects_zero():
    with pytest.raises(ValueError, match="positive"):
        tb.parse_fps(0)


def test_timecode_non_drop_and_drop_frame():
    clock25 = tb.VideoClock(Fraction(25))
    assert clock25.timecode(tb.seconds_to_samples(3661.5)) == "01:01:01:12"
    ntsc = tb.VideoClock(Fraction(30000, 1001))
    # one minute of NTSC frames: 1800 frames -> drop-frame label 00:01:00;02
    assert ntsc.timecode(ntsc.sample_of_frame(1800)) == "00:01:00;02"
    assert ntsc.timecode(ntsc.sample_of_frame(17982)) == "00:10:00;00"


@given(st.integers(min_value=0, max_value=200_000), st.sampled_from([Fraction(24), Fraction(25),
       Fraction(30000, 1001), Fraction(24000, 1001), Fraction(60000, 1001)]))
def test_timecode_round_trips(frame, fps):
    clock = tb.VideoClock(fps)
    samples = clock.sample_of_frame(frame)
    assert clock.frame_at_sample(samples) == frame
    assert clock.parse_timecode(clock.timecode(samples)) == samples


def test_bad_timecode_is_rejected():
    with pytest.raises(ValueError, match="HH:MM:SS:FF"):
        tb.VideoClock(Fraction(25)).parse_timecode("1:2:3")
