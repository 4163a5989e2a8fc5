"""The whole app, flow by flow: lesson -> train -> stop -> history -> overlay; help, palette, size."""

from __future__ import annotations

import importlib

import pytest
from textual.binding import Binding
from textual.widgets import DataTable, Static
from ui_support import headless_run, make_app, sync, wait_until

from tui_lab.ui.screens.catalog import CatalogScreen
from tui_lab.ui.screens.help import SCREENS, HelpScreen, binding_rows, key_label
from tui_lab.ui.screens.lesson import LessonScreen
from tui_lab.ui.screens.run_detail import RunDetailScreen
from tui_lab.ui.screens.runs import RunsScreen
from tui_lab.ui.screens.too_small import TooSmallScreen
from tui_lab.ui.screens.train import TrainScreen
from tui_lab.ui.widgets.loss_plot import CurvePlot
from tui_lab.ui.widgets.train_form import TrainForm


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Tiny models: one torch thread (conftest's `one_torch_thread`)."""


@sync
async def test_lesson_to_training_to_history_to_overlay(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        # open the softmax lesson from the catalog
        await pilot.press(*"softmax", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))
        # its tool is the train screen, with the lesson's preset in the form
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TrainScreen) and app.screen.ready)
        train = app.screen
        await pilot.pause()
        values = train.query_one(TrainForm).values()
        assert (values["model"], values["dataset"], values["lr"], values["epochs"], values["batch_size"]) == \
            ("softmax", "digits", "0.5", "2", "32")
        # a run on digits: the plot gains points, then we stop it
        train.query_one(TrainForm).field("epochs").value = "1000"
        await pilot.pause()
        await pilot.press("ctrl+s")
        plot = train.query_one("#train-loss", CurvePlot)
        await wait_until(pilot, lambda: plot.point_count() >= 2)
        first = plot.point_count()
        await wait_until(pilot, lambda: plot.point_count() > first)
        await pilot.press("ctrl+x")
        await wait_until(pilot, lambda: not train.running)
        # a second, quick run to have two to overlay
        train.query_one(TrainForm).field("epochs").value = "1"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not train.running and len(app.store.list_runs()) == 2)
        # find both in the history
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen))
        table = app.screen.query_one(DataTable)
        assert [str(s) for s in table.get_column("status")] == ["finished", "cancelled"]
        await pilot.press("space", "space", "o")
        await wait_until(pilot, lambda: isinstance(app.screen, RunDetailScreen))
        assert len(app.screen.query_one("#detail-loss", CurvePlot).series) == 2
        # Escape walks back: overlay -> runs -> lessons (the lesson screen is still there)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, TrainScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))


@sync
async def test_train_screen_is_reachable_from_the_main_navigation(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, TrainScreen) and app.screen.ready)
        assert app.screen.query_one(TrainForm).values()["model"] == "lenet"
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, CatalogScreen))


@sync
async def test_a_tool_not_built_yet_says_coming_soon(tmp_path, monkeypatch):
    from tui_lab.ui import tools

    monkeypatch.setattr(tools, "build_tool_screen", lambda tool, preset=None: None)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"convolution", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        assert any("coming soon" in str(n.message) for n in app._notifications)


def test_help_lists_every_binding_of_every_screen():
    from tui_lab.ui.screens.help import tool_screens

    rows = binding_rows()
    for _, module, name in [*SCREENS, *tool_screens()]:
        try:
            cls = getattr(importlib.import_module(module), name)
        except Exception:  # another helper's screen mid-edit; the help screen skips it too
            continue
        for b in cls.BINDINGS:
            b = b if isinstance(b, Binding) else Binding(*b)
            if b.description:
                assert any(keys == key_label(b.key) and what == b.description for _, keys, what in rows), (name, b)


@sync
async def test_f1_opens_help_and_escape_closes_it(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, CatalogScreen))


@sync
async def test_command_palette_reaches_the_runs_screen_and_lessons(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"training history")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen))
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"lesson multilayer")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))
        assert app.screen.lesson.id == "mlp-digits"


@sync
async def test_below_80x24_it_says_how_large_the_terminal_must_be(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(70, 20)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, TooSmallScreen))
        text = str(app.screen.query_one("#too-small", Static).render())
        assert "at least 80x24" in text and "70x20" in text
        await pilot.resize_terminal(80, 24)
        await wait_until(pilot, lambda: isinstance(app.screen, CatalogScreen))


@sync
async def test_a_run_from_the_cli_shows_up_when_the_runs_screen_is_shown_again(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen))
        assert app.screen.query_one(DataTable).row_count == 0
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, CatalogScreen))
        headless_run(app.store)
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(app.screen, RunsScreen) and app.screen.query_one(DataTable).row_count == 1)


@sync
async def test_a_train_lesson_on_a_wide_terminal_shows_the_tool_beside_the_text(tmp_path):
    from tui_lab.ui.screens.train import TrainPanel

    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"softmax", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))
        lesson = app.screen
        panel = lesson.query_one(TrainPanel)
        await wait_until(pilot, lambda: panel.ready)
        await pilot.pause()
        assert panel.display and lesson.train_panel is panel
        assert panel.query_one(TrainForm).values()["model"] == "softmax"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not panel.running and app.store.list_runs())
        assert app.store.list_runs()[0].status == "finished"
        assert isinstance(app.screen, LessonScreen)  # trained without leaving the lesson
        # narrower than 120 columns: the tool gives way to the "Open train" button
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert lesson.train_panel is None and not panel.display
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TrainScreen))


@sync
async def test_ctrl_r_opens_any_lessons_code_cells(tmp_path):
    """A conv lesson's own code cells run from the lesson screen, not only snippets lessons."""
    from tui_lab.lessons import lessons_dir
    from tui_lab.ui.app import DllabApp
    from tui_lab.ui.screens.snippets import SnippetsScreen

    app = DllabApp(lessons_dir=lessons_dir(), warm_torch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"cross-corr", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))
        assert app.screen.lesson.tool == "conv" and app.screen.lesson.cells
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, SnippetsScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))
