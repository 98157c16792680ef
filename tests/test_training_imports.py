"""foley_studio.training imports one way: no circle between its modules, not even through an import
inside a function (those hide a circle from Python, not from a reader)."""
from __future__ import annotations

import ast
from pathlib import Path

import foley_studio.training

TRAINING_DIR = Path(foley_studio.training.__file__).parent


def module_files(package_dir: Path, package: str) -> dict[str, Path]:
    """Dotted name -> file of every module below `package_dir` (a package is its __init__.py)."""
    out = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join([package, *parts])] = path
    return out


def imported_names(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every dotted name an import statement anywhere in `tree` names, relative ones made absolute;
    `from a import b` names both `a` and `a.b` (b may be a submodule)."""
    here = module.split(".") if is_package else module.split(".")[:-1]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here[:len(here) - node.level + 1] if node.level else []
            source = ".".join(base + ([node.module] if node.module else []))
            names.add(source)
            names.update(f"{source}.{alias.name}" for alias in node.names)
    return names


def import_graph(package_dir: Path, package: str) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports."""
    files = module_files(package_dir, package)
    graph = {}
    for module, path in files.items():
        names = imported_names(ast.parse(path.read_text(), str(path)), module, path.name == "__init__.py")
        graph[module] = {n for n in names if n in files and n != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One path round each circle found by a depth-first walk (empty: the graph has none)."""
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_training_has_no_import_circle():
    graph = import_graph(TRAINING_DIR, "foley_studio.training")
    assert len(graph) >= 15, sorted(graph)                     # every module was read, world/ included
    assert "foley_studio.training.world.plan" in graph
    assert cycles(graph) == [], " ; ".join(" -> ".join(c) for c in cycles(graph))


def test_stages_meet_only_in_the_dispatcher_and_export():
    graph = import_graph(TRAINING_DIR, "foley_studio.training")
    pkg = "foley_studio.training."
    assert {pkg + m for m in ("autoencoder_stage", "video_sync", "dit_stage", "harness")} <= graph[pkg + "trainer"]
    assert {pkg + "dit_stage", pkg + "autoencoder_stage"} <= graph[pkg + "export"]
    assert [m for m, deps in graph.items() if pkg + "export" in deps] == []
    assert [m for m, deps in graph.items() if pkg + "trainer" in deps] == []
    assert pkg + "harness" in graph[pkg + "video_sync"]
    assert graph[pkg + "harness"] <= {pkg + "config", pkg + "state"}


def test_a_circle_through_a_function_local_import_is_found(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from .leaf import thing\n")
    (pkg / "a.py").write_text("from .b import f\n")
    (pkg / "b.py").write_text("def f():\n    from .sub import leaf\n    return leaf\n")
    (pkg / "sub" / "leaf.py").write_text("def thing():\n    from ..a import f\n    return f\n")
    graph = import_graph(pkg, "pkg")
    assert graph["pkg.sub.leaf"] == {"pkg.a"}
    assert graph["pkg.b"] == {"pkg.sub", "pkg.sub.leaf"}
    found = cycles(graph)
    assert found and found[0][0] == found[0][-1]
    assert {"pkg.a", "pkg.b", "pkg.sub.leaf"} <= set(found[0])
    (pkg / "sub" / "leaf.py").write_text("def thing():\n    return 1\n")
    assert cycles(import_graph(pkg, "pkg")) == []
