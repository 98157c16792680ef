"""Everything that leaves the editor: the mix, per-track stems, the picture with the mix, the timeline.

- `export_mix` / `export_stems`: 24-bit WAV or FLAC (the suffix decides), written atomically, in
  the project's mix bus layout (stereo: tracks panned; mono) unless `channels` says otherwise.
- `export_video`: a copy of the project's video whose video packets are copied byte for byte
  (no re-encode, no generation loss) with the mix as its only audio stream (AAC or PCM, stereo
  or mono as the mix is); the display matrix travels too, so a phone's portrait clip still plays upright.
- `export_all` mixes once and can master that mix (`loudness.Mastering`: a loudness target and a
  true-peak ceiling) before the mix file and the video get it; stems are written as the tracks are.
- `export_otio`: the timeline as OpenTimelineIO for a DAW/NLE hand-off; clips keep their times,
  and gain/fades travel as metadata.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio

from foley_studio.core.project import Clip, Project, Track
from foley_studio.core.safepaths import inside, safe_name
from foley_studio.core.timebase import SAMPLE_RATE

from .audio import atomic_output, check_writable_samples, write_audio
from .errors import MediaError, MediaWriteError, NoVideoStreamError
from .loudness import Mastering, MasteringReport
from .mixdown import SourceCache, audible_tracks, mixdown
from .probe import check_not_truncated, decode_error, display_matrix, open_container

log = logging.getLogger(__name__)

AUDIO_CODECS = {"aac": "aac", "pcm": "pcm_s24le", "pcm_s16le": "pcm_s16le", "pcm_s24le": "pcm_s24le"}
_AUDIO_LEAD_SECONDS = 0.5    # audio muxed this far ahead of the video keeps the file interleaved
_AUDIO_CHUNK = 4096
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv")


# ---------------------------------------------------------------------------------------------
# Audio
# ---------------------------------------------------------------------------------------------
def mix_channels(project: Project, channels: int | None) -> int:
    """The channel count an export writes: `channels` when given, else the project's mix bus."""
    channels = project.mix_channels if channels is None else channels
    if channels not in (1, 2):
        raise MediaWriteError(f"an export is mono (1 channel) or stereo (2), not {channels!r} channels")
    return channels


def export_mix(project: Project, path: str | Path, *, start: int = 0, end: int | None = None,
               subtype: str = "PCM_24", sources: SourceCache | None = None,
               mix: np.ndarray | None = None, channels: int | None = None) -> Path:
    """Write the mix of the audible tracks over [start, end) (default: the whole project).

    `mix` (already rendered, (N,) or (2, N)) is written as it is; otherwise the mix is rendered in
    `channels` (default: the project's mix bus)."""
    if mix is None:
        mix = mixdown(project, start, end, sources=sources, channels=mix_channels(project, channels))
    return write_audio(path, mix, subtype)


def stem_path(folder: str | Path, index: int, track: Track, suffix: str) -> Path:
    """'<folder>/01 Footsteps.wav': numbered in track order, named after the track (or its id, when
    the name has nothing a file name can keep), always a plain file inside `folder`."""
    label = safe_name(track.name, fallback=safe_name(track.id, fallback=f"track {index + 1}"))
    return inside(folder, f"{index + 1:02d} {label}", suffix)


def export_stems(project: Project, folder: str | Path, *, fmt: str = "wav", subtype: str = "PCM_24",
                 start: int = 0, end: int | None = None, include_muted: bool = False,
                 sources: SourceCache | None = None, channels: int | None = None) -> list[Path]:
    """One file per track (fader and, in stereo, pan applied; mute honoured unless `include_muted`),
    all the same length, in `channels` (default: the project's mix bus).

    Solo is ignored: a stem is the track itself, not what the mix currently lets through. The
    stems of a stereo project sum to its stereo mix.
    """
    channels = mix_channels(project, channels)
    folder = Path(folder)
    if fmt.lower() not in ("wav", "flac"):
        raise MediaWriteError(f"stems: unknown format {fmt!r}; use 'wav' or 'flac'")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MediaWriteError(f"{folder}: cannot create the stems folder ({exc.strerror}); "
                              f"choose another folder") from exc
    end = project.duration if end is None else end
    sources = sources if sources is not None else SourceCache()
    written = []
    for i, track in enumerate(project.tracks):
        if track.mute and not include_muted:
            continue
        stem = mixdown(project, start, end, track_ids=[track.id], sources=sources, channels=channels)
        written.append(write_audio(stem_path(folder, i, track, "." + fmt.lower()), stem, subtype))
    return written


