"""The snippets tool: pick a cell, run it, compare with the expected output, edit, reset, rerun."""

from __future__ import annotations

import functools

import pytest
from textual.widgets import OptionList, Static, TextArea

from tui_lab.lessons import find_lesson
from tui_lab.ui.screens.snippets import SnippetsScreen, cells_from_preset
from ui_support import ScreenApp, sync


SnippetsApp = functools.partial(ScreenApp, SnippetsScreen)


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def press_and_wait(pilot, *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


CELLS = {"cells": [{"code": "print(1 + 1)", "expected": "2"}, "1 / 0", {"code": "print('no check')"}]}


@sync
async def test_runs_the_lessons_seed_cell_and_matches_the_expected_output():
    lesson = find_lesson("conv-corr2d")
    app = SnippetsApp({"lesson": "conv-corr2d"})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, SnippetsScreen)
        assert screen.query_one("#snippets-code", TextArea).text == lesson.cells[0].code
        assert "(not run yet)" in text(screen, "#snippets-output")
        await press_and_wait(pilot, "ctrl+r")
        output = text(screen, "#snippets-output")
        assert output == "tensor([[19., 25.],\n        [37., 43.]])"
        assert output == lesson.cells[0].expected
        assert text(screen, "#snippets-expected") == lesson.cells[0].expected
        assert "✓ output matches the expected output" in text(screen, "#snippets-status")


@sync
async def test_edit_rerun_and_reset_a_cell():
    app = SnippetsApp(CELLS)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        editor = screen.query_one("#snippets-code", TextArea)
        assert app.focused is editor  # the editor has the focus from the start
        await pilot.press(*"print(7)", "enter")
        assert editor.text == "print(7)\nprint(1 + 1)"
        await press_and_wait(pilot, "ctrl+r")
        assert text(screen, "#snippets-output").startswith("7\n2\n\nwhat differs (- expected, + got):\n+ 7")
        assert "✗ output differs from the expected output (edited code)" in text(screen, "#snippets-status")
        assert "*" in str(screen.query_one(OptionList).get_option_at_index(0).prompt)
        await press_and_wait(pilot, "ctrl+o", "ctrl+r")
        assert editor.text == "print(1 + 1)"
        assert text(screen, "#snippets-output") == "2"
        assert "✓ output matches" in text(screen, "#snippets-status")


@sync
async def test_an_error_is_shown_on_one_line_and_the_screen_survives():
    app = SnippetsApp(CELLS)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await press_and_wait(pilot, "ctrl+n", "ctrl+r")
        assert screen.query_one("#snippets-code", TextArea).text == "1 / 0"
        assert text(screen, "#snippets-output") == "ZeroDivisionError: division by zero (line 1)"
        assert "✗ raised an error" in text(screen, "#snippets-status")
        await press_and_wait(pilot, "ctrl+n", "ctrl+r")
        assert text(screen, "#snippets-output") == "no check"
        assert "ran" in text(screen, "#snippets-status")
        assert "unchecked" in text(screen, "#snippets-expected")
        await press_and_wait(pilot, "ctrl+b")
        assert screen.query_one("#snippets-code", TextArea).text == "1 / 0"
        # the earlier result is remembered when coming back to a cell
        assert text(screen, "#snippets-output") == "ZeroDivisionError: division by zero (line 1)"


@sync
async def test_run_all_marks_every_cell_and_sums_up():
    app = SnippetsApp(CELLS)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await press_and_wait(pilot, "ctrl+t")
        assert sorted(screen.results) == [0, 1, 2] and screen.running is None
        assert text(screen, "#snippets-status") == "Ran all 3 cells: 2 as expected, 1 not"
        marks = [str(screen.query_one(OptionList).get_option_at_index(i).prompt)[0] for i in range(3)]
        assert marks == ["✓", "!", "✓"]
        assert text(screen, "#snippets-output") == "2"


@sync
async def test_run_all_on_a_real_lesson_matches_every_expected_output():
    app = SnippetsApp({"lesson": "conv-padding-stride"})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await press_and_wait(pilot, "ctrl+t")
        count = len(find_lesson("conv-padding-stride").cells)
        assert text(screen, "#snippets-status") == f"Ran all {count} cells: {count} as expected, 0 not"


