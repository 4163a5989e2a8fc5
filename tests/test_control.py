"""RunControl: cancel, pause/resume and live hyperparameters reach a running job at its next step."""

from __future__ import annotations

import threading

import pytest
import torch

from tui_lab.control import RunControl, apply_hyperparameters, check_hyperparameter
from tui_lab.errors import ConfigError
from tui_lab.training import (Cancelled, EpochEnd, Finished, HyperparametersChanged, Resumed, Step,
                              TrainConfig, train)

SMALL = dict(model="softmax", dataset="digits", optimizer="sgd", lr=0.1, epochs=1, batch_size=64, report_every=1,
             device="cpu")


def test_a_live_lr_change_is_applied_before_the_next_step_and_reported():
    control = RunControl()
    events = []
    for ev in train(TrainConfig(**SMALL), control):
        events.append(ev)
        if isinstance(ev, Step) and ev.global_step == 3:
            control.set_hyperparameters(lr=0.0001, weight_decay=0.01)
    changed = [e for e in events if isinstance(e, HyperparametersChanged)]
    assert len(changed) == 1 and changed[0].step == 3
    assert {c.name: (c.old, c.new) for c in changed[0].changes} == {"lr": (0.1, 0.0001), "weight_decay": (0.0, 0.01)}
    after = events.index(changed[0])
    assert isinstance(events[after + 1], Step) and events[after + 1].global_step == 4
    assert isinstance(events[-1], Finished)


def test_the_new_lr_is_the_one_the_optimizer_steps_with():
    """Same seed, same batches: a run changed to lr 0 before step 1 never moves its weights."""
    control = RunControl()
    control.set_hyperparameters(lr=1e-12)
    losses = [e.loss for e in train(TrainConfig(**{**SMALL, "lr": 5.0}), control) if isinstance(e, Step)]
    # with lr 5.0 a softmax on standardized digits moves a lot; at 1e-12 the loss stays at the start
    assert max(losses[:5]) - min(losses[:5]) < 0.5
    plain = [e.loss for e in train(TrainConfig(**{**SMALL, "lr": 5.0})) if isinstance(e, Step)]
    assert plain[4] != pytest.approx(losses[4], rel=1e-3)


def test_pause_blocks_between_steps_until_resume():
    control = RunControl()
    events = []
    for ev in train(TrainConfig(**SMALL), control):
        events.append(ev)
        if isinstance(ev, Step) and ev.global_step == 2:
            control.pause()
            threading.Timer(0.05, control.resume).start()
    kinds = [type(e).__name__ for e in events]
    i = kinds.index("Paused")
    assert kinds[i + 1] == "Resumed" and kinds[i + 2] == "Step"
    assert events[i].step == 2 and events[i + 2].global_step == 3
    assert isinstance(events[-1], Finished)


def test_cancel_wakes_a_paused_run():
    control = RunControl()
    events = []
    for ev in train(TrainConfig(**SMALL), control):
        events.append(ev)
        if isinstance(ev, Step) and ev.global_step == 2:
            control.pause()
            threading.Timer(0.05, control.cancel).start()
    assert isinstance(events[-1], Cancelled) and events[-1].step == 2
    assert not any(isinstance(e, Resumed) for e in events)


def test_a_race_takes_the_same_control():
    from tui_lab.compare import CompareConfig, CompareCancelled, compare, settings_from_lists

    control = RunControl()
    cfg = CompareConfig(model="softmax", runs=settings_from_lists(["sgd", "adam"]), epochs=1, report_every=2,
                        device="cpu")
    events = []
    for ev in compare(cfg, control):
        events.append(ev)
        if isinstance(ev, Step) and ev.global_step == 4 and ev.run == 1:
            control.set_hyperparameters(lr=0.001)
        if isinstance(ev, Step) and ev.global_step == 8 and ev.run == 1:
            control.cancel()
    changed = [e for e in events if isinstance(e, HyperparametersChanged)]
    assert sorted(e.run for e in changed) == [0, 1]  # every run's optimizer
    assert isinstance(events[-1], CompareCancelled)
    assert not any(isinstance(e, EpochEnd) for e in events)


@pytest.mark.parametrize("name, value", [("lr", 0), ("lr", "nan"), ("momentum", 1.0), ("weight_decay", -1),
                                         ("betas", 0.9), ("lr", "fast")])
def test_bad_live_values_are_one_line_errors_naming_the_field(name, value):
    with pytest.raises(ConfigError) as info:
        check_hyperparameter(name, value)
    assert info.value.field == name and "\n" not in str(info.value)


def test_momentum_is_not_applied_to_adam():
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    applied = apply_hyperparameters(opt, {"momentum": 0.5, "lr": 0.2})
    assert [c.name for c in applied] == ["lr"] and opt.param_groups[0]["lr"] == 0.2
