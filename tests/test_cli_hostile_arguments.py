"""Odd command-line values: each is a one-line error naming the flag and the allowed range (exit 2)."""
from __future__ import annotations

import json
import re
from fractions import Fraction

import pytest
import soundfile as sf

from foley_studio.cli import main
from foley_studio.core import values
from foley_studio.core.errors import FoleyError
from foley_studio.core.timebase import seconds_to_samples
from tests.media_fixtures import make_tone, make_video


def _one_line_error(capsys, pattern: str) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    line = [x for x in err.splitlines() if ": error: " in x][-1]
    assert re.search(pattern, line), line
    return line


@pytest.mark.parametrize("flag, text, message", [
    ("--region", "nan:1", r"--region start is nan; it must be a finite number from 0 to 86400 s"),
    ("--region", "0:inf", r"--region end is inf; it must be a finite number from 0 to 86400 s"),
    ("--region", "-inf:1", r"--region start is -inf"),
    ("--region", "0:1e300", r"--region end is 1e\+300; it must be from 0 to 86400 s"),
    ("--region", "a:b", r"--region start is 'a'; it must be a number"),
    ("--reference", "{wav}:nan:1", r"--reference start is nan; it must be a finite number"),
    ("--reference", "{wav}:0:inf", r"--reference end is inf"),
    ("--reference", "project:nan:2", r"--reference start is nan"),
])
def test_non_finite_times_never_reach_the_timebase(tmp_path, short_video, tiny_model_folder, capsys, monkeypatch,
                                                   flag, text, message):
    calls = []
    real = seconds_to_samples
    monkeypatch.setattr("foley_studio.cli.generate_cmd.seconds_to_samples", lambda s: calls.append(s) or real(s))
    wav = make_tone(tmp_path / "ref.wav", 1.0)
    args = ["generate", str(short_video), "--mode", "analogy" if flag == "--reference" else "text",
            "--model", str(tiny_model_folder),
            "--steps", "1", "--takes", "1", "--out", str(tmp_path / "out"), f"{flag}={text.format(wav=wav)}"]
    if flag == "--reference":
        args += ["--region", "0:1"]
    assert main(args) == 2
    _one_line_error(capsys, message)
    assert all(isinstance(s, float) and s == s and abs(s) != float("inf") for s in calls)
    assert not (tmp_path / "out").exists()


def test_seconds_to_samples_itself_refuses_non_finite_values():
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="seconds must be a finite number"):
            seconds_to_samples(bad)


@pytest.mark.parametrize("argv, message", [
    (["--at", "nan"], r"argument --at: the value is nan; it must be a finite number from 0 to 86400 s"),
    (["--at", "inf"], r"argument --at: the value is inf"),
    (["--at", "-1"], r"argument --at: the value is -1\.0; it must be from 0"),
    (["--at", "0", "--gain-db", "1e6"], r"argument --gain-db: the value is 1000000\.0; it must be from -200 to 60 dB"),
    (["--at", "0", "--gain-db", "nan"], r"argument --gain-db: the value is nan"),
])
def test_add_clip_numbers_are_checked_where_they_are_typed(tmp_path, capsys, argv, message):
    wav = make_tone(tmp_path / "a.wav", 0.2)
    with pytest.raises(SystemExit) as info:
        main(["project", "add-clip", str(tmp_path / "p.fsproj"), str(wav), *argv])
    assert info.value.code == 2
    _one_line_error(capsys, message)


def test_a_billion_tracks_is_refused_at_once(tmp_path, short_video, capsys):
    with pytest.raises(SystemExit) as info:
        main(["project", "new", str(short_video), "-o", str(tmp_path / "p.fsproj"), "--tracks", "1000000000"])
    assert info.value.code == 2
    _one_line_error(capsys, r"argument --tracks: the value is 1000000000; it must be from 1 to 1000")


@pytest.mark.parametrize("device, message", [("quantum", "is not a device name"),
                                             ("meta", "is not one Foley Studio runs on")])
def test_an_unknown_device_is_an_engine_error(tmp_path, short_video, tiny_model_folder, capsys, device, message):
    assert main(["generate", str(short_video), "--model", str(tiny_model_folder), "--device", device, "--region", "0:1",
                 "--out", str(tmp_path / "out")]) == 2
    _one_line_error(capsys, message)


def test_an_out_folder_that_is_a_file_is_a_clear_error(tmp_path, short_video, tiny_model_folder, capsys):
    (tmp_path / "f").write_text("x")
    assert main(["generate", str(short_video), "--model", str(tiny_model_folder), "--steps", "1", "--takes", "1",
                 "--region", "0:1", "--out", str(tmp_path / "f")]) == 2
    _one_line_error(capsys, r"f: is a file, not a folder; choose a folder for the takes")


