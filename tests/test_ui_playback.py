"""Playback: the ring-buffer copy logic (no device) and a real stream on ALSA's null device."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest

from foley_studio.core.project import Clip, Project, Track
from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.session.audio_device import copy_block
from foley_studio.session.playback import CHUNK, AudioOutput
from tests.ui_helpers import one_clip_project, pull, ramp, run_on_null_alsa, timeline_samples, wait_for


def _prime(out: AudioOutput, project: Project, start: int, *, rate: int = 1, loop=None) -> None:
    out._project, out.start_time, out.rate, out.loop = project, start, rate, loop
    out.end = project.duration
    out._written, out._read = 0, 0


def test_callback_copies_in_order_and_pads_underruns_with_silence():
    out = AudioOutput(ramp)
    _prime(out, one_clip_project(10), 1000)
    out._fill(CHUNK)
    buf = np.full((CHUNK + 512, 2), 7.0, dtype=np.float32)
    copy_block(out.ring, buf, len(buf))
    assert np.array_equal(buf[:CHUNK, 0], np.arange(1000, 1000 + CHUNK, dtype=np.float32))
    assert np.array_equal(buf[:CHUNK, 0], buf[:CHUNK, 1]), "a mono mix is heard at unity on both sides"
    assert not buf[CHUNK:].any(), "an underrun must output silence, not stale samples"
    assert out._read == CHUNK and out.underrun_frames == 512
    mono = np.full((256, 1), 7.0, dtype=np.float32)                 # a mono device hears the fold-down
    out._fill(CHUNK)
    copy_block(out.ring, mono, 256)
    np.testing.assert_array_equal(mono[:, 0], np.arange(1000 + CHUNK, 1000 + CHUNK + 256, dtype=np.float32))


def test_ring_wraps_and_loop_and_reverse():
    out = AudioOutput(ramp)
    loop = (SAMPLE_RATE, SAMPLE_RATE + 2 * CHUNK + 100)
    _prime(out, one_clip_project(10), loop[0], loop=loop)
    n = len(out._ring)
    got = []
    for _ in range(2 * n // CHUNK):                 # several trips round the ring
        out._fill(CHUNK)
        buf = np.empty((CHUNK, 1), dtype=np.float32)
        copy_block(out.ring, buf, CHUNK)
        got.append(buf[:, 0].copy())
    heard = np.concatenate(got)
    length = loop[1] - loop[0]
    expected = loop[0] + np.arange(len(heard)) % length
    assert np.array_equal(heard, expected.astype(np.float32))
    assert out._timeline_of_frame(length + 5) == loop[0] + 5
    rev = AudioOutput(ramp)
    _prime(rev, one_clip_project(10), 5 * CHUNK, rate=-1)
    rev._fill(CHUNK)
    buf = np.empty((CHUNK, 1), dtype=np.float32)
    copy_block(rev.ring, buf, CHUNK)
    assert buf[0, 0] == 5 * CHUNK - 1 and buf[-1, 0] == 4 * CHUNK


_PLAY_ON_NULL_DEVICE = textwrap.dedent("""
    assert ctl.play(), "play() failed"
    positions = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 0.8:
        app.processEvents()
        positions.append(doc.playhead)
        time.sleep(0.01)
    ctl.stop()
    print("positions", positions[0], positions[len(positions) // 2], positions[-1], flush=True)
""")


def test_playback_on_the_null_alsa_device_moves_the_playhead(tmp_path):
    stdout = run_on_null_alsa(tmp_path, _PLAY_ON_NULL_DEVICE, seconds=3)
    first, middle, last = (int(v) for v in stdout.split("positions")[1].split())
    assert first < middle < last, stdout
    # Paced by the clock (the null device itself does not pace): 0.8 s of playing is ~38 400 samples.
    assert 0.4 * SAMPLE_RATE < last < 1.2 * SAMPLE_RATE, stdout


def test_no_device_means_status_message_not_a_failure(qtbot, monkeypatch):
    from foley_studio.ui import playback
    from foley_studio.ui.document import ProjectDocument

    def no_device() -> str:
        raise playback.AudioUnavailable("no audio output device (test); playback is off, export still works")
    monkeypatch.setattr(playback.AudioOutput, "probe", staticmethod(no_device))
    doc = ProjectDocument(one_clip_project(1))
    ctl = playback.PlaybackController(doc)
    messages = []
    ctl.statusMessage.connect(messages.append)
    assert not ctl.available and not ctl.play()
    assert messages and "no audio output device" in messages[0]
    assert doc.playhead == 0


def test_jkl_shuttle_rates_and_loop_start(qtbot, monkeypatch):
    from foley_studio.ui import playback
    from foley_studio.ui.document import ProjectDocument
    started: list[tuple[int, int, object]] = []

    class FakeOutput:
        """The transport's view of an output stream, without a device."""

        probe = staticmethod(lambda: "fake device")

        def __init__(self, render):
            self.rate, self.loop, self.end, self._active = 1, None, 0, False

        def start(self, project, start, *, rate=1, loop=None, end=None):
            self.rate, self.loop, self._active = rate, loop, True
            started.append((start, rate, loop))

        def stop(self):
            self._active = False

        @property
        def active(self):
            return self._active

        def position(self):
            return 0

        def update_project(self, project):
            pass

        def warm_up(self):
            pass

        def prepare(self, project):
            pass

        def close(self):
            pass
    monkeypatch.setattr(playback, "AudioOutput", FakeOutput)
    doc = ProjectDocument(one_clip_project(4))
    ctl = playback.PlaybackController(doc, render=ramp)
    for _ in range(5):
        ctl.shuttle(1)
    ctl.shuttle(-1)
    assert [r for _, r, _ in started] == [1, 2, 4, 8, 8, -1]
    ctl.shuttle(0)
    assert not ctl.playing
    doc.set_region((SAMPLE_RATE, 2 * SAMPLE_RATE))
    ctl.loop_enabled = True
    assert ctl.play()
    assert started[-1] == (SAMPLE_RATE, 1, (SAMPLE_RATE, 2 * SAMPLE_RATE)), "looping starts inside the loop"
    ctl.stop()


def _signed_ramp(project: Project, a: int, b: int) -> np.ndarray:
    """The 'mix' says where it came from (the position) and which edit made it (sign: muted = -)."""
    sign = -1.0 if project.tracks[0].mute else 1.0
    return sign * np.arange(a, b, dtype=np.float32)


@pytest.mark.parametrize("rate, loop", [(1, None), (2, None), (-1, None),
                                        (1, (5 * SAMPLE_RATE, 5 * SAMPLE_RATE + 30_000))])
def test_edit_while_playing_is_heard_within_0_3_s_and_no_sample_is_skipped_or_repeated(fake_sd, rate, loop):
    import copy
    start = 5 * SAMPLE_RATE + 777
    project = one_clip_project(20)
    out = AudioOutput(_signed_ramp)
    out.start(project, start, rate=rate, loop=loop)
    stream = fake_sd.streams[-1]
    before = pull(out, stream, SAMPLE_RATE // 2)
    wait_for(lambda: out._written - out._read > 3 * SAMPLE_RATE)     # steady state: seconds of old mix queued
    edited = copy.deepcopy(project)
    edited.tracks[0].mute = True
    edited_at = out._read
    out.update_project(edited)
    heard = np.concatenate([before, pull(out, stream, SAMPLE_RATE)])
    out.stop()
    expected = timeline_samples(start, len(heard), rate, loop)
    assert np.array_equal(np.abs(heard), expected.astype(np.float32)), "timeline samples skipped or repeated"
    changed = np.flatnonzero(heard < 0)
    assert len(changed) and (heard[:changed[0]] > 0).all() and (heard[changed[0]:] < 0).all()
    delay = (changed[0] - edited_at) / SAMPLE_RATE
    assert 0.2 <= delay <= 0.3, f"edit heard {delay:.3f} s of stream time after it was made"
    # The position the playhead is drawn from agrees with what was heard (reverse: the sample below it).
    assert out._timeline_of_frame(out._read) == (expected[-1] + rate if rate > 0 else expected[-1])


def test_muting_a_track_while_playing_silences_the_real_mix_within_0_3_s(qtbot, fake_sd, tmp_path):
    from foley_studio.core.edits import SetTrackProps
    from foley_studio.ui.document import ProjectDocument
    from foley_studio.ui.playback import PlaybackController
    from tests.media_fixtures import make_tone, tone
    wav = make_tone(tmp_path / "tone.wav", seconds=3.0, amplitude=0.5)
    clip = Clip(id="c", source=str(wav), start=0, source_in=0, source_out=3 * SAMPLE_RATE)
    doc = ProjectDocument(Project(tracks=[Track(id="t", name="t", clips=[clip])]))
    ctl = PlaybackController(doc)
    assert ctl.available and ctl.device_name == "Fake device"
    assert ctl.play()
    out, stream = ctl.output, fake_sd.streams[-1]
    before = pull(out, stream, SAMPLE_RATE // 2)
    wait_for(lambda: out._written - out._read > 2 * SAMPLE_RATE)
    muted_at = out._read
    doc.apply(SetTrackProps("t", mute=True))            # the editor's path: doc.changed -> update_project
    heard = np.concatenate([before, pull(out, stream, SAMPLE_RATE)])
    ctl.stop()
    reference = tone(3.0, amplitude=0.5) * np.sqrt(0.5)     # a centred mono clip: -3 dB on each side
    keep = muted_at + int(0.2 * SAMPLE_RATE)
    assert np.allclose(heard[:keep], reference[:keep], atol=2e-4), "audio already queued must play on, unbroken"
    assert heard[:keep].max() > 0.45 * np.sqrt(0.5)
    silent_from = muted_at + int(0.3 * SAMPLE_RATE)
    assert not heard[silent_from:].any(), "the muted track is still heard 0.3 s after the edit"


def test_scrub_plays_a_faded_grain_of_the_mix_at_the_position(qtbot, fake_sd):
    from foley_studio.ui.document import ProjectDocument
    from foley_studio.session.playback import GRAIN_FADE_SECONDS, grain_window
    from foley_studio.ui.playback import PlaybackController
    mix = np.random.default_rng(7).uniform(-0.5, 0.5, 10 * SAMPLE_RATE).astype(np.float32)
    doc = ProjectDocument(one_clip_project(10))
    ctl = PlaybackController(doc, render=lambda _p, a, b: mix[a:b])
    t = 3 * SAMPLE_RATE + 4321
    ctl.scrub(t)
    out = ctl.output
    wait_for(lambda: out.grains_played == 1)
    assert out.scrubbing and not ctl.playing
    heard = fake_sd.streams[-1].pull(SAMPLE_RATE // 4)[:, 0]
    n = out.grain_length
    assert 0.06 * SAMPLE_RATE <= n <= 0.08 * SAMPLE_RATE
    # Find the grain in the output by correlation with the mix at t, then compare sample by sample.
    corr = np.correlate(heard, mix[t:t + n], mode="valid")
    s = int(np.argmax(corr))
    window = grain_window(n, int(round(GRAIN_FADE_SECONDS * SAMPLE_RATE)))
    assert np.allclose(heard[s:s + n], mix[t:t + n] * window, atol=1e-6)
    assert not heard[:s].any() and not heard[s + n:].any()
    assert abs(heard[s]) < 1e-3 and abs(heard[s + n - 1]) < 1e-3, "grain edges must be faded (no clicks)"
    elsewhere = np.corrcoef(heard[s:s + n], mix[t + 2000:t + 2000 + n])[0, 1]
    assert abs(elsewhere) < 0.2
    ctl._end_scrub()
    assert not out.scrubbing and fake_sd.streams[-1].closed


def test_rapid_scrubs_collapse_to_one_grain_per_interval_latest_wins(qtbot, fake_sd):
    from foley_studio.ui.document import ProjectDocument
    from foley_studio.ui.playback import PlaybackController
    rendered: list[int] = []

    def render(_p, a, b):
        rendered.append(a)
        return np.ones(b - a, dtype=np.float32)
    doc = ProjectDocument(one_clip_project(10))
    ctl = PlaybackController(doc, render=render)
    for pos in (1000, 2000, 3000, 4000, 5000):     # one mouse drag, faster than the grain rate
        ctl.scrub(pos)
    wait_for(lambda: ctl.output.grains_played == 1)
    qtbot.waitUntil(lambda: ctl.output.grains_played == 2, timeout=2000)
    qtbot.wait(120)
    assert rendered == [1000, 5000], "one grain now, one at the latest position after the interval"
    ctl.set_scrubbing(False)
    ctl.scrub(7000)
    qtbot.wait(60)
    assert rendered == [1000, 5000] and not ctl.output.scrubbing
    ctl.set_scrubbing(True)
    ctl.play()
    ctl.scrub(8000)                                 # while playing, a moved playhead is a seek, not a grain
    qtbot.wait(60)
    assert 8000 not in rendered
    ctl.stop()


def test_editor_window_wires_scrubbing_menu_and_meter(qtbot, fake_sd, monkeypatch):
    from foley_studio.ui import main_window as mw
    from foley_studio.ui.meter import LevelMeter
    rendered: list[int] = []

    def fake_renderer():
        def render(_p, a, b):
            rendered.append(a)
            return np.full(b - a, 0.5, dtype=np.float32)
        return render
    monkeypatch.setattr("foley_studio.ui.playback.mixdown_renderer", fake_renderer)
    win = mw.MainWindow(one_clip_project(4), audio=True, restore_layout=False)
    qtbot.addWidget(win)
    try:
        assert win.scrub_action.isChecked() and win.playback.scrubbing_enabled
        assert isinstance(win.meter, LevelMeter) and win.meter.channels == 2 and win.meter.show_loudness
        win.canvas.seekRequested.emit(SAMPLE_RATE)         # what a click on the ruler or an arrow key sends
        qtbot.waitUntil(lambda: win.playback.output is not None and win.playback.output.grains_played == 1)
        assert rendered == [SAMPLE_RATE]
        fake_sd.streams[-1].pull(4096)
        # Heard once the wall clock has passed it (the fake device does not pace itself).
        qtbot.waitUntil(lambda: win.meter.state.max_db > -6.5, timeout=2000)
        assert win.meter.state.max_db == pytest.approx(-6.0, abs=0.1), "the meter hears the grain"
        win.scrub_action.trigger()                        # menu: Transport > Audio scrubbing off
        assert not win.playback.scrubbing_enabled
        assert mw.settings().value("playback/scrubbing", True, type=bool) is False
        win.canvas.seekRequested.emit(2 * SAMPLE_RATE)
        qtbot.wait(60)
        assert rendered == [SAMPLE_RATE]
        assert win.playback.play()                        # while playing, a seek moves on in the same stream
        streams = len(fake_sd.streams)
        win.doc.set_playhead(3 * SAMPLE_RATE)
        win.canvas.seekRequested.emit(3 * SAMPLE_RATE)
        out = win.playback.output
        wait_for(lambda: out.seeks_applied == 1)
        assert win.playback.playing and out._timeline_of_frame(out._seek_hold[0]) == 3 * SAMPLE_RATE
        assert len(fake_sd.streams) == streams, "a seek while playing must not reopen the stream"
    finally:
        win.shutdown()


def test_an_edit_that_lengthens_the_project_moves_the_end_of_playback(fake_sd):
    import copy
    project = one_clip_project(2)
    out = AudioOutput(_signed_ramp)
    out.start(project, 0)
    longer = copy.deepcopy(project)
    longer.tracks[0].clips[0].source_out = 5 * SAMPLE_RATE
    out.update_project(longer)
    wait_for(lambda: out._pending_project is None)
    assert out.end == 5 * SAMPLE_RATE
    out.stop()


_SCRUB_ON_NULL_DEVICE = textwrap.dedent("""
    ctl.scrub(48000)
    t0 = time.monotonic()
    peaks = []
    while time.monotonic() - t0 < 0.4:
        app.processEvents()
        peaks.append(ctl.output_peak() or 0.0)
        time.sleep(0.01)
    scrubbing = ctl.output.scrubbing
    ctl._end_scrub()
    print("result", ctl.output.grains_played, max(peaks), scrubbing, ctl.output.scrubbing, flush=True)
""")


def test_scrub_grain_and_meter_on_the_null_alsa_device(tmp_path):
    stdout = run_on_null_alsa(tmp_path, _SCRUB_ON_NULL_DEVICE, seconds=3)
    grains, peak, during, after = stdout.split("result")[1].split()
    assert int(grains) == 1 and during == "True" and after == "False", stdout
    # A centred mono clip in a stereo mix: 0.5 at -3 dB on each side.
    assert float(peak) == pytest.approx(0.5 * np.sqrt(0.5), rel=0.02), "the real callback played the grain, the meter heard it"
