"""Semantic search with the real MiniLM encoder over the bundled OpenSFX demo library."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from foley_studio.cli import main as cli_main
from foley_studio.core.paths import DEMO_LIBRARY_DIR
from foley_studio.library import LibraryIndex
from foley_studio.library.semantic import shared_text_embedder

# paraphrase -> the caption that must come first (no word in common with it, or nearly none)
PARAPHRASES = {
    "people clapping": "Applause",
    "audience cheering": "Applause",
    "chopper rotor": "Helicopter",
    "cash register": "Cash till",
    "blast": "Explosion",
    "lamb bleating": "Sheep",
    "monkey screech": "Tropical: Monkeys",
    "electrical arcing": "Electric sparking",
    "car honk": "Modern car horn",
    "telegraph code": "Morse",
}


@pytest.fixture(scope="module")
def demo_index(tmp_path_factory) -> LibraryIndex:
    index = LibraryIndex(tmp_path_factory.mktemp("lib") / "demo.sqlite3")
    index.add_folder(DEMO_LIBRARY_DIR)
    report = index.scan()
    assert report.added == 71 and not report.skipped
    return index


def test_demo_library_is_complete_and_attributed():
    flacs = sorted(DEMO_LIBRARY_DIR.glob("*.flac"))
    assert len(flacs) == 71
    attribution = (DEMO_LIBRARY_DIR / "ATTRIBUTION.md").read_text()
    for f in flacs:
        row = next(line for line in attribution.splitlines() if f"`{f.name}`" in line)
        assert re.search(r"\| (CC-BY-3\.0|CC-BY-SA-3\.0|CC0-1\.0) \|$", row), row
    with sf.SoundFile(DEMO_LIBRARY_DIR / "opensfx_06_ship_horn.flac") as f:
        assert f.samplerate == 48000 and f.copy_metadata()["title"] == "Ship horn"


def test_encoder_matches_all_minilm_behaviour():
    vecs = shared_text_embedder().encode(["door slam", "Heavy wooden door closing hard", "a cat meowing"])
    assert vecs.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.1


@pytest.mark.parametrize("query,caption", PARAPHRASES.items())
def test_paraphrase_ranks_the_right_recording_first(demo_index, query, caption):
    hits = demo_index.semantic_search(query, 3)
    assert hits and hits[0].description == caption, [h.description for h in hits]


def test_combined_search_and_filters(demo_index):
    assert demo_index.search("ship horn", 5)[0].description == "Ship horn"
    jets = demo_index.search("aeroplane departing", 10)
    assert any("jet take off" in h.description for h in jets[:3])
    short = demo_index.search("bird dur:<3", 10)
    assert short and all(h.duration < 3 for h in short)
    assert demo_index.search("zzzzqqq", 5, mode="text") == []


@pytest.mark.slow  # indexes the demo library a second time (~5 s); the ranking itself is checked above
def test_cli_ship_horn_on_demo_library(capsys):
    # a fresh database: the CLI indexes the bundled demo library by itself, then searches it
    assert cli_main(["library", "search", "ship horn", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert Path(hits[0]["path"]).name == "opensfx_06_ship_horn.flac" and hits[0]["title"] == "Ship horn"


def test_door_slam_finds_the_heavy_wooden_door(tmp_path):
    from tests.library_helpers import noise, write_bwf

    captions = ["Heavy wooden door closing hard", "Glass bottle rolling on concrete", "Footsteps on gravel, slow",
                "Rain on a car roof", "Kettle whistling", "Metal pipe dropped on tiles"]
    for i, caption in enumerate(captions):
        write_bwf(tmp_path / "sfx" / f"take_{i:02d}.wav", noise(0.1, seed=i), bext_description=caption)
    index = LibraryIndex(tmp_path / "lib.sqlite3")
    index.add_folder(tmp_path / "sfx")
    index.scan()
    assert index.search("door slam", 3, mode="text") == []        # "slam" is in no description...
    assert index.search("door slam", 3)[0].description == captions[0]   # ...but the same meaning


def test_a_single_word_finds_the_recordings_that_carry_it_before_loosely_similar_ones(tmp_path):
    """'metal' with the real encoder: the recordings named, categorised or described as metal come first;
    cow, horse, wind and helicopter (which MiniLM rates closer to "metal" than some of them) only after."""
    from library_helpers import noise, write_bwf, write_wav
    lib = tmp_path / "sfx"
    metal = {write_wav(lib / "METLImpt_Pipe Hit_JD_Yard.wav", noise(0.3, seed=1)).name,       # UCS category
             write_wav(lib / "metal_scrape_01.wav", noise(0.3, seed=2)).name}                 # file name
    for i, text in enumerate(("Heavy metal door slam", "Garden gate latch, metal, clicks shut twice",
                              "Cafeteria tray dropped on a tiled floor, metal",
                              "Cash drawer opening with bell; metal mechanism")):             # descriptions
        metal.add(write_bwf(lib / f"metal_{i}.wav", noise(0.3, seed=3 + i), bext_description=text).name)
    loose = set()
    for i, text in enumerate(("Cow", "Horse", "Wind", "Helicopter", "Applause", "Sheep")):       # demo captions
        loose.add(write_bwf(lib / f"other_{i}.wav", noise(0.3, seed=10 + i), bext_description=text).name)
    index = LibraryIndex(tmp_path / "lib.sqlite3")
    index.add_folder(lib)
    index.scan()
    hits = [Path(h.path).name for h in index.search("metal", 20)]
    assert set(hits[:len(metal)]) == metal, hits
    assert set(hits[len(metal):]) <= loose and {"other_0.wav", "other_2.wav"} <= set(hits), hits   # still offered
    assert [Path(h.path).name for h in index.search("Metal", 3)] == hits[:3]          # case does not matter
