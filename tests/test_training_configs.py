"""The shipped training configs (configs/*.json) load, and each DiT config freezes a video encoder
that its video sync config actually trains (a mismatch would only surface on a lent GPU machine)."""
import json
from pathlib import Path

import pytest

from foley_studio.core.timebase import SAMPLE_RATE
from foley_studio.training.config import TrainConfig

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
PAIRS = [("demo2_video.json", "demo2_dit.json"), ("demo2_video_long.json", "demo2_dit.json"),
         ("gpu_video.json", "gpu_dit.json")]


@pytest.mark.parametrize("name", sorted(p.name for p in CONFIGS.glob("*.json")))
def test_every_config_loads_with_a_model(name):
    cfg = TrainConfig.load(CONFIGS / name)
    assert cfg.steps > 0
    assert cfg.model_config().sample_rate == SAMPLE_RATE


@pytest.mark.parametrize("video, dit", PAIRS)
def test_dit_config_reads_the_video_encoder_its_sync_run_trains(video, dit):
    trained = TrainConfig.load(CONFIGS / video).model_config().video
    frozen = TrainConfig.load(CONFIGS / dit).model_config().video
    assert trained == frozen
    assert json.loads((CONFIGS / dit).read_text()).get("freeze_video_encoder") is True
