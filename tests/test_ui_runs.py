"""The runs screen: history from the store (CLI runs, killed runs), one run's curves, overlays."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static
from ui_support import headless_run, make_app, sync, wait_until

from tui_lab.runs import RunStore
from tui_lab.ui.screens.run_detail import RunDetailScreen
from tui_lab.ui.screens.runs import RunsScreen
from tui_lab.ui.widgets.epoch_table import EpochTable
from tui_lab.ui.widgets.loss_plot import CurvePlot


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Tiny models: one torch thread (conftest's `one_torch_thread`)."""


@pytest.fixture
def history():
    """Two finished runs recorded without the app (as `dllab train` does) and one killed mid-run."""
    store = RunStore()
    a, _ = headless_run(store, lr=0.5)
    b, _ = headless_run(store, lr=0.05, optimizer="momentum")
    killed = store.create_run({"model": "mlp", "dataset": "digits", "optimizer": "adam", "lr": 0.001,
                               "batch_size": 64, "epochs": 3, "seed": 0, "device": "cpu"})
    store.add_step(killed, 5, 1, 2.0)
    store._exec("UPDATE runs SET pid = ? WHERE id = ?", (2**22 + 12345, killed))  # its process is gone
    store.close()
    return a, b, killed


def column(table: DataTable, key: str) -> list[str]:
    return [str(v) for v in table.get_column(key)]


@sync
async def test_history_lists_cli_and_interrupted_runs(tmp_path, history):
    a, b, killed = history
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen))
        table = app.screen.query_one(DataTable)
        assert column(table, "id") == [str(killed), str(b), str(a)]
        assert column(table, "status") == ["interrupted", "finished", "finished"]
        assert column(table, "optimizer") == ["adam", "momentum", "sgd"]
        assert "3 in the history" in str(app.screen.query_one("#runs-title", Static).render())


@sync
async def test_enter_opens_a_runs_curves(tmp_path, history):
    a, b, _ = history
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen))
        await pilot.press("down", "enter")  # the second row: run b
        await wait_until(pilot, lambda: isinstance(app.screen, RunDetailScreen))
        detail = app.store.get_run(b)
        plot = app.screen.query_one("#detail-loss", CurvePlot)
        assert plot.series["train"] == ([s[0] for s in detail.steps], [s[2] for s in detail.steps])
        assert plot.series["val"][1] == [e.val_loss for e in detail.epochs]
        await pilot.pause()
        assert app.screen.query_one(EpochTable).row_count == len(detail.epochs) == 1
        await pilot.press("a")  # per epoch
        assert app.screen.query_one("#detail-loss", CurvePlot).series["train"][0] == [1]
        await pilot.press("l")  # log-scaled loss
        assert app.screen.query_one("#detail-loss", CurvePlot).ylog
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen))


@sync
async def test_mark_two_runs_and_overlay_their_curves(tmp_path, history):
    a, b, _ = history
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen))
        await pilot.press("o")  # nothing marked yet: it says how
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)
        await pilot.press("down", "space", "space")  # marks b, then a (the cursor moves down)
        table = app.screen.query_one(DataTable)
        assert column(table, "mark") == [" ", "✓", "✓"]
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, RunDetailScreen))
        series = app.screen.query_one("#detail-loss", CurvePlot).series
        assert len(series) == 2
        for run_id in (a, b):
            name = next(n for n in series if n.startswith(f"#{run_id} "))
            assert series[name][1] == [s[2] for s in app.store.get_run(run_id).steps]
        acc = app.screen.query_one("#detail-acc", CurvePlot).series
        assert set(acc) == {f"#{a}", f"#{b}"}
        legend = str(app.screen.query_one("#detail-legend", Static).render())
        assert f"#{a} softmax sgd lr=0.5" in legend and f"#{b} softmax momentum lr=0.05" in legend


@sync
async def test_empty_history_says_how_to_make_a_run(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen))
        assert "No runs yet" in str(app.screen.query_one("#runs-title", Static).render())
        await pilot.press("enter", "space", "o")
        assert isinstance(app.screen, RunsScreen)


def test_start_times_are_short_enough_for_80_columns():
    import time

    from tui_lab.ui.screens.runs import started_text

    now = time.mktime((2026, 12, 1, 15, 0, 0, 0, 0, -1))
    assert started_text(now - 3600, now) == "14:00"
    assert started_text(now - 3 * 86400, now) == "11-28"


@sync
async def test_every_column_is_whole_at_80x24(tmp_path, history):
    from textual.widgets import DataTable

    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        needed = sum(column.get_render_width(table) for column in table.columns.values())
        assert needed <= table.scrollable_content_region.width
