"""The media CLI end to end: info, project new -> add-clip x3 -> export (issue 2, "Done when")."""
from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import opentimelineio as otio
import pytest
import soundfile as sf

from foley_studio.cli import main
from tests.media_fixtures import UPRIGHT_H, UPRIGHT_W, make_phone_video, make_tone, make_video, tone, video_packets

Q24 = 2.0 ** -23


@pytest.fixture
def video(tmp_path):
    return make_video(tmp_path / "scene.mp4", 3.0, Fraction(30000, 1001), (160, 120), True, freq=200)


def test_info_human_and_json(video, capsys):
    assert main(["info", str(video)]) == 0
    out = capsys.readouterr().out
    assert "30000/1001 (29.970 fps)" in out and "160x120" in out and "h264" in out
    assert "aac, 48000 Hz, 1 channel(s)" in out and "0:03.0" in out
    assert main(["info", str(video), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["fps"] == "30000/1001" and data["width"] == 160 and data["sample_rate"] == 48_000
    assert data["has_audio"] and data["duration"] == pytest.approx(3.0, abs=0.05)


def test_info_bad_file_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.mov"
    bad.write_bytes(b"junk" * 100)
    assert main(["info", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("foley-studio: error: ") and "bad.mov" in err
    assert main(["info", str(tmp_path / "missing.mp4")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_new_add_clip_export_done_when(video, tmp_path, capsys):
    proj = tmp_path / "p.fsproj"
    sources = {
        "a": tone(0.5, 48_000, 440, amplitude=0.3),
        "b": tone(0.8, 48_000, 660, amplitude=0.25),
        "c": np.linspace(-0.2, 0.2, 24_000, dtype=np.float32),
    }
    paths = {k: make_tone(tmp_path / f"{k}.wav", data=v, subtype="FLOAT") for k, v in sources.items()}
    assert main(["project", "new", str(video), "-o", str(proj)]) == 0
    assert main(["project", "add-clip", str(proj), str(paths["a"]), "--at", "0.25"]) == 0
    assert main(["project", "add-clip", str(proj), str(paths["b"]), "--at", "0.5", "--track", "2",
                 "--gain-db", "-6"]) == 0
    assert main(["project", "add-clip", str(proj), str(paths["c"]), "--at", "2.75", "--track", "3"]) == 0
    capsys.readouterr()
    mix, stems, out_video, timeline = (tmp_path / "mix.wav", tmp_path / "stems", tmp_path / "out.mp4",
                                       tmp_path / "t.otio")
    assert main(["export", str(proj), "--mix", str(mix), "--stems", str(stems), "--video", str(out_video),
                 "--otio", str(timeline), "--channels", "mono"]) == 0
    printed = capsys.readouterr().out
    assert str(mix) in printed and str(out_video) in printed

    # The mix equals the sum computed here, independently of media.mixdown.
    n = int(round(3.0 * 48_000))
    expected = np.zeros(max(n, 132_000 + 24_000), np.float64)     # to the video's or last clip's end
    expected[12_000:12_000 + 24_000] += sources["a"]
    expected[24_000:24_000 + 38_400] += sources["b"] * 10 ** (-6 / 20)
    expected[132_000:132_000 + 24_000] += sources["c"]
    got, sr = sf.read(str(mix), dtype="float64")
    assert sr == 48_000 and sf.info(str(mix)).subtype == "PCM_24"
    assert len(got) >= len(expected) - 1
    m = min(len(got), len(expected))
    assert np.abs(got[:m] - expected[:m]).max() <= Q24 + 1e-6
    assert not got[m:].any()
    assert len(list(stems.iterdir())) == 3

    # The muxed video: original video packets unchanged, the mix as its audio.
    assert video_packets(out_video) == video_packets(video)
    from foley_studio.media.audio import read_audio
    sound = read_audio(out_video)
    k = min(len(sound), 3 * 48_000) - 2000
    assert np.corrcoef(sound[2000:k], got[2000:k])[0, 1] > 0.98

    # The OTIO opens and holds the clips at the right times.
    tl = otio.adapters.read_from_file(str(timeline))
    starts = sorted((c.range_in_parent().start_time.to_seconds(), c.source_range.duration.to_seconds())
                    for t in tl.tracks if t.kind == otio.schema.TrackKind.Audio for c in t.find_clips())
    assert np.allclose(starts, [(0.25, 0.5), (0.5, 0.8), (2.75, 0.5)])
    (picture,) = [t for t in tl.tracks if t.kind == otio.schema.TrackKind.Video]
    assert picture.find_clips()[0].media_reference.target_url == video.resolve().as_uri()


def test_project_cli_errors(video, tmp_path, capsys):
    assert main(["project", "new", str(video), "-o", str(tmp_path / "p.json")]) == 2
    assert ".fsproj" in capsys.readouterr().err
    silent = make_tone(tmp_path / "s.wav", 0.1)
    assert main(["project", "new", str(silent), "-o", str(tmp_path / "p.fsproj")]) == 2
    assert "has no video stream" in capsys.readouterr().err
    proj = tmp_path / "q.fsproj"
    assert main(["project", "new", str(video), "-o", str(proj)]) == 0
    assert main(["project", "add-clip", str(proj), str(silent), "--at", "0", "--track", "9"]) == 2
    assert "--track 9" in capsys.readouterr().err
    assert main(["export", str(proj)]) == 2
    assert "nothing to do" in capsys.readouterr().err
    assert main(["project", "add-clip", str(proj), str(silent), "--at", "0"]) == 0
    silent.unlink()
    assert main(["export", str(proj), "--mix", str(tmp_path / "m.wav")]) == 2
    assert "missing" in capsys.readouterr().err


def test_info_reports_variable_frame_rate(tmp_path, capsys):
    vfr = make_video(tmp_path / "vfr.mp4", pts_seconds=[0, 0.04, 0.2, 0.25, 0.5, 0.6], with_audio=False)
    assert main(["info", str(vfr)]) == 0
    out = capsys.readouterr().out
    assert "variable frame rate" in out and "audio      none" in out


def test_export_into_missing_folder_is_one_line(video, tmp_path, capsys):
    proj = tmp_path / "p.fsproj"
    assert main(["project", "new", str(video), "-o", str(proj)]) == 0
    assert main(["export", str(proj), "--mix", str(tmp_path / "no" / "m.wav")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "m.wav: the folder" in err and "does not exist" in err


@pytest.mark.parametrize("rotation", [90, 270])
def test_info_shows_rotation_with_displayed_and_coded_size(tmp_path, capsys, rotation):
    phone = make_phone_video(tmp_path / f"portrait{rotation}.mp4", rotation, seconds=0.2)
    assert main(["info", str(phone)]) == 0
    out = capsys.readouterr().out
    shown, coded = f"{UPRIGHT_W}x{UPRIGHT_H}", f"{UPRIGHT_H}x{UPRIGHT_W}"
    assert f"h264, {shown}, 25/1" in out
    assert (f"rotation   {rotation} degrees clockwise (display matrix): displayed {shown}, coded {coded}"
            in out)
    assert main(["info", str(phone), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rotation"] == rotation
    assert (data["width"], data["height"]) == (UPRIGHT_W, UPRIGHT_H)
    assert (data["coded_width"], data["coded_height"]) == (UPRIGHT_H, UPRIGHT_W)


def test_info_upright_video_says_no_rotation(video, capsys):
    assert main(["info", str(video)]) == 0
    assert "rotation   0 degrees\n" in capsys.readouterr().out
    assert main(["info", str(video), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rotation"] == 0 and (data["coded_width"], data["coded_height"]) == (160, 120)
