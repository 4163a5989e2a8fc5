"""The runs screen's Resume (C): a finished run continues in the train screen to more epochs, the same
run in the store, bit for bit the uninterrupted run; the epochs box checks what is typed inline."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, Static
from ui_support import make_app, sync, wait_until

from tui_lab.recording import record
from tui_lab.runs import RunStore
from tui_lab.training import TrainConfig, train
from tui_lab.ui.screens.runs import RunsScreen
from tui_lab.ui.screens.train import TrainScreen
from tui_lab.ui.widgets.epoch_log import EpochLog

SETTINGS = dict(model="softmax", dataset="digits", optimizer="sgd", lr=0.5, batch_size=64, device="cpu",
                report_every=5, schedule="step")


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Tiny models: one torch thread (conftest's `one_torch_thread`)."""


def saved_run(store: RunStore, epochs: int) -> int:
    """A run recorded as `dllab train` records it: weights and per-epoch state saved."""
    config = TrainConfig(**SETTINGS, epochs=epochs).validated()
    run_id = store.create_run(config.to_dict())
    events = train(config, checkpoint_path=store.checkpoint_path(run_id), state_path=store.state_path(run_id))
    list(record(store, run_id, events))
    return run_id


def message(screen) -> str:
    return str(screen.query_one("#runs-msg", Static).render())


@sync
async def test_resume_a_finished_run_from_the_runs_screen(tmp_path):
    store = RunStore()
    run_id = saved_run(store, 2)
    whole = saved_run(store, 3)  # the same settings run 3 epochs without a stop
    race = store.create_run({**SETTINGS, "epochs": 1}, kind="race", group_id="g")
    store.finish(race, "finished", None)
    store.close()
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen))
        screen = app.screen
        ids = [int(v) for v in screen.query_one(DataTable).get_column("id")]
        await pilot.press(*["down"] * ids.index(race), "c")
        assert "only a training run resumes" in message(screen)
        await pilot.press(*["up"] * ids.index(race))
        await pilot.press(*["down"] * ids.index(run_id), "c")
        box = screen.query_one("#runs-epochs", Input)
        assert box.display and box.has_focus and "2 epochs done" in message(screen)
        box.value = "2"
        await pilot.press("enter")
        assert "epochs" in message(screen) and "more than 2" in message(screen)  # inline, the box stays
        assert isinstance(app.screen, RunsScreen)
        await pilot.press("escape")  # closes the box, stays on the runs screen
        assert not box.display and isinstance(app.screen, RunsScreen)
        await pilot.press("c")
        box.value = "3"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TrainScreen))
        train_screen = app.screen
        await wait_until(pilot, lambda: train_screen.panel.run_id == run_id)
        await wait_until(pilot, lambda: "finished" in str(train_screen.query_one("#train-status", Static).render())
                         or "not resumed" in str(train_screen.query_one("#train-status", Static).render()), timeout=60)
        assert "finished" in str(train_screen.query_one("#train-status", Static).render())
        log = train_screen.query_one(EpochLog)
        assert [row[0] for row in log.cells()] == ["1", "2", "3"]  # the epochs before the resume are shown too
        resumed, straight = app.store.get_run(run_id), app.store.get_run(whole)
        assert resumed.summary.status == "finished" and resumed.summary.epochs_done == 3
        assert [e.val_loss for e in resumed.epochs] == [e.val_loss for e in straight.epochs]  # bit for bit
        assert [row[4] for row in log.cells()] == [f"{resumed.lrs[e]:.2g}" for e in (1, 2, 3)]
        assert [e.kind for e in resumed.events] == ["continued"]
