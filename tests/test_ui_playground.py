"""The playground screen as a learner drives it: train, change the network, see the line, leave."""

from __future__ import annotations

import functools

import pytest
from textual.widgets import Static

from tui_lab import playground as pg
from tui_lab.ui.screens.playground import PlaygroundScreen
from tui_lab.ui.widgets.decision_map import DecisionMap, confidence_band, pixel_colours, point_colour, region_colour
from ui_support import ScreenApp, sync


@pytest.fixture(autouse=True)
def no_pacing(monkeypatch):
    monkeypatch.setattr(PlaygroundScreen, "FRAME_INTERVAL", 0.0)


PlaygroundApp = functools.partial(ScreenApp, PlaygroundScreen)


async def _settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _text(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


XOR = {"dataset": "xor", "hidden": [4], "activation": "relu", "steps": 60}


@sync
async def test_train_shows_the_numbers_of_the_same_run_in_the_core():
    app = PlaygroundApp(XOR)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        screen = app.screen
        assert screen.frame.step == 0 and not screen.training
        assert "2 → 4 → 2, relu" in _text(app, "#pg-title")
        await pilot.press("space")
        await _settle(pilot)
        frame = screen.frame
        assert frame.step == 60 and not screen.training
        ref = pg.Playground(pg.config_from_preset(XOR))
        ref.train(60)
        expected = ref.frame(frame.cols, frame.rows)
        assert frame.loss == expected.loss and frame.grid == expected.grid
        stats = _text(app, "#pg-stats")
        assert "step 60" in stats and f"train {expected.loss:.3f}" in stats
        assert f"acc train {100 * expected.accuracy:.1f}% test {100 * expected.val_accuracy:.1f}%" in stats
        await pilot.press("space")  # space again trains 60 more steps on the same network
        await _settle(pilot)
        assert screen.frame.step == 120


@sync
async def test_the_map_draws_the_frame_class_per_pixel_two_pixels_per_cell():
    app = PlaygroundApp({"dataset": "circles", "hidden": [8], "activation": "tanh"})
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        frame = app.screen.frame
        widget = app.screen.query_one(DecisionMap)
        assert widget.size.width == frame.cols and 2 * widget.size.height == frame.rows
        pixels = pixel_colours(frame)
        points = {frame.bounds.cell_of(x, y, frame.cols, frame.rows): label for x, y, label in frame.points}
        for r in range(frame.rows):
            for c in range(frame.cols):
                if (r, c) in points:
                    assert pixels[r][c] == point_colour(points[(r, c)])
                else:
                    band = confidence_band(frame.confidence[r][c], frame.num_classes)
                    assert pixels[r][c] == region_colour(frame.grid[r][c], band)
        for y in (0, 7, 19):
            cells = [(seg.style.color.triplet, seg.style.bgcolor.triplet)
                     for seg in widget.render_line(y) for _ in seg.text]
            assert all(seg.text == "▀" * len(seg.text) for seg in widget.render_line(y))
            assert [tuple(t) for t, _ in cells] == pixels[2 * y]
            assert [tuple(b) for _, b in cells] == pixels[2 * y + 1]


@sync
async def test_the_map_fills_the_terminal_and_follows_a_resize():
    app = PlaygroundApp(XOR)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        assert (app.screen.frame.cols, app.screen.frame.rows) == (46, 40)  # 46x20 cells inside the border
        await pilot.resize_terminal(120, 34)
        await _settle(pilot)
        await _settle(pilot)
        frame = app.screen.frame
        widget = app.screen.query_one(DecisionMap)
        assert (frame.cols, frame.rows) == (widget.content_size.width, 2 * widget.content_size.height) == (48, 60)
        # 120 columns: the neuron maps (30) and a wider side panel (40) take their share
        assert frame.step == 0
        b = frame.bounds
        assert (b.xmax - b.xmin) / (b.ymax - b.ymin) == pytest.approx(48 / 60)  # square pixels


@sync
async def test_keys_change_the_network_and_activation_none_collapses_it():
    app = PlaygroundApp(XOR)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        screen = app.screen
        note = _text(app, "#pg-note")
        assert "ReLU, max(0, x)" in note and "at 'none' every layer collapses" in note
        await pilot.press("A")  # relu -> none (the list wraps backwards)
        await _settle(pilot)
        assert screen.config.activation == "none"
        assert screen.frame.collapse is not None and screen.frame.config == screen.config
        note = _text(app, "#pg-note")
        assert "The network is linear" in note and "2 layers, no activation" in note
        assert screen.frame.collapse.max_error < 1e-6 and "|Wx+b − net(x)| < 1e-6" in note.replace("\n", " ")
        assert pg.boundary_text(screen.frame.collapse, 2) in note.replace("\n", " ")

        await pilot.press("right_square_bracket", "right_square_bracket", "w", "w")
        await _settle(pilot)
        assert screen.config.hidden == (8, 8, 8)  # widths 4 -> 6 -> 8 for every layer
        assert screen.frame.collapse.layers == 4
        await pilot.press("left_square_bracket", "left_square_bracket", "left_square_bracket")
        await _settle(pilot)
        assert screen.config.hidden == ()
        assert "linear model" in _text(app, "#pg-note") and "0 (linear model)" in _text(app, "#pg-settings")
        await pilot.press("w")  # no hidden layer to widen: a notice, nothing changes
        await pilot.press("d", "l", "o", "b", "s", "a")
        await _settle(pilot)
        assert screen.config == pg.PlaygroundConfig("spirals", (), "relu", lr=0.1, optimizer="sgd", steps=60,
                                                    batch_size=8, seed=1)
        assert screen.frame.config == screen.config and screen.frame.num_classes == 3
        assert screen.query_one("#pg-map").border_title == "spirals"
        await pilot.press("L", "L", "D")
        await _settle(pilot)
        assert screen.config.lr == 0.01 and screen.config.dataset == "xor"
        await pilot.press("space")
        await _settle(pilot)
        assert screen.frame.step == 60 and screen.frame.config == screen.config


@sync
async def test_a_change_while_training_restarts_training_and_space_stops_it(monkeypatch):
    monkeypatch.setattr(PlaygroundScreen, "FRAME_INTERVAL", 0.02)
    app = PlaygroundApp({**XOR, "steps": 5000})
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        screen = app.screen
        await pilot.press("space")
        await pilot.pause(0.2)
        assert screen.training
        await pilot.press("a")  # relu -> tanh: a new network, still training
        await pilot.pause(0.3)
        assert screen.training and screen.config.activation == "tanh"
        assert "▶ training" in _text(app, "#pg-stats")
        await pilot.press("space")
        await _settle(pilot)
        assert not screen.training
        stopped_at = screen.frame.step
        assert 0 < stopped_at < 5000 and screen.frame.config.activation == "tanh"
        await pilot.pause(0.1)
        assert screen.frame.step == stopped_at
        await pilot.press("r")
        await _settle(pilot)
        assert screen.frame.step == 0


@sync
async def test_bad_preset_shows_an_error_and_escape_leaves():
    app = PlaygroundApp({"dataset": "mnist"})
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        assert "error: dataset" in _text(app, "#pg-title")
        assert app.screen.frame is not None  # the defaults still work
        await pilot.press("d")
        await _settle(pilot)
        assert "error" not in _text(app, "#pg-title")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, PlaygroundScreen)


