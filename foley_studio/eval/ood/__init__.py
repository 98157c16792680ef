"""An out-of-domain evaluation split, rendered by code of its own.

Nothing here comes from, or is shared with, the training world (`foley_studio.training`): other
scene types (a ball bouncing at any camera height, objects that land and slide, side-on hits,
walking figures, collisions, closing lids and doors, top-down views), other framings (640x360,
480x480, 360x640, 854x480 at 23.976 / 24 / 25 / 30 fps) and other looks (hand-held shake, clutter,
dark low-contrast rooms, soft focus, compression). The clips are never used for training or model
selection: they measure how well sound follows a picture the model has not seen the like of.

`generate_ood(OODSpec(n, seed), out_dir)` writes clips and a manifest in the dataset format
(`media.manifest`, split "ood"); `foley-studio eval ood-generate OUT_DIR` is the command.
"""
from .generate import OOD_SPLIT, OOD_VERSION, OODSpec, clip_setup, event_json, generate_ood, plan_clip, write_clip
from .motion import contact_onsets
from .planners import SCENE_KINDS
from .render import render_frames
from .scene import OODEvent, Scene
from .sound import render_soundtrack
from .styles import STYLE_NAMES

__all__ = ["OOD_SPLIT", "OOD_VERSION", "OODSpec", "OODEvent", "SCENE_KINDS", "STYLE_NAMES", "Scene", "clip_setup",
           "contact_onsets", "event_json", "generate_ood", "plan_clip", "render_frames", "render_soundtrack",
           "write_clip"]
