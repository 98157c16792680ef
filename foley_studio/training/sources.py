"""Real recordings for the procedural Foley world: where they come from, what they sound like, their licences.

Two kinds of source feed the world's soundtracks:
- the bundled demo library (`resources/demo/library/`, OpenSFX recordings with captions), and
- freely licensed Debian sound packages, fetched with `apt-get download` + `dpkg -x` into the cache
  (`cache_dir('world-sources/v1')`); they are never committed, and `sources.json` there records
  each package's version and copyright file.

Every usable file is mapped to a *material* (what the sounding object or surface is made of) and a
*kind*: `impact` (hits/knocks/drops whose onsets become event grains), `texture` (sustained friction:
scraping, sliding, rolling, dragging), `footstep` (single steps on that surface) or `close` (doors,
lids, drawers shutting). The mapping is the list of rules in `source_rules.py` over the file's path
and caption, chosen from what each recording sounds like; `docs/SOUND_SOURCES.md` lists every file
used, its licence and the measurements behind its label.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import soundfile as sf
import soxr
from scipy.signal import butter, sosfilt

from foley_studio.core.errors import FoleyError
from foley_studio.core.paths import DEMO_LIBRARY_DIR, cache_dir
from foley_studio.core.timebase import SAMPLE_RATE

from .qt_resources import ResourceFormatError, unpack_rcc
from .source_rules import DEBIAN_SOURCES, KINDS, MATERIAL_WORDS, RULES, Rule

__all__ = ["DEBIAN_PACKAGES", "KINDS", "MATERIAL_WORDS", "RULES", "MaterialSounds", "SourceBank", "SourceEntry",
           "WorldSourceError", "classify", "discover_sources", "fetch_debian_sources", "load_mono_48k",
           "split_impacts"]

log = logging.getLogger(__name__)

SOURCES_KIND = "world-sources/v1"
DEBIAN_PACKAGES = tuple(p.name for p in DEBIAN_SOURCES)
AUDIO_SUFFIXES = (".wav", ".flac", ".oga", ".ogg")
MIN_SOURCE_RATE = 22_050      # below this a recording has nothing above 11 kHz: too dull for 48 kHz ground truth


class WorldSourceError(FoleyError):
    """The world's source recordings are missing or unusable."""


@dataclass(frozen=True)
class SourceEntry:
    """One recording and what it stands for in the world."""

    path: str
    material: str
    kind: str            # one of KINDS: "impact" | "texture" | "footstep" | "close"
    licence: str
    description: str


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
            name, version = (unquote(part) for part in deb.stem.split("_")[:2])   # "4%3a22.12" -> "4:22.12"
            target = dest / name
            subprocess.run(["dpkg", "-x", str(deb), str(target)], check=True)
            _unpack_bundles(name, target)
            own = target / "usr/share/doc" / name / "copyright"
            copyright_file = own if own.exists() else next(target.rglob("copyright"), None)
            record[name] = {"version": version, "size": deb.stat().st_size,
                            "copyright": str(copyright_file.relative_to(dest)) if copyright_file else None}
    record_path.write_text(json.dumps(record, indent=2, sort_keys=True))
    log.info("fetched %s into %s", ", ".join(missing), dest)
    return dest


def _unpack_bundles(name: str, target: Path) -> None:
    """Sounds that a package ships only inside Qt resource bundles, written to `<bundle>.d/` beside them."""
    package = next((p for p in DEBIAN_SOURCES if p.name == name), None)
    for bundle in package.bundles if package else ():
        path = target / bundle
        try:
            unpack_rcc(path, path.with_name(path.name + ".d"), AUDIO_SUFFIXES)
        except (OSError, ResourceFormatError) as err:
            log.warning("could not unpack %s: %s", path, err)


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


def matching_rule(path_text: str, description: str) -> Rule | None:
    """The first rule whose pattern matches "path | caption" (lower case), keeping or leaving out the file."""
    key = f"{path_text} | {description}".lower()
    return next((rule for rule in RULES if re.search(rule.pattern, key)), None)


def classify(path_text: str, description: str) -> tuple[str, str, str] | None:
    """(material, kind, licence) for a file, or None when no rule claims it or a rule leaves it out."""
    rule = matching_rule(path_text, description)
    if rule is None or rule.material is None:
        return None
    return rule.material, rule.kind, rule.licence


def source_rate(path: Path) -> int:
    """The file's sample rate (0 when it cannot be read)."""
    try:
        return int(sf.info(str(path)).samplerate)
    except (RuntimeError, sf.LibsndfileError):
        return 0


