"""Optimizer races: same start, same batches, same initial loss; one diverging; the run store group."""

from __future__ import annotations

import threading

import pytest
import torch

from tui_lab.compare import (
    CompareCancelled, CompareConfig, CompareFinished, CompareStarted, InitialLoss, RunSetting, compare,
    settings_from_lists,
)
from tui_lab.errors import ConfigError
from tui_lab.recording import record_compare
from tui_lab.training import Diverged as RunDiverged
from tui_lab.training import EpochEnd as RunEpoch
from tui_lab.training import Step as RunStep

@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Tiny models: one torch thread (conftest's `one_torch_thread`)."""


SMALL = dict(model="mlp", dataset="digits", model_options={"hidden": [32]}, epochs=2, batch_size=64, device="cpu",
             report_every=5)


def race(*settings, **kw):
    return list(compare(CompareConfig(runs=tuple(settings), **{**SMALL, **kw})))


def test_same_initial_loss_equals_the_first_batch_loss_before_any_update():
    events = race(RunSetting("sgd", 0.1), RunSetting("momentum", 0.05), RunSetting("adam", 0.001))
    initial = [e.loss for e in events if isinstance(e, InitialLoss)]
    assert len(initial) == 3 and len(set(initial)) == 1
    # independently: the seeded model on the first batch of the seeded shuffle
    from tui_lab.data import load_dataset
    from tui_lab.models import build_model

    data = load_dataset("digits")
    torch.manual_seed(0)
    model = build_model("mlp", data.info, hidden=[32])
    first = torch.randperm(data.train_x.shape[0], generator=torch.Generator().manual_seed(0))[:64]
    with torch.no_grad():
        expected = torch.nn.functional.cross_entropy(model(data.train_x[first]), data.train_y[first]).item()
    assert initial[0] == pytest.approx(expected, rel=1e-6)
    final = events[-1]
    assert isinstance(final, CompareFinished)
    assert [r.initial_loss for r in final.results] == initial
    assert all(r.status == "finished" and len(r.epochs) == 2 for r in final.results)


def test_one_run_races_exactly_like_train():
    from tui_lab.training import EpochEnd, TrainConfig, train

    events = race(RunSetting("momentum", 0.05, momentum=0.5, weight_decay=1e-3))
    ours = [e for e in events if isinstance(e, RunEpoch)]
    theirs = [e for e in train(TrainConfig(optimizer="momentum", lr=0.05, momentum=0.5, weight_decay=1e-3, **SMALL))
              if isinstance(e, EpochEnd)]
    assert len(ours) == len(theirs) == 2
    for a, b in zip(ours, theirs):
        assert a.val_loss == pytest.approx(b.val_loss, rel=1e-6)
        assert a.train_loss == pytest.approx(b.train_loss, rel=1e-6)
        assert a.val_acc == b.val_acc


def test_deterministic_and_steps_advance_round_robin():
    settings = (RunSetting("sgd", 0.1), RunSetting("rmsprop", 0.001), RunSetting("adagrad", 0.05))
    a, b = race(*settings), race(*settings)
    losses = lambda evs: [(e.run, e.global_step, e.loss) for e in evs if isinstance(e, RunStep)]  # noqa: E731
    assert losses(a) == losses(b) and losses(a)
    # at every reporting step all three runs report, in order: they advance together
    steps = [(run, step) for run, step, _ in losses(a)]
    for j in range(0, len(steps), 3):
        assert [s[0] for s in steps[j:j + 3]] == [0, 1, 2]
        assert len({s[1] for s in steps[j:j + 3]}) == 1
    # different optimizers really learn differently
    finals = [r.final_loss for r in a[-1].results]
    assert len(set(finals)) == 3


def test_a_diverging_run_stops_alone():
    events = race(RunSetting("sgd", 0.1), RunSetting("sgd", 50.0), RunSetting("adam", 0.001))
    diverged = [e for e in events if isinstance(e, RunDiverged)]
    assert [d.run for d in diverged] == [1] and "smaller learning rate" in diverged[0].message
    after = events.index(diverged[0])
    assert not any(isinstance(e, (RunStep, RunEpoch)) and e.run == 1 for e in events[after:])
    final = events[-1]
    assert [r.status for r in final.results] == ["finished", "diverged", "finished"]
    assert len(final.results[0].epochs) == 2 and len(final.results[2].epochs) == 2
    assert final.results[1].epochs == () and final.results[1].final_loss is None
    doc = final.to_json()
    assert [set(r) for r in doc["runs"]] == [{"optimizer", "lr", "status", "initial_loss", "epochs"}] * 3
    assert doc["runs"][1]["status"] == "diverged" and doc["runs"][1]["lr"] == 50.0


def test_results_table_numbers():
    final = race(RunSetting("adam", 0.01))[-1]
    (r,) = final.results
    assert r.best_loss == min(e.val_loss for e in r.epochs)
    assert r.best_acc == max(e.val_acc for e in r.epochs)
    assert r.final_acc == r.epochs[-1].val_acc
    assert r.examples == 2 * 1438 and r.seconds > 0
    assert r.examples_per_sec == pytest.approx(r.examples / r.seconds)


def test_recorded_as_one_group_with_initial_loss_as_step_zero(tmp_path):
    from tui_lab.runs import RunStore

    store = RunStore(tmp_path / "runs.sqlite3")
    cfg = CompareConfig(runs=settings_from_lists(["sgd", "adam"], [0.1, 0.001]), **SMALL)
    events = list(record_compare(store, compare(cfg), group_id="cmp-test"))
    runs = sorted(store.list_runs(group_id="cmp-test"), key=lambda r: r.id)
    assert [(r.kind, r.optimizer, r.status, r.epochs_done) for r in runs] == [
        ("compare", "sgd", "finished", 2), ("compare", "adam", "finished", 2)]
    initial = next(e.loss for e in events if isinstance(e, InitialLoss))
    for r in runs:
        detail = store.get_run(r.id)
        assert detail.steps[0] == (0, 0, pytest.approx(initial))
        assert [e.val_loss for e in detail.epochs] == [
            pytest.approx(e.val_loss) for e in events if isinstance(e, RunEpoch) and e.run == runs.index(r)]


def test_cancel_stops_every_run_and_the_store_says_so(tmp_path):
    from tui_lab.runs import RunStore

    store = RunStore(tmp_path / "runs.sqlite3")
    cancel = threading.Event()
    seen = []
    for ev in record_compare(store, compare(CompareConfig(runs=settings_from_lists(["sgd", "adam"]), **SMALL),
                                            cancel=cancel), group_id="g"):
        seen.append(ev)
        if isinstance(ev, RunStep):
            cancel.set()
    assert isinstance(seen[0], CompareStarted) and isinstance(seen[-1], CompareCancelled)
    assert {r.status for r in store.list_runs(group_id="g")} == {"cancelled"}


@pytest.mark.parametrize(
    "optimizers, lrs, field",
    [
        (["sgd", "lion"], None, "optimizer"),
        (["sgd", "adam"], [0.1, 0.2, 0.3], "lr"),
        (["sgd"], [-1.0], "lr"),
        (["sgd"] * 9, None, "optimizers"),
        ([], None, "optimizers"),
    ],
)
def test_bad_settings_name_the_field(optimizers, lrs, field):
    with pytest.raises(ConfigError) as info:
        compare(CompareConfig(runs=settings_from_lists(optimizers, lrs) if optimizers else (), **SMALL))
    assert info.value.field == field


def test_bad_model_for_data_fails_before_loading():
    with pytest.raises(ConfigError) as info:
        compare(CompareConfig(runs=(RunSetting("sgd"),), **{**SMALL, "model": "lenet", "dataset": "spirals",
                                                           "model_options": {}}))
    assert info.value.field == "model"


def test_a_run_that_raises_fails_alone(monkeypatch, tmp_path):
    import tui_lab.optimizers as registry
    from tui_lab.training import Failed as RunFailed
    from tui_lab.runs import RunStore

    real = registry.make_optimizer

    def flaky(name, params, *args, **kwargs):
        opt = real(name, params, *args, **kwargs)
        if name == "adagrad":
            def broken_step(*a, **k):
                raise RuntimeError("simulated kernel failure")
            opt.step = broken_step
        return opt

    monkeypatch.setattr(registry, "make_optimizer", flaky)
    store = RunStore(tmp_path / "runs.sqlite3")
    cfg = CompareConfig(runs=settings_from_lists(["sgd", "adagrad", "adam"]), **SMALL)
    events = list(record_compare(store, compare(cfg), group_id="g"))
    failed = [e for e in events if isinstance(e, RunFailed)]
    assert [f.run for f in failed] == [1] and "simulated kernel failure" in failed[0].message
    assert [r.status for r in events[-1].results] == ["finished", "failed", "finished"]
    by_optimizer = {r.optimizer: r.status for r in store.list_runs(group_id="g")}
    assert by_optimizer == {"sgd": "finished", "adagrad": "failed", "adam": "finished"}


def test_models_that_cannot_be_built_end_the_race_with_one_event(monkeypatch, tmp_path):
    import tui_lab.training as training
    from tui_lab.compare import CompareFailed
    from tui_lab.runs import RunStore

    def no_memory(*args, **kwargs):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(training, "init_model", no_memory)
    store = RunStore(tmp_path / "runs.sqlite3")
    events = list(record_compare(store, compare(CompareConfig(runs=settings_from_lists(["sgd", "adam"]), **SMALL))))
    assert len(events) == 1 and isinstance(events[0], CompareFailed)
    assert "out of memory" in events[0].message and "fewer optimizers" in events[0].hint
    assert store.list_runs() == []


def test_stacked_runs_match_one_model_at_a_time():
    # the GPU path (torch.func.vmap over stacked weights), forced on the CPU: same numbers
    runs = (RunSetting("sgd", 0.1), RunSetting("sgd", 50.0), RunSetting("adam", 0.001), RunSetting("rmsprop", 0.001))
    one_by_one = race(*runs, batched=False)
    stacked = race(*runs, batched=True)
    assert not one_by_one[0].batched and stacked[0].batched
    steps = lambda evs: [(e.run, e.global_step, e.loss) for e in evs if isinstance(e, RunStep)]  # noqa: E731
    assert [s[:2] for s in steps(stacked)] == [s[:2] for s in steps(one_by_one)]
    for (_, _, a), (_, _, b) in zip(steps(stacked), steps(one_by_one)):
        assert a == pytest.approx(b, rel=1e-4)
    a, b = stacked[-1].results, one_by_one[-1].results
    assert [r.status for r in a] == [r.status for r in b] == ["finished", "diverged", "finished", "finished"]
    assert [r.initial_loss for r in a] == pytest.approx([r.initial_loss for r in b], rel=1e-6)
    for x, y in zip(a, b):
        if x.status == "finished":
            assert x.final_loss == pytest.approx(y.final_loss, rel=1e-4) and x.examples == y.examples


def test_batch_norm_models_are_not_stacked():
    events = race(RunSetting("sgd", 0.1), RunSetting("adam", 0.001), batched=True, model="lenet",
                  model_options={"batch_norm": True}, epochs=1)
    assert not events[0].batched
    assert [r.status for r in events[-1].results] == ["finished", "finished"]
