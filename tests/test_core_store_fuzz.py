"""Fuzzing `core.store.load_project` with project documents, valid, near-valid and hostile.

Loading succeeds or raises `ProjectError`, never anything else; what loads also saves and loads back
unchanged, with its times ordered and its numbers finite.
"""
from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foley_studio.core import store
from foley_studio.core.errors import ProjectError
from foley_studio.core.project import Clip, Marker, Project, Take, Track, VideoRef
from tests.fuzz_strategies import FUZZ, FUZZ_LONG, dump_json, json_values, mutated

def _base_project_document() -> dict:
    project = Project(
        video=VideoRef("/media/v.mp4", 30000, 1001, 480_000, 1920, 1080),
        tracks=[Track(id="t1", name="Foley 1", gain_db=-3.0, clips=[
            Clip(id="c1", source="/media/a.wav", start=1000, source_in=0, source_out=48_000, gain_db=-6.0,
                 fade_in=480, fade_out=960, name="step", source_length=96_000),
            Clip(id="c2", source="/media/b.wav", start=60_000, source_in=100, source_out=20_000, take_id="k1")]),
            Track(id="t2", name="Foley 2", mute=True)],
        takes=[Take(id="k1", path="/media/k1.wav", region_start=0, region_end=48_000,
                    settings={"seed": 3, "cfg": 4.0, "region": [0, 48_000]}, track_id="t1", label="seed 3")],
        markers=[Marker(id="m1", time=24_000, name="hit")], name="fuzz")
    return store.project_to_document(project, None)


PROJECT = _base_project_document()


def _load_text(text: str) -> Project | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.fsproj"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            project = store.load_project(path)
        except ProjectError:
            return None
        store.save_project(project, path)                 # what loads must save ...
        assert store.load_project(path) == project        # ... and come back the same
        return project


def _check_project(document: dict) -> None:
    project = _load_text(dump_json(document))
    if project is not None:
        for clip in (c for t in project.tracks for c in t.clips):
            assert 0 <= clip.start and clip.source_in <= clip.source_out and math.isfinite(clip.gain_db)
        if project.video is not None:
            assert project.video.fps_den > 0


@FUZZ
@given(mutated(PROJECT))
def test_near_valid_project_documents_load_or_raise_project_error(document):
    _check_project(document)


@FUZZ
@given(json_values)
def test_arbitrary_json_as_a_project_raises_project_error(value):
    _check_project({"format": "foley-studio-project", "version": 1, "tracks": value} if isinstance(value, list)
                   else value)


@FUZZ
@given(st.binary(max_size=200), st.integers(0, 2000))
def test_bytes_and_cut_files_raise_project_error(junk, cut):
    text = dump_json(PROJECT)
    for data in (junk, text[:cut].encode(), text.encode()[:cut] + junk):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "p.fsproj"
            path.write_bytes(data)
            try:
                store.load_project(path)
            except ProjectError:
                pass


@pytest.mark.slow
@FUZZ_LONG
@given(mutated(PROJECT, n_max=6))
def test_near_valid_project_documents_long_run(document):
    _check_project(document)
