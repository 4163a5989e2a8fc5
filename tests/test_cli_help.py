"""CLI help as a learner reads it: real value types (not `<str>`), brackets shown, honest labels."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from tui_lab.cli import app

runner = CliRunner()


def help_text(*command: str) -> str:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    return result.stdout


@pytest.mark.parametrize("command", ["train", "compare", "landscape", "conv", "pool", "transposed", "playground",
                                     "runs", "lessons"])
def test_no_option_is_labelled_str(command):
    options = [line for line in help_text(command).splitlines() if re.search(r"│\s+--", line)]
    assert options and not [line for line in options if "<str>" in line]


def test_numbers_say_so():
    text = help_text("train")
    for flag, kind in (("--epochs", "<int>"), ("--lr", "<float>"), ("--batch-size", "<int>"), ("--seed", "<int>"),
                       ("--weight-decay", "<float>"), ("--amp", "<off|bf16|fp16>")):
        line = next(line for line in text.splitlines() if f" {flag} " in line)
        assert kind in line, line


def test_brackets_in_help_are_shown_not_eaten_as_markup():
    assert "[kh][kw], [C][kh][kw] or [O][C][kh][kw]" in help_text("conv")
    assert "[C][O][kh][kw]" in help_text("transposed")
    assert "([H][W] or [C][H][W])" in help_text("conv")


def test_windows_are_called_padded_only_when_there_is_padding():
    plain = runner.invoke(app, ["conv", "--preset", "corr2d"]).stdout
    assert "window rows" in plain and "(padded)" not in plain
    padded = runner.invoke(app, ["conv", "--preset", "padding"]).stdout
    assert "window rows 0..1, cols 0..1 (padded)" in padded
