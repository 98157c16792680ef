"""Media and project subcommands: `info`, `project new`, `project add-clip`, `export`.

Thin wrappers: each handler runs the same `session` use cases (and `media` functions) as the
editor and prints the result. Errors a user can cause are `FoleyError`s, which `cli.main` prints as one line.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from foley_studio.core.errors import ProjectError
from foley_studio.core.project import Clip, Track, new_id
from foley_studio.core.timebase import SAMPLE_RATE, format_seconds, seconds_to_samples

from . import arguments

if TYPE_CHECKING:
    from foley_studio.media.probe import MediaInfo
    from foley_studio.session.editor import EditorSession


MAX_NEW_TRACKS = 1000


def register(sub: argparse._SubParsersAction) -> None:
    """Add `info`, `project {new,add-clip}` and `export`; each sets `handler=`."""
    info = sub.add_parser("info", help="show a media file's streams, duration, frame rate and audio format")
    info.add_argument("media", type=Path, help="a video or audio file")
    info.add_argument("--json", action="store_true", help="print machine-readable JSON")
    info.set_defaults(handler=cmd_info)

    project = sub.add_parser("project", help="create and edit project files headlessly")
    psub = project.add_subparsers(dest="project_command", metavar="ACTION", required=True)
    new = psub.add_parser("new", help="start a project scored against a video")
    new.add_argument("video", type=Path)
    new.add_argument("-o", "--output", type=Path, required=True, help="the .fsproj file to write")
    new.add_argument("--tracks", type=arguments.count("--tracks", 1, MAX_NEW_TRACKS), default=2,
                     help=f"number of empty audio tracks, 1-{MAX_NEW_TRACKS} (default 2)")
    new.set_defaults(handler=cmd_project_new)

    add = psub.add_parser("add-clip", help="place an audio file on a track")
    add.add_argument("project", type=Path)
    add.add_argument("audio", type=Path)
    add.add_argument("--at", type=arguments.seconds("--at"), required=True, metavar="SECONDS", help="timeline position")
    add.add_argument("--track", type=int, default=1, metavar="N",
                     help="track number, 1-based (default 1); N = tracks + 1 adds a track")
    add.add_argument("--gain-db", type=arguments.GAIN_DB, default=0.0, metavar="G", help="clip gain in dB")
    add.set_defaults(handler=cmd_project_add_clip)

    export = sub.add_parser("export", help="write the mix, stems, video with the mix, or an OTIO timeline")
    export.add_argument("project", type=Path)
    export.add_argument("--mix", type=Path, metavar="OUT.wav", help="the mix as 24-bit WAV or FLAC")
    export.add_argument("--stems", type=Path, metavar="DIR", help="one 24-bit WAV per track")
    export.add_argument("--video", type=Path, metavar="OUT.mp4", help="the video (copied) with the mix")
    export.add_argument("--otio", type=Path, metavar="OUT.otio", help="the timeline as OpenTimelineIO")
    export.add_argument("--audio-codec", choices=["aac", "pcm"], default="aac",
                        help="audio codec of --video (pcm: 24-bit, MOV/MKV/MP4)")
    export.add_argument("--channels", choices=["stereo", "mono"], default=None,
                        help="mix, stems and video audio in stereo (tracks panned) or mono "
                             "(default: the project's mix bus)")
    export.add_argument("--loudness", type=arguments.loudness_target, default=None, metavar="LUFS",
                        help="normalise the mix to this integrated loudness: a number, 'broadcast' (-23) or 'web' (-14)")
    export.add_argument("--true-peak-limit", type=arguments.TRUE_PEAK_DB, nargs="?", const=-1.0, default=None,
                        metavar="DBTP", help="limit the mix's true peak to this ceiling (default -1 dBTP)")
    export.set_defaults(handler=cmd_export)


# ---------------------------------------------------------------------------------------------
# info
# ---------------------------------------------------------------------------------------------
def cmd_info(args: argparse.Namespace) -> int:
    from foley_studio.media.probe import probe

    info = probe(args.media)
    if args.json:
        data = info.to_json()
        if info.has_video:
            data["coded_width"], data["coded_height"] = info.coded_size
        print(json.dumps(data, indent=2))
        return _refuse_unusable(info)
    print(f"{info.path}")
    print(f"  container  {info.container}")
    print(f"  duration   {format_seconds(info.duration)} ({info.duration:.3f} s)")
    if info.has_video:
        fps = f"{info.fps.numerator}/{info.fps.denominator} ({float(info.fps):.3f} fps)" if info.fps else "unknown"
        vfr = ", variable frame rate" if info.variable_frame_rate else ""
        print(f"  video      {info.video_codec}, {info.width}x{info.height}, {fps}{vfr}, {info.n_frames} frames")
        print(f"  rotation   {_rotation_text(info)}")
    else:
        print("  video      none")
    if info.has_audio:
        print(f"  audio      {info.audio_codec}, {info.sample_rate} Hz, {info.channels} channel(s)")
    else:
        print("  audio      none")
    return _refuse_unusable(info)


def _refuse_unusable(info: MediaInfo) -> int:
    """After describing a file, say as an error (exit 2) what Foley Studio cannot do with it."""
    from foley_studio.media.errors import UnsupportedCodecError
    from foley_studio.media.limits import audio_problem, picture_problem

    problems = [f"its sound cannot be used: {p}" for p in [audio_problem(info)] if p]
    problems += [f"its picture cannot be scored against: {p}" for p in [picture_problem(info)] if p]
    if problems:
        sys.stdout.flush()
        raise UnsupportedCodecError(f"{info.path}: " + "; ".join(problems))
    return 0


def _rotation_text(info: MediaInfo) -> str:
    """The display rotation; when the picture is turned, the stored size next to the shown one, since
    tools that ignore the display matrix (and the file's own header) report the coded size."""
    if not info.rotation:
        return "0 degrees"
    coded_w, coded_h = info.coded_size
    return (f"{info.rotation} degrees clockwise (display matrix): displayed {info.width}x{info.height}, "
            f"coded {coded_w}x{coded_h}")


# ---------------------------------------------------------------------------------------------
# project
# ---------------------------------------------------------------------------------------------
def cmd_project_new(args: argparse.Namespace) -> int:
    from foley_studio.session.editor import EditorSession, project_from_video

    _check_suffix(args.output)
    if args.tracks < 1:
        raise ProjectError(f"--tracks must be at least 1, got {args.tracks}")
    project = project_from_video(args.video, n_tracks=args.tracks, name=args.output.stem)
    ref = project.video
    EditorSession(project).save(args.output)
    print(f"wrote {args.output} ({ref.width}x{ref.height}, {float(ref.fps):.3f} fps, "
          f"{format_seconds(ref.duration / SAMPLE_RATE)}, {args.tracks} tracks)")
    return 0


def _check_suffix(path: Path) -> None:
    if path.suffix != ".fsproj":
        raise ProjectError(f"{path}: project files end in .fsproj; name it {path.with_suffix('.fsproj').name}")


def _track_for(session: EditorSession, number: int) -> Track:
    """Track `number` (1-based); number = len + 1 appends a new track through the edit layer."""
    from foley_studio.core.edits import AddTrack

    project = session.project
    if 1 <= number <= len(project.tracks):
        return project.tracks[number - 1]
    if number == len(project.tracks) + 1:
        track = Track(id=new_id("track"), name=f"Foley {number}")
        session.apply(AddTrack(track))
        return track
    raise ProjectError(f"--track {number}: the project has {len(project.tracks)} track(s); "
                       f"use 1..{len(project.tracks) + 1}")


def cmd_project_add_clip(args: argparse.Namespace) -> int:
    from foley_studio.core.edits import AddClip
    from foley_studio.media.audio import read_audio
    from foley_studio.session.editor import EditorSession

    session = EditorSession.open(args.project)
    if args.at < 0:
        raise ProjectError(f"--at {args.at}: clips cannot start before the timeline (0 s)")
    # Decoding gives the exact length at 48 kHz (a header's frame count may be missing or rounded).
    n = len(read_audio(args.audio))
    track = _track_for(session, args.track)
    clip = Clip(id=new_id("clip"), source=str(args.audio.resolve()), start=seconds_to_samples(args.at),
                source_in=0, source_out=n, gain_db=args.gain_db, name=args.audio.stem)
    session.apply(AddClip(track.id, clip))
    session.save()
    print(f"added {args.audio.name} to {track.name} at {format_seconds(args.at)} "
          f"({format_seconds(n / SAMPLE_RATE)}, {args.gain_db:+.1f} dB)")
    return 0


# ---------------------------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------------------------
def cmd_export(args: argparse.Namespace) -> int:
    from foley_studio.session.editor import EditorSession
    from foley_studio.session.export import ExportTargets, Mastering, MasteringReport, export_project

    if not any((args.mix, args.stems, args.video, args.otio)):
        raise ProjectError("export: nothing to do; give --mix, --stems, --video and/or --otio")
    session = EditorSession.open(args.project)
    channels = {"stereo": 2, "mono": 1, None: None}[args.channels]
    targets = ExportTargets(mix=args.mix, stems=args.stems, video=args.video, otio=args.otio,
                            audio_codec=args.audio_codec, channels=channels,
                            mastering=Mastering(loudness_lufs=args.loudness, ceiling_db=args.true_peak_limit))
    reports: list[MasteringReport] = []
    for path in export_project(session.project, targets, name=str(args.project), on_report=reports.append):
        print(f"wrote {path}")
    for report in reports:
        print(f"mix: {report.before.describe()}")
        if targets.mastering.active:
            print(f"after {targets.mastering.describe()}: {report.after.describe()}")
        if report.after.clipped:
            print(f"warning: {report.after.clipped} samples of the mix clip (peak {report.after.peak_db:+.1f} dBFS); "
                  "lower the faders or export with --true-peak-limit", file=sys.stderr)
    sys.stdout.flush()
    return 0
