"""`GenerationRequest`: everything that decides a take, validated once and stored with every take.

A request is plain data. It round-trips through JSON exactly (the take sidecar holds it), and
`validate()` turns each impossible setting into a `RequestError` that names the field and the fix,
so the CLI and the editor can show the message as it is.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from foley_studio.core.timebase import SAMPLE_RATE, samples_to_seconds

from .errors import RequestError

MODES = ("text", "extend", "inpaint", "analogy")
SAMPLERS = ("dpmpp", "ddim")
QUALITIES = ("high", "low")
MAX_TAKES = 64
MAX_STEPS = 1000
MAX_CFG = 30.0
MAX_REGION_SECONDS = 3600.0       # one hour: a longer region is surely a typo, not a cue
MAX_REFERENCE_SECONDS = 8.0       # one model window; the model prepends it to every window
MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class ReferenceClip:
    """The clip an analogy imitates: samples [start, end) of `path`, or of the project mix when `path` is None."""

    path: str | None
    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class GenerationRequest:
    """One generation: what to make, where on the timeline, with which controls and seeds."""

    mode: str = "text"
    video: str | None = None                 # the picture to follow (None: audio/text only)
    region: tuple[int, int] = (0, 8 * SAMPLE_RATE)   # [start, end) in timeline samples
    prompt: str = ""
    negative_prompt: str | None = None
    quality: str | None = None               # "high" | "low" | None (no tag)
    reference: ReferenceClip | None = None   # analogy only
    cfg: float = 4.0                         # guidance scale γ (eqs. 2–4)
    steps: int = 25
    sampler: str = "dpmpp"
    seeds: tuple[int, ...] = (0,)
    model: str = "demo"
    track_id: str | None = None              # the track the takes are meant for (editor)
    context_seconds: float = 2.0             # existing audio given around the region (extend/inpaint)
    overlap_seconds: float = 2.0             # shared span between consecutive windows of a long region

    def __post_init__(self) -> None:
        # Accept lists from JSON / callers but keep the frozen object hashable and immutable.
        object.__setattr__(self, "region", tuple(int(v) for v in self.region))
        object.__setattr__(self, "seeds", tuple(self.seeds))

    # ----------------------------------------------------------------- derived
    @property
    def start(self) -> int:
        return self.region[0]

    @property
    def end(self) -> int:
        return self.region[1]

    @property
    def length(self) -> int:
        return self.region[1] - self.region[0]

    def with_seeds(self, seeds: list[int] | tuple[int, ...]) -> GenerationRequest:
        return replace(self, seeds=tuple(seeds))

    # -------------------------------------------------------------- validation
    def validate(self) -> GenerationRequest:
        """Raise `RequestError` naming the first bad field; return self so calls chain."""
        _check(self.mode in MODES, f"mode {self.mode!r} is not one of {', '.join(MODES)}")
        start, end = self.region
        _check(start >= 0, f"region start {start} is before the timeline start; use a start >= 0")
        _check(end > start, f"region end {end} must be after its start {start}")
        _check(samples_to_seconds(end - start) <= MAX_REGION_SECONDS,
               f"region of {samples_to_seconds(end - start):.0f} s is longer than {MAX_REGION_SECONDS:.0f} s; "
               "generate it in parts")
        _check(isinstance(self.prompt, str), "prompt must be text")
        _check(self.negative_prompt is None or isinstance(self.negative_prompt, str),
               "negative prompt must be text or empty")
        _check(self.quality in (*QUALITIES, None),
               f"quality {self.quality!r} is not 'high', 'low' or none")
        _check(isinstance(self.cfg, (int, float)) and math.isfinite(self.cfg) and 0.0 <= self.cfg <= MAX_CFG,
               f"cfg (guidance scale) {self.cfg!r} must be a number from 0 to {MAX_CFG:g}; 3–5 is typical")
        _check(isinstance(self.steps, int) and 1 <= self.steps <= MAX_STEPS,
               f"steps {self.steps!r} must be a whole number from 1 to {MAX_STEPS}")
        _check(self.sampler in SAMPLERS, f"sampler {self.sampler!r} is not one of {', '.join(SAMPLERS)}")
        self._validate_seeds()
        _check(isinstance(self.model, str) and self.model.strip() != "",
               "model name is empty; name an installed model (e.g. 'demo')")
        _check(0.0 <= self.context_seconds <= 4.0,
               f"context_seconds {self.context_seconds!r} must be from 0 to 4 s")
        _check(0.25 <= self.overlap_seconds <= 4.0,
               f"overlap_seconds {self.overlap_seconds!r} must be from 0.25 to 4 s")
        self._validate_mode()
        return self

    def _validate_seeds(self) -> None:
        _check(len(self.seeds) >= 1, "seeds is empty; ask for at least one take")
        _check(len(self.seeds) <= MAX_TAKES, f"{len(self.seeds)} takes asked; at most {MAX_TAKES} per request")
        for seed in self.seeds:
            _check(isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed <= MAX_SEED,
                   f"seed {seed!r} must be a whole number from 0 to 2**63-1")
        _check(len(set(self.seeds)) == len(self.seeds),
               f"seeds {list(self.seeds)} repeat; the same seed gives the same take")

    def _validate_mode(self) -> None:
        if self.mode == "analogy":
            _check(self.reference is not None,
                   "analogy mode needs a reference clip (--reference FILE[:START:END]) to imitate")
            ref = self.reference
            assert ref is not None
            _check(ref.start >= 0 and ref.end > ref.start,
                   f"reference range {ref.start}:{ref.end} is empty or negative; give START < END")
            _check(samples_to_seconds(ref.length) <= MAX_REFERENCE_SECONDS,
                   f"reference of {samples_to_seconds(ref.length):.2f} s is longer than "
                   f"{MAX_REFERENCE_SECONDS:g} s; pick a shorter range")
        else:
            _check(self.reference is None,
                   f"a reference clip is only used in analogy mode, not {self.mode!r}; drop it or use analogy")
        if self.mode == "extend":
            _check(self.context_seconds > 0, "extend mode needs context_seconds > 0 of audio before the region")
            _check(self.start > 0, "extend mode continues the audio before the region, but the region "
                                   "starts at 0; move the region later or use text mode")

    # -------------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["region"] = list(self.region)
        data["seeds"] = list(self.seeds)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationRequest:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RequestError(f"unknown request field(s) {', '.join(unknown)}; "
                               "it was written by a newer Foley Studio or edited by hand")
        values = dict(data)
        ref = values.get("reference")
        if ref is not None:
            if not isinstance(ref, dict) or set(ref) != {"path", "start", "end"}:
                raise RequestError(f"reference {ref!r} must have path, start and end")
            values["reference"] = ReferenceClip(ref["path"], int(ref["start"]), int(ref["end"]))
        if "region" in values:
            region = values["region"]
            if not isinstance(region, (list, tuple)) or len(region) != 2:
                raise RequestError(f"region {region!r} must be [start, end] in samples")
        try:
            return cls(**values)
        except (TypeError, ValueError) as exc:
            raise RequestError(f"request fields are malformed: {exc}") from exc

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> GenerationRequest:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RequestError(f"request is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise RequestError("request JSON must be an object")
        return cls.from_dict(data)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise RequestError(message)