def test_a_region_past_the_video_says_what_it_was_generated_against(tmp_path, short_video, tiny_model_folder, capsys):
    out = tmp_path / "out"
    assert main(["generate", str(short_video), "--model", str(tiny_model_folder), "--steps", "1", "--takes", "1",
                 "--region", "5:6", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "the region 5.00-6.00 s lies past the end of the video (2.00 s): there is no picture" in captured.err
    sidecar = json.loads(next(out.glob("*.json")).read_text())
    assert sidecar["extra"]["picture_seconds"] == 0.0


def test_a_region_over_the_video_end_says_how_much_has_no_picture(tmp_path, short_video, tiny_model_folder, capsys):
    assert main(["generate", str(short_video), "--model", str(tiny_model_folder), "--steps", "1", "--takes", "1",
                 "--region", "1.5:2.5", "--out", str(tmp_path / "out")]) == 0
    assert "the last 0.50 s have no picture" in capsys.readouterr().err


def test_a_region_inside_the_video_says_nothing_more(tmp_path, short_video, tiny_model_folder, capsys):
    assert main(["generate", str(short_video), "--model", str(tiny_model_folder), "--steps", "1", "--takes", "1",
                 "--region", "0:1", "--out", str(tmp_path / "out")]) == 0
    assert "note" not in capsys.readouterr().err


def test_no_picture_past_the_end_means_the_null_video_not_a_frozen_frame(tmp_path, short_video):
    from foley_studio.engine.models import StaticModels
    from foley_studio.engine.pipeline import Pipeline
    from foley_studio.engine.request import GenerationRequest
    from tests.engine_fakes import FakeModel

    model = FakeModel(window_latents=40)
    pipeline = Pipeline(StaticModels(model, "fake"), takes_dir=tmp_path / "t", device="cpu")
    past_the_end = GenerationRequest(video=str(short_video), region=(4 * 48_000, 5 * 48_000), model="fake")
    rendered = pipeline.render(past_the_end)
    assert [c["video_feats"] for c in model.conditions] == [None]
    assert rendered.picture_seconds == 0.0
    pipeline.render(GenerationRequest(video=str(short_video), region=(48_000, 96_000), model="fake"))
    assert model.conditions[-1]["video_feats"].shape[0] == 10      # inside the picture: 1 s at 10 fps


def test_a_one_frame_video_generates_takes_of_the_region(tmp_path, tiny_model_folder, capsys):
    one = make_video(tmp_path / "one.mp4", 1 / 24, 24, (64, 48), with_audio=False)
    out = tmp_path / "out"
    assert main(["generate", str(one), "--model", str(tiny_model_folder), "--steps", "1", "--takes", "1",
                 "--region", "0:0.5", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert sf.info(captured.out.split("\t")[-1].strip()).frames == 24_000
    assert "the video ends at 0.04 s, inside the region 0.00-0.50 s: the last 0.46 s have no picture" \
        in captured.err


@pytest.mark.parametrize("make, message", [
    (lambda d: make_video(d / "tiny.mp4", 0.5, 24, (2, 2), with_audio=False, codec="mpeg4"), "smaller than the 16x16"),
    (lambda d: make_video(d / "slow.mp4", 1000.0, Fraction(1, 500), (64, 48), with_audio=False), "0.002 fps"),
])
def test_odd_pictures_are_refused_by_generate_and_project_new(tmp_path, tiny_model_folder, capsys, make, message):
    path = make(tmp_path)
    assert main(["generate", str(path), "--model", str(tiny_model_folder), "--region", "0:1",
                 "--out", str(tmp_path / "o")]) == 2
    _one_line_error(capsys, re.escape(message))
    assert main(["project", "new", str(path), "-o", str(tmp_path / "p.fsproj")]) == 2
    _one_line_error(capsys, re.escape(message))
    assert not (tmp_path / "p.fsproj").exists()


def test_values_helpers_raise_the_callers_family():
    class MyError(FoleyError):
        pass
    with pytest.raises(MyError, match=r"x is nan; it must be a finite number from 0 to 1"):
        values.finite_number(float("nan"), "x", lo=0, hi=1, error=MyError)
    with pytest.raises(MyError, match=r"n is True; it must be a whole number"):
        values.whole_number(True, "n", error=MyError)
    with pytest.raises(MyError, match=r"t is 'soon'; it must be a number from 0 to 86400 s"):
        values.parse_seconds("soon", "t", error=MyError)
    assert values.seconds_samples(1.5, "t") == 72_000
