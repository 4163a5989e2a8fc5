"""The run store: rows written as they come, a killed run readable and marked interrupted, exports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from tui_lab.errors import ConfigError
from tui_lab.recording import record
from tui_lab.runs import RunStore, export_run
from tui_lab.training import TrainConfig, train


def test_a_recorded_run_has_its_epochs_steps_and_status():
    store = RunStore()
    cfg = TrainConfig(model="softmax", epochs=2, batch_size=128, report_every=2).validated()
    run_id = store.create_run(cfg.to_dict())
    events = list(record(store, run_id, train(cfg)))
    detail = store.get_run(run_id)
    assert detail.summary.status == "finished"
    assert detail.summary.epochs_done == 2 and len(detail.epochs) == 2
    assert detail.summary.best_val_acc == max(e.val_acc for e in detail.epochs)
    steps = [e for e in events if type(e).__name__ == "Step"]
    assert [s for s, _, _ in detail.steps] == [e.global_step for e in steps]
    assert detail.summary.params == 7850 and detail.summary.device == "cpu"


def test_a_consumer_stopping_early_leaves_the_run_cancelled():
    store = RunStore()
    cfg = TrainConfig(model="softmax", epochs=50).validated()
    run_id = store.create_run(cfg.to_dict())
    stream = record(store, run_id, train(cfg))
    for ev in stream:
        if type(ev).__name__ == "EpochEnd":
            break
    stream.close()
    assert store.get_run(run_id).summary.status == "cancelled"


def test_a_run_killed_with_sigkill_is_readable_and_interrupted(tmp_path):
    script = textwrap.dedent(
        """
        import sys
        from tui_lab.recording import record
        from tui_lab.runs import RunStore
        from tui_lab.training import TrainConfig, train
        store = RunStore()
        cfg = TrainConfig(model="softmax", epochs=10000, batch_size=64, report_every=2).validated()
        run_id = store.create_run(cfg.to_dict())
        for ev in record(store, run_id, train(cfg)):
            if type(ev).__name__ == "EpochEnd":
                print(run_id, flush=True)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        run_id = int(proc.stdout.readline())  # the first epoch is on disk
        proc.stdout.readline()  # and a second one
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    store = RunStore()
    detail = store.get_run(run_id)
    assert detail.summary.status == "interrupted"
    assert len(detail.epochs) >= 2 and len(detail.steps) > 0
    assert store.list_runs()[0].status == "interrupted"


def test_list_is_newest_first_and_get_unknown_is_a_clear_error():
    store = RunStore()
    ids = [store.create_run({"model": "mlp", "dataset": "digits", "lr": 0.1}) for _ in range(3)]
    assert [r.id for r in store.list_runs()] == ids[::-1]
    with pytest.raises(ConfigError, match="no run with id 999"):
        store.get_run(999)


def test_export_csv_and_json():
    store = RunStore()
    cfg = TrainConfig(model="softmax", epochs=2).validated()
    run_id = store.create_run(cfg.to_dict())
    list(record(store, run_id, train(cfg)))
    detail = store.get_run(run_id)
    csv_text = export_run(detail, "csv").strip().splitlines()
    assert csv_text[0].startswith("run_id,epoch,train_loss") and len(csv_text) == 3
    data = json.loads(export_run(detail, "json"))
    assert data["id"] == run_id and len(data["epochs"]) == 2 and data["steps"]
    with pytest.raises(ConfigError):
        export_run(detail, "xml")


def test_lesson_progress_is_remembered_across_store_instances():
    RunStore().mark_lesson_done("conv-corr2d")
    RunStore().mark_lesson_done("tensors")
    RunStore().mark_lesson_done("tensors", done=False)
    assert RunStore().done_lessons() == {"conv-corr2d"}


def test_store_is_wal_and_lives_under_dllab_home(_dllab_home):
    store = RunStore()
    assert store.path.parent == _dllab_home
    assert store._exec("PRAGMA journal_mode").fetchone()[0] == "wal"
