"""The feature-map explorer as a learner drives it: layers, channels, the stepper on a real cell."""

from __future__ import annotations

import functools

import pytest
from textual.widgets import Static

from tui_lab import features as fm
from tui_lab.runs import RunStore
from tui_lab.ui.screens.conv import ConvScreen
from tui_lab.ui.screens.features import FeaturesScreen
from tui_lab.ui.widgets.channel_maps import ChannelMaps
from ui_support import ScreenApp, sync

FeaturesApp = functools.partial(ScreenApp, FeaturesScreen)


@pytest.fixture
def run_id():
    """A quick LeNet run (1 epoch) in this test's DLLAB_HOME; one thread: the same weights on any box."""
    return fm.train_quick_lenet(RunStore(), epochs=1, threads=1)


async def _ready(pilot) -> FeaturesScreen:
    await pilot.pause()
    screen = pilot.app.screen
    await screen.workers.wait_for_complete()
    await pilot.pause()
    return screen


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


@sync
async def test_layers_maps_and_the_stepper_on_a_real_conv_cell(run_id):
    app = FeaturesApp({"run": run_id, "sample": 4})
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(pilot)
        maps = fm.run_features(run_id, 4, RunStore())
        assert f"prediction {maps.prediction}" in _text(screen, "#fm-title")
        layers = _text(screen, "#fm-layers")
        assert all(layer.name in layers and layer.kind in layers for layer in maps.layers)
        grid = screen.query_one("#fm-maps", ChannelMaps)
        assert grid.planes == maps.layers[0].values.tolist()  # every channel of the first conv
        c, r, q = screen.cursor
        assert float(maps.layers[0].values[c].max()) == float(maps.layers[0].values[c, r, q])  # most active cell
        await pilot.press("c", "l", "J")
        assert screen.cursor[0] == 1
        c, r, q = screen.cursor
        await pilot.press("enter")
        await pilot.pause()
        conv = app.screen
        assert isinstance(conv, ConvScreen)
        await conv.workers.wait_for_complete()
        await pilot.pause()
        assert conv.result.output_shape == (1, 1, 1)
        assert conv.result.output[0][0][0] == pytest.approx(float(maps.layers[0].values[c, r, q]), abs=1e-5)
        await pilot.press("escape")
        assert app.screen is screen
        await pilot.press("j")  # a Sigmoid/ReLU layer: no stepper
        told = []
        screen.notify = lambda message, **kw: told.append(message)
        await pilot.press("enter")
        assert told and "Conv2d" in told[0] and app.screen is screen
        assert "%" in _text(screen, "#fm-probs")


@sync
async def test_no_run_shows_one_line_error():
    app = FeaturesApp({"run": 4242})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _ready(pilot)
        assert "error: run: no run with id 4242" in _text(screen, "#fm-title")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_snapshot_features(snap_compare, run_id, size):
    async def run_before(pilot):
        await _ready(pilot)
        await pilot.press("j", "j", "j")  # the second conv layer: 16 channels

    assert snap_compare(FeaturesApp({"run": run_id, "sample": 1}), terminal_size=size, run_before=run_before)
