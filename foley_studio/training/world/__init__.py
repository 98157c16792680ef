"""The procedural Foley world (version 2): rendered clips whose sound events are exact to the frame and sample.

Every clip is a pure function of its seed. Everything that is not the event is random: camera height,
zoom, pan, drift and shake, floor line, frame size and rate (23.976/24/25/30), backdrop and floor
textures, noise, flicker, motion blur and compression; several actors per clip, sounding (drops and
bounces, slides, hits from any side, rolls, scrapes, footsteps, closing doors/lids/drawers,
collisions) and silent (gentle placements, pendulums, passing objects, occluders). The picture shows
each contact on exactly the frame where the soundtrack places a real recording of it.

Modules: `geometry` (events, primitives, camera), `actors` (the families), `plan` (scene planning and
captions), `picture` (rendering, video writing), `sound` (soundtrack, degradation), `generate` (files).
"""
from .geometry import ONSET_KIND, Event
from .generate import WORLD_VERSION, WorldSpec, generate_clip, generate_world, scene_meta, split_of
from .picture import Painter, render_video, write_video
from .plan import DURATION, FRAME_RATES, FRAME_SIZES, Scene, frame_count, plan_scene
from .sound import N_SAMPLES, degrade, render_audio

FPS = 24            # the rate `write_video` is usually given by tests that draw their own frames

__all__ = ["DURATION", "FPS", "FRAME_RATES", "FRAME_SIZES", "N_SAMPLES", "ONSET_KIND", "WORLD_VERSION", "Event",
           "Painter", "Scene", "WorldSpec", "degrade", "frame_count", "generate_clip", "generate_world", "plan_scene",
           "render_audio", "render_video", "scene_meta", "split_of", "write_video"]
