"""ConvScreen driven by keys in a tiny app: stepping, playing, live edits, mode switches, snapshots."""

from __future__ import annotations

import functools

import pytest
import torch
import torch.nn.functional as F
from textual.widgets import Static
from ui_support import ScreenApp, sync

from tui_lab import conv_steps as cs
from tui_lab.ui.screens.conv import ConvScreen
from tui_lab.ui.widgets.matrix_grid import MatrixGrid

ConvApp = functools.partial(ScreenApp, ConvScreen)


async def ready(pilot) -> ConvScreen:
    """Wait for the screen's loading worker and the redraw after it."""
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ConvScreen)
    await screen.workers.wait_for_complete()
    await pilot.pause()
    return screen


def text(screen: ConvScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def output_cells(screen: ConvScreen) -> list[list[str]]:
    return screen.query_one("#conv-output", MatrixGrid).cells


@sync
async def test_step_forward_and_back_through_corr2d():
    app = ConvApp({"preset": "corr2d"})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        assert "out[0,0] = 0x0 + 1x1 + 3x2 + 4x3 = 19" in text(screen, "#conv-products")
        assert "step 1/4" in text(screen, "#conv-status")
        assert output_cells(screen) == [["19", "·"], ["·", "·"]]
        # the window is marked on the input grid
        marks = screen.query_one("#conv-input", MatrixGrid).marks
        assert {k for k, v in marks.items() if "window" in v} == {(0, 0), (0, 1), (1, 0), (1, 1)}

        await pilot.press("right")
        assert "1x0 + 2x1 + 4x2 + 5x3 = 25" in text(screen, "#conv-products")
        assert output_cells(screen) == [["19", "25"], ["·", "·"]]
        await pilot.press("right", "right", "right")  # stops at the last frame
        assert "step 4/4" in text(screen, "#conv-status")
        assert output_cells(screen) == [["19", "25"], ["37", "43"]]
        await pilot.press("left", "left")
        assert "3x0 + 4x1 + 6x2 + 7x3 = 37" not in text(screen, "#conv-products")
        assert "1x0 + 2x1 + 4x2 + 5x3 = 25" in text(screen, "#conv-products")
        assert output_cells(screen) == [["19", "25"], ["·", "·"]]
        await pilot.press("end")
        assert screen.index == 3
        await pilot.press("home")
        assert screen.index == 0


@sync
async def test_padding_cells_styled_apart_and_formula_updates_live():
    app = ConvApp({"preset": "corr2d"})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await pilot.press("p")  # padding 1
        assert "floor((3 + 2x1 - 1x(2 - 1) - 1) / 1) + 1 = 4" in text(screen, "#conv-formula")
        grid = screen.query_one("#conv-input", MatrixGrid)
        assert len(grid.cells) == 5
        assert "pad" in grid.marks[(0, 0)] and "pad" not in grid.marks.get((1, 1), ())
        assert "0x0 + 0x1 + 0x2 + 0x3 = 0" in text(screen, "#conv-products")  # the seed's first value
        await pilot.press("s", "s")  # stride 3
        assert "/ 3) + 1 = 2" in text(screen, "#conv-formula")
        await pilot.press("d")  # dilation 2
        assert "2x(2 - 1)" in text(screen, "#conv-formula")
        await pilot.press("D", "S", "S", "k")  # kernel 3x3
        assert screen.config.kernel_size == (3, 3)
        assert "floor((3 + 2x1 - 1x(3 - 1) - 1) / 1) + 1 = 3" in text(screen, "#conv-formula")
        expected = F.conv2d(torch.tensor(cs._lists(screen.config.input), dtype=torch.float64)[None],
                            torch.tensor(cs._lists(screen.config.kernel), dtype=torch.float64), padding=1)
        assert torch.equal(torch.tensor(cs._lists(screen.result.output), dtype=torch.float64), expected[0])


@sync
async def test_bad_live_edit_is_refused_and_reported():
    app = ConvApp({"preset": "corr2d"})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        told: list[str] = []
        screen.notify = lambda message, **kw: told.append(message)
        await pilot.press("P")  # padding below 0
        await pilot.press("k", "k")  # a 4x4 kernel on a 3x3 input
        assert screen.config.padding == (0, 0)
        assert screen.config.kernel_size == (3, 3)
        assert told == ["padding: must be >= 0",
                        "kernel: height 4 (dilated) is larger than the padded input height 3"]
        assert "floor((3 + 2x0 - 1x(3 - 1) - 1) / 1) + 1 = 1" in text(screen, "#conv-formula")


@sync
async def test_switch_modes_conv_max_avg_transposed():
    app = ConvApp({"preset": "corr2d"})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await pilot.press("m")
        assert screen.config.mode == "max"
        await pilot.press("end")
        assert "max(4, 5, 7, 8) = 8" in text(screen, "#conv-products")
        await pilot.press("m")
        assert screen.config.mode == "avg"
        assert "(4 + 5 + 7 + 8) / 4 = 6" in text(screen, "#conv-products")
        await pilot.press("m")
        assert screen.config.mode == "transposed"
        await pilot.press("end")
        x = torch.arange(9, dtype=torch.float64).reshape(1, 1, 3, 3)
        k = torch.tensor([[[[0, 1], [2, 3]]]], dtype=torch.float64)
        expected = F.conv_transpose2d(x, k)[0, 0].int().tolist()
        assert output_cells(screen) == [[str(v) for v in row] for row in expected]
        await pilot.press("m")
        assert screen.config.mode == "conv" and screen.config.kernel[0][0] == ((0, 1), (2, 3))


@sync
async def test_transposed_scatter_steps():
    app = ConvApp({"mode": "transposed"})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        assert output_cells(screen) == [["0", "0", "0"], ["0", "0", "0"], ["0", "0", "0"]]
        await pilot.press("right")  # input 1 scatters its kernel at (0, 1)
        assert output_cells(screen) == [["0", "0", "1"], ["0", "2", "3"], ["0", "0", "0"]]
        marks = screen.query_one("#conv-output", MatrixGrid).marks
        assert {k for k, v in marks.items() if "scatter" in v} == {(0, 1), (0, 2), (1, 1), (1, 2)}
        await pilot.press("left")
        assert output_cells(screen)[0] == ["0", "0", "0"]


@sync
async def test_play_runs_to_the_end_and_stops():
    app = ConvApp({"preset": "padding"})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await pilot.press("space")
        assert screen.playing and "playing" in text(screen, "#conv-status")
        for _ in range(5):
            await pilot.press("plus")  # 32 steps per second
        assert "32/s" in text(screen, "#conv-status")
        for _ in range(60):
            await pilot.pause(0.05)
            if not screen.playing:
                break
        assert not screen.playing and screen.index == 15
        for _ in range(5):
            await pilot.press("minus")  # back to 1 step per second
        await pilot.press("space")  # at the end, play starts over
        assert screen.index <= 1 and screen.playing
        await pilot.press("space")
        assert not screen.playing


@sync
async def test_channels_and_escape():
    app = ConvApp({"preset": "multi-channel"})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        assert "out[0,0,0] = 19 + 37 = 56" in text(screen, "#conv-products")
        await pilot.press("c")
        assert screen.channel == 1
        assert "ch 1: 1x1 + 2x2 + 4x3 + 5x4 = 37" in text(screen, "#conv-products")
        await pilot.press("escape")
        assert not isinstance(app.screen, ConvScreen)


@sync
async def test_out_channel_key_jumps_to_the_sobel_y_channel():
    app = ConvApp({"preset": "sobel"})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        assert "out ch 1/2 (o)" in text(screen, "#conv-status")
        await pilot.press("o")
        assert screen.frame.out_index == (1, 0, 0) and "out ch 2/2" in text(screen, "#conv-status")
        await pilot.press("end")
        assert output_cells(screen) == [["0"] * 6] * 4  # Sobel y: no horizontal edge anywhere
        await pilot.press("o")
        assert screen.index == 0


@sync
async def test_next_and_previous_preset():
    app = ConvApp({"preset": "corr2d"})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        assert "preset corr2d" in text(screen, "#conv-title")
        await pilot.press("n")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert screen.config.name == "padding" and "0x0 + 0x1 + 0x2 + 0x3 = 0" in text(screen, "#conv-products")
        await pilot.press("p")  # an edited preset is starred
        assert "preset padding*" in text(screen, "#conv-title")
        await pilot.press("N", "N")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert screen.config.name == list(cs.PRESETS)[-1]


@sync
async def test_bad_preset_shows_error_and_keeps_running():
    app = ConvApp({"input": "[[1, 2], [3]]"})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        assert "error: input: ragged" in text(screen, "#conv-title")
        await pilot.press("right", "m", "p")  # nothing to step; no crash


@sync
async def test_large_input_scrolls_to_the_window():
    app = ConvApp({"input": "random:1x28x28", "kernel": "sobel-x", "padding": 1})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await pilot.press("end")
        box = screen.query_one("#conv-input-box")
        assert box.scroll_x > 0 and box.scroll_y > 0
        assert screen.index == 28 * 28 - 1


def _snap_before(*keys: str):
    async def run_before(pilot) -> None:
        await ready(pilot)
        await pilot.press(*keys)
        await pilot.pause()

    return run_before


def test_snapshot_padding_80x24(snap_compare):
    assert snap_compare(ConvApp({"preset": "padding"}), terminal_size=(80, 24),
                        run_before=_snap_before("right", "right", "right", "right", "right"))


def test_snapshot_digit_sobel_80x24(snap_compare):
    assert snap_compare(ConvApp({"preset": "digit", "step": 20}), terminal_size=(80, 24),
                        run_before=_snap_before())


def test_snapshot_transposed_80x24(snap_compare):
    assert snap_compare(ConvApp({"preset": "transposed-stride"}), terminal_size=(80, 24),
                        run_before=_snap_before("right", "right"))


def test_snapshot_digit_sobel_two_channels_80x24(snap_compare):
    assert snap_compare(ConvApp({"preset": "digit-sobel", "step": 27}), terminal_size=(80, 24),
                        run_before=_snap_before())


def test_snapshot_multi_channel_80x24(snap_compare):
    assert snap_compare(ConvApp({"preset": "multi-channel", "step": 1}), terminal_size=(80, 24),
                        run_before=_snap_before())


def test_snapshot_maxpool_digit_80x24(snap_compare):
    assert snap_compare(ConvApp({"preset": "digit-maxpool", "step": 5}), terminal_size=(80, 24),
                        run_before=_snap_before())


def test_snapshot_digit_sobel_120x40(snap_compare):
    assert snap_compare(ConvApp({"preset": "digit-sobel", "step": 27}), terminal_size=(120, 40),
                        run_before=_snap_before())


def test_snapshot_multi_channel_120x40(snap_compare):
    assert snap_compare(ConvApp({"preset": "multi-out", "step": 5}), terminal_size=(120, 40),
                        run_before=_snap_before())


def test_snapshot_maxpool_digit_120x40(snap_compare):
    assert snap_compare(ConvApp({"preset": "digit-maxpool", "step": 5}), terminal_size=(120, 40),
                        run_before=_snap_before())


def test_snapshot_transposed_padding_120x40(snap_compare):
    assert snap_compare(ConvApp({"preset": "transposed-padding", "step": 2}), terminal_size=(120, 40),
                        run_before=_snap_before())


@sync
async def test_every_input_channel_beside_its_kernel_slice_with_its_sum():
    """CNN Explainer's view: one box per input channel, its kernel slice beside it, the slice's sum
    of products as the box's subtitle; the sums plus the bias are the output cell (torch's number)."""
    app = ConvApp({"preset": "multi-out", "step": 5})
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        frame = screen.frame
        o, i, j = frame.out_index
        cfg = screen.config
        x = torch.tensor(cs._lists(cfg.input), dtype=torch.float64)
        w = torch.tensor(cs._lists(cfg.kernel), dtype=torch.float64)
        kh, kw = cfg.kernel_size
        for c in range(2):
            grid = screen.query_one(f"#conv-input{'' if c == 0 else f'-{c}'}", MatrixGrid)
            assert grid.cells == [[str(v) for v in row] for row in cfg.input[c]]
            box = screen.query_one(f"#conv-kernel-box{'' if c == 0 else f'-{c}'}")
            part = float((x[c, i:i + kh, j:j + kw] * w[o, c]).sum())
            assert box.border_subtitle == f"Σ {cs.fmt(int(part))}"
        total = F.conv2d(x[None], w)[0, o, i, j]
        assert f"= {int(total)}" in text(screen, "#conv-products")


@sync
async def test_heat_buckets_follow_the_values_and_padding_has_none():
    app = ConvApp({"preset": "digit"})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        grid = screen.query_one("#conv-input", MatrixGrid)
        padded = screen.result.padded[0]
        flat = [(padded[r][c], grid.heat[r][c]) for r in range(1, 9) for c in range(1, 9)]
        # a larger value never gets a lower colour bucket (sequential scale for 0..16)
        for (v1, b1) in flat:
            for (v2, b2) in flat:
                if v1 < v2:
                    assert b1 <= b2
        assert grid.heat[0][0] is not None and "pad" in grid.marks[(0, 0)]
        # the rendered padding cell uses the fill, never the heat colour
        line = grid.render_line(0).text
        assert line.startswith("··0··0")
        kernel = screen.query_one("#conv-kernel", MatrixGrid)
        assert kernel.heat[0][0] < kernel.heat[0][1] < kernel.heat[0][2]  # -1 < 0 < 1: diverging
        assert "kernel -2" in text(screen, "#conv-legend") and "output -" in text(screen, "#conv-legend")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
@sync
async def test_every_box_title_is_shown_whole(size):
    app = ScreenApp(ConvScreen, {"preset": "multi-out"})
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        for box_id in ("#conv-input-box", "#conv-kernel-box", "#conv-output-box"):
            box = app.screen.query_one(box_id)
            assert box.size.width + 2 >= len(box.border_title) + 4, (box_id, box.border_title, box.size)
