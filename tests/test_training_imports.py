"""foley_studio.training imports one way: no circle between its modules, not even through an import
inside a function (those hide a circle from Python, not from a reader), and the stages meet only in
the dispatcher (`trainer`) and in `export`."""
from __future__ import annotations

import pytest

from tests.import_graph import PACKAGE, ImportGraph

TRAINING = "foley_studio.training"


def mod(name: str) -> str:
    return f"{TRAINING}.{name}"


@pytest.fixture(scope="module")
def graph() -> ImportGraph:
    return ImportGraph(PACKAGE)


@pytest.fixture(scope="module")
def training(graph) -> dict[str, set[str]]:
    """Each training module -> the training modules it imports (anywhere in its source)."""
    modules = [m for m in graph.paths if m == TRAINING or m.startswith(TRAINING + ".")]
    return {m: {t for t in graph.edges.get(m, {}) if t in modules} for m in modules}


def test_training_has_no_import_circle(graph, training):
    assert {mod(m) for m in ("harness", "warm_start", "trainer", "export", "world.plan")} <= set(training)
    circles = [group for group in graph.cycles() if set(group) & set(training)]
    assert circles == [], "\n".join(graph.describe(group) for group in circles)


def test_stages_meet_only_in_the_dispatcher_and_export(training):
    stages = {mod("autoencoder_stage"), mod("video_sync"), mod("dit_stage")}
    assert stages | {mod("harness")} <= training[mod("trainer")]
    assert {mod("dit_stage"), mod("autoencoder_stage")} <= training[mod("export")]
    assert [m for m, deps in training.items() if mod("export") in deps or mod("trainer") in deps] == []
    assert training[mod("harness")] <= {mod("config"), mod("state")}
    assert training[mod("warm_start")] == set()
    assert all(mod("harness") in training[s] for s in stages)
    assert training[mod("autoencoder_stage")] & stages == set() and training[mod("video_sync")] & stages == set()


def test_a_circle_through_a_function_local_relative_import_is_found(tmp_path):
    root = tmp_path / "pkg"
    files = {"__init__.py": "", "a.py": "from .b import f\n",
             "b.py": "def f():\n    from .sub import leaf\n    return leaf\n",
             "sub/__init__.py": "", "sub/leaf.py": "def thing():\n    from ..a import f\n    return f\n"}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    found = ImportGraph(root)
    assert set(found.edges["pkg.sub.leaf"]) == {"pkg.a"} and set(found.edges["pkg.b"]) == {"pkg.sub.leaf"}
    assert found.cycles() == [["pkg.a", "pkg.b", "pkg.sub.leaf"]]
    (root / "sub" / "leaf.py").write_text("def thing():\n    return 1\n")
    assert ImportGraph(root).cycles() == []
