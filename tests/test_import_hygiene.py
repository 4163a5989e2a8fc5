"""The core never imports Textual (one core, two faces), and `dllab --help` does not import torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


import tui_lab

ROOT = Path(tui_lab.__file__).parent
CORE = sorted(
    [p.stem for p in ROOT.glob("*.py") if p.stem not in ("__init__", "cli")]
    + [p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name not in ("ui", "commands", "web")]
)


def test_core_modules_do_not_import_a_face():
    """All core modules imported in one fresh process: not one of them pulls in Textual, Rich or typer."""
    code = (
        "import sys, importlib\n"
        f"for name in {CORE!r}: importlib.import_module('tui_lab.' + name)\n"
        "faces = ('textual', 'textual_plotext', 'typer', 'tui_lab.ui', 'tui_lab.commands', 'tui_lab.cli')\n"
        "bad = sorted(m for m in sys.modules if m in faces or m.startswith(tuple(f + '.' for f in faces)))\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(CORE) >= 15  # the glob found the core


def test_cli_help_does_not_import_torch():
    code = (
        "import sys; from tui_lab.cli import app; from typer.testing import CliRunner; "
        "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0, r.output; "
        "sys.exit(1 if 'torch' in sys.modules else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
