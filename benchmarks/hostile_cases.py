"""Hostile and odd inputs on the real command line: every case in a subprocess, every outcome classified.

    python benchmarks/hostile_cases.py [--code ROOT] [--only WORD] [--jobs 1] [--timeout 60] [--json OUT]

Each case gets its own sandbox (`in/` inputs, `out/` the folder the command may write to, `home/` the
FOLEY_STUDIO_HOME) and runs `python -m foley_studio ...` from the code at ROOT (default: this checkout;
point it at an export of another commit to compare) with a memory cap, one thread and a timeout.
Outcomes:

    clean       exit 2, one error message, no traceback (and the message names the fault, when the case says what to expect)
    correct     exit 0 and the result checks out (files there, lengths right, no silent oddity)
    misleading  exit 2 but the message does not name the fault the case plants
    wrong       exit 0 but the result does not check out
    traceback   a Python traceback, or an exit status other than 0/2
    crash       killed by a signal (out of memory, segfault)
    hang        still running at the timeout
    outside     a file appeared outside out/ and home/ (checked first: it wins over the rest)

The files are made here, on the spot (tests/hostile_media.py, tests/media_fixtures.py); nothing is
downloaded. Prints a table per group and the totals; `--json` also writes every case's outcome.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

from tests import hostile_media as H  # noqa: E402
from tests.media_fixtures import make_audio_with_pyav, make_tone, make_video  # noqa: E402

OUTCOMES = ("clean", "correct", "misleading", "wrong", "traceback", "crash", "hang", "outside")
MEMORY_CAP = 8 * 1024 ** 3          # address space per case: an over-allocation fails instead of swapping the host
GEN = ["--takes", "1", "--steps", "1"]   # generation cases: the cheapest real run


@dataclass
class Sandbox:
    root: Path

    @property
    def inp(self) -> Path:
        return self.root / "in"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def home(self) -> Path:
        return self.root / "home"

    def file(self, name: str, content: bytes | str) -> str:
        path = self.inp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return str(path)


@dataclass
class Result:
    rc: int | None
    stdout: str
    stderr: str
    seconds: float
    escaped: list[str]


Check = Callable[[Sandbox, Result], str | None]    # None: fine; else what is wrong


@dataclass
class Case:
    name: str
    group: str
    setup: Callable[[Sandbox], list[str]]   # makes the inputs, returns the CLI arguments
    check: Check | None = None              # for exit 0
    expect: str | None = None               # regex the error message must match (exit 2)
    timeout: float | None = None


@dataclass
class Outcome:
    case: str
    group: str
    outcome: str
    seconds: float
    detail: str = ""
    rc: int | None = None


CASES: list[Case] = []


def case(name: str, group: str, setup: Callable[[Sandbox], list[str]], check: Check | None = None,
         expect: str | None = None, timeout: float | None = None) -> None:
    CASES.append(Case(name, group, setup, check, expect, timeout))


# ---------------------------------------------------------------------------------------------
# Shared media (made once; cases only read them)
# ---------------------------------------------------------------------------------------------
class Shared:
    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.video = str(make_video(root / "video.mp4", 2.0, 24, (160, 120)))
        self.video_silent = str(make_video(root / "silent.mp4", 2.0, 24, (160, 120), with_audio=False))
        self.wav = str(make_tone(root / "tone.wav", 1.0))
        self.wav44 = str(make_tone(root / "tone44.wav", 1.0, 44_100, channels=2))
        self.flac = str(make_tone(root / "tone.flac", 1.0))
        self.m4a = str(make_audio_with_pyav(root / "tone.m4a", 1.0))
        self.demo = REPO / "models" / "demo"
        self.weights = str(self.demo / "model.safetensors")
        self.demo_meta = json.loads((self.demo / "config.json").read_text())
        self.document = self._document()

    def _document(self) -> dict[str, Any]:
        from foley_studio.core.project import Clip, VideoRef, new_project
        from foley_studio.core.store import project_to_document

        ref = VideoRef(path=self.video, fps_num=24, fps_den=1, duration=96_000, width=160, height=120)
        project = new_project(ref, n_tracks=2, name="hostile")
        project.tracks[0].clips.append(Clip(id="clip-1", source=self.wav, start=24_000, source_in=0,
                                            source_out=48_000, name="tone"))
        return project_to_document(project, None)


S: Shared   # set in main()


def project_file(box: Sandbox, document: Any = None, *, text: str | None = None, name: str = "p.fsproj") -> str:
    if text is None:
        text = H.dumps_loose(S.document if document is None else document)
    return box.file(name, text)


def doc(path: str, value: Any) -> dict[str, Any]:
    return H.mutated(S.document, path, value)


# ---------------------------------------------------------------------------------------------
# Checks for successful runs
# ---------------------------------------------------------------------------------------------
def outputs(*names: str) -> Check:
    def check(box: Sandbox, result: Result) -> str | None:
        missing = [n for n in names if not (box.out / n).exists()]
        return f"missing outputs {missing}" if missing else None
    return check


def info_plausible(box: Sandbox, result: Result) -> str | None:
    text = result.stdout
    if re.search(r"\b0 channel", text) or re.search(r"audio\s+\S+, 0 Hz", text):
        return "reported 0 channels / 0 Hz without a word"
    rate = re.search(r"audio\s+\S+, (\d+) Hz", text)
    if rate and not 1000 <= int(rate.group(1)) <= 768_000:
        return f"reported a {rate.group(1)} Hz sample rate without a word"
    if "video" in text and re.search(r"\b0x0\b", text):
        return "reported a 0x0 picture"
    return None


def takes_of(seconds: float | None, *, note: str | None = None) -> Check:
    """Every printed take exists and lasts `seconds` (None: as long as printed); with `note`, stderr says so too."""
    def check(box: Sandbox, result: Result) -> str | None:
        lines = [line.split("\t") for line in result.stdout.splitlines() if "\t" in line]
        if not lines:
            return "no take printed"
        for fields in lines:
            p = fields[-1]
            expected = seconds if seconds is not None else float(fields[-2].split()[0])
            if not Path(p).is_file():
                return f"take {p} missing"
            if not Path(p).resolve().is_relative_to(box.out.resolve()):
                return f"take {p} outside --out"
            n = sf.info(p).frames
            if abs(n - round(expected * 48_000)) > 480:
                return f"take {p} has {n} samples, expected {expected} s"
        if note and not re.search(note, result.stderr, re.I):
            return f"nothing said about it on stderr (expected /{note}/)"
        return None
    return check


def wav_inside(folder: str) -> Check:
    def check(box: Sandbox, result: Result) -> str | None:
        found = list((box.out / folder).glob("*.wav"))
        return None if found else f"no stems in {folder}"
    return check


# ---------------------------------------------------------------------------------------------
# Cases: media files (`info`)
# ---------------------------------------------------------------------------------------------
def media_cases() -> None:
    good = {"wav48": lambda: S.wav, "wav44_stereo": lambda: S.wav44, "flac": lambda: S.flac,
            "m4a_aac": lambda: S.m4a, "mp4_h264_aac": lambda: S.video, "mp4_video_only": lambda: S.video_silent}
    for name, path in good.items():
        case(f"info good {name}", "media", lambda b, p=path: ["info", p()], info_plausible)
        case(f"info --json {name}", "media", lambda b, p=path: ["info", "--json", p()])

    def made(fn: Callable[[Path], Any]) -> Callable[[Sandbox], list[str]]:
        def setup(b: Sandbox) -> list[str]:
            b.inp.mkdir(parents=True, exist_ok=True)
            return ["info", str(fn(b.inp))]
        return setup

    raw = {
        "empty file": ("x.wav", b""),
        "one byte": ("x.wav", b"R"),
        "random bytes .wav": ("x.wav", np.random.default_rng(0).bytes(5000)),
        "random bytes .mp4": ("x.mp4", np.random.default_rng(1).bytes(5000)),
        "text as .mp4": ("x.mp4", b"this is not a video\n" * 50),
        "RIFF header only": ("x.wav", b"RIFF\x24\x00\x00\x00WAVE"),
        "JSON as .wav": ("x.wav", b'{"format": "foley-studio-project"}'),
        "png magic as .mp4": ("x.mp4", b"\x89PNG\r\n\x1a\n" + bytes(500)),
    }
    for name, (fname, content) in raw.items():
        case(f"info {name}", "media", lambda b, f=fname, c=content: ["info", b.file(f, c)], info_plausible)

    wavs = {
        "wav 1 Hz": dict(rate=1),
        "wav 0 Hz": dict(rate=0),
        "wav 2147483647 Hz": dict(rate=2_147_483_647),
        "wav 4294967295 Hz": dict(rate=4_294_967_295),
        "wav 1024 channels": dict(channels=1024, frames=48),
        "wav 0 channels": dict(channels=0),
        "wav 65535 channels": dict(channels=65535, frames=1),
        "wav 0 bits": dict(bits=0),
        "wav 7 bits": dict(bits=7),
        "wav 64-bit ints": dict(bits=64),
        "wav unknown format tag": dict(tag=0x1234),
        "wav declares 4 GB of data": dict(declared_data=0xFFFFFFF0),
        "wav declares 0 data": dict(declared_data=0),
        "wav block align 0": dict(block_align=0),
        "wav block align 65535": dict(block_align=65535),
        "wav zero frames": dict(frames=0),
    }
    for name, kwargs in wavs.items():
        case(f"info {name}", "media", lambda b, k=kwargs: ["info", b.file("x.wav", H.wav_bytes(**k))], info_plausible)

    case("info float wav with NaN", "media",
         made(lambda d: H.write_float_wav(d / "nan.wav", H.tone_with(float("nan")))), info_plausible)
    case("info truncated mp4 (half)", "media",
         lambda b: ["info", b.file("half.mp4", Path(S.video).read_bytes()[: os.path.getsize(S.video) // 2])])
    case("info truncated mp4 (first 1 KB)", "media",
         lambda b: ["info", b.file("head.mp4", Path(S.video).read_bytes()[:1024])])
    case("info mp4 with zeroed middle", "media", lambda b: ["info", b.file("hole.mp4", _zero_middle(S.video))])
    case("info truncated wav (half)", "media",
         lambda b: ["info", b.file("half.wav", Path(S.wav).read_bytes()[: os.path.getsize(S.wav) // 2])],
         info_plausible)
    case("info missing file", "media", lambda b: ["info", str(b.inp / "nope.wav")])
    case("info a folder", "media", lambda b: (_mkdir(b.inp), ["info", str(b.inp)])[1])
    case("info /dev/null", "media", lambda b: ["info", "/dev/null"])
    case("info a named pipe", "media", lambda b: (_mkdir(b.inp), os.mkfifo(b.inp / "fifo.wav"),
                                                   ["info", str(b.inp / "fifo.wav")])[2])
    case("info a symlink loop", "media", lambda b: (_mkdir(b.inp),
                                                     (b.inp / "loop.wav").symlink_to(b.inp / "loop.wav"),
                                                     ["info", str(b.inp / "loop.wav")])[2])
    case("info 300-character file name", "media", lambda b: ["info", str(b.inp / ("x" * 300 + ".wav"))])
    for name, make in odd_videos().items():
        case(f"info video {name}", "media", made(make))


def _zero_middle(path: str) -> bytes:
    data = bytearray(Path(path).read_bytes())
    a = len(data) // 3
    data[a:a + len(data) // 3] = bytes(len(data) // 3)
    return bytes(data)


def odd_videos() -> dict[str, Callable[[Path], Path]]:
    return {
        "1x1": lambda d: make_video(d / "1x1.mp4", 1.0, 24, (2, 2), with_audio=False, codec="mpeg4"),
        "8000x8000": lambda d: make_video(d / "big.mp4", 0.5, 2, (8000, 8000), with_audio=False),
        "0.002 fps": lambda d: make_video(d / "slow.mp4", 1000.0, Fraction(1, 500), (64, 48), with_audio=False),
        "1 frame": lambda d: make_video(d / "one.mp4", 1 / 24, 24, (64, 48), with_audio=False),
        "1000 fps": lambda d: make_video(d / "fast.mp4", 0.2, 1000, (64, 48), with_audio=False),
        "vfr": lambda d: make_video(d / "vfr.mp4", pts_seconds=[0, 0.04, 0.2, 0.21, 0.5, 0.9, 1.0],
                                    with_audio=False),
    }


# ---------------------------------------------------------------------------------------------
# Cases: `project new` and `project add-clip`
# ---------------------------------------------------------------------------------------------
def project_cases() -> None:
    def new(video: Callable[[Sandbox], str], *extra: str) -> Callable[[Sandbox], list[str]]:
        return lambda b: ["project", "new", video(b), "-o", str(b.out / "p.fsproj"), *extra]

    case("project new good", "project", new(lambda b: S.video), outputs("p.fsproj"))
    case("project new audio-only file", "project", new(lambda b: S.wav))
    case("project new missing video", "project", new(lambda b: str(b.inp / "none.mp4")))
    case("project new corrupt video", "project", new(lambda b: b.file("x.mp4", b"garbage" * 100)))
    for tracks in ("0", "-1", "100000", "1000000000"):
        case(f"project new --tracks {tracks}", "project", new(lambda b: S.video, "--tracks", tracks), outputs("p.fsproj"))
    case("project new -o without .fsproj", "project",
         lambda b: ["project", "new", S.video, "-o", str(b.out / "p.txt")])
    case("project new -o in a missing folder", "project",
         lambda b: ["project", "new", S.video, "-o", str(b.out / "no" / "such" / "p.fsproj")])
    case("project new -o is a folder", "project",
         lambda b: (_mkdir(b.out / "d.fsproj"), ["project", "new", S.video, "-o",
                                                                     str(b.out / "d.fsproj")])[1])
    case("project new -o 300-character name", "project",
         lambda b: ["project", "new", S.video, "-o", str(b.out / ("p" * 300 + ".fsproj"))])
    for name, make in odd_videos().items():
        case(f"project new video {name}", "project",
             lambda b, m=make: (_mkdir(b.inp), ["project", "new", str(m(b.inp)), "-o",
                                                            str(b.out / "p.fsproj")])[1], outputs("p.fsproj"))

    def add(audio: Callable[[Sandbox], str], *extra: str, document: Any = None) -> Callable[[Sandbox], list[str]]:
        def setup(b: Sandbox) -> list[str]:
            b.out.mkdir(parents=True, exist_ok=True)
            target = b.out / "p.fsproj"
            target.write_text(H.dumps_loose(S.document if document is None else document))
            return ["project", "add-clip", str(target), audio(b), *extra]
        return setup

    case("add-clip good", "project", add(lambda b: S.wav, "--at", "0.5"), outputs("p.fsproj"))
    case("add-clip 44.1k stereo", "project", add(lambda b: S.wav44, "--at", "0"), outputs("p.fsproj"))
    case("add-clip m4a", "project", add(lambda b: S.m4a, "--at", "0"), outputs("p.fsproj"))
    case("add-clip video's sound", "project", add(lambda b: S.video, "--at", "0"), outputs("p.fsproj"))
    case("add-clip silent video", "project", add(lambda b: S.video_silent, "--at", "0"))
    for bad in ("nan", "inf", "-inf", "-1", "1e20", "1e300"):
        case(f"add-clip --at {bad}", "project", add(lambda b: S.wav, "--at", bad), outputs("p.fsproj"))
    for bad in ("nan", "inf", "1e6", "-1e6", "1e300"):
        case(f"add-clip --gain-db {bad}", "project", add(lambda b: S.wav, "--at", "0", "--gain-db", bad),
             outputs("p.fsproj"))
    for bad in ("0", "-1", "99", "1e9"):
        case(f"add-clip --track {bad}", "project", add(lambda b: S.wav, "--at", "0", "--track", bad))
    hostile_wavs = {
        "NaN float wav": lambda b: str(H.write_float_wav(b.inp / "nan.wav", H.tone_with(float("nan")))),
        "Inf float wav": lambda b: str(H.write_float_wav(b.inp / "inf.wav", H.tone_with(float("inf")))),
        "-Inf float wav": lambda b: str(H.write_float_wav(b.inp / "ninf.wav", H.tone_with(float("-inf")))),
        "1e38 float wav": lambda b: str(H.write_float_wav(b.inp / "huge.wav", H.tone_with(3e38))),
        "1 Hz wav": lambda b: b.file("x.wav", H.wav_bytes(rate=1, frames=4800)),
        "2147483647 Hz wav": lambda b: b.file("x.wav", H.wav_bytes(rate=2_147_483_647)),
        "1024-channel wav": lambda b: b.file("x.wav", H.wav_bytes(channels=1024, frames=48)),
        "0-channel wav": lambda b: b.file("x.wav", H.wav_bytes(channels=0)),
        "empty wav": lambda b: b.file("x.wav", b""),
        "zero-frame wav": lambda b: b.file("x.wav", H.wav_bytes(frames=0)),
        "truncated wav": lambda b: b.file("x.wav", Path(S.wav).read_bytes()[:2000]),
        "random bytes": lambda b: b.file("x.wav", np.random.default_rng(2).bytes(9000)),
        "a project file": lambda b: b.file("x.fsproj", H.dumps_loose(S.document)),
        "missing file": lambda b: str(b.inp / "gone.wav"),
        "a folder": lambda b: (b.inp.mkdir(parents=True, exist_ok=True), str(b.inp))[1],
        "4 GB declared data": lambda b: b.file("x.wav", H.wav_bytes(declared_data=0xFFFFFFF0)),
    }
    for name, make in hostile_wavs.items():
        def setup_one(b: Sandbox, m=make) -> list[str]:
            b.inp.mkdir(parents=True, exist_ok=True)
            return add(m, "--at", "0")(b)
        case(f"add-clip {name}", "project", setup_one, outputs("p.fsproj"),
             expect=r"NaN|Inf|finite" if "float" in name and "1e38" not in name else None)
    case("add-clip to a damaged project", "project", add(lambda b: S.wav, "--at", "0", document=["not", "a project"]))
    case("add-clip to a missing project", "project",
         lambda b: ["project", "add-clip", str(b.out / "none.fsproj"), S.wav, "--at", "0"])
    case("add-clip 250-character clip name", "project",
         add(lambda b: str(make_tone(Path(b.file("x" * 240 + ".wav", b"")), 0.5)), "--at", "0"), outputs("p.fsproj"))


# ---------------------------------------------------------------------------------------------
# Cases: damaged project files (`export`)
# ---------------------------------------------------------------------------------------------
def export(box: Sandbox, project: str, *what: str) -> list[str]:
    box.out.mkdir(parents=True, exist_ok=True)
    args = ["export", project]
    for kind in what or ("mix",):
        args += {"mix": ["--mix", str(box.out / "mix.wav")], "stems": ["--stems", str(box.out / "stems")],
                 "otio": ["--otio", str(box.out / "t.otio")], "video": ["--video", str(box.out / "v.mp4")]}[kind]
    return args


def damaged_project_cases() -> None:
    case("export good mix+stems+otio+video", "project file",
         lambda b: export(b, project_file(b), "mix", "stems", "otio", "video"),
         outputs("mix.wav", "t.otio", "v.mp4"))
    texts = {
        "empty file": "",
        "not JSON": "hello",
        "truncated JSON": H.dumps_loose(S.document)[:200],
        "top-level list": "[1, 2, 3]",
        "top-level string": '"foley"',
        "JSON null": "null",
        "nested objects 100,000 deep": H.nested_json(100_000),
        "nested arrays 100,000 deep": H.nested_json(100_000, kind="array"),
        "nested 100,000 deep inside a take's settings": H.dumps_loose(S.document).replace(
            '"takes": []', '"takes": [{"id": "t", "path": "t.wav", "region_start": 0, "region_end": 1, '
                           '"settings": ' + H.nested_json(100_000) + '}]'),
        "a 100,000-digit integer": H.dumps_loose(S.document).replace('"start": 24000', '"start": ' + "9" * 100_000),
        "a 5,000-digit integer": H.dumps_loose(S.document).replace('"start": 24000', '"start": ' + "9" * 5000),
        "NaN literal gain": H.dumps_loose(S.document).replace('"gain_db": 0.0', '"gain_db": NaN', 1),
        "Infinity literal gain": H.dumps_loose(S.document).replace('"gain_db": 0.0', '"gain_db": Infinity', 1),
        "1e400 gain": H.dumps_loose(S.document).replace('"gain_db": 0.0', '"gain_db": 1e400', 1),
        "UTF-16 encoded": None,
        "UTF-8 BOM": "\ufeff" + H.dumps_loose(S.document),
        "latin-1 bytes": None,
        "duplicate keys": H.dumps_loose(S.document)[:-1] + ', "tracks": 5}',
    }
    for name, text in texts.items():
        def setup(b: Sandbox, n=name, t=text) -> list[str]:
            if n == "UTF-16 encoded":
                path = b.file("p.fsproj", H.dumps_loose(S.document).encode("utf-16"))
            elif n == "latin-1 bytes":
                path = b.file("p.fsproj", H.dumps_loose(doc("name", "caf\u00e9")).encode("latin-1"))
            else:
                path = project_file(b, text=t)
            return export(b, path)
        case(f"project {name}", "project file", setup, outputs("mix.wav"))

    fields: dict[str, tuple[str, Any]] = {
        "fps denominator 0": ("video.fps_den", 0),
        "fps numerator 0": ("video.fps_num", 0),
        "fps negative": ("video.fps_num", -24),
        "fps 10**30/1": ("video.fps_num", 10 ** 30),
        "fps as text": ("video.fps_num", "24"),
        "fps float": ("video.fps_num", 23.976),
        "video duration 1e12 s": ("video.duration", 48_000 * 10 ** 12),
        "video duration negative": ("video.duration", -48_000),
        "video duration 0": ("video.duration", 0),
        "video width negative": ("video.width", -5),
        "video width 10**9": ("video.width", 10 ** 9),
        "video path with NUL": ("video.path", "vi\u0000deo.mp4"),
        "video path empty": ("video.path", ""),
        "video path a folder": ("video.path", "."),
        "video null": ("video", None),
        "video a list": ("video", [1, 2]),
        "clip gain 1e6 dB": ("tracks.0.clips.0.gain_db", 1e6),
        "clip gain -1e6 dB": ("tracks.0.clips.0.gain_db", -1e6),
        "clip gain 1e308 dB": ("tracks.0.clips.0.gain_db", 1e308),
        "clip gain as bool": ("tracks.0.clips.0.gain_db", True),
        "track gain 1e6 dB": ("tracks.0.gain_db", 1e6),
        "clip start negative": ("tracks.0.clips.0.start", -48_000),
        "clip start 10**15": ("tracks.0.clips.0.start", 10 ** 15),
        "clip start 10**30": ("tracks.0.clips.0.start", 10 ** 30),
        "clip source_in > source_out": ("tracks.0.clips.0.source_in", 96_000),
        "clip source_in negative": ("tracks.0.clips.0.source_in", -100),
        "clip source_out 10**12": ("tracks.0.clips.0.source_out", 10 ** 12),
        "clip fade_in negative": ("tracks.0.clips.0.fade_in", -5),
        "clip fade_in 10**15": ("tracks.0.clips.0.fade_in", 10 ** 15),
        "clip source with NUL": ("tracks.0.clips.0.source", "to\u0000ne.wav"),
        "clip source missing": ("tracks.0.clips.0.source", "/nonexistent/none.wav"),
        "clip source a folder": ("tracks.0.clips.0.source", "/"),
        "clip source /dev/zero": ("tracks.0.clips.0.source", "/dev/zero"),
        "clip source not audio": ("tracks.0.clips.0.source", "/etc/hostname"),
        "clip source 5000 characters": ("tracks.0.clips.0.source", "a/" * 2500),
        "clip id missing": ("tracks.0.clips.0", {"source": "x.wav", "start": 0, "source_in": 0, "source_out": 1}),
        "clip a number": ("tracks.0.clips.0", 5),
        "clips not a list": ("tracks.0.clips", {"a": 1}),
        "tracks a string": ("tracks", "tracks"),
        "sample_rate 0": ("sample_rate", 0),
        "sample_rate 44100": ("sample_rate", 44_100),
        "version as text": ("version", "1"),
        "version 2": ("version", 2),
        "version -1": ("version", -1),
        "version 10**20": ("version", 10 ** 20),
        "format wrong": ("format", "something-else"),
        "name 1 MB": ("name", "n" * 1_000_000),
        "markers time negative": ("markers", [{"id": "m", "time": -5, "name": "x"}]),
        "markers time NaN-ish float": ("markers", [{"id": "m", "time": 1.5, "name": "x"}]),
        "take region reversed": ("takes", [{"id": "t", "path": "t.wav", "region_start": 100, "region_end": 5}]),
        "take path traversal": ("takes", [{"id": "t", "path": "../../../../etc/passwd", "region_start": 0,
                                          "region_end": 5}]),
        "recovery_of a number": ("recovery_of", 5),
    }
    for name, (path, value) in fields.items():
        case(f"project {name}", "project file", lambda b, p=path, v=value: export(b, project_file(b, doc(p, v))),
             outputs("mix.wav"))
    case("project duplicate track ids", "project file",
         lambda b: export(b, project_file(b, doc("tracks.1.id", S.document["tracks"][0]["id"])), "stems"),
         wav_inside("stems"))
    case("project duplicate clip ids", "project file",
         lambda b: export(b, project_file(b, _with_clips(S.document, [dict(S.document["tracks"][0]["clips"][0])] * 2))),
         outputs("mix.wav"))
    case("project 200,000 clips", "project file", lambda b: export(b, project_file(b, _many_clips(200_000))),
         outputs("mix.wav"), timeout=120)
    case("project 100 MB file", "project file", lambda b: export(b, project_file(b, _padded(100 * 1024 ** 2))),
         outputs("mix.wav"), timeout=120)
    case("project 100 MB of clips", "project file",
         lambda b: export(b, project_file(b, _many_clips(450_000, name="n" * 20))), outputs("mix.wav"), timeout=120)
    case("project NaN float wav clip, video export", "project file",
         lambda b: export(b, project_file(b, doc("tracks.0.clips.0.source", str(
             H.write_float_wav(_mkdir(b.inp) / "nan.wav", H.tone_with(float("nan")))))), "video"),
         outputs("v.mp4"), expect=r"NaN|non-finite|not finite")
    case("project Inf float wav clip, mix export", "project file",
         lambda b: export(b, project_file(b, doc("tracks.0.clips.0.source", str(
             H.write_float_wav(_mkdir(b.inp) / "inf.wav", H.tone_with(float("inf")))))), "mix"),
         outputs("mix.wav"), expect=r"Inf|non-finite|not finite")
    case("project 1 Hz wav clip", "project file",
         lambda b: export(b, project_file(b, doc("tracks.0.clips.0.source", b.file("x.wav", H.wav_bytes(rate=1))))),
         outputs("mix.wav"))
    case("project a folder", "project file", lambda b: export(b, (_mkdir(b.inp / "p.fsproj"), str(b.inp / "p.fsproj"))[1]))
    case("project missing", "project file", lambda b: export(b, str(b.inp / "none.fsproj")))
    case("project video missing, --video", "project file",
         lambda b: export(b, project_file(b, doc("video.path", "/nonexistent/v.mp4")), "video"))
    case("project no video, --video", "project file", lambda b: export(b, project_file(b, doc("video", None)), "video"))
    case("project video is audio, --video", "project file",
         lambda b: export(b, project_file(b, doc("video.path", S.wav)), "video"))


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _with_clips(document: dict[str, Any], clips: list[dict[str, Any]]) -> dict[str, Any]:
    return H.mutated(document, "tracks.0.clips", clips)


def _many_clips(n: int, name: str = "c") -> dict[str, Any]:
    base = S.document["tracks"][0]["clips"][0]
    clips = [dict(base, id=f"clip-{i}", start=(i % 2000) * 48, name=name) for i in range(n)]
    return _with_clips(S.document, clips)


def _padded(size: int) -> dict[str, Any]:
    """A valid project made ~`size` bytes by a long project name (one huge string)."""
    return doc("name", "n" * size)


# ---------------------------------------------------------------------------------------------
# Cases: names of written files (stems, takes, exports)
# ---------------------------------------------------------------------------------------------
def path_cases() -> None:
    def stems_with(track: dict[str, Any], pre: Callable[[Sandbox], None] | None = None) -> Callable[[Sandbox], list[str]]:
        def setup(b: Sandbox) -> list[str]:
            document = H.mutated(S.document, "tracks.0", dict(S.document["tracks"][0], **track))
            if pre:
                pre(b)
            return export(b, project_file(b, document), "stems")
        return setup

    def escape_folders(b: Sandbox) -> None:
        (b.out / "stems" / "01 x").mkdir(parents=True)
        (b.root / "escape").mkdir(parents=True)

    case("stems: name '...' and an id that climbs out", "paths",
         stems_with({"name": "...", "id": "x/../../../escape/ESCAPED"}, escape_folders), wav_inside("stems"))
    case("stems: name '...' and an absolute id", "paths",
         stems_with({"name": "...", "id": "/tmp/../ESCAPED-abs"}), wav_inside("stems"))
    names = {
        "'../../escape/x'": "../../escape/x", "absolute '/tmp/x'": "/tmp/x", "'..'": "..", "'.'": ".",
        "empty": "", "spaces": "   ", "NUL byte": "a\u0000b", "'CON'": "CON", "'nul.txt'": "nul.txt",
        "'COM1'": "COM1", "300 characters": "t" * 300, "3000 characters": "t" * 3000,
        "emoji 200x": "\U0001f50a" * 200, "newlines": "a\nb\rc", "backslashes": "..\\..\\x",
        "trailing dot": "foley.", "control chars": "\x01\x02\x7f",
    }
    for label, name in names.items():
        case(f"stems: track name {label}", "paths", stems_with({"name": name}), wav_inside("stems"))
    case("stems: two tracks with the same name", "paths",
         lambda b: export(b, project_file(b, H.mutated(doc("tracks.1.name", "Foley 1"), "tracks.1.clips",
                                                       S.document["tracks"][0]["clips"])), "stems"),
         wav_inside("stems"))
    case("stems: track id with NUL", "paths", stems_with({"name": "...", "id": "a\u0000b"}), wav_inside("stems"))
    case("stems: DIR is a file", "paths",
         lambda b: (b.file("f", b"x"), ["export", project_file(b), "--stems", str(b.inp / "f")])[1])
    exports = {
        "mix into a folder": lambda b: ["--mix", str(_mkdir(b.out / "d"))],
        "mix .mp3": lambda b: ["--mix", str(b.out / "m.mp3")],
        "mix no suffix": lambda b: ["--mix", str(b.out / "m")],
        "mix 300-character name": lambda b: ["--mix", str(b.out / ("m" * 300 + ".wav"))],
        "mix missing folder": lambda b: ["--mix", str(b.out / "no" / "m.wav")],
        "otio into a folder": lambda b: ["--otio", str(_mkdir(b.out / "d"))],
        "video .txt": lambda b: ["--video", str(b.out / "v.txt")],
        "video .wav": lambda b: ["--video", str(b.out / "v.wav")],
        "video pcm in mp4": lambda b: ["--video", str(b.out / "v.mp4"), "--audio-codec", "pcm"],
        "video pcm in mov": lambda b: ["--video", str(b.out / "v.mov"), "--audio-codec", "pcm"],
        "nothing asked": lambda b: [],
    }
    for label, make in exports.items():
        case(f"export {label}", "paths", lambda b, m=make: ["export", project_file(b), *m(_mkdir(b.out) and b)],
             outputs() if "pcm in mov" not in label else outputs("v.mov"))


# ---------------------------------------------------------------------------------------------
# Cases: `generate` arguments
# ---------------------------------------------------------------------------------------------
def generate(b: Sandbox, *args: str, input_: str | None = None) -> list[str]:
    return ["generate", input_ or S.video, "--out", str(b.out / "takes"), *GEN, *args]


def argument_cases() -> None:
    case("generate good 1 s", "arguments", lambda b: generate(b, "--region", "0:1"), takes_of(1.0), timeout=120)
    for region in ("nan:1", "0:inf", "inf:inf", "-inf:1", "0:nan", "-1:2", "5:2", "1:1", "0:1e9", "1e300:1e301",
                   "a:b", "1:2:3", ":", "", "0x10:20", "1e-9:2e-9"):
        case(f"generate --region {region!r}", "arguments", lambda b, r=region: generate(b, "--region", r),
             takes_of(None), timeout=120)
    for ref in ("{wav}:nan:1", "{wav}:0:inf", "{wav}:5:1", "{wav}:-1:1", "{wav}:0:1e300", "project:nan:2",
                "project", "{missing}", "{wav}"):
        def setup(b: Sandbox, r=ref) -> list[str]:
            text = r.format(wav=S.wav, missing=str(b.inp / "gone.wav"))
            return generate(b, "--mode", "analogy", "--region", "0:1", "--reference", text)
        case(f"generate --reference {ref}", "arguments", setup, takes_of(1.0), timeout=120)
    flags = {
        "--cfg nan": ["--cfg", "nan"], "--cfg inf": ["--cfg", "inf"], "--cfg -1": ["--cfg", "-1"],
        "--cfg 1e9": ["--cfg", "1e9"], "--cfg 1,,2": ["--cfg", "1,,2"], "--steps 0": ["--steps", "0"],
        "--steps 100000": ["--steps", "100000"], "--takes 0": ["--takes", "0"], "--takes 1000": ["--takes", "1000"],
        "--seed -1": ["--seed", "-1"], "--seed 2**64": ["--seed", str(2 ** 64)], "--context nan": ["--context", "nan"],
        "--context inf": ["--context", "inf"], "--context -1": ["--context", "-1"],
        "--model nonexistent": ["--model", "no-such-model"], "--model ''": ["--model", ""],
        "--device nonsense": ["--device", "quantum"], "--device cuda:7": ["--device", "cuda:7"],
        "--mode analogy without reference": ["--mode", "analogy"], "--mode extend at 0": ["--mode", "extend"],
        "--prompt 100,000 characters": ["--prompt", "wood " * 20_000],
    }
    for label, extra in flags.items():
        case(f"generate {label}", "arguments", lambda b, e=extra: generate(b, "--region", "0:1", *e), takes_of(1.0),
             timeout=120)
    case("generate --out is a file", "arguments",
         lambda b: ["generate", S.video, "--out", b.file("f", b"x"), *GEN, "--region", "0:1"], timeout=120)
    case("generate input missing", "arguments", lambda b: generate(b, input_=str(b.inp / "none.mp4")))
    case("generate input a damaged project", "arguments",
         lambda b: generate(b, "--region", "0:1", input_=project_file(b, text="{")))
    case("generate region past the video's end", "arguments", lambda b: generate(b, "--region", "5:6"),
         takes_of(1.0, note=r"past the end|no picture"), timeout=120)
    for name, make in odd_videos().items():
        case(f"generate video {name}", "arguments",
             lambda b, m=make: generate(b, "--region", "0:1", input_=str(m(_mkdir(b.inp)))), takes_of(1.0),
             timeout=180)


# ---------------------------------------------------------------------------------------------
# Cases: model folders
# ---------------------------------------------------------------------------------------------
def model_run(b: Sandbox, folder: Path) -> list[str]:
    return generate(b, "--region", "0:1", "--model", str(folder))


def with_config(section: str, key: str, value: Any) -> Callable[[Sandbox], list[str]]:
    def setup(b: Sandbox) -> list[str]:
        meta = json.loads(json.dumps(S.demo_meta))
        if section:
            meta["config"][section][key] = value
        else:
            meta["config"][key] = value
        return model_run(b, H.model_folder(b.inp / "model", meta, S.weights))
    return setup


def model_cases() -> None:
    case("model demo copy", "model", with_config("", "name", "demo-copy"), takes_of(1.0), timeout=120)
    values: list[tuple[str, str, Any]] = [
        ("dit", "heads", 0), ("dit", "heads", -1), ("dit", "heads", 7), ("dit", "width", 1e9), ("dit", "width", 2e5),
        ("dit", "width", 0), ("dit", "width", 200_000), ("dit", "depth", 1e6), ("dit", "depth", 0),
        ("dit", "depth", -3), ("dit", "mlp_ratio", 1e9), ("dit", "mlp_ratio", -1.0), ("dit", "mlp_ratio", float("nan")),
        ("dit", "rope_base", 0.0), ("dit", "rope_base", float("inf")),
        ("autoencoder", "hidden", 1e9), ("autoencoder", "hidden", 0), ("autoencoder", "blocks", 10 ** 6),
        ("autoencoder", "latent_channels", 0), ("autoencoder", "latent_channels", 10 ** 6),
        ("autoencoder", "n_fft", 0), ("autoencoder", "n_fft", 10 ** 9), ("autoencoder", "frames_per_latent", 0),
        ("autoencoder", "hop", 0), ("autoencoder", "chunk_latents", 0), ("autoencoder", "overlap_latents", -1),
        ("autoencoder", "kind", "dac"), ("autoencoder", "strides", [0]), ("autoencoder", "kind", "wavenet"),
        ("text", "dim", 0), ("text", "max_tokens", 10 ** 9), ("text", "vocab_size", 0), ("text", "kind", "gpt"),
        ("video", "fps", float("nan")), ("video", "fps", 1e-9), ("video", "fps", float("inf")), ("video", "size", 0),
        ("video", "size", 10 ** 6), ("video", "channels", []), ("video", "channels", [10 ** 9]),
        ("video", "dim", 10 ** 7), ("diffusion", "logsnr_min", float("nan")), ("diffusion", "prediction", "x"),
        ("", "window_seconds", 0.0), ("", "window_seconds", 1e9), ("", "window_seconds", float("nan")),
        ("", "version", 99), ("", "name", "n" * 100_000), ("", "extra_key", 1),
    ]
    for section, key, value in values:
        shown = value if not isinstance(value, str) or len(value) < 20 else f"{len(value)} chars"
        case(f"model {section or 'config'}.{key} = {shown}", "model", with_config(section, key, value), takes_of(1.0),
             timeout=120)

    def folder(make: Callable[[Path], None]) -> Callable[[Sandbox], list[str]]:
        def setup(b: Sandbox) -> list[str]:
            target = _mkdir(b.inp / "model")
            make(target)
            return model_run(b, target)
        return setup

    def config_text(text: str | bytes) -> Callable[[Path], None]:
        def make(d: Path) -> None:
            (d / "config.json").write_bytes(text if isinstance(text, bytes) else text.encode())
            (d / "model.safetensors").symlink_to(S.weights)
        return make

    meta_text = json.dumps(S.demo_meta)
    texts = {
        "config not UTF-8": b"\xff\xfe\x00garbage\x80\x81",
        "config latin-1 text": json.dumps(dict(S.demo_meta, card={"t": "caf\u00e9"}), ensure_ascii=False).encode("latin-1"),
        "config nested 100,000 deep": H.nested_json(100_000),
        "config section nested 100,000 deep": meta_text.replace('"dit": {', '"dit": ' + H.nested_json(100_000)[:-1] + ', "x": {', 1),
        "config empty": "",
        "config a list": "[]",
        "config without 'config'": json.dumps({"format": "foley-studio-model", "format_version": 1}),
        "config format_version 99": meta_text.replace('"format_version": 1', '"format_version": 99'),
        "config dit a number": meta_text.replace('"dit": {', '"dit": 5, "dit_": {', 1),
        "config 1 MB card": json.dumps(dict(S.demo_meta, card={"x": "y" * 1_000_000})),
    }
    for label, text in texts.items():
        case(f"model {label}", "model", folder(config_text(text)), takes_of(1.0) if "card" in label else None,
             timeout=120)

    def weights(content: bytes | None, name: str = "model.safetensors") -> Callable[[Path], None]:
        def make(d: Path) -> None:
            (d / "config.json").write_text(meta_text)
            if content is not None:
                (d / name).write_bytes(content)
        return make

    case("model weights missing", "model", folder(weights(None)), timeout=120)
    case("model weights empty", "model", folder(weights(b"")), timeout=120)
    case("model weights random bytes", "model", folder(weights(np.random.default_rng(3).bytes(4096))), timeout=120)
    case("model weights truncated", "model",
         folder(weights(Path(S.weights).read_bytes()[:100_000])), timeout=120)
    case("model weights header claims 10**15 bytes", "model",
         folder(weights((10 ** 15).to_bytes(8, "little") + b"{}")), timeout=120)
    case("model only a pickle", "model",
         folder(lambda d: (d.joinpath("config.json").write_text(meta_text), H.write_pickle(d / "model.pt"))),
         expect=r"pickle", timeout=120)
    case("model folder is a .pt file", "model",
         lambda b: model_run(b, H.write_pickle(_mkdir(b.inp) / "model.pt")), expect=r"pickle", timeout=120)
    case("model folder missing", "model", lambda b: model_run(b, b.inp / "none"), timeout=120)
    case("model config a named pipe", "model",
         folder(lambda d: (os.mkfifo(d / "config.json"), d.joinpath("model.safetensors").symlink_to(S.weights))),
         expect=r"regular file", timeout=120)
    case("model weights a named pipe", "model",
         folder(lambda d: (d.joinpath("config.json").write_text(meta_text), os.mkfifo(d / "model.safetensors"))),
         expect=r"regular file", timeout=120)
    case("model weights of another config", "model",
         with_config("dit", "depth", 2), timeout=120)

    def video_encoder(target: Callable[[Path], str]) -> Callable[[Sandbox], list[str]]:
        def setup(b: Sandbox) -> list[str]:
            meta = json.loads(meta_text)
            meta["config"]["video"]["kind"] = "pretrained"
            meta["config"]["video"]["path"] = target(_mkdir(b.inp))
            return model_run(b, H.model_folder(b.inp / "model", meta, S.weights))
        return setup

    case("model video_encoder path a text file", "model",
         video_encoder(lambda d: (d.joinpath("enc.safetensors").write_text("not tensors"), str(d / "enc.safetensors"))[1]),
         timeout=120)
    case("model video_encoder path a JSON file", "model",
         video_encoder(lambda d: (d.joinpath("enc.json").write_text("{}"), str(d / "enc.json"))[1]), timeout=120)
    case("model video_encoder path a pickle", "model",
         video_encoder(lambda d: str(H.write_pickle(d / "enc.pt"))), expect=r"pickle", timeout=120)
    case("model video_encoder path a pickle named .safetensors", "model",
         video_encoder(lambda d: str(H.write_pickle(d / "enc.safetensors"))), timeout=120)
    case("model video_encoder path missing", "model", video_encoder(lambda d: str(d / "none.safetensors")),
         timeout=120)
    case("model video_encoder path a folder", "model", video_encoder(lambda d: str(d)), timeout=120)
    case("model video_encoder path null", "model", video_encoder(lambda d: None), timeout=120)

    def t5(make: Callable[[Path], None]) -> Callable[[Sandbox], list[str]]:
        def setup(b: Sandbox) -> list[str]:
            target = _mkdir(b.inp / "t5")
            make(target)
            meta = json.loads(meta_text)
            meta["config"]["text"].update(kind="t5", dim=64, path=str(target))
            return model_run(b, H.model_folder(b.inp / "model", meta, S.weights))
        return setup

    case("model T5 folder holding a pickle", "model", t5(_t5_pickle_folder), expect=r"pickle", timeout=120)
    case("model T5 folder empty", "model", t5(lambda d: None), timeout=120)
    case("model T5 folder with random weights file", "model",
         t5(lambda d: (_t5_pickle_folder(d), (d / "pytorch_model.bin").write_bytes(b"\x00" * 100))), timeout=120)


def _t5_pickle_folder(folder: Path) -> None:
    """A loadable tokenizer and T5 config beside weights stored as a pickle (pytorch_model.bin)."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({"<pad>": 0, "</s>": 1, "<unk>": 2, "wood": 3}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "PreTrainedTokenizerFast", "pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>"}))
    (folder / "config.json").write_text(json.dumps(
        {"model_type": "t5", "architectures": ["T5EncoderModel"], "d_model": 64, "d_kv": 16, "d_ff": 128,
         "num_layers": 1, "num_heads": 4, "vocab_size": 8}))

    # argparse.Namespace is an ordinary class, which a weights_only unpickler refuses to build
    torch.save({"encoder.embed_tokens.weight": torch.zeros(8, 64), "x": argparse.Namespace()},
               folder / "pytorch_model.bin")


