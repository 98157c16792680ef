"""The engine's contract with a model (`engine.models.GenerativeModel`) is kept by the real
`FoleyModel` and by the fake the engine tests run on: every member exists, and every argument the
engine passes is one each implementation accepts (by name, with the same kind)."""
from __future__ import annotations

import inspect

import pytest

from foley_studio.engine.models import GenerativeModel, ModelSizes
from foley_studio.model.config import TINY
from foley_studio.model.foley import FoleyModel
from tests.engine_fakes import FakeModel

_OBJECT_MEMBERS = set(dir(object)) | {"__protocol_attrs__", "_is_protocol", "_is_runtime_protocol",
                                      "__non_callable_proto_members__", "__abstractmethods__", "_abc_impl",
                                      "__parameters__", "__annotations__", "__orig_bases__", "__weakref__",
                                      "__dict__", "__module__", "__slots__", "__static_attributes__",
                                      "__firstlineno__", "__type_params__"}


def _members(protocol: type) -> dict[str, object]:
    return {name: value for name, value in vars(protocol).items() if name not in _OBJECT_MEMBERS}


def _problems(impl: object, protocol: type) -> list[str]:
    problems = []
    for name, wanted in _members(protocol).items():
        if not hasattr(impl, name):
            problems.append(f"{type(impl).__name__} has no {name}")
            continue
        if isinstance(wanted, property) or not callable(wanted):
            continue
        got = inspect.signature(getattr(impl, name))
        takes_any_keyword = any(p.kind is p.VAR_KEYWORD for p in got.parameters.values())
        takes_any_position = any(p.kind is p.VAR_POSITIONAL for p in got.parameters.values())
        for param in list(inspect.signature(wanted).parameters.values())[1:]:      # past self
            have = got.parameters.get(param.name)
            if param.kind is param.KEYWORD_ONLY:
                if have is None and not takes_any_keyword:
                    problems.append(f"{type(impl).__name__}.{name} does not take {param.name}=")
            elif have is None and not takes_any_position:
                problems.append(f"{type(impl).__name__}.{name} does not take {param.name}")
            if have is not None and param.default is not param.empty and have.default is have.empty:
                problems.append(f"{type(impl).__name__}.{name} requires {param.name}, the engine may leave it out")
    return problems


@pytest.mark.parametrize("make", [lambda: FoleyModel(TINY), lambda: FakeModel()], ids=["FoleyModel", "FakeModel"])
def test_model_and_fake_keep_the_engines_contract(make):
    model = make()
    assert _problems(model, GenerativeModel) == []
    assert _problems(model.config, ModelSizes) == []
    for size in ("hop", "window_latents", "latent_channels"):
        assert isinstance(getattr(model.config, size), int), size
    assert isinstance(model.video_fps, float) and isinstance(model.video_size, int)


def test_the_check_finds_a_broken_model():
    class Broken(FakeModel):
        def sample(self, cond, seeds, *, steps, callback=None):       # no sampler/cfg, steps required
            return super().sample(cond, seeds, steps=steps, callback=callback)
    problems = _problems(Broken(), GenerativeModel)
    assert "Broken.sample does not take sampler=" in problems and "Broken.sample does not take cfg=" in problems
    assert "Broken.sample requires steps, the engine may leave it out" in problems
