"""Where existing audio comes from: the project's mix (extend, inpaint, analogy from the timeline).

`ProjectAudio` wraps `media.mixdown` so the pipeline asks for exactly [start, end) samples and gets
them zero-padded past the project's end. `project_for_video` turns a bare video file (the CLI's
input) into a one-track project whose only clip is the video's own sound, so the same code serves
both a saved project and a video given on the command line; `video_ref` is the one way a video
becomes a project's picture (the editor's and the CLI's new projects).
"""
from __future__ import annotations

import copy
import logging
from pathlib import Path

import numpy as np

from foley_studio.core.project import Clip, Project, Track, VideoRef, new_id
from foley_studio.core.timebase import SAMPLE_RATE, seconds_to_samples
from foley_studio.media import mixdown as media_mixdown
from foley_studio.media.errors import NoVideoStreamError
from foley_studio.media.limits import check_picture
from foley_studio.media.probe import MediaInfo, probe

log = logging.getLogger(__name__)


class ProjectAudio:
    """The project's mix as a source of context audio.

    Generation reads the mix on a worker thread; an editor that keeps editing meanwhile should
    hand over `ProjectAudio.snapshot(project)`, so a job hears the project as it was when asked.
    """

    def __init__(self, project: Project, sources: media_mixdown.SourceCache | None = None):
        self.project = project
        self.sources = sources if sources is not None else media_mixdown.SourceCache()

    @classmethod
    def snapshot(cls, project: Project, sources: media_mixdown.SourceCache | None = None) -> ProjectAudio:
        """A frozen copy of the project's timeline (plain dataclasses, so a deep copy is cheap)."""
        return cls(copy.deepcopy(project), sources)

    @property
    def duration(self) -> int:
        return self.project.duration

    @property
    def video(self) -> str | None:
        return self.project.video.path if self.project.video else None

    def read(self, start: int, end: int) -> np.ndarray:
        """Exactly end - start samples of the mix (silence where nothing plays)."""
        if end <= start:
            return np.zeros(0, np.float32)
        mix = media_mixdown.mixdown(self.project, start, end, sources=self.sources)
        out = np.zeros(end - start, np.float32)
        n = min(len(mix), end - start)
        out[:n] = mix[:n]
        return out


def video_ref(path: str | Path) -> VideoRef:
    """The project's reference to the video at `path`: absolute path, exact frame rate, duration in
    samples. A file with no picture, or one no one can score against (`media.limits`), is refused."""
    path = Path(path).resolve()
    info = probe(path)
    if not info.has_video or info.fps is None:
        raise NoVideoStreamError(f"{path}: has no video stream; a project is scored against a video "
                                 f"(MP4, MOV, MKV)")
    return _reference(path, info)


def _reference(path: Path, info: MediaInfo) -> VideoRef:
    check_picture(info)
    if info.variable_frame_rate:
        log.warning("%s has a variable frame rate; the timeline uses its average %.3f fps", path, float(info.fps))
    return VideoRef(path=str(path), fps_num=info.fps.numerator, fps_den=info.fps.denominator,
                    duration=seconds_to_samples(info.duration), width=info.width or 0, height=info.height or 0)


def project_for_video(path: str | Path) -> Project:
    """A project scored against `path` whose first track holds the video's own sound (if any)."""
    path = Path(path).resolve()
    info = probe(path)
    check_picture(info)
    duration = seconds_to_samples(info.duration)
    video = _reference(path, info) if info.has_video else None
    track = Track(id=new_id("track"), name="Production sound")
    if info.has_audio and duration > 0:
        track.clips.append(Clip(id=new_id("clip"), source=str(path), start=0, source_in=0,
                                source_out=duration, name=path.name))
    return Project(video=video, tracks=[track], name=path.stem, sample_rate=SAMPLE_RATE)


class ArrayAudio:
    """A timeline that is one buffer of 48 kHz samples (a bounced mix, or a test signal)."""

    def __init__(self, samples: np.ndarray, video: str | None = None):
        self.samples = np.ascontiguousarray(samples, dtype=np.float32)
        self._video = video

    @property
    def duration(self) -> int:
        return len(self.samples)

    @property
    def video(self) -> str | None:
        return self._video

    def read(self, start: int, end: int) -> np.ndarray:
        out = np.zeros(max(0, end - start), np.float32)
        a, b = max(0, start), min(end, len(self.samples))
        if b > a:
            out[a - start:b - start] = self.samples[a:b]
        return out
