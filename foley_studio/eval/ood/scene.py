"""What one out-of-domain clip is: its framing, look, actors over time, events and sound recipe."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .draw import Look, Sprite
from .framing import Camera, CropPath, Framing

EVENT_KIND = "impact"      # every OOD event is a sharp onset: the sync metrics score impact events


@dataclass(frozen=True)
class Style:
    """A family of looks: how clean, shaky, dark and busy the picture is."""

    name: str
    look: Look
    shake_px: float = 0.0        # slow hand-held wander (pixels)
    jitter_px: float = 0.0       # frame-to-frame shake (pixels)
    shutter: float = 0.5         # fraction of a frame the shutter is open (motion blur); 0 = sharp
    clutter: int = 0             # moving distractors in the background (silent)
    crf: int = 23                # H.264 quality: higher = more compression artefacts


@dataclass(frozen=True)
class OODEvent:
    """A sound-making contact on frame `frame`: time = frame / fps exactly."""

    source: str                  # bounce | land | hit | step | collide | close | knock
    frame: int
    strength: float              # 0..1
    x: float                     # where it happens across the picture (0 = left edge, 1 = right edge)
    y: float                     # and down it (0 = top, 1 = bottom), at the event frame
    slide_end: int | None = None  # frame a slide that follows this landing comes to rest


@dataclass(frozen=True)
class SoundPlan:
    """The reference soundtrack's recipe: a voice per event source, the room and the background."""

    voices: dict[str, tuple[str, str]]     # event source -> (synthesis kind, timbre)
    room_rt60: float = 0.3
    room_wet: float = 0.15
    ambience_db: float = -62.0
    busy: bool = False


@dataclass
class Scene:
    """One clip, planned: draw it with `render.render_frames`, sound it with `sound.render_soundtrack`."""

    seed: int
    kind: str
    variant: str
    style: Style
    framing: Framing
    camera: Camera
    canvas: tuple[int, int]                      # (height, width) of the painted canvas
    crop: CropPath                               # where the picture sits on it, per frame
    backdrop: Callable[[], np.ndarray]           # paints the canvas (deterministic)
    actors: Callable[[float], list[Sprite]]      # sprites at a (fractional) frame time, back to front
    events: list[OODEvent]
    contacts: dict[str, np.ndarray]              # name -> gap per frame (world units), 0 = touching
    sound: SoundPlan
    caption: str
    material: str                                # one of the Foley world's material words
    action: str                                  # the nearest Foley world action (drop / hit)
    notes: dict = field(default_factory=dict)

    @property
    def event_frames(self) -> list[int]:
        return sorted(e.frame for e in self.events)
