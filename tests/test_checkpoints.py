"""Checkpoints every epoch and `dllab train --resume`: a continued run is bit for bit the run that
never stopped (CPU, same seed), after a clean finish, a cancel, or SIGKILL in the middle of an epoch."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from tui_lab import checkpoints
from tui_lab.cli import app
from tui_lab.errors import ConfigError
from tui_lab.runs import RunStore

runner = CliRunner()
# dropout draws from torch's global RNG, Adam keeps state, cosine keeps a scheduler: all must resume
ARGS = ["train", "-m", "mlp", "--dropout", "0.2", "-d", "digits", "-o", "adam", "--lr", "0.003", "-b", "64",
        "--schedule", "cosine", "--warmup", "1", "--device", "cpu", "--threads", "1", "--seed", "3", "--json"]
STEPS_PER_EPOCH = 23  # 1,437 training digits in batches of 64


def train_json(*extra: str) -> dict:
    out = runner.invoke(app, [*ARGS, *extra])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def resume_json(run_id: int, *extra: str) -> dict:
    out = runner.invoke(app, ["train", "--resume", str(run_id), "--threads", "1", "--json", *extra])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def assert_same_run(store: RunStore, a: int, b: int) -> None:
    """Every recorded number and every final weight identical (==, not approx)."""
    da, db = store.get_run(a), store.get_run(b)
    strip = lambda rows: [{k: v for k, v in r.items() if k not in ("examples_per_sec", "seconds")} for r in rows]  # noqa: E731
    assert strip(da.to_json()["epochs"]) == strip(db.to_json()["epochs"])
    assert da.steps == db.steps
    wa = torch.load(store.checkpoint_path(a), weights_only=True)
    wb = torch.load(store.checkpoint_path(b), weights_only=True)
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def test_a_finished_run_continued_equals_the_uninterrupted_run():
    full = train_json("-e", "4")
    short = train_json("-e", "2")
    resumed = resume_json(short["run_id"], "--epochs", "4")
    assert resumed["status"] == "finished" and resumed["run_id"] == short["run_id"] and resumed["resumed_from"] == 2
    assert [e["epoch"] for e in resumed["epochs"]] == [1, 2, 3, 4]
    # the schedule was built for 4 epochs when continued: same lr per epoch as the run that never stopped
    assert [e["lr"] for e in resumed["epochs"]] == [e["lr"] for e in full["epochs"]]
    store = RunStore()
    assert_same_run(store, full["run_id"], short["run_id"])
    summary = store.get_run(short["run_id"]).summary
    assert summary.status == "finished" and summary.epochs == 4 and summary.epochs_done == 4
    assert [(e.kind, e.epoch, e.data) for e in store.get_run(short["run_id"]).events] == [
        ("continued", 2, {"from_epoch": 2, "epochs": 4})]


def test_resume_after_sigkill_mid_epoch_equals_the_uninterrupted_run(tmp_path, _dllab_home):
    full = train_json("-e", "4")
    marker = tmp_path / "in-epoch-3"
    kill_at = 2 * STEPS_PER_EPOCH + 15  # 15 steps into epoch 3 (its first loss point, at 10, is recorded)
    script = f"""
import time
from tui_lab.learner import Learner
original = Learner.step
def step(self, xb, yb, *rest):
    original(self, xb, yb, *rest)
    if int(self.step_t) == {kill_at}:
        open({str(marker)!r}, "w").close()
        time.sleep(600)
Learner.step = step
from tui_lab.cli import app
app({[*ARGS, "-e", "4"]!r})
"""
    env = {**os.environ, "DLLAB_HOME": str(_dllab_home), "PYTHONPATH": str(Path(__file__).parents[1])}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
            assert time.monotonic() < deadline, "the child never reached epoch 3"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    store = RunStore()
    killed = store.list_runs()[0]
    assert killed.id != full["run_id"] and killed.status == "interrupted" and killed.epochs_done == 2
    assert checkpoints.load_state(store.state_path(killed.id))["epoch"] == 2  # the last complete epoch
    assert max(s[0] for s in store.get_run(killed.id).steps) > 2 * STEPS_PER_EPOCH  # epoch 3 had begun
    resumed = resume_json(killed.id)  # --epochs defaults to the run's own 4
    assert resumed["status"] == "finished" and resumed["resumed_from"] == 2
    assert_same_run(store, full["run_id"], killed.id)  # epoch 3's cut-short steps were replaced


def test_a_cancelled_run_resumes_from_its_last_complete_epoch():
    from tui_lab import training as t
    from tui_lab.control import RunControl
    from tui_lab.recording import record

    store = RunStore()
    cfg = t.TrainConfig(model="softmax", dataset="digits", optimizer="sgd", lr=0.1, epochs=3, device="cpu",
                        threads=1, report_every=5)
    ref_id = store.create_run(cfg.to_dict())
    list(record(store, ref_id, t.train(cfg, checkpoint_path=store.checkpoint_path(ref_id),
                                       state_path=store.state_path(ref_id))))
    run_id = store.create_run(cfg.to_dict())
    control = RunControl()
    for ev in record(store, run_id, t.train(cfg, control, store.checkpoint_path(run_id),
                                            state_path=store.state_path(run_id))):
        if isinstance(ev, t.Step) and ev.epoch == 2:
            control.cancel()
    assert store.get_run(run_id).summary.status == "cancelled"
    out = runner.invoke(app, ["train", "--resume", str(run_id), "--threads", "1", "--json"])
    assert out.exit_code == 0, out.output
    assert_same_run(store, ref_id, run_id)


def test_resume_errors_are_one_line_naming_the_field():
    run = train_json("-e", "2")
    for args, words in (
        (["--resume", str(run["run_id"])], "epochs: run"),
        (["--resume", str(run["run_id"]), "--epochs", "2"], "already has 2 complete epochs"),
        (["--resume", str(run["run_id"]), "--epochs", "3", "--lr", "0.1"], "got --lr"),
        (["--resume", "999"], "no run with id 999"),
        (["--resume", "x"], "resume: a run id"),
    ):
        out = runner.invoke(app, ["train", *args])
        assert out.exit_code == 2, (args, out.output)
        assert words in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_the_state_is_written_atomically_and_loads_weights_only(tmp_path, monkeypatch):
    path = tmp_path / "run.state.pt"
    model, opt = torch.nn.Linear(2, 2), None
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    class L:
        first_t = torch.tensor(2.5)

    kwargs = dict(model=model, optimizer=opt, shuffle=torch.Generator().manual_seed(1), learner=L(), epoch=1,
                  global_step=7, best_acc=0.5, val_loss=0.25, config={"model": "x"})
    checkpoints.save_state(path, **kwargs)
    state = checkpoints.load_state(path)
    assert state["epoch"] == 1 and state["global_step"] == 7 and torch.equal(state["model"]["weight"], model.weight)
    assert state["rng"]["shuffle"].dtype == torch.uint8
    before = path.read_bytes()

    def broken(obj, f, *a, **k):
        f.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken)
    with pytest.raises(OSError):
        checkpoints.save_state(path, **{**kwargs, "epoch": 2})
    assert path.read_bytes() == before  # the old state is intact, no temp file is left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.state.pt"]
    monkeypatch.undo()
    evil = tmp_path / "evil.pt"
    torch.save({"version": 1, "f": os.getcwd}, evil)  # pickles a function: weights_only refuses it
    with pytest.raises(ConfigError, match="cannot read the checkpoint"):
        checkpoints.load_state(evil)
