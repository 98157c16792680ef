"""Tables as text and the markdown report (tables, command, date, hardware, goals), numbers as measured."""
from __future__ import annotations

import math
import os
import platform
from dataclasses import dataclass, field

import torch

from .runner import Table

# metric key -> (column header, format); arrows say which way is better
COLUMNS: dict[str, tuple[str, str]] = {
    "acc": ("Acc % ↑", "{:.1f}"),
    "acc_material": ("Acc material %", "{:.1f}"),
    "acc_action": ("Acc action %", "{:.1f}"),
    "fd_hq": ("FD-HQ ↓", "{:.2f}"),
    "fd_lq": ("FD-LQ", "{:.2f}"),
    "onset_f1": ("Onset F1 % ↑", "{:.1f}"),
    "onset_p": ("Onset P %", "{:.1f}"),
    "onset_r": ("Onset R %", "{:.1f}"),
    "offset_median_ms": ("|Δt| median ms ↓", "{:.1f}"),
    "offset_mean_ms": ("|Δt| mean ms ↓", "{:.1f}"),
    "av_offset_s": ("AV-offset s ↓", "{:.3f}"),
    "e8k": (">8 kHz %", "{:.2f}"),
    "e16k": (">16 kHz %", "{:.3f}"),
    "rolloff99_khz": ("Roll-off 99 % kHz", "{:.1f}"),
    "continuity": ("Continuity ↑", "{:.3f}"),
    "wall_s": ("Wall s/take ↓", "{:.2f}"),
    "steps": ("Steps", "{:.0f}"),
}

DEFINITIONS = """\
- **Acc** — the evaluation classifier (a log-mel CNN trained only on the world's train split, clean and degraded
  copies) names the target class (material *and* action; separate columns per label). Target = the true class,
  except in the text-control table, where it is the *prompted* class (the paper's CLAP accuracy). Its accuracy
  on the true audio (first row of the video-to-audio table) is the ceiling: "drop" and "hit" use the same impact
  recordings and differ only in rhythm, which a time-pooled classifier hears poorly, so the action (and joint)
  accuracy is capped well below 100 %; the material is what a prompt controls.
- **FD-HQ / FD-LQ** — Fréchet distance between Gaussians fitted to classifier embeddings of the outputs and of the
  true clean (HQ) or degraded (LQ) audio of the same clips and windows (FAD-like; biased upwards for small n,
  compare rows of one table only).
- **Onset F1** — onsets detected (log-spectral flux, 1 ms frames) against the true impact times, matched one-to-one
  within ±50 ms, pooled over the clips whose events are all impacts (drop / hit; rolling and scraping are
  textures without well-defined onsets). **|Δt|** — for each true impact, the distance to the nearest detected onset.
- **AV-offset** — the lag in ±2 s that best aligns the onset envelope with the true event train (cross-
  correlation), absolute, averaged over impact clips: the analogue of the paper's AV-Sync seconds.
- **>8 kHz / >16 kHz** — share of the energy above 8 / 16 kHz; **roll-off 99 %** — the frequency below which
  99 % of the energy lies (the effective bandwidth).
- **Continuity** — cosine similarity of classifier embeddings of the generated and the true continuation.
- **±** — standard error of the mean over clips (AV-offset, continuity): with a handful of clips, differences
  smaller than about twice it are noise.
"""


