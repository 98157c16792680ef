"""One call from a model name and a manifest to printed tables, `EVALUATION.md` and `EVALUATION.json`."""
from __future__ import annotations

import json
import logging
import math
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from foley_studio.core.paths import cache_dir

from .classifier import (AudioClassifier, ClassifierConfig, ClassifierError, cache_key, load_classifier,
                         save_classifier, train_classifier)
from .evaluators import load_evaluator
from .data import caption_catalogue, load_eval_clips, load_training_audio, manifest_fingerprint
from .ood.generate import OOD_SPLIT
from .protocols import PROTOCOLS, ood_sync, run_protocols
from .report import ReportInfo, goals, report_markdown, table_markdown
from .runner import EvalSettings, Harness, Table

log = logging.getLogger(__name__)

CLASSIFIER_CACHE = "eval-classifier/v1"


@dataclass
class EvalRequest:
    """Everything `foley-studio eval` was asked for."""

    model: str
    data: Path
    out: Path
    split: str = "test"
    n: int | None = None
    protocols: list[str] = field(default_factory=lambda: list(PROTOCOLS))
    settings: EvalSettings = field(default_factory=EvalSettings)
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    retrain_classifier: bool = False
    report_name: str = "EVALUATION.md"
    embedder: tuple[str, Path] | None = None     # (evaluator name, local weights) for FD and continuity
    device: str = "cpu"
    command: str = ""
    ood: Path | None = None                      # an out-of-domain manifest: sync reported on it too


def get_classifier(manifest: Path, config: ClassifierConfig, *, retrain: bool = False,
                   progress: Callable[[str], None] = log.info) -> tuple[AudioClassifier, str]:
    """The evaluation classifier for this manifest's train split: from the cache, or trained now."""
    clips, ids = load_training_audio(manifest)
    key = cache_key(ids, config, manifest_fingerprint(manifest))
    folder = cache_dir(CLASSIFIER_CACHE) / key
    heads = {h: sorted({c.labels[h] for c in clips if h in c.labels}) for h in clips[0].labels}
    summary = (f"log-mel CNN, {config.embed_dim}-d embedding, trained on {len(clips)} train-split rows "
               f"({', '.join(f'{len(v)} {k} classes' for k, v in heads.items())}), {config.epochs} epochs")
    if not retrain:
        try:
            model = load_classifier(folder)
            progress(f"evaluation classifier from cache {folder}")
            return model, summary + f"; cached at {folder}"
        except ClassifierError:
            pass
    progress(f"training the evaluation classifier on {len(clips)} clips ({config.epochs} epochs)")
    t0 = time.perf_counter()
    model = train_classifier(clips, config=config,
                             progress=lambda e, n, loss: progress(f"classifier epoch {e}/{n}: loss {loss:.3f}"))
    wall = time.perf_counter() - t0
    save_classifier(model, folder, meta={"manifest": str(manifest), "train_rows": len(clips), "wall_s": wall})
    return model, summary + f" in {wall / 60:.1f} min; cached at {folder}"


def _load_model(name: str, device: str):
    from foley_studio.model import ModelRegistry
    registry = ModelRegistry()
    info = registry.find(name)
    model = registry.load(name, device=device)
    counts = model.parameter_counts()
    detail = (f"`{info.path}` (preset `{info.config_name}`, {sum(counts.values()) / 1e6:.2f} M parameters: "
              + ", ".join(f"{k} {v / 1e6:.2f} M" for k, v in counts.items()) + ")")
    return model, detail


