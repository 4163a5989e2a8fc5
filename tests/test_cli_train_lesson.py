"""`dllab train --lesson ID [--preset NAME]`: a lesson's train preset, other flags overriding it."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tui_lab.cli import app

runner = CliRunner()

LESSON = """+++
id = "tiny"
title = "Tiny"
section = "S"
order = 1
tool = "train"
summary = "One line."
[target]
val_acc = 0.8
[preset]
model = "softmax"
dataset = "digits"
optimizer = "sgd"
lr = 0.5
epochs = 2
batch_size = 64
[presets.far-too-slow]
lr = 0.000001
epochs = 1
why = "A learning rate of 1e-6 barely moves the weights: accuracy stays near chance."
[presets.far-too-slow.expect]
val_acc_below = 0.3
+++
Body.
"""


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "01-tiny.md").write_text(LESSON)
    monkeypatch.setattr("tui_lab.lessons.lessons_dir", lambda: tmp_path / "lessons")


def train(*args):
    return runner.invoke(app, ["train", "--device", "cpu", *args])



def test_a_lesson_preset_runs_with_its_settings_and_reports_its_target(tiny):
    result = train("--lesson", "tiny", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "finished" and len(data["epochs"]) == 2
    assert data["lesson"] == {"id": "tiny", "preset": "default", "target": {"val_acc": 0.8}, "reached": True,
                              "problems": []}
    assert data["epochs"][-1]["val_acc"] >= 0.8


def test_flags_override_the_preset(tiny):
    result = train("--lesson", "tiny", "--epochs", "1", "--json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["epochs"]) == 1


def test_a_named_preset_and_its_expectation(tiny):
    result = train("--lesson", "tiny", "--preset", "far-too-slow", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["epochs"]) == 1 and data["lesson"]["reached"] is True
    assert data["lesson"]["target"] == {"val_acc_below": 0.3}


def test_the_table_output_says_whether_the_target_was_reached(tiny):
    result = train("--lesson", "tiny", "--epochs", "1", "--lr", "0.000001")
    assert result.exit_code == 0
    assert "lesson tiny (preset): target val_acc >= 0.8 missed: val_acc: val_acc is" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lesson", "nope"], "error: lesson: no lesson 'nope'"),
        (["--preset", "far-too-slow"], "error: preset: --preset names one of a lesson's presets"),
        (["--lesson", "tiny", "--preset", "nope"], "error: preset: tiny has no preset 'nope'; it has: default, far-too-slow"),
        (["--lesson", "tiny", "--epochs", "abc"], "error: epochs:"),
    ],
)
def test_bad_lesson_arguments_are_one_line_errors(tiny, args, message):
    result = train(*args)
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith(message), result.output


def test_a_lesson_whose_tool_is_not_train_is_refused():
    result = train("--lesson", "optimizers")
    assert result.exit_code == 2
    assert "error: lesson: optimizers opens the landscape tool, not train" in result.output
