"""The procedural Foley world: rendered clips of objects that drop, bounce, get hit, roll and scrape.

Every clip is a pure function of its seed. A *scene* is planned first (material, action, the exact
frames where contacts happen), the picture is then drawn so that the object touches the surface
exactly on those frames (each flight between two contacts is the parabola that fits the gap), and
the soundtrack places real recordings (see `sources.py`) at the same instants, sample-exact. So the
ground truth is exact: an impact at frame k happens at k / FPS seconds, in picture and in sound.

Outputs per clip: an H.264 MP4 (no audio), a clean 48 kHz FLAC ("high quality") and a band-limited,
noisier copy ("low quality", like in-the-wild video audio), plus manifest rows (see `manifest.py`).
Audio-only items (the SFX-library half of the paper's data mix) use the same planner without a picture.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import soundfile as sf
import soxr
from scipy.signal import fftconvolve, lfilter

from foley_studio.core.timebase import SAMPLE_RATE

from foley_studio.media.manifest import ManifestRow, write_manifest
from .sources import SourceBank

log = logging.getLogger(__name__)

WORLD_VERSION = 1
FPS = 24                      # frames per second: 41.7 ms per frame, finer than the 40 Hz latents need
SIZE = 112                    # square frames; even for yuv420p
DURATION = 8.0
N_FRAMES = int(DURATION * FPS)
N_SAMPLES = int(DURATION * SAMPLE_RATE)
FLOOR_Y = 88                  # first floor row; an object at rest occupies rows < FLOOR_Y
GRAVITY = 420.0               # px / s^2, so a 1.2 s flight peaks ~75 px above the floor
MAX_LIFT = 62.0               # keeps every object inside the frame
ACTIONS = ("drop", "hit", "roll", "scrape")

# object colours (RGB) per material; the video encoder has to tell materials apart from these
MATERIAL_LOOK: dict[str, tuple[tuple[int, int, int], str]] = {
    "metal": ((178, 184, 196), "shiny"),
    "plastic": ((220, 40, 60), "matte"),
    "wood": ((150, 95, 45), "grain"),
    "paper": ((232, 222, 196), "matte"),
    "earth": ((92, 70, 48), "speckle"),
    "glass": ((150, 220, 230), "shiny"),
}
OBJECT_WORDS = {"drop": ("ball", "block", "cup"), "hit": ("plate", "block", "bar"),
                "roll": ("ball", "can", "wheel"), "scrape": ("box", "block", "crate")}
ADJECTIVE = {"metal": "metal", "plastic": "plastic", "wood": "wooden", "paper": "cardboard",
             "earth": "clay", "glass": "glass"}


# --------------------------------------------------------------------------- planning

@dataclass(frozen=True)
class Event:
    """One sound-making moment: an impact at `frame`, or friction/rolling from `frame` to `end_frame`."""

    kind: str                 # "impact" | "roll" | "scrape"
    frame: int
    strength: float           # 0..1, drives gain
    end_frame: int | None = None

    @property
    def time(self) -> float:
        return self.frame / FPS

    @property
    def end(self) -> float | None:
        return None if self.end_frame is None else self.end_frame / FPS

    def to_json(self) -> dict:
        out = {"kind": self.kind, "time": round(self.time, 6), "frame": self.frame,
               "strength": round(self.strength, 4)}
        if self.end_frame is not None:
            out["end"] = round(self.end, 6)
            out["end_frame"] = self.end_frame
        return out


@dataclass
class Scene:
    """Everything needed to draw and sound one clip; a pure function of (seed, materials)."""

    seed: int
    material: str
    action: str
    object_word: str
    caption: str
    events: list[Event]
    x_path: np.ndarray        # (N_FRAMES,) object centre x, px
    lift: np.ndarray          # (N_FRAMES,) height of the object's bottom (or mallet head) above contact, px
    size: int                 # ball radius or half-width, px
    look: dict = field(default_factory=dict)


def _impact_frames(rng: np.random.Generator, action: str) -> list[int]:
    """Contact frames for drop (decaying bounces) or hit (irregular strikes)."""
    frames: list[int] = []
    if action == "drop":
        t = int(rng.integers(12, 36))
        while t < N_FRAMES - 4:
            gap = int(rng.integers(14, 30))        # first flight 0.6-1.2 s
            restitution = float(rng.uniform(0.5, 0.75))
            frames.append(t)
            while gap >= 4 and t + gap < N_FRAMES - 2:
                t += gap
                frames.append(t)
                gap = int(round(gap * restitution))
            t += int(rng.integers(18, 28))          # tossed up again
    else:  # hit
        t = int(rng.integers(8, 24))
        while t < N_FRAMES - 2:
            frames.append(t)
            t += int(rng.integers(6, 30))           # 0.25-1.25 s between strikes, irregular on purpose
    return frames


def _lift_from_contacts(frames: list[int], first_height: float) -> np.ndarray:
    """Height above contact per frame: parabolic flights that touch down exactly on each contact frame."""
    lift = np.zeros(N_FRAMES, np.float64)
    k = np.arange(N_FRAMES, dtype=np.float64)
    # before the first contact: held at `first_height`, then released to fall freely onto it
    t_fall = np.sqrt(2 * first_height / GRAVITY)
    before = k < frames[0]
    since_release = np.maximum(0.0, t_fall - (frames[0] - k[before]) / FPS)
    lift[before] = first_height - 0.5 * GRAVITY * since_release ** 2
    for a, b in zip(frames[:-1], frames[1:]):
        inside = (k > a) & (k < b)
        ta, tb = (k[inside] - a) / FPS, (b - k[inside]) / FPS
        lift[inside] = 0.5 * GRAVITY * ta * tb    # zero at both contacts, peak g*T^2/8
    return np.clip(lift, 0.0, MAX_LIFT)


def _continuous_span(rng: np.random.Generator, start: int) -> tuple[int, int]:
    end = min(N_FRAMES - 2, start + int(rng.integers(int(1.5 * FPS), int(4.5 * FPS))))
    return start, end


def plan_scene(seed: int, materials: list[str]) -> Scene:
    """Choose material, action and exact event frames for one clip."""
    rng = np.random.default_rng(seed)
    material = str(materials[int(rng.integers(len(materials)))])
    action = ACTIONS[int(rng.integers(len(ACTIONS)))]
    word = OBJECT_WORDS[action][int(rng.integers(3))]
    size = int(rng.integers(7, 12))
    events: list[Event] = []
    x_path = np.full(N_FRAMES, SIZE / 2.0)
    if action in ("drop", "hit"):
        frames = _impact_frames(rng, action)
        events = [Event("impact", f, float(rng.uniform(0.5, 1.0))) for f in frames]
        if action == "drop":
            # later bounces are softer; strength follows the flight that ended in them
            for i in range(1, len(events)):
                gap = frames[i] - frames[i - 1]
                events[i] = Event("impact", frames[i], float(np.clip(gap / 24, 0.15, 1.0)))
            x_path = SIZE / 2.0 + float(rng.uniform(-25, 25)) + np.zeros(N_FRAMES)
        lift = _lift_from_contacts(frames, first_height=float(rng.uniform(50, 75)))
        if action == "hit":
            # the mallet is raised at most 40 px, and lifts away again after its last strike
            after = np.arange(N_FRAMES) > frames[-1]
            lift[after] = 60.0 * (np.arange(N_FRAMES)[after] - frames[-1]) / FPS
            lift = np.minimum(lift, 40.0)
            x_path = SIZE / 2.0 + float(rng.uniform(-15, 15)) + np.zeros(N_FRAMES)
    else:
        # set down (one impact), then rolled or pushed in one or two strokes
        first = int(rng.integers(8, 30))
        events.append(Event("impact", first, float(rng.uniform(0.4, 0.8))))
        lift = _lift_from_contacts([first, first + 1], first_height=float(rng.uniform(25, 50)))
        lift[first:] = 0.0
        x = np.full(N_FRAMES, 0.0)
        direction = 1.0 if rng.random() < 0.5 else -1.0
        x[:] = SIZE / 2.0 - direction * 38.0
        t = first + int(rng.integers(4, 16))
        strokes = 1 if action == "roll" else int(rng.integers(1, 3))
        pos = x[0]
        for _ in range(strokes):
            if t >= N_FRAMES - 20:
                break
            start, end = _continuous_span(rng, t)
            distance = 76.0 / strokes
            u = np.linspace(0.0, 1.0, end - start + 1)
            profile = 0.5 - 0.5 * np.cos(np.pi * u)          # smooth start and stop
            x[start:end + 1] = pos + direction * distance * profile
            x[end + 1:] = pos + direction * distance
            pos += direction * distance
            events.append(Event(action, start, float(rng.uniform(0.5, 1.0)), end_frame=end))
            t = end + int(rng.integers(6, 24))
        x_path = x
    caption = _caption(rng, material, action, word)
    look = {"hue_bg": float(rng.uniform(0, 1)), "floor": int(rng.integers(3)),
            "plastic_rgb": tuple(int(v) for v in rng.integers(40, 230, 3))}
    return Scene(seed, material, action, word, caption, events, x_path, lift, size, look)


def _caption(rng: np.random.Generator, material: str, action: str, word: str) -> str:
    adj = ADJECTIVE[material]
    templates = {
        "drop": (f"a {adj} {word} falls and bounces on the floor", f"{adj} {word} dropped, bouncing",
                 f"bouncing {adj} {word}"),
        "hit": (f"someone hits a {adj} {word} with a mallet", f"mallet strikes on a {adj} {word}",
                f"hitting {material}"),
        "roll": (f"a {adj} {word} rolls across the floor", f"{adj} {word} rolling", f"rolling {material}"),
        "scrape": (f"a {adj} {word} scrapes along the floor", f"dragging a {adj} {word}",
                   f"{material} scraping"),
    }[action]
    return templates[int(rng.integers(len(templates)))]


# --------------------------------------------------------------------------- picture

_YY, _XX = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)


def _hsv_to_rgb(h: float, s: float, v: float) -> np.ndarray:
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    rgb = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return np.array(rgb, np.float32) * 255


def render_background(scene: Scene) -> np.ndarray:
    """The static part of every frame (wall, floor, and the struck object of a 'hit' clip). float32 (H,W,3)."""
    rng = np.random.default_rng(scene.seed + 7_919)
    top = _hsv_to_rgb(scene.look["hue_bg"], 0.35, 0.45)
    bottom = _hsv_to_rgb(scene.look["hue_bg"], 0.25, 0.75)
    wall = top + (bottom - top) * (_YY[..., None] / SIZE)
    floor_colours = (np.array([110, 110, 115]), np.array([70, 60, 80]), np.array([160, 150, 130]))
    floor = floor_colours[scene.look["floor"]].astype(np.float32)
    floor = floor + rng.normal(0, 6, (SIZE, SIZE, 1)).astype(np.float32)
    img = np.where((_YY >= FLOOR_Y)[..., None], floor, wall)
    img[FLOOR_Y: FLOOR_Y + 1] *= 0.6                       # a crisp floor edge
    if scene.action == "hit":
        half = scene.size + 6
        cx = scene.x_path[0]
        mask = (np.abs(_XX - cx) <= half) & (_YY >= FLOOR_Y - 10) & (_YY < FLOOR_Y)
        img = _paint_material(img, mask, scene, cx, FLOOR_Y - 5, 0.0)
    return np.clip(img, 0, 255).astype(np.float32)


def _paint_material(img: np.ndarray, mask: np.ndarray, scene: Scene, cx: float, cy: float,
                    angle: float) -> np.ndarray:
    base, finish = MATERIAL_LOOK[scene.material]
    colour = np.array(scene.look["plastic_rgb"] if scene.material == "plastic" else base, np.float32)
    shade = np.ones((SIZE, SIZE), np.float32)
    if finish == "shiny":
        d2 = (_XX - cx + 3) ** 2 + (_YY - cy + 3) ** 2
        shade = 0.75 + 0.6 * np.exp(-d2 / 12.0)
    elif finish == "grain":
        shade = 0.85 + 0.15 * np.sin((_XX - cx) * np.cos(angle) * 1.3 + (_YY - cy) * np.sin(angle) * 1.3)
    elif finish == "speckle":
        shade = 0.8 + 0.4 * ((np.sin(_XX * 12.9898 + _YY * 78.233) * 43758.5) % 1.0)
    paint = colour[None, None, :] * shade[..., None]
    return np.where(mask[..., None], paint, img)


def render_frame(scene: Scene, background: np.ndarray, k: int) -> np.ndarray:
    """Frame k as uint8 (H, W, 3)."""
    img = background.copy()
    cx = float(scene.x_path[k])
    lift = float(scene.lift[k])
    r = scene.size
    if scene.action == "hit":
        # mallet: a dark head above the struck object, on a handle up to the top of the frame
        contact = FLOOR_Y - 10
        bottom = contact - lift
        head = (np.abs(_XX - cx) <= 7) & (_YY < bottom) & (_YY >= bottom - 8)
        handle = (np.abs(_XX - cx) <= 1.5) & (_YY < bottom - 8)
        img = np.where((head | handle)[..., None], np.array([40, 35, 30], np.float32), img)
    elif scene.action in ("drop", "roll"):
        cy = FLOOR_Y - r - lift
        mask = (_XX - cx) ** 2 + (_YY - cy) ** 2 <= r * r
        angle = (cx - scene.x_path[0]) / r                  # rolling without slipping
        img = _paint_material(img, mask, scene, cx, cy, angle)
        # a stripe that turns with the ball so rolling is visible
        stripe = mask & (np.abs((_XX - cx) * np.sin(angle) - (_YY - cy) * np.cos(angle)) < 1.2)
        img = np.where(stripe[..., None], img * 0.55, img)
    else:  # scrape: a box
        h = r + 3
        bottom = FLOOR_Y - lift
        mask = (np.abs(_XX - cx) <= r + 4) & (_YY < bottom) & (_YY >= bottom - h)
        img = _paint_material(img, mask, scene, cx, bottom - h / 2, 0.0)
    return np.clip(img, 0, 255).astype(np.uint8)


def render_video(scene: Scene) -> np.ndarray:
    """All frames, uint8 (N_FRAMES, H, W, 3)."""
    background = render_background(scene)
    return np.stack([render_frame(scene, background, k) for k in range(N_FRAMES)])


def write_video(path: Path, frames: np.ndarray, audio: np.ndarray | None = None, *, crf: int = 23) -> None:
    """H.264 MP4 at FPS (optionally with AAC audio at 48 kHz); single-threaded so bytes are reproducible."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as out:
        vs = out.add_stream("libx264", rate=Fraction(FPS, 1))
        vs.width, vs.height, vs.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        vs.options = {"crf": str(crf), "preset": "medium"}
        vs.thread_count = 1
        aus = None
        if audio is not None:
            aus = out.add_stream("aac", rate=SAMPLE_RATE)
            aus.layout = "mono"
        for frame in frames:
            for packet in vs.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
        if aus is not None:
            pcm = audio.astype(np.float32)[None, :]
            block = 1024 * 48
            for i in range(0, pcm.shape[1], block):
                af = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm[:, i:i + block]), format="fltp",
                                                layout="mono")
                af.sample_rate = SAMPLE_RATE
                af.pts = i
                for packet in aus.encode(af):
                    out.mux(packet)
            for packet in aus.encode():
                out.mux(packet)
    tmp.replace(path)


