"""The package's import graph (every import, function-level ones included): no cycles, and the
import-linter contract names every core module (a new core module cannot slip past it)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
FACES = {"tui_lab.ui", "tui_lab.commands", "tui_lab.cli", "tui_lab.web"}


def _graph():
    return grimp.build_graph("tui_lab")


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next((c for c in children if c.startswith("tui_lab")), None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    class Fake:
        modules = {"tui_lab.a", "tui_lab.b", "tui_lab.c"}

        def find_modules_directly_imported_by(self, m):
            return {"tui_lab.a": {"tui_lab.b"}, "tui_lab.b": {"tui_lab.a"}, "tui_lab.c": {"tui_lab.a"}}[m]

    assert _cycles(Fake()) == [["tui_lab.a", "tui_lab.b"]]


def test_the_core_contract_lists_every_core_module():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "forbidden")
    top_level = {".".join(m.split(".")[:2]) for m in _graph().modules if m.count(".") >= 1}
    core = top_level - FACES
    assert set(contract["source_modules"]) == core
