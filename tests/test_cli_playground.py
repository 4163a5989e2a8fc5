"""`dllab playground`: the map and numbers, the linear collapse, bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tui_lab.cli import app

runner = CliRunner()


def test_relu_net_solves_xor_and_the_map_is_printed():
    r = runner.invoke(app, ["playground", "--dataset", "xor", "--steps", "200", "--width", "30", "--height", "10"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert sum(1 for line in lines if len(line) == 30) == 10
    assert "test acc" in r.stdout and "test loss" in r.stdout


def test_json_reports_the_collapse_of_a_linear_net():
    r = runner.invoke(app, ["playground", "--dataset", "xor", "--activation", "none", "--steps", "100", "--json"])
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert data["linear"] is True and data["collapse"]["max_error"] < 1e-5
    assert data["accuracy"] < 0.75  # a straight line cannot split xor
    assert data["loss"] < data["initial_loss"] + 1e-6


@pytest.mark.parametrize("args, field", [(["--dataset", "mnist"], "dataset"), (["--steps", "x"], "steps"),
                                         (["--hidden", "4,a"], "hidden"), (["--lr", "-1"], "lr"),
                                         (["--activation", "gelu"], "activation"), (["--width", "2"], "width")])
def test_bad_input_exits_2_naming_the_field(args, field):
    r = runner.invoke(app, ["playground", *args])
    assert r.exit_code == 2
    assert r.stderr.strip().startswith(f"error: {field}:") and len(r.stderr.strip().splitlines()) == 1
