"""`dllab runs` as a table at 80 and 100 columns: status and start time whole, the names give way."""

from __future__ import annotations

import time

import pytest
from typer.testing import CliRunner

from tui_lab.cli import app
from tui_lab.runs import RunStore


@pytest.mark.parametrize("columns", [80, 100])
def test_status_and_time_are_never_cut(columns):
    store = RunStore()
    run_id = store.create_run({"model": "googlenet", "dataset": "fashion-mnist", "optimizer": "nesterov",
                               "lr": 0.05, "batch_size": 128, "epochs": 12, "seed": 0, "device": "cpu"})
    store.finish(run_id, "cancelled")
    started = store.list_runs()[0].started
    store.close()
    result = CliRunner().invoke(app, ["runs"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert all(len(line) <= columns for line in lines)
    row = next(line for line in lines if "cancelled" in line)
    stamp = time.strftime("%m-%d %H:%M", time.localtime(started))
    assert stamp in row and "0/12" in row and "…" not in row.split("cancelled")[0]
    header = next(line for line in lines if "status" in line)
    assert "best acc" in header and "started" in header