# ---------------------------------------------------------------------------------------------
# Cases: the library
# ---------------------------------------------------------------------------------------------
def library_cases() -> None:
    def lib(*args: str, db: Callable[[Sandbox], str] | None = None) -> Callable[[Sandbox], list[str]]:
        def setup(b: Sandbox) -> list[str]:
            path = db(b) if db else str(_mkdir(b.out) / "lib.sqlite3")
            return ["library", *args, "--db", path]
        return setup

    def hostile_folder(b: Sandbox) -> str:
        d = _mkdir(b.inp / "sfx")
        H.write_float_wav(d / "nan.wav", H.tone_with(float("nan")))
        (d / "rate1.wav").write_bytes(H.wav_bytes(rate=1))
        (d / "many.wav").write_bytes(H.wav_bytes(channels=1024, frames=48))
        (d / "empty.wav").write_bytes(b"")
        (d / "junk.flac").write_bytes(b"junk" * 100)
        shutil.copy(S.wav, d / "good.wav")
        return str(d)

    case("library add a hostile folder", "library",
         lambda b: ["library", "add", hostile_folder(b), "--db", str(_mkdir(b.out) / "lib.sqlite3")],
         outputs("lib.sqlite3"), timeout=120)
    case("library add a missing folder", "library", lambda b: lib("add", str(b.inp / "none"))(b))
    case("library db is garbage", "library",
         lib("stats", db=lambda b: b.file("lib.sqlite3", b"not a database" * 100)))
    case("library db is a folder", "library", lib("stats", db=lambda b: str(_mkdir(b.inp / "db"))))
    for query in ('"', "*", "NEAR(", "dur:<nan", "dur:<1e999", "sr:abc", "dur:>-inf", "AND OR NOT", "\u0000"[:0] + "-"):
        case(f"library search {query!r}", "library", lib("search", "--mode", "text", "--", query), outputs())
    case("library search --limit -1", "library", lib("search", "--mode", "text", "--limit", "-1", "wood"), outputs())
    case("library search --limit 10**12", "library",
         lib("search", "--mode", "text", "--limit", str(10 ** 12), "wood"), outputs())
    case("library similar a NaN wav", "library",
         lambda b: lib("similar", str(H.write_float_wav(_mkdir(b.inp) / "nan.wav", H.tone_with(float("nan")))))(b),
         timeout=120)
    case("library similar a missing file", "library", lambda b: lib("similar", str(b.inp / "none.wav"))(b))


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------
def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    os.setsid()