# --------------------------------------------------------------------------- sound

def _vary(rng: np.random.Generator, grain: np.ndarray, *, pitch: tuple[float, float] = (0.85, 1.18)) -> np.ndarray:
    """Pitch (by resampling) and a random spectral tilt, the natural spread of repeated real hits."""
    factor = float(rng.uniform(*pitch))
    n_out = max(8, int(len(grain) / factor))
    out = np.interp(np.linspace(0, len(grain) - 1, n_out), np.arange(len(grain)), grain).astype(np.float32)
    # tilt: mix the signal with its one-pole low-passed self (darker) or its complement (brighter)
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
    if at < len(out):
        out[at:end] += gain * grain[: end - at]


def _texture(rng: np.random.Generator, bank: SourceBank, material: str, kind: str, n: int) -> np.ndarray:
    """n samples of rolling/scraping sound: a real texture recording looped, or a dense train of real grains."""
    sounds = bank.materials[material]
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
            pos += len(seg) - fade
        return out
    # rolling (and scraping without a texture): many tiny real contacts; rolling is sparser and darker
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
    """The clean 48 kHz soundtrack (N_SAMPLES,), impacts onset-aligned to their event samples."""
    rng = np.random.default_rng(scene.seed + 104_729)
    sounds = bank.materials[scene.material]
    out = np.zeros(N_SAMPLES, np.float32)
    for ev in scene.events:
        at = int(round(ev.frame * SAMPLE_RATE / FPS))        # exact: 2000 samples per frame at 24 fps
        if ev.kind == "impact":
            grain = _vary(rng, sounds.impacts[int(rng.integers(len(sounds.impacts)))])
            _place(out, grain, at, 0.7 * ev.strength)
        else:
            end = int(round(ev.end_frame * SAMPLE_RATE / FPS))
            tex = _texture(rng, bank, scene.material, ev.kind, end - at)
            speed = np.abs(np.gradient(np.interp(np.arange(at, end) / SAMPLE_RATE * FPS,
                                                 np.arange(N_FRAMES), scene.x_path)))
            env = (speed / (speed.max() + 1e-9)).astype(np.float32)
            _place(out, tex * env, at, 0.35 * ev.strength)
    out = _room(rng, out)
    out += rng.normal(0, 10 ** (-65 / 20), N_SAMPLES).astype(np.float32)   # a quiet noise floor
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


