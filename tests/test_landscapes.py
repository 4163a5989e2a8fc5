"""Paths on 2-D functions match torch.optim run independently here; grids sample the real function."""

from __future__ import annotations

import json
import math

import pytest
import torch

from tui_lab.errors import ConfigError
from tui_lab.landscapes import (
    LANDSCAPES,
    canvas,
    canvas_text,
    get_landscape,
    run_landscape,
    sample_grid,
    trajectory,
)

# independent twins: torch.optim built by hand, not through tui_lab.optimizers
TORCH = {
    "sgd": lambda p, lr: torch.optim.SGD(p, lr=lr),
    "momentum": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9),
    "nesterov": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9, nesterov=True),
    "adagrad": lambda p, lr: torch.optim.Adagrad(p, lr=lr),
    "rmsprop": lambda p, lr: torch.optim.RMSprop(p, lr=lr),
    "adam": lambda p, lr: torch.optim.Adam(p, lr=lr),
    "adamw": lambda p, lr: torch.optim.AdamW(p, lr=lr, weight_decay=0.0),
}
FORMULAS = {
    "bowl": lambda x, y: 0.1 * x**2 + 2 * y**2,
    "rosenbrock": lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
    "beale": lambda x, y: (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2,
    "saddle": lambda x, y: x**2 - y**2,
}


def _torch_path(function, name, lr, steps, start):
    w = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = TORCH[name]([w], lr)
    points = [tuple(w.tolist())]
    for _ in range(steps):
        opt.zero_grad()
        FORMULAS[function](w[0], w[1]).backward()
        opt.step()
        points.append(tuple(w.tolist()))
    return points, opt, w


@pytest.mark.parametrize("function", sorted(LANDSCAPES))
@pytest.mark.parametrize("name", sorted(TORCH))
def test_path_matches_torch_optim(function, name):
    land = LANDSCAPES[function]
    steps = 25
    lr = land.default_lr[name]
    path = trajectory(function, name, steps=steps)
    expected, opt, w = _torch_path(function, name, lr, steps, land.start)
    assert path.status == "ok" and path.lr == lr
    assert len(path.points) == steps + 1
    for got, want in zip(path.points, expected):
        assert got == pytest.approx(want, rel=1e-12, abs=1e-12)
    last = path.steps[-1]
    assert last.value == pytest.approx(FORMULAS[function](*expected[-1]), rel=1e-12, abs=1e-12)
    # the state shown is torch's own state after the last step, under the teaching names
    names = {"momentum_buffer": "velocity", "sum": "sum_sq", "square_avg": "mean_sq", "exp_avg": "m", "exp_avg_sq": "v"}
    torch_state = {names[k]: tuple(v.tolist()) for k, v in opt.state[w].items() if k in names}
    assert set(last.state) == set(torch_state)
    for key, value in torch_state.items():
        assert last.state[key] == pytest.approx(value, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name", sorted(TORCH))
def test_teaching_engine_walks_the_same_path(name):
    a = trajectory("rosenbrock", name, steps=30, engine="torch")
    b = trajectory("rosenbrock", name, steps=30, engine="teaching")
    for p, q in zip(a.points, b.points):
        assert p == pytest.approx(q, rel=1e-9, abs=1e-12)
    for key in a.steps[-1].state:
        assert a.steps[-1].state[key] == pytest.approx(b.steps[-1].state[key], rel=1e-9, abs=1e-12)


def test_sgd_zigzags_on_the_bowl_in_closed_form():
    # d2l: x <- (1 - 0.2 lr) x and y <- (1 - 4 lr) y; with lr 0.4, y flips sign every step (the zig-zag)
    path = trajectory("bowl", "sgd", lr=0.4, steps=20, start=(-5, -2))
    for k, (x, y) in enumerate(path.points):
        assert x == pytest.approx(-5 * 0.92**k, rel=1e-12)
        assert y == pytest.approx(-2 * (-0.6) ** k, rel=1e-12, abs=1e-15)
    signs = [math.copysign(1, y) for _, y in path.points[:10]]
    assert all(a != b for a, b in zip(signs, signs[1:]))


def test_diverging_path_stops_and_reports():
    # lr 1.0 makes y <- -3 y on the bowl: it blows up, the others carry on
    run = run_landscape("bowl", ["sgd", "adam"], lrs=[1.0, 0.4], steps=100)
    bad, good = run.trajectories
    assert bad.status == "diverged" and math.isnan(bad.final_value)
    assert 1 < len(bad.points) < 101 and all(math.isfinite(v) for p in bad.points for v in p)
    assert good.status == "ok" and len(good.points) == 101
    doc = json.loads(json.dumps(run.to_json(), allow_nan=True))
    assert math.isnan(doc["trajectories"][0]["final_value"])


def test_json_shape_and_momentum_key():
    run = run_landscape("bowl", ["sgd", "momentum"], lrs=[0.4], steps=3, start="1,2", momentum=0.5)
    doc = run.to_json()
    assert doc["function"] == "bowl" and doc["start"] == [1.0, 2.0]
    sgd, mom = doc["trajectories"]
    assert set(sgd) == {"optimizer", "lr", "points", "final_value"}
    assert set(mom) == {"optimizer", "lr", "momentum", "points", "final_value"}
    assert mom["momentum"] == 0.5 and sgd["lr"] == mom["lr"] == 0.4
    assert len(sgd["points"]) == 4 and sgd["points"][0] == [1.0, 2.0]
    assert sgd["final_value"] == pytest.approx(FORMULAS["bowl"](*sgd["points"][-1]))
    # momentum 0.5 really used: second step v = 0.5 * g0 + g1
    expected, _, _ = _torch_path_momentum(0.5)
    assert mom["points"] == [list(p) for p in expected]


def _torch_path_momentum(mu):
    w = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.4, momentum=mu)
    points = [tuple(w.tolist())]
    for _ in range(3):
        opt.zero_grad()
        FORMULAS["bowl"](w[0], w[1]).backward()
        opt.step()
        points.append(tuple(w.tolist()))
    return points, opt, w


def test_grid_samples_the_function():
    grid = sample_grid("beale", 30, 12)
    assert grid.width == 30 and grid.height == 12
    (x0, x1), (y0, y1) = grid.x_range, grid.y_range
    for r in (0, 5, 11):
        for c in (0, 13, 29):
            x = x0 + (c + 0.5) * (x1 - x0) / 30
            y = y1 - (r + 0.5) * (y1 - y0) / 12
            assert grid.values[r][c] == pytest.approx(FORMULAS["beale"](x, y))
            assert grid.cell_of((x, y)) == (r, c)
    assert list(grid.levels) == sorted(grid.levels)
    flat = [b for row in grid.bands for b in row]
    assert min(flat) == 0 and max(flat) == len(grid.levels)
    # the lowest band holds the lowest sampled value
    low = min((v, r, c) for r, row in enumerate(grid.values) for c, v in enumerate(row))
    assert grid.bands[low[1]][low[2]] == 0
    assert grid.cell_of((x1 + 1, 0)) is None


def test_canvas_draws_heads_start_and_minimum():
    run = run_landscape("bowl", ["sgd", "adam"], lrs=[0.4], steps=10)
    grid = sample_grid("bowl", 40, 14)
    cells = canvas(grid, run, frame=3, ascii_only=True)
    text = canvas_text(cells)
    assert len(text.splitlines()) == 14 and all(len(line) == 40 for line in text.splitlines())
    for k, mark in enumerate("AB"):
        r, c = grid.cell_of(run.trajectories[k].points[3])
        assert cells[r][c].char == mark and cells[r][c].kind == "head" and cells[r][c].path == k
    r, c = grid.cell_of(run.start)
    assert cells[r][c].char == "@"
    r, c = grid.cell_of((0.0, 0.0))
    assert cells[r][c].kind == "min"


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(function="cone", optimizers=["sgd"]), "function"),
        (dict(function="bowl", optimizers=["sgdd"]), "optimizer"),
        (dict(function="bowl", optimizers=[]), "optimizers"),
        (dict(function="bowl", optimizers=["sgd"], lrs=[-1]), "lr"),
        (dict(function="bowl", optimizers=["sgd", "adam"], lrs=[0.1, 0.2, 0.3]), "lr"),
        (dict(function="bowl", optimizers=["sgd"], steps=0), "steps"),
        (dict(function="bowl", optimizers=["sgd"], steps="ten"), "steps"),
        (dict(function="bowl", optimizers=["sgd"], start="1"), "start"),
        (dict(function="bowl", optimizers=["sgd"], start=("a", 1)), "start"),
        (dict(function="bowl", optimizers=["momentum"], momentum=1.5), "momentum"),
    ],
)
def test_bad_input_names_the_field(kwargs, field):
    with pytest.raises(ConfigError) as info:
        run_landscape(**kwargs)
    assert info.value.field == field


def test_every_landscape_has_its_minimum_where_it_says():
    for land in LANDSCAPES.values():
        assert get_landscape(land.name.upper()) is land
        if land.minimum is not None:
            x, y = land.minimum
            assert land.value(x, y) == pytest.approx(0.0, abs=1e-12)
            w = torch.tensor([x, y], dtype=torch.float64, requires_grad=True)
            FORMULAS[land.name](w[0], w[1]).backward()
            assert w.grad.abs().max().item() < 1e-9
