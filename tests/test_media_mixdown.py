"""Mixdown: placement, gains, equal-power fades, mute/solo, regions, and the shared source cache."""
from __future__ import annotations

import os

import numpy as np
import pytest

from foley_studio.core.project import Clip, Project, Track, new_id
from foley_studio.media.mixdown import SourceCache, fade_envelope, mixdown, render_clip
from tests.media_fixtures import make_tone, tone


def clip(path, start, source_in=0, source_out=None, **kw) -> Clip:
    return Clip(id=new_id("clip"), source=str(path), start=start, source_in=source_in,
                source_out=source_out if source_out is not None else source_in + 4800, **kw)


@pytest.fixture
def sources(tmp_path):
    a = make_tone(tmp_path / "a.wav", data=np.linspace(-0.5, 0.5, 48_000, dtype=np.float32), subtype="FLOAT")
    b = make_tone(tmp_path / "b.wav", data=tone(1.0, 48_000, 300, amplitude=0.25), subtype="FLOAT")
    return a, b


def test_placement_source_range_and_gains(sources):
    a, b = sources
    da = np.linspace(-0.5, 0.5, 48_000, dtype=np.float32)
    db = tone(1.0, 48_000, 300, amplitude=0.25)
    project = Project(tracks=[
        Track(id="t1", name="one", gain_db=-6.0, clips=[clip(a, 1000, 2000, 6000, gain_db=3.0)]),
        Track(id="t2", name="two", clips=[clip(b, 3000, 0, 10_000)]),
    ])
    out = mixdown(project)
    assert out.dtype == np.float32 and out.shape == (13_000,)      # up to the last clip's end
    g1 = 10 ** (-3 / 20)
    expected = np.zeros(13_000, np.float32)
    expected[1000:5000] += da[2000:6000] * g1
    expected[3000:13_000] += db[:10_000]
    np.testing.assert_allclose(out, expected, atol=1e-6)
    np.testing.assert_allclose(mixdown(project, 2500, 4000), expected[2500:4000], atol=1e-6)
    assert mixdown(project, 20_000, 20_100).shape == (100,) and not mixdown(project, 20_000, 20_100).any()


def test_equal_power_fades(sources):
    a, _ = sources
    env = fade_envelope(1000, 100, 200)
    assert env[0] == 0.0 and env[99] < 1 and env[100:800].min() == 1.0
    np.testing.assert_allclose(env[:100] ** 2 + np.cos(0.5 * np.pi * np.arange(100) / 100) ** 2, 1, atol=1e-6)
    assert env[800] == 1.0 and env[-1] == pytest.approx(np.cos(0.5 * np.pi * 199 / 200))
    assert fade_envelope(10, 0, 0) is None
    # A fade-out and a fade-in over the same samples keep constant power.
    ones = np.ones(48_000, np.float32)
    out_clip = Clip(id="x", source="-", start=0, source_in=0, source_out=2000, fade_out=1000)
    in_clip = Clip(id="y", source="-", start=1000, source_in=0, source_out=2000, fade_in=1000)
    fo, fi = render_clip(out_clip, ones)[1000:], render_clip(in_clip, ones)[:1000]
    np.testing.assert_allclose(fo ** 2 + fi ** 2, 1.0, atol=1e-6)
    # Region renders use the same curve as the whole clip.
    project = Project(tracks=[Track(id="t", name="t", clips=[clip(a, 0, 0, 20_000, fade_in=5000, fade_out=7000)])])
    whole = mixdown(project)
    np.testing.assert_array_equal(mixdown(project, 4000, 15_000), whole[4000:15_000])


def test_fades_longer_than_clip_are_clamped():
    c = Clip(id="x", source="-", start=0, source_in=0, source_out=100, fade_in=500, fade_out=500)
    out = render_clip(c, np.ones(100, np.float32))
    assert out.shape == (100,) and out[0] == 0 and np.all(out <= 1)


def test_mute_and_solo(sources):
    a, b = sources
    tracks = [Track(id=f"t{i}", name=str(i), clips=[clip(a if i % 2 else b, 0)]) for i in range(3)]
    project = Project(tracks=tracks)
    singles = {t.id: mixdown(project, track_ids=[t.id]) for t in tracks}
    np.testing.assert_allclose(mixdown(project), sum(singles.values()), atol=1e-6)
    tracks[1].mute = True
    np.testing.assert_allclose(mixdown(project), singles["t0"] + singles["t2"], atol=1e-6)
    tracks[2].solo = True
    np.testing.assert_allclose(mixdown(project), singles["t2"], atol=1e-6)
    tracks[1].solo = True            # muted wins over solo
    np.testing.assert_allclose(mixdown(project), singles["t2"], atol=1e-6)
    np.testing.assert_allclose(mixdown(project, track_ids=["t1"]), singles["t1"])   # explicit: mute ignored
    with pytest.raises(KeyError, match="nope"):
        mixdown(project, track_ids=["nope"])


def test_source_shorter_than_clip_reads_silence(sources):
    a, _ = sources
    project = Project(tracks=[Track(id="t", name="t", clips=[clip(a, 0, 47_000, 50_000)])])
    out = mixdown(project)
    assert out.shape == (3000,) and out[:1000].any() and not out[1000:].any()


def test_source_cache_shares_and_invalidates(tmp_path):
    path = make_tone(tmp_path / "s.wav", data=np.full(4800, 0.5, np.float32), subtype="FLOAT")
    cache = SourceCache()
    first = cache.get(path)
    assert cache.get(path) is first and cache.hits == 1 and cache.misses == 1
    assert not first.flags.writeable
    make_tone(path, data=np.full(9600, 0.25, np.float32), subtype="FLOAT")
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    second = cache.get(path)
    assert second.shape == (9600,) and second[0] == 0.25
    project = Project(tracks=[Track(id="t", name="t", clips=[clip(path, 0, 0, 100), clip(path, 200, 0, 100)])])
    mixdown(project, sources=cache)
    assert cache.misses == 2                       # both clips used the cached decode


def test_source_cache_evicts_least_recent(tmp_path):
    paths = [make_tone(tmp_path / f"{i}.wav", 0.1) for i in range(3)]
    cache = SourceCache(max_bytes=2 * 4800 * 4)
    for p in paths:
        cache.get(p)
    assert cache.nbytes <= 2 * 4800 * 4
    cache.get(paths[2])
    assert cache.hits == 1
    cache.get(paths[0])
    assert cache.misses == 4                       # the first one had been evicted
