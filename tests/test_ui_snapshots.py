"""Snapshots of the main screens at 80x24 and 120x40 (sample lessons, a temp store, no timings shown).

Update after an intended change with `pytest tests/test_ui_snapshots.py --snapshot-update` and look
at the SVGs before committing them.
"""

from __future__ import annotations

import pytest
import torch  # noqa: F401
from ui_support import make_app, wait_until

from tui_lab.runs import EpochRow, RunStore
from tui_lab.ui.screens.runs import RunsScreen
from tui_lab.ui.screens.train import TrainScreen

SIZES = [(80, 24), (120, 40)]


def fake_history() -> list[int]:
    """Two runs with fixed numbers, written the way the engine writes them."""
    store = RunStore()
    ids = []
    for lr, optimizer, scale in ((0.5, "sgd", 1.0), (0.05, "momentum", 0.7)):
        run_id = store.create_run({"model": "softmax", "dataset": "digits", "optimizer": optimizer, "lr": lr,
                                   "batch_size": 32, "epochs": 3, "seed": 0, "device": "cpu"})
        for step in range(1, 31):
            store.add_step(run_id, step, 1 + (step - 1) // 10, 2.3 * scale / (1 + 0.2 * step) + 0.1)
        for epoch in (1, 2, 3):
            store.add_epoch(run_id, EpochRow(epoch, 1.0 * scale / epoch, 0.6 + 0.1 * epoch, 0.9 * scale / epoch,
                                             0.55 + 0.1 * epoch * scale, 1000.0 * epoch, 1.0))
        store.finish(run_id, "finished")
        ids.append(run_id)
    store.close()
    return ids


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_catalog(snap_compare, tmp_path, size):
    assert snap_compare(make_app(tmp_path), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_catalog_filtered(snap_compare, tmp_path, size):
    assert snap_compare(make_app(tmp_path), press=list("digits"), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_lesson(snap_compare, tmp_path, size):
    """A train lesson: text and an Open button at 80x24, text beside the train tool at 120x40."""
    from tui_lab.ui.screens.lesson import LessonScreen
    from tui_lab.ui.screens.train import TrainPanel

    async def open_lesson(pilot):
        await pilot.press(*"softmax", "enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, LessonScreen))
        await wait_until(pilot, lambda: pilot.app.screen.query_one(TrainPanel).ready)
        await pilot.pause()

    assert snap_compare(make_app(tmp_path), run_before=open_lesson, terminal_size=size)


def test_lesson_with_another_tool(snap_compare, tmp_path):
    assert snap_compare(make_app(tmp_path), press=[*"convolution", "enter", "_"], terminal_size=(120, 40))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_train_form(snap_compare, tmp_path, size):
    async def ready(pilot):
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, TrainScreen) and pilot.app.screen.ready)
        await pilot.pause()

    assert snap_compare(make_app(tmp_path), run_before=ready, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_train_bad_value(snap_compare, tmp_path, size):
    async def bad_lr(pilot):
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, TrainScreen) and pilot.app.screen.ready)
        pilot.app.screen.query_one("#field-lr").value = "fast"
        await pilot.pause()

    assert snap_compare(make_app(tmp_path), run_before=bad_lr, terminal_size=size)


async def _runs(pilot):
    await pilot.press("f4")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, RunsScreen))
    pilot.app.screen.show_times = False  # start times differ on every run
    pilot.app.screen.action_refresh()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_runs(snap_compare, tmp_path, size):
    fake_history()
    assert snap_compare(make_app(tmp_path), run_before=_runs, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_run_curves(snap_compare, tmp_path, size):
    fake_history()

    async def open_one(pilot):
        await _runs(pilot)
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(make_app(tmp_path), run_before=open_one, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_overlay(snap_compare, tmp_path, size):
    fake_history()

    async def overlay(pilot):
        await _runs(pilot)
        await pilot.press("space", "space", "o")
        await pilot.pause()

    assert snap_compare(make_app(tmp_path), run_before=overlay, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help(snap_compare, tmp_path, size, monkeypatch):
    from tui_lab.ui.screens import help as help_screen

    monkeypatch.setattr(help_screen, "tool_screens", lambda: [])  # other screens' keys change on their own
    assert snap_compare(make_app(tmp_path), press=["f1", "_"], terminal_size=size)


def test_too_small(snap_compare, tmp_path):
    assert snap_compare(make_app(tmp_path), press=["_"], terminal_size=(60, 20))
