"""`foley-studio generate` end to end on a small video, with a tiny model folder or none at all."""
from __future__ import annotations

import json

import pytest
import soundfile as sf

from foley_studio.cli import main
from foley_studio.core import paths
from tests.media_fixtures import make_tone

FLAGS = ["--mode", "--prompt", "--negative", "--quality", "--reference", "--region", "--takes", "--cfg",
         "--steps", "--sampler", "--seed", "--model", "--out"]


def test_help_documents_every_flag(capsys):
    with pytest.raises(SystemExit) as info:
        main(["generate", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for flag in FLAGS:
        assert flag in text, flag
    assert "VIDEO_OR_PROJECT" in text and "text,extend,inpaint,analogy" in text


def test_without_trained_weights_it_names_the_model_and_how_to_train(short_video, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(paths, "BUNDLED_MODELS_DIR", tmp_path / "no_bundled_models")
    code = main(["generate", str(short_video), "--prompt", "steps", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "'demo'" in err and "foley-studio train" in err and "untrained" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_extend_on_a_video_writes_takes_and_prints_one_line_each(short_video, tiny_model_folder, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["generate", str(short_video), "--mode", "extend", "--region", "1:1.5", "--takes", "2", "--steps", "2",
                 "--seed", "10", "--prompt", "knock", "--quality", "high", "--model", str(tiny_model_folder),
                 "--device", "cpu", "--out", str(out)])
    stdout = capsys.readouterr().out
    assert code == 0
    lines = stdout.strip().splitlines()
    assert len(lines) == 2 and "seed 10" in lines[0] and "seed 11" in lines[1]
    for line in lines:
        take_id, _, _, wav = line.split("\t")
        audio, rate = sf.read(wav)
        assert rate == 48_000 and audio.shape == (24_000,)
        sidecar = json.loads((out / f"{take_id}.json").read_text())
        assert sidecar["request"]["mode"] == "extend" and sidecar["request"]["quality"] == "high"
        assert sidecar["request"]["region"] == [48_000, 72_000]
        assert sidecar["request"]["video"] == str(short_video.resolve())
    assert list((paths.cache_dir("video_feats/v1")).glob("*.safetensors"))   # features were cached


def test_a_list_of_guidance_scales_makes_one_take_per_value_from_one_seed(short_video, tiny_model_folder, tmp_path,
                                                                         capsys):
    out = tmp_path / "out"
    code = main(["generate", str(short_video), "--region", "0:0.5", "--cfg", "2,5", "--steps", "2", "--seed", "7",
                 "--model", str(tiny_model_folder), "--device", "cpu", "--out", str(out)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0 and len(lines) == 2
    assert "seed 7 γ 2" in lines[0] and "seed 7 γ 5" in lines[1]
    gammas = sorted(json.loads(p.read_text())["cfg"] for p in out.glob("*.json"))
    assert gammas == [2.0, 5.0]


def test_analogy_with_a_reference_file_and_with_the_project_mix(short_video, tiny_model_folder, tmp_path, capsys):
    ref = make_tone(tmp_path / "ref.wav", seconds=1.0, freq=300.0)
    for reference in (f"{ref}:0:0.5", "project:0.2:0.7"):
        code = main(["generate", str(short_video), "--mode", "analogy", "--reference", reference, "--region", "0:0.5",
                     "--takes", "1", "--steps", "2", "--model", str(tiny_model_folder), "--out", str(tmp_path / "out")])
        assert code == 0, capsys.readouterr().err
    takes = sorted((tmp_path / "out").glob("*.json"))
    refs = sorted(json.loads(p.read_text())["request"]["reference"]["path"] or "" for p in takes)
    assert refs == ["", str(ref.resolve())]


@pytest.mark.parametrize("flags, words", [
    (["--region", "5"], "--region '5' must be START:END"),
    (["--region", "2:1"], "region end"),
    (["--mode", "analogy"], "needs a reference clip"),
    (["--reference", "/nonexistent.wav:0:1", "--mode", "analogy"], "no such file"),
    (["--takes", "0"], "at least one take"),
    (["--cfg", "-2"], "cfg"),
    (["--cfg", "2,x"], "comma-separated list"),
    (["--cfg", "2,4", "--takes", "3"], "one take per value"),
])
def test_bad_flags_are_one_line_errors(short_video, tmp_path, flags, words, capsys):
    code = main(["generate", str(short_video), *flags, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1


def test_inpaint_in_a_saved_project_reads_the_project_mix(short_video, tiny_model_folder, tmp_path, capsys):
    from foley_studio.core.project import Clip, new_project
    from foley_studio.core.store import save_project
    from foley_studio.engine.sources import project_for_video

    project = project_for_video(short_video)
    tone = make_tone(tmp_path / "bed.wav", seconds=2.0, freq=200.0)
    extra = new_project(n_tracks=1).tracks[0]
    extra.clips.append(Clip(id="clip-bed", source=str(tone), start=0, source_in=0, source_out=96_000))
    project.tracks.append(extra)
    path = save_project(project, tmp_path / "scene.fsproj")
    code = main(["generate", str(path), "--mode", "inpaint", "--region", "0.5:1.0", "--takes", "1", "--steps", "2",
                 "--context", "0.25", "--model", str(tiny_model_folder), "--out", str(tmp_path / "takes")])
    assert code == 0, capsys.readouterr().err
    [sidecar] = (tmp_path / "takes").glob("*.json")
    data = json.loads(sidecar.read_text())
    assert data["request"]["mode"] == "inpaint" and data["extra"]["context_sha256"]
