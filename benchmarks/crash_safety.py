"""Crash safety, measured: kill -9 at random moments while saving, writing takes and scanning a library.

    python benchmarks/crash_safety.py [--kills 50] [--only save|takes|scan] [--seed 0] [--max-delay 1.5]

Each scenario starts a worker process that repeats one operation and records each completed one in
an acknowledgement file, kills it with SIGKILL after a random delay, then checks what is on disk:

- save:  a 10,000-clip project saved over and over (its name carries the version). After the kill
         the project opens, is a version at least as new as the last acknowledged save (and at most
         one newer), and the next save removes any half-written file the kill left.
- takes: a generation writing takes (a small random-weight model: the files, not the sound, are
         under test). Every take with a sidecar has its whole WAV (length and sha256 as recorded), no
         WAV lacks its sidecar, and the next write removes the staged halves.
- scan:  a library scan of 1,200 files (a third changed between kills). The database passes SQLite's
         and FTS5's integrity checks, no path is indexed twice (or both indexed and skipped), and a
         final scan indexes every file exactly once.

Prints one table row per scenario with the counts; exits 1 if any check failed.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SCAN_FILES = 1200


# ---------------------------------------------------------------------------------------------
# Workers (run in the killed process)
# ---------------------------------------------------------------------------------------------
def _ack(folder: Path, text: str) -> None:
    with open(folder / "acks.txt", "a", encoding="utf-8") as handle:
        handle.write(text + "\n")


def worker_save(folder: Path) -> None:
    from foley_studio.core import store
    from foley_studio.core.project import Clip, Project, Track

    tracks = [Track(id=f"t{t}", name=f"Foley {t + 1}", clips=[
        Clip(id=f"c{t}-{i}", source=str(folder / "media" / f"sfx_{i % 97}.wav"), start=i * 24_000, source_in=0,
             source_out=20_000, gain_db=-3.0, fade_in=480, fade_out=480, name=f"hit {i}") for i in range(500)])
        for t in range(20)]
    project = Project(tracks=tracks, name="v0")
    path = folder / "scene.fsproj"
    start = int(store.load_project(path).name[1:]) + 1 if path.exists() else 1
    print("ready", flush=True)
    for version in range(start, start + 10_000):
        project.name = f"v{version}"
        store.save_project(project, path)
        _ack(folder, str(version))


def worker_takes(folder: Path) -> None:
    import torch

    from foley_studio.engine.models import StaticModels
    from foley_studio.engine.pipeline import Pipeline
    from foley_studio.engine.request import GenerationRequest
    from foley_studio.model.config import TINY
    from foley_studio.model.foley import FoleyModel

    torch.set_num_threads(1)
    torch.manual_seed(0)
    pipeline = Pipeline(StaticModels(FoleyModel(TINY).eval(), "tiny"), takes_dir=folder / "takes", device="cpu")
    print("ready", flush=True)
    for run in range(10_000):
        seeds = tuple(range(run * 4, run * 4 + 4))
        request = GenerationRequest(region=(0, 2 * 48_000), seeds=seeds, steps=2, model="tiny")
        for result in pipeline.run(request):
            _ack(folder, result.take_id)


def worker_scan(folder: Path) -> None:
    from foley_studio.library.index import LibraryIndex

    index = LibraryIndex(folder / "lib.sqlite3")
    index.add_folder(folder / "sfx")
    print("ready", flush=True)
    report = index.scan(workers=1, embed_text=False)
    _ack(folder, f"scan {report.added} {report.updated} {report.removed}")


WORKERS = {"save": worker_save, "takes": worker_takes, "scan": worker_scan}


# ---------------------------------------------------------------------------------------------
# Checks (run in this process after each kill)
# ---------------------------------------------------------------------------------------------
@dataclass
class Tally:
    kills: int = 0
    ops_acknowledged: int = 0
    leftovers_after_kill: int = 0          # staged halves on disk right after a kill (expected, hidden)
    leftovers_after_restart: int = 0       # ... still there after the next write (must be 0)
    failures: list[str] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)

    def fail(self, text: str) -> None:
        self.failures.append(text)


def _acks(folder: Path) -> list[str]:
    path = folder / "acks.txt"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _staged(folder: Path) -> list[Path]:
    from foley_studio.core.safepaths import is_staging_name
    return [p for p in folder.iterdir() if is_staging_name(p.name)] if folder.is_dir() else []


def check_save(folder: Path, tally: Tally, acked_before: int) -> None:
    from foley_studio.core import store

    acks = [int(a) for a in _acks(folder)]
    path = folder / "scene.fsproj"
    tally.leftovers_after_kill += len(_staged(folder))
    if not path.exists():
        if acks:
            tally.fail(f"project file missing after {len(acks)} acknowledged saves")
        return
    try:
        project = store.load_project(path)
    except Exception as exc:   # noqa: BLE001 - any failure to open is what this measures
        tally.fail(f"project does not open: {type(exc).__name__}: {exc}")
        return
    version = int(project.name[1:])
    last = acks[-1] if acks else 0
    if not last <= version <= last + 1:
        tally.fail(f"opened version {version}, last acknowledged {last}")
    if sum(len(t.clips) for t in project.tracks) != 10_000:
        tally.fail("the opened project lost clips")
    tally.ops_acknowledged = len(acks)
    store.save_project(project, path)                       # the next save cleans up
    tally.leftovers_after_restart += len(_staged(folder))


def check_takes(folder: Path, tally: Tally, acked_before: int) -> None:
    import numpy as np
    import soundfile as sf

    from foley_studio.engine.takes import TakeStore, read_sidecar

    takes = folder / "takes"
    tally.leftovers_after_kill += len(_staged(takes))
    acks = _acks(folder)
    tally.ops_acknowledged = len(acks)
    if not takes.is_dir():
        return
    sidecars = {p.stem for p in takes.glob("*.json") if not p.name.startswith(".")}
    wavs = {p.stem for p in takes.glob("*.wav") if not p.name.startswith(".")}
    missing_acked = set(acks) - sidecars
    if missing_acked:
        tally.fail(f"{len(missing_acked)} acknowledged take(s) have no sidecar")
    orphans = wavs - sidecars
    tally.notes["wav without sidecar"] = tally.notes.get("wav without sidecar", 0) + len(orphans)
    for stem in sidecars - set(tally.notes.get("_checked", [])):
        sidecar = read_sidecar(takes / f"{stem}.json")
        wav = takes / f"{stem}.wav"
        if not wav.exists():
            tally.fail(f"take {stem} has a sidecar but no WAV")
            continue
        audio, rate = sf.read(wav, dtype="float32")
        digest = hashlib.sha256(np.ascontiguousarray(audio, dtype=np.float32).tobytes()).hexdigest()
        if rate != 48_000 or len(audio) != sidecar.samples or digest != sidecar.audio_sha256:
            tally.fail(f"take {stem} is incomplete or changed ({len(audio)} of {sidecar.samples} samples)")
    listed = set(TakeStore(takes).list_takes())
    if listed != sidecars & wavs:
        tally.fail("list_takes disagrees with the files on disk")
    TakeStore(takes)._make_folder()                          # what the next job does first: clean up
    tally.leftovers_after_restart += len(_staged(takes))


def check_scan(folder: Path, tally: Tally, acked_before: int) -> None:
    db = folder / "lib.sqlite3"
    if not db.exists():
        return
    tally.ops_acknowledged = len(_acks(folder))
    conn = sqlite3.connect(db)
    try:
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            tally.fail("SQLite integrity check failed")
        conn.execute("INSERT INTO files_fts(files_fts) VALUES ('integrity-check')")
        dupes = conn.execute("SELECT count(*) FROM (SELECT path FROM files GROUP BY path HAVING count(*) > 1)").fetchone()[0]
        both = conn.execute("SELECT count(*) FROM files JOIN skipped USING (path)").fetchone()[0]
        orphans = conn.execute("SELECT count(*) FROM audio_vectors WHERE file_id NOT IN (SELECT id FROM files)").fetchone()[0]
        if dupes or both or orphans:
            tally.fail(f"index has {dupes} duplicate paths, {both} both indexed and skipped, {orphans} orphan vectors")
        tally.notes["files indexed at kill (sum)"] = tally.notes.get("files indexed at kill (sum)", 0) + \
            conn.execute("SELECT count(*) FROM files").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        tally.fail(f"database unreadable after a kill: {exc}")
    finally:
        conn.close()


CHECKS = {"save": check_save, "takes": check_takes, "scan": check_scan}


# ---------------------------------------------------------------------------------------------
# Driving
# ---------------------------------------------------------------------------------------------
def _prepare(scenario: str, folder: Path, rng: random.Random) -> None:
    if scenario != "scan":
        return
    import numpy as np
    import soundfile as sf

    sfx = folder / "sfx"
    if not sfx.exists():
        sfx.mkdir(parents=True)
        for i in range(SCAN_FILES):
            sf.write(sfx / f"hit_{i:04d}.wav", np.zeros(24_000 + i, np.float32), 48_000, subtype="PCM_16")
        return
    for i in rng.sample(range(SCAN_FILES), SCAN_FILES // 3):     # changed files: the next scan has work
        noise = np.random.default_rng(rng.randrange(2**32)).normal(0, 0.1, 24_000 + i).astype(np.float32)
        sf.write(sfx / f"hit_{i:04d}.wav", noise, 48_000, subtype="PCM_16")


def run_scenario(scenario: str, kills: int, seed: int, max_delay: float) -> Tally:
    rng = random.Random(seed)
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix=f"crash-{scenario}-") as tmp:
        folder = Path(tmp)
        env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", FOLEY_STUDIO_HOME=str(folder / "home"))
        attempts = 0
        while tally.kills < kills and attempts < 3 * kills:    # a run that finished before its kill is retried
            attempts += 1
            _prepare(scenario, folder, rng)
            acked_before = len(_acks(folder))
            proc = subprocess.Popen([sys.executable, __file__, "--worker", scenario, "--dir", str(folder)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
            ready = proc.stdout.readline().strip()
            if ready != "ready":
                tally.fail(f"worker did not start: {proc.stderr.read()[-500:]}")
                proc.kill()
                break
            time.sleep(rng.uniform(0.0, max_delay))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                tally.kills += 1
            proc.wait()
            CHECKS[scenario](folder, tally, acked_before)
        if scenario == "scan":
            _final_scan(folder, tally)
    return tally


def _final_scan(folder: Path, tally: Tally) -> None:
    from foley_studio.library.index import LibraryIndex

    with LibraryIndex(folder / "lib.sqlite3") as index:
        index.scan(workers=1, embed_text=False)
        n = len(index)
    on_disk = len(list((folder / "sfx").glob("*.wav")))
    if n != on_disk:
        tally.fail(f"after a full scan the index holds {n} files, the folder {on_disk}")
    check_scan(folder, tally, 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--only", choices=sorted(WORKERS), default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-delay", type=float, default=1.0, help="longest wait before a kill, seconds")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        WORKERS[args.worker](args.dir)
        return 0
    scenarios = [args.only] if args.only else ["save", "takes", "scan"]
    print(f"{'scenario':<8} {'kills':>6} {'ops done':>9} {'staged left':>12} {'after restart':>14} {'failures':>9}  notes")
    failed = False
    for i, scenario in enumerate(scenarios):
        t0 = time.perf_counter()
        tally = run_scenario(scenario, args.kills, args.seed + i, args.max_delay)
        notes = ", ".join(f"{k}: {v}" for k, v in tally.notes.items() if not k.startswith("_"))
        print(f"{scenario:<8} {tally.kills:>6} {tally.ops_acknowledged:>9} {tally.leftovers_after_kill:>12} "
              f"{tally.leftovers_after_restart:>14} {len(tally.failures):>9}  {notes} ({time.perf_counter() - t0:.0f} s)",
              flush=True)
        for text in tally.failures[:10]:
            print(f"    FAIL: {text}")
        failed |= bool(tally.failures) or tally.leftovers_after_restart > 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
