"""Real recordings for the procedural Foley world: where they come from, what they sound like, their licences.

Two kinds of source feed the world's soundtracks:
- the bundled demo library (`resources/demo/library/`, OpenSFX recordings with captions), and
- freely licensed Debian sound packages, fetched with `apt-get download` + `dpkg -x` into the cache
  (`cache_dir('world-sources/v1')`); they are never committed, and `sources.json` there records
  each package's version and copyright file.

Every usable file is mapped to a *material* (what the sounding object is made of) and a *kind*
(`impact`: short hits whose onsets become event grains; `texture`: sustained friction/rolling noise).
The mapping is a short list of rules over the file's path and caption, so an added library file with
a telling caption is picked up without code changes.
"""
from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from foley_studio.core.errors import FoleyError
from foley_studio.core.paths import DEMO_LIBRARY_DIR, cache_dir
from foley_studio.core.timebase import SAMPLE_RATE

log = logging.getLogger(__name__)

SOURCES_KIND = "world-sources/v1"
DEBIAN_PACKAGES = ("bucklespring-data", "heroes-sound-effects", "sound-theme-freedesktop")
AUDIO_SUFFIXES = (".wav", ".flac", ".oga", ".ogg")


class WorldSourceError(FoleyError):
    """The world's source recordings are missing or unusable."""


@dataclass(frozen=True)
class SourceEntry:
    """One recording and what it stands for in the world."""

    path: str
    material: str
    kind: str            # "impact" | "texture"
    licence: str
    description: str


# (pattern over "path | caption" lower-cased, material, kind, licence). First match wins.
# Chosen by listening to what each package/caption describes: key switches are plastic clicks,
# coins/cash tills/bells are metal, splats are wet earth, trees and saws are wood, paper rolls and
# trash are paper.
RULES: tuple[tuple[str, str, str, str], ...] = (
    (r"buckle/wav/", "plastic", "impact", "GPL-2+ (bucklespring-data, Ico Doornekamp)"),
    (r"heroes/sfx/(coins|argent01)\.wav", "metal", "impact", "GPL-2+ (heroes-sound-effects)"),
    (r"heroes/sfx/clock0[12]\.wav", "metal", "impact", "GPL-2+ (heroes-sound-effects)"),
    (r"heroes/sfx/ecrase02\.wav", "earth", "impact", "GPL-2+ (heroes-sound-effects)"),
    (r"freedesktop/stereo/bell\.oga", "metal", "impact", "CC-BY-3.0 (sound-theme-freedesktop, R. Boulanger)"),
    (r"freedesktop/stereo/camera-shutter\.oga", "plastic", "impact",
     "CC-BY-SA-3.0 (sound-theme-freedesktop, horsthorstensen)"),
    (r"freedesktop/stereo/trash-empty\.oga", "paper", "impact",
     "CC-BY-3.0 (sound-theme-freedesktop, R. Boulanger)"),
    (r"toilet paper|paper roll", "paper", "texture", "see ATTRIBUTION.md"),
    (r"cash till|coin|toffee quarry", "metal", "impact", "see ATTRIBUTION.md"),
    (r"building bridge|level crossing|metal", "metal", "impact", "see ATTRIBUTION.md"),
    (r"splat|toffee|mud|dirt|gravel", "earth", "impact", "see ATTRIBUTION.md"),
    (r"jackhammer|quarry|stone|rock", "earth", "texture", "see ATTRIBUTION.md"),
    (r"crashing tree|falling tree|wood|timber", "wood", "impact", "see ATTRIBUTION.md"),
    (r"sawmill|sawing", "wood", "texture", "see ATTRIBUTION.md"),
    (r"glass|crash", "glass", "impact", "see ATTRIBUTION.md"),
)


# --------------------------------------------------------------------------- fetching

def debian_sources_dir() -> Path:
    return cache_dir(SOURCES_KIND)


def fetch_debian_sources(dest: Path | None = None, packages: tuple[str, ...] = DEBIAN_PACKAGES) -> Path:
    """Download and unpack the Debian sound packages into `dest` (default: the cache); idempotent."""
    dest = Path(dest) if dest else debian_sources_dir()
    record_path = dest / "sources.json"
    record = json.loads(record_path.read_text()) if record_path.exists() else {}
    missing = [p for p in packages if p not in record]
    if not missing:
        return dest
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        raise WorldSourceError(
            f"apt-get/dpkg are needed to fetch {', '.join(missing)} into {dest}; on a non-Debian system "
            "unpack those packages there by hand or use only the demo library (--sources library)")
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run(["apt-get", "download", *missing], cwd=tmp, capture_output=True, text=True)
        if run.returncode != 0:
            raise WorldSourceError(f"apt-get download {' '.join(missing)} failed: {run.stderr.strip()[-300:]}; "
                                   "run `apt-get update` first")
        for deb in sorted(Path(tmp).glob("*.deb")):
            name, version = deb.stem.split("_")[:2]
            target = dest / name
            subprocess.run(["dpkg", "-x", str(deb), str(target)], check=True)
            copyright_file = next(target.rglob("copyright"), None)
            record[name] = {"version": version,
                            "copyright": str(copyright_file.relative_to(dest)) if copyright_file else None}
    record_path.write_text(json.dumps(record, indent=2, sort_keys=True))
    log.info("fetched %s into %s", ", ".join(missing), dest)
    return dest


# --------------------------------------------------------------------------- discovery

