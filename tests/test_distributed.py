"""Data-parallel training (tui_lab.distributed, tui_lab.launch, `dllab train --nproc`): real torchrun runs on
the CPU with gloo (2 ranks, an MLP on digits), checked against one process; failures, hangs and Ctrl-C end
the run with every rank gone."""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tui_lab import launch as L
from tui_lab import training as t
from tui_lab.control import HyperparameterChange
from tui_lab.distributed import Fault
from tui_lab.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
MLP = ["--model", "mlp", "--dataset", "digits", "--optimizer", "sgd", "--lr", "0.1", "--seed", "3", "--device", "cpu",
       "--threads", "1"]


@pytest.fixture
def workdirs(tmp_path, monkeypatch):
    """The launcher's working folders go under this test's tmp_path, so leftovers can be found by path."""
    where = tmp_path / "tmp"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    monkeypatch.setenv("TMPDIR", str(where))
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return where


def processes_under(path: Path) -> list[int]:
    """Live processes whose command line mentions `path` (the ranks and torchrun name their folder)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if str(path).encode() in cmdline and state != "Z":
            found.append(int(pid))
    return found


def assert_nothing_left(path: Path) -> None:
    deadline = time.monotonic() + 5
    while processes_under(path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_under(path) == []
    assert list(path.iterdir()) == [] or all(not p.name.startswith("dllab-ddp-") for p in path.iterdir())


def cli(*args):
    from tui_lab.cli import app

    return CliRunner().invoke(app, list(args))


# --- the real thing: 2 ranks on gloo ----------------------------------------------------------------


@pytest.mark.timeout(240)
def test_two_ranks_of_32_equal_one_process_of_64(workdirs):
    r = cli("train", *MLP, "--epochs", "1", "--batch-size", "32", "--nproc", "2", "--json")
    assert r.exit_code == 0, r.output
    ddp = json.loads(r.stdout)
    assert ddp["status"] == "finished" and ddp["world_size"] == 2 and ddp["device"] == "cpu"

    one = [ev for ev in t.train(t.TrainConfig(model="mlp", dataset="digits", optimizer="sgd", lr=0.1, seed=3,
                                              device="cpu", epochs=1, batch_size=64, threads=1))
           if isinstance(ev, t.EpochEnd)][0]
    # 1,437 training examples: the last global batch holds 29, split 15 + 14, weighted to the batch's mean
    got = ddp["epochs"][0]
    for key in ("train_loss", "val_loss"):
        assert math.isclose(got[key], getattr(one, key), rel_tol=1e-4), (key, got[key], getattr(one, key))
    assert got["val_acc"] == pytest.approx(one.val_acc, abs=1e-9)
    assert got["train_acc"] == pytest.approx(one.train_acc, abs=1e-9)

    shown = json.loads(cli("runs", "show", str(ddp["run_id"]), "--json").stdout)
    assert shown["status"] == "finished" and shown["config"]["nproc"] == 2 and shown["config"]["batch_size"] == 32
    assert len(json.loads(cli("runs", "--json").stdout)["runs"]) == 1  # recorded once, not once per rank
    assert_nothing_left(workdirs)


@pytest.mark.timeout(240)
def test_a_rank_that_raises_fails_the_run_with_its_message(workdirs, monkeypatch):
    monkeypatch.setenv("DLLAB_DDP_FAULT", "raise@1:3")
    r = cli("train", *MLP, "--epochs", "1", "--batch-size", "32", "--nproc", "2", "--json")
    assert r.exit_code == 1, r.output
    data = json.loads(r.stdout)
    assert data["status"] == "failed" and data["world_size"] == 2
    assert data["message"].startswith("rank 1: RuntimeError: injected fault on rank 1 at step 3"), data["message"]
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: rank 1: RuntimeError: injected fault")
    run = json.loads(cli("runs", "show", str(data["run_id"]), "--json").stdout)
    assert run["status"] == "failed" and run["message"].startswith("rank 1: RuntimeError")
    assert_nothing_left(workdirs)


@pytest.mark.timeout(240)
def test_a_rank_that_hangs_fails_the_run_after_the_timeout(workdirs, monkeypatch):
    monkeypatch.setenv("DLLAB_DDP_FAULT", "hang@1:2")
    r = cli("train", *MLP, "--epochs", "1", "--batch-size", "32", "--nproc", "2", "--rank-timeout", "3", "--json")
    assert r.exit_code == 1, r.output
    data = json.loads(r.stdout)
    assert data["status"] == "failed" and data["message"].startswith("rank 0: "), data["message"]
    assert "timed out" in data["message"].lower() and "hung or died" in data["message"]
    assert "[" not in data["message"].split(":", 1)[1][:4]  # no C++ source location in front
    assert_nothing_left(workdirs)


@pytest.mark.timeout(240)
def test_ctrl_c_stops_every_rank_and_keeps_the_run(workdirs, tmp_path):
    home = Path(os.environ["DLLAB_HOME"])
    proc = subprocess.Popen([sys.executable, "-m", "tui_lab.cli", "train", *MLP, "--epochs", "100000",
                             "--batch-size", "32", "--nproc", "2", "--json"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with sqlite3.connect(home / "runs.sqlite3") as db:
                    if db.execute("SELECT COUNT(*) FROM epochs").fetchone()[0] >= 1:
                        break
            except sqlite3.Error:
                pass
            time.sleep(0.2)
        assert proc.poll() is None, proc.communicate()
        assert processes_under(workdirs), "the ranks should be running"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert json.loads(out)["status"] == "cancelled" and json.loads(out)["world_size"] == 2
    with sqlite3.connect(home / "runs.sqlite3") as db:
        assert db.execute("SELECT status FROM runs").fetchall() == [("cancelled",)]
    assert_nothing_left(workdirs)


# --- the pieces, without processes --------------------------------------------------------------


def test_nproc_needs_the_launcher():
    with pytest.raises(ConfigError) as err:
        t.train(t.TrainConfig(model="mlp", nproc=2, device="cpu"))
    assert err.value.field == "nproc"
    with pytest.raises(ConfigError) as err:
        t.TrainConfig(nproc=0).validated()
    assert err.value.field == "nproc"


@pytest.mark.parametrize("config, launch, field", [
    (dict(device="mps"), {}, "device"),
    (dict(device="cuda:1"), {}, "device"),
    (dict(device="cpu", sync_bn=True), {}, "sync_bn"),
    (dict(device="cpu", amp="bf16"), {}, "amp"),
    (dict(device="cpu"), dict(nnodes=2), "rdzv_endpoint"),
    (dict(device="cpu"), dict(nnodes=2, node_rank=2, rdzv_endpoint="h:1"), "node_rank"),
    (dict(device="cpu"), dict(nnodes=2, rdzv_endpoint="no-port"), "rdzv_endpoint"),
    (dict(device="cpu"), dict(timeout=0), "timeout"),
])
def test_what_cannot_run_is_named(config, launch, field):
    with pytest.raises(ConfigError) as err:
        L.plan(t.TrainConfig(model="mlp", nproc=2, **config), L.Launch(**launch))
    assert err.value.field == field


def test_bad_cli_input_is_one_line_and_exit_2():
    r = cli("train", "--model", "mlp", "--nproc", "0", "--json")
    assert r.exit_code == 2 and r.stdout == "" and r.stderr.startswith("error: nproc:")
    r = cli("train", "--model", "mlp", "--nproc", "2", "--device", "cpu", "--nnodes", "2", "--json")
    assert r.exit_code == 2 and r.stderr.startswith("error: rdzv_endpoint:")


def test_torchrun_command_passes_the_node_options_through(tmp_path):
    one = L.torchrun_command(2, L.Launch().validated(), tmp_path)
    assert "--standalone" in one and "--nproc-per-node=2" in one  # one node: a free port, chosen by torchrun
    assert one[-3:] == ["tui_lab.launch", "worker", str(tmp_path)]
    many = L.torchrun_command(4, L.Launch(nnodes=2, node_rank=1, rdzv_endpoint="node0:29500").validated(), tmp_path)
    assert {"--nnodes=2", "--node-rank=1", "--rdzv-endpoint=node0:29500"} <= set(many)
    assert "--standalone" not in many


def test_fault_spec():
    assert Fault.parse("raise@1:3") == Fault("raise", 1, 3)
    assert Fault.parse(None) is None
    for bad in ("boom@1:3", "raise@x:1", "hang@0:0", "raise"):
        with pytest.raises(ConfigError):
            Fault.parse(bad)


def test_every_event_survives_the_wire():
    events = [
        t.Started("cpu", "CPU", 10, 100, 20, 4, {"model": "mlp"}, 1, 2),
        t.Step(1, 2, 2, 0.5, 100.0, None, ranks=((50.0, None), (49.0, 1024))),
        t.EpochEnd(1, 0.5, 0.9, 0.4, None, 10.0, 1.0),
        t.HyperparametersChanged(1, 2, (HyperparameterChange("lr", 0.1, 0.01),)),
        t.Paused(1, 2), t.Resumed(1, 2),
        t.Finished(1, 0.9, math.nan, 1.0, None),
        t.Diverged(1, 3, math.inf, "boom"), t.Cancelled(1, 2), t.Failed("m", "h"),
    ]
    for ev in events:
        back = L.from_wire(json.loads(json.dumps(L.to_wire(ev))))
        assert type(back) is type(ev)
        assert repr(back) == repr(ev)
