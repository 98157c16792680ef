"""The soundtrack: real recordings placed sample-exactly on the scene's events.

Each onset takes a grain of the right kind (a footstep on the walker's floor, a door or lid shutting,
an impact of the material; a collision sounds both materials), varied in pitch and tone; friction and
rolling follow the actor's speed. Nearer actors are louder. A small room, a noise floor, and a peak
level drawn per clip; the 'low quality' copy is band-limited, noisy and driven.
"""
from __future__ import annotations

import numpy as np
import soxr
from scipy.signal import fftconvolve, lfilter

from foley_studio.core.timebase import SAMPLE_RATE

from ..sources import SourceBank
from .geometry import ONSET_KIND, Event
from .plan import DURATION, Scene

N_SAMPLES = int(DURATION * SAMPLE_RATE)


def _vary(rng: np.random.Generator, grain: np.ndarray, *, pitch: tuple[float, float] = (0.85, 1.18)) -> np.ndarray:
    """Pitch (by resampling) and a random spectral tilt: the natural spread of repeated real hits."""
    factor = float(rng.uniform(*pitch))
    n_out = max(8, int(len(grain) / factor))
    out = np.interp(np.linspace(0, len(grain) - 1, n_out), np.arange(len(grain)), grain).astype(np.float32)
    alpha = float(rng.uniform(0.1, 0.6))
    low = lfilter([alpha], [1, alpha - 1], out).astype(np.float32)
    tilt = float(rng.uniform(-0.6, 0.6))
    return out + tilt * (low - out) if tilt > 0 else out + tilt * low


