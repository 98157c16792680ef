"""The reference soundtrack of an out-of-domain clip, synthesised (no recordings).

Only a reference: the sync metrics use the exact event times, and this audio exists so the ground
truth row of a table and the autoencoder oracle have something to score. Each event's sound starts
on the event's sample (a 0.5 ms attack ramp), so its onset is where the picture's contact is.
Impacts are modal (a few decaying partials of a material plus a contact-noise burst), footsteps a
heel thump with a scuff, closings a thud with a latch click, slides band-passed friction noise that
fades with the slide's speed. A short synthetic room and a quiet background are added.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, fftconvolve, lfilter, sosfilt

from foley_studio.core.timebase import SAMPLE_RATE

from .framing import Framing
from .scene import OODEvent, SoundPlan

_ATTACK = int(0.0005 * SAMPLE_RATE)


@dataclass(frozen=True)
class Timbre:
    """A material's modal recipe."""

    base_hz: tuple[float, float]        # lowest partial, drawn from this range
    ratios: tuple[float, ...]           # partial frequencies over the lowest one
    decay_s: tuple[float, float]        # time constant of the lowest partial
    noise: float                        # contact-noise burst level relative to the partials
    noise_ms: float                     # its length
    noise_hz: float                     # and its brightness (one-pole low-pass corner)


TIMBRES: dict[str, Timbre] = {
    "rubber": Timbre((170, 320), (1.0, 2.3, 3.9), (0.025, 0.05), 0.35, 3.0, 3000),
    "basketball": Timbre((110, 190), (1.0, 1.6, 2.9, 4.1), (0.08, 0.15), 0.4, 4.0, 2500),
    "pingpong": Timbre((1700, 2600), (1.0, 1.9, 3.3), (0.012, 0.022), 0.6, 1.0, 9000),
    "wood": Timbre((350, 900), (1.0, 2.6, 4.1, 6.3), (0.03, 0.08), 0.5, 4.0, 5000),
    "metal": Timbre((600, 1800), (1.0, 2.76, 5.4, 8.93), (0.35, 0.9), 0.2, 2.0, 8000),
    "plastic": Timbre((700, 1600), (1.0, 2.2, 3.7), (0.025, 0.06), 0.4, 2.5, 6000),
    "glass": Timbre((1800, 3400), (1.0, 2.32, 4.25), (0.25, 0.5), 0.25, 1.5, 10000),
    "cardboard": Timbre((140, 300), (1.0, 1.9, 3.1), (0.015, 0.035), 0.9, 8.0, 2500),
    "stone": Timbre((250, 500), (1.0, 2.1, 3.4), (0.015, 0.03), 0.9, 5.0, 4000),
    "door": Timbre((70, 130), (1.0, 1.7, 2.8, 4.4), (0.09, 0.18), 0.45, 6.0, 3000),
}
SURFACES = ("wood", "tile", "gravel", "carpet")     # footstep surfaces


def impact(rng: np.random.Generator, timbre: Timbre, strength: float) -> np.ndarray:
    """One hit of `timbre`: partials with random weights and decays, plus the contact noise."""
    base = float(rng.uniform(*timbre.base_hz))
    tau = float(rng.uniform(*timbre.decay_s))
    n = int(min(2.0, 6.0 * tau + 0.05) * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    out = np.zeros(n)
    for i, ratio in enumerate(timbre.ratios):
        f = base * ratio * float(rng.uniform(0.98, 1.02))
        if f >= 0.45 * SAMPLE_RATE:
            continue
        weight = float(rng.uniform(0.4, 1.0)) / (1.0 + i)
        out += weight * np.exp(-t / (tau / (1.0 + 0.6 * i))) * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.28))
    out += timbre.noise * _burst(rng, n, timbre.noise_ms, timbre.noise_hz)
    return _attack(out) * strength


