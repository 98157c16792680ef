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
    # One γ per take (same order as `seeds`): "vary γ" takes sampled in one batch. None: `cfg` for
    # every take. When given, `cfg` is not used for sampling (the editor keeps its centre value there).
    cfgs: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        # Accept lists from JSON / callers but keep the frozen object hashable and immutable.
        object.__setattr__(self, "region", tuple(int(v) for v in self.region))
        object.__setattr__(self, "seeds", tuple(self.seeds))
        if isinstance(self.cfgs, list):
            object.__setattr__(self, "cfgs", tuple(self.cfgs))

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

    @property
    def take_cfgs(self) -> tuple[float, ...]:
        """The guidance scale of each take, in seed order."""
        return self.cfgs if self.cfgs is not None else (self.cfg,) * len(self.seeds)

    @property
    def takes(self) -> list[tuple[int, float]]:
        """(seed, γ) of each take: what tells two takes of one request apart."""
        return list(zip(self.seeds, self.take_cfgs))

    def row_of(self, seed: int, cfg: float | None = None) -> int:
        """Index of the take with `seed` (and γ `cfg`, needed when a seed is sampled at several γ)."""
        rows = [i for i, (s, g) in enumerate(self.takes) if s == seed and (cfg is None or g == cfg)]
        if len(rows) != 1:
            what = f"seed {seed}" + ("" if cfg is None else f" at γ {cfg:g}")
            raise ValueError(f"{what} names {len(rows)} takes of this request {self.takes}, not one")
        return rows[0]

    def with_seeds(self, seeds: list[int] | tuple[int, ...]) -> GenerationRequest:
        """The same settings for `seeds`; with per-take γ, each seed keeps its own γ (it must name one take)."""
        if self.cfgs is None:
            return replace(self, seeds=tuple(seeds))
        return self.select([self.row_of(seed) for seed in seeds])

    def select(self, rows: list[int] | tuple[int, ...]) -> GenerationRequest:
        """The request for some of its takes (by index), each with its own seed and γ."""
        seeds = tuple(self.seeds[i] for i in rows)
        if self.cfgs is None:
            return replace(self, seeds=seeds)
        return replace(self, seeds=seeds, cfgs=tuple(self.cfgs[i] for i in rows))

    def for_take(self, seed: int, cfg: float | None = None) -> GenerationRequest:
        """A one-take request for the take with `seed` (and γ `cfg`), its γ as the plain `cfg`."""
        row = self.row_of(seed, cfg)
        return replace(self, seeds=(seed,), cfg=self.take_cfgs[row], cfgs=None)

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
        _check(_is_cfg(self.cfg),
               f"cfg (guidance scale) {self.cfg!r} must be a number from 0 to {MAX_CFG:g}; 3–5 is typical")
        _check(isinstance(self.steps, int) and 1 <= self.steps <= MAX_STEPS,
               f"steps {self.steps!r} must be a whole number from 1 to {MAX_STEPS}")
        _check(self.sampler in SAMPLERS, f"sampler {self.sampler!r} is not one of {', '.join(SAMPLERS)}")
        self._validate_seeds()
        self._validate_cfgs()
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
        if self.cfgs is None:
            _check(len(set(self.seeds)) == len(self.seeds),
                   f"seeds {list(self.seeds)} repeat; the same seed gives the same take")

    def _validate_cfgs(self) -> None:
        if self.cfgs is None:
            return
        _check(isinstance(self.cfgs, tuple), f"cfgs {self.cfgs!r} must be a list of guidance scales, one per seed")
        _check(len(self.cfgs) == len(self.seeds),
               f"cfgs (per-take guidance scales) has {len(self.cfgs)} values for {len(self.seeds)} seeds; "
               "give one γ per seed, or leave cfgs empty to use cfg for every take")
        for i, g in enumerate(self.cfgs):
            _check(_is_cfg(g), f"cfgs[{i}] (guidance scale of take {i + 1}) {g!r} must be a number from 0 to "
                               f"{MAX_CFG:g}; 3–5 is typical")
        seen: dict[tuple[int, float], int] = {}
        for i, take in enumerate(self.takes):
            _check(take not in seen, f"takes {seen.get(take, 0) + 1} and {i + 1} both use seed {take[0]} at "
                                     f"γ {take[1]:g} (cfgs); the same seed and γ give the same take")
            seen[take] = i

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
        if self.cfgs is None:
            del data["cfgs"]          # absent, not null: older readers of sidecars and projects stay happy
        else:
            data["cfgs"] = list(self.cfgs)
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


def _is_cfg(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and 0.0 <= value <= MAX_CFG)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise RequestError(message)