# --------------------------------------------------------------------------- generation

def split_of(seed: int) -> str:
    """Splits by seed: 80 % train, 10 % val, 10 % test, stable whatever N is."""
    r = seed % 10
    return "test" if r == 9 else "val" if r == 8 else "train"


@dataclass(frozen=True)
class WorldSpec:
    n: int                    # clips with video
    seed: int = 0
    audio_only: int = 0       # extra audio-only items (SFX-library-like, "high quality")


def generate_clip(scene: Scene, bank: SourceBank, out_dir: Path, *, with_video: bool = True) -> list[ManifestRow]:
    """Write one clip's files and return its manifest rows (video+HQ, video+LQ; or audio-only HQ)."""
    name = f"w{scene.seed:07d}"
    audio = render_audio(scene, bank)
    hq = Path("audio") / f"{name}_hq.flac"
    (out_dir / "audio").mkdir(parents=True, exist_ok=True)
    sf.write(str(out_dir / hq), audio, SAMPLE_RATE, subtype="PCM_16")
    events = [e.to_json() for e in scene.events]
    meta = {"seed": scene.seed, "material": scene.material, "action": scene.action, "object": scene.object_word,
            "fps": FPS, "world_version": WORLD_VERSION}
    common = dict(caption=scene.caption, split=split_of(scene.seed), duration=DURATION, events=events)
    if not with_video:
        return [ManifestRow(id=f"{name}-a", audio=hq.as_posix(), video=None, quality="high", meta=meta, **common)]
    video = Path("video") / f"{name}.mp4"
    write_video(out_dir / video, render_video(scene))
    lq_audio, lq_meta = degrade(audio, scene.seed)
    lq = Path("audio") / f"{name}_lq.flac"
    sf.write(str(out_dir / lq), lq_audio, SAMPLE_RATE, subtype="PCM_16")
    return [ManifestRow(id=f"{name}-hq", audio=hq.as_posix(), video=video.as_posix(), quality="high",
                        meta=meta, **common),
            ManifestRow(id=f"{name}-lq", audio=lq.as_posix(), video=video.as_posix(), quality="low",
                        meta={**meta, **lq_meta}, **common)]


def generate_world(spec: WorldSpec, out_dir: Path, bank: SourceBank, progress=None) -> Path:
    """Generate `spec.n` video clips and `spec.audio_only` audio items; returns the manifest path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    materials = sorted(bank.materials)
    rows: list[ManifestRow] = []
    total = spec.n + spec.audio_only
    for i in range(total):
        seed = spec.seed + i
        scene = plan_scene(seed, materials)
        rows.extend(generate_clip(scene, bank, out_dir, with_video=i < spec.n))
        if progress:
            progress(i + 1, total)
    manifest = out_dir / "manifest.jsonl"
    write_manifest(manifest, rows)
    (out_dir / "world.json").write_text(json.dumps({
        "world_version": WORLD_VERSION, "fps": FPS, "size": SIZE, "duration": DURATION,
        "seed": spec.seed, "n": spec.n, "audio_only": spec.audio_only, "materials": materials,
        "actions": list(ACTIONS), "sources": bank.licences()}, indent=1))
    log.info("wrote %d rows to %s", len(rows), manifest)
    return manifest
