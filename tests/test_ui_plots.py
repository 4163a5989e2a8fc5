"""The plots read true: tick labels evenly spaced on the rows whose values they name, at 80x24 as the
train screen draws them; no axis before there is data; the legend above the frame, not on the curves."""

from __future__ import annotations

import itertools
import math

import pytest
import torch  # noqa: F401
from ui_support import ScreenApp, sync, wait_until

from tui_lab.ui.screens.train import TrainScreen
from tui_lab.ui.widgets.loss_plot import CurvePlot, row_ticks


def y_labels(lines: list[str]) -> tuple[list[tuple[int, float]], int]:
    """(canvas row, label value) of each y tick, top row 0, and the number of canvas rows."""
    top = next(i for i, line in enumerate(lines) if "┌" in line)
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    labels = []
    for row, line in enumerate(lines[top + 1:bottom]):
        head = line.split("┤")[0] if "┤" in line else ""
        if head.strip():
            labels.append((row, float(head.strip())))
    return labels, bottom - top - 1


@sync
async def test_the_loss_plot_at_80x24_has_true_evenly_spaced_tick_labels():
    app = ScreenApp(TrainScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.screen.ready)
        plot = app.screen.query_one("#train-loss", CurvePlot)
        xs = list(range(1, 61))
        plot.set_series({"train": (xs, [24 * 0.93 ** i + 0.3 for i in xs]), "val": ([20, 40, 60], [10, 3, 1])})
        plot.redraw()
        await pilot.pause()
        lines = plot.render().plain.splitlines()
    labels, rows = y_labels(lines)
    assert len(labels) >= 3
    gaps = {b[0] - a[0] for a, b in itertools.pairwise(labels)}
    steps = {round(a[1] - b[1], 9) for a, b in itertools.pairwise(labels)}
    assert len(gaps) == 1 and len(steps) == 1  # evenly spaced rows, a constant step
    # each label is the value of its row: rows are linear in y, so the labels extend to the frame
    per_row = steps.pop() / gaps.pop()
    bottom_value = labels[-1][1] - (rows - 1 - labels[-1][0]) * per_row
    assert bottom_value <= 0.3 + 1e-9 and bottom_value + (rows - 1) * per_row >= 24 * 0.93 + 0.3
    # the legend is the line above the frame; no series name is drawn inside it
    assert "train" in lines[0] and "val" in lines[0]
    assert not any("train" in line or "val" in line for line in lines[1:])


@sync
async def test_an_empty_plot_draws_no_axis():
    app = ScreenApp(TrainScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.screen.ready)
        await pilot.pause()
        text = app.screen.query_one("#train-loss", CurvePlot).render().plain
    assert "┤" not in text and "-1" not in text and "no data yet" in text


@pytest.mark.parametrize("rows", [2, 3, 4, 5, 6, 7, 9, 12, 20, 33])
@pytest.mark.parametrize("lo,hi", [(0.3, 24.0), (0.05, 2.3), (0.9, 0.97), (-3.0, 2.0), (5.0, 5.0), (1e-4, 3e-4)])
def test_ticks_lie_on_rows_cover_the_data_and_step_roundly(lo, hi, rows):
    ymin, ymax, ticks, decimals = row_ticks(lo, hi, rows)
    assert ymin <= lo and ymax >= hi - 1e-12
    per_row = (ymax - ymin) / (rows - 1)
    positions = [(t - ymin) / per_row for t in ticks]
    assert all(abs(p - round(p)) < 1e-6 for p in positions)  # every tick exactly on a row
    assert len({round(b - a, 6) for a, b in itertools.pairwise(positions)}) == 1  # evenly spaced
    step = ticks[1] - ticks[0]
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(abs(mantissa - m) < 1e-6 for m in (1, 2, 2.5, 5))
    labels = [f"{t:.{decimals}f}" for t in ticks]
    assert len(set(labels)) == len(labels)  # the format tells neighbours apart