@sync
async def test_list_navigation_by_keyboard_changes_the_cell():
    app = SnippetsApp(CELLS)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await pilot.press("shift+tab")  # from the editor to the list
        assert app.focused is screen.query_one(OptionList)
        await pilot.press("down", "down")
        assert screen.query_one("#snippets-code", TextArea).text == "print('no check')"
        await pilot.press("up")
        assert screen.query_one("#snippets-code", TextArea).text == "1 / 0"


@pytest.mark.parametrize(
    "preset, message",
    [({"lesson": "no-such-lesson"}, "no lesson 'no-such-lesson'"), ({}, "open the snippets tool from a lesson")],
)
@sync
async def test_unknown_or_missing_lesson_says_so(preset, message):
    app = SnippetsApp(preset)
    async with app.run_test(size=(80, 24)) as pilot:
        assert message in text(app.screen, "#snippets-status")
        await press_and_wait(pilot, "ctrl+r", "ctrl+n")  # nothing to run, nothing breaks
        assert message in text(app.screen, "#snippets-status")


@sync
async def test_escape_leaves_the_tool():
    app = SnippetsApp(CELLS)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SnippetsScreen)


def test_cells_from_preset_accepts_strings_and_tables():
    title, cells, problem = cells_from_preset({"cells": ["x = 1", {"code": "print(2)", "expected": "2"}], "title": "T"})
    assert problem is None and title == "T"
    assert [(c.code, c.expected) for c in cells] == [("x = 1", None), ("print(2)", "2")]
    assert cells_from_preset({"cells": [3]})[2].startswith("preset 'cells' has an entry")
    assert cells_from_preset({"cells": "print(1)"})[2].startswith("preset 'cells' must be a list")


def _snap_before(*keys: str):
    async def run_before(pilot) -> None:
        await pilot.pause()
        for area in pilot.app.screen.query(TextArea):  # the focused editor's cursor: no blinking in a snapshot
            area.cursor_blink = False
        for key in keys:
            await pilot.press(key)
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()

    return run_before


def test_snapshot_corr2d_after_run_80x24(snap_compare):
    assert snap_compare(SnippetsApp({"lesson": "conv-corr2d"}), terminal_size=(80, 24),
                        run_before=_snap_before("ctrl+r"))


def test_snapshot_output_differs_120x40(snap_compare):
    """An edited cell whose output no longer matches: the diff under the output, long lines wrapped."""
    cells = {"cells": [{"code": "print('a ' * 40)\nprint('abc')", "expected": "a a\nabd"}]}
    assert snap_compare(SnippetsApp(cells), terminal_size=(120, 40), run_before=_snap_before("ctrl+r"))


@sync
async def test_focus_starts_in_the_editor_long_output_wraps_and_a_difference_is_shown():
    long = "print('x' * 150)"
    app = SnippetsApp({"cells": [{"code": "print('abc')\nprint('same')", "expected": "abd\nsame"}, long]})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert app.focused is screen.query_one("#snippets-code", TextArea)  # typing goes into the code
        await press_and_wait(pilot, "ctrl+r")  # Ctrl+R from inside the editor runs the cell
        output = text(screen, "#snippets-output")
        assert "what differs (- expected, + got):\n- abd\n+ abc" in output and "same\n" not in output.split("differs")[1]
        assert "output differs" in text(screen, "#snippets-status")
        await press_and_wait(pilot, "ctrl+n", "ctrl+r")
        pane = screen.query_one("#snippets-output", Static)
        box = screen.query_one("#snippets-output-box")
        assert pane.size.width <= box.content_region.width  # wrapped inside its box, not cut
        assert pane.size.height >= 2  # 150 x's take several lines


@sync
async def test_ctrl_r_on_a_snippets_lesson_opens_its_cells(tmp_path):
    from ui_support import wait_until

    from tui_lab.ui.app import DllabApp
    from tui_lab.ui.screens.lesson import LessonScreen

    app = DllabApp(store_path=tmp_path / "runs.db", warm_torch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_lesson("autograd")
        await wait_until(pilot, lambda: isinstance(app.screen, LessonScreen))
        assert app.screen.lesson.tool == "snippets"
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, SnippetsScreen))