def footstep(rng: np.random.Generator, surface: str, strength: float) -> np.ndarray:
    """A heel strike: a low thump and the surface's scuff (gravel crunches longer, carpet is dull)."""
    n = int(0.25 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    thump = np.exp(-t / 0.025) * np.sin(2 * np.pi * rng.uniform(60, 110) * t)
    scuff_ms, bright = {"wood": (25, 3500), "tile": (12, 8000), "gravel": (90, 6000), "carpet": (30, 900)}[surface]
    out = thump + {"carpet": 0.4, "gravel": 1.2}.get(surface, 0.8) * _burst(rng, n, scuff_ms, bright)
    if surface == "tile":
        click = impact(rng, TIMBRES["stone"], 1.0)[:n]
        out[: len(click)] += 0.4 * click
    return _attack(out) * strength


def closing(rng: np.random.Generator, timbre: Timbre, strength: float) -> np.ndarray:
    """A lid or door shutting: the body's thud and a latch click on the same sample."""
    body = impact(rng, timbre, 1.0)
    click = 0.35 * impact(rng, TIMBRES["metal"], 1.0)[: int(0.05 * SAMPLE_RATE)]
    n = max(len(body), len(click))
    out = np.zeros(n)
    out[: len(body)] += body
    out[: len(click)] += click * np.exp(-np.arange(len(click)) / (0.008 * SAMPLE_RATE))
    return _attack(out) * strength


def friction(rng: np.random.Generator, n: int, timbre: Timbre) -> np.ndarray:
    """A slide slowing to rest over `n` samples: friction noise whose level follows the speed."""
    centre = float(np.clip(timbre.base_hz[1] * 2.0, 300.0, 6000.0))
    sos = butter(2, [centre / 2.5, min(centre * 2.5, 0.45 * SAMPLE_RATE)], btype="band", fs=SAMPLE_RATE,
                 output="sos")
    noise = sosfilt(sos, rng.standard_normal(n))
    speed = np.linspace(1.0, 0.0, n) ** 0.7
    grain = 1.0 + 0.5 * np.sin(2 * np.pi * np.cumsum(speed) * rng.uniform(8, 25) / SAMPLE_RATE)
    return 0.25 * noise * speed * grain


def _burst(rng: np.random.Generator, n: int, ms: float, corner_hz: float) -> np.ndarray:
    m = max(8, int(ms * SAMPLE_RATE / 1000))
    a = float(np.exp(-2 * np.pi * corner_hz / SAMPLE_RATE))
    burst = lfilter([1 - a], [1, -a], rng.standard_normal(m)) * np.exp(-np.arange(m) / (m / 3))
    burst /= max(1e-9, float(np.abs(burst).max()))
    out = np.zeros(n)
    out[: min(n, m)] = burst[: min(n, m)]
    return out


def _attack(x: np.ndarray) -> np.ndarray:
    x = x / max(1e-9, float(np.abs(x).max()))
    x[:_ATTACK] *= np.arange(_ATTACK) / _ATTACK
    return x


def _room(rng: np.random.Generator, x: np.ndarray, rt60: float, wet: float) -> np.ndarray:
    """Causal synthetic reverb (decaying noise tail after the direct sound): onsets do not move."""
    n = int(rt60 * SAMPLE_RATE)
    tail = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)
    tail[: int(0.004 * SAMPLE_RATE)] = 0.0             # first reflections arrive after the direct sound
    tail /= np.sqrt(np.sum(tail ** 2))
    return x + wet * fftconvolve(x, tail)[: len(x)]


def _ambience(rng: np.random.Generator, n: int, level_db: float, busy: bool) -> np.ndarray:
    pink = lfilter([1.0], [1.0, -0.97], rng.standard_normal(n))
    pink /= max(1e-9, float(np.std(pink)))
    if busy:       # a crowd-like murmur: band-passed noise with a slow syllabic wobble
        sos = butter(2, [200, 2500], btype="band", fs=SAMPLE_RATE, output="sos")
        t = np.arange(n) / SAMPLE_RATE
        murmur = sosfilt(sos, rng.standard_normal(n)) * (1.0 + 0.6 * np.sin(2 * np.pi * rng.uniform(2, 4) * t))
        pink = pink + 3.0 * murmur / max(1e-9, float(np.std(murmur)))
    return pink * 10 ** (level_db / 20)


def voice(rng: np.random.Generator, kind: str, timbre: str, strength: float) -> np.ndarray:
    """The sound of one event by its synthesis kind: impact | step | close."""
    if kind == "step":
        return footstep(rng, timbre, strength)
    if kind == "close":
        return closing(rng, TIMBRES[timbre], strength)
    return impact(rng, TIMBRES[timbre], strength)


def render_soundtrack(plan: SoundPlan, events: list[OODEvent], framing: Framing, seed: int) -> np.ndarray:
    """(n_samples,) float32 at 48 kHz: each event's sound placed on its exact sample, then the room."""
    rng = np.random.default_rng([seed, 7])
    n = framing.n_samples
    out = np.zeros(n)
    for event in sorted(events, key=lambda e: e.frame):
        kind, timbre = plan.voices[event.source]
        at = framing.sample_of(event.frame)
        sound = voice(rng, kind, timbre, 0.25 + 0.75 * event.strength)
        end = min(n, at + len(sound))
        out[at:end] += sound[: end - at]
        if event.slide_end is not None and event.slide_end > event.frame:
            stop = min(n, framing.sample_of(event.slide_end))
            out[at:stop] += event.strength * friction(rng, stop - at, TIMBRES[timbre])
    out = _room(rng, out, plan.room_rt60, plan.room_wet)
    peak = float(np.abs(out).max())
    if peak > 0:
        out *= 10 ** (float(rng.uniform(-9.0, -3.0)) / 20) / peak
    out += _ambience(rng, n, plan.ambience_db, plan.busy)
    return out.astype(np.float32)
