"""Damaged and hostile project files: each is refused with a ProjectError naming the file and the field."""
from __future__ import annotations

import json
import os
import threading
import time

import pytest

from foley_studio.cli import main
from foley_studio.core import store
from foley_studio.core.errors import ProjectError
from foley_studio.core.project import Clip, Project, Take, Track, VideoRef
from tests import hostile_media as H
from tests.media_fixtures import make_tone


@pytest.fixture
def document(tmp_path):
    tone = str(make_tone(tmp_path / "tone.wav", 0.5))
    project = Project(video=VideoRef("v.mp4", 24, 1, 96_000, 160, 120),
                      tracks=[Track(id="t1", name="Foley 1", clips=[Clip(id="c1", source=tone, start=0, source_in=0,
                                                                         source_out=24_000)])])
    return store.project_to_document(project, None)


def _load(tmp_path, text: str | bytes):
    path = tmp_path / "p.fsproj"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return store.load_project(path), path


def _refused(tmp_path, text, message: str) -> str:
    with pytest.raises(ProjectError, match=message) as info:
        _load(tmp_path, text)
    assert "p.fsproj" in str(info.value)
    return str(info.value)


@pytest.mark.parametrize("kind", ["object", "array"])
def test_json_nested_100000_deep_is_refused_without_recursion(tmp_path, kind):
    _refused(tmp_path, H.nested_json(100_000, kind=kind), r"is corrupt \(it is nested deeper than 32 levels\)")


def test_deep_nesting_inside_take_settings_is_refused(tmp_path, document):
    document["takes"] = [{"id": "t", "path": "t.wav", "region_start": 0, "region_end": 1, "settings": {}}]
    text = json.dumps(document).replace('"settings": {}', '"settings": ' + H.nested_json(40))
    _refused(tmp_path, text, r"project\.takes\[0\]\.settings: it is nested deeper than 32 levels")


@pytest.mark.parametrize("path, value, message", [
    ("video.fps_den", 0, r"project\.video\.fps_den is 0; it must be from 1 to 1e\+06"),
    ("video.fps_num", -24, r"project\.video\.fps_num is -24; it must be from 1"),
    ("video.fps_den", 100, r"project\.video frame rate 24/100 \(0\.24 fps\) is outside 1-1000 fps"),
    ("video.duration", 48_000 * 10**12, r"project\.video\.duration is 48000000000000000; it must be from 0 to 4\.1472e\+09"),
    ("video.duration", -48_000, r"project\.video\.duration is -48000; it must be from 0"),
    ("tracks.0.clips.0.gain_db", 1e6, r"project\.tracks\[0\]\.clips\[0\]\.gain_db is 1000000\.0; it must be from -200 to 60 dB"),
    ("tracks.0.clips.0.gain_db", -1e6, r"gain_db is -1000000\.0; it must be from -200 to 60 dB"),
    ("tracks.0.gain_db", 1e300, r"project\.tracks\[0\]\.gain_db is 1e\+300"),
    ("tracks.0.clips.0.start", 10**40, r"clips\[0\]\.start is a number of about 41 digits; it must be from 0"),
    ("tracks.0.clips.0.start", -1, r"clips\[0\]\.start is -1"),
    ("tracks.0.clips.0.source_in", 48_000, r"ends \(source_out 24000\) before it starts \(source_in 48000\)"),
    ("tracks.0.clips.0.fade_in", 10**15, r"fade_in is 1000000000000000"),
    ("tracks.0.clips.0.source", "to\x00ne.wav", r"clips\[0\]\.source holds a NUL character"),
    ("tracks.0.clips.0.source", "a/" * 2500, r"clips\[0\]\.source is 5,000 characters long; at most 4,096"),
    ("video.path", "v\x00.mp4", r"project\.video\.path holds a NUL character"),
    ("sample_rate", 44_100, r"project\.sample_rate is 44100; it must be from 48000 to 48000 Hz"),
    ("name", "n" * 10_000, r"project\.name is 10,000 characters long"),
    ("takes", [{"id": "t", "path": "t.wav", "region_start": 9, "region_end": 5}], r"takes\[0\] region ends \(5\)"),
    ("markers", [{"id": "m", "time": -5, "name": "x"}], r"markers\[0\]\.time is -5"),
])
def test_out_of_range_fields_name_the_field_and_the_range(tmp_path, document, path, value, message):
    text = _refused(tmp_path, json.dumps(H.mutated(document, path, value)), message)
    assert "is damaged" in text and "restore it from a backup" in text


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_refused(tmp_path, document, literal):
    text = json.dumps(document).replace('"gain_db": 0.0', f'"gain_db": {literal}', 1)
    _refused(tmp_path, text, rf"is corrupt \(it holds {literal}, which is not a number JSON allows\)")


