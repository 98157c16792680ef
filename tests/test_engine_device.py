"""CPU inference threads: FOLEY_STUDIO_THREADS parsing, the physical-core cap, and where it is applied."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from foley_studio.core.errors import FoleyError
from foley_studio.engine import device as device_mod
from foley_studio.engine.device import THREADS_ENV, physical_cores, set_inference_threads, thread_cap_from_env
from foley_studio.engine.models import InstalledModels
from foley_studio.model.checkpoint import ModelRegistry, save_pretrained
from foley_studio.model.config import TINY
from foley_studio.model.foley import FoleyModel


@pytest.fixture(autouse=True)
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("raw, expected", [("", None), ("  ", None), ("3", 3), (" 12 ", 12), ("1", 1)])
def test_thread_cap_parses_positive_whole_numbers(raw, expected):
    assert thread_cap_from_env({THREADS_ENV: raw}) == expected
    assert thread_cap_from_env({}) is None


@pytest.mark.parametrize("raw", ["0", "-2", "four", "2.5", "auto"])
def test_bad_thread_cap_names_the_variable_and_the_fix(raw):
    with pytest.raises(FoleyError) as info:
        thread_cap_from_env({THREADS_ENV: raw})
    message = str(info.value)
    assert THREADS_ENV in message and repr(raw) in message and "unset it" in message


def test_physical_cores_is_at_least_one_and_at_most_the_cpus_we_may_use():
    import os
    allowed = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert 1 <= physical_cores() <= allowed


def test_hyperthread_siblings_count_once_and_a_cgroup_quota_caps(tmp_path, monkeypatch):
    # four logical CPUs: two cores with two hyper-threads each
    for cpu, core in enumerate([0, 0, 1, 1]):
        topo = tmp_path / "cpu" / f"cpu{cpu}" / "topology"
        topo.mkdir(parents=True)
        (topo / "physical_package_id").write_text("0\n")
        (topo / "core_id").write_text(f"{core}\n")
    monkeypatch.setattr(device_mod, "_SYS_CPU", tmp_path / "cpu")
    monkeypatch.setattr(device_mod.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(device_mod, "_CGROUP_CPU_MAX", tmp_path / "missing")
    assert physical_cores() == 2
    quota = tmp_path / "cpu.max"
    quota.write_text("150000 100000\n")           # 1.5 CPUs -> rounds up to 2
    monkeypatch.setattr(device_mod, "_CGROUP_CPU_MAX", quota)
    monkeypatch.setattr(device_mod.os, "sched_getaffinity", lambda pid: {0, 2}, raising=False)
    assert physical_cores() == 2
    quota.write_text("50000 100000\n")            # half a CPU -> one thread
    assert physical_cores() == 1
    quota.write_text("max 100000\n")
    assert physical_cores() == 2


def test_threads_are_capped_by_cores_and_by_the_variable(monkeypatch):
    monkeypatch.setattr(device_mod, "physical_cores", lambda: 3)
    torch.set_num_threads(1)
    assert set_inference_threads({THREADS_ENV: "2"}) == 2 and torch.get_num_threads() == 2   # explicit cap wins
    assert set_inference_threads({THREADS_ENV: "64"}) == 3 and torch.get_num_threads() == 3  # never past the cores
    assert set_inference_threads({THREADS_ENV: "1"}) == 1 and torch.get_num_threads() == 1
    torch.set_num_threads(2)
    assert set_inference_threads({}) == 2 and torch.get_num_threads() == 2     # unset: a lower setting stands


def test_loading_a_model_for_the_cpu_applies_the_cap(tmp_path, monkeypatch):
    save_pretrained(FoleyModel(dataclasses.replace(TINY, window_seconds=1.0)), tmp_path / "tiny1s",
                    card={"note": "untrained, tests only"})
    models = InstalledModels(ModelRegistry(roots=[("user", tmp_path)]))
    monkeypatch.setattr(device_mod, "physical_cores", lambda: 2)
    monkeypatch.setenv(THREADS_ENV, "1")
    torch.set_num_threads(2)
    models.get("tiny1s", torch.device("cpu"))
    assert torch.get_num_threads() == 1
    monkeypatch.setenv(THREADS_ENV, "lots")
    with pytest.raises(FoleyError, match=THREADS_ENV):
        InstalledModels(ModelRegistry(roots=[("user", tmp_path)])).get("tiny1s", torch.device("cpu"))
