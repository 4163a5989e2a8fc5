"""The app on a damaged or unusable run store (issue #17): it lists lessons, opens them, shows the
history screen and a run, and says what happened to the store in a banner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.widgets import DataTable
from ui_support import make_app, sync, wait_until

from tui_lab.ui.screens.catalog import CatalogScreen
from tui_lab.ui.screens.lesson import LessonScreen
from tui_lab.ui.screens.runs import RunsScreen
from tui_lab.ui.screens.train import TrainScreen
from tui_lab.ui.widgets.store_banner import StoreBanner


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Tiny models: one torch thread (conftest's `one_torch_thread`)."""


def _banner(app) -> StoreBanner:
    return app.screen.query_one(StoreBanner)


async def _walk(app, pilot) -> None:
    """Catalog -> lesson (Enter) -> back -> history (F4) -> train (F3): nothing kills the app."""
    await wait_until(pilot, lambda: isinstance(app.screen, CatalogScreen))
    await pilot.press(*"softmax", "enter")
    await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))
    await pilot.press("ctrl+d")  # mark done: kept for this session even without a store on disk
    await pilot.pause()
    assert "softmax-digits" in app.store.done_lessons()
    await pilot.press("escape")
    await wait_until(pilot, lambda: isinstance(app.screen, CatalogScreen))
    await pilot.press("f4")
    await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen))
    assert app.screen.query_one(DataTable).row_count == 0
    await pilot.press("f3")
    await wait_until(pilot, lambda: isinstance(app.screen, TrainScreen))
    assert app.is_running


@sync
async def test_app_on_a_damaged_store_moves_it_aside_says_so_and_works(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    damaged = home / "runs.sqlite3"
    damaged.write_bytes(os.urandom(53248))
    app = make_app(tmp_path, store_path=damaged)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, CatalogScreen))
        banner = _banner(app)
        assert banner.display and not banner.has_class("-problem")
        text = str(banner.render())
        assert text.startswith("Run store ") and "was damaged" in text and "damaged-" in text
        assert any("damaged" in str(n.message) for n in app._notifications)
        await _walk(app, pilot)
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen))
        assert _banner(app).display
    aside = [p for p in home.iterdir() if ".damaged-" in p.name]
    assert aside and app.store_problem is None


@sync
async def test_app_on_an_unusable_store_shows_history_off_and_keeps_working(tmp_path):
    app = make_app(tmp_path, store_path=Path("/proc/self/runs.sqlite3"))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, CatalogScreen))
        banner = _banner(app)
        assert banner.display and banner.has_class("-problem")
        assert "History off" in str(banner.render()) and "not writable" in str(banner.render())
        await _walk(app, pilot)
        assert not app.store.persistent


@sync
async def test_a_healthy_store_shows_no_banner(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, CatalogScreen))
        assert not _banner(app).display
        assert app.store.persistent and not app._notifications
