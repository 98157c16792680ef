"""The bundled demo is a template: the editor works on the user's own copy of it, never on `resources/`.

The first time the demo is opened, `resources/demo/` (project, video, its library sounds) is
copied into `data_dir()/demo/`; from then on that copy is what opens, is saved, and gets the takes
and exports. The application folder may be read-only (an installed app) and must stay as shipped,
so nothing at run time writes under `resources/`. The copy is made in a staging folder and renamed
into place, so an interrupted first start never leaves half a demo behind.
"""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from foley_studio.core.paths import DEMO_DIR, data_dir

log = logging.getLogger(__name__)

PROJECT_NAME = "demo.fsproj"
VIDEO_NAME = "demo_video.mp4"


def user_demo_dir() -> Path:
    """Where the user's working copy of the demo lives (under `FOLEY_STUDIO_HOME` in tests)."""
    return data_dir() / "demo"


def user_demo_folder(template: Path = DEMO_DIR) -> Path:
    """The user's demo folder, copied from `template` first when it has no project or video yet.

    A copy that exists is left as the user made it (their edits, takes, exports). When one of its
    template files was deleted, the missing files are copied again; nothing present is overwritten.
    Raises `OSError` when the data folder cannot be written.
    """
    target = user_demo_dir()
    if (target / PROJECT_NAME).is_file() and (target / VIDEO_NAME).is_file():
        return target
    if not target.exists():
        staging = target.with_name(f".{target.name}.{os.getpid()}.part")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(template, staging)
        try:
            os.replace(staging, target)
        except OSError:                       # another editor made it meanwhile: use theirs
            shutil.rmtree(staging, ignore_errors=True)
            if not target.is_dir():
                raise
        log.info("copied the demo template %s to %s", template, target)
        return target
    _copy_missing(template, target)
    return target


def _copy_missing(template: Path, target: Path) -> None:
    for source in template.rglob("*"):
        dest = target / source.relative_to(template)
        if source.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
        elif not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest)
            log.info("restored %s from the demo template", dest)


def user_demo_project() -> Path | None:
    """The user's demo project file (None when the template has no project, only its video)."""
    path = user_demo_folder() / PROJECT_NAME
    return path if path.is_file() else None


def user_demo_video() -> Path:
    return user_demo_folder() / VIDEO_NAME


__all__ = ["PROJECT_NAME", "VIDEO_NAME", "user_demo_dir", "user_demo_folder", "user_demo_project",
           "user_demo_video"]
