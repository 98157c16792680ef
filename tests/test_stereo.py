"""Stereo: the equal-power pan law, stereo sources, stereo files out (WAV, FLAC, MP4/AAC, MOV/PCM) read
back with the right channels and values, mono still selectable, and old (version 1) projects migrated."""
from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest
import soundfile as sf

from foley_studio.core import store
from foley_studio.core.edits import History, SetMixChannels, SetTrackProps
from foley_studio.core.planners import DropSound, plan_drop, plan_fader, plan_pan
from foley_studio.core.project import Clip, Project, Track, VideoRef
from foley_studio.media.audio import read_audio
from foley_studio.media.export import export_all, export_stems
from foley_studio.media.mixdown import balance_gains, mixdown, pan_gains
from foley_studio.media.probe import probe
from media_fixtures import make_tone, make_video, tone

SR = 48_000
Q24 = 2.0 ** -23


def test_equal_power_pan_law_values():
    assert pan_gains(-1.0) == pytest.approx((1.0, 0.0), abs=1e-12)
    assert pan_gains(1.0) == pytest.approx((0.0, 1.0), abs=1e-12)
    assert pan_gains(0.0) == pytest.approx((math.sqrt(0.5), math.sqrt(0.5)))       # -3.01 dB each side
    assert 20 * math.log10(pan_gains(0.0)[0]) == pytest.approx(-3.0103, abs=1e-4)
    assert pan_gains(0.5) == pytest.approx((math.cos(3 * math.pi / 8), math.sin(3 * math.pi / 8)))
    for pan in np.linspace(-1, 1, 41):
        left, right = pan_gains(pan)
        assert left ** 2 + right ** 2 == pytest.approx(1.0)                       # constant power
    assert balance_gains(0.0) == pytest.approx((1.0, 1.0))
    assert balance_gains(-1.0) == pytest.approx((1.0, 0.0), abs=1e-12)
    assert balance_gains(0.5) == pytest.approx((math.sqrt(2) * math.cos(3 * math.pi / 8), 1.0))


