"""The autoencoder explorer as a learner drives it: a run's reconstructions and latent space."""

from __future__ import annotations

import functools

import pytest
from textual.widgets import Static

from tui_lab import autoencoder as ae
from tui_lab.runs import RunStore
from tui_lab.ui.screens.latent import LatentScreen
from tui_lab.ui.widgets.channel_maps import ChannelMaps
from tui_lab.ui.widgets.latent_scatter import HIGHLIGHT, LatentScatter, label_colour
from ui_support import ScreenApp, sync, wait_until

LatentApp = functools.partial(ScreenApp, LatentScreen)
QUICK = {"epochs": 2, "hidden": [64], "device": "cpu"}


@pytest.fixture
def run_id():
    """A quick 2-D autoencoder run (2 epochs) in this test's DLLAB_HOME."""
    return list(ae.train_autoencoder(QUICK, threads=1))[-1].run_id  # one thread: the same weights on any box


async def _ready(pilot) -> LatentScreen:
    screen = pilot.app.screen
    def settled() -> bool:  # loaded, and the page shown is the one that fits the final layout
        if screen.error:
            return True
        return (screen.recon is not None and not screen.job_running("latent") and not screen.job_running("page")
                and len(screen.recon.indices) == min(screen.per_page, len(screen.space.points)))

    await wait_until(pilot, settled, timeout=120)
    await screen.workers.wait_for_complete()
    await pilot.pause()
    return screen


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


@sync
async def test_reconstructions_and_the_latent_space_of_a_run(run_id):
    app = LatentApp({"run": run_id, "sample": 3})
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(pilot)
        store = RunStore()
        space = ae.run_latent(run_id, store)
        model, config = ae.load_autoencoder(run_id, store)
        assert f"run {run_id}" in _text(screen, "#lt-title") and f"{space.val_loss:.4f}" in _text(screen, "#lt-title")
        assert "784→64→2→64→784" in _text(screen, "#lt-title")
        assert screen.space.points == space.points
        # two 28x28 images a row at 120x40: the selected example and its neighbour
        assert screen.recon.indices == (2, 3) and screen.selected == 3
        rec = ae.reconstructions(model, config, [2, 3])
        outputs = screen.query_one("#lt-outputs", ChannelMaps)
        assert outputs.planes == rec.outputs[:, 0].tolist()  # 28x28: no averaging
        assert outputs.labels == [f"{e:.3f}" for e in rec.errors]
        assert screen.query_one("#lt-inputs", ChannelMaps).scale is outputs.scale  # one scale for both rows
        scatter = screen.query_one("#lt-scatter", LatentScatter)
        w, h = scatter.size.width, 2 * scatter.size.height
        pixels = scatter.pixels(w, h)
        assert sum(px == HIGHLIGHT for row in pixels for px in row) == 1
        drawn = {px for row in pixels for px in row}
        assert {label_colour(k) for k in range(10)} <= drawn  # every digit has its points
        assert "sample 3" in _text(screen, "#lt-status") and f"MSE {rec.errors[1]:.4f}" in _text(screen, "#lt-status")
        await pilot.press("right")
        await wait_until(pilot, lambda: screen.recon.indices == (4, 5))
        assert screen.selected == 4
        await pilot.press("left")
        await wait_until(pilot, lambda: screen.recon.indices == (2, 3))
        await pilot.press("right_square_bracket")
        await wait_until(pilot, lambda: screen.recon.indices == (4, 5))


@sync
async def test_without_a_run_the_screen_trains_the_preset(monkeypatch):
    app = LatentApp({"epochs": 1, "hidden": [32], "latent": 3})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _ready(pilot)
        assert screen.error == ""
        assert screen.space.latent == 3 and screen.space.projection == "pca"
        assert "principal components" in str(screen.query_one("#lt-scatter").border_title)
        run = RunStore().get_run(screen.run_id).summary
        assert run.status == "finished" and run.config["model_options"]["latent"] == 3
        assert len(screen.recon.indices) == 2  # 14x14 images at 80 columns
        assert len(screen.query_one("#lt-outputs", ChannelMaps).planes[0]) == 14


@sync
async def test_a_run_that_is_not_an_autoencoder_is_one_line():
    from ui_support import headless_run

    mlp, _ = headless_run(RunStore())
    app = LatentApp({"run": mlp})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _ready(pilot)
        assert f"error: run: run {mlp} trained softmax, not an autoencoder" in _text(screen, "#lt-title")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_snapshot_latent(snap_compare, run_id, size):
    async def run_before(pilot):
        await _ready(pilot)

    assert snap_compare(LatentApp({"run": run_id, "sample": 1}), terminal_size=size, run_before=run_before)