def _files(root: Path) -> set[str]:
    found = set()
    for folder, dirs, names in os.walk(root):
        for n in names + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            found.add(os.path.join(folder, n))
    return found


def run_case(c: Case, work: Path, code: Path, python: str, timeout: float) -> Outcome:
    box = Sandbox(work / re.sub(r"[^\w.-]+", "_", c.name)[:80])
    shutil.rmtree(box.root, ignore_errors=True)
    for folder in (box.inp, box.out, box.home):
        folder.mkdir(parents=True, exist_ok=True)
    try:
        argv = c.setup(box)
    except Exception as exc:   # noqa: BLE001 - a case that cannot be built is reported, not fatal
        return Outcome(c.name, c.group, "setup failed", 0.0, f"{type(exc).__name__}: {exc}")
    watched = [box.root, S.root]
    before = set().union(*(_files(w) for w in watched))
    env = dict(os.environ, PYTHONPATH=str(code), FOLEY_STUDIO_HOME=str(box.home), OMP_NUM_THREADS="1",
               FOLEY_STUDIO_THREADS="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONDONTWRITEBYTECODE="1",
               QT_QPA_PLATFORM="offscreen")
    t0 = time.perf_counter()
    proc = subprocess.Popen([python, "-m", "foley_studio", *argv], cwd=str(box.root), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, preexec_fn=_limit_memory)
    try:
        out, err = proc.communicate(timeout=c.timeout or timeout)
        rc: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, err = proc.communicate()
        rc = None
    seconds = time.perf_counter() - t0
    after = set().union(*(_files(w) for w in watched))
    allowed = (str(box.out) + os.sep, str(box.home) + os.sep)
    escaped = sorted(p for p in after - before if not p.startswith(allowed))
    result = Result(rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), seconds, escaped)
    outcome, detail = classify(c, box, result)
    return Outcome(c.name, c.group, outcome, seconds, detail, rc)