@sync
async def test_a_failure_in_the_worker_is_shown_and_the_screen_goes_on(monkeypatch):
    def broken(self, n):
        raise RuntimeError("boom")

    monkeypatch.setattr(pg.Playground, "train", broken)
    app = PlaygroundApp(XOR)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        await pilot.press("space")
        await _settle(pilot)
        assert "error: RuntimeError: boom" in _text(app, "#pg-title")
        assert not app.screen.training and app.screen.frame.step == 0
        await pilot.press("a")  # a new setting clears the error
        await _settle(pilot)
        assert "error" not in _text(app, "#pg-title")


def test_snapshot_spirals_before_training(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)

    preset = {"dataset": "spirals", "hidden": [16, 16], "activation": "relu"}
    assert snap_compare(PlaygroundApp(preset), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_xor_linear_after_training(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)
        await pilot.press("space")
        await _settle(pilot)

    preset = {"dataset": "xor", "hidden": [4, 4], "activation": "none", "steps": 100, "seed": 0}
    assert snap_compare(PlaygroundApp(preset), terminal_size=(80, 24), run_before=run_before)


async def _train_in_chunks(pilot, chunks: int, steps: int) -> None:
    """A fixed number of steps, a frame after each chunk (deterministic: no timing involved)."""
    await _settle(pilot)
    screen = pilot.app.screen
    for _ in range(chunks):
        screen.session.train(steps)
        screen._start(train=False)
        await _settle(pilot)


def test_snapshot_xor_noise_half_split_trained_80x24(snap_compare):
    async def run_before(pilot):
        await _train_in_chunks(pilot, 12, 50)

    assert snap_compare(PlaygroundApp({"dataset": "xor", "noise": 0.2, "ratio": 0.5, "hidden": [16, 16]}),
                        terminal_size=(80, 24), run_before=run_before)


def test_snapshot_deep_sigmoid_neurons_and_gradients_120x40(snap_compare):
    async def run_before(pilot):
        await _train_in_chunks(pilot, 5, 20)

    assert snap_compare(PlaygroundApp({"dataset": "circles", "hidden": [8, 8, 8, 8], "activation": "sigmoid"}),
                        terminal_size=(120, 40), run_before=run_before)


@sync
async def test_new_settings_keys_and_the_numbers_of_the_core():
    app = PlaygroundApp({"dataset": "xor", "hidden": [4], "steps": 40})
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot)
        screen = app.screen
        await pilot.press("n", "n", "t", "g", "f", "f")
        await _settle(pilot)
        c = screen.config
        assert (c.noise, c.ratio, c.regularization, c.reg_rate) == (0.1, 0.9, "l1", 0.003)
        assert c.features == ("x1x2",)
        settings = _text(app, "#pg-settings")
        assert "noise 0.1" in settings and "train 90%" in settings and "reg l1" in settings
        assert "in x1·x2" in settings
        await pilot.press("space")  # a preset with steps: stops after them
        await _settle(pilot)
        f = screen.frame
        assert f.step == 40 and f.config == c
        ref = pg.Playground(c)
        ref.train(40)
        again = ref.frame(4, 4)
        assert again.loss == pytest.approx(f.loss) and again.test_loss == pytest.approx(f.test_loss)
        stats = _text(app, "#pg-stats")
        assert f"train {f.loss:.3f}" in stats and f"test {f.test_loss:.3f}" in stats and "∇w" in stats
        assert "train" in _text(app, "#pg-curves") and "test" in _text(app, "#pg-curves")
