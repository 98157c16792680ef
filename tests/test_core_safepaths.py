"""No written file escapes its folder: stems, takes, recovery copies and exports with hostile names."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from foley_studio.core import safepaths, store
from foley_studio.core.project import Clip, Project, Take, Track
from foley_studio.core.safepaths import UnsafePathError, inside, safe_name
from foley_studio.engine.request import GenerationRequest
from foley_studio.engine.takes import ModelIdentity, TakeStore
from foley_studio.media.errors import MediaWriteError
from foley_studio.media.export import export_mix, export_otio, export_stems
from tests.media_fixtures import make_tone

HOSTILE = [
    "..", ".", "...", "../../escape/x", "x/../../../escape/ESCAPED", "/tmp/absolute", "/", "a\x00b", "CON", "nul.txt",
    "COM1", "LPT9.wav", "t" * 300, "t" * 3000, "\U0001f50a" * 200, "a\nb\rc", "..\\..\\x", "foley.", "\x01\x02\x7f",
    "", "   ", "a:b*c?d\"e<f>g|h", "~", "$HOME",
]


def _all_files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("name", HOSTILE)
def test_safe_name_is_one_plain_short_component(name):
    safe = safe_name(name)
    assert safe and safe not in (".", "..")
    assert not set(safe) & set('/\\:*?"<>|\x00\n\r')
    assert len(safe.encode("utf-8")) <= safepaths.MAX_NAME_BYTES
    assert safe.split(".")[0].upper() not in {"CON", "NUL", "COM1", "LPT9"}
    assert safe == safe.strip(" .")


@pytest.mark.parametrize("name", HOSTILE)
def test_inside_stays_in_the_folder(tmp_path, name):
    path = inside(tmp_path, name, ".wav")
    assert path.parent == tmp_path and path.suffix == ".wav"
    path.write_bytes(b"x")          # the name is one the file system takes
    assert path.resolve().parent == tmp_path.resolve()


def test_inside_refuses_a_symlink_that_points_out(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    folder = tmp_path / "stems"
    folder.mkdir()
    (folder / "01 x.wav").symlink_to(outside / "target.wav")
    with pytest.raises(UnsafePathError, match="outside the folder"):
        inside(folder, "01 x", ".wav")


def test_a_suffix_must_be_a_plain_extension(tmp_path):
    with pytest.raises(UnsafePathError, match="not a plain extension"):
        inside(tmp_path, "x", "/../../y.wav")


@pytest.fixture
def tone(tmp_path):
    return str(make_tone(tmp_path / "tone.wav", 0.2))


def _project(tone: str, names: list[str], ids: list[str] | None = None) -> Project:
    ids = ids or [f"track-{i}" for i in range(len(names))]
    tracks = [Track(id=i, name=n, clips=[Clip(id=f"c{k}", source=tone, start=0, source_in=0, source_out=4800,
                                              name=n)])
              for k, (i, n) in enumerate(zip(ids, names))]
    return Project(tracks=tracks, name=names[0])


def test_stems_of_hostile_track_names_and_ids_stay_in_the_folder(tmp_path, tone):
    folder = tmp_path / "out" / "stems"
    (folder / "01 x").mkdir(parents=True)              # the folder the old traversal needed
    (tmp_path / "escape").mkdir()
    before = _all_files(tmp_path)
    ids = [f"x/../../../escape/ESCAPED{i}" if i % 2 else f"/tmp/abs{i}" for i in range(len(HOSTILE))]
    written = export_stems(_project(tone, HOSTILE, ids), folder)
    assert len(written) == len(HOSTILE) == len(set(written))
    new = _all_files(tmp_path) - before
    assert new == set(written)
    assert all(p.parent == folder for p in written)
    assert not list((tmp_path / "escape").iterdir())


def test_a_stem_keeps_the_track_name_or_falls_back_to_its_id(tmp_path, tone):
    project = _project(tone, ["Footsteps", "...", "..."], ["t1", "t2", "../.."])
    names = [p.name for p in export_stems(project, tmp_path)]
    assert names == ["01 Footsteps.wav", "02 t2.wav", "03 track 3.wav"]


@pytest.mark.parametrize("take_id", ["../../escape/take", "/tmp/take", "a\x00b", "CON", "t" * 400, "..", ""])
def test_takes_with_hostile_ids_and_labels_stay_in_their_folder(tmp_path, take_id):
    folder = tmp_path / "takes"
    (tmp_path / "escape").mkdir()
    request = GenerationRequest(region=(0, 4800), seeds=(0,))
    result = TakeStore(folder).write(np.zeros(4800, np.float32), request=request, seed=0,
                                     model=ModelIdentity("m", "h"), take_id=take_id)
    assert result.wav_path.parent == folder and result.sidecar_path.parent == folder
    assert {p for p in folder.iterdir()} == {result.wav_path, result.sidecar_path}
    assert not list((tmp_path / "escape").iterdir())


def test_hostile_names_and_labels_round_trip_through_a_saved_project(tmp_path, tone):
    project = _project(tone, HOSTILE)
    project.takes = [Take(id="../../x", path=tone, region_start=0, region_end=10, label=name) for name in HOSTILE]
    target = tmp_path / "p.fsproj"
    store.save_project(project, target)
    assert store.load_project(target) == project
    assert {p.name for p in tmp_path.iterdir()} == {"p.fsproj", "tone.wav"}


@pytest.mark.parametrize("name", ["../../x", "/", "..", "CON", "t" * 300])
def test_recovery_copies_of_hostile_project_names_stay_in_the_recovery_folder(tmp_path, tone, name):
    from foley_studio.core.paths import recovery_dir

    project = _project(tone, ["a"])
    project.name = name
    copy_path = store.write_recovery(project, None)
    assert copy_path.parent == recovery_dir() and copy_path.is_file()


@pytest.mark.parametrize("name, message", [
    ("a\x00b.wav", "NUL"),
    ("m" * 300 + ".wav", "File name too long"),
    ("no/such/folder/m.wav", "does not exist"),
])
def test_export_names_that_cannot_be_files_get_write_errors(tmp_path, tone, name, message):
    project = _project(tone, ["a"])
    with pytest.raises(MediaWriteError, match=message):
        export_mix(project, str(tmp_path) + os.sep + name)
    assert not [p for p in tmp_path.rglob("*") if safepaths.is_staging_name(p.name)]


@pytest.mark.parametrize("name", HOSTILE)
def test_the_export_dialogs_suggested_names_from_a_hostile_project_name_stay_in_its_folder(tmp_path, tone, name):
    from foley_studio.session.export import default_targets

    project = _project(tone, ["a"])
    project.name = name
    for project_path in (None, tmp_path / "p.fsproj"):
        targets = default_targets(project, project_path)
        base = (tmp_path if project_path else Path.home()) / "export"
        assert {target.parent for target in targets.values()} == {base}, targets
        assert all(len(t.name.encode("utf-8")) <= 255 and "\x00" not in t.name for t in targets.values())


@pytest.mark.parametrize("relative", ["../up.wav", "sub/../../up.wav", "CON.wav", "nul.wav"])
def test_a_chosen_export_name_is_written_exactly_where_it_points_and_nowhere_else(tmp_path, tone, relative):
    """The user's own choice of file (`--mix`, the dialog) is honoured as the OS resolves it."""
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    before = _all_files(tmp_path)
    target = work / relative
    export_mix(_project(tone, ["a"]), target)
    assert _all_files(tmp_path) - before == {Path(os.path.realpath(target))}


def test_an_absolute_export_name_is_written_there(tmp_path, tone):
    target = tmp_path / "elsewhere" / "mix.flac"
    target.parent.mkdir()
    before = _all_files(tmp_path)
    export_mix(_project(tone, ["a"]), str(target))
    assert _all_files(tmp_path) - before == {target}


def test_an_export_onto_a_folder_is_refused_and_leaves_the_folder(tmp_path, tone):
    (tmp_path / "d.otio").mkdir()
    with pytest.raises(MediaWriteError, match="cannot replace"):
        export_otio(_project(tone, ["a"]), tmp_path / "d.otio")
    assert (tmp_path / "d.otio").is_dir()


def test_stale_staging_files_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    dead_pid = 2**22 + 12345           # above Linux's default pid_max: no such process
    dead = tmp_path / f".scene.{dead_pid}.abc123.part.wav"
    live = tmp_path / f".scene.{os.getpid()}.def456.part.wav"
    other = tmp_path / ".hidden-but-not-ours.wav"
    for p in (dead, live, other):
        p.write_bytes(b"x")
    assert safepaths.remove_stale_staging(tmp_path) == 1
    assert not dead.exists() and live.exists() and other.exists()
