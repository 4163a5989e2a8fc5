"""The optimizer race screen as a learner drives it: start, watch, stop, bad input, leave."""

from __future__ import annotations

import functools

import pytest
from textual.widgets import Input, Static

from tui_lab.ui.screens.compare import CompareScreen
from ui_support import ScreenApp, sync


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Tiny models: one torch thread (conftest's `one_torch_thread`)."""


CompareApp = functools.partial(ScreenApp, CompareScreen)


SMALL = {"model": "mlp", "dataset": "digits", "model_options": {"hidden": [32]}, "epochs": 1, "device": "cpu",
         "optimizers": ["sgd", "adam"], "lr": [0.1, 0.001]}


async def _wait_done(pilot, limit: float = 60.0) -> None:
    screen = pilot.app.screen
    for _ in range(int(limit / 0.05)):
        await pilot.pause(0.05)
        if not screen.running:
            break
    await pilot.pause()


def _text(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def _table_text(app) -> str:
    from rich.console import Console

    console = Console(width=80, record=True, file=open("/dev/null", "w"))
    console.print(app.screen.query_one("#cmp-table", Static).content)
    return console.export_text()


@sync
async def test_race_runs_shows_results_and_saves_a_group():
    from tui_lab.runs import RunStore

    app = CompareApp(SMALL)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+s")  # a tiny race may already be over when the key press returns
        await _wait_done(pilot)
        screen = app.screen
        assert screen.status_of == ["finished", "finished"]
        final = screen.final
        table = _table_text(app)
        for r in final.results:
            assert f"{r.initial_loss:.4f}" in table and f"{r.final_loss:.4f}" in table
            assert f"{100 * r.final_acc:.1f}%" in table
        assert len({r.initial_loss for r in final.results}) == 1
        assert f"group {screen.group}" in _text(app, "#cmp-status")
        # each curve starts at the shared loss before any update, at step 0
        assert [c[0][0] for c in screen.curves] == [0, 0]
        assert [c[1][0] for c in screen.curves] == [final.results[0].initial_loss] * 2
        runs = RunStore().list_runs(group_id=screen.group)
        assert sorted(r.optimizer for r in runs) == ["adam", "sgd"] and {r.status for r in runs} == {"finished"}
        assert not screen.query_one("#cmp-optimizers", Input).disabled
        await pilot.press("ctrl+v")
        assert screen.view == "acc"


@sync
async def test_a_diverging_optimizer_does_not_stop_the_other():
    app = CompareApp({**SMALL, "lr": [1e6, 0.001], "start": True})
    async with app.run_test(size=(80, 24)) as pilot:
        await _wait_done(pilot)
        assert app.screen.status_of == ["diverged", "finished"]
        assert "diverged" in _table_text(app)


@sync
async def test_bad_form_input_says_which_field():
    app = CompareApp(SMALL)
    async with app.run_test(size=(80, 24)) as pilot:
        app.screen.query_one("#cmp-optimizers", Input).value = "sgd,lion"
        await pilot.press("ctrl+s")
        await _wait_done(pilot)
        assert "not started: optimizer:" in _text(app, "#cmp-status")
        assert not app.screen.running and app.screen.names == []


@sync
async def test_stop_cancels_every_run_and_escape_leaves():
    from tui_lab.runs import RunStore

    app = CompareApp({**SMALL, "epochs": 200, "start": True})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        for _ in range(400):
            await pilot.pause(0.05)
            if screen.global_step > 0:
                break
        await pilot.press("ctrl+x")
        await _wait_done(pilot)
        assert screen.status_of == ["cancelled", "cancelled"]
        assert "stopped" in _text(app, "#cmp-status")
        assert {r.status for r in RunStore().list_runs(group_id=screen.group)} == {"cancelled"}
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, CompareScreen)


def test_snapshot_ready(snap_compare):
    async def run_before(pilot):
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await pilot.pause()

    assert snap_compare(CompareApp({"optimizers": ["sgd", "momentum", "adam"], "lr": [0.1, 0.05, 0.001]}),
                        terminal_size=(80, 24), run_before=run_before)
