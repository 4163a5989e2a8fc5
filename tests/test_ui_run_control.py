"""The train screen steering a run: P pauses and resumes, H changes lr live (bad values inline), the
change is recorded and marked on the loss curve."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static
from ui_support import sync, wait_until

from test_ui_train import FAST, TrainApp, ready, status
from tui_lab.ui.screens.train import parse_hyperparameters
from tui_lab.ui.widgets.loss_plot import CurvePlot


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Tiny models: one torch thread (conftest's `one_torch_thread`)."""


def hp_message(screen) -> str:
    return str(screen.query_one("#train-hp-msg", Static).render())


@sync
async def test_pause_resume_and_a_live_lr_change_from_the_keyboard():
    app = TrainApp({**FAST, "model": "lenet", "epochs": 30, "batch_size": 16, "lr": 0.05})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        panel = screen.panel
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: screen.last_step is not None)
        await pilot.press("p")
        await wait_until(pilot, lambda: panel.paused_at is not None, timeout=10)
        assert "paused" in status(screen)
        paused_step = panel.paused_at.step
        await pilot.pause(0.3)
        assert screen.last_step.global_step <= paused_step  # nothing moves while paused

        await pilot.press("h")
        box = screen.query_one("#train-hp", Input)
        assert box.display and box.has_focus
        for key in "lr=abc":
            await pilot.press(key)
        await pilot.press("enter")
        assert "lr" in hp_message(screen) and "finite number" in hp_message(screen)  # inline, one line
        box.value = "lr=0.001"
        await pilot.press("enter")
        assert not box.display
        await pilot.press("p")  # resume: the change lands before the next step
        await wait_until(pilot, lambda: panel.changes, timeout=10)
        change = panel.changes[0]
        assert change.step == paused_step and change.changes[0].new == 0.001
        await pilot.press("ctrl+x")
        await wait_until(pilot, lambda: not screen.running, timeout=10)
        plot = screen.query_one("#train-loss", CurvePlot)
        assert plot.markers == [paused_step]
        assert "changed" in str(plot.legend(plot._visible()))
        events = app.store.get_run(screen.run_id).events
        assert [(e.kind, e.step) for e in events] == [("paused", paused_step), ("hyperparameters", paused_step),
                                                     ("resumed", paused_step)]
        assert events[1].data["lr"]["new"] == 0.001


def test_parse_hyperparameters():
    assert parse_hyperparameters("0.01") == {"lr": 0.01}
    assert parse_hyperparameters("lr=0.1, mom=0.9 wd=1e-4") == {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-4}
    for text, field in (("", "lr"), ("beta=1", "beta"), ("momentum=1.5", "momentum"), ("lr=-2", "lr")):
        with pytest.raises(Exception) as err:
            parse_hyperparameters(text)
        assert err.value.field == field


def test_lr_line_and_epoch_log_mark_live_changes():
    from tui_lab.training import EpochEnd
    from tui_lab.ui.widgets.epoch_log import EpochLog, lr_line

    assert lr_line([], set()) == ""
    assert lr_line([0.1, 0.1, 0.01, 0.001], set()) == "lr ██▂▁ 0.1→0.001"
    assert lr_line([0.1, 0.05], {2}) == "lr █▅ 0.1→0.05  *live"
    assert len(lr_line([0.01] * 100, {3})) == 36  # the newest epochs that fit the left pane
    log = EpochLog()
    log.rows = [EpochEnd(e, 1.0, 0.5, 1.0, 0.5, 100.0, 1.0, lr=lr) for e, lr in ((1, 0.01), (2, 0.001))]
    log.live = {2}
    assert [row[4] for row in log.cells()] == ["0.01", "0.001*"]
