"""`dllab runs export --format tensorboard`: event files that TensorBoard's own reader reads back."""

from __future__ import annotations

import builtins
import json

import pytest
from typer.testing import CliRunner

from tui_lab.cli import app
from tui_lab.runs import RunStore

runner = CliRunner()


def test_exported_events_read_back_with_tensorboards_reader(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = runner.invoke(app, ["train", "-m", "softmax", "-d", "digits", "-o", "sgd", "--lr", "0.2", "-e", "3",
                              "--schedule", "step", "--device", "cpu", "--threads", "1", "--json"])
    assert out.exit_code == 0, out.output
    run_id = json.loads(out.stdout)["run_id"]
    store = RunStore()
    store.add_run_event(run_id, 30, 2, "hyperparameters", {"lr": {"old": 0.2, "new": 0.05}})
    detail = store.get_run(run_id)
    res = runner.invoke(app, ["runs", "export", str(run_id), "--format", "tensorboard", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    folder = tmp_path / f"run-{run_id}"
    assert res.stdout.strip() == str(folder)
    acc = EventAccumulator(str(folder))
    acc.Reload()
    tags = acc.Tags()["scalars"]
    assert {"train/loss", "epoch/val_acc", "epoch/val_loss", "epoch/train_loss", "epoch/lr", "control/lr"} <= set(tags)
    steps = acc.Scalars("train/loss")
    assert [s.step for s in steps] == [s for s, _, _ in detail.steps]
    assert [s.value for s in steps] == pytest.approx([loss for _, _, loss in detail.steps], rel=1e-6)
    val_acc = acc.Scalars("epoch/val_acc")
    assert [s.step for s in val_acc] == [e.epoch for e in detail.epochs]
    assert [s.value for s in val_acc] == pytest.approx([e.val_acc for e in detail.epochs], rel=1e-6)
    assert [s.value for s in acc.Scalars("epoch/lr")] == pytest.approx([0.2, 0.02, 0.002])  # step: x0.1 every third of 3
    (change,) = acc.Scalars("control/lr")
    assert change.step == 30 and change.value == pytest.approx(0.05)  # event files hold float32
    hp = EventAccumulator(str(folder / "."))
    hp.Reload()
    plugin = hp.PluginTagToContent("hparams")
    assert plugin  # the HPARAMS tab's session start with the run's settings
    from tensorboard.plugins.hparams import plugin_data_pb2

    data = plugin_data_pb2.HParamsPluginData.FromString(plugin["_hparams_/session_start_info"])
    assert data.session_start_info.hparams["model"].string_value == "softmax"
    assert data.session_start_info.hparams["lr"].number_value == pytest.approx(0.2)


def test_a_missing_extra_and_bad_options_are_one_line_errors(tmp_path, monkeypatch):
    store = RunStore()
    run_id = store.create_run({"model": "mlp"})
    real_import = builtins.__import__

    def no_tensorboard(name, *args, **kwargs):
        if name == "tensorboard" or name.startswith("tensorboard."):
            raise ImportError("No module named 'tensorboard'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    res = runner.invoke(app, ["runs", "export", str(run_id), "--format", "tensorboard", "--out", str(tmp_path)])
    assert res.exit_code == 2 and res.stderr.strip() == (
        "error: format: the tensorboard export needs the optional extra: pip install 'dllab[tensorboard]'")
    monkeypatch.undo()
    res = runner.invoke(app, ["runs", "export", str(run_id), "--format", "tensorboard"])
    assert res.exit_code == 2 and "out: --format tensorboard writes event files" in res.stderr
    res = runner.invoke(app, ["runs", "export", str(run_id), "--format", "xml"])
    assert res.exit_code == 2 and "allowed: csv, json, tensorboard" in res.stderr
