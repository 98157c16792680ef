"""Takes on disk: `<id>.wav` (48 kHz, 32-bit float) beside `<id>.json`, the exact settings that made it.

The sidecar holds the whole request (with the batch of seeds it was sampled in), the take's seed
and its own guidance scale γ (a "vary γ" batch gives each take another), the model's name and
weights hash, and a hash of the audio, so `regenerate` can make the same take again and prove it
is bit-identical. Both files are staged under hidden names and renamed into place only when
complete: a crash or a cancelled job never leaves half a take.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from foley_studio import __version__
from foley_studio.core.jsonfile import JsonProblem, parse_bounded, read_bounded
from foley_studio.core.project import Take, new_id
from foley_studio.core.safepaths import inside, remove_stale_staging, staging_file
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.media.audio import audio_info, read_audio, write_audio

from .errors import TakeSidecarError, TakeWriteError
from .request import GenerationRequest

log = logging.getLogger(__name__)

SIDECAR_FORMAT = "foley-studio.take"
SIDECAR_VERSION = 1
# 32-bit float keeps the model's output exactly, so a regenerated take compares bit for bit.
TAKE_SUBTYPE = "FLOAT"
MAX_SIDECAR_BYTES = 4 * 2**20


@dataclass(frozen=True)
class ModelIdentity:
    """Which weights made a take: the registry name and a hash of the checkpoint files."""

    name: str
    hash: str
    preset: str = ""


@dataclass
class TakeResult:
    """One finished take: where its files are and what made it."""

    take_id: str
    seed: int
    wav_path: Path
    sidecar_path: Path
    request: GenerationRequest          # the batch request (all seeds) it was sampled in
    model: ModelIdentity
    audio_sha256: str
    extra: dict[str, Any] = field(default_factory=dict)
    cfg: float | None = None            # this take's γ (None: the request's `cfg`)

    @property
    def region(self) -> tuple[int, int]:
        return self.request.region

    @property
    def guidance(self) -> float:
        """The guidance scale γ this take was sampled with."""
        return float(self.cfg) if self.cfg is not None else float(self.request.cfg)

    def to_take(self) -> Take:
        """The project's record of this take (for the editor's `AddTake` edit)."""
        settings = self.request.to_dict()
        settings["seed"] = self.seed
        settings["cfg"] = self.guidance           # its own γ, also for a take of a "vary γ" batch
        settings["model_hash"] = self.model.hash
        label = f"seed {self.seed}" + (f" · γ {self.guidance:g}" if self.request.cfgs is not None else "")
        return Take(id=self.take_id, path=str(self.wav_path), region_start=self.region[0],
                    region_end=self.region[1], settings=settings, track_id=self.request.track_id, label=label)


def takes_dir_for(project_path: str | Path) -> Path:
    """Where a saved project's takes live: `takes/` beside the `.fsproj`."""
    return Path(project_path).resolve().parent / "takes"


def audio_sha256(audio: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(audio, dtype=np.float32).tobytes()).hexdigest()


class TakeStore:
    """Writes and reads takes in one folder (a project's `takes/`, or the CLI's --out)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def write(self, audio: np.ndarray, *, request: GenerationRequest, seed: int, model: ModelIdentity,
              extra: dict[str, Any] | None = None, take_id: str | None = None,
              cfg: float | None = None) -> TakeResult:
        """Write one take and its sidecar; both appear together or not at all.

        `cfg` is the take's own γ; it may be left out when the seed names one take of `request`.
        """
        if audio.ndim != 1 or audio.shape[0] != request.length:
            raise ValueError(f"take audio {audio.shape=} does not fill the region of {request.length} samples")
        cfg = float(request.take_cfgs[request.row_of(seed, cfg)])     # ValueError: not a take of the request
        self._make_folder()
        take_id = take_id or new_id("take")
        wav_path, sidecar_path = self.paths(take_id)
        digest = audio_sha256(audio)
        sidecar = {
            "format": SIDECAR_FORMAT,
            "version": SIDECAR_VERSION,
            "id": take_id,
            "seed": seed,
            "cfg": cfg,
            "request": request.to_dict(),
            "model": {"name": model.name, "hash": model.hash, "preset": model.preset},
            "audio": {"file": wav_path.name, "sample_rate": SAMPLE_RATE, "samples": int(audio.shape[0]),
                      "subtype": TAKE_SUBTYPE, "sha256": digest},
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "software": {"foley_studio": __version__, "python": platform.python_version(),
                         "torch": _torch_version()},
            **({"extra": extra} if extra else {}),
        }
        staged: list[Path] = []
        try:
            wav_tmp = self._stage(take_id, ".wav")
            staged.append(wav_tmp)
            write_audio(wav_tmp, np.asarray(audio, dtype=np.float32), TAKE_SUBTYPE)
            json_tmp = self._stage(take_id, ".json")
            staged.append(json_tmp)
            json_tmp.write_text(json.dumps(sidecar, indent=2, sort_keys=True), encoding="utf-8")
            for tmp in staged:
                _fsync(tmp)
            # The WAV first: a sidecar is the mark of a finished take, so it must never point at nothing.
            os.replace(wav_tmp, wav_path)
            os.replace(json_tmp, sidecar_path)
        except BaseException as exc:
            for tmp in staged:
                tmp.unlink(missing_ok=True)
            if isinstance(exc, (OSError, sf.LibsndfileError)):
                raise TakeWriteError(f"{wav_path}: the take could not be written ({exc}); check free space and "
                                     f"permissions of {self.folder}") from exc
            raise
        log.info("take %s (seed %d) written to %s", take_id, seed, wav_path)
        return TakeResult(take_id, seed, wav_path, sidecar_path, request, model, digest, dict(extra or {}), cfg)

    def paths(self, take_id: str) -> tuple[Path, Path]:
        """The take's WAV and sidecar: named after its id (made safe), always inside the folder."""
        return inside(self.folder, take_id, ".wav"), inside(self.folder, take_id, ".json")

    def _make_folder(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise TakeWriteError(f"{self.folder}: is a file, not a folder; choose a folder for the takes") from None
        except OSError as exc:
            raise TakeWriteError(f"{self.folder}: cannot create the takes folder ({exc.strerror or exc}); "
                                 "choose another folder") from None
        remove_stale_staging(self.folder)    # halves of takes a killed job was writing

    def _stage(self, take_id: str, suffix: str) -> Path:
        fd, path = staging_file(inside(self.folder, take_id, suffix))
        os.close(fd)
        return path

    def list_takes(self) -> list[str]:
        """Ids of complete takes (a sidecar and its WAV both present), oldest first."""
        ids = []
        for sidecar in sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime):
            if not sidecar.name.startswith(".") and sidecar.with_suffix(".wav").exists():
                ids.append(sidecar.stem)
        return ids


