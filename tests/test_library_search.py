"""Search (FTS5 words, prefixes, phrases, filters; fused ranking), find similar, preview, CLI."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from foley_studio.cli import main as cli_main
from foley_studio.library import LibraryIndex, QuerySyntaxError, load_preview
from foley_studio.library.index import fuse_rankings
from foley_studio.library.query import parse_query
from foley_studio.library.textfields import name_fields, parse_ucs, split_words
from tests.library_helpers import BagOfWordsEmbedder, noise, tone, write_bwf, write_wav


@pytest.fixture
def library(tmp_path) -> tuple[LibraryIndex, dict[str, Path]]:
    lib = tmp_path / "sfx"
    files = {
        "metal_short": write_wav(lib / "impacts" / "metal_hit_small.wav", tone(0.5, 2000, decay=30)),
        "metal_long": write_wav(lib / "impacts" / "metal_hit_big.wav", tone(3.0, 150, decay=2)),
        "metal_44k": write_wav(lib / "impacts" / "metal_hit_old.wav", tone(1.0, 900, sr=44100, decay=10), sr=44100),
        "metallic": write_wav(lib / "metallic_scrape.wav", noise(1.0)),
        "door": write_bwf(lib / "doors" / "door_01.wav", noise(0.8, seed=3),
                          bext_description="Heavy wooden door closing hard"),
        "ucs": write_wav(lib / "VEHHorn_Ship Horn Blast_JD_Harbor.wav", tone(2.0, 110)),
        "glass": write_wav(lib / "glass_break_hit.wav", noise(0.4, seed=5)),
        "stereo": write_wav(lib / "wind_stereo.flac", np.stack([noise(1.0, seed=7), noise(1.0, seed=8)], axis=1)),
    }
    index = LibraryIndex(tmp_path / "lib.sqlite3", text_embedder=BagOfWordsEmbedder)
    index.add_folder(lib)
    index.scan()
    return index, {k: v.resolve() for k, v in files.items()}


def _names(entries) -> list[str]:
    return [Path(e.path).name for e in entries]


def test_words_prefix_phrase_and_exclusion(library):
    index, f = library
    assert set(_names(index.search("metal hit", 10, mode="text"))) == {
        "metal_hit_small.wav", "metal_hit_big.wav", "metal_hit_old.wav"}
    assert _names(index.search("scra*", 10, mode="text")) == ["metallic_scrape.wav"]
    assert index.search("scra", 10, mode="text") == []
    assert "metallic_scrape.wav" in _names(index.search("metal", 10, mode="text"))   # porter stemming
    assert _names(index.search('"closing hard"', 10, mode="text")) == ["door_01.wav"]
    assert index.search('"hard closing"', 10, mode="text") == []
    assert _names(index.search("hit -metal", 10, mode="text")) == ["glass_break_hit.wav"]
    assert "metal_hit_small.wav" not in _names(index.search("-metal", 20, mode="text"))
    assert set(_names(index.search("glass OR scrape", 10, mode="text"))) == {"glass_break_hit.wav", "metallic_scrape.wav"}
    assert _names(index.search("folder:doors", 10, mode="text")) == ["door_01.wav"]
    assert _names(index.search("cat:vehicles horn", 10, mode="text")) == ["VEHHorn_Ship Horn Blast_JD_Harbor.wav"]


def test_field_filters(library):
    index, f = library
    assert _names(index.search("metal hit dur:<2 sr:48000", 10, mode="text")) == ["metal_hit_small.wav"]
    assert _names(index.search("metal dur:>=2", 10, mode="text")) == ["metal_hit_big.wav"]
    assert _names(index.search("metal sr:44.1k", 10, mode="text")) == ["metal_hit_old.wav"]
    assert _names(index.search("dur:600ms..0.9", 10, mode="text")) == ["door_01.wav"]
    assert _names(index.search("ch:2", 10, mode="text")) == ["wind_stereo.flac"]
    assert _names(index.search("ext:flac", 10, mode="text")) == ["wind_stereo.flac"]
    loud = index.search("metal hit peak:>-7", 10, mode="text")
    assert {e.path for e in loud} == {str(f["metal_short"]), str(f["metal_long"]), str(f["metal_44k"])}
    assert index.search("metal hit peak:>-3", 10, mode="text") == []
    with pytest.raises(QuerySyntaxError, match="dur"):
        index.search("dur:<abc", 10)


def test_ranking_prefers_description_and_name_matches(library):
    index, f = library
    # "hit" is in four names; the exact two-word match in the name ranks before one-word matches
    top = index.search("glass hit", 10, mode="text")
    assert _names(top)[0] == "glass_break_hit.wav" and top[0].score > 0
    fused = index.search("wooden door", 5)                   # combined: text and (fake) semantic
    assert _names(fused)[0] == "door_01.wav"
    sem = index.semantic_search("door wooden heavy", 3)
    assert _names(sem)[0] == "door_01.wav"
    assert index.semantic_search("door dur:>5", 3) == []     # filters apply to semantic hits too


def test_fuse_rankings_rewards_agreement():
    class E:
        def __init__(self, i):
            self.id, self.score = i, 0.0
    a, b, c = E(1), E(2), E(3)
    fused = fuse_rankings([[a, b, c], [b, c]], 3)
    assert [e.id for e in fused] == [2, 3, 1]


def test_similar_finds_the_same_kind_of_sound(library, tmp_path):
    index, f = library
    probe = write_wav(tmp_path / "probe.wav", tone(0.6, 2100, decay=28))   # not in the library
    assert Path(index.similar(probe, 3)[0].path).name == "metal_hit_small.wav"
    hits = index.similar(f["glass"], 3)
    assert str(f["glass"]) not in [h.path for h in hits]
    assert _names(hits)[0] in {"metallic_scrape.wav", "door_01.wav", "wind_stereo.flac"}   # other noises
    assert all(-1.0 <= h.score <= 1.0001 for h in hits)
    clip = np.asarray(load_preview(f["metal_long"])[0])
    assert _names(index.similar_to_audio(clip, 48000, 1)) == ["metal_hit_big.wav"]


def test_preview_range_resampled_with_peaks(library):
    index, f = library
    audio, peaks = load_preview(f["metal_44k"], 4800, 14400)      # 0.1 s .. 0.3 s at 48 kHz
    assert audio.dtype == np.float32 and audio.shape == (9600,)
    full, _ = load_preview(f["metal_44k"])
    assert full.shape[0] == pytest.approx(48000, abs=2)
    np.testing.assert_allclose(audio, full[4800:14400], atol=1e-3)
    assert peaks.shape == (2, 1024) and np.all(peaks[0] <= peaks[1])
    assert peaks[1].max() == pytest.approx(audio.max(), abs=1e-6)
    again, _ = load_preview(f["metal_44k"], 4800, 14400)
    assert again is audio and not audio.flags.writeable          # served from the cache
    stereo, speaks = load_preview(f["stereo"], mono=False, n_bins=16)
    assert stereo.shape == (2, 48000) and speaks.shape == (2, 16)


def test_query_parser_and_name_words():
    q = parse_query('"door slam" wood* -metal dur:<2 sr:48k cat:doors')
    assert q.fts == '("door slam" AND "wood"* AND category : "doors") NOT ("metal")'
    assert q.where == ["f.duration < ?", "f.sample_rate = ?"] and q.params == [2.0, 48000.0]
    assert q.text == "door slam wood"
    assert parse_query("10:30 take").fts == '"10:30" AND "take"'
    assert split_words("HeavyDoor_slam02-take3") == ["heavy", "door", "slam", "02", "take", "3"]
    assert parse_ucs("METLImpt_Pipe Hit_AB_Lib_01") == ("METL", "Impt", "Pipe Hit", "AB")
    assert parse_ucs("metal_hit") is None
    fields = name_fields(Path("/x/Lib/Metal Hits/METLImpt_Pipe Hit_AB.wav"), Path("/x/Lib"))
    assert (fields.category, fields.subcategory, fields.folders) == ("metl metal", "impt", "metal hits")


def test_cli_add_search_similar_stats(tmp_path, capsys, monkeypatch):
    import foley_studio.library.semantic as semantic

    monkeypatch.setattr(semantic, "shared_text_embedder", BagOfWordsEmbedder)   # the real one: test_library_semantic
    lib = tmp_path / "sfx"
    write_wav(lib / "metal_hit.wav", tone(0.3, 1500, decay=20))
    write_wav(lib / "glass_break.wav", noise(0.3))
    (lib / "broken.wav").write_text("nope")
    db = str(tmp_path / "cli.sqlite3")
    assert cli_main(["library", "add", str(lib), "--db", db]) == 0
    out = capsys.readouterr().out
    assert "indexed 2 new" in out and "broken.wav" in out
    assert cli_main(["library", "search", "metal", "--json", "--mode", "text", "--db", db]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert [Path(h["path"]).name for h in hits] == ["metal_hit.wav"] and "overview" not in hits[0]
    assert cli_main(["library", "similar", str(lib / "metal_hit.wav"), "--json", "--db", db]) == 0
    assert [Path(h["path"]).name for h in json.loads(capsys.readouterr().out)] == ["glass_break.wav"]
    assert cli_main(["library", "stats", "--json", "--db", db]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["files"] == 2 and stats["skipped"] == 1 and stats["skipped_files"][0]["path"].endswith("broken.wav")
    assert cli_main(["library", "search", "dur:<x", "--db", db]) == 2
    assert "dur" in capsys.readouterr().err


def test_user_errors_name_the_file_and_the_fix(tmp_path, capsys):
    from foley_studio.library.errors import LibraryDatabaseError

    bad = tmp_path / "not_a_db.sqlite3"
    bad.write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(LibraryDatabaseError, match="not_a_db.sqlite3.*delete"):
        LibraryIndex(bad)
    db = str(tmp_path / "ok.sqlite3")
    assert cli_main(["library", "similar", str(tmp_path / "missing.wav"), "--db", db]) == 2
    err = capsys.readouterr().err
    assert "missing.wav" in err and err.count("\n") == 1


def test_preload_semantic_never_blocks_a_combined_search(tmp_path):
    import threading

    release = threading.Event()

    class SlowToLoad(BagOfWordsEmbedder):
        def __init__(self):
            release.wait(10)

    write_bwf(tmp_path / "sfx" / "a.wav", noise(0.1), bext_description="Heavy wooden door closing hard")
    index = LibraryIndex(tmp_path / "lib.sqlite3", text_embedder=SlowToLoad)
    index.add_folder(tmp_path / "sfx")
    index.scan(embed_text=False)
    loader = index.preload_semantic()
    assert not index.semantic_ready
    assert _names(index.search("wooden", 5)) == ["a.wav"]          # text results, no waiting
    release.set()
    loader.join(10)
    assert index.semantic_ready and _names(index.search("door heavy", 5)) == ["a.wav"]