def _room(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """A small room: exponentially decaying noise impulse response, RT60 0.1-0.6 s."""
    rt60 = float(rng.uniform(0.1, 0.6))
    n = int(rt60 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    ir = rng.normal(0, 1, n).astype(np.float32) * np.exp(-6.9 * t / rt60).astype(np.float32)
    ir /= np.sqrt(np.sum(ir ** 2)) + 1e-9
    wet = float(rng.uniform(0.05, 0.3))
    return x + wet * fftconvolve(x, ir)[: len(x)].astype(np.float32)


def _place(out: np.ndarray, grain: np.ndarray, at: int, gain: float) -> None:
    end = min(len(out), at + len(grain))
    if 0 <= at < len(out):
        out[at:end] += gain * grain[: end - at]


def _soften(grain: np.ndarray, length_s: float, smooth: float) -> np.ndarray:
    """A stand-in for a missing kind: a shorter, darker copy of an impact."""
    g = grain[: int(length_s * SAMPLE_RATE)].copy()
    g = lfilter([1 - smooth], [1, -smooth], g).astype(np.float32)
    fade = min(len(g), SAMPLE_RATE // 100)
    g[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
    return g / (np.abs(g).max() + 1e-9)


def grain_for(rng: np.random.Generator, bank: SourceBank, event: Event, material: str) -> np.ndarray:
    """One onset-aligned recording for an event of this family on this material."""
    sounds = bank.materials.get(material) or bank.materials[sorted(bank.materials)[0]]
    pool = {"footsteps": sounds.footsteps, "close": sounds.closes}.get(event.action, [])
    if pool:
        return _vary(rng, pool[int(rng.integers(len(pool)))], pitch=(0.9, 1.1))
    grain = sounds.impacts[int(rng.integers(len(sounds.impacts)))]
    if event.action == "footsteps":
        return _vary(rng, _soften(grain, 0.18, 0.6), pitch=(0.8, 1.0))
    if event.action == "close":
        return _vary(rng, _soften(grain, 0.5, 0.4), pitch=(0.7, 0.9))
    return _vary(rng, grain)


def _texture(rng: np.random.Generator, bank: SourceBank, material: str, kind: str, n: int) -> np.ndarray:
    """n samples of rolling/scraping: a real texture recording looped, or a dense train of real grains."""
    sounds = bank.materials.get(material) or bank.materials[sorted(bank.materials)[0]]
    if sounds.textures and kind == "scrape":
        src = sounds.textures[int(rng.integers(len(sounds.textures)))]
        out = np.zeros(n, np.float32)
        pos, seg_len, fade = 0, SAMPLE_RATE // 2, SAMPLE_RATE // 50
        ramp = np.linspace(0, 1, fade, dtype=np.float32)
        while pos < n:
            start = int(rng.integers(0, max(1, len(src) - seg_len)))
            seg = src[start:start + seg_len].copy()
            seg[:fade] *= ramp[: len(seg[:fade])]
            seg[-fade:] *= ramp[::-1][: len(seg[-fade:])]
            _place(out, seg, pos, 1.0)
            pos += max(1, len(seg) - fade)
        return out
    rate = rng.uniform(25, 45) if kind == "roll" else rng.uniform(90, 160)
    out = np.zeros(n, np.float32)
    t = 0.0
    while True:
        t += rng.exponential(1.0 / rate)
        at = int(t * SAMPLE_RATE)
        if at >= n:
            break
        grain = sounds.impacts[int(rng.integers(len(sounds.impacts)))][: SAMPLE_RATE // 25]
        _place(out, _vary(rng, grain, pitch=(0.7, 1.4)), at, float(rng.uniform(0.2, 1.0)))
    if kind == "roll":
        out = lfilter([0.15], [1, -0.85], out).astype(np.float32) * 3.0
    peak = np.abs(out).max()
    return out / peak if peak > 0 else out


def render_audio(scene: Scene, bank: SourceBank) -> np.ndarray:
    """The clean 48 kHz soundtrack (N_SAMPLES,), onsets aligned to their event samples."""
    rng = np.random.default_rng([scene.seed, 104_729])
    out = np.zeros(N_SAMPLES, np.float32)
    for actor in scene.sounding:
        near = 1.0 / (1.0 + 0.4 * max(0.0, actor.z))
        for ev in actor.events:
            if ev.kind == ONSET_KIND:
                _place(out, grain_for(rng, bank, ev, ev.material), ev.sample, 0.7 * ev.strength * near)
                if ev.partner:
                    _place(out, grain_for(rng, bank, ev, ev.partner), ev.sample, 0.5 * ev.strength * near)
                continue
            a, b = ev.sample, min(N_SAMPLES, ev.end_sample)
            if b <= a:
                continue
            tex = _texture(rng, bank, ev.material, ev.kind, b - a)
            if actor.speed is not None:
                grid = np.linspace(a, b, max(2, (b - a) // 480)) / SAMPLE_RATE
                v = actor.speed(grid)
                env = np.interp(np.arange(a, b) / SAMPLE_RATE, grid, v / (np.max(v) + 1e-9)).astype(np.float32)
            else:
                env = np.ones(b - a, np.float32)
            _place(out, tex * env, a, 0.35 * ev.strength * near)
    out = _room(rng, out)
    out += rng.normal(0, 10 ** (-65 / 20), N_SAMPLES).astype(np.float32)
    peak = float(np.abs(out).max())
    target = 10 ** (float(rng.uniform(-9, -1)) / 20)
    return (out * (target / peak if peak > 0 else 1.0)).astype(np.float32)


def degrade(x: np.ndarray, seed: int) -> tuple[np.ndarray, dict]:
    """The 'low quality' copy: band-limited (4-8 kHz), hiss and hum, mild clipping; still 48 kHz."""
    rng = np.random.default_rng(seed + 15_485_863)
    cutoff = int(rng.choice([4000, 5500, 8000]))
    low_sr = 2 * cutoff
    y = soxr.resample(soxr.resample(x, SAMPLE_RATE, low_sr), low_sr, SAMPLE_RATE)[: len(x)]
    y = np.pad(y, (0, len(x) - len(y))).astype(np.float32)
    rms = float(np.sqrt(np.mean(y ** 2))) + 1e-9
    snr_db = float(rng.uniform(18, 30))
    hiss = soxr.resample(rng.normal(0, 1, len(x) * low_sr // SAMPLE_RATE + 1), low_sr, SAMPLE_RATE)[: len(x)]
    hiss = np.pad(hiss, (0, len(x) - len(hiss)))
    hiss *= rms * 10 ** (-snr_db / 20) / (np.std(hiss) + 1e-9)
    t = np.arange(len(x)) / SAMPLE_RATE
    hum = 0.3 * rms * 10 ** (-snr_db / 20) * np.sin(2 * np.pi * float(rng.choice([50, 60])) * t)
    drive = float(rng.uniform(1.0, 3.0))
    y = np.tanh(drive * (y + hiss + hum)) / drive
    return y.astype(np.float32), {"cutoff_hz": cutoff, "snr_db": round(snr_db, 2), "drive": round(drive, 3)}
