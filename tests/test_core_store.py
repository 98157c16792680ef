"""Project files: round trips, relative paths, atomic saves, versions and migrations, damaged files,
recovery copies, missing media and relinking."""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from foley_studio.core import paths, safepaths, store
from foley_studio.core.errors import MissingMediaError, ProjectError, ProjectVersionError
from foley_studio.core.project import Clip, Marker, Project, Take, Track, VideoRef


def _touch(path: Path, data: bytes = b"RIFF....WAVE") -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return str(path)


def _project(root: Path, media: str = "media") -> Project:
    """A project whose media sits in `root/<media>` and a sibling folder `root/../sfx`."""
    video = _touch(root / media / "scene.mp4")
    steps = _touch(root / media / "steps.wav")
    door = _touch(root.parent / "sfx" / "door.wav")
    take = _touch(root / "takes" / "k1.wav")
    clips = [Clip(id="c1", source=steps, start=0, source_in=10, source_out=4_810, gain_db=-2.5, fade_in=100,
                  name="steps", source_length=96_000),
             Clip(id="c2", source=door, start=48_000, source_in=0, source_out=24_000, take_id=None)]
    return Project(
        video=VideoRef(path=video, fps_num=30_000, fps_den=1001, duration=480_000, width=1920, height=1080),
        tracks=[Track(id="t1", name="Foley 1", clips=clips, gain_db=-1.0, mute=True),
                Track(id="t2", name="Foley 2", solo=True)],
        takes=[Take(id="k1", path=take, region_start=1_000, region_end=385_000,
                    settings={"prompt": "footsteps on gravel", "seed": 3, "cfg": 4.5, "reference": None},
                    track_id="t2", kept=False, label="gravel")],
        markers=[Marker(id="m1", time=12_345, name="door slam")],
        name="Scene 12",
    )


@pytest.fixture
def proj_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "work" / "scene12"
    folder.mkdir(parents=True)
    return folder


# ---- round trip and layout ---------------------------------------------------------------------

def test_round_trip_is_exact_and_paths_are_relative_on_disk(proj_dir):
    project = _project(proj_dir)
    target = store.save_project(project, proj_dir / "scene.fsproj")
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert doc["format"] == "foley-studio-project" and doc["version"] == store.FORMAT_VERSION
    assert doc["video"]["path"] == "media/scene.mp4"
    assert [c["source"] for c in doc["tracks"][0]["clips"]] == ["media/steps.wav", "../sfx/door.wav"]
    assert doc["takes"][0]["path"] == "takes/k1.wav"
    loaded = store.load_project(target)
    assert loaded == project
    assert os.path.isabs(loaded.tracks[0].clips[0].source)


def test_moved_project_folder_keeps_its_media(proj_dir, tmp_path):
    store.save_project(_project(proj_dir), proj_dir / "scene.fsproj")
    moved = tmp_path / "elsewhere" / "work"
    shutil.copytree(proj_dir.parent, moved)
    loaded = store.load_project(moved / "scene12" / "scene.fsproj")
    assert store.find_missing_media(loaded) == []
    assert loaded.video.path == str(moved / "scene12" / "media" / "scene.mp4")


def test_non_ascii_paths_round_trip(tmp_path):
    folder = tmp_path / "Проект ñ 音" / "сцена"
    folder.mkdir(parents=True)
    project = _project(folder, media="шаги média")
    project.name = "Сцена 12 — ñ"
    target = store.save_project(project, folder / "фоли.fsproj")
    text = target.read_text(encoding="utf-8")
    assert "шаги média/steps.wav" in text      # stored as text, not \u escapes
    loaded = store.load_project(target)
    assert loaded == project and store.find_missing_media(loaded) == []


def test_save_keeps_the_mode_of_an_existing_file(proj_dir):
    target = proj_dir / "scene.fsproj"
    store.save_project(_project(proj_dir), target)
    assert target.stat().st_mode & 0o777 == 0o644
    os.chmod(target, 0o640)
    store.save_project(_project(proj_dir), target)
    assert target.stat().st_mode & 0o777 == 0o640


# ---- atomic writes -----------------------------------------------------------------------------

def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if safepaths.is_staging_name(p.name))


def test_unstorable_value_fails_midway_and_leaves_the_old_file(proj_dir):
    target = proj_dir / "scene.fsproj"
    project = _project(proj_dir)
    store.save_project(project, target)
    before = target.read_bytes()
    project.takes[0].settings["weights"] = object()     # json.dump fails after writing most of the file
    with pytest.raises(ProjectError, match=r"cannot save .*scene\.fsproj.*previous file is unchanged"):
        store.save_project(project, target)
    assert target.read_bytes() == before and _leftovers(proj_dir) == []


