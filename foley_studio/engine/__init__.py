"""Generation use cases, Qt-free: requests, the pipeline that turns them into takes, the job queue.

    request = GenerationRequest(mode="text", video=path, region=(start, end), prompt="...", seeds=(0, 1))
    pipeline = Pipeline(InstalledModels(), takes_dir=project_folder / "takes", source=ProjectAudio(project))
    takes = pipeline.run(request, progress=print, cancel=event)      # or JobQueue(pipeline).submit(request)

Names are imported on first use, so `foley_studio.engine.request` (plain data) loads without torch
and the command line starts quickly.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "choose_device": "device",
    "EngineError": "errors", "GenerationCancelled": "errors", "ModelUnavailableError": "errors",
    "OutOfMemoryFailure": "errors", "RequestError": "errors", "TakeSidecarError": "errors",
    "Job": "jobs", "JobEvent": "jobs", "JobQueue": "jobs", "JobResult": "jobs", "JobState": "jobs",
    "InstalledModels": "models", "LoadedModel": "models", "StaticModels": "models",
    "Pipeline": "pipeline", "Progress": "pipeline", "regenerate_take": "pipeline",
    "GenerationRequest": "request", "ReferenceClip": "request",
    "ArrayAudio": "sources", "ProjectAudio": "sources", "project_for_video": "sources",
    "ModelIdentity": "takes", "Sidecar": "takes", "TakeResult": "takes", "TakeStore": "takes",
    "read_sidecar": "takes", "takes_dir_for": "takes",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
