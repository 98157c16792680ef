"""Every atomic write leaves a file with the usual permissions: what the umask allows for a new file
(0644 under 022, 0640 under 027), the old file's mode for a replaced one, never mkstemp's private 0600."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from foley_studio.core import store
from foley_studio.core.project import Project, Track
from foley_studio.engine.request import GenerationRequest
from foley_studio.engine.takes import ModelIdentity, TakeStore
from foley_studio.media.audio import write_audio

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


@pytest.fixture(params=[0o022, 0o027])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _write_everything(folder: Path) -> list[Path]:
    """One file of each kind the editor writes: project, take WAV + sidecar, exported audio, model."""
    project = store.save_project(Project(tracks=[Track(id="t", name="t")]), folder / "p.fsproj")
    take = TakeStore(folder / "takes").write(np.zeros(4800, np.float32), request=GenerationRequest(
        region=(0, 4800), seeds=(1,)), seed=1, model=ModelIdentity("m", "h"))
    mix = write_audio(folder / "mix.wav", np.zeros(480, np.float32))
    return [project, take.wav_path, take.sidecar_path, mix]


def test_new_files_get_the_mode_the_umask_allows(tmp_path, umask):
    written = _write_everything(tmp_path)
    expected = 0o666 & ~umask
    assert {p.name: oct(_mode(p)) for p in written} == {p.name: oct(expected) for p in written}


def test_a_saved_model_checkpoint_is_readable_by_others(tmp_path, umask):
    from foley_studio.model.checkpoint import save_pretrained
    from tests.model_helpers import tiny_model
    folder = save_pretrained(tiny_model(), tmp_path / "model")
    files = sorted(p for p in folder.iterdir() if p.is_file())
    assert files and all(_mode(p) == 0o666 & ~umask for p in files), {p.name: oct(_mode(p)) for p in files}


def test_a_replaced_file_keeps_its_mode(tmp_path, umask):
    first = _write_everything(tmp_path)
    project, mix = first[0], first[3]
    for path in (project, mix):
        os.chmod(path, 0o664)
    store.save_project(Project(name="again"), project)
    write_audio(mix, np.ones(480, np.float32) * 0.5)
    assert (oct(_mode(project)), oct(_mode(mix))) == (oct(0o664), oct(0o664))
    assert store.load_project(project).name == "again"