def test_crash_midway_through_writing_leaves_the_old_file(proj_dir, monkeypatch):
    target = proj_dir / "scene.fsproj"
    store.save_project(_project(proj_dir), target)
    before = target.read_bytes()
    real_chunks = store._json_chunks
    written: list[int] = []

    def half_then_disk_full(document, depth=0):
        if depth:   # the real serialiser's own recursion
            yield from real_chunks(document, depth)
            return
        chunks = list(real_chunks(document))
        yield from chunks[: len(chunks) // 2]
        written.append(sum(len(c) for c in chunks[: len(chunks) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "_json_chunks", half_then_disk_full)
    changed = _project(proj_dir)
    changed.name = "changed"
    with pytest.raises(ProjectError, match="No space left on device; the previous file is unchanged"):
        store.save_project(changed, target)
    monkeypatch.setattr(store, "_json_chunks", real_chunks)
    assert written and written[0] > 300                   # half a file had been written
    assert target.read_bytes() == before and _leftovers(proj_dir) == []
    assert store.load_project(target).name == "Scene 12"


def test_failed_rename_leaves_the_old_file_and_the_data_was_synced_first(proj_dir, monkeypatch):
    target = proj_dir / "scene.fsproj"
    store.save_project(_project(proj_dir), target)
    before = target.read_bytes()
    calls: list[str] = []
    real_fsync = os.fsync
    monkeypatch.setattr(store.os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])

    def failing_replace(src, dst):
        calls.append("replace")
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(store.os, "replace", failing_replace)
    with pytest.raises(ProjectError, match="Permission denied"):
        store.save_project(_project(proj_dir), target)
    assert calls[:2] == ["fsync", "replace"]
    assert target.read_bytes() == before and _leftovers(proj_dir) == []


def test_read_only_folder_gives_a_clear_error(proj_dir, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(safepaths.tempfile, "mkstemp", refuse)
    with pytest.raises(ProjectError, match=r"scene12 is not writable .*choose another folder"):
        store.save_project(_project(proj_dir), proj_dir / "scene.fsproj")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_for_real(proj_dir):
    project = _project(proj_dir)
    locked = proj_dir / "locked"
    locked.mkdir()
    os.chmod(locked, 0o555)
    try:
        with pytest.raises(ProjectError, match="not writable"):
            store.save_project(project, locked / "scene.fsproj")
    finally:
        os.chmod(locked, 0o755)


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(ProjectError, match=r"folder .*nowhere does not exist"):
        store.save_project(Project(), tmp_path / "nowhere" / "p.fsproj")


# ---- versions, migrations, damaged files -------------------------------------------------------

def _write_doc(path: Path, doc) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_newer_version_is_refused_with_an_update_hint(tmp_path):
    doc = store.project_to_document(Project(name="future"), tmp_path)
    doc["version"] = 7
    target = _write_doc(tmp_path / "future.fsproj", doc)
    with pytest.raises(ProjectVersionError, match=r"future\.fsproj was saved by a newer Foley Studio "
                                                  r"\(project format version 7; this one reads versions up to 2\)"
                                                  r"\. Update Foley Studio"):
        store.load_project(target)


def _v0_document() -> dict:
    """A fake version-0 layout: clip times under 'position'/'in'/'out' and no take list."""
    return {"format": "foley-studio-project", "version": 0, "name": "old",
            "video": None, "markers": [],
            "tracks": [{"id": "t1", "name": "A", "clips": [
                {"id": "c1", "source": "a.wav", "position": 100, "in": 0, "out": 480}]}]}


def _v0_to_v1(doc: dict) -> dict:
    for track in doc["tracks"]:
        for clip in track["clips"]:
            clip["start"], clip["source_in"], clip["source_out"] = clip.pop("position"), clip.pop("in"), clip.pop("out")
    doc["takes"] = []
    return doc


def test_migrations_run_step_by_step(tmp_path, monkeypatch):
    target = _write_doc(tmp_path / "old.fsproj", _v0_document())
    with pytest.raises(ProjectError, match="format version 0, .*no migration from version 0 to 1"):
        store.load_project(target)
    monkeypatch.setitem(store.MIGRATIONS, 0, _v0_to_v1)
    project = store.load_project(target)
    clip = project.tracks[0].clips[0]
    assert (clip.start, clip.source_in, clip.source_out) == (100, 0, 480)
    assert clip.source == str(tmp_path / "a.wav") and project.takes == []
    # the file on disk is untouched until the user saves; saving writes the current version
    assert json.loads(target.read_text())["version"] == 0
    store.save_project(project, target)
    assert json.loads(target.read_text())["version"] == store.FORMAT_VERSION
    assert store.load_project(target) == project


@pytest.mark.parametrize("content, message", [
    (b'{"format": "foley-studio-project", "version": 1, "tracks": [', r"is corrupt \(invalid JSON at line 1"),
    (b"", r"is corrupt \(invalid JSON"),
    (b"\xff\xfe\x00garbage", r"not UTF-8"),
    (b'{"format": "something-else", "version": 1}', r"is not a Foley Studio project \(its format is 'something-else'"),
    (b"[1, 2, 3]", r"is not a Foley Studio project \(its format is 'list'"),
    (b'{"format": "foley-studio-project"}', r"has no valid format version \(found None\)"),
    (b'{"format": "foley-studio-project", "version": 1, "tracks": [{"id": "t", "name": "A", "clips": '
     b'[{"id": "c", "source": "a.wav", "start": "10", "source_in": 0, "source_out": 5}]}]}',
     r"is damaged: project\.tracks\[0\]\.clips\[0\]\.start must be int, found '10'"),
    (b'{"format": "foley-studio-project", "version": 1, "tracks": [{"id": "t", "clips": []}]}',
     r"is damaged: project\.tracks\[0\] lacks the field 'name'"),
])
def test_damaged_files_give_project_errors_naming_the_file(tmp_path, content, message):
    target = tmp_path / "bad.fsproj"
    target.write_bytes(content)
    with pytest.raises(ProjectError, match=message) as info:
        store.load_project(target)
    assert str(target) in str(info.value)


def test_missing_file_and_folder_instead_of_file(tmp_path):
    with pytest.raises(ProjectError, match=r"nope\.fsproj does not exist"):
        store.load_project(tmp_path / "nope.fsproj")
    with pytest.raises(ProjectError, match="is a folder"):
        store.load_project(tmp_path)


# ---- recovery ----------------------------------------------------------------------------------

def test_recovery_copy_round_trips_and_save_discards_it(proj_dir):
    target = proj_dir / "scene.fsproj"
    project = _project(proj_dir)
    store.save_project(project, target)
    project.markers.append(Marker(id="m2", time=99, name="unsaved"))
    copy_path = store.write_recovery(project, target)
    assert copy_path.parent == paths.recovery_dir() and copy_path.name.startswith("scene-")
    (found,) = store.list_recoveries()
    assert found.path == copy_path and found.original == target.resolve()
    assert found.name == "Scene 12" and found.newer_than_original
    restored = store.load_project(copy_path)       # media resolve against the original's folder
    assert restored == project and store.find_missing_media(restored) == []
    store.save_project(restored, target)
    assert store.list_recoveries() == [] and not copy_path.exists()


def test_recoveries_are_keyed_by_project_path_and_listed_newest_first(tmp_path):
    a, b = tmp_path / "a" / "p.fsproj", tmp_path / "b" / "p.fsproj"
    first = store.write_recovery(Project(name="A"), a)
    time.sleep(0.02)   # distinct saved_at stamps even on coarse clocks
    assert store.write_recovery(Project(name="A2"), a) == first      # same project: one copy, replaced
    time.sleep(0.02)
    second = store.write_recovery(Project(name="B"), b)
    time.sleep(0.02)
    untitled = store.write_recovery(_project(tmp_path / "u"), None)
    (paths.recovery_dir() / "junk.fsproj").write_text("{ not json")   # skipped, not fatal
    found = store.list_recoveries()
    assert [r.path for r in found] == [untitled, second, first]
    assert [r.name for r in found] == ["Scene 12", "B", "A2"]
    assert found[0].original is None
    restored = store.load_project(untitled)
    assert restored.video.path == str(tmp_path / "u" / "media" / "scene.mp4")


# ---- missing media and relinking ---------------------------------------------------------------

def test_find_missing_and_relink_one_file(proj_dir, tmp_path):
    project = _project(proj_dir)
    door = project.tracks[0].clips[1].source
    os.remove(door)
    assert store.find_missing_media(project) == [door]
    moved = _touch(tmp_path / "new place" / "door.wav")
    assert store.relink(project, door, moved) == {door: moved}
    assert project.tracks[0].clips[1].source == moved and store.find_missing_media(project) == []


def test_relink_whole_folder_moves_every_missing_file_found_there(proj_dir, tmp_path):
    project = _project(proj_dir)
    media = proj_dir / "media"
    extra = _touch(media / "sub" / "cloth.wav")
    project.tracks[1].clips.append(Clip(id="c3", source=extra, start=0, source_in=0, source_out=10))
    new_media = tmp_path / "archive" / "media"
    shutil.move(str(media), str(new_media))
    os.remove(new_media / "scene.mp4")              # this one is really gone
    missing = store.find_missing_media(project)
    assert set(missing) == {str(media / "scene.mp4"), str(media / "steps.wav"), extra}
    mapping = store.relink(project, str(media / "steps.wav"), str(new_media / "steps.wav"), same_folder=True)
    assert mapping == {str(media / "steps.wav"): str(new_media / "steps.wav"),
                       extra: str(new_media / "sub" / "cloth.wav")}
    assert store.find_missing_media(project) == [str(media / "scene.mp4")]
    assert project.tracks[1].clips[0].source == str(new_media / "sub" / "cloth.wav")


def test_relink_refuses_missing_targets_and_unused_paths(proj_dir, tmp_path):
    project = _project(proj_dir)
    with pytest.raises(MissingMediaError, match="does not exist") as info:
        store.relink(project, project.video.path, tmp_path / "ghost.mp4")
    assert info.value.paths == [str(tmp_path / "ghost.mp4")]
    with pytest.raises(ProjectError, match="does not use it"):
        store.relink(project, tmp_path / "other.wav", project.video.path)
