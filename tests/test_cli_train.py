"""`dllab train` / `runs` / info commands: exit codes, one-line errors and JSON shapes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tui_lab.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def test_train_json_shape_and_exit_0():
    r = invoke("train", "--model", "softmax", "--dataset", "digits", "--optimizer", "sgd", "--lr", "0.1",
               "--epochs", "2", "--batch-size", "64", "--device", "cpu", "--seed", "1", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert set(data) >= {"run_id", "status", "device", "epochs"}
    assert data["status"] == "finished" and data["device"] == "cpu"
    assert [e["epoch"] for e in data["epochs"]] == [1, 2]
    assert set(data["epochs"][0]) == {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "examples_per_sec", "lr"}
    shown = json.loads(invoke("runs", "show", str(data["run_id"]), "--json").stdout)
    assert shown["epochs"][1]["val_acc"] == data["epochs"][1]["val_acc"]


def test_train_plain_prints_the_epoch_table():
    r = invoke("train", "--model", "softmax", "--epochs", "1")
    assert r.exit_code == 0
    assert "val acc" in r.stdout and "finished" in r.stdout


def test_divergence_exits_3():
    r = invoke("train", "--model", "lenet", "--optimizer", "sgd", "--lr", "1e6", "--epochs", "3", "--json")
    assert r.exit_code == 3
    assert json.loads(r.stdout)["status"] == "diverged"


@pytest.mark.parametrize(
    "args, field",
    [
        (["--model", "nope"], "model"),
        (["--dataset", "nope"], "dataset"),
        (["--optimizer", "nope"], "optimizer"),
        (["--device", "cuda:9"], "device"),
        (["--lr", "0"], "lr"),
        (["--lr", "-0.1"], "lr"),
        (["--lr", "inf"], "lr"),
        (["--lr", "abc"], "lr"),
        (["--epochs", "0"], "epochs"),
        (["--epochs", "1.5"], "epochs"),
        (["--batch-size", "0"], "batch_size"),
        (["--hidden", "a,b", "--model", "mlp"], "hidden"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_field(args, field):
    r = invoke("train", *args, "--json")
    assert r.exit_code == 2
    assert r.stdout == ""  # nothing on stdout: JSON consumers see no half object
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {field}:"), r.stderr


def test_runs_list_json_newest_first_and_export():
    for lr in ("0.1", "0.2"):
        assert invoke("train", "--model", "softmax", "--epochs", "1", "--lr", lr, "--json").exit_code == 0
    runs = json.loads(invoke("runs", "--json").stdout)["runs"]
    assert [r["lr"] for r in runs] == [0.2, 0.1]
    assert {"id", "status", "model", "dataset", "optimizer", "lr", "started", "epochs_done", "best_val_acc"} <= set(runs[0])
    csv_text = invoke("runs", "export", str(runs[0]["id"]), "--format", "csv").stdout
    assert csv_text.startswith("run_id,epoch")
    bad = invoke("runs", "export", str(runs[0]["id"]), "--format", "xml")
    assert bad.exit_code == 2 and "format" in bad.stderr
    missing = invoke("runs", "show", "12345")
    assert missing.exit_code == 2 and "no run with id 12345" in missing.stderr


@pytest.mark.parametrize("command, key", [("models", "models"), ("datasets", "datasets"), ("devices", "devices")])
def test_listing_commands_json(command, key):
    r = invoke(command, "--json")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert data[key]
    if command == "devices":
        assert data["devices"][0]["name"] == "cpu" and data["auto"] in [d["name"] for d in data["devices"]]


def test_doctor_json():
    r = invoke("doctor", "--json")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert data["torch"] and data["run_store"].endswith("runs.sqlite3")


def test_runs_group_filter_lists_one_race():
    from tui_lab.runs import RunStore

    store = RunStore()
    a = store.create_run({"model": "mlp", "dataset": "digits", "optimizer": "sgd", "lr": 0.1}, kind="compare", group_id="cmp-1")
    store.create_run({"model": "mlp", "dataset": "digits", "optimizer": "adam", "lr": 0.1})
    runs = json.loads(invoke("runs", "--group", "cmp-1", "--json").stdout)["runs"]
    assert [(r["id"], r["kind"], r["group_id"]) for r in runs] == [(a, "compare", "cmp-1")]