@pytest.fixture
def stereo_project(tmp_path) -> tuple[Project, dict[str, np.ndarray]]:
    """Three tracks over a 2 s picture: a mono tone panned -0.5, a stereo file (440 Hz left, 880 Hz
    right) centred, a mono tone hard right at -6 dB, and a muted track."""
    video = make_video(tmp_path / "pic.mp4", 2.0, Fraction(25), (64, 48), False)
    info = probe(video)
    mono = tone(1.0, SR, 300, amplitude=0.4)
    stereo = tone(1.0, SR, 440, amplitude=0.3, channels=2)                        # (N, 2)
    right = tone(0.5, SR, 1000, amplitude=0.5)
    paths = {"mono": make_tone(tmp_path / "mono.wav", data=mono, subtype="FLOAT"),
             "stereo": make_tone(tmp_path / "stereo.wav", data=stereo, subtype="FLOAT"),
             "right": make_tone(tmp_path / "right.wav", data=right, subtype="FLOAT")}
    tracks = [
        Track(id="a", name="Steps", pan=-0.5, clips=[Clip("c1", str(paths["mono"]), 0, 0, SR)]),
        Track(id="b", name="Room", clips=[Clip("c2", str(paths["stereo"]), SR // 2, 0, SR)]),
        Track(id="c", name="Beep", pan=1.0, gain_db=-6.0, clips=[Clip("c3", str(paths["right"]), SR, 0, SR // 2)]),
        Track(id="m", name="Muted", mute=True, clips=[Clip("c4", str(paths["mono"]), 0, 0, SR)]),
    ]
    project = Project(video=VideoRef(str(video), 25, 1, int(round(info.duration * SR)), 64, 48), tracks=tracks)
    return project, {"mono": mono, "stereo": stereo.T, "right": right}


def _expected(project: Project, sig: dict[str, np.ndarray]) -> np.ndarray:
    """The stereo mix computed by hand from the pan law (independent of media.mixdown)."""
    n = project.duration
    out = np.zeros((2, n), np.float64)
    la, ra = pan_gains(-0.5)
    out[0, :SR] += la * sig["mono"]
    out[1, :SR] += ra * sig["mono"]
    out[:, SR // 2:SR // 2 + SR] += sig["stereo"]                  # centred stereo: both channels at unity
    out[1, SR:SR + SR // 2] += 10 ** (-6 / 20) * sig["right"]      # hard right: nothing on the left
    return out


def test_stereo_mix_follows_the_pan_law(stereo_project):
    project, sig = stereo_project
    mix = mixdown(project, channels=2)
    assert mix.shape == (2, project.duration) and mix.dtype == np.float32
    np.testing.assert_allclose(mix, _expected(project, sig), atol=1e-6)
    mono = mixdown(project)                                          # mono: pan ignored, sources folded
    folded = np.zeros(project.duration)
    folded[:SR] += sig["mono"]
    folded[SR // 2:SR // 2 + SR] += sig["stereo"].mean(axis=0)
    folded[SR:SR + SR // 2] += 10 ** (-6 / 20) * sig["right"]
    np.testing.assert_allclose(mono, folded, atol=1e-6)


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_stereo_mix_and_stems_reopen_with_their_channels(stereo_project, tmp_path, suffix):
    project, sig = stereo_project
    expected = _expected(project, sig)
    mix_path = tmp_path / f"mix{suffix}"
    export_all(project, mix=mix_path, stems=tmp_path / "stems")
    info = sf.info(str(mix_path))
    assert info.channels == 2 and info.samplerate == SR and info.subtype == "PCM_24"
    back = read_audio(mix_path, mono=False)
    assert back.shape == expected.shape
    assert np.abs(back - expected).max() <= Q24 + 1e-7
    # The left channel of the hard-right track is exactly silent; the -0.5 pan is 3.0 dB louder left than right.
    assert not back[0, SR + SR // 2:].any()
    lr = back[:, :SR // 2]
    assert 10 * math.log10(np.sum(lr[0] ** 2) / np.sum(lr[1] ** 2)) == pytest.approx(
        20 * math.log10(math.cos(math.pi / 8) / math.sin(math.pi / 8)), abs=0.01)
    stems = [read_audio(p, mono=False) for p in sorted((tmp_path / "stems").iterdir())]
    assert [s.shape for s in stems] == [expected.shape] * 3                  # the muted track has no stem
    np.testing.assert_allclose(sum(stems), back, atol=4 * Q24)


@pytest.mark.parametrize("name,codec", [("out.mp4", "aac"), ("out.mov", "pcm")])
def test_stereo_video_audio_reopens_stereo(stereo_project, tmp_path, name, codec):
    import av
    project, sig = stereo_project
    out = export_all(project, video=tmp_path / name, audio_codec=codec)[0]
    assert probe(out).channels == 2
    with av.open(str(out)) as container:
        assert container.streams.audio[0].codec_context.layout.name == "stereo"
    back = read_audio(out, mono=False)
    expected = _expected(project, sig)[:, :project.video.duration]
    n = min(back.shape[1], expected.shape[1])
    assert n >= expected.shape[1] - 2
    if codec == "pcm":
        assert np.abs(back[:, :n] - expected[:, :n]).max() <= Q24 + 1e-7
        return
    for ch in (0, 1):        # AAC is lossy: each channel is the same signal at the same level
        a, b = back[ch, 2000:n - 2000], expected[ch, 2000:n - 2000]
        assert np.corrcoef(a, b)[0, 1] > 0.98
        assert np.sqrt(np.mean(a ** 2)) == pytest.approx(np.sqrt(np.mean(b ** 2)), rel=0.05)
    # Hard right stayed hard right through the encoder.
    tail = back[:, SR + SR // 2 + 2000:SR * 2 - 2000]
    assert np.sqrt(np.mean(tail[0] ** 2)) < 0.01 * np.sqrt(np.mean(back[1, SR + 2000:SR + SR // 2] ** 2)) + 1e-4


def test_mono_export_is_still_selectable(stereo_project, tmp_path):
    project, _ = stereo_project
    written = export_all(project, mix=tmp_path / "mono mix.wav", video=tmp_path / "mono mix.mov", audio_codec="pcm",
                         channels=1)
    assert sf.info(str(written[0])).channels == 1 and probe(written[1]).channels == 1
    np.testing.assert_allclose(read_audio(written[0]), mixdown(project), atol=Q24 + 1e-7)
    stems = export_stems(project, tmp_path / "stems", channels=1)
    assert all(sf.info(str(p)).channels == 1 for p in stems)


def test_a_placed_stereo_library_file_keeps_both_channels(tmp_path):
    stereo = tone(0.5, 44_100, 500, amplitude=0.25, channels=2)                # 500 Hz left, 1 kHz right
    path = make_tone(tmp_path / "library stereo.flac", sr=44_100, data=stereo)
    project = Project(tracks=[Track(id="t", name="Fx")])
    plan = plan_drop(project, 0, SR // 4, [DropSound.from_seconds(str(path), "stereo", (0.0, 0.5))])
    History(project).push(plan.edit)
    (clip,) = project.tracks[0].clips
    mix = mixdown(project, channels=2)
    source = read_audio(path, mono=False)                                       # both channels at 48 kHz
    np.testing.assert_allclose(mix[:, clip.start:clip.end], source[:, :clip.length], atol=1e-6)
    assert np.corrcoef(mix[0, clip.start:clip.end], mix[1, clip.start:clip.end])[0, 1] < 0.1   # not folded


def test_fader_and_pan_edits_are_checked_and_undoable():
    project = Project(tracks=[Track(id="t", name="Fx")])
    history = History(project)
    history.push(plan_pan(project, "t", -0.304))
    history.push(plan_fader(project, "t", -7.26))
    assert (project.tracks[0].pan, project.tracks[0].gain_db) == (-0.3, -7.3)
    assert plan_pan(project, "t", -0.3) is None and plan_fader(project, "t", 40.0).values == {"gain_db": 12.0}
    history.push(SetMixChannels(1))
    assert project.mix_channels == 1
    for _ in range(3):
        history.undo()
    assert (project.tracks[0].pan, project.tracks[0].gain_db, project.mix_channels) == (0.0, 0.0, 2)
    with pytest.raises(Exception, match="between -1"):
        SetTrackProps("t", pan=2.0).do(project)


# A project exactly as Foley Studio 0.1 (file format version 1) saved it: no pan, no mix bus.
_VERSION_1 = """{
  "format": "foley-studio-project",
  "version": 1,
  "app_version": "0.1.0",
  "video": null,
  "tracks": [
    {
      "id": "track-1",
      "name": "Foley 1",
      "clips": [
        {"id": "clip-1", "source": "tone.wav", "start": 4800, "source_in": 0, "source_out": 24000, "gain_db": -3.0, "fade_in": 0, "fade_out": 480, "name": "tone", "take_id": null, "source_length": 24000}
      ],
      "gain_db": -2.0,
      "mute": false,
      "solo": false
    }
  ],
  "takes": [],
  "markers": [],
  "sample_rate": 48000,
  "name": "Old scene"
}
"""


def test_a_version_1_project_migrates_and_still_exports_what_it_did(tmp_path):
    make_tone(tmp_path / "tone.wav", seconds=0.5, freq=220.0, amplitude=0.5, subtype="FLOAT")
    old = tmp_path / "old.fsproj"
    old.write_text(_VERSION_1, encoding="utf-8")
    project = store.load_project(old)
    assert project.mix_channels == 1 and [t.pan for t in project.tracks] == [0.0]
    assert project.tracks[0].gain_db == -2.0 and project.tracks[0].clips[0].start == 4800
    written = export_all(project, mix=tmp_path / "old mix.wav")[0]
    assert sf.info(str(written)).channels == 1                      # mono, as version 1 exported it
    expected = np.zeros(28_800)
    expected[4800:] = tone(0.5, SR, 220.0, amplitude=0.5) * 10 ** (-5 / 20)
    expected[-480:] *= np.cos(0.5 * np.pi * np.arange(480) / 480)
    np.testing.assert_allclose(read_audio(written), expected, atol=Q24 + 1e-6)
    assert json.loads(old.read_text())["version"] == 1              # untouched until saved
    store.save_project(project, old)
    saved = json.loads(old.read_text())
    assert saved["version"] == store.FORMAT_VERSION == 2
    assert saved["mix_channels"] == 1 and saved["tracks"][0]["pan"] == 0.0
    assert store.load_project(old) == project


def test_new_projects_are_stereo_and_bad_values_are_refused(tmp_path):
    path = store.save_project(Project(tracks=[Track(id="t", name="A", pan=0.25)]), tmp_path / "new.fsproj")
    assert store.load_project(path).mix_channels == 2 and store.load_project(path).tracks[0].pan == 0.25
    doc = json.loads(path.read_text())
    doc["tracks"][0]["pan"] = 3.0
    path.write_text(json.dumps(doc))
    with pytest.raises(store.ProjectError, match=r"pan"):
        store.load_project(path)
    doc["tracks"][0]["pan"], doc["mix_channels"] = 0.0, 6
    path.write_text(json.dumps(doc))
    with pytest.raises(store.ProjectError, match=r"mix_channels"):
        store.load_project(path)
