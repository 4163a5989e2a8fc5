"""`dllab gan`: the history as JSON (the default ring halves its distance), the table, bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tui_lab.cli import app

runner = CliRunner()


def test_json_history_shows_the_distance_halving_on_the_ring():
    r = runner.invoke(app, ["gan", "--data", "ring", "--steps", "300", "--every", "100", "--seed", "0", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    history = data["history"]
    assert [row["step"] for row in history] == [0, 100, 200, 300]
    assert all({"step", "d_loss", "g_loss", "distance"} <= set(row) for row in history)
    assert history[-1]["distance"] <= history[0]["distance"] / 2
    assert data["config"]["data"] == "ring" and data["config"]["lr_g"] == 0.002


def test_the_table_names_the_result():
    r = runner.invoke(app, ["gan", "--data", "moons", "--steps", "20", "--every", "10", "--lr-g", "0.001", "--lr-d", "3e-3"])
    assert r.exit_code == 0, r.output
    assert "lr_g 0.001 lr_d 0.003" in r.stdout and "modes covered" in r.stdout
    assert sum(1 for line in r.stdout.splitlines() if line.strip().startswith(("0 ", "10 ", "20 "))) == 3


@pytest.mark.parametrize("args, field", [(["--data", "mnist"], "data"), (["--steps", "x"], "steps"),
                                         (["--lr-g", "-1"], "lr_g"), (["--lr-d", "nan"], "lr_d"),
                                         (["--loss", "wgan"], "loss"), (["--every", "0"], "every")])
def test_bad_input_exits_2_naming_the_field(args, field):
    r = runner.invoke(app, ["gan", "--steps", "5", *args] if "--steps" not in args else ["gan", *args])
    assert r.exit_code == 2, r.output
    assert r.stderr.strip().startswith(f"error: {field}:") and len(r.stderr.strip().splitlines()) == 1
