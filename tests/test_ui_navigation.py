"""Finding your way as a learner: F2 is the catalog, Escape one level back, a breadcrumb, `?` help,
a filter that ranks titles first, keys shown as typed, every tool in the palette, footers that fit."""

from __future__ import annotations

import torch  # noqa: F401  (imported up front: the app would import it in the background)
from textual.widgets import Input
from textual.widgets._footer import FooterKey
from ui_support import make_app, sync, wait_until

from tui_lab.lessons import load_lessons
from tui_lab.ui.commands import tool_commands
from tui_lab.ui.screens.catalog import CatalogScreen, rank_lessons
from tui_lab.ui.screens.help import HelpScreen, key_label
from tui_lab.ui.screens.lesson import LessonScreen
from tui_lab.ui.tools import TOOL_SCREENS
from tui_lab.ui.widgets.breadcrumb import Breadcrumb
from tui_lab.ui.widgets.footer import Footer


async def open_conv_tool(pilot):
    """Catalog -> the conv lesson -> its stepper, as a learner types it."""
    await pilot.press(*"convolution", "enter")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, LessonScreen))
    await pilot.press("enter")
    await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "ConvScreen")
    await pilot.pause()
    return pilot.app.screen


@sync
async def test_f2_from_a_tool_shows_the_catalog_and_typing_filters_lessons(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        conv = await open_conv_tool(pilot)
        padding_before = conv.state.padding if hasattr(conv, "state") else None
        await pilot.press("f3")
        await wait_until(pilot, lambda: app.current_mode == "train")
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, CatalogScreen))
        assert len(app.screen_stack) == 1  # the lesson and its tool are gone, not underneath
        box = app.screen.query_one("#catalog-filter", Input)
        assert app.focused is box
        await pilot.press(*"pool")  # the old query was selected: typing replaces it
        await pilot.pause()
        assert box.value == "pool"
        assert not conv.is_attached and (padding_before is None or conv.state.padding == padding_before)


@sync
async def test_escape_goes_back_one_level_and_the_breadcrumb_says_where_you_are(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_conv_tool(pilot)
        crumb = app.screen.query_one(Breadcrumb)
        assert crumb.plain_trail == ("dllab › Lessons › Convolutional networks › Convolution step by step"
                                     " › convolution stepper")
        assert crumb.region.y == 0 and "stepper" in str(crumb.render())  # the end is kept at 80 columns
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))
        assert app.screen.query_one(Breadcrumb).plain_trail.endswith("Convolution step by step")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, CatalogScreen))
        await pilot.press("f3")
        await wait_until(pilot, lambda: app.current_mode == "train")
        await wait_until(pilot, lambda: bool(app.screen.query(Breadcrumb)))
        assert app.screen.query_one(Breadcrumb).plain_trail == "dllab › Train"


@sync
async def test_question_mark_opens_help_unless_the_learner_is_typing_a_query(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, CatalogScreen))
        await pilot.press(*"why", "question_mark")
        await pilot.pause()
        assert app.screen.query_one("#catalog-filter", Input).value == "why?"
        assert isinstance(app.screen, CatalogScreen)
        # on a lesson (no text input focused) `?` is help too
        await pilot.press("escape", *"softmax", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))


def test_the_filter_ranks_title_matches_over_section_and_summary_matches():
    lessons, _ = load_lessons(None)
    best = {query: rank_lessons(query, lessons)[0].id for query in ("autograd", "race", "gradient descent")}
    assert best == {"autograd": "autograd", "race": "optimizer-race", "gradient descent": "optimizers"}
    # a summary-only match still appears, after the title matches
    assert [lesson.id for lesson in rank_lessons("gradient descent", lessons)][-1] == "linear-regression"


@sync
async def test_enter_opens_the_best_match_of_the_real_catalog(tmp_path):
    from tui_lab.ui.app import DllabApp

    for query, lesson_id in (("autograd", "autograd"), ("race", "optimizer-race")):
        app = DllabApp(store_path=tmp_path / f"{lesson_id}.db", warm_torch=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*query)
            await pilot.pause()
            await pilot.press("enter")
            await wait_until(pilot, lambda a=app: isinstance(a.screen, LessonScreen))
            assert app.screen.lesson.id == lesson_id


def test_help_shows_keys_as_typed():
    assert key_label("right_square_bracket") == "]"
    assert key_label("plus,equals_sign") == "+ / ="
    assert key_label("ctrl+s") == "Ctrl+S"
    assert key_label("escape,f1,question_mark") == "Esc / F1 / ?"


def test_every_tool_is_in_the_command_palette():
    names = [name for name, _, _ in tool_commands(lambda tool, preset: None)]
    tools = [tool for tool in TOOL_SCREENS if tool != "train"]  # train has its own entry (F3)
    assert len(names) == len(tools)
    assert "Tool: convolution stepper" in names and "Tool: optimizer race" in names


@sync
async def test_footers_show_only_whole_bindings_at_80_columns(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"softmax", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))
        await pilot.pause()
        footer = app.screen.query_one(Footer)
        keys = list(footer.query(FooterKey))
        assert keys and all(key.region.right <= footer.region.right for key in keys)
        palette = [key for key in keys if key.has_class("-command-palette")]
        others = [key for key in keys if key not in palette]
        assert all(key.region.right <= palette[0].region.x for key in others)  # nothing under the palette key


@sync
async def test_enter_typed_right_after_the_query_opens_the_match_not_the_old_highlight(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        box = app.screen.query_one("#catalog-filter", Input)
        with app.screen.prevent(Input.Changed):  # as when the Changed message is still queued
            box.value = "percep"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))
        assert app.screen.lesson.id == "mlp-digits"


@sync
async def test_ctrl_q_during_training_stops_the_run_records_it_and_exits(tmp_path):
    from tui_lab.ui.screens.train import TrainScreen

    app = make_app(tmp_path, store_path=tmp_path / "runs.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, TrainScreen) and app.screen.ready)
        app.screen.panel.query_one("#field-epochs").value = "500"  # long enough to be running at the quit
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen.last_step is not None)
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: app.return_code is not None, timeout=10)  # the app exited
    from tui_lab.runs import RunStore

    store = RunStore(tmp_path / "runs.db")
    assert [run.status for run in store.list_runs()] == ["cancelled"]
    store.close()
