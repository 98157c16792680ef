"""The package's import graph, read from the source with `ast` (tests/test_package_imports.py and
tests/test_training_imports.py check it).

Every import counts, function-local ones too (they hide a circle at import time, not in the design);
only imports under `if TYPE_CHECKING:` are left out (they never run).
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "foley_studio"


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_only(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skipped.update(id(n) for n in ast.walk(child))
    return skipped


class ImportGraph:
    """Modules of one package, the package modules each imports (with a line), the libraries it imports."""

    def __init__(self, root: Path):
        self.root = root
        self.paths = {_module_name(p, root): p for p in sorted(root.rglob("*.py"))}
        self.edges: dict[str, dict[str, int]] = defaultdict(dict)
        self.libraries: dict[str, dict[str, int]] = defaultdict(dict)
        for module, path in self.paths.items():
            self._read(module, path)

    def _read(self, module: str, path: Path) -> None:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        skipped = _type_checking_only(tree)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                # `from pkg import name`: the submodule when `name` is one, else the module itself
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in self.paths else base for a in node.names]
            else:
                continue
            for target in targets:
                self._add(module, target, node.lineno)

    def _add(self, module: str, target: str, line: int) -> None:
        top = self.root.name
        if target != top and not target.startswith(top + "."):
            self.libraries[module].setdefault(target.split(".")[0], line)
            return
        while target not in self.paths:
            target = target.rpartition(".")[0]
        if target != module:
            self.edges[module].setdefault(target, line)

    def layer(self, module: str) -> str:
        parts = module.split(".")
        return parts[1] if len(parts) > 1 else ""

    def cycles(self) -> list[list[str]]:
        """Strongly connected groups of more than one module (Tarjan, iterative)."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        found: list[list[str]] = []
        for start in self.paths:
            if start in index:
                continue
            work = [(start, iter(self.edges.get(start, ())))]
            index[start] = low[start] = len(index)
            stack.append(start)
            on_stack.add(start)
            while work:
                node, children = work[-1]
                child = next(children, None)
                if child is not None:
                    if child not in index:
                        index[child] = low[child] = len(index)
                        stack.append(child)
                        on_stack.add(child)
                        work.append((child, iter(self.edges.get(child, ()))))
                    elif child in on_stack:
                        low[node] = min(low[node], index[child])
                    continue
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))
        return found

    def describe(self, group: list[str]) -> str:
        links = [f"{a} (line {line}) -> {b}" for a in group for b, line in self.edges[a].items() if b in group]
        return "; ".join(links)

    def layer_violations(self, allowed: dict[str, set[str]]) -> list[str]:
        problems = []
        for module, targets in self.edges.items():
            here = self.layer(module)
            for target, line in targets.items():
                there = self.layer(target)
                if there in ("", here) or here == "":
                    continue
                if there not in allowed.get(here, set()):
                    problems.append(f"{module} (line {line}) imports {target}: {here} may not import {there}")
        return problems

    def library_violations(self, owners: dict[str, set[str]], exempt_modules: set[str],
                           exempt_layers: dict[str, set[str]]) -> list[str]:
        problems = []
        for module, libraries in self.libraries.items():
            here = self.layer(module)
            for library, line in libraries.items():
                if library not in owners or here in owners[library] or module in exempt_modules:
                    continue
                if library in exempt_layers.get(here, set()):
                    continue
                problems.append(f"{module} (line {line}) imports {library}, which only "
                                f"{' and '.join(sorted(owners[library]))} may use")
        return problems
