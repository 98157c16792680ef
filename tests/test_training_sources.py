"""The world's sound bank: honest labels, grains cut per kind, licences carried per recording."""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.training.sources import (
    DEBIAN_PACKAGES, KINDS, MATERIAL_WORDS, RULES, MaterialSounds, SourceBank, SourceEntry, classify,
    discover_sources)

MT = "/c/minetest-data/usr/share/games/minetest/games/minetest_game/mods/"


@pytest.mark.parametrize("path, caption, expected", [
    # labels fixed on review: what the recording sounds like, not a word in its name
    ("/lib/opensfx_17_crash.flac", "Crash", None),                       # dark vehicle crash, was "glass"
    ("/lib/opensfx_19_big_crash.flac", "Big crash", None),
    ("/c/sound-theme-freedesktop/usr/share/sounds/freedesktop/stereo/trash-empty.oga", "", None),  # was "paper"
    ("/lib/opensfx_32_splat_rail_builds.flac", "Splat (rail builds)", None),   # a kick drum, was "earth"
    ("/lib/opensfx_48_toyland_toffee_quarry.flac", "Toyland: Toffee quarry", None),
    ("/c/heroes-sound-effects/usr/share/games/heroes/sfx/coins.wav", "", None),    # 11 kHz cue, was "metal"
    (MT + "default/sounds/default_glass_footstep.ogg", "", None),          # a 145 Hz thud named "glass"
    ("/lib/opensfx_51_toyland_plastic_mine.flac", "Toyland: Plastic mine", None),     # bubbles, not plastic
    # caption words count in the caption only, not in a package's file names
    ("/c/tuxpaint-plugins-default/usr/share/tuxpaint/sounds/magic/glasstile.ogg", "", None),
    ("/c/tuxpaint-plugins-default/usr/share/tuxpaint/sounds/magic/metalpaint.wav", "", None),
    (MT + "default/sounds/default_gravel_dig.1.ogg", "", ("gravel", "impact")),
    # kept or added
    ("/lib/opensfx_16_train_ship_breakdown.flac", "Train/ship breakdown", ("metal", "impact")),
    ("/lib/opensfx_55_lumber_mill_falling_tree.flac", "Lumber mill: Falling tree", ("wood", "impact")),
    ("/c/bucklespring-data/usr/share/buckle/wav/17-0.wav", "", ("plastic", "impact")),
    (MT + "default/sounds/default_break_glass.2.ogg", "", ("glass", "impact")),
    (MT + "default/sounds/default_wood_footstep.1.ogg", "", ("wood", "footstep")),
    (MT + "default/sounds/default_gravel_footstep.3.ogg", "", ("gravel", "footstep")),
    (MT + "default/sounds/default_hard_footstep.1.ogg", "", ("stone", "footstep")),
    (MT + "default/sounds/default_dig_cracky.2.ogg", "", ("stone", "impact")),
    (MT + "default/sounds/default_chest_close.ogg", "", ("wood", "close")),
    (MT + "doors/sounds/doors_steel_door_close.ogg", "", ("metal", "close")),
    (MT + "doors/sounds/doors_door_open.ogg", "", None),                   # opening is not a close
    (MT + "carts/sounds/carts_cart_moving.1.ogg", "", ("metal", "texture")),
    ("/c/tuxpaint-plugins-default/usr/share/tuxpaint/sounds/magic/calligraphy.ogg", "", ("paper", "texture")),
    # caption words for library files added later
    ("/lib/new.flac", "Glass bottle clink", ("glass", "impact")),
    ("/lib/new.flac", "Cash till", ("metal", "impact")),
    ("/lib/new.flac", "Sheep", None),
])
def test_classify_labels(path, caption, expected):
    found = classify(path, caption)
    assert (found[:2] if found else None) == expected
    if found:
        assert found[2]                                   # every kept recording names its licence


def test_rules_use_known_materials_and_kinds():
    for rule in RULES:
        assert (rule.material is None) == (rule.kind is None), rule
        if rule.material is not None:
            assert rule.material in MATERIAL_WORDS and rule.kind in KINDS, rule
        assert rule.licence and rule.note, rule
    assert "heroes-sound-effects" not in DEBIAN_PACKAGES and "minetest-data" in DEBIAN_PACKAGES


def _burst(rng, seconds: float, decay: float, sr: int) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (rng.normal(0, 1, t.size) * np.exp(-t / decay)).astype(np.float32)


def _place(x: np.ndarray, y: np.ndarray, at: float, sr: int, gain: float = 1.0) -> None:
    i = int(at * sr)
    x[i: i + len(y)] += gain * y[: len(x) - i]


