"""Timeline geometry and snapping: pure arithmetic between samples, pixels and track rows.

Kept free of painting so the widget stays a thin drawer and these rules can be tested alone.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from foley_studio.core.project import Clip, Project
from foley_studio.core.timebase import SAMPLE_RATE, VideoClock

MIN_SAMPLES_PER_PIXEL = 2.0          # deepest zoom: 2 samples per pixel (24 000 px per second)
MAX_SECONDS_VISIBLE = 6 * 3600       # widest zoom: six hours across the view


@dataclass
class TimelineGeometry:
    """Where everything sits: x <-> samples, y <-> track rows; owned and mutated by the view."""

    header_width: int = 176
    ruler_height: int = 30
    video_height: int = 58
    track_height: int = 76
    width: int = 1200                 # widget width in pixels
    samples_per_pixel: float = 400.0  # zoom
    left: float = 0.0                 # timeline sample at the left edge of the lanes
    scroll_y: int = 0                 # pixels scrolled down in the track area
    has_video: bool = True

    @property
    def lanes_width(self) -> int:
        return max(1, self.width - self.header_width)

    @property
    def pixels_per_second(self) -> float:
        return SAMPLE_RATE / self.samples_per_pixel

    @property
    def tracks_top(self) -> int:
        return self.ruler_height + (self.video_height if self.has_video else 0)

    @property
    def visible_range(self) -> tuple[int, int]:
        return int(self.left), int(math.ceil(self.left + self.lanes_width * self.samples_per_pixel))

    def x_of(self, samples: float) -> float:
        return self.header_width + (samples - self.left) / self.samples_per_pixel

    def time_at(self, x: float) -> int:
        return int(round(self.left + (x - self.header_width) * self.samples_per_pixel))

    def track_top(self, index: int) -> int:
        return self.tracks_top + index * self.track_height - self.scroll_y

    def track_index_at(self, y: float) -> int | None:
        """Track row under y (may be >= the number of tracks: the empty area below them); None above."""
        if y < self.tracks_top:
            return None
        return int((y - self.tracks_top + self.scroll_y) // self.track_height)

    def clamp_zoom(self, spp: float) -> float:
        widest = MAX_SECONDS_VISIBLE * SAMPLE_RATE / self.lanes_width
        return min(max(spp, MIN_SAMPLES_PER_PIXEL), widest)

    def zoom_around(self, x: float, factor: float) -> None:
        """Zoom by `factor` (>1 zooms in) keeping the time under pixel x where it is."""
        anchor = self.left + (x - self.header_width) * self.samples_per_pixel
        self.samples_per_pixel = self.clamp_zoom(self.samples_per_pixel / factor)
        self.left = max(0.0, anchor - (x - self.header_width) * self.samples_per_pixel)

    def show_range(self, start: int, end: int, margin: float = 0.03) -> None:
        """Zoom and scroll so [start, end) fills the lanes (with a small margin each side)."""
        span = max(end - start, 1)
        self.samples_per_pixel = self.clamp_zoom(span * (1 + 2 * margin) / self.lanes_width)
        self.left = max(0.0, start - span * margin)


def tick_step_frames(clock: VideoClock, samples_per_pixel: float, min_px: float = 90.0) -> int:
    """Frames between labelled ruler ticks: 1, 2, 5, 10 frames, then whole seconds/minutes, >= min_px apart."""
    base = clock.timecode_base
    frame_px = SAMPLE_RATE / float(clock.fps) / samples_per_pixel
    candidates = [1, 2, 5, 10] + [base * s for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)]
    for step in candidates:
        if step * frame_px >= min_px:
            return step
    return candidates[-1]


@dataclass
class SnapResult:
    time: int
    target: int | None          # the snap point used (drawn as a guide), None if not snapped


@dataclass
class Snapper:
    """Snaps times to frames, clip edges, the playhead and markers within a pixel threshold."""

    enabled: bool = True
    threshold_px: float = 8.0
    points: list[int] = field(default_factory=list)
    clock: VideoClock | None = None

    @classmethod
    def for_project(cls, project: Project, playhead: int, *, exclude_clips: set[str] = frozenset(),
                    enabled: bool = True) -> "Snapper":
        points = {0, playhead}
        points.update(m.time for m in project.markers)
        for track in project.tracks:
            for clip in track.clips:
                if clip.id not in exclude_clips:
                    points.update((clip.start, clip.end))
        clock = project.video.clock if project.video else None
        return cls(enabled=enabled, points=sorted(points), clock=clock)

    def snap(self, time: int, samples_per_pixel: float) -> SnapResult:
        if not self.enabled:
            return SnapResult(time, None)
        limit = self.threshold_px * samples_per_pixel
        best: int | None = None
        for point in self.points:          # a few hundred points at most; a scan beats bisect bookkeeping
            if abs(point - time) <= limit and (best is None or abs(point - time) < abs(best - time)):
                best = point
        if best is not None:
            return SnapResult(best, best)
        if self.clock is not None:
            frame = self.clock.snap_samples(time)
            # Frames snap only when a frame is at least 3 px wide; otherwise every time would move.
            frame_px = SAMPLE_RATE / float(self.clock.fps) / samples_per_pixel
            if frame_px >= 3.0:
                return SnapResult(frame, None)
        return SnapResult(time, None)

    def snap_span(self, start: int, length: int, samples_per_pixel: float) -> SnapResult:
        """Snap a moving span by whichever edge lands nearer a snap point; returns the new start."""
        a = self.snap(start, samples_per_pixel)
        b = self.snap(start + length, samples_per_pixel)
        if b.target is not None and (a.target is None or abs(b.time - start - length) < abs(a.time - start)):
            return SnapResult(b.time - length, b.target)
        return a


def summed_overlaps(clips: Sequence[Clip]) -> list[tuple[int, int]]:
    """Timeline spans where clips of one track overlap without an exact crossfade, so the mix sums them.

    Two clips crossfade exactly when the earlier one's fade-out and the later one's fade-in both
    equal their overlap (what "Crossfade overlap" and applied takes leave); three or more at once
    always sum. A sweep over clip edges keeps this O(n log n) however many clips are stacked;
    touching spans are merged, so the view draws at most one rectangle per clip.
    """
    edges = sorted([(c.end, 0, i) for i, c in enumerate(clips)] + [(c.start, 1, i) for i, c in enumerate(clips)])
    active: set[int] = set()
    spans: list[tuple[int, int]] = []
    for k, (time, is_start, index) in enumerate(edges):       # ends sort before starts: a clip's end is exclusive
        if is_start:
            active.add(index)
        else:
            active.discard(index)
        following = edges[k + 1][0] if k + 1 < len(edges) else time
        if following > time and len(active) >= 2 and not _exact_crossfade(clips, active):
            if spans and spans[-1][1] == time:
                spans[-1] = (spans[-1][0], following)
            else:
                spans.append((time, following))
    return spans


def _exact_crossfade(clips: Sequence[Clip], active: set[int]) -> bool:
    if len(active) != 2:
        return False
    first, second = sorted((clips[i] for i in active), key=lambda c: (c.start, c.end))
    overlap = first.end - second.start
    staggered = second.start > first.start and second.end > first.end
    return staggered and first.fade_out == overlap == second.fade_in
