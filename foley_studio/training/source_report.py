"""Measure the world's source recordings and write `docs/SOUND_SOURCES.md` (what is used, why, under which licence).

One can't listen in a test, so a label is checked against numbers that tell materials apart: the spectral
centroid and the share of energy above 4 and 8 kHz (glass and gravel are bright, wood and dirt dark),
the attack (a knock is instant, a step on soil slow), the decay to -20 dB (metal rings, wood stops),
the duration and the number of onsets.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from foley_studio.core.timebase import SAMPLE_RATE

from .source_rules import DEBIAN_SOURCES, KINDS
from .sources import (
    MIN_SOURCE_RATE, SourceBank, _envelope, source_rate, load_mono_48k, remove_rumble, ruled_recordings,
    split_impacts)

LIBRARY_NAME = "demo library (OpenSFX, resources/demo/library)"


@dataclass(frozen=True)
class Measures:
    """What a recording sounds like, in numbers."""

    seconds: float
    centroid_hz: float
    above_4k: float            # share of the energy above 4 kHz
    above_8k: float
    attack_ms: float           # from 10 % to the peak of the 5 ms envelope
    decay_ms: float            # from the peak down to 10 % (-20 dB)
    onsets: int

    def summary(self) -> str:
        return (f"{self.seconds:.2f} s, centroid {self.centroid_hz / 1000:.1f} kHz, {self.above_4k:.0%} >4 kHz, "
                f"{self.above_8k:.0%} >8 kHz, attack {self.attack_ms:.0f} ms, decay {self.decay_ms:.0f} ms, "
                f"{self.onsets} onset{'s' if self.onsets != 1 else ''}")


def spectral_centroid(x: np.ndarray) -> float:
    power = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)
    return float((freqs * power).sum() / (power.sum() + 1e-12))


def measure(x: np.ndarray) -> Measures:
    """Measures of a 48 kHz mono recording."""
    x = x / (np.abs(x).max() + 1e-12)
    power = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)
    total = power.sum() + 1e-12
    share = {cut: float(power[freqs > cut].sum() / total) for cut in (4000, 8000)}
    env = _envelope(x)                                   # 5 ms blocks
    peak = int(np.argmax(env)) if env.size else 0
    start = int(np.flatnonzero(env >= 0.1 * env[peak])[0]) if env.size else 0
    below = np.flatnonzero(env[peak:] < 0.1 * env[peak]) if env.size else np.zeros(0, int)
    decay_blocks = below[0] if below.size else max(0, env.size - peak)
    return Measures(len(x) / SAMPLE_RATE, spectral_centroid(x), share[4000], share[8000], 5.0 * (peak - start),
                    5.0 * decay_blocks, len(split_impacts(x)))


@dataclass(frozen=True)
class Reviewed:
    """One recording a rule decided on: kept (material/kind) or left out, with its numbers."""

    package: str
    path: Path
    material: str | None
    kind: str | None
    licence: str
    note: str
    sample_rate: int
    measures: Measures | None


def review(debian_dir: Path | None, library_dir: Path | None) -> list[Reviewed]:
    """Every recording under the folders that a rule keeps or leaves out, measured."""
    rows: list[Reviewed] = []
    for found in ruled_recordings(debian_dir, library_dir):
        x = remove_rumble(load_mono_48k(found.path))           # as the bank hears it
        package = LIBRARY_NAME if found.in_library else found.path.relative_to(found.root).parts[0]
        rows.append(Reviewed(package, found.path, found.rule.material, found.rule.kind, found.licence,
                             found.rule.note, source_rate(found.path),
                             measure(x) if np.abs(x).max() > 1e-4 else None))
    return rows


def bank_table(bank: SourceBank) -> list[list[str]]:
    """Material x kind: recordings / grains and the grains' median centroid; first row is the header."""
    recordings: dict[tuple[str, str], int] = {}
    for entry in bank.entries:
        if entry.material in bank.materials and bank.pieces.get(entry.path):
            recordings[entry.material, entry.kind] = recordings.get((entry.material, entry.kind), 0) + 1
    rows = [["material", *KINDS]]
    for material, sounds in bank.materials.items():
        cells = [material]
        for kind, pieces in zip(KINDS, (sounds.impacts, sounds.textures, sounds.footsteps, sounds.closes)):
            if not pieces:
                cells.append("-")
                continue
            centroid = np.median([spectral_centroid(p) for p in pieces]) / 1000
            cells.append(f"{recordings.get((material, kind), 0)} / {len(pieces)}, {centroid:.1f} kHz")
        rows.append(cells)
    return rows