# ---------------------------------------------------------------------------------------------
# Video with the mix muxed in
# ---------------------------------------------------------------------------------------------
def export_video(project: Project, path: str | Path, *, audio_codec: str = "aac",
                 bitrate: int = 256_000, sources: SourceCache | None = None,
                 mix: np.ndarray | None = None, channels: int | None = None) -> Path:
    """Copy the project's video stream into `path` and add the mix (from time 0 to the video's end).

    `audio_codec` is "aac" (any container) or "pcm" (24-bit; MOV/MKV). The video packets are
    copied, never decoded, so the picture is bit-identical to the original. The audio stream is
    stereo or mono as `mix` is ((2, N) or (N,)); without `mix`, as `channels` (default: the project's bus).
    """
    if project.video is None:
        raise MediaError("export video: the project has no video; use --mix for audio only")
    src, dst = Path(project.video.path), Path(path)
    codec = AUDIO_CODECS.get(audio_codec)
    if codec is None:
        raise MediaWriteError(f"{dst}: unknown audio codec {audio_codec!r}; use one of {sorted(AUDIO_CODECS)}")
    if dst.suffix.lower() not in VIDEO_SUFFIXES:
        raise MediaWriteError(f"{dst}: a {dst.suffix or 'suffix-less'} file cannot hold the picture; name the video "
                              f"{' or '.join(VIDEO_SUFFIXES)}")
    if mix is None:
        mix = mixdown(project, 0, project.video.duration, sources=sources, channels=mix_channels(project, channels))
    mix = _fit(np.asarray(mix, np.float32), project.video.duration)
    mix = np.ascontiguousarray(mix)
    check_writable_samples(dst, mix, channels_first=True)
    if codec.startswith("pcm"):
        mix = np.clip(mix, -1.0, 1.0)
    with open_container(src) as source:
        if not source.streams.video:
            raise NoVideoStreamError(f"{src}: has no video stream to copy; relink the project's video")
        check_not_truncated(src, source)   # else the copy would silently end where the file does
        matrix = display_matrix(src)
        with atomic_output(dst) as tmp:
            try:
                _remux(source, tmp, mix, codec, bitrate, matrix)
            except ValueError as exc:   # PyAV: the container cannot hold this codec
                raise MediaWriteError(f"{dst}: the {dst.suffix} container cannot hold {codec} audio "
                                      f"({exc}); use AAC, or a .mov/.mkv file for PCM") from exc
            except av.error.FFmpegError as exc:
                if isinstance(exc, (av.error.InvalidDataError, av.error.EOFError)):
                    raise decode_error(src, exc) from exc
                raise MediaWriteError(f"{dst}: muxing failed ({exc}); for PCM audio use a .mov or .mkv "
                                      f"file, otherwise check the output folder") from exc
    return dst


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    """`x` ((N,) or (C, N)) cut or padded with silence to n frames."""
    have = x.shape[-1]
    if have >= n:
        return x[..., :n]
    return np.concatenate([x, np.zeros((*x.shape[:-1], n - have), np.float32)], axis=-1)


