"""Run control in the engine: live hyperparameters at the next step, pause/resume, all recorded."""

from __future__ import annotations

import threading

import pytest
from torch.optim.optimizer import register_optimizer_step_pre_hook

from tui_lab import training as t
from tui_lab.control import RunControl
from tui_lab.errors import ConfigError
from tui_lab.recording import record
from tui_lab.runs import RunStore

FAST = t.TrainConfig(model="softmax", dataset="digits", optimizer="sgd", lr=0.1, epochs=1, batch_size=64,
                     device="cpu", report_every=1, threads=1)


@pytest.fixture
def step_lrs():
    """The lr and momentum each optimizer step used (a global step pre-hook on every torch optimizer)."""
    seen: list[tuple[float, float | None]] = []
    handle = register_optimizer_step_pre_hook(
        lambda opt, args, kwargs: seen.append((opt.param_groups[0]["lr"], opt.param_groups[0].get("momentum"))))
    yield seen
    handle.remove()


def test_a_live_lr_change_takes_effect_at_the_next_step_and_is_recorded(step_lrs):
    store = RunStore()
    run_id = store.create_run(FAST.to_dict())
    control = RunControl()
    events = []
    for ev in record(store, run_id, t.train(FAST, control)):
        events.append(ev)
        if isinstance(ev, t.Step) and ev.global_step == 5:
            control.set_hyperparameters(lr=0.025, momentum=0.5)
    changed = [e for e in events if isinstance(e, t.HyperparametersChanged)]
    assert len(changed) == 1 and changed[0].step == 5 and changed[0].epoch == 1
    assert {c.name: (c.old, c.new) for c in changed[0].changes} == {"lr": (0.1, 0.025), "momentum": (0.0, 0.5)}
    steps = [e for e in events if isinstance(e, t.Step)]
    assert len(step_lrs) == steps[-1].global_step
    assert step_lrs[:5] == [(0.1, 0)] * 5  # steps 1..5 at the old values
    assert step_lrs[5:] == [(0.025, 0.5)] * (len(step_lrs) - 5)  # from step 6 on, the new ones
    detail = store.get_run(run_id)
    assert [(e.step, e.epoch, e.kind, e.data) for e in detail.events] == [
        (5, 1, "hyperparameters", {"lr": {"old": 0.1, "new": 0.025}, "momentum": {"old": 0.0, "new": 0.5}})]
    assert detail.to_json()["events"][0]["data"]["lr"] == {"old": 0.1, "new": 0.025}


def test_bad_live_values_are_refused_naming_the_field():
    control = RunControl()
    for kwargs, field in (({"lr": 0}, "lr"), ({"lr": "abc"}, "lr"), ({"momentum": 1.0}, "momentum"),
                          ({"weight_decay": -1}, "weight_decay"), ({"beta": 0.9}, "beta")):
        with pytest.raises(ConfigError) as err:
            control.set_hyperparameters(**kwargs)
        assert err.value.field == field
    assert control.take_changes() == {}


def test_pause_blocks_between_steps_and_resume_continues_recorded():
    store = RunStore()
    cfg = t.TrainConfig(**{**FAST.to_dict(), "epochs": 2})
    run_id = store.create_run(cfg.to_dict())
    control = RunControl()
    events = []
    resumed = threading.Event()
    for ev in record(store, run_id, t.train(cfg, control)):
        events.append(ev)
        if isinstance(ev, t.Step) and ev.global_step == 3:
            control.pause()
            threading.Timer(0.2, lambda: (resumed.set(), control.resume())).start()
        if isinstance(ev, t.Paused):
            assert not resumed.is_set()  # the run waits while paused
    kinds = [type(e).__name__ for e in events]
    assert kinds.count("Paused") == 1 and kinds.count("Resumed") == 1 and isinstance(events[-1], t.Finished)
    paused = next(e for e in events if isinstance(e, t.Paused))
    after = events[kinds.index("Resumed") + 1]
    assert paused.step == 3 and isinstance(after, t.Step) and after.global_step == 4
    assert [(e.kind, e.step) for e in store.get_run(run_id).events] == [("paused", 3), ("resumed", 3)]


def test_cancel_wakes_a_paused_run():
    control = RunControl()
    events = []
    for ev in t.train(FAST, control):
        events.append(ev)
        if isinstance(ev, t.Step) and ev.global_step == 2:
            control.pause()
        if isinstance(ev, t.Paused):
            control.cancel()
    assert isinstance(events[-1], t.Cancelled) and events[-1].step == 2
    assert not any(isinstance(e, t.Resumed) for e in events)


def test_runs_show_lists_the_changes(tmp_path):
    from typer.testing import CliRunner

    from tui_lab.cli import app

    store = RunStore()
    run_id = store.create_run(FAST.to_dict())
    store.add_run_event(run_id, 40, 2, "hyperparameters", {"lr": {"old": 0.1, "new": 0.01}})
    store.finish(run_id, "finished")
    out = CliRunner().invoke(app, ["runs", "show", str(run_id)])
    assert out.exit_code == 0 and "step 40 (epoch 2): lr 0.1 -> 0.01" in out.output
    out = CliRunner().invoke(app, ["runs", "show", str(run_id), "--json"])
    import json

    assert json.loads(out.output)["events"] == [{"step": 40, "epoch": 2, "kind": "hyperparameters",
                                                 "data": {"lr": {"old": 0.1, "new": 0.01}},
                                                 "at": json.loads(out.output)["events"][0]["at"]}]