def classify(c: Case, box: Sandbox, r: Result) -> tuple[str, str]:
    ours = [line for line in r.stderr.splitlines() if re.match(r"^foley-studio[\w -]*: error: ", line)]
    message = ours[0].strip() if ours else _last_line(r.stderr)
    if r.escaped:
        return "outside", f"wrote {r.escaped[:3]}"
    if r.rc is None:
        return "hang", f"no exit within {r.seconds:.0f} s"
    if "Traceback (most recent call last)" in r.stderr + r.stdout:
        return "traceback", _exception_line(r.stderr)
    if r.rc < 0:
        return "crash", f"signal {-r.rc}"
    if r.rc == 2:
        if not message or "error" not in message.lower():
            return "traceback", f"exit 2 without an error message: {message!r}"
        if c.expect and not re.search(c.expect, message, re.I):
            return "misleading", message[:300]
        return "clean", message[:300]
    if r.rc == 0:
        problem = c.check(box, r) if c.check else None
        return ("wrong", problem) if problem else ("correct", _last_line(r.stdout)[:200])
    return "traceback", f"exit {r.rc}: {message[:300]}"


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def _exception_line(text: str) -> str:
    lines = [line for line in text.splitlines() if re.match(r"^\w[\w.]*(Error|Exception|Interrupt)\b", line)]
    return (lines[-1] if lines else _last_line(text))[:300]


