"""The package's import graph, read from the source with `ast`: imports flow one way between the layers,
no module imports itself back through others, and the media, audio and Qt libraries stay in their layers.

The graph itself (function-local imports counted, `if TYPE_CHECKING:` left out) is `tests/import_graph.py`.
"""
from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from tests.import_graph import PACKAGE, ImportGraph

# Which layers each layer may import (besides itself and the package root, which holds only the version).
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "media": {"core"},
    "model": {"core"},                                   # pure torch: no media files, no jobs, no screens
    "engine": {"core", "media", "model"},
    "library": {"core", "media"},
    "session": {"core", "media", "engine", "library"},
    "ui": {"core", "media", "model", "engine", "library", "session"},
    "training": {"core", "media", "model"},
    "eval": {"core", "media", "model"},
    "cli": {"core", "media", "model", "engine", "library", "session", "ui", "training", "eval"},
    "__main__": {"cli"},
}

# Third-party libraries that belong to one layer: file and stream I/O in `media`, Qt in `ui`.
OWNERS: dict[str, set[str]] = {
    "av": {"media"}, "soundfile": {"media"}, "soxr": {"media"}, "opentimelineio": {"media"},
    "sounddevice": {"session", "ui"},                      # the playback engine, and the takes audition stream
    "PySide6": {"ui"}, "shiboken6": {"ui"}, "pyqtgraph": {"ui"},
}

# Known exceptions, each with the reason; delete an entry when its reason is gone.
EXEMPT_MODULES_FROM_OWNERS = {
    # The packaged app's self-test loads each bundled library directly to prove it is there.
    "foley_studio.ui.smoke",
}
EXEMPT_LIBRARIES_IN = {
    # training/ reads and writes its datasets with soundfile/PyAV/soxr itself; the training rewrite
    # moves that I/O to media/. Remove this entry with it.
    "training": {"av", "soundfile", "soxr"},
}


@pytest.fixture(scope="module")
def graph() -> ImportGraph:
    return ImportGraph(PACKAGE)


def test_no_module_imports_itself_back_through_others(graph):
    circles = graph.cycles()
    assert circles == [], "\n".join(graph.describe(g) for g in circles)


def test_imports_flow_one_way_between_layers(graph):
    assert set(graph.layer(m) for m in graph.paths) - {""} <= set(ALLOWED), "a new layer needs its row in ALLOWED"
    assert graph.layer_violations(ALLOWED) == []


def test_nothing_in_model_or_engine_imports_library_training_or_eval(graph):
    reached = {target for module, targets in graph.edges.items() if graph.layer(module) in ("model", "engine")
               for target in targets}
    assert {graph.layer(t) for t in reached} & {"library", "training", "eval", "session", "ui"} == set()


def test_io_audio_and_qt_libraries_stay_in_their_layers(graph):
    assert graph.library_violations(OWNERS, EXEMPT_MODULES_FROM_OWNERS, EXEMPT_LIBRARIES_IN) == []


def test_the_exemptions_are_still_needed(graph):
    """A stale exemption hides the next violation: each one must still excuse something."""
    assert all(module in graph.paths for module in EXEMPT_MODULES_FROM_OWNERS)
    for layer, libraries in EXEMPT_LIBRARIES_IN.items():
        used = {lib for m, libs in graph.libraries.items() if graph.layer(m) == layer for lib in libs}
        assert libraries <= used, f"{layer} no longer imports {sorted(libraries - used)}: drop the exemption"


# The use cases `session` owns; a view calling one of these is doing the session's work again.
SESSION_ONLY_CALLS = {"GenerationRequest", "JobQueue", "Pipeline", "mixdown", "export_all", "History", "QUndoStack",
                      "save_project", "write_recovery"}


def calls_in(path: Path, names: set[str]) -> list[str]:
    """`name(...)` and `obj.name(...)` calls of the given names, with their lines."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name in names:
                found.append(f"{path.name}:{node.lineno} calls {name}")
    return found


def test_no_view_builds_a_request_runs_a_job_loop_mixes_down_saves_or_keeps_an_undo_stack(graph):
    found = [c for m, p in graph.paths.items() if graph.layer(m) == "ui" for c in calls_in(p, SESSION_ONLY_CALLS)]
    assert found == []


# -- the checks themselves, on a made-up package with one of each fault -------------------------------
def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


def test_the_graph_finds_function_local_circles_upward_imports_and_misplaced_libraries(tmp_path):
    root = _write(tmp_path, {
        "__init__.py": "",
        "core/__init__.py": "",
        "core/a.py": "def f():\n    from pkg.core import b\n",           # a -> b, hidden in a function
        "core/b.py": "from . import a\n",                                  # b -> a: a circle
        "core/c.py": "from pkg.ui.view import thing\n",                    # core reaching up into ui
        "core/d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.ui import view\n",
        "media/__init__.py": "",
        "media/io.py": "import soundfile\nfrom ..core import c\n",
        "ui/__init__.py": "",
        "ui/view.py": "import av\nfrom PySide6.QtCore import QObject\nthing = 1\n",
    })
    found = ImportGraph(root)
    assert found.cycles() == [["pkg.core.a", "pkg.core.b"]]
    assert "pkg.core.a (line 2) -> pkg.core.b" in found.describe(["pkg.core.a", "pkg.core.b"])
    rules = {"core": set(), "media": {"core"}, "ui": {"core", "media"}}
    assert found.layer_violations(rules) == ["pkg.core.c (line 1) imports pkg.ui.view: core may not import ui"]
    owners = {"soundfile": {"media"}, "av": {"media"}, "PySide6": {"ui"}}
    assert found.library_violations(owners, set(), {}) == ["pkg.ui.view (line 1) imports av, which only media may use"]
    (root / "ui" / "panel.py").write_text("from x import mixdown\ndef f(doc):\n    return doc.History(mixdown(1))\n")
    assert calls_in(root / "ui" / "panel.py", SESSION_ONLY_CALLS) == ["panel.py:3 calls History", "panel.py:3 calls mixdown"]


if __name__ == "__main__":       # print the layer-to-layer picture
    g = ImportGraph(PACKAGE)
    pairs = defaultdict(set)
    for m, ts in g.edges.items():
        for t in ts:
            if g.layer(m) != g.layer(t):
                pairs[g.layer(m) or "foley_studio"].add(g.layer(t) or "foley_studio")
    for layer in sorted(pairs):
        print(f"{layer:10} -> {', '.join(sorted(pairs[layer]))}")
    sys.exit(0)