def run_evaluation(req: EvalRequest, *, progress: Callable[[str], None] = log.info,
                   print_table: Callable[[str], None] | None = None) -> tuple[list[Table], Path]:
    """Run the protocols, write the report (`EVALUATION.md`) and its numbers (`EVALUATION.json`) into
    `req.out`; return the tables and the report's path."""
    unknown = [p for p in req.protocols if p not in PROTOCOLS]
    if unknown:
        raise ValueError(f"unknown protocol(s) {unknown}; known: {', '.join(PROTOCOLS)}")
    t_start = time.perf_counter()
    started = datetime.now(timezone.utc)
    model, model_detail = _load_model(req.model, req.device)
    clips = load_eval_clips(req.data, req.split, n=req.n)
    ood_clips = load_eval_clips(req.ood, OOD_SPLIT, n=req.n) if req.ood is not None else []
    classifier, classifier_summary = get_classifier(req.data, req.classifier, retrain=req.retrain_classifier,
                                                    progress=progress)
    embedder = load_evaluator(*req.embedder) if req.embedder else None
    if embedder is not None:
        classifier_summary += f"; FD and continuity use the {req.embedder[0]} evaluator ({req.embedder[1]})"
    harness = Harness(model, clips, classifier, req.settings, catalogue=caption_catalogue(req.data),
                      embedder=embedder, progress=progress)
    tables: list[Table] = []
    report = req.out / req.report_name
    steps: list[Callable[[], Table]] = [lambda name=name: run_protocols(harness, [name])[0] for name in req.protocols]
    if ood_clips:
        ood_harness = Harness(model, ood_clips, classifier, req.settings, progress=progress)
        steps.append(lambda: ood_sync(ood_harness))
    for run in steps:
        tables.append(run())
        if print_table:
            print_table(table_markdown(tables[-1]))
        # written after every table, so an interrupted run keeps what it measured
        _write(report, tables, req, harness, clips, model_detail, classifier_summary, started, t_start,
               ood_clips, len(steps))
    return tables, report


def _write(report: Path, tables: list[Table], req: EvalRequest, harness: Harness, clips: list, model_detail: str,
           classifier_summary: str, started: datetime, t_start: float, ood_clips: list, n_tables: int) -> None:
    notes = [f"{len(clips)} clips, {sum(c.is_impact_clip for c in clips)} of them impact-only; "
             f"{harness.generation_count} generations; seeds {req.settings.seed}..{req.settings.seed + len(clips) - 1} "
             "(one per clip, the same in every row)."]
    if ood_clips:
        notes.append(f"Out-of-domain split: `{req.ood}` (split `{OOD_SPLIT}`), {len(ood_clips)} clips, "
                     f"{sum(len(c.onset_times) for c in ood_clips)} impacts; seeds {req.settings.seed}.."
                     f"{req.settings.seed + len(ood_clips) - 1}; only sync is scored there.")
    if len(tables) < n_tables:
        names = [*req.protocols, *(["ood"] if ood_clips else [])]
        notes.insert(0, f"PARTIAL: {len(tables)} of {n_tables} tables measured so far "
                        f"({', '.join(names[len(tables):])} still to run).")
    info = ReportInfo(
        model=req.model, model_detail=model_detail, data=_data_summary(req.data), split=req.split,
        command=req.command or "foley-studio " + shlex.join(sys.argv[1:]),
        date=started.strftime("%Y-%m-%d %H:%M UTC"), hardware=_hardware(), wall_s=time.perf_counter() - t_start,
        classifier=classifier_summary, notes=notes)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(report_markdown(tables, info))
    report.with_suffix(".json").write_text(json.dumps(_results_json(tables, info, req), indent=1, default=_nan_null))


def _data_summary(manifest: Path) -> str:
    """The manifest path, and for a Foley world the command that regenerates it."""
    world = Path(manifest).parent / "world.json"
    if not world.exists():
        return f"`{manifest}`"
    try:
        info = json.loads(world.read_text())
        return (f"`{manifest}`: Foley world v{info['world_version']}, {info['n']} video clips + "
                f"{info['audio_only']} audio-only items, seed {info['seed']} (`foley-studio world generate --n "
                f"{info['n']} --audio-only {info['audio_only']} --seed {info['seed']} --out {Path(manifest).parent}`)")
    except (KeyError, ValueError):
        return f"`{manifest}`"


def _hardware() -> str:
    from .report import hardware_summary
    return hardware_summary()


def _nan_null(value):
    return None if isinstance(value, float) and math.isnan(value) else str(value)


def _clean(metrics: dict[str, float]) -> dict[str, float | None]:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in metrics.items()}


def _results_json(tables: list[Table], info: ReportInfo, req: EvalRequest) -> dict:
    return {
        "info": asdict(info),
        "settings": asdict(req.settings),
        "tables": [{"key": t.key, "title": t.title, "settings": t.settings,
                    "rows": [{"name": r.name, "note": r.note, "metrics": _clean(r.metrics)} for r in t.rows]}
                   for t in tables],
        "goals": [asdict(g) for g in goals(tables)],
    }
