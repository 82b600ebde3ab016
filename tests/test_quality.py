"""Code-quality gate: the tree lints clean, matcher/ + server/ type-check strictly, and
their modules import each other as a tree of layers.

STYLE.md asks for ruff and strict mypy; running them here makes CI hold the line
instead of a reviewer's memory. Skipped (with the reason) where the tools are missing.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing() -> None:
    if shutil.which("ruff") is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    result = _run(["ruff", "check", "."])
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_on_matcher_and_server() -> None:
    pytest.importorskip("mypy", reason="mypy is not installed (pip install -e '.[test]')")
    result = _run([sys.executable, "-m", "mypy", "matcher", "server"])
    assert result.returncode == 0, result.stdout + result.stderr


def _imports(package: str) -> dict[str, set[str]]:
    """module → the modules of ``package`` it imports anywhere (inside functions and
    TYPE_CHECKING blocks too: a cycle hidden in a function is still a cycle)."""
    root = ROOT / package
    graph: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root).with_suffix("").parts)
        here = parts[:-1]
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = here[:len(here) - node.level + 1]
            elif (node.module or "").split(".")[0] == package:
                base = []
                node.module = (node.module or "").removeprefix(package).lstrip(".")
            else:
                continue
            module = [*base, *filter(None, (node.module or "").split("."))]
            names = {".".join([*module, alias.name]) for alias in node.names}
            if node.module:  # from .x import y: x, or the module x.y
                deps.add(".".join(module))
                deps.update(names)
            else:  # from . import _ast: the module _ast only
                deps.update(names)
        graph[name] = deps
    return {m: {d for d in deps if d in graph} - {m} for m, deps in graph.items()}


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


@pytest.mark.parametrize("package", ["matcher", "server"])
def test_modules_import_each_other_as_a_tree_of_layers(package: str) -> None:
    graph = _imports(package)
    assert len(graph) > 10  # the walk found the package
    cycles = sorted((a, b) for a, deps in graph.items() for b in deps
                    if a in _reachable(graph, b))
    assert not cycles, f"import cycles in {package}/ (a imports b, b reaches a): {cycles}"
