"""The five protocols, each mirroring one of the paper's tables, on the held-out clips.

1. `v2a`       — Table 1: video + true class as text, with the ground truth, the autoencoder-
                 reconstruction oracle and a random-timing baseline beside it.
2. `text`      — Table 2: another class as the prompt, without / with the true class as negative
                 prompt, and the text-only (no video) oracle.
3. `extension` — Table 4: first 3 s given, 5 s generated, condition sets {V} ... {V,T,A,Vc}.
4. `quality`   — Table 5: quality tag high / low / none, and no text at all.
5. `sampler`   — DDIM-100 against DPM++ at 10 and 25 steps: speed at equal quality.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from .data import EvalClip, other_class_prompt
from .runner import Gen, Harness, Row, Table

log = logging.getLogger(__name__)

SYNC_COLS = ["onset_f1", "offset_median_ms", "av_offset_s"]


def v2a(h: Harness) -> Table:
    s = h.settings
    table = Table("v2a", "Video-to-audio with the true class as text (paper Table 1)",
                  f"video + true caption, no tag; {s.sampler.upper()}-{s.steps}, CFG {s.cfg}; 8 s clips",
                  ["acc", "acc_material", "acc_action", "fd_hq", *SYNC_COLS, "e8k"])
    table.rows.append(Row("Ground truth (clean audio)", h.score(h.true_audio("hq")),
                          "the true soundtrack: ceiling of the detector and classifier"))
    table.rows.append(Row("Oracle: autoencoder reconstruction", h.score(h.reconstruction()),
                          "decode(encode(true audio))"))
    table.rows.append(Row("Baseline: true audio, random timing", h.score(h.random_timing()),
                          "true audio circularly shifted by 1..7 s (seeded)"))
    gens = [h.generate(c, h.default_gen(prompt=c.caption)) for c in _each(h, "v2a")]
    table.rows.append(Row("Model: video + true class text", h.score(gens)))
    return table


def text_control(h: Harness) -> Table:
    s = h.settings
    table = Table("text", "Text control: another class as prompt (paper Table 2)",
                  f"prompt = caption of another material, same action; accuracy of the *prompted* class; "
                  f"{s.sampler.upper()}-{s.steps}, CFG {s.cfg}",
                  ["acc_material", "acc", "acc_action", *SYNC_COLS])
    prompts = [_other_prompt(h, c, i) for i, c in enumerate(h.clips)]
    targets = [labels for _, labels in prompts]
    variants = [
        ("Model: video + other prompt, no negative prompt", lambda c, p: h.default_gen(prompt=p)),
        ("Model: video + other prompt, true class as negative", lambda c, p: h.default_gen(prompt=p, negative=c.caption)),
        ("Oracle: text only (no video)", lambda c, p: h.default_gen(prompt=p, video=False)),
    ]
    for name, make in variants:
        outs = [h.generate(c, make(c, p)) for c, (p, _) in zip(_each(h, name), prompts)]
        table.rows.append(Row(name, h.score(outs, targets=targets)))
    return table


def extension(h: Harness) -> Table:
    s = h.settings
    table = Table("extension", f"Extension: first {s.given_s:g} s given, {s.generated_s:g} s generated (paper Table 4)",
                  "V = video of the generated span, T = true caption, A = the given audio (prepended latents), "
                  f"Vc = the given span's video; {s.sampler.upper()}-{s.steps}, CFG {s.cfg}; "
                  "continuity = cosine similarity of classifier embeddings, generated vs true continuation",
                  ["continuity", "acc", "fd_hq", *SYNC_COLS])
    window = (s.given_s, s.given_s + s.generated_s)
    table.rows.append(Row("Oracle: autoencoder reconstruction", h.score(h.reconstruction(window), continuation=True),
                          "of the true continuation"))
    sets = [("{V}", dict()), ("{V,T}", dict(text=True)), ("{V,A}", dict(audio=True)),
            ("{V,A,Vc}", dict(audio=True, vc=True)), ("{V,T,A,Vc}", dict(text=True, audio=True, vc=True))]
    for name, cond in sets:
        outs = [h.generate(c, h.default_gen(extend=True, prompt=c.caption if cond.get("text") else "",
                                            given_audio=cond.get("audio", False), given_video=cond.get("vc", False)))
                for c in _each(h, f"extension {name}")]
        table.rows.append(Row(f"Model: {name}", h.score(outs, continuation=True)))
    return table


def quality(h: Harness) -> Table:
    s = h.settings
    table = Table("quality", "Quality tag (paper Table 5)",
                  f"video + true caption with the tag; {_tag_negative(h)}; "
                  f"{s.sampler.upper()}-{s.steps}, CFG {s.cfg}; e8k/e16k = % of energy above 8/16 kHz; "
                  "FD-HQ / FD-LQ = Fréchet distance to the clean / degraded true audio",
                  ["e8k", "e16k", "rolloff99_khz", "fd_hq", "fd_lq", "acc", "av_offset_s"])
    table.rows.append(Row("Ground truth: clean (high quality)", h.score(h.true_audio("hq"))))
    if all(c.audio_lq is not None for c in h.clips):
        table.rows.append(Row("Ground truth: degraded (low quality)", h.score(h.true_audio("lq"))))
    variants = [("Model: tag 'high quality'", dict(quality="high")),
                ("Model: tag 'low quality'", dict(quality="low")),
                ("Model: no tag", dict()),
                ("Model: no text (no caption, no tag)", dict(text=False))]
    for name, opts in variants:
        outs = [h.generate(c, h.default_gen(prompt=c.caption if opts.get("text", True) else "",
                                            quality=opts.get("quality")))
                for c in _each(h, name)]
        table.rows.append(Row(name, h.score(outs)))
    return table


def _tag_negative(h: Harness) -> str:
    policy = h.model.config.guidance.quality_negative
    return {"opposite": "'high' uses 'low quality' as negative and vice versa",
            "none": "the negative branch carries no tag",
            "same": "the negative branch carries the same tag (calibrated model)"}[policy]


def sampler(h: Harness) -> Table:
    s = h.settings
    table = Table("sampler", "Sampler: DDIM (paper) against DPM-Solver++ (ours)",
                  f"video + true caption, no tag, CFG {s.cfg}; wall = seconds per 8 s take on this machine "
                  "(conditions + sampling + decoding, one take at a time)",
                  ["steps", "wall_s", "acc", "fd_hq", *SYNC_COLS, "e8k"])
    for name, sampler_name, steps in [(f"DDIM-{s.ddim_steps}", "ddim", s.ddim_steps),
                                      (f"DPM++-{s.fast_steps}", "dpmpp", s.fast_steps),
                                      (f"DPM++-{s.steps}", "dpmpp", s.steps)]:
        outs = [h.generate(c, Gen(prompt=c.caption, sampler=sampler_name, steps=steps)) for c in _each(h, name)]
        metrics = h.score(outs)
        metrics["steps"] = float(steps)
        table.rows.append(Row(name, metrics))
    return table


def ood_sync(h: Harness) -> Table:
    """Sync on out-of-domain clips (`foley-studio eval ood-generate`): the v2a sync columns, with no
    prompt and with the clip's own caption as a fitting prompt. Only sync is scored: the evaluation
    classifier knows the world's classes, not these clips' sounds."""
    s = h.settings
    table = Table("ood", "Out-of-domain split: sync",
                  f"clips rendered apart from the training world (other scenes, framings, frame rates and looks); "
                  f"{s.sampler.upper()}-{s.steps}, CFG {s.cfg}; reference audio synthesised with the clips",
                  ["onset_f1", "onset_p", "onset_r", "offset_median_ms", "av_offset_s"])
    table.rows.append(Row("Ground truth (reference audio)", h.score_sync(h.true_audio("hq")),
                          "ceiling of the onset detector on these sounds"))
    table.rows.append(Row("Oracle: autoencoder reconstruction", h.score_sync(h.reconstruction())))
    table.rows.append(Row("Baseline: true audio, random timing", h.score_sync(h.random_timing())))
    for name, prompt in (("Model: video, no prompt", lambda c: ""), ("Model: video + fitting prompt", lambda c: c.caption)):
        outs = [h.generate(c, h.default_gen(prompt=prompt(c))) for c in _each(h, f"ood {name}")]
        table.rows.append(Row(name, h.score_sync(outs), "prompt = the clip's caption" if "fitting" in name else ""))
    return table


PROTOCOLS: dict[str, Callable[[Harness], Table]] = {
    "v2a": v2a, "text": text_control, "extension": extension, "quality": quality, "sampler": sampler,
}


def run_protocols(h: Harness, names: list[str]) -> list[Table]:
    unknown = [n for n in names if n not in PROTOCOLS]
    if unknown:
        raise ValueError(f"unknown protocol(s) {unknown}; known: {', '.join(PROTOCOLS)}")
    tables = []
    for name in names:
        log.info("protocol %s", name)
        tables.append(PROTOCOLS[name](h))
    return tables


# ---- helpers ------------------------------------------------------------------------------------

def _each(h: Harness, label: str) -> Iterator[EvalClip]:
    """The clips, reporting progress once per clip as the caller generates for it."""
    n = len(h.clips)
    for i, clip in enumerate(h.clips):
        h.progress(f"{label}: clip {i + 1}/{n}")
        yield clip


def _other_prompt(h: Harness, clip: EvalClip, index: int) -> tuple[str, dict[str, str]]:
    found = other_class_prompt(clip, h.catalogue, index)
    if found is None:
        raise ValueError("the evaluation data has a single material: text control needs another class to prompt")
    return found
