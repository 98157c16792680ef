"""`foley-studio generate`: headless takes for a video or a project, one line per take."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from typing import TYPE_CHECKING

from foley_studio.core.errors import FoleyError
from foley_studio.core.project import Project
from foley_studio.core.store import SUFFIX as PROJECT_SUFFIX
from foley_studio.core.store import load_project
from foley_studio.core.timebase import SAMPLE_RATE, seconds_to_samples
from foley_studio.core.values import parse_seconds
from foley_studio.engine.errors import RequestError
from foley_studio.engine.request import MODES, SAMPLERS, GenerationRequest, ReferenceClip
from foley_studio.session.generation import GenerationSettings, vary_cfg, vary_seeds

if TYPE_CHECKING:
    from foley_studio.engine.pipeline import Progress

log = logging.getLogger(__name__)

PROJECT_REFERENCE = "project"


def register(sub: argparse._SubParsersAction) -> None:
    """Add `generate`."""
    p = sub.add_parser(
        "generate", help="generate takes for a video or project without the editor",
        description="Generate Foley takes for a region of a video or project and write each as a 48 kHz WAV "
                    "with a JSON sidecar of its exact settings (enough to regenerate it bit for bit).",
        epilog="Times are seconds. Takes use seeds SEED, SEED+1, ... One line per take is printed: "
               "take id, seed, WAV path.")
    p.add_argument("input", metavar="VIDEO_OR_PROJECT",
                   help=f"a video file (its own sound is the existing audio) or a project ({PROJECT_SUFFIX})")
    p.add_argument("--mode", choices=MODES, default="text",
                   help="text: from the picture and prompt; extend: continue the audio before the region; "
                        "inpaint: fill the region from the audio on both sides; analogy: sound like --reference "
                        "(default: text)")
    p.add_argument("--prompt", default="", help="what the sound should be, e.g. 'footsteps on gravel'")
    p.add_argument("--negative", default=None, metavar="N", help="what it should not be (negative prompt)")
    p.add_argument("--quality", choices=("high", "low", "none"), default="none",
                   help="quality tag: 'high' asks for clean full-band studio sound, 'low' for on-camera "
                        "sound (default: none)")
    p.add_argument("--reference", default=None, metavar="FILE[:START:END]",
                   help="analogy mode: the clip to imitate, a sound or video file, optionally a time range "
                        f"in seconds; '{PROJECT_REFERENCE}:START:END' takes it from the project's own mix")
    p.add_argument("--region", default=None, metavar="START:END",
                   help="the region to fill, in seconds (default: the whole video or project); regions longer "
                        "than the model's 8 s window are made window by window and crossfaded")
    p.add_argument("--takes", type=int, default=None, help="how many takes (default: 4, or one per --cfg value)")
    p.add_argument("--cfg", default="4.0", metavar="G[,G...]",
                   help="guidance scale γ; higher follows the controls more closely (default: 4.0, typical 3-5). "
                        "A list such as 2,4,6 makes one take per γ from the same seed, to compare like for like")
    p.add_argument("--steps", type=int, default=25, help="denoising steps (default: 25)")
    p.add_argument("--sampler", choices=SAMPLERS, default="dpmpp",
                   help="dpmpp: DPM-Solver++ for few steps; ddim: the paper's sampler (default: dpmpp)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first take (default: 0)")
    p.add_argument("--model", default="demo",
                   help="an installed model's name or a model folder (default: demo, the bundled one)")
    p.add_argument("--context", type=float, default=2.0, metavar="SECONDS",
                   help="extend/inpaint: seconds of existing audio given on each side (default: 2.0)")
    p.add_argument("--device", default=None,
                   help="cpu, cuda, cuda:N or mps (default: CUDA, then MPS, then CPU)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the takes (created if missing)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # torch, the model and PyAV load here, not at start-up: `foley-studio --help` stays instant.
    from foley_studio.engine.models import InstalledModels
    from foley_studio.engine.pipeline import Pipeline
    from foley_studio.engine.sources import ProjectAudio

    project, video = _open_input(Path(args.input))
    request = build_request(args, project, video)
    pipeline = Pipeline(InstalledModels(), takes_dir=args.out, source=ProjectAudio(project), device=args.device)
    results = pipeline.run(request, progress=_progress_printer())
    for result in results:
        seconds = request.length / SAMPLE_RATE
        print(f"{result.take_id}\tseed {result.seed}{_gamma(result, request)}\t{seconds:.2f} s\t{result.wav_path}")
    note = picture_note(request, project, results[0].extra.get("picture_seconds") if results else None)
    if note:
        print(f"foley-studio: note: {note}", file=sys.stderr)
    return 0


def picture_note(request: GenerationRequest, project: Project, picture_seconds: float | None) -> str | None:
    """What the takes were generated against, when part of the region has no picture (it is past the video's end)."""
    if picture_seconds is None or project.video is None:
        return None
    region = request.length / SAMPLE_RATE
    if picture_seconds >= region - 1e-3:
        return None
    video_end = project.video.duration / SAMPLE_RATE
    span = f"{request.start / SAMPLE_RATE:.2f}-{request.end / SAMPLE_RATE:.2f} s"
    if picture_seconds <= 0:
        return (f"the region {span} lies past the end of the video ({video_end:.2f} s): there is no picture there, "
                "so the takes follow only the prompt and the sound around them")
    return (f"the video ends at {video_end:.2f} s, inside the region {span}: the last "
            f"{region - picture_seconds:.2f} s have no picture and follow only the prompt and the sound")


def _open_input(path: Path) -> tuple[Project, str | None]:
    if not path.exists():
        raise FoleyError(f"{path}: no such file; give a video file or a {PROJECT_SUFFIX} project")
    if path.suffix.lower() == PROJECT_SUFFIX:
        project = load_project(path)
    else:
        from foley_studio.engine.sources import project_for_video
        project = project_for_video(path)
    return project, project.video.path if project.video else None


def build_request(args: argparse.Namespace, project: Project, video: str | None) -> GenerationRequest:
    """The request the flags describe, for `project` (whose duration is the default region)."""
    if args.region:
        start, end = parse_range(args.region, "--region")
    else:
        if project.duration <= 0:
            raise RequestError(f"{args.input} has no duration to fill; give --region START:END")
        start, end = 0, project.duration
    cfgs = parse_cfgs(args.cfg)
    if len(cfgs) > 1 and args.takes not in (None, len(cfgs)):
        raise RequestError(f"--takes {args.takes} with --cfg {args.cfg}: a list of γ makes one take per value "
                           f"({len(cfgs)}); leave out --takes")
    reference = parse_reference(args.reference) if args.reference else None
    settings = GenerationSettings(
        mode=args.mode, prompt=args.prompt, negative_prompt=args.negative,
        quality=None if args.quality == "none" else args.quality, reference=reference, cfg=cfgs[0],
        steps=args.steps, sampler=args.sampler, model=args.model, context_seconds=args.context)
    if len(cfgs) > 1:
        return vary_cfg(settings, video=video, region=(start, end), seed=args.seed, cfgs=cfgs)
    takes = 4 if args.takes is None else args.takes
    if takes < 1:
        raise RequestError(f"--takes {takes}: ask for at least one take")
    return vary_seeds(settings, video=video, region=(start, end), first_seed=args.seed, n=takes)


def _gamma(result, request: GenerationRequest) -> str:
    """' γ 2.0' when the takes differ in γ (vary-γ), else nothing: the line format stays as it was."""
    return f" γ {result.guidance:g}" if request.cfgs is not None else ""


def parse_cfgs(text: str) -> tuple[float, ...]:
    """'4' or '2,4,6' -> guidance scales (the request validates their range)."""
    try:
        values = tuple(float(v) for v in str(text).split(","))
    except ValueError:
        raise RequestError(f"--cfg {text!r} must be a number or a comma-separated list, e.g. 4 or 2,4,6") from None
    return values


def parse_range(text: str, flag: str) -> tuple[int, int]:
    """'START:END' in seconds -> samples; each a finite time inside the timeline's span."""
    parts = text.split(":")
    if len(parts) != 2:
        raise RequestError(f"{flag} {text!r} must be START:END in seconds, e.g. 2.5:10")
    start, end = (parse_seconds(p, f"{flag} {name}", error=RequestError) for p, name in zip(parts, ("start", "end")))
    return seconds_to_samples(start), seconds_to_samples(end)


def parse_reference(text: str) -> ReferenceClip:
    """'FILE', 'FILE:START:END' or 'project:START:END' (seconds); FILE may itself hold ':'."""
    pieces = text.rsplit(":", 2)
    if len(pieces) == 3 and _is_number(pieces[1]) and _is_number(pieces[2]):
        path, (start, end) = pieces[0], parse_range(f"{pieces[1]}:{pieces[2]}", "--reference")
    else:
        path, start, end = text, None, None
    if path == PROJECT_REFERENCE:
        if start is None:
            raise RequestError(f"--reference {text!r}: give the range of the project to imitate, "
                               f"e.g. {PROJECT_REFERENCE}:3:5")
        return ReferenceClip(None, start, end)
    if not Path(path).exists():
        raise RequestError(f"--reference {path}: no such file; give a sound or video file")
    if start is None:
        start, end = 0, _reference_length(path)
    return ReferenceClip(str(Path(path).resolve()), start, end)


def _reference_length(path: str) -> int:
    """A whole reference file, capped to the 8 s the model can take, in samples."""
    from foley_studio.media.probe import probe
    return min(seconds_to_samples(probe(path).duration), 8 * SAMPLE_RATE)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _progress_printer():
    """Progress on stderr, on one rewritten line when it is a terminal (nothing otherwise)."""
    if not sys.stderr.isatty():
        return None

    def show(event: Progress) -> None:
        print(f"\r{event.describe():<60}", end="", file=sys.stderr, flush=True)
        if event.stage == "done":
            print(file=sys.stderr)
    return show
