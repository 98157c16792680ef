"""Generation use cases, Qt-free: requests, the pipeline that turns them into takes, the job queue.

    request = GenerationRequest(mode="text", video=path, region=(start, end), prompt="...", seeds=(0, 1))
    pipeline = Pipeline(InstalledModels(), takes_dir=project_folder / "takes", source=ProjectAudio(project))
    takes = pipeline.run(request, progress=print, cancel=event)      # or JobQueue(pipeline).submit(request)
"""
from .device import choose_device
from .errors import (
    EngineError, GenerationCancelled, ModelUnavailableError, OutOfMemoryFailure, RequestError, TakeSidecarError,
)
from .jobs import Job, JobEvent, JobQueue, JobResult, JobState
from .models import InstalledModels, LoadedModel, StaticModels
from .pipeline import Pipeline, Progress, regenerate_take
from .request import GenerationRequest, ReferenceClip
from .sources import ArrayAudio, ProjectAudio, project_for_video
from .takes import ModelIdentity, Sidecar, TakeResult, TakeStore, read_sidecar, takes_dir_for

__all__ = [
    "ArrayAudio", "EngineError", "GenerationCancelled", "GenerationRequest", "InstalledModels", "Job", "JobEvent",
    "JobQueue", "JobResult", "JobState", "LoadedModel", "ModelIdentity", "ModelUnavailableError",
    "OutOfMemoryFailure", "Pipeline", "Progress", "ProjectAudio", "ReferenceClip", "RequestError", "Sidecar",
    "StaticModels", "TakeResult", "TakeSidecarError", "TakeStore", "choose_device", "project_for_video",
    "read_sidecar", "regenerate_take", "takes_dir_for",
]
