"""The core never imports Textual (one core, two faces), and `dllab --help` does not import torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import tui_lab

ROOT = Path(tui_lab.__file__).parent
CORE = sorted(
    [p.stem for p in ROOT.glob("*.py") if p.stem not in ("__init__", "cli")]
    + [p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name not in ("ui", "commands")]
)


@pytest.mark.parametrize("module", CORE)
def test_core_module_does_not_import_textual(module):
    code = (
        "import sys, importlib; importlib.import_module('tui_lab.%s'); "
        "bad = [m for m in sys.modules if m == 'textual' or m.startswith(('textual.', 'tui_lab.ui'))]; "
        "print(bad); sys.exit(1 if bad else 0)" % module
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cli_help_does_not_import_torch():
    code = (
        "import sys; from tui_lab.cli import app; from typer.testing import CliRunner; "
        "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0, r.output; "
        "sys.exit(1 if 'torch' in sys.modules else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