@dataclass(frozen=True)
class RuledRecording:
    """A recording some rule decides on (keeps or leaves out), with the licence that applies to it."""

    root: Path
    path: Path
    description: str
    rule: Rule
    licence: str
    in_library: bool


def ruled_recordings(debian_dir: Path | None, library_dir: Path | None) -> list[RuledRecording]:
    """Every audio file under the folders that a rule keeps or leaves out, sorted by folder then path."""
    found: list[RuledRecording] = []
    roots = [(Path(debian_dir), False)] if debian_dir and Path(debian_dir).is_dir() else []
    if library_dir and Path(library_dir).is_dir():
        roots.append((Path(library_dir), True))
    for root, in_library in roots:
        index = _library_index(root) if in_library else {}
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() not in AUDIO_SUFFIXES:
                continue
            description = _library_description(path) if in_library else ""
            rule = matching_rule(path.as_posix(), description)
            if rule is None:
                continue
            licence = rule.licence
            if path.name in index:
                licence = f"{index[path.name].get('licence')} ({index[path.name].get('authors')})"
            found.append(RuledRecording(root, path, description, rule, licence, in_library))
    return found


def discover_sources(debian_dir: Path | None = None, library_dir: Path | None = DEMO_LIBRARY_DIR) -> list[SourceEntry]:
    """Every recording under the given folders that a rule maps to a material, sorted by path.

    Recordings sampled below MIN_SOURCE_RATE are skipped.
    """
    entries: list[SourceEntry] = []
    for found in ruled_recordings(debian_dir, library_dir):
        if found.rule.material is None:
            continue
        if source_rate(found.path) < MIN_SOURCE_RATE:
            log.info("skipping %s: sampled below %d Hz", found.path, MIN_SOURCE_RATE)
            continue
        entries.append(SourceEntry(str(found.path), found.rule.material, found.rule.kind, found.licence,
                                   description=found.description))
    return sorted(entries, key=lambda e: e.path)


# --------------------------------------------------------------------------- the bank

def load_mono_48k(path: str | Path) -> np.ndarray:
    data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    mono = data.mean(axis=1)
    if sr != SAMPLE_RATE:
        mono = soxr.resample(mono, sr, SAMPLE_RATE).astype(np.float32)
    return mono


_RUMBLE_FILTER = butter(2, 20.0, "highpass", fs=SAMPLE_RATE, output="sos")


