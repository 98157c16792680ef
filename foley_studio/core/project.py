"""The plain project model: a video, audio tracks of clips, generated takes and markers.

Every time is an integer sample count at `timebase.SAMPLE_RATE`. Paths are absolute in memory and
stored relative to the project folder on disk (see `store`). Objects are plain dataclasses that
only `edits` mutate, so undo can restore them exactly and views only ever read them.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .timebase import SAMPLE_RATE, VideoClock


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass
class VideoRef:
    """The picture the project is scored against."""

    path: str
    fps_num: int
    fps_den: int
    duration: int            # samples
    width: int
    height: int

    @property
    def fps(self) -> Fraction:
        return Fraction(self.fps_num, self.fps_den)

    @property
    def clock(self) -> VideoClock:
        return VideoClock(self.fps)


@dataclass
class Clip:
    """A span of a source audio file placed on a track.

    `source_in`/`source_out` index the source resampled to 48 kHz; the clip plays source samples
    [source_in, source_out) starting at timeline sample `start`.
    """

    id: str
    source: str
    start: int
    source_in: int
    source_out: int
    gain_db: float = 0.0
    fade_in: int = 0         # samples; equal-power (sine) ramps applied in mixdown
    fade_out: int = 0
    name: str = ""
    take_id: str | None = None   # set when the clip came from a generated take
    source_length: int | None = None   # samples of the whole source at 48 kHz, when known (bounds trims)

    @property
    def length(self) -> int:
        return self.source_out - self.source_in

    @property
    def end(self) -> int:
        return self.start + self.length

    def contains(self, samples: int) -> bool:
        return self.start <= samples < self.end


@dataclass
class Track:
    """A row of clips with its fader (`gain_db`), pan and mute/solo.

    `pan` runs from -1 (hard left) through 0 (centre) to +1 (hard right); the mix applies it with
    the equal-power law (`media.mixdown.pan_gains`) when the project's mix bus is stereo.
    """

    id: str
    name: str
    clips: list[Clip] = field(default_factory=list)
    gain_db: float = 0.0
    mute: bool = False
    solo: bool = False
    pan: float = 0.0

    def clip(self, clip_id: str) -> Clip:
        for clip in self.clips:
            if clip.id == clip_id:
                return clip
        raise KeyError(clip_id)


@dataclass
class Take:
    """One generated candidate for a region: its audio file and the exact settings that made it."""

    id: str
    path: str                # the take's WAV (its JSON sidecar sits beside it)
    region_start: int        # samples
    region_end: int
    settings: dict[str, Any] = field(default_factory=dict)   # the GenerationRequest fields + seed
    track_id: str | None = None
    kept: bool = True
    label: str = ""
    gain_db: float = 0.0     # the take's own gain: heard when auditioned, given to its clip when used


@dataclass
class Marker:
    id: str
    time: int                # samples
    name: str = ""


@dataclass
class Project:
    """Everything the editor saves in a `.fsproj`."""

    video: VideoRef | None = None
    tracks: list[Track] = field(default_factory=list)
    takes: list[Take] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    sample_rate: int = SAMPLE_RATE
    name: str = "Untitled"
    mix_channels: int = 2    # the mix bus: 2 = stereo (tracks panned), 1 = mono (pan ignored)

    def track(self, track_id: str) -> Track:
        for track in self.tracks:
            if track.id == track_id:
                return track
        raise KeyError(track_id)

    def track_of_clip(self, clip_id: str) -> Track:
        for track in self.tracks:
            if any(c.id == clip_id for c in track.clips):
                return track
        raise KeyError(clip_id)

    def find_clip(self, clip_id: str) -> Clip:
        return self.track_of_clip(clip_id).clip(clip_id)

    def take(self, take_id: str) -> Take:
        for take in self.takes:
            if take.id == take_id:
                return take
        raise KeyError(take_id)

    def audible_tracks(self) -> list[Track]:
        """Tracks that play: unmuted and, when any track is soloed, soloed."""
        any_solo = any(t.solo for t in self.tracks)
        return [t for t in self.tracks if not t.mute and (t.solo or not any_solo)]

    @property
    def duration(self) -> int:
        """Samples from 0 to the later of the video's end and the last clip's end."""
        ends = [c.end for t in self.tracks for c in t.clips]
        if self.video:
            ends.append(self.video.duration)
        return max(ends, default=0)

    def media_paths(self) -> list[str]:
        paths = [self.video.path] if self.video else []
        paths += [c.source for t in self.tracks for c in t.clips]
        paths += [take.path for take in self.takes]
        return list(dict.fromkeys(paths))


def new_project(video: VideoRef | None = None, n_tracks: int = 2, name: str = "Untitled") -> Project:
    tracks = [Track(id=new_id("track"), name=f"Foley {i + 1}") for i in range(n_tracks)]
    return Project(video=video, tracks=tracks, name=name)
