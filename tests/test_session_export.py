"""Export through the session: progress in steps, one mixdown, media checked before anything is written."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from foley_studio.core.errors import MissingMediaError, ProjectError
from foley_studio.core.project import Clip, Project, Track
from foley_studio.core.timebase import SAMPLE_RATE as SR
from foley_studio.session.export import ExportTargets, export_project
from tests.media_fixtures import make_tone


def _project(tmp_path, source=None) -> Project:
    source = source or make_tone(tmp_path / "tone.wav", seconds=1.0, freq=440.0, amplitude=0.5)
    clip = Clip(id="c", source=str(source), start=SR // 2, source_in=0, source_out=SR, source_length=SR)
    return Project(tracks=[Track(id="t", name="Tone", clips=[clip])])


def test_progress_comes_in_steps_and_the_mix_is_written(tmp_path):
    steps = []
    written = export_project(_project(tmp_path), ExportTargets(mix=tmp_path / "m.wav", otio=tmp_path / "t.otio"),
                             progress=lambda done, total, step: steps.append((done, total, step)))
    assert steps == [(0, 3, "mixdown"), (1, 3, "mix"), (2, 3, "otio"), (3, 3, "done")]
    assert written == [tmp_path / "m.wav", tmp_path / "t.otio"]
    mix, sr = sf.read(tmp_path / "m.wav")
    assert mix.shape == (int(1.5 * SR), 2), "a new project mixes in stereo"
    assert sr == SR and int(np.argmax(np.abs(mix).max(axis=1) > 0.05)) in range(SR // 2 - 50, SR // 2 + 50)


def test_missing_media_is_named_and_nothing_is_written(tmp_path):
    project = _project(tmp_path, source=tmp_path / "gone.wav")
    with pytest.raises(MissingMediaError, match="gone.wav"):
        export_project(project, ExportTargets(mix=tmp_path / "m.wav"), name="p.fsproj")
    assert not (tmp_path / "m.wav").exists()
    with pytest.raises(ProjectError, match="nothing to do"):
        export_project(project, ExportTargets())
