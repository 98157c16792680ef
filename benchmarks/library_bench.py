#!/usr/bin/env python3
"""SFX library benchmark: indexing rate, FTS query latency and semantic query latency.

    python benchmarks/library_bench.py [--files 2000] [--entries 100000] [--queries 200] [--workdir DIR]

1. Index rate: N generated short WAVs (0.1-1 s, 48 kHz 16-bit mono) scanned from scratch
   (metadata, levels, overview and the spectral "find similar" vector; text embedding is a separate
   phase and timed on its own).
2. FTS: an index of `--entries` rows written through the scanner's own write path (name parsing,
   triggers, FTS5) with generated names, folders and descriptions; p50/p95 of mixed queries
   (words, prefixes, phrases, field filters).
3. Semantic: MiniLM vectors for every row (the distinct descriptions are embedded for real, then
   each row gets its description's vector), and p50/p95 of a query = encode + one float32
   matrix-vector product + top-k, with the encode and matrix parts reported apart.

Targets from the issue: index >= 500 files/s; FTS p95 <= 20 ms at 100k; semantic <= 50 ms at 100k.

Run of 2026-11-26 (defaults) on the shared 2-CPU dev box at load average ~11 (about 8 jobs per
core), so wall times are ~3x the CPU times; CPU times are what an idle machine would see:
  index 2,000 WAVs: 254 files/s wall, 1.03 ms CPU per file (all threads); unchanged rescan 0.1 s
  FTS over 100,000: p50 10 ms, p95 45 ms wall; CPU p50 4.4 ms, p95 14.9 ms (broad one-word and
      prefix queries matching ~23% of rows are the slow shape: p95 48-49 ms wall)
  semantic over 100,000: p50 75 ms, p95 110 ms wall; CPU p50 25 ms, p95 34 ms; of which the
      MiniLM query encode is 38 ms p50 wall and the float32 matrix product + top-k 31 ms p50 wall
  similar (96-d audio vectors, 100,000): p50 8.5 ms, p95 15 ms wall
Past ~1 M entries the float32 scan (1.5 GB, memory-bound) should give way to an ANN index
(HNSW or IVF-PQ: hnswlib/FAISS, or sqlite-vec inside the same database), with exact re-ranking.
"""
from __future__ import annotations

import argparse
import logging
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from foley_studio.library import LibraryIndex
from foley_studio.library.metadata import AudioMetadata, OVERVIEW_BINS
from foley_studio.library.records import FileState  # fed to the scanner's own write path
from foley_studio.library.vectors import top_k

MATERIALS = ["metal", "wood", "glass", "plastic", "stone", "paper", "cloth", "water", "gravel", "leather",
             "rubber", "ceramic", "concrete", "dirt", "leaves", "ice", "snow", "mud", "sand", "cardboard"]
ACTIONS = ["hit", "scrape", "drop", "roll", "slide", "break", "crack", "creak", "tap", "slam", "rattle",
           "squeak", "thud", "crunch", "splash", "rub", "knock", "bounce", "shatter", "tear"]
OBJECTS = ["door", "pipe", "bottle", "box", "chair", "table", "can", "plate", "window", "drawer", "bucket",
           "shovel", "chain", "spoon", "bag", "book", "ball", "gate", "lid", "crate"]
ADJECTIVES = ["heavy", "light", "small", "large", "distant", "close", "soft", "hard", "fast", "slow",
              "short", "long", "old", "metallic", "hollow", "dull", "bright", "muffled", "sharp", "wet"]
UCS = ["METLImpt", "WOODImpt", "GLASBreak", "DOORWood", "DOORMetal", "PLASImpt", "ROCKImpt", "PAPRTear",
       "WATRSplash", "FOLYProp", "FEETGravel", "CLOTHMvmt", "MECHLatch", "TOOLHand", "VEHHorn", "AMBUrban"]

log = logging.getLogger("library_bench")


def description(rng: random.Random) -> str:
    return f"{rng.choice(ADJECTIVES).capitalize()} {rng.choice(MATERIALS)} {rng.choice(OBJECTS)} " \
           f"{rng.choice(ACTIONS)}" + (f", {rng.choice(ADJECTIVES)} and {rng.choice(ADJECTIVES)}" if rng.random() < .5 else "")


def stem(rng: random.Random, i: int) -> str:
    if rng.random() < 0.4:
        return f"{rng.choice(UCS)}_{rng.choice(ADJECTIVES).capitalize()} {rng.choice(OBJECTS).capitalize()} " \
               f"{rng.choice(ACTIONS).capitalize()}_JD_Bench_{i:06d}"
    return f"{rng.choice(MATERIALS)}_{rng.choice(OBJECTS)}_{rng.choice(ACTIONS)}_{i:06d}"