# What the message of each case the issue lists must name (besides being a clean one-line error).
EXPECT = {
    "project nested objects 100,000 deep": "nested", "project nested arrays 100,000 deep": "nested",
    "project nested 100,000 deep inside a take's settings": "nested", "project fps denominator 0": "fps_den",
    "project clip gain 1e6 dB": "gain_db", "project video duration 1e12 s": "duration",
    "project video duration negative": "duration", "project 100 MB file": "MiB", "project 100 MB of clips": "MiB",
    "add-clip 1 Hz wav": "1 Hz", "project 1 Hz wav clip": "1 Hz",
    "generate --region 'nan:1'": "--region", "generate --region '0:inf'": "--region",
    "generate --reference {wav}:nan:1": "--reference",
    "model dit.heads = 0": "heads", "model dit.width = 1000000000.0": "width", "model dit.width = 200000.0": "width",
    "model autoencoder.hidden = 1000000000.0": "hidden", "model dit.depth = 1000000.0": "depth",
    "model config not UTF-8": "UTF-8", "model config nested 100,000 deep": "nested", "model video.fps = nan": "fps",
    "model video_encoder path a text file": "safetensors", "model video_encoder path a JSON file": "safetensors",
    "export video .txt": "cannot hold the picture", "project /dev/zero": "regular file",
    "project a named pipe": "regular file",
}


