"""The shapes package's layering: each module imports only the ones before it, and none loads torch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import tui_lab.shapes

ORDER = ("results", "parsing", "demos", "resolve", "macs", "receptive_field", "mismatch", "tracing",
         "comparisons", "conv_handoff")
PACKAGE = Path(tui_lab.shapes.__file__).parent


def _imported_siblings(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tui_lab.shapes."):
            found.add(node.module.split(".")[2])
        elif isinstance(node, ast.ImportFrom) and node.module == "tui_lab.shapes":
            found.add("__init__")
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[2] for a in node.names if a.name.startswith("tui_lab.shapes.")}
    return found


def test_every_module_is_in_the_order():
    assert sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__") == sorted(ORDER)


def test_modules_import_only_those_before_them():
    for i, name in enumerate(ORDER):
        siblings = _imported_siblings(PACKAGE / f"{name}.py")
        assert siblings <= set(ORDER[:i]), (name, sorted(siblings - set(ORDER[:i])))


def test_importing_the_package_does_not_load_torch():
    code = ("import sys, tui_lab.shapes as s; assert s.DEMOS and callable(s.trace); "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