def _library_description(path: Path) -> str:
    """Caption of a demo-library file: sidecar JSON/TXT if present, else the file's own tags."""
    for sidecar in (path.with_suffix(".json"), path.with_suffix(".txt")):
        if sidecar.exists():
            text = sidecar.read_text(errors="replace")
            if sidecar.suffix == ".json":
                try:
                    data = json.loads(text)
                    return str(data.get("caption") or data.get("description") or data.get("title") or "")
                except json.JSONDecodeError:
                    return ""
            return text.strip()
    try:
        with sf.SoundFile(str(path)) as f:
            return " ".join(filter(None, (f.title, f.comment)))
    except (RuntimeError, sf.LibsndfileError, AttributeError):
        return ""


def _library_index(root: Path) -> dict[str, dict]:
    """File name -> its record in any JSON list beside the library files (captions, authors, licences)."""
    index: dict[str, dict] = {}
    for path in sorted(root.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, OSError):
            continue
        if isinstance(data, list):
            index.update({str(d["file"]): d for d in data if isinstance(d, dict) and "file" in d})
    return index


def classify(path_text: str, description: str) -> tuple[str, str, str] | None:
    """(material, kind, licence) for a file, or None when no rule claims it."""
    key = f"{path_text} | {description}".lower()
    for pattern, material, kind, licence in RULES:
        if re.search(pattern, key):
            return material, kind, licence
    return None


def discover_sources(debian_dir: Path | None = None, library_dir: Path | None = DEMO_LIBRARY_DIR) -> list[SourceEntry]:
    """Every recording under the given folders that a rule maps to a material, sorted by path."""
    entries: list[SourceEntry] = []
    roots = [(Path(debian_dir), False)] if debian_dir else []
    if library_dir and Path(library_dir).is_dir():
        roots.append((Path(library_dir), True))
    for root, is_library in roots:
        index = _library_index(root) if is_library else {}
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() not in AUDIO_SUFFIXES:
                continue
            description = _library_description(path) if is_library else ""
            found = classify(path.as_posix(), description)
            if found:
                material, kind, licence = found
                if path.name in index:
                    licence = f"{index[path.name].get('licence')} ({index[path.name].get('authors')})"
                entries.append(SourceEntry(str(path), material, kind, licence, description=description))
    return sorted(entries, key=lambda e: e.path)


# --------------------------------------------------------------------------- the bank

def load_mono_48k(path: str | Path) -> np.ndarray:
    data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    mono = data.mean(axis=1)
    if sr != SAMPLE_RATE:
        mono = soxr.resample(mono, sr, SAMPLE_RATE).astype(np.float32)
    return mono


def _envelope(x: np.ndarray, win: int = 240) -> np.ndarray:
    """Peak envelope in 5 ms blocks, one value per block."""
    n = len(x) // win
    return np.abs(x[: n * win]).reshape(n, win).max(axis=1) if n else np.zeros(0, np.float32)


def split_impacts(x: np.ndarray, *, max_len: float = 0.6, min_gap: float = 0.08,
                  rel_threshold: float = 0.25) -> list[np.ndarray]:
    """Cut a recording into onset-aligned grains: each starts 1 ms before a strong rise of its envelope."""
    win = 240
    env = _envelope(x, win)
    if env.size < 2 or env.max() <= 1e-4:
        return []
    threshold = rel_threshold * env.max()
    previous = np.concatenate([[0.0], env[:-1]])           # silence before the file starts
    rises = np.flatnonzero((env >= threshold) & (env > 2.0 * previous + 1e-4))
    grains: list[np.ndarray] = []
    last = -10**9
    for block in rises:
        start = block * win
        if start - last < min_gap * SAMPLE_RATE:
            continue
        # refine the onset to the first sample above half the block's peak, 1 ms pre-roll
        seg = np.abs(x[start - win if start >= win else 0: start + win])
        offset = int(np.argmax(seg >= 0.5 * seg.max())) + max(0, start - win)
        onset = max(0, offset - SAMPLE_RATE // 1000)
        grain = x[onset: onset + int(max_len * SAMPLE_RATE)].copy()
        fade = min(len(grain) // 4, SAMPLE_RATE // 50)
        if fade:
            grain[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        if len(grain) > SAMPLE_RATE // 50:
            grains.append(grain)
        last = start
    return grains


@dataclass
class MaterialSounds:
    """The grains and textures of one material."""

    impacts: list[np.ndarray]
    textures: list[np.ndarray]


class SourceBank:
    """Recordings decoded once and cut into per-material impact grains and textures."""

    def __init__(self, entries: list[SourceEntry]):
        self.entries = list(entries)
        self.materials: dict[str, MaterialSounds] = {}
        for entry in self.entries:
            x = load_mono_48k(entry.path)
            peak = float(np.abs(x).max()) if x.size else 0.0
            if peak < 1e-4:
                continue
            x = x / peak
            sounds = self.materials.setdefault(entry.material, MaterialSounds([], []))
            if entry.kind == "impact":
                sounds.impacts.extend(split_impacts(x))
            elif len(x) > SAMPLE_RATE // 4:
                sounds.textures.append(x)
        # a material is usable when it can sound an impact; textures are synthesised from grains otherwise
        self.materials = {m: s for m, s in sorted(self.materials.items()) if s.impacts}
        if not self.materials:
            raise WorldSourceError("no usable recordings found for the Foley world; run "
                                   "`foley-studio world fetch-sources` or check resources/demo/library/")
        log.info("source bank: %s", {m: (len(s.impacts), len(s.textures)) for m, s in self.materials.items()})

    @classmethod
    def default(cls, fetch: bool = True) -> SourceBank:
        """Debian packages (fetched on first use) plus the bundled demo library."""
        debian = fetch_debian_sources() if fetch else debian_sources_dir()
        return cls(discover_sources(debian, DEMO_LIBRARY_DIR))

    def licences(self) -> list[dict]:
        return [asdict(e) for e in self.entries if e.material in self.materials]