@pytest.fixture
def package_tree(tmp_path):
    """A fake unpacked minetest-data with one recording per kind, at 44.1 kHz (as the package has)."""
    rng = np.random.default_rng(1)
    sr = 44_100
    sounds = tmp_path / "minetest-data/usr/share/games/minetest/games/minetest_game/mods"
    (sounds / "default/sounds").mkdir(parents=True)
    (sounds / "doors/sounds").mkdir(parents=True)
    (sounds / "carts/sounds").mkdir(parents=True)
    hits = np.zeros(sr, np.float32)                       # three knocks 0.3 s apart
    for at in (0.1, 0.4, 0.7):
        _place(hits, _burst(rng, 0.2, 0.02, sr), at, sr, 0.5)
    steps = np.zeros(int(1.2 * sr), np.float32)           # two steps, each heel then toe 60 ms later
    for at in (0.1, 0.7):
        _place(steps, _burst(rng, 0.15, 0.02, sr), at, sr, 0.5)
        _place(steps, _burst(rng, 0.15, 0.02, sr), at + 0.06, sr, 0.3)
    close = np.zeros(sr, np.float32)                      # a slow creak building up, then the knock at 0.5 s
    creak = np.linspace(0, 0.08, int(0.4 * sr)) * np.sin(2 * np.pi * 900 * np.arange(int(0.4 * sr)) / sr)
    _place(close, creak.astype(np.float32), 0.1, sr)
    _place(close, _burst(rng, 0.3, 0.05, sr), 0.5, sr, 0.8)
    sf.write(str(sounds / "default/sounds/default_dig_choppy.1.wav"), hits, sr)
    sf.write(str(sounds / "default/sounds/default_dig_choppy.2.wav"), hits, sr)          # same audio again
    sf.write(str(sounds / "default/sounds/default_dig_choppy.3.wav"), hits[::4], sr // 4)  # 11 kHz: too dull
    sf.write(str(sounds / "default/sounds/default_wood_footstep.1.wav"), steps, sr)
    sf.write(str(sounds / "doors/sounds/doors_door_close.wav"), close, sr)
    sf.write(str(sounds / "carts/sounds/carts_cart_moving.1.wav"), rng.normal(0, 0.2, sr // 2).astype(np.float32), sr)
    sf.write(str(sounds / "carts/sounds/carts_cart_moving.2.wav"), rng.normal(0, 0.2, sr // 10).astype(np.float32), sr)
    sf.write(str(sounds / "default/sounds/default_glass_footstep.wav"), steps, sr)        # reviewed, left out
    return tmp_path


def _onset(grain: np.ndarray) -> int:
    return int(np.argmax(np.abs(grain) >= 0.2 * np.abs(grain).max()))


def test_bank_cuts_each_kind(package_tree):
    entries = discover_sources(package_tree, library_dir=None)
    names = sorted(e.path.rsplit("/", 1)[1] for e in entries)
    assert names == ["carts_cart_moving.1.wav", "carts_cart_moving.2.wav", "default_dig_choppy.1.wav",
                     "default_dig_choppy.2.wav", "default_wood_footstep.1.wav", "doors_door_close.wav"]
    bank = SourceBank(entries)
    wood = bank.materials["wood"]
    assert wood.counts() == {"impact": 3, "texture": 0, "footstep": 2, "close": 1}   # the copy adds nothing
    assert "metal" not in bank.materials            # a texture but no impact: not usable on its own
    for grain in wood.impacts + wood.footsteps + wood.closes:
        assert grain.dtype == np.float32 and np.abs(grain).max() == pytest.approx(1.0)
        assert _onset(grain) <= SAMPLE_RATE // 1000 + 48            # onset-aligned: 1 ms pre-roll
    # a footstep keeps its toe (60 ms after the heel) and stops before the next step
    assert all(0.1 * SAMPLE_RATE < len(g) <= 0.45 * SAMPLE_RATE + 1 for g in wood.footsteps)
    # the close is aligned to the knock, not to the creak that builds up before it
    close = wood.closes[0]
    assert np.abs(close[:SAMPLE_RATE // 1000]).max() < 0.15 and np.abs(close[: SAMPLE_RATE // 100]).max() > 0.5


def test_textures_and_licences(package_tree, tmp_path):
    entries = discover_sources(package_tree, library_dir=None)
    # give metal an impact so it is usable, then check its textures: 0.1 s is too short to loop
    hit = np.zeros(SAMPLE_RATE // 2, np.float32)
    _place(hit, _burst(np.random.default_rng(3), 0.2, 0.05, SAMPLE_RATE), 0.05, SAMPLE_RATE)
    sf.write(str(tmp_path / "clank.wav"), hit, SAMPLE_RATE)
    entries.append(SourceEntry(str(tmp_path / "clank.wav"), "metal", "impact", "test licence", ""))
    bank = SourceBank(entries)
    metal = bank.materials["metal"]
    assert len(metal.textures) == 1 and len(metal.textures[0]) >= 0.25 * SAMPLE_RATE
    record = bank.licences()
    used = {(r["path"].rsplit("/", 1)[1], r["material"], r["kind"]) for r in record}
    assert ("carts_cart_moving.1.wav", "metal", "texture") in used
    assert not any(name == "carts_cart_moving.2.wav" for name, _, _ in used)     # gave nothing: not credited
    assert all(r["licence"] for r in record)
    carts = next(r for r in record if r["path"].endswith("carts_cart_moving.1.wav"))
    assert "Expat" in carts["licence"]
    json.dumps(record)                                                             # world.json can hold it


def test_library_licence_comes_from_its_index(tmp_path):
    rng = np.random.default_rng(2)
    x = np.zeros(SAMPLE_RATE, np.float32)
    _place(x, _burst(rng, 0.2, 0.02, SAMPLE_RATE), 0.1, SAMPLE_RATE)
    sf.write(str(tmp_path / "clip.flac"), x, SAMPLE_RATE)
    (tmp_path / "clip.json").write_text(json.dumps({"caption": "Wooden spoon knock"}))
    (tmp_path / "index.json").write_text(json.dumps([{"file": "clip.flac", "licence": "CC0-1.0", "authors": "A. N."}]))
    [entry] = discover_sources(None, tmp_path)
    assert (entry.material, entry.kind, entry.licence) == ("wood", "impact", "CC0-1.0 (A. N.)")


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown kind 'slam'"):
        MaterialSounds().add("slam", np.ones(100, np.float32))


def test_dc_offset_makes_no_onset(tmp_path):
    """A quiet recording riding on a DC offset (kpat's cards) gives one grain, at the real onset."""
    rng = np.random.default_rng(4)
    x = np.full(SAMPLE_RATE // 2, -0.03, np.float32)
    _place(x, 0.02 * _burst(rng, 0.1, 0.01, SAMPLE_RATE), 0.2, SAMPLE_RATE)
    path = tmp_path / "kpat/usr/share/kpat/sounds/card-down.ogg"
    path.parent.mkdir(parents=True)
    sf.write(str(path), x, SAMPLE_RATE, format="OGG", subtype="VORBIS")
    bank = SourceBank(discover_sources(tmp_path, library_dir=None))
    [grain] = bank.materials["paper"].impacts                     # the step into the offset is no onset
    assert np.abs(grain[:40]).max() < 0.3 < np.abs(grain[:240]).max()   # quiet pre-roll, then the card


def test_sounds_unpack_from_a_qt_resource_bundle(tmp_path):
    """Bundles built by Qt's own rcc tool (zlib-compressed) give back the exact bytes."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from foley_studio.training.qt_resources import ResourceFormatError, read_rcc, unpack_rcc

    rcc = shutil.which("pyside6-rcc") or str(Path(sys.executable).with_name("pyside6-rcc"))
    if not Path(rcc).exists():
        pytest.skip("pyside6-rcc not available")
    (tmp_path / "resource").mkdir()
    wav = tmp_path / "resource/money1.wav"
    sf.write(str(wav), np.sin(np.arange(4800) / 10).astype(np.float32), SAMPLE_RATE)
    (tmp_path / "notes.txt").write_text("not a sound " * 20)
    (tmp_path / "b.qrc").write_text('<RCC><qresource prefix="/gcompris"><file>resource/money1.wav</file>'
                                    "<file>notes.txt</file></qresource></RCC>")
    subprocess.run([rcc, "--binary", "--compress-algo", "zlib", "--threshold", "0", "b.qrc", "-o", "b.rcc"],
                   cwd=tmp_path, check=True)
    files = read_rcc(tmp_path / "b.rcc")
    assert files["gcompris/resource/money1.wav"] == wav.read_bytes()
    [out] = unpack_rcc(tmp_path / "b.rcc", tmp_path / "out", (".wav",))
    assert out == tmp_path / "out/gcompris/resource/money1.wav" and out.read_bytes() == wav.read_bytes()
    with pytest.raises(ResourceFormatError, match="not a Qt resource bundle"):
        read_rcc(tmp_path / "notes.txt")


def test_report_lists_used_and_left_out_recordings(package_tree, tmp_path):
    from foley_studio.training.source_report import bank_table, review, write_report

    bank = SourceBank(discover_sources(package_tree, library_dir=None))
    rows = review(package_tree, None)
    left_out = next(r for r in rows if r.path.name == "default_glass_footstep.wav")
    assert left_out.material is None and "145 Hz" in left_out.note
    assert left_out.measures is not None and left_out.measures.onsets == 2
    table = bank_table(bank)
    assert table[0] == ["material", "impact", "texture", "footstep", "close"]
    assert table[1][0] == "wood" and table[1][1].startswith("1 / 3, ") and table[1][3].startswith("1 / 2, ")
    out = tmp_path / "SOURCES.md"
    write_report(out, bank, rows, package_tree)
    text = out.read_text()
    assert "| `default_glass_footstep.wav` | 44100 | left out |" in text
    assert "sampled below 22050 Hz" in text and "| minetest-data |" in text
