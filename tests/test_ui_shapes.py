"""The shapes screen driven by keys: trace, fold, depth, mismatch detail, conv hand-off; snapshots."""

from __future__ import annotations

import functools

import pytest
from textual.widgets import DataTable, Input, Static

from tui_lab.ui.screens.shapes import ShapesScreen
from ui_support import ScreenApp, sync


ShapesApp = functools.partial(ScreenApp, ShapesScreen)


async def settle(pilot) -> None:
    """Wait until the screen is mounted, its trace applied and no worker runs (bounded: ~20 s)."""
    for _ in range(400):
        await pilot.pause(0.05)
        await pilot.app.workers.wait_for_complete()
        screen = pilot.app.screen
        if not isinstance(screen, ShapesScreen):
            break
        if screen.is_mounted and not screen.tracing and (screen.result is not None or screen.error_text):
            break
    await pilot.pause()
    await pilot.pause()


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def table_of(screen) -> DataTable:
    return screen.query_one("#shapes-table", DataTable)


@sync
async def test_lenet_table_and_formula_detail():
    app = ShapesApp({"model": "lenet", "dataset": "digits", "input": "1x28x28"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ShapesScreen)
        assert table_of(screen).row_count == 13  # the model and its 12 layers
        title = text_of(screen, "#shapes-title")
        assert "1x28x28 → 10" in title and "params 61.70K" in title and "MACs 416.52K" in title
        await pilot.press("down")  # the first conv
        detail = text_of(screen, "#shapes-detail")
        assert "1x1x28x28 → 1x6x28x28" in detail
        assert "H: floor((28 - 5 + 2*2) / 1) + 1 = 28" in detail
        assert "receptive field 5x5, jump 1x1" in detail
        row = table_of(screen).get_row_at(3)  # the first pooling halves the image: highlighted
        assert str(row[1]) == "6x14x14" and "yellow" in str(row[1].style)


@sync
async def test_fold_a_block_and_change_depth():
    app = ShapesApp({"model": "googlenet"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        table = table_of(screen)
        full = table.row_count
        assert full == len(screen.result.rows)
        for _ in range(4):
            await pilot.press("down")  # row 4: the first Inception block
        assert "Inception" in str(table.get_row_at(4)[0])
        await pilot.press("space")
        inception = screen.result.rows[4]
        children = sum(1 for r in screen.result.rows if r.parent == inception.index)
        assert table.row_count == full - children
        assert "▸" in str(table.get_row_at(4)[0])
        await pilot.press("enter")  # enter folds too: open again
        assert table.row_count == full
        await pilot.press("minus")  # depth 1: every block folded
        assert table.row_count == sum(1 for r in screen.result.rows if r.depth <= 1)
        await pilot.press("plus")
        assert table.row_count == full


@sync
async def test_mismatch_shows_rows_up_to_the_failure_and_the_fix():
    app = ShapesApp({"model": "mismatch-demo"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        table = table_of(screen)
        assert table.row_count == 9
        assert table.cursor_row == 8  # the cursor waits on the failing layer
        assert "failed" in str(table.get_row_at(8)[1])
        assert "✗ fails at fc1" in text_of(screen, "#shapes-title")
        detail = text_of(screen, "#shapes-detail")
        assert "expects in_features=400 but received 1x256" in detail
        assert "fix: Linear(in_features=256, out_features=120)" in detail


@sync
async def test_open_a_conv_row_in_the_conv_screen():
    app = ShapesApp({"model": "lenet"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")  # on the model row: nothing to open
        assert isinstance(app.screen, ShapesScreen)
        await pilot.press("down", "down", "down", "c")  # the first AvgPool2d
        await settle(pilot)
        from tui_lab.ui.tools import tool_available

        if tool_available("conv"):
            from tui_lab.ui.screens.conv import ConvScreen

            assert isinstance(app.screen, ConvScreen)
            assert app.screen.preset["mode"] == "avg" and app.screen.preset["kernel"] == [2, 2]
            await pilot.press("escape")
            assert isinstance(app.screen, ShapesScreen)


@sync
async def test_conv_screen_missing_shows_a_notice(monkeypatch):
    import tui_lab.ui.tools as tools

    monkeypatch.setattr(tools, "build_tool_screen", lambda tool, preset=None, **kw: None)
    app = ShapesApp({"model": "lenet"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "c")
        await pilot.pause()
        assert isinstance(app.screen, ShapesScreen)
        assert any("not available" in str(n.message) for n in app._notifications)


@sync
async def test_trace_another_model_from_the_form():
    app = ShapesApp({"model": "lenet"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        field = app.screen.query_one("#shapes-model", Input)
        assert field.has_focus
        field.value = "inception-demo"
        await pilot.press("enter")
        await settle(pilot)
        title = text_of(app.screen, "#shapes-title")
        assert "192x28x28 → 256x28x28" in title and "MACs 128.04M" in title
        field.value = "nosuch"
        await pilot.press("m", "enter")
        await settle(pilot)
        assert "error: model: unknown model 'nosuch'" in text_of(app.screen, "#shapes-title")
        await pilot.press("escape")
        assert not isinstance(app.screen, ShapesScreen)


@sync
async def test_side_by_side_of_the_seeds_table():
    app = ShapesApp({"model": "inception-demo"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        lines = text_of(app.screen, "#shapes-detail").splitlines()
        rows = {line.split()[0]: line.split() for line in lines[1:] if line.strip()}
        assert rows["inception-demo"][2:5] == ["163,328", "0.16", "M"] and rows["inception-demo"][5] == "128"
        assert rows["conv3x3-demo"][3] == "0.44" and rows["conv3x3-demo"][5] == "346"
        assert rows["conv5x5-demo"][3] == "1.22" and rows["conv5x5-demo"][5] == "963"


@sync
async def test_preset_compare_opens_side_by_side():
    app = ShapesApp({"model": "stacked3x3-demo", "compare": ["single5x5-demo", "dilated-demo"]})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await settle(pilot)
        detail = text_of(app.screen, "#shapes-detail")
        assert "single5x5-demo" in detail and detail.count("RF 5x5") == 3
        await pilot.press("m")
        app.screen.query_one("#shapes-model", Input).value = "lenet"
        await pilot.press("enter")
        await settle(pilot)
        app.screen.preset.pop("compare")
        await pilot.press("v")  # lenet has no side-by-side: a notice, nothing else
        await pilot.pause()
        assert any("no side-by-side" in str(n.message) for n in app._notifications)


@pytest.mark.parametrize("preset", [{"model": "lenet"}, {"model": "mismatch-demo"}], ids=["lenet", "mismatch"])
def test_snapshot(snap_compare, preset):
    async def run_before(pilot) -> None:
        await settle(pilot)

    assert snap_compare(ShapesApp(preset), terminal_size=(80, 24), run_before=run_before)


@sync
async def test_a_crash_while_tracing_is_shown_not_fatal(monkeypatch):
    import tui_lab.shapes as shapes

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(shapes, "trace", boom)
    app = ShapesApp({"model": "lenet"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ShapesScreen)
        assert "error: RuntimeError: boom" in text_of(app.screen, "#shapes-title")


@sync
async def test_a_slow_old_trace_does_not_overwrite_a_newer_one():
    app = ShapesApp({"model": "lenet"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.query_one("#shapes-input", Input).placeholder == "1x28x28"  # the default shown
        import threading

        release = threading.Event()

        def slow_old_trace():
            release.wait(5)
            return "stale"  # would crash _apply if it were not dropped

        screen.run_job("trace", slow_old_trace)
        screen._start_trace()  # a newer trace of the same job supersedes it
        await settle(pilot)
        release.set()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.error_text is None and screen.result.rows
        assert "error" not in text_of(screen, "#shapes-title")


@sync
async def test_preset_depth_opens_folded():
    app = ShapesApp({"model": "resnet", "depth": 1})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = table_of(app.screen)
        assert table.row_count == sum(1 for r in app.screen.result.rows if r.depth <= 1) == 11
        for _ in range(4):
            await pilot.press("down")  # the first stage (a Sequential of two residual blocks)
        await pilot.press("space")  # unfolding past the depth limit shows its blocks
        assert table.row_count == 13
        await pilot.press("e")
        assert table.row_count == len(app.screen.result.rows)