def remove_rumble(x: np.ndarray) -> np.ndarray:
    """Without DC offset (some game recordings carry one) and below-20 Hz rumble; causal, so onsets stay put."""
    return sosfilt(_RUMBLE_FILTER, x - x.mean()).astype(np.float32) if x.size else x


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
    onsets: list[int] = []
    last = -10**9
    for block in rises:
        start = block * win
        if start - last < min_gap * SAMPLE_RATE:
            continue
        # refine the onset to the first sample above half the block's peak, 1 ms pre-roll
        seg = np.abs(x[start - win if start >= win else 0: start + win])
        offset = int(np.argmax(seg >= 0.5 * seg.max())) + max(0, start - win)
        onsets.append(max(0, offset - SAMPLE_RATE // 1000))
        last = start
    grains: list[np.ndarray] = []
    for i, onset in enumerate(onsets):
        # a grain ends before the next hit starts: one grain, one onset
        end = onset + int(max_len * SAMPLE_RATE)
        if i + 1 < len(onsets):
            end = min(end, onsets[i + 1] - SAMPLE_RATE // 1000)
        grain = x[onset:end].copy()
        fade = min(len(grain) // 4, SAMPLE_RATE // 50)
        if fade:
            grain[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        if len(grain) > SAMPLE_RATE // 50:
            grains.append(grain)
    return grains


def trim_silence(x: np.ndarray, rel_threshold: float = 0.01) -> np.ndarray:
    """The recording without its leading and trailing near-silence (below 1 % of its peak)."""
    loud = np.flatnonzero(np.abs(x) >= rel_threshold * (np.abs(x).max() if x.size else 0.0))
    return x[loud[0]: loud[-1] + 1] if loud.size else x[:0]


# how impacts and footsteps are cut into onset-aligned grains: single steps are 0.25 s or more apart
# (heel and toe of one step stay together). A close recording is one event, aligned to its loudest contact.
SPLIT_SETTINGS: dict[str, dict[str, float]] = {
    "impact": {"max_len": 0.6, "min_gap": 0.08, "rel_threshold": 0.25},
    "footstep": {"max_len": 0.45, "min_gap": 0.25, "rel_threshold": 0.3},
}
CLOSE_SECONDS = 1.0
MIN_TEXTURE_SECONDS = 0.25


def contact_grain(x: np.ndarray, *, max_len: float = 1.0, rel_threshold: float = 0.2) -> np.ndarray | None:
    """One grain aligned to the loudest contact: 1 ms before the rise (from below 20 % of the peak) to the peak.

    For a recording of one event whose contact may follow a slow build-up (a lid creaking shut, then the knock)
    where `split_impacts` finds no sharp rise.
    """
    win = 240
    env = _envelope(x, win)
    if env.size < 2 or env.max() <= 1e-4:
        return None
    peak = int(np.argmax(env))
    quiet = np.flatnonzero(env[:peak] < rel_threshold * env[peak])
    block = quiet[-1] + 1 if quiet.size else 0
    seg = np.abs(x[block * win: (peak + 1) * win])
    onset = max(0, block * win + int(np.argmax(seg >= rel_threshold * env[peak])) - SAMPLE_RATE // 1000)
    grain = x[onset: onset + int(max_len * SAMPLE_RATE)].copy()
    fade = min(len(grain) // 4, SAMPLE_RATE // 50)
    if fade:
        grain[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return grain


@dataclass
class MaterialSounds:
    """The recordings of one material, cut for the world: onset-aligned grains per kind, and textures."""

    impacts: list[np.ndarray] = field(default_factory=list)    # one-shot hits/knocks/drops
    textures: list[np.ndarray] = field(default_factory=list)   # sustained friction, >= 0.25 s
    footsteps: list[np.ndarray] = field(default_factory=list)  # single steps on this surface
    closes: list[np.ndarray] = field(default_factory=list)     # doors/lids/drawers shutting

    def add(self, kind: str, x: np.ndarray) -> int:
        """Cut a peak-normalised recording of `kind` into this material's lists; returns how many pieces."""
        if kind == "texture":
            x = trim_silence(x)
            if len(x) < MIN_TEXTURE_SECONDS * SAMPLE_RATE:
                return 0
            self.textures.append(x)
            return 1
        if kind == "close":
            grain = contact_grain(x, max_len=CLOSE_SECONDS)
            grains = [] if grain is None else [grain]
        elif kind in SPLIT_SETTINGS:
            grains = split_impacts(x, **SPLIT_SETTINGS[kind])
        else:
            raise ValueError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")
        grains = [g / np.abs(g).max() for g in grains]
        {"impact": self.impacts, "footstep": self.footsteps, "close": self.closes}[kind].extend(grains)
        return len(grains)

    def counts(self) -> dict[str, int]:
        return {"impact": len(self.impacts), "texture": len(self.textures), "footstep": len(self.footsteps),
                "close": len(self.closes)}


class SourceBank:
    """Recordings decoded once and cut into per-material grains (impacts, footsteps, closes) and textures."""

    def __init__(self, entries: list[SourceEntry]):
        self.entries = list(entries)
        self.materials: dict[str, MaterialSounds] = {}
        self.pieces: dict[str, int] = {}          # entry path -> grains (or textures) it gave
        seen: set[str] = set()                    # the same audio under two names (e.g. re-encoded) counts once
        for entry in self.entries:
            x = remove_rumble(load_mono_48k(entry.path))
            peak = float(np.abs(x).max()) if x.size else 0.0
            digest = hashlib.sha1(np.round(x / max(peak, 1e-9) * 2**14).astype(np.int16).tobytes()).hexdigest()
            if peak < 1e-4 or digest in seen:
                continue
            seen.add(digest)
            sounds = self.materials.setdefault(entry.material, MaterialSounds())
            self.pieces[entry.path] = sounds.add(entry.kind, x / peak)
        # a material is usable when it can sound an impact; the world softens impacts for what is missing
        self.materials = {m: s for m, s in sorted(self.materials.items()) if s.impacts}
        if not self.materials:
            raise WorldSourceError("no usable recordings found for the Foley world; run "
                                   "`foley-studio world fetch-sources` or check resources/demo/library/")
        log.info("source bank: %s", {m: s.counts() for m, s in self.materials.items()})

    @classmethod
    def default(cls, fetch: bool = True) -> SourceBank:
        """Debian packages (fetched on first use) plus the bundled demo library."""
        debian = fetch_debian_sources() if fetch else debian_sources_dir()
        return cls(discover_sources(debian, DEMO_LIBRARY_DIR))

    def licences(self) -> list[dict]:
        """path, material, kind, licence, description of every recording the bank uses."""
        return [asdict(e) for e in self.entries if e.material in self.materials and self.pieces.get(e.path)]
