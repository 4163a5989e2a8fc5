"""The attention explorer as a learner drives it: heads, layers, the cursor's arithmetic, errors, sizes."""

from __future__ import annotations

import functools

import pytest
from textual.widgets import Static

from tui_lab import attention as at
from tui_lab.runs import RunStore
from tui_lab.ui.screens.attention import AttentionScreen
from tui_lab.ui.widgets.channel_maps import ChannelMaps
from ui_support import ScreenApp, sync

AttentionApp = functools.partial(ScreenApp, AttentionScreen)


@pytest.fixture
def run_id():
    """A quick transformer run (1 epoch) in this test's DLLAB_HOME; one thread: the same weights, and the
    same snapshot, however loaded the machine is (the thread count changes float sums' order)."""
    return at.train_quick_transformer(RunStore(), epochs=1, threads=1)


async def _ready(pilot) -> AttentionScreen:
    await pilot.pause()
    screen = pilot.app.screen
    await screen.workers.wait_for_complete()
    await pilot.pause()
    return screen


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


@sync
async def test_heads_layers_and_the_cursor_cells_arithmetic(run_id):
    app = AttentionApp({"run": run_id, "sample": 4})
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(pilot)
        store = RunStore()
        maps = at.run_attention(run_id, 4, store)
        model, _ = at.load_transformer_run(run_id, store)
        assert f"run {run_id}" in _text(screen, "#at-title")
        assert "predicted " + " ".join(map(str, maps.prediction)) in _text(screen, "#at-title")
        # opens on the last layer, head 0, query 0, the cursor on that row's strongest weight
        assert (screen.layer_index, screen.head_index) == (1, 0)
        row = maps.layers[1].weights[0, 0]
        assert screen.cell == (0, int(row.argmax()))
        for k, layer in enumerate(maps.layers):  # every head of every layer, as small maps
            grid = screen.query_one(f"#at-layer-{k}", ChannelMaps)
            assert grid.planes == [layer.weights[h].tolist() for h in range(4)]
        matrix = _text(screen, "#at-matrix")
        assert f"{float(maps.layers[1].weights[0, 3, 4]):.2f}"[1:] in matrix.splitlines()[4]
        await pilot.press("n", "n", "L", "down", "down", "right")
        assert (screen.layer_index, screen.head_index) == (0, 2)
        q, k = screen.cell
        steps = at.cell_steps(maps, model, 0, 2, q, k)
        assert screen.steps == steps
        shown = _text(screen, "#at-steps")
        assert f"q·k = {steps.dot:.4f}, ÷ √16 = {steps.scaled:.4f}" in shown
        assert f"w[{q},{k}] = {steps.weight:.4f}" in shown
        assert steps.weight == pytest.approx(float(maps.layers[0].weights[2, q, k]), abs=1e-6)
        await pilot.press("right_square_bracket")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert screen.maps.sample == 5 and (screen.layer_index, screen.head_index) == (0, 2)
        newer = at.train_quick_transformer(store, epochs=1, threads=1)
        await pilot.press("r")  # from run_id, the only other transformer run of the history (newest first)
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert screen.run_id == newer and screen.runs == [newer, run_id] and screen.maps.sample == 5
        await pilot.press("r")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert screen.run_id == run_id


@sync
async def test_a_run_that_is_not_a_transformer_is_one_line():
    store = RunStore()
    other = store.create_run({"model": "mlp", "dataset": "moons"})
    app = AttentionApp({"run": other})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _ready(pilot)
        assert f"error: run: run {other} trained mlp; attention needs a transformer run" in _text(screen, "#at-title")


@sync
async def test_no_run_in_the_history_trains_one(monkeypatch):
    calls = []
    real = at.train_quick_transformer
    monkeypatch.setattr(at, "train_quick_transformer", lambda store, **kw: calls.append(1) or real(store, epochs=1))
    app = AttentionApp({})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _ready(pilot)
        assert calls == [1] and screen.run_id == at.newest_transformer_runs(RunStore())[0]
        assert "/8)" in _text(screen, "#at-title")  # the prediction scored against the target
        told = []
        screen.notify = lambda message, **kw: told.append(message)
        await pilot.press("r")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert told == [f"run {screen.run_id} is the only transformer run in the history; t trains another"]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_snapshot_attention(snap_compare, run_id, size):
    async def run_before(pilot):
        await _ready(pilot)
        await pilot.press("down", "down", "left", "left", "n")  # head 1 of the last layer, query 2 -> key 5

    assert snap_compare(AttentionApp({"run": run_id, "sample": 1}), terminal_size=size, run_before=run_before)