# ---------------------------------------------------------------------------------------------
def bench_index_rate(work: Path, n_files: int) -> dict:
    rng = random.Random(1)
    nrng = np.random.default_rng(1)
    folder = work / "wavs"
    for i in range(n_files):
        sub = folder / rng.choice(MATERIALS) / rng.choice(ACTIONS)
        sub.mkdir(parents=True, exist_ok=True)
        n = int(rng.uniform(0.1, 1.0) * 48000)
        env = np.exp(-np.arange(n) / (48000 * rng.uniform(0.02, 0.3)))
        sf.write(sub / f"{stem(rng, i)}.wav", (0.5 * nrng.standard_normal(n) * env).astype(np.float32), 48000,
                 subtype="PCM_16")
    index = LibraryIndex(work / "rate.sqlite3")
    index.add_folder(folder)
    t0, c0 = time.perf_counter(), time.process_time()
    report = index.scan(embed_text=False)
    scan_s, scan_cpu = time.perf_counter() - t0, time.process_time() - c0
    assert report.added == n_files, report
    t0 = time.perf_counter()
    embedded = index.semantic.embed_missing(lambda p: None, lambda: False)
    embed_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = index.scan(embed_text=False)
    rescan_s = time.perf_counter() - t0
    return {"files": n_files, "scan_s": scan_s, "files_per_s": n_files / scan_s,
            "cpu_ms_per_file (all threads)": scan_cpu / n_files * 1000,
            "text_embed_files_per_s (incl. model load)": embedded / embed_s if embed_s else 0.0,
            "unchanged_rescan_s": rescan_s, "unchanged": again.unchanged}


def build_big_index(work: Path, n_entries: int, n_descriptions: int) -> tuple[LibraryIndex, list[str]]:
    rng = random.Random(2)
    nrng = np.random.default_rng(2)
    root = work / "big"
    root.mkdir()
    index = LibraryIndex(work / "big.sqlite3")
    index.add_folder(root)
    root_id = index.store.conn().execute("SELECT id FROM roots").fetchone()[0]
    descs = sorted({description(rng) for _ in range(n_descriptions * 3)})[:n_descriptions]
    batch, results = [], []
    for i in range(n_entries):
        path = root / rng.choice(MATERIALS) / f"{stem(rng, i)}.wav"
        batch.append((root_id, root, FileState(str(path), 1000 + i, i), False))
        vec = nrng.standard_normal(96).astype(np.float32)
        meta = AudioMetadata(duration=rng.uniform(0.1, 30), sample_rate=rng.choice([44100, 48000, 96000]),
                             channels=rng.choice([1, 2]), bit_depth=rng.choice([16, 24]), codec="wav/pcm_24",
                             peak_db=rng.uniform(-30, 0), rms_db=rng.uniform(-50, -10),
                             overview=bytes(OVERVIEW_BINS), description=rng.choice(descs),
                             embedding=vec / np.linalg.norm(vec))
        results.append((meta, None))
        if len(batch) == 1000:
            index.scanner.write_batch(batch, results, _Report())
            batch, results = [], []
    if batch:
        index.scanner.write_batch(batch, results, _Report())
    return index, descs


class _Report:
    added = updated = 0

    def __init__(self):
        self.skipped = []


def bench_fts(index: LibraryIndex, n_queries: int) -> dict:
    rng = random.Random(3)
    shapes = [
        lambda: rng.choice(MATERIALS),
        lambda: f"{rng.choice(MATERIALS)} {rng.choice(ACTIONS)}",
        lambda: f"{rng.choice(MATERIALS)[:3]}*",
        lambda: f'"{rng.choice(OBJECTS)} {rng.choice(ACTIONS)}"',
        lambda: f"{rng.choice(MATERIALS)} {rng.choice(ACTIONS)} dur:<2 sr:48000",
        lambda: f"{rng.choice(ADJECTIVES)} {rng.choice(OBJECTS)} -{rng.choice(MATERIALS)}",
        lambda: f"cat:door {rng.choice(ACTIONS)}",
    ]
    queries = [rng.choice(shapes)() for _ in range(n_queries)]
    for q in queries[:10]:
        index.search(q, 50, mode="text")  # warm the page cache
    times, cpu, hits = [], [], []
    per_shape: dict[str, list[float]] = {}
    for q in queries:
        t0, c0 = time.perf_counter(), time.process_time()
        res = index.search(q, 50, mode="text")
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        hits.append(len(res))
        per_shape.setdefault(_shape(q), []).append(times[-1])
    return _summary(times, cpu) | {"mean_hits": statistics.mean(hits),
                                   "p95_ms_by_shape": {k: round(float(np.percentile(v, 95)) * 1000, 1)
                                                       for k, v in sorted(per_shape.items())}}


