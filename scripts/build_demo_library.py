#!/usr/bin/env python3
"""Rebuild `resources/demo/library/` from the Debian package `openttd-opensfx`.

    apt-get download openttd-opensfx          # or pass a .deb you already have
    python scripts/build_demo_library.py [--deb openttd-opensfx_*.deb] [--cat opensfx.cat] [--out DIR]

`opensfx.cat` (OpenTTD's sound container, written by catcodec) is laid out as:

* a table of `(offset: u32, size: u32)` little-endian pairs, one per sample; the top bit of each
  offset is a flag and must be masked off; the first offset therefore also gives the table length;
* at each offset: a length-prefixed, NUL-terminated caption with credits
  (`"Ship horn". Original "ship2_bergen.aif" by Leon Milo. Edited by Wuzzy. License: ...`),
  then `size` bytes of a RIFF WAV, then a length-prefixed source file name (`src/wav/osfx_06.wav`).

Each non-empty sample becomes a 48 kHz 16-bit FLAC whose Vorbis comments carry the caption
(TITLE and COMMENT), the credits (ARTIST/COMMENT) and the licence; `ATTRIBUTION.md` and
`opensfx.json` list every file with its author and licence.
"""
from __future__ import annotations

import argparse
import io
import json
import re
import struct
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "resources" / "demo" / "library"
CAT_IN_DEB = "usr/share/games/openttd/baseset/opensfx/opensfx.cat"
TARGET_RATE = 48000
OFFSET_FLAG = 0x8000_0000

LICENCE_SHORT = {
    "Creative Commons Attribution 3.0 Unported": "CC-BY-3.0",
    "Creative Commons Attribution 3.0": "CC-BY-3.0",
    "Creative Commons Attribution-ShareAlike 3.0 Unported": "CC-BY-SA-3.0",
    "Creative Commons Zero 1.0": "CC0-1.0",
}


@dataclass
class Sample:
    """One recording of the container, with its credits parsed."""

    index: int
    source_name: str   # e.g. "src/wav/osfx_06.wav"
    caption: str       # e.g. "Ship horn"
    credits: str       # everything after the caption, as written by OpenSFX
    authors: str       # original author(s) and editor(s), human-readable
    licence: str       # SPDX-style id
    file: str = ""     # output file name, filled in when written


def _read_pascal(data: bytes, pos: int) -> tuple[str, int]:
    """A length-prefixed (and usually NUL-terminated) string at `pos`; returns it and the next position."""
    length = data[pos]
    raw = data[pos + 1: pos + 1 + length]
    return raw.split(b"\0", 1)[0].decode("utf-8", errors="replace"), pos + 1 + length