@dataclass(frozen=True)
class Sidecar:
    """A take's sidecar, parsed: enough to make the same take again."""

    take_id: str
    seed: int
    request: GenerationRequest
    model: ModelIdentity
    audio_sha256: str
    samples: int
    extra: dict[str, Any]
    path: Path
    cfg: float | None = None        # the take's own γ (None only for a hand-made Sidecar: the request's cfg)

    @property
    def guidance(self) -> float:
        return float(self.cfg) if self.cfg is not None else float(self.request.cfg)

    def take_request(self) -> GenerationRequest:
        """A request for this take alone (its seed and γ): "generate it again" as a new job."""
        return self.request.for_take(self.seed, self.guidance)

    @property
    def wav_path(self) -> Path:
        return self.path.with_suffix(".wav")


def read_sidecar(path: str | Path) -> Sidecar:
    """Parse `<id>.json` (or the path of its `.wav`); errors name the file and what is wrong."""
    path = Path(path)
    if path.suffix.lower() == ".wav":
        path = path.with_suffix(".json")
    try:
        data = parse_bounded(read_bounded(path, MAX_SIDECAR_BYTES))
    except FileNotFoundError:
        raise TakeSidecarError(f"{path}: the take's settings file is missing; it cannot be regenerated") from None
    except OSError as exc:
        raise TakeSidecarError(f"{path}: cannot read the take's settings ({exc})") from exc
    except JsonProblem as exc:
        raise TakeSidecarError(f"{path}: cannot read the take's settings ({exc.reason})") from None
    if not isinstance(data, dict) or data.get("format") != SIDECAR_FORMAT:
        raise TakeSidecarError(f"{path}: not a Foley Studio take sidecar")
    if data.get("version", 0) > SIDECAR_VERSION:
        raise TakeSidecarError(f"{path}: written by a newer Foley Studio (sidecar version {data['version']}); "
                               "update Foley Studio to regenerate it")
    try:
        request = GenerationRequest.from_dict(data["request"])
        model = ModelIdentity(**data["model"])
        seed = int(data["seed"])
        # Sidecars from before per-take γ have none of their own: the request's cfg made them.
        cfg = float(data["cfg"]) if data.get("cfg") is not None else float(request.cfg)
        request.row_of(seed, cfg)           # ValueError: the take is not one of its own request's
        return Sidecar(take_id=data["id"], seed=seed, request=request, model=model,
                       audio_sha256=data["audio"]["sha256"], samples=int(data["audio"]["samples"]),
                       extra=dict(data.get("extra", {})), path=path, cfg=cfg)
    except (KeyError, TypeError, ValueError) as exc:
        raise TakeSidecarError(f"{path}: the take's settings are incomplete ({exc!r})") from exc


def read_take_audio(path: str | Path) -> np.ndarray:
    """A take's samples exactly as written (mono float32 at 48 kHz; another rate is refused, not resampled)."""
    rate, _channels, _frames = audio_info(path)
    if rate != SAMPLE_RATE:
        raise TakeSidecarError(f"{path}: take audio at {rate} Hz, expected {SAMPLE_RATE} Hz")
    return read_audio(path)


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _torch_version() -> str:
    import torch
    return torch.__version__