def _shape(q: str) -> str:
    if "dur:" in q:
        return "words+filters"
    if q.startswith("cat:"):
        return "field"
    if q.startswith('"'):
        return "phrase"
    if q.endswith("*"):
        return "prefix"
    if " -" in q:
        return "exclusion"
    return f"{len(q.split())} word(s)"


def bench_semantic(index: LibraryIndex, descs: list[str], n_queries: int) -> dict:
    emb = index.semantic.embedder()
    t0 = time.perf_counter()
    vecs = emb.encode(descs)
    encode_all_s = time.perf_counter() - t0
    by_desc = dict(zip(descs, vecs))
    conn = index.store.conn()
    rows = conn.execute("SELECT id, description FROM files").fetchall()
    with conn:
        conn.executemany("INSERT OR REPLACE INTO text_vectors VALUES (?, ?, ?)",
                         ((r[0], emb.name, by_desc[r[1]].tobytes()) for r in rows))
        index.store.bump_generation(conn)
    t0 = time.perf_counter()
    ids, mat = index.semantic.vectors.text()
    load_s = time.perf_counter() - t0
    rng = random.Random(4)
    queries = [f"{rng.choice(ADJECTIVES)} {rng.choice(OBJECTS)} {rng.choice(ACTIONS)}" for _ in range(n_queries)]
    index.semantic_search(queries[0], 50)
    total, total_cpu, enc, matrix = [], [], [], []
    for q in queries:
        t0, c0 = time.perf_counter(), time.process_time()
        index.semantic_search(q, 50)
        total.append(time.perf_counter() - t0)
        total_cpu.append(time.process_time() - c0)
        t1 = time.perf_counter()
        qv = emb.encode([q])[0]
        t2 = time.perf_counter()
        top_k(ids, mat, qv, 50)
        t3 = time.perf_counter()
        enc.append(t2 - t1)
        matrix.append(t3 - t2)
    return {"rows": len(ids), "distinct_descriptions": len(descs),
            "embed_descriptions_per_s": len(descs) / encode_all_s, "matrix_load_s (first query)": load_s,
            "query_total": _summary(total, total_cpu), "query_encode": _summary(enc), "matrix_topk": _summary(matrix)}


def bench_similar(index: LibraryIndex, n_queries: int) -> dict:
    nrng = np.random.default_rng(5)
    times = []
    for _ in range(n_queries):
        v = nrng.standard_normal(96).astype(np.float32)
        t0 = time.perf_counter()
        index.similar_to_vector(v / np.linalg.norm(v), 20)
        times.append(time.perf_counter() - t0)
    return _summary(times)


def _summary(times: list[float], cpu: list[float] | None = None) -> dict:
    """Wall-clock percentiles, plus CPU-time ones (what the query costs without other load)."""
    ms = np.array(times) * 1000
    out = {"n": len(ms), "p50_ms": round(float(np.percentile(ms, 50)), 2),
           "p95_ms": round(float(np.percentile(ms, 95)), 2), "max_ms": round(float(ms.max()), 2)}
    if cpu is not None:
        cms = np.array(cpu) * 1000
        out |= {"cpu_p50_ms": round(float(np.percentile(cms, 50)), 2), "cpu_p95_ms": round(float(np.percentile(cms, 95)), 2)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--descriptions", type=int, default=3000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--workdir", type=Path, default=None, help="keep the generated files here")
    ap.add_argument("--torch-threads", type=int, default=None, help="torch.set_num_threads for the encoder")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="library_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"load average at start: {os.getloadavg()} on {os.cpu_count()} CPUs", flush=True)
    try:
        print("index rate:", bench_index_rate(work, args.files), flush=True)
        t0 = time.perf_counter()
        index, descs = build_big_index(work, args.entries, args.descriptions)
        print(f"built {len(index)}-entry index in {time.perf_counter() - t0:.1f} s", flush=True)
        print("fts:", bench_fts(index, args.queries), flush=True)
        print("semantic:", bench_semantic(index, descs, args.queries), flush=True)
        print("similar (cached audio vectors):", bench_similar(index, 50), flush=True)
        print(f"load average at end: {os.getloadavg()}", flush=True)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