def parse_cat(data: bytes) -> list[tuple[str, bytes, str]]:
    """(caption with credits, RIFF bytes, source name) for every entry of an OpenTTD .cat file."""
    table_bytes = struct.unpack_from("<I", data, 0)[0] & ~OFFSET_FLAG
    if table_bytes % 8 or table_bytes > len(data):
        raise ValueError(f"not an OpenTTD sound container: table size {table_bytes} bytes")
    entries = []
    for i in range(table_bytes // 8):
        offset, size = struct.unpack_from("<II", data, i * 8)
        offset &= ~OFFSET_FLAG
        text, pos = _read_pascal(data, offset)
        riff = data[pos: pos + size]
        if riff[:4] != b"RIFF":
            raise ValueError(f"entry {i}: expected RIFF at byte {pos}, found {riff[:4]!r}")
        source, _ = _read_pascal(data, pos + size)
        entries.append((text, riff, source))
    return entries


_CAPTION = re.compile(r'^"(?P<caption>[^"]*)"\.?\s*(?P<credits>.*)$', re.S)
_LICENCE = re.compile(r"License:\s*(?P<licence>[^.]*(?:\.\d[^.]*)?)\.")


def parse_credits(text: str) -> tuple[str, str, str, str]:
    """Split an OpenSFX caption line into (caption, credits, authors, licence id)."""
    m = _CAPTION.match(text.strip())
    if not m:
        return text.strip(), "", "unknown", "unknown"
    caption, credits = m["caption"].strip(), m["credits"].strip()
    lic = _LICENCE.search(credits)
    licence_text = lic["licence"].strip() if lic else ""
    licence = LICENCE_SHORT.get(licence_text, licence_text or "unknown")
    authors = (credits[: lic.start()] if lic else credits).strip().rstrip(".")
    authors = re.sub(r"^By\s+", "", authors)  # "By Janis Lukss" -> "Janis Lukss"
    return caption, credits, authors, licence


def _slug(caption: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", caption.lower()).strip("_")


def convert(riff: bytes) -> np.ndarray:
    """Decode a RIFF WAV and resample it to 48 kHz, float32 (N,) or (N, C)."""
    audio, rate = sf.read(io.BytesIO(riff), dtype="float32", always_2d=False)
    if rate != TARGET_RATE:
        audio = soxr.resample(audio, rate, TARGET_RATE, quality="HQ").astype(np.float32)
    return np.clip(audio, -1.0, 1.0)


def write_flac(path: Path, audio: np.ndarray, sample: Sample) -> None:
    with sf.SoundFile(path, "w", samplerate=TARGET_RATE, channels=1 if audio.ndim == 1 else audio.shape[1],
                      format="FLAC", subtype="PCM_16") as f:
        f.title = sample.caption
        f.comment = sample.caption          # Vorbis COMMENT: what most SFX browsers show as description
        f.artist = sample.authors
        f.copyright = sample.credits
        f.license = sample.licence
        f.album = "OpenSFX 1.0.3"
        f.tracknumber = str(sample.index)
        f.write(audio)


def write_attribution(out: Path, samples: list[Sample]) -> None:
    lines = [
        "# Demo SFX library: attribution",
        "",
        "These recordings are the captioned samples of **OpenSFX 1.0.3** (the Debian package",
        "`openttd-opensfx`, upstream https://github.com/OpenTTD/OpenSFX), converted to 48 kHz 16-bit",
        "FLAC by `scripts/build_demo_library.py`; the caption is stored as each file's TITLE/COMMENT.",
        "Each sample is licensed as listed below (CC BY 3.0, CC BY-SA 3.0 or CC0 1.0); OpenSFX as a",
        "collection is CC BY-SA 3.0. Licence texts: https://creativecommons.org/licenses/by/3.0/,",
        "https://creativecommons.org/licenses/by-sa/3.0/, https://creativecommons.org/publicdomain/zero/1.0/.",
        "Changes made here: resampled from 44.1 kHz to 48 kHz and re-encoded as FLAC.",
        "",
        "| File | Caption | Author(s) | Licence |",
        "|---|---|---|---|",
    ]
    for s in samples:
        lines.append(f"| `{s.file}` | {s.caption} | {s.authors.replace('|', '/')} | {s.licence} |")
    (out / "ATTRIBUTION.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "opensfx.json").write_text(json.dumps([asdict(s) for s in samples], indent=1, ensure_ascii=False)
                                      + "\n", encoding="utf-8")


def cat_from_deb(deb: Path, workdir: Path) -> Path:
    subprocess.run(["dpkg-deb", "-x", str(deb), str(workdir)], check=True)
    return workdir / CAT_IN_DEB


def build(cat: Path, out: Path) -> list[Sample]:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.flac"):
        old.unlink()
    samples = []
    for i, (text, riff, source) in enumerate(parse_cat(cat.read_bytes())):
        caption, credits, authors, licence = parse_credits(text)
        if caption.lower().startswith("unused"):
            continue  # two silent placeholders in the set
        sample = Sample(i, source, caption, credits, authors, licence)
        sample.file = f"opensfx_{i:02d}_{_slug(caption)}.flac"
        write_flac(out / sample.file, convert(riff), sample)
        samples.append(sample)
    write_attribution(out, samples)
    return samples


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--deb", type=Path, help="openttd-opensfx .deb (default: apt-get download it)")
    src.add_argument("--cat", type=Path, help="an already extracted opensfx.cat")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        cat = args.cat
        if cat is None:
            deb = args.deb
            if deb is None:
                subprocess.run(["apt-get", "download", "openttd-opensfx"], cwd=tmp, check=True)
                deb = next(Path(tmp).glob("openttd-opensfx_*.deb"))
            cat = cat_from_deb(deb, Path(tmp) / "x")
        samples = build(cat, args.out)
    size = sum(p.stat().st_size for p in args.out.glob("*.flac"))
    print(f"wrote {len(samples)} FLAC files ({size / 1e6:.1f} MB) and ATTRIBUTION.md to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
