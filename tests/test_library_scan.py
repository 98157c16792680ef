"""Scanning: good and broken files, incremental re-scans, folders, a killed scan, metadata read."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from foley_studio.library import LibraryError, LibraryIndex, ScanProgress
from foley_studio.library.metadata import read_metadata
from tests.library_helpers import noise, tone, write_broken_set, write_bwf, write_wav


def _index(tmp_path: Path) -> LibraryIndex:
    return LibraryIndex(tmp_path / "lib.sqlite3")


def _paths(index: LibraryIndex) -> set[str]:
    return {e.path for e in index.search("", 1000, mode="text")}


def test_scan_indexes_good_files_and_lists_broken_with_reasons(tmp_path):
    lib = tmp_path / "sfx"
    good = [write_wav(lib / "impacts" / "metal_hit_01.wav", tone(0.3, 800, decay=20)),
            write_wav(lib / "wood_knock.flac", tone(0.4, 300, sr=44100), sr=44100),
            write_bwf(lib / "door.wav", noise(0.2), bext_description="Heavy wooden door closing hard")]
    broken = write_broken_set(lib / "bad")
    index = _index(tmp_path)
    index.add_folder(lib)
    seen: list[ScanProgress] = []
    report = index.scan(seen.append, embed_text=False)

    assert report.added == 3 and report.removed == 0
    assert _paths(index) == {str(p.resolve()) for p in good}
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert set(reasons) == {"truncated.wav", "notes.wav", "empty.wav"}
    assert "truncated" in reasons["truncated.wav"]
    assert "not a recognised audio format" in reasons["notes.wav"]
    assert "empty file" in reasons["empty.wav"]
    assert {Path(s.path).name for s in index.skipped()} == set(reasons)
    assert seen[-1].phase == "done" and any(p.phase == "reading" and p.done == 6 for p in seen)

    flac = index.get(good[1])
    assert flac.sample_rate == 44100 and flac.channels == 1 and flac.bit_depth == 16
    assert flac.duration == pytest.approx(0.4, abs=1e-3)
    assert flac.peak_db == pytest.approx(20 * np.log10(0.5), abs=0.1)
    assert flac.rms_db == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.2)
    assert flac.overview.shape == (128,) and flac.overview.max() == pytest.approx(127, abs=2)
    assert index.get(good[2]).description == "Heavy wooden door closing hard"
    assert index.get(good[0]).folders == "impacts"

    # broken files are not retried while unchanged, and are still reported
    again = index.scan(embed_text=False)
    assert (again.added, again.updated, again.unchanged, len(again.skipped)) == (0, 0, 3, 3)


def test_rescan_picks_up_rename_delete_modify_and_fixed_files(tmp_path):
    lib = tmp_path / "sfx"
    a = write_wav(lib / "glass_break.wav", noise(0.2))
    b = write_wav(lib / "car_pass.wav", tone(0.5, 100))
    c = write_wav(lib / "bird_chirp.wav", tone(0.1, 3000))
    broken = write_broken_set(lib)
    index = _index(tmp_path)
    index.add_folder(lib)
    index.scan(embed_text=False)
    old_id = index.get(b).id

    renamed = a.rename(lib / "window_smash.wav")
    c.unlink()
    write_wav(b, tone(1.5, 100, amp=0.1))                       # modified: longer, quieter
    os.utime(b, ns=(os.stat(b).st_atime_ns, os.stat(b).st_mtime_ns + 10**9))
    write_wav(broken["empty"], tone(0.25))                       # the empty file got fixed
    report = index.scan(embed_text=False)

    assert (report.added, report.updated, report.removed) == (2, 1, 2)
    assert _paths(index) == {str(p.resolve()) for p in (renamed, b, broken["empty"])}
    car = index.get(b)
    assert car.id == old_id and car.duration == pytest.approx(1.5, abs=1e-3)
    assert car.peak_db == pytest.approx(-20, abs=0.1)
    assert [e.path for e in index.search("window smash", 5, mode="text")] == [str(renamed.resolve())]
    assert index.search("glass", 5, mode="text") == []
    assert {Path(s.path).name for s in index.skipped()} == {"truncated.wav", "notes.wav"}


def test_killed_scan_leaves_a_usable_database_without_duplicates(tmp_path):
    lib = tmp_path / "sfx"
    for i in range(40):
        write_wav(lib / f"hit_{i:02d}.wav", tone(0.05, 200 + 10 * i))
    db = tmp_path / "lib.sqlite3"
    script = textwrap.dedent(f"""
        import os, signal
        import foley_studio.library.scanner as scanner
        from foley_studio.library import LibraryIndex
        scanner.BATCH = 8
        index = LibraryIndex({str(db)!r})
        index.add_folder({str(lib)!r})
        def die(p):
            if p.phase == "reading" and p.done >= 16:
                os.kill(os.getpid(), signal.SIGKILL)
        index.scan(die, workers=1, embed_text=False)
        raise SystemExit("scan finished without being killed")
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr

    index = LibraryIndex(db)
    assert 16 <= len(index) < 40          # committed batches survived the kill
    report = index.scan(embed_text=False)
    assert report.added == 40 - report.unchanged and report.unchanged >= 16
    assert len(index) == 40
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT path) FROM files").fetchone() == (40, 40)
        conn.execute("INSERT INTO files_fts(files_fts) VALUES ('integrity-check')")
    assert len(index.search("hit", 100, mode="text")) == 40