def _fmt(key: str, value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return COLUMNS.get(key, (key, "{:.3g}"))[1].format(value)


def _cell(key: str, metrics: dict[str, float]) -> str:
    """The value, with ± its standard error over clips where the runner measured one."""
    text = _fmt(key, metrics.get(key))
    se = metrics.get(f"{key}_se")
    return text if text == "–" or se is None or math.isnan(se) else f"{text} ± {_fmt(key, se)}"


def table_markdown(table: Table) -> str:
    headers = ["Row", *[COLUMNS.get(c, (c, ""))[0] for c in table.columns]]
    lines = [f"### {table.title}", "", f"Settings: {table.settings}.", "",
             "| " + " | ".join(headers) + " |", "|" + "|".join(["---"] + ["---:"] * len(table.columns)) + "|"]
    for row in table.rows:
        cells = [row.name + (f" <sub>({row.note})</sub>" if row.note else "")]
        cells += [_cell(c, row.metrics) for c in table.columns]
        lines.append("| " + " | ".join(cells) + " |")
    n = table.rows[0].metrics if table.rows else {}
    lines += ["", f"n = {int(n.get('n', 0))} clips; sync columns over {int(n.get('sync_clips', 0))} impact clips."]
    return "\n".join(lines)


def hardware_summary() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        if names:
            cpu = names[0]
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (f"{cpu}, {os.cpu_count()} logical CPUs visible, torch {torch.__version__} with "
            f"{torch.get_num_threads()} intra-op thread(s), {gpu}; {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


@dataclass
class Goal:
    text: str
    measured: str
    met: bool | None      # None: not measurable from these tables


@dataclass
class ReportInfo:
    """What the report says around the tables."""

    model: str
    model_detail: str
    data: str
    split: str
    command: str
    date: str
    hardware: str
    wall_s: float
    classifier: str
    notes: list[str] = field(default_factory=list)


def _row(tables: dict[str, Table], key: str, prefix: str) -> dict[str, float] | None:
    table = tables.get(key)
    if not table:
        return None
    return next((r.metrics for r in table.rows if r.name.startswith(prefix)), None)


def _nan(x: float | None) -> bool:
    return x is None or math.isnan(x)


def goals(tables: list[Table]) -> list[Goal]:
    """The issue's targets, checked against the measured rows (None when a table is missing)."""
    by_key = {t.key: t for t in tables}
    out: list[Goal] = []
    model, oracle = _row(by_key, "v2a", "Model"), _row(by_key, "v2a", "Oracle")
    if model and oracle:
        parts, met = [], True
        for key, unit, label in (("av_offset_s", "s", "AV-offset"), ("offset_median_ms", "ms", "median |Δt|")):
            m, o = model.get(key), oracle.get(key)
            if _nan(m) or _nan(o):
                parts.append(f"{label}: model {_fmt(key, m)} vs oracle {_fmt(key, o)} (no onsets detected)")
                met = False
                continue
            ratio = m / o if o > 0 else math.inf
            parts.append(f"{label}: model {_fmt(key, m)} {unit} vs oracle {_fmt(key, o)} {unit} (×{ratio:.2f})")
            met = met and m <= 1.3 * o
        out.append(Goal("sync error ≤ 1.3 × the reconstruction oracle", "; ".join(parts), met))
    else:
        out.append(Goal("sync error ≤ 1.3 × the reconstruction oracle", "v2a table not run", None))
    # the prompt changes the material (the action stays, so the picture still fits): the prompted
    # material is what text control must win; joint accuracy is capped by drop/hit, which share sounds
    negp = _row(by_key, "text", "Model: video + other prompt, true class")
    out.append(Goal("control accuracy ≥ 90 % with negative prompt (prompted material)",
                    f"material {_fmt('acc', negp.get('acc_material'))} %, material+action {_fmt('acc', negp.get('acc'))} %"
                    if negp else "text table not run",
                    None if not negp else (not _nan(negp.get("acc_material")) and negp["acc_material"] >= 90.0)))
    ext = {name: _row(by_key, "extension", f"Model: {name}") for name in
           ("{V}", "{V,T}", "{V,A}", "{V,A,Vc}", "{V,T,A,Vc}")}
    if all(ext.values()):
        c = {k: v["continuity"] for k, v in ext.items()}
        chains = [("{V}", "{V,T}", "{V,T,A,Vc}"), ("{V}", "{V,A}", "{V,A,Vc}", "{V,T,A,Vc}")]
        rising = all(c[a] < c[b] for chain in chains for a, b in zip(chain, chain[1:]))
        out.append(Goal("extension similarity rises with each added condition",
                        ", ".join(f"{k} {v:.3f}" for k, v in c.items()), rising))
    else:
        out.append(Goal("extension similarity rises with each added condition", "extension table not run", None))
    high, low = _row(by_key, "quality", "Model: tag 'high"), _row(by_key, "quality", "Model: tag 'low")
    if high and low and not _nan(high.get("e8k")) and not _nan(low.get("e8k")):
        ratio = high["e8k"] / low["e8k"] if low["e8k"] > 0 else math.inf
        shown = f"×{ratio:.2f}" if ratio < 100 else "more than ×100"
        out.append(Goal("'high quality' ≥ 2 × the >8 kHz energy of 'low quality'",
                        f"{high['e8k']:.2f} % vs {low['e8k']:.4f} % ({shown})", ratio >= 2.0))
    else:
        out.append(Goal("'high quality' ≥ 2 × the >8 kHz energy of 'low quality'", "quality table not run", None))
    return out


def report_markdown(tables: list[Table], info: ReportInfo) -> str:
    lines = [f"# Evaluation of model `{info.model}`", "",
             "Measured on the procedural Foley world's held-out split with exact ground truth (see "
             "ARCHITECTURE.md, 'Evaluation without unavailable evaluators'). Numbers are as measured, good or bad.",
             "",
             f"- Date: {info.date}",
             f"- Command: `{info.command}`",
             f"- Model: {info.model_detail}",
             f"- Data: {info.data} (split `{info.split}`)",
             f"- Evaluation classifier: {info.classifier}",
             f"- Hardware: {info.hardware}",
             f"- Wall time of the whole evaluation: {info.wall_s / 60:.1f} min", ""]
    for table in tables:
        lines += [table_markdown(table), ""]
    lines += ["## Where the model stands against the goals", "",
              "| Goal | Measured | Met |", "|---|---|---|"]
    for g in goals(tables):
        lines.append(f"| {g.text} | {g.measured} | {'–' if g.met is None else ('yes' if g.met else 'no')} |")
    lines += [""]
    if info.notes:
        lines += ["## Notes", "", *[f"- {n}" for n in info.notes], ""]
    lines += ["## Metric definitions", "", DEFINITIONS]
    return "\n".join(lines)
