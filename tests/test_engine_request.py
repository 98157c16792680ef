"""GenerationRequest validation messages and the JSON round trip."""
from __future__ import annotations

import pytest

from foley_studio.core.errors import FoleyError
from foley_studio.engine.errors import RequestError
from foley_studio.engine.request import GenerationRequest, ReferenceClip

SR = 48_000


def test_defaults_are_valid_and_round_trip():
    req = GenerationRequest().validate()
    assert req.mode == "text" and req.region == (0, 8 * SR) and req.seeds == (0,) and req.model == "demo"
    assert GenerationRequest.from_json(req.to_json()) == req


def test_full_request_round_trips_exactly():
    req = GenerationRequest(mode="analogy", video="/v/clip.mp4", region=(12_345, 400_000), prompt="metal scrape",
                            negative_prompt="music", quality="high", reference=ReferenceClip("/lib/a.flac", 10, 90_000),
                            cfg=3.5, steps=40, sampler="ddim", seeds=[3, 1, 2], model="mine", track_id="track-1",
                            context_seconds=1.5, overlap_seconds=1.0).validate()
    again = GenerationRequest.from_json(req.to_json())
    assert again == req and again.seeds == (3, 1, 2) and again.reference == ReferenceClip("/lib/a.flac", 10, 90_000)
    assert hash(again) == hash(req)


@pytest.mark.parametrize("changes, words", [
    (dict(mode="remix"), "mode 'remix' is not one of text, extend, inpaint, analogy"),
    (dict(region=(-5, 10)), "region start -5"),
    (dict(region=(100, 100)), "region end 100 must be after"),
    (dict(region=(0, 2 * 3600 * SR)), "longer than 3600 s"),
    (dict(quality="medium"), "quality 'medium'"),
    (dict(cfg=float("nan")), "cfg (guidance scale)"),
    (dict(cfg=100.0), "cfg (guidance scale)"),
    (dict(steps=0), "steps 0"),
    (dict(steps=2.5), "steps 2.5"),
    (dict(sampler="euler"), "sampler 'euler'"),
    (dict(seeds=()), "seeds is empty"),
    (dict(seeds=(1, 1)), "repeat"),
    (dict(seeds=(-1,)), "seed -1"),
    (dict(seeds=tuple(range(65))), "at most 64"),
    (dict(model=" "), "model name is empty"),
    (dict(mode="analogy"), "analogy mode needs a reference clip"),
    (dict(mode="analogy", reference=ReferenceClip("a.wav", 5, 5)), "reference range 5:5"),
    (dict(mode="analogy", reference=ReferenceClip("a.wav", 0, 9 * SR)), "longer than 8 s"),
    (dict(reference=ReferenceClip("a.wav", 0, SR)), "only used in analogy mode"),
    (dict(mode="extend", region=(0, SR)), "starts at 0"),
    (dict(mode="extend", region=(SR, 2 * SR), context_seconds=0.0), "context_seconds > 0"),
    (dict(overlap_seconds=0.0), "overlap_seconds"),
])
def test_invalid_fields_are_named(changes, words):
    with pytest.raises(RequestError) as info:
        GenerationRequest(**changes).validate()
    assert words in str(info.value)
    assert isinstance(info.value, FoleyError)


def test_from_dict_rejects_unknown_and_malformed_fields():
    with pytest.raises(RequestError, match="unknown request field.*temperature"):
        GenerationRequest.from_dict({"temperature": 1.0})
    with pytest.raises(RequestError, match="region"):
        GenerationRequest.from_dict({"region": [1, 2, 3]})
    with pytest.raises(RequestError, match="reference"):
        GenerationRequest.from_dict({"reference": {"path": "x"}})
    with pytest.raises(RequestError, match="not valid JSON"):
        GenerationRequest.from_json("{nope")


def test_with_seeds_keeps_everything_else():
    req = GenerationRequest(prompt="rain", seeds=(1, 2, 3))
    single = req.with_seeds([2])
    assert single.seeds == (2,) and single.prompt == "rain" and req.seeds == (1, 2, 3)