def test_a_float_too_large_for_a_double_is_refused(tmp_path, document):
    text = json.dumps(document).replace('"gain_db": 0.0', '"gain_db": 1e400', 1)
    _refused(tmp_path, text, r"gain_db is inf; it must be a finite number from -200 to 60 dB")


def test_an_integer_of_100000_digits_is_refused(tmp_path, document):
    text = json.dumps(document).replace('"start": 0', '"start": ' + "9" * 100_000, 1)
    _refused(tmp_path, text, r"is corrupt \(it holds a value Python cannot read \(Exceeds the limit")


def test_a_100_mb_project_is_refused_at_once(tmp_path, document):
    path = tmp_path / "p.fsproj"
    path.write_text(json.dumps(H.mutated(document, "name", "n" * (100 * 2**20))))
    t0 = time.perf_counter()
    with pytest.raises(ProjectError, match=r"p\.fsproj cannot be opened as a project: it is 100\.0 MiB, more than "
                                           r"the 64 MiB"):
        store.load_project(path)
    assert time.perf_counter() - t0 < 1.0


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/null"])
def test_devices_are_not_read_as_projects(special):
    with pytest.raises(ProjectError, match="not a regular file"):
        store.load_project(special)


def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "p.fsproj"
    os.mkfifo(fifo)
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            store.load_project(fifo)
            outcome.append(None)
        except BaseException as exc:   # noqa: BLE001 - handed to the test thread
            outcome.append(exc)
    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(5.0)
    if reader.is_alive():                       # unblock the reader so that the suite goes on
        with open(fifo, "wb"):
            pass
        reader.join(5.0)
        pytest.fail("loading a named pipe waited for a writer")
    assert isinstance(outcome[0], ProjectError) and "not a regular file" in str(outcome[0])


def test_utf8_bom_is_tolerated(tmp_path, document):
    project, _ = _load(tmp_path, "\ufeff" + json.dumps(document))
    assert project.tracks[0].clips[0].id == "c1"


def test_what_cannot_be_opened_cannot_be_saved_and_the_old_file_stays(tmp_path, document):
    project, path = _load(tmp_path, json.dumps(document))
    store.save_project(project, path)
    before = path.read_bytes()
    project.tracks[0].clips[0].gain_db = 1e6            # finite, so an edit lets it through
    with pytest.raises(ProjectError, match=r"cannot save .*p\.fsproj: project\.tracks\[0\]\.clips\[0\]\.gain_db is "
                                           r"1000000\.0; it must be from -200 to 60 dB; undo the change"):
        store.save_project(project, path)
    with pytest.raises(ProjectError, match="gain_db is 1000000.0"):
        store.write_recovery(project, path)
    assert path.read_bytes() == before


def test_what_the_editor_can_make_it_can_save_and_open_again(tmp_path, document):
    project, path = _load(tmp_path, json.dumps(document))
    project.tracks[0].clips[0].gain_db = 60.0
    project.takes.append(Take(id="t", path=str(tmp_path / "t.wav"), region_start=0, region_end=48_000, label="a\x00b",
                              settings={"deep": [[[1.5]]]}))
    store.save_project(project, path)
    assert store.load_project(path) == project


# ---------------------------------------------------------------------------------------------
# The same files through the command line: exit 2, one line, no traceback
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("change, message", [
    (lambda d: H.nested_json(100_000), "nested deeper than 32 levels"),
    (lambda d: json.dumps(H.mutated(d, "video.fps_den", 0)), r"video\.fps_den is 0"),
    (lambda d: json.dumps(H.mutated(d, "tracks.0.clips.0.gain_db", 1e6)), r"gain_db is 1000000\.0"),
    (lambda d: json.dumps(H.mutated(d, "video.duration", 48_000 * 10**12)), r"video\.duration is 48000000000000000"),
    (lambda d: json.dumps(H.mutated(d, "video.duration", -48_000)), r"video\.duration is -48000"),
])
def test_export_of_a_damaged_project_is_a_one_line_error(tmp_path, capsys, document, change, message):
    path = tmp_path / "p.fsproj"
    path.write_text(change(document))
    assert main(["export", str(path), "--mix", str(tmp_path / "mix.wav")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("foley-studio: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert str(path) in err
    import re
    assert re.search(message, err)
    assert not (tmp_path / "mix.wav").exists()
