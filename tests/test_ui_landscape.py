"""The landscape screen as a learner drives it: step, play, change function and rate, leave."""

from __future__ import annotations

import functools

import torch
from textual.widgets import Static

from tui_lab.ui.screens.landscape import LandscapeCanvas, LandscapeScreen, _pair
from ui_support import ScreenApp, sync


LandscapeApp = functools.partial(ScreenApp, LandscapeScreen)


async def _settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _text(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def _torch_points(lr: float, steps: int, momentum: float = 0.0):
    w = torch.tensor([-5.0, -2.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr, momentum=momentum)
    points = [tuple(w.tolist())]
    for _ in range(steps):
        opt.zero_grad()
        (0.1 * w[0] ** 2 + 2 * w[1] ** 2).backward()
        opt.step()
        points.append(tuple(w.tolist()))
    return points, opt, w


BOWL = {"function": "bowl", "optimizers": ["sgd", "momentum"], "lr": [0.4, 0.1], "steps": 20,
        "start": [-5, -2], "play": False}


@sync
async def test_stepping_shows_torch_points_and_velocity():
    app = LandscapeApp(BOWL)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        assert "step 0/20" in _text(app, "#ls-title")
        for _ in range(5):
            await pilot.press("right")
        await pilot.press("left")
        screen = app.screen
        assert screen.frame == 4
        legend = _text(app, "#ls-legend")
        sgd_points, _, _ = _torch_points(0.4, 4)
        mom_points, opt, w = _torch_points(0.1, 4, momentum=0.9)
        assert f"at {_pair(sgd_points[4])}" in legend
        assert f"at {_pair(mom_points[4])}" in legend
        velocity = tuple(opt.state[w]["momentum_buffer"].tolist())
        assert f"vel {_pair(velocity)}" in legend
        assert "step 4/20" in _text(app, "#ls-title")
        # 'o' shows each optimizer's update rule in the status line, then the note again
        await pilot.press("o")
        assert "sgd: w ← w − η·g" in _text(app, "#ls-status")
        await pilot.press("o")
        assert "momentum: v ← μ·v + g" in _text(app, "#ls-status")
        await pilot.press("o")
        assert "zig-zags" in _text(app, "#ls-status")
        # the plot draws both heads where the paths are at this frame
        plot = screen.query_one(LandscapeCanvas)
        grid = plot.grid()
        text = plot.render().plain.splitlines()
        r, c = grid.cell_of(sgd_points[4])
        assert text[r][c] == "●"


@sync
async def test_play_runs_to_the_end_and_stops():
    app = LandscapeApp({**BOWL, "play": True})
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("plus", "plus", "plus")  # 64 steps/s
        for _ in range(100):
            if app.screen.frame == 20 and not app.screen.playing:
                break
            await pilot.pause(0.05)
        assert app.screen.frame == 20 and not app.screen.playing
        assert "step 20/20" in _text(app, "#ls-title")
        await pilot.press("home")
        assert app.screen.frame == 0


@sync
async def test_function_and_rate_keys_recompute():
    app = LandscapeApp(BOWL)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("space")  # pause again right away
        await pilot.press("right_square_bracket")
        await _settle(pilot)
        assert [t.lr for t in app.screen.run.trajectories] == [0.8, 0.2]
        assert "lr 0.8" in _text(app, "#ls-legend")
        await pilot.press("f")
        await _settle(pilot)
        assert app.screen.run.function == "rosenbrock"
        assert "Rosenbrock" in _text(app, "#ls-title")


@sync
async def test_hand_written_optimizers_walk_the_same_paths():
    app = LandscapeApp({"function": "rosenbrock", "optimizers": ["momentum", "rmsprop", "adam"], "steps": 30,
                        "play": False, "frame": 30})
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        torch_run = app.screen.run
        assert "paths by torch.optim" in _text(app, "#ls-legend")
        await pilot.press("t")
        await _settle(pilot)
        assert app.screen.engine == "teaching" and app.screen.frame == 30
        assert "paths by hand-written optimizers" in _text(app, "#ls-legend")
        for a, b in zip(torch_run.trajectories, app.screen.run.trajectories):
            for p, q in zip(a.points, b.points):
                assert abs(p[0] - q[0]) < 1e-9 and abs(p[1] - q[1]) < 1e-9


@sync
async def test_diverging_path_is_flagged():
    app = LandscapeApp({"function": "bowl", "optimizers": ["sgd", "adam"], "lr": [1.0, 0.4], "steps": 60,
                        "play": False, "frame": -1})
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        assert app.screen.frame == 60
        legend = _text(app, "#ls-legend")
        assert "diverged after step" in legend
        assert legend.count("at (") == 2  # adam still shown


@sync
async def test_bad_preset_shows_an_error_and_escape_leaves():
    app = LandscapeApp({"function": "cone", "play": False})
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        assert "error: function" in _text(app, "#ls-title")
        await pilot.press("right", "space")  # nothing to step: no crash
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, LandscapeScreen)


def test_snapshot_bowl(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)

    preset = {"function": "bowl", "optimizers": ["sgd", "momentum", "adam"], "lr": [0.4, 0.1, 0.4],
              "steps": 40, "frame": 12, "play": False}
    assert snap_compare(LandscapeApp(preset), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_lesson_preset_five_optimizers(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)

    # lesson 25's preset: five legends must fit 80x24 without scrolling
    preset = {"function": "bowl", "optimizers": ["sgd", "momentum", "adagrad", "rmsprop", "adam"],
              "lr": [0.4, 0.4, 0.4, 0.1, 0.4], "steps": 40, "frame": 20, "play": False}
    assert snap_compare(LandscapeApp(preset), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_rosenbrock_end(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)

    preset = {"function": "rosenbrock", "optimizers": ["sgd", "adagrad", "rmsprop", "adam"], "frame": -1,
              "play": False}
    assert snap_compare(LandscapeApp(preset), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_three_optimizers_120x40(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)

    preset = {"function": "rosenbrock", "optimizers": ["sgd", "momentum", "adam"], "frame": 60, "play": False}
    assert snap_compare(LandscapeApp(preset), terminal_size=(120, 40), run_before=run_before)


def test_band_legend_gives_the_contour_levels_of_the_plot():
    from tui_lab import landscapes as ls
    from tui_lab.ui.screens.landscape import _band_color, _num, band_legend

    grid = ls.sample_grid("bowl", 40, 20)
    text = band_legend(grid)
    plain = text.plain
    assert f"<{_num(grid.levels[0])}" in plain and f">{_num(grid.levels[-1])}" in plain
    swatches = [span.style.bgcolor.name for span in text.spans if getattr(span.style, "bgcolor", None)]
    assert len(swatches) == len(grid.levels) + 1  # one colour per band, lowest first
    assert swatches[0] == _band_color(0, len(grid.levels) + 1)