def special_file_cases() -> None:
    case("project /dev/zero", "project file", lambda b: export(b, "/dev/zero"))
    case("project a named pipe", "project file",
         lambda b: (os.mkfifo(_mkdir(b.inp) / "p.fsproj"), export(b, str(b.inp / "p.fsproj")))[1])
    case("add-clip a named pipe", "project",
         lambda b: (os.mkfifo(_mkdir(b.inp) / "a.wav"), _mkdir(b.out).joinpath("p.fsproj").write_text(
             H.dumps_loose(S.document)), ["project", "add-clip", str(b.out / "p.fsproj"), str(b.inp / "a.wav"),
                                         "--at", "0"])[2])
    case("generate a named pipe", "arguments",
         lambda b: (os.mkfifo(_mkdir(b.inp) / "v.mp4"), generate(b, "--region", "0:1", input_=str(b.inp / "v.mp4")))[1])


def build_cases() -> None:
    CASES.clear()
    for make in (media_cases, project_cases, damaged_project_cases, special_file_cases, path_cases, argument_cases,
                 model_cases, library_cases):
        make()
    for c in CASES:
        c.expect = c.expect or EXPECT.get(c.name)
    missing = sorted(set(EXPECT) - {c.name for c in CASES})
    assert not missing, f"EXPECT names cases that do not exist: {missing}"