def markdown_table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def _label(r: Reviewed, used: set[str], usable: set[str]) -> str:
    if r.material is None:
        return "left out"
    if r.material not in usable:
        return f"{r.material} / {r.kind}: unused, {r.material} has no impact recordings yet"
    if r.sample_rate < MIN_SOURCE_RATE:
        return f"{r.material} / {r.kind}: skipped, sampled below {MIN_SOURCE_RATE} Hz"
    if str(r.path) in used:
        return f"{r.material} / {r.kind}"
    return f"{r.material} / {r.kind} (gave no grain, or a copy)"


def _groups(rows: list[Reviewed], used: set[str], usable: set[str]) -> list[list[Reviewed]]:
    """Consecutive recordings with the same rule, label and sample rate share one line."""
    groups: list[list[Reviewed]] = []
    for r in rows:
        last = groups[-1][-1] if groups else None
        if last and ((last.note, _label(last, used, usable), last.sample_rate)
                     == (r.note, _label(r, used, usable), r.sample_rate)):
            groups[-1].append(r)
        else:
            groups.append([r])
    return groups


def _review_line(group: list[Reviewed], used: set[str], usable: set[str]) -> str:
    first = group[0]
    measured = [r.measures for r in group if r.measures]
    if len(group) == 1:
        files, numbers = f"`{first.path.name}`", measured[0].summary() if measured else "silent"
    else:
        files = f"{len(group)} files, `{first.path.name}` ... `{group[-1].path.name}`"
        numbers = "; ".join(
            f"{name} {min(values):.{digits}f}-{max(values):.{digits}f} (median {np.median(values):.{digits}f}){unit}"
            for name, values, digits, unit in (
                ("duration", [m.seconds for m in measured], 2, " s"),
                ("centroid", [m.centroid_hz / 1000 for m in measured], 1, " kHz"),
                (">4 kHz", [100 * m.above_4k for m in measured], 0, " %"),
                ("attack", [m.attack_ms for m in measured], 0, " ms"),
                ("decay", [m.decay_ms for m in measured], 0, " ms"),
                ("onsets", [m.onsets for m in measured], 0, "")))
    cells = [files, str(first.sample_rate), _label(first, used, usable), first.licence, first.note, numbers]
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _package_record(debian_dir: Path | None) -> dict:
    path = Path(debian_dir) / "sources.json" if debian_dir else None
    return json.loads(path.read_text()) if path and path.exists() else {}


def write_report(out: Path, bank: SourceBank, rows: list[Reviewed], debian_dir: Path | None) -> str:
    """Write the sources document; returns the bank table (markdown) for printing."""
    record = _package_record(debian_dir)
    table = markdown_table(bank_table(bank))
    used = {e.path for e in bank.entries if e.material in bank.materials and bank.pieces.get(e.path)}
    parts = [
        "# Sound sources of the Foley world",
        "",
        "Generated by `scripts/sound_sources_report.py` (do not edit by hand): every recording the world's "
        "sound bank draws on (`foley_studio/training/sources.py`, rules in `source_rules.py`), its licence and "
        "authors as the package states them, the material/kind it feeds and the measurements behind the label. "
        "Recordings a rule leaves out are listed too, with the reason. Debian packages are fetched into the cache "
        "by `foley-studio world fetch-sources` and never committed.",
        "",
        "Measures: duration, spectral centroid, share of energy above 4 / 8 kHz, attack (10 % to peak of the "
        "5 ms envelope), decay (peak to -20 dB), onsets found. Recordings sampled below 22.05 kHz are skipped, "
        "and the same audio under two names is used once.",
        "",
        "## The bank",
        "",
        "Recordings / grains (textures: recordings / loops) and the grains' median spectral centroid.",
        "",
        table,
        "",
        "## Packages",
        "",
        "| package | version | licence | copyright holders (debian/copyright) | per-file credits | copyright file |",
        "|---|---|---|---|---|---|",
    ]
    for package in DEBIAN_SOURCES:
        info = record.get(package.name, {})
        parts.append(f"| {package.name} | {info.get('version', 'not fetched')} | {package.licence} | "
                     f"{package.authors} | {package.credits or '-'} | {info.get('copyright') or '-'} |")
    parts += [f"| {LIBRARY_NAME} | OpenSFX 1.0.3 | CC-BY-3.0 / CC-BY-SA-3.0 / CC0-1.0 per file | see "
              "resources/demo/library/ATTRIBUTION.md | opensfx.json | ATTRIBUTION.md |", ""]
    for package in sorted({r.package for r in rows}, key=lambda p: (p == LIBRARY_NAME, p)):
        parts += [f"## {package}", "", "| file | Hz | material / kind | licence (authors) | why | measured |",
                  "|---|---|---|---|---|---|"]
        for group in _groups([r for r in rows if r.package == package], used, set(bank.materials)):
            parts.append(_review_line(group, used, set(bank.materials)))
        parts.append("")
    Path(out).write_text("\n".join(parts))
    return table