def _remux(source: av.container.InputContainer, tmp: str, mix: np.ndarray, codec: str, bitrate: int,
           matrix: list[int] | None = None) -> None:
    in_v = source.streams.video[0]
    origin = float(in_v.start_time * in_v.time_base) if in_v.start_time is not None else 0.0
    # MP4/MOV: move the index to the front so players and browsers can start before the end loads.
    options = {"movflags": "+faststart"} if tmp.lower().endswith((".mp4", ".m4v", ".mov")) else {}
    with av.open(tmp, "w", options=options) as out:
        out_v = out.add_stream_from_template(in_v)
        if matrix is not None:
            # Set explicitly: whether the template copies stream side data depends on the PyAV
            # version, and without the matrix a portrait phone clip plays sideways.
            out_v.set_display_matrix(matrix)
        out_a = out.add_stream(codec, rate=SAMPLE_RATE, layout="stereo" if mix.ndim == 2 else "mono")
        if codec == "aac":
            out_a.bit_rate = bitrate
        audio = _audio_packets(out_a, mix, origin)
        pending = next(audio, None)
        for packet in source.demux(in_v):
            if packet.dts is None:     # the demuxer's end-of-stream marker, not data
                continue
            t = float(packet.dts * packet.time_base)
            while pending is not None and _packet_time(pending) <= t + _AUDIO_LEAD_SECONDS:
                out.mux(pending)
                pending = next(audio, None)
            packet.stream = out_v
            out.mux(packet)
        while pending is not None:
            out.mux(pending)
            pending = next(audio, None)


def _packet_time(packet: av.Packet) -> float:
    ts = packet.dts if packet.dts is not None else packet.pts
    return float(ts * packet.time_base) if ts is not None else 0.0


def _audio_packets(stream: av.audio.stream.AudioStream, mix: np.ndarray, origin: float):
    """Encode the mix ((N,) or (2, N)) in chunks, yielding packets in time order (time 0 = the video's first frame)."""
    offset = int(round(origin * SAMPLE_RATE))
    planes = mix[None, :] if mix.ndim == 1 else mix
    layout = "stereo" if planes.shape[0] == 2 else "mono"
    packed = stream.codec_context.name.startswith("pcm")
    for a in range(0, planes.shape[1], _AUDIO_CHUNK):
        part = planes[:, a:a + _AUDIO_CHUNK]
        # Packed formats interleave the channels in one plane (L R L R ...); planar ones keep one per channel.
        chunk = np.ascontiguousarray(part.T.reshape(1, -1) if packed else part)
        frame = av.AudioFrame.from_ndarray(chunk, format="flt" if packed else "fltp", layout=layout)
        frame.sample_rate = SAMPLE_RATE
        frame.pts = offset + a
        frame.time_base = Fraction(1, SAMPLE_RATE)
        yield from stream.encode(frame)
    yield from stream.encode(None)


# ---------------------------------------------------------------------------------------------
# OpenTimelineIO
# ---------------------------------------------------------------------------------------------
def _rt(samples: int) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(samples, SAMPLE_RATE)


def _uri(path: str) -> str:
    return Path(path).absolute().as_uri()


def _otio_clip(clip: Clip) -> otio.schema.Clip:
    return otio.schema.Clip(
        name=clip.name or Path(clip.source).stem,
        media_reference=otio.schema.ExternalReference(target_url=_uri(clip.source)),
        source_range=otio.opentime.TimeRange(_rt(clip.source_in), _rt(clip.length)),
        metadata={"foley_studio": {"clip_id": clip.id, "gain_db": clip.gain_db, "fade_in": clip.fade_in,
                                   "fade_out": clip.fade_out, "take_id": clip.take_id}},
    )


def _lanes(clips: list[Clip]) -> list[list[Clip]]:
    """Split overlapping clips into as few non-overlapping lanes as possible (OTIO tracks are sequences)."""
    lanes: list[list[Clip]] = []
    for clip in sorted(clips, key=lambda c: (c.start, c.end)):
        for lane in lanes:
            if lane[-1].end <= clip.start:
                lane.append(clip)
                break
        else:
            lanes.append([clip])
    return lanes or [[]]