def test_folders_nested_offline_removed_and_errors(tmp_path):
    lib = tmp_path / "sfx"
    write_wav(lib / "a" / "one.wav", tone())
    write_wav(lib / "b" / "two.wav", tone())
    index = _index(tmp_path)
    assert index.add_folder(lib / "a") == (lib / "a").resolve()
    assert index.add_folder(lib) == lib.resolve()          # the parent absorbs the child
    assert index.add_folder(lib / "b") == lib.resolve()    # inside an added folder: covered
    assert index.folders() == [lib.resolve()]
    index.scan(embed_text=False)
    assert len(index) == 2

    moved = lib.rename(tmp_path / "unplugged")
    report = index.scan(embed_text=False)
    assert report.offline_roots == [str(lib.resolve())] and len(index) == 2   # not wiped
    moved.rename(lib)

    assert index.remove_folder(lib) == 2 and len(index) == 0
    with sqlite3.connect(index.db_path) as conn:   # the cascade reached the FTS index and vectors
        conn.execute("INSERT INTO files_fts(files_fts) VALUES ('integrity-check')")
        assert conn.execute("SELECT count(*) FROM audio_vectors").fetchone() == (0,)
    assert index.search("one", 5, mode="text") == []
    with pytest.raises(LibraryError, match="not a folder"):
        index.add_folder(tmp_path / "nope")
    with pytest.raises(LibraryError, match="not a library folder"):
        index.remove_folder(tmp_path)


def test_cancel_stops_after_a_batch_and_keeps_it(tmp_path, monkeypatch):
    import foley_studio.library.scanner as ix

    monkeypatch.setattr(ix, "BATCH", 4)
    lib = tmp_path / "sfx"
    for i in range(12):
        write_wav(lib / f"s{i}.wav", tone(0.05))
    index = _index(tmp_path)
    index.add_folder(lib)
    done = []
    report = index.scan(done.append, cancel=lambda: len([p for p in done if p.phase == "reading"]) >= 1,
                        embed_text=False)
    assert report.cancelled and len(index) == 4


