"""The GAN lab as a learner drives it: single steps, play/pause, live learning rates, the data set;
snapshots at 80x24 and 120x40 (the mode-collapse preset after 200 updates)."""

from __future__ import annotations

import functools

import pytest
from textual.widgets import Static

from tui_lab import gan
from tui_lab.ui.screens.gan import GanScreen
from tui_lab.ui.widgets.gan_map import GanMap
from ui_support import ScreenApp, sync, wait_until

GanApp = functools.partial(ScreenApp, GanScreen)
COLLAPSE = {"data": "gaussians", "lr_g": 0.01, "lr_d": 0.001, "steps": 1000}


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def _at_step(pilot, screen, step: int) -> None:
    await wait_until(pilot, lambda: screen.frame is not None and screen.frame.step == step
                     and screen.session is not None and screen.session.step == step, 120)
    await pilot.pause()


@sync
async def test_steps_play_pause_and_live_learning_rates():
    app = GanApp({"data": "ring"})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await _at_step(pilot, screen, 0)
        assert screen.control.paused and "step 0" in _text(screen, "#gan-stats")
        assert screen.query_one("#gan-map", GanMap).pixels  # D's map is drawn before any update
        await pilot.press("n")
        await _at_step(pilot, screen, 1)
        await pilot.press("N")
        await _at_step(pilot, screen, 101)
        assert "step 101" in _text(screen, "#gan-stats") and "distance" in _text(screen, "#gan-stats")
        session = screen.session
        await pilot.press("g", "D")  # lr_g up, lr_d down: applied to the running session, no reset
        await pilot.press("n")
        await _at_step(pilot, screen, 102)
        assert screen.session is session
        assert session.opt_g.param_groups[0]["lr"] == 0.003 and session.opt_d.param_groups[0]["lr"] == 0.001
        assert "lr_g 0.003" in _text(screen, "#gan-settings") and "lr_d 0.001" in _text(screen, "#gan-settings")
        await pilot.press("space")
        await wait_until(pilot, lambda: screen.frame.step >= 130, 120)
        await pilot.press("space")
        assert screen.control.paused
        await pilot.press("x")  # the next data set: fresh networks at step 0, the rates kept
        await _at_step(pilot, screen, 0)
        assert screen.session is not session and screen.session.config.data == "moons"
        assert screen.session.config.lr_g == 0.003


@sync
async def test_a_bad_preset_is_one_line_and_the_default_runs():
    app = GanApp({"data": "mnist"})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await _at_step(pilot, screen, 0)
        assert _text(screen, "#gan-title").startswith("error: data: unknown data 'mnist'")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_snapshot_gan(snap_compare, size):
    async def run_before(pilot):
        screen = pilot.app.screen
        await _at_step(pilot, screen, 0)
        await pilot.press("N", "N")
        await _at_step(pilot, screen, 200)
        assert screen.frame.modes <= 2 and screen.frame.spread < 0.35  # collapsed, and the note says so
        assert gan.arrow_char(1, 0) in "→"

    assert snap_compare(GanApp(COLLAPSE), terminal_size=size, run_before=run_before)
