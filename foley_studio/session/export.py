"""Export of the open project, for the editor's dialog and `foley-studio export` alike.

`export_project` checks the media first (a missing file is named, nothing is written) and reports
progress from `media.export.export_all`: one mixdown shared by the mix and the video, the codec as
chosen. Run off the editing thread, it must be given a copy of the project (`copy.deepcopy`), made
on the editing thread, so edits made meanwhile neither race with it nor leak into the files.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from foley_studio.core.errors import MissingMediaError, ProjectError
from foley_studio.core.project import Project
from foley_studio.core.safepaths import safe_name
from foley_studio.media.export import AUDIO_CODECS
# Levels, measure and the defaults are re-exported for the editor's export dialog.
from foley_studio.media.loudness import (DEFAULT_CEILING_DB, LOUDNESS_TARGETS, Levels, Mastering,  # noqa: F401
                                         MasteringReport, measure)

VIDEO_AUDIO_CODECS = {"aac": "AAC (small, plays everywhere)", "pcm": "PCM 24-bit (lossless)"}
STEP_LABELS = {"mixdown": "Mixing down", "mix": "Writing the mix", "stems": "Writing stems",
               "video": "Muxing the video", "otio": "Writing the timeline", "done": "Finishing"}
CHANNEL_LABELS = {2: "Stereo", 1: "Mono"}
LOUDNESS_LABELS = {None: "As mixed", LOUDNESS_TARGETS["broadcast"]: "-23 LUFS (broadcast, EBU R128)",
                   LOUDNESS_TARGETS["web"]: "-14 LUFS (web and streaming)"}
assert set(VIDEO_AUDIO_CODECS) <= set(AUDIO_CODECS)


@dataclass(frozen=True)
class ExportTargets:
    """Where each output goes (None: not wanted)."""

    mix: str | Path | None = None
    stems: str | Path | None = None
    video: str | Path | None = None
    otio: str | Path | None = None
    audio_codec: str = "aac"          # the video's audio stream
    channels: int | None = None       # 1 mono, 2 stereo; None: the project's mix bus
    mastering: Mastering = Mastering()   # loudness target / true-peak ceiling for the mix and the video

    @property
    def empty(self) -> bool:
        return not any((self.mix, self.stems, self.video, self.otio))


def make_folders(targets: ExportTargets) -> None:
    """Create the folders the chosen files go into (the dialog's paths may name new ones)."""
    for path in (targets.mix, targets.video, targets.otio):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)


def default_targets(project: Project, project_path: Path | None) -> dict[str, Path]:
    """The dialog's suggestions: an `export/` folder beside the project (or in the home folder)."""
    base = (project_path.parent if project_path else Path.home()) / "export"
    stem = safe_name(project_path.stem if project_path else project.name, fallback="untitled")
    return {"mix": base / f"{stem} mix.wav", "stems": base / f"{stem} stems",
            "video": base / f"{stem} with foley.mp4", "otio": base / f"{stem}.otio"}


def export_project(project: Project, targets: ExportTargets, *,
                   progress: Callable[[int, int, str], None] | None = None, name: str = "the project",
                   on_report: Callable[[MasteringReport], None] | None = None) -> list[Path]:
    """Write every requested output; `progress(done, total, step)` as `media.export.export_all`;
    `on_report` gets the mix's levels before and after mastering (when a mix or video is written)."""
    from foley_studio.core.store import find_missing_media
    from foley_studio.media.export import export_all
    if targets.empty:
        raise ProjectError("export: nothing to do; give a mix, stems, video and/or timeline path")
    if targets.audio_codec not in AUDIO_CODECS:
        raise ProjectError(f"audio codec {targets.audio_codec!r} is not one of {', '.join(AUDIO_CODECS)}")
    missing = find_missing_media(project)
    if missing:
        raise MissingMediaError(f"{name}: {len(missing)} media file(s) are missing "
                                f"(first: {missing[0]}); relink them in the editor", missing)
    return export_all(project, mix=targets.mix or None, stems=targets.stems or None,
                      video=targets.video or None, otio_path=targets.otio or None,
                      audio_codec=targets.audio_codec, progress=progress, channels=targets.channels,
                      mastering=targets.mastering, on_report=on_report)


class MixAnalysis:
    """The mix's levels before and after mastering, for the export dialog (run off the GUI thread).

    Keeps the last mix per channel count (and its decoded sources), so trying another loudness
    target or the limiter re-measures without mixing again. Give it a copy of the project."""

    def __init__(self, project: Project):
        from foley_studio.media.mixdown import SourceCache
        self.project = project
        self.sources = SourceCache()
        self._mixes: dict[int, object] = {}

    def report(self, channels: int | None, mastering: Mastering) -> MasteringReport:
        from foley_studio.media.export import mix_channels
        from foley_studio.media.mixdown import mixdown
        channels = mix_channels(self.project, channels)
        if channels not in self._mixes:
            self._mixes = {channels: mixdown(self.project, 0, self.project.duration, sources=self.sources,
                                             channels=channels)}
        return mastering.apply(self._mixes[channels])[1]