def test_metadata_of_bwf_ixml_stereo_24bit_and_ucs_names(tmp_path):
    ixml = "<BWFXML><USER><DESCRIPTION>Creaky hinge, slow open</DESCRIPTION></USER></BWFXML>"
    bwf = write_bwf(tmp_path / "DOORWood_Creak Open_JD_Lib.wav", tone(0.3), ixml=ixml)
    meta = read_metadata(bwf)
    assert meta.description == "Creaky hinge, slow open"
    stereo = write_wav(tmp_path / "st.wav", np.stack([tone(0.2), 0.25 * tone(0.2)], axis=1), subtype="PCM_24")
    meta = read_metadata(stereo)
    assert (meta.channels, meta.bit_depth, meta.sample_rate) == (2, 24, 48000)
    assert meta.embedding.shape == (96,) and np.linalg.norm(meta.embedding) == pytest.approx(1, abs=1e-5)

    index = _index(tmp_path)
    index.add_folder(tmp_path)
    index.scan(embed_text=False)
    entry = index.get(bwf)
    assert (entry.category, entry.subcategory, entry.fx_name, entry.creator) == ("door doors", "wood", "Creak Open", "JD")
    assert [e.path for e in index.search("cat:door", 5, mode="text")] == [str(bwf.resolve())]


@pytest.mark.parametrize("ext,fmt,subtype,bits", [
    ("aiff", "AIFF", "PCM_24", 24), ("ogg", "OGG", "VORBIS", None), ("oga", "OGG", "VORBIS", None),
    ("mp3", "MP3", "MPEG_LAYER_III", None), ("bwf", "WAV", "PCM_16", 16), ("flac", "FLAC", "PCM_16", 16)])
def test_every_listed_format_is_indexed_with_its_comment(tmp_path, ext, fmt, subtype, bits):
    import soundfile as sf

    path = tmp_path / f"clip.{ext}"
    with sf.SoundFile(path, "w", 48000, 1, format=fmt, subtype=subtype) as f:
        f.comment = "Rusty gate swinging"
        f.write(tone(0.5, 500, amp=0.4))
    index = _index(tmp_path)
    index.add_folder(tmp_path)
    report = index.scan(embed_text=False)
    assert report.added == 1 and not report.skipped
    entry = index.get(path)
    assert entry.description == "Rusty gate swinging" and entry.bit_depth == bits
    assert entry.duration == pytest.approx(0.5, abs=0.06)      # lossy codecs pad a little
    assert entry.peak_db == pytest.approx(20 * np.log10(0.4), abs=1.0)


def test_pyav_fallback_reads_what_libsndfile_cannot(tmp_path, monkeypatch):
    import soundfile as sf

    import foley_studio.library.metadata as md
    import foley_studio.media.native_audio as native

    path = write_wav(tmp_path / "x.wav", np.stack([tone(0.3, amp=0.5), tone(0.3, amp=0.25)], axis=1), sr=44100)

    def refuse(*a, **k):
        raise sf.LibsndfileError(1, "Format not recognised")

    monkeypatch.setattr(native, "_read_with_soundfile", refuse)
    meta = md.read_metadata(path)
    assert (meta.sample_rate, meta.channels, meta.bit_depth) == (44100, 2, 16)
    assert meta.duration == pytest.approx(0.3 * 48000 / 44100, abs=1e-3)   # tone() made 0.3 s of 48k samples
    assert meta.peak_db == pytest.approx(20 * np.log10(0.5), abs=0.05)
    assert len(meta.overview) == 128 and meta.embedding.shape == (96,)


def test_search_from_another_thread_while_scanning(tmp_path, monkeypatch):
    import threading

    import foley_studio.library.scanner as ix

    monkeypatch.setattr(ix, "BATCH", 4)
    lib = tmp_path / "sfx"
    for i in range(48):
        write_wav(lib / f"rain_{i:02d}.wav", noise(0.05, seed=i))
    index = _index(tmp_path)
    index.add_folder(lib)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            index.scan(workers=2, embed_text=False)
        except BaseException as exc:  # reported below; a thread's exception would vanish
            errors.append(exc)

    scanner = threading.Thread(target=run)
    scanner.start()
    counts = []
    while scanner.is_alive():
        counts.append(len(index.search("rain", 100, mode="text")))
    scanner.join()
    counts.append(len(index.search("rain", 100, mode="text")))
    assert not errors
    assert counts == sorted(counts) and counts[-1] == 48   # readers see whole batches, never a torn state