def main() -> None:
    global S
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=REPO, help="the checkout whose foley_studio runs (default: this one)")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--only", default=None, help="run only cases whose name or group contains this")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a case counts as hung")
    parser.add_argument("--work", type=Path, default=None, help="sandbox folder (default: a temporary one, removed)")
    parser.add_argument("--json", type=Path, default=None, help="write every outcome here")
    parser.add_argument("--list", action="store_true", help="list the cases and stop")
    args = parser.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="hostile-"))
    S = Shared(work / "shared")       # the cases' texts are built from the shared media
    build_cases()
    selected = [c for c in CASES if not args.only or args.only.lower() in (c.name + " " + c.group).lower()]
    if args.list:
        for c in selected:
            print(f"{c.group:14} {c.name}")
        print(f"{len(selected)} cases")
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
        return
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda c: _report(run_case(c, work / "cases", args.code.resolve(), args.python,
                                                           args.timeout)), selected))
    print_summary(results, time.perf_counter() - t0, args.code)
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=1))
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


def _report(o: Outcome) -> Outcome:
    print(f"{o.outcome:10} {o.seconds:6.1f}s  [{o.group}] {o.case}: {o.detail[:160]}", flush=True)
    return o


def print_summary(results: list[Outcome], seconds: float, code: Path) -> None:
    groups = sorted({r.group for r in results}, key=[c.group for c in CASES].index)
    kinds = [k for k in OUTCOMES + ("setup failed",) if any(r.outcome == k for r in results)]
    print(f"\ncode: {code}  ({len(results)} cases, {seconds:.0f} s)")
    print(f"{'group':14}" + "".join(f"{k:>12}" for k in kinds) + f"{'total':>8}")
    for g in groups + ["all"]:
        rows = [r for r in results if g == "all" or r.group == g]
        print(f"{g:14}" + "".join(f"{sum(r.outcome == k for r in rows):>12}" for k in kinds) + f"{len(rows):>8}")


if __name__ == "__main__":
    main()
