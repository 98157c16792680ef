"""Fuzzing the two file readers: project documents and model configs, valid, near-valid and hostile.

Loading either succeeds or raises one of the documented errors (ProjectError; CheckpointFormatError /
WeightsMissingError), never anything else. What loads must also save and load back unchanged, and a
model config that passes must describe a model that fits (and, when small, builds).
"""
from __future__ import annotations

import copy
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foley_studio.core import store
from foley_studio.core.errors import ProjectError
from foley_studio.core.project import Clip, Marker, Project, Take, Track, VideoRef
from foley_studio.model import limits
from foley_studio.model.checkpoint import read_config
from foley_studio.model.config import DEMO, PAPER, TINY
from foley_studio.model.errors import CheckpointFormatError, WeightsMissingError

# -- values: what a damaged or hostile file may hold where a number, a text or a list should be -------
hostile_numbers = st.one_of(
    st.integers(-2**70, 2**70), st.sampled_from([0, -1, 1, 2**31, 2**63, 10**30, 48_000 * 10**12]),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1e6, -1e6, 1e308, 5e-324, 0.5]))
hostile_texts = st.one_of(st.text(max_size=20), st.sampled_from(["", "..", "a\x00b", "/", "x" * 5000, "NaN"]))
scalars = st.one_of(st.none(), st.booleans(), hostile_numbers, hostile_texts)
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=12)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside a JSON tree (dict keys and list indices)."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, prefix + (i,))
    return found


def _set(tree: Any, path: tuple, value: Any) -> None:
    node = tree
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


@st.composite
def mutated(draw, base: dict, n_max: int = 3) -> dict:
    """`base` with up to `n_max` values (anywhere in it) replaced by hostile ones, or keys removed."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(0, n_max))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        if draw(st.integers(0, 5)) == 0 and isinstance(_parent(doc, path), dict):
            del _parent(doc, path)[path[-1]]
        else:
            _set(doc, path, draw(json_values))
    return doc


def _parent(tree: Any, path: tuple) -> Any:
    node = tree
    for key in path[:-1]:
        node = node[key]
    return node


# -- projects ---------------------------------------------------------------------------------------
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


def _dump(document: Any) -> str:
    return json.dumps(document, allow_nan=True)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ_LONG = settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check_project(document: dict) -> None:
    project = _load_text(_dump(document))
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
    text = _dump(PROJECT)
    for data in (junk, text[:cut].encode(), text.encode()[:cut] + junk):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "p.fsproj"
            path.write_bytes(data)
            try:
                store.load_project(path)
            except ProjectError:
                pass


# -- model configs ----------------------------------------------------------------------------------
def _meta(config: dict) -> dict:
    return {"format": "foley-studio-model", "format_version": 1, "config": config, "card": {}}


CONFIGS = [TINY.to_dict(), DEMO.to_dict(), PAPER.to_dict()]


def _check_config(meta: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "config.json").write_text(_dump(meta), encoding="utf-8")
        try:
            config, _ = read_config(folder)
        except (CheckpointFormatError, WeightsMissingError):
            return
    counts = limits.estimate_parameters(config)
    assert sum(counts.values()) <= limits.MAX_PARAMETERS
    if sum(counts.values()) < 2_000_000 and config.text.kind == "hash" and config.video.kind == "conv":
        from foley_studio.model.foley import FoleyModel
        model = FoleyModel(config)                          # a config that passes builds
        assert sum(p.numel() for p in model.dit.parameters()) == counts["dit"]


@FUZZ
@given(st.sampled_from(CONFIGS).flatmap(lambda c: mutated(c, n_max=4)))
def test_near_valid_model_configs_load_or_raise_checkpoint_errors(config):
    _check_config(_meta(config))


@FUZZ
@given(json_values)
def test_arbitrary_json_as_a_model_config_raises_checkpoint_errors(value):
    _check_config(_meta(value))
    _check_config(value)


@pytest.mark.slow
@FUZZ_LONG
@given(mutated(PROJECT, n_max=6))
def test_near_valid_project_documents_long_run(document):
    _check_project(document)


@pytest.mark.slow
@FUZZ_LONG
@given(st.sampled_from(CONFIGS).flatmap(lambda c: mutated(c, n_max=6)))
def test_near_valid_model_configs_long_run(config):
    _check_config(_meta(config))