def build_otio(project: Project) -> otio.schema.Timeline:
    """The project as an OTIO timeline: one video track (the picture), then the audio tracks."""
    timeline = otio.schema.Timeline(name=project.name)
    if project.video is not None:
        video = project.video
        fps = float(video.fps)
        n_frames = round(Fraction(video.duration, SAMPLE_RATE) * video.fps)
        track = otio.schema.Track(name="Picture", kind=otio.schema.Track.Kind.Video)
        track.append(otio.schema.Clip(
            name=Path(video.path).name,
            media_reference=otio.schema.ExternalReference(target_url=_uri(video.path)),
            source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, fps),
                                                 otio.opentime.RationalTime(n_frames, fps))))
        timeline.tracks.append(track)
    audible = {t.id for t in audible_tracks(project)}
    for track in project.tracks:
        lanes = _lanes([c for c in track.clips if c.length > 0])
        for k, lane in enumerate(lanes):
            name = track.name if k == 0 else f"{track.name} ({k + 1})"
            out = otio.schema.Track(name=name, kind=otio.schema.Track.Kind.Audio,
                                    metadata={"foley_studio": {"track_id": track.id, "gain_db": track.gain_db,
                                                               "mute": track.mute, "solo": track.solo}})
            out.enabled = track.id in audible
            cursor = 0
            for clip in lane:
                if clip.start > cursor:
                    out.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(_rt(0), _rt(clip.start - cursor))))
                out.append(_otio_clip(clip))
                cursor = clip.end
            timeline.tracks.append(out)
    for marker in project.markers:
        timeline.tracks.markers.append(otio.schema.Marker(
            name=marker.name, marked_range=otio.opentime.TimeRange(_rt(marker.time), _rt(0))))
    return timeline


def export_otio(project: Project, path: str | Path) -> Path:
    """Write the timeline as an .otio (JSON) file, atomically."""
    path = Path(path)
    text = otio.adapters.write_to_string(build_otio(project), "otio_json")
    with atomic_output(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
    return path


def export_all(project: Project, *, mix: str | Path | None = None, stems: str | Path | None = None,
               video: str | Path | None = None, otio_path: str | Path | None = None,
               audio_codec: str = "aac", progress: Callable[[int, int, str], None] | None = None,
               channels: int | None = None, mastering: Mastering | None = None,
               on_report: Callable[[MasteringReport], None] | None = None) -> list[Path]:
    """Every requested output from one shared source cache and a single mixdown.

    `channels` (default: the project's mix bus) applies to the mix, the stems and the video's audio.
    `mastering` processes the mix the mix file and the video get; `on_report` receives the levels
    before and after it (peak, true peak, loudness, clipped samples) once the mix is rendered.
    `progress(done, total, step)` is called before each step ("mixdown", "mix", "stems", "video",
    "otio") and once at the end with done == total and step "done".
    """
    channels = mix_channels(project, channels)
    sources = SourceCache()
    written: list[Path] = []
    needs_mix = mix is not None or video is not None
    steps = (["mixdown"] if needs_mix else []) + [name for name, target in
                                                  (("mix", mix), ("stems", stems), ("video", video),
                                                   ("otio", otio_path)) if target is not None]

    def step(name: str) -> None:
        if progress is not None:
            progress(steps.index(name) if name != "done" else len(steps), len(steps), name)

    mixed = None
    if needs_mix:
        step("mixdown")
        mixed = mixdown(project, 0, project.duration, sources=sources, channels=channels)   # covers the video
        mixed, report = (mastering or Mastering()).apply(mixed)
        if on_report is not None:
            on_report(report)
    if mix is not None:
        step("mix")
        written.append(export_mix(project, mix, mix=mixed))
    if stems is not None:
        step("stems")
        written += export_stems(project, stems, sources=sources, channels=channels)
    if video is not None:
        step("video")
        written.append(export_video(project, video, audio_codec=audio_codec, mix=mixed))
    if otio_path is not None:
        step("otio")
        written.append(export_otio(project, otio_path))
    step("done")
    log.info("exported %s", ", ".join(os.fspath(p) for p in written))
    return written
