"""2-D test functions and the paths optimizers take on them, step by step, with their state.

`run_landscape("bowl", ["sgd", "momentum", "adam"], lrs=[0.4, 0.4, 0.4], steps=40)` runs each
optimizer (torch.optim through `tui_lab.optimizers`, or the hand-written teaching twins) on a
2-element parameter from one start point. `sample_grid` samples the function for contour drawing and
`canvas` lays contours and paths out as characters that the screen colours and the CLI prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from tui_lab.errors import ConfigError, choice_error

Point = tuple[float, float]


@dataclass(frozen=True)
class Landscape:
    name: str
    title: str
    formula: str
    fn: Callable[[Any, Any], Any]  # works on floats and on tensors alike
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    start: Point
    minimum: Point | None  # None: no minimum (the saddle runs off to -inf)
    default_lr: dict[str, float]  # per optimizer: a rate that shows the function's lesson
    default_steps: int
    note: str = ""

    def value(self, x: float, y: float) -> float:
        return float(self.fn(x, y))


def _bowl(x, y):
    return 0.1 * x**2 + 2 * y**2


def _rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _beale(x, y):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _saddle(x, y):
    return x**2 - y**2


LANDSCAPES: dict[str, Landscape] = {
    s.name: s
    for s in (
        Landscape(
            "bowl", "Elongated bowl", "f = 0.1·x² + 2·y²", _bowl, (-5.5, 1.5), (-3.0, 3.0), (-5.0, -2.0), (0.0, 0.0),
            {"sgd": 0.4, "momentum": 0.1, "nesterov": 0.1, "adagrad": 0.8, "rmsprop": 0.2, "adam": 0.4, "adamw": 0.4},
            40,
            "y is 20x steeper than x: the gradient misses the minimum, so SGD zig-zags",
        ),
        Landscape(
            "rosenbrock", "Rosenbrock valley", "f = (1−x)² + 100·(y−x²)²", _rosenbrock, (-2.0, 2.0), (-1.0, 3.0),
            (-1.2, 1.0), (1.0, 1.0),
            {"sgd": 1.5e-3, "momentum": 2e-4, "nesterov": 2e-4, "adagrad": 1.0, "rmsprop": 0.02, "adam": 0.2, "adamw": 0.2},
            300,
            "a narrow curved valley: quick to fall into, slow to walk to the minimum (1, 1)",
        ),
        Landscape(
            "beale", "Beale function", "f = (1.5−x+xy)² + (2.25−x+xy²)² + (2.625−x+xy³)²", _beale, (-4.5, 4.5),
            (-4.5, 4.5), (1.0, 1.5), (3.0, 0.5),
            {"sgd": 0.005, "momentum": 0.001, "nesterov": 0.001, "adagrad": 0.5, "rmsprop": 0.02, "adam": 0.1, "adamw": 0.1},
            150,
            "flat plateaus and steep walls; the minimum sits at (3, 0.5)",
        ),
        Landscape(
            "saddle", "Saddle point", "f = x² − y²", _saddle, (-2.0, 2.0), (-2.0, 2.0), (-1.5, 0.01), None,
            {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adagrad": 0.3, "rmsprop": 0.05, "adam": 0.1, "adamw": 0.1},
            30,
            "zero gradient at (0, 0), yet no minimum: escaping along y takes a nudge",
        ),
    )
}

# the state each optimizer keeps, under torch.optim's names -> the teaching names shown on screen
_STATE_NAMES = {
    "momentum_buffer": "velocity",
    "sum": "sum_sq",
    "square_avg": "mean_sq",
    "exp_avg": "m",
    "exp_avg_sq": "v",
}
ENGINES = ("torch", "teaching")
MAX_STEPS = 10_000
DIVERGED_ABOVE = 1e12  # |coordinate| beyond this counts as diverged


@dataclass(frozen=True)
class Step:
    """Where an optimizer stands after `index` steps (index 0: the start, before any update)."""

    index: int
    point: Point
    value: float
    grad: Point  # the gradient at `point`
    state: dict[str, Point] = field(default_factory=dict)  # after this many steps: velocity, sum_sq, m, v...


@dataclass(frozen=True)
class Trajectory:
    optimizer: str
    lr: float
    momentum: float | None  # for optimizers that use one (momentum, nesterov), else None
    steps: tuple[Step, ...]  # start first; stops early when the path diverges
    status: str  # "ok" | "diverged"

    @property
    def points(self) -> list[Point]:
        return [s.point for s in self.steps]

    @property
    def final_value(self) -> float:
        return self.steps[-1].value if self.status == "ok" else math.nan

    def at(self, index: int) -> Step:
        """The step shown at animation frame `index` (a path that stopped stays at its last step)."""
        return self.steps[max(0, min(index, len(self.steps) - 1))]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"optimizer": self.optimizer, "lr": self.lr}
        if self.momentum is not None:
            out["momentum"] = self.momentum
        out["points"] = [list(p) for p in self.points]
        out["final_value"] = self.final_value
        return out


@dataclass(frozen=True)
class LandscapeRun:
    function: str
    start: Point
    steps: int
    trajectories: tuple[Trajectory, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "start": list(self.start),
            "trajectories": [t.to_json() for t in self.trajectories],
        }


def get_landscape(name: str) -> Landscape:
    key = (name or "").strip().lower()
    if key not in LANDSCAPES:
        raise choice_error("function", name, LANDSCAPES)
    return LANDSCAPES[key]


def _optimizer_names() -> tuple[str, ...]:
    from tui_lab.optimizers import OPTIMIZERS

    return tuple(OPTIMIZERS)


def _momentum_for(name: str, momentum: float | None) -> float | None:
    if name in ("momentum", "nesterov"):
        return 0.9 if momentum is None else momentum
    if name in ("sgd", "rmsprop") and momentum:
        return momentum
    return None


def _state_of(optimizer: Any, param: Any) -> dict[str, Point]:
    if hasattr(optimizer, "state_of"):  # a teaching optimizer: already in teaching names
        raw = optimizer.state_of(0)
    else:
        raw = {_STATE_NAMES[k]: v for k, v in optimizer.state.get(param, {}).items() if k in _STATE_NAMES}
    return {k: (float(v[0]), float(v[1])) for k, v in raw.items()}


def trajectory(
    function: str,
    optimizer: str,
    lr: float | None = None,
    steps: int | None = None,
    start: Sequence[float] | None = None,
    momentum: float | None = None,
    weight_decay: float = 0.0,
    engine: str = "torch",
) -> Trajectory:
    """The path of one optimizer on `function`, one Step per update, float64 throughout."""
    import torch

    from tui_lab.optimizers import make_optimizer, optimizer_name, parse_lr

    land = get_landscape(function)
    name = optimizer_name(optimizer)
    lr = land.default_lr[name] if lr is None else parse_lr(lr)
    steps = _check_steps(land.default_steps if steps is None else steps)
    x0, y0 = _check_start(land.start if start is None else start)
    if engine not in ENGINES:
        raise choice_error("engine", engine, ENGINES)
    w = torch.tensor([x0, y0], dtype=torch.float64, requires_grad=True)
    if engine == "torch":
        opt = make_optimizer(name, [w], lr=lr, weight_decay=weight_decay, momentum=momentum)
    else:
        from tui_lab.teaching_optimizers import make_teaching_optimizer

        opt = make_teaching_optimizer(name, [w], lr=lr, weight_decay=weight_decay, momentum=momentum)

    def evaluate() -> tuple[float, Point]:
        w.grad = None
        f = land.fn(w[0], w[1])
        f.backward()
        grad = w.grad
        assert grad is not None
        return float(f.detach()), (float(grad[0]), float(grad[1]))

    value, grad = evaluate()
    path = [Step(0, (x0, y0), value, grad, {})]
    status = "ok"
    for i in range(1, steps + 1):
        opt.step()  # uses the gradient left in w.grad by evaluate()
        x, y = (float(v) for v in w.detach())
        if not (math.isfinite(x) and math.isfinite(y)) or max(abs(x), abs(y)) > DIVERGED_ABOVE:
            status = "diverged"
            break
        state = _state_of(opt, w)
        value, grad = evaluate()
        if not math.isfinite(value):
            status = "diverged"
            break
        path.append(Step(i, (x, y), value, grad, state))
    return Trajectory(name, lr, _momentum_for(name, momentum), tuple(path), status)


def run_landscape(
    function: str,
    optimizers: Sequence[str],
    lrs: Sequence[float | None] | None = None,
    steps: int | None = None,
    start: Sequence[float] | None = None,
    momentum: float | None = None,
    engine: str = "torch",
) -> LandscapeRun:
    """Each optimizer from the same start point; `lrs` is one per optimizer, one for all, or None."""
    if momentum is not None and not (isinstance(momentum, (int, float)) and 0.0 <= momentum < 1.0):
        raise ConfigError("momentum", f"must be a number in [0, 1), got {momentum!r}")
    land = get_landscape(function)
    if not optimizers:
        raise ConfigError("optimizers", "give at least one optimizer")
    if lrs is None or len(lrs) == 0:
        lrs = [None] * len(optimizers)
    elif len(lrs) == 1:
        lrs = list(lrs) * len(optimizers)
    elif len(lrs) != len(optimizers):
        raise ConfigError("lr", f"give one learning rate, or one per optimizer ({len(optimizers)}), got {len(lrs)}")
    steps = _check_steps(land.default_steps if steps is None else steps)
    start_point = _check_start(land.start if start is None else start)
    # `momentum` sets the momentum/nesterov optimizers' coefficient (0.9 unless set); sgd stays plain
    paths = tuple(
        trajectory(land.name, name, lr, steps, start_point, engine=engine,
                   momentum=momentum if str(name).strip().lower() in ("momentum", "nesterov") else None)
        for name, lr in zip(optimizers, lrs)
    )
    return LandscapeRun(land.name, start_point, steps, paths)


def _check_steps(steps: Any) -> int:
    try:
        n = int(steps)
        ok = n == float(steps)
    except (TypeError, ValueError):
        ok = False
    if not ok or not 1 <= n <= MAX_STEPS:
        raise ConfigError("steps", f"must be a whole number from 1 to {MAX_STEPS}, got {steps!r}")
    return n


def _check_start(start: Any) -> Point:
    try:
        if isinstance(start, str):
            start = [s for s in start.replace(" ", "").split(",")]
        x, y = (float(v) for v in start)
    except (TypeError, ValueError):
        raise ConfigError("start", f"must be two numbers X,Y, got {start!r}") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ConfigError("start", f"must be two finite numbers X,Y, got {start!r}")
    return (x, y)


parse_start = _check_start


# ---- contours -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    """The function sampled at cell centres: rows top (largest y) to bottom, columns left to right."""

    function: str
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    values: tuple[tuple[float, ...], ...]
    levels: tuple[float, ...]  # band edges, ascending: band k holds levels[k-1] <= value < levels[k]
    bands: tuple[tuple[int, ...], ...]  # band index per cell, 0 = lowest

    @property
    def height(self) -> int:
        return len(self.values)

    @property
    def width(self) -> int:
        return len(self.values[0])

    def cell_of(self, point: Point) -> tuple[int, int] | None:
        """(row, col) of the cell holding `point`, None when it lies outside the drawn window."""
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        x, y = point
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            return None
        col = min(int((x - x0) / (x1 - x0) * self.width), self.width - 1)
        row = min(int((y1 - y) / (y1 - y0) * self.height), self.height - 1)
        return row, col


def sample_grid(
    function: str,
    width: int,
    height: int,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    n_bands: int = 8,
) -> Grid:
    """Sample `function` on width x height cell centres; bands are quantiles so each shows equally."""
    land = get_landscape(function)
    if width < 2 or height < 2:
        raise ConfigError("size", f"the grid needs at least 2x2 cells, got {width}x{height}")
    x0, x1 = x_range or land.x_range
    y0, y1 = y_range or land.y_range
    xs = [x0 + (c + 0.5) * (x1 - x0) / width for c in range(width)]
    ys = [y1 - (r + 0.5) * (y1 - y0) / height for r in range(height)]
    values = tuple(tuple(land.value(x, y) for x in xs) for y in ys)
    flat = sorted(v for row in values for v in row)
    levels = tuple(flat[min(len(flat) - 1, (k * len(flat)) // n_bands)] for k in range(1, n_bands))
    bands = tuple(tuple(_band(v, levels) for v in row) for row in values)
    return Grid(land.name, (x0, x1), (y0, y1), values, levels, bands)


def _band(value: float, levels: Sequence[float]) -> int:
    k = 0
    while k < len(levels) and value >= levels[k]:
        k += 1
    return k


# ---- characters ------------------------------------------------------------------------------

MARKERS = ("●", "■", "▲", "◆", "✚", "★", "✖")  # one per optimizer, in order
ASCII_MARKERS = ("A", "B", "C", "D", "E", "F", "G")  # the head; visited points in lower case


@dataclass(frozen=True)
class Cell:
    char: str
    kind: str  # "band" | "contour" | "path" | "head" | "start" | "min"
    band: int  # the contour band under the cell (for its background)
    path: int = -1  # which trajectory, for "path" and "head"


def canvas(grid: Grid, run: LandscapeRun | None = None, frame: int | None = None, ascii_only: bool = False) -> list[list[Cell]]:
    """Contours and each path up to step `frame` (None: all) as rows of cells, drawn back to front."""
    marks = ASCII_MARKERS if ascii_only else MARKERS
    line_char = "." if ascii_only else "·"
    cells: list[list[Cell]] = []
    for r in range(grid.height):
        row = []
        for c in range(grid.width):
            band = grid.bands[r][c]
            # a contour line where the band changes to the right or below
            edge = (c + 1 < grid.width and grid.bands[r][c + 1] != band) or (
                r + 1 < grid.height and grid.bands[r + 1][c] != band
            )
            if ascii_only:
                # contour lines labelled with their band, lowest 0, like heights on a map
                row.append(Cell(str(band % 10) if edge else " ", "contour" if edge else "band", band))
            else:  # the screen shades each band's background; no glyph needed
                row.append(Cell(" ", "contour" if edge else "band", band))
        cells.append(row)

    def put(point: Point, char: str, kind: str, path: int = -1) -> None:
        where = grid.cell_of(point)
        if where is not None:
            r, c = where
            cells[r][c] = Cell(char, kind, cells[r][c].band, path)

    land = LANDSCAPES[grid.function]
    if land.minimum is not None:
        put(land.minimum, "*" if ascii_only else "✕", "min")
    if run is None:
        return cells
    for k, traj in enumerate(run.trajectories):
        last = len(traj.steps) - 1 if frame is None else min(frame, len(traj.steps) - 1)
        pts = traj.points[: last + 1]
        for a, b in zip(pts, pts[1:]):
            for p in _segment(grid, a, b):
                put(p, line_char, "path", k)
        for p in pts[:-1]:
            put(p, marks[k % len(marks)].lower() if ascii_only else "•", "path", k)
    put(run.start, "@" if ascii_only else "◎", "start")
    for k, traj in enumerate(run.trajectories):
        last = len(traj.steps) - 1 if frame is None else min(frame, len(traj.steps) - 1)
        put(traj.steps[last].point, marks[k % len(marks)], "head", k)
    return cells


def _segment(grid: Grid, a: Point, b: Point) -> list[Point]:
    """Points along a->b about one cell apart (clipped to a sane count for far jumps)."""
    (x0, x1), (y0, y1) = grid.x_range, grid.y_range
    dc = abs(b[0] - a[0]) / (x1 - x0) * grid.width
    dr = abs(b[1] - a[1]) / (y1 - y0) * grid.height
    n = min(int(max(dc, dr)) + 1, 4 * (grid.width + grid.height))
    return [(a[0] + (b[0] - a[0]) * t / n, a[1] + (b[1] - a[1]) * t / n) for t in range(1, n)]


def canvas_text(cells: list[list[Cell]]) -> str:
    return "\n".join("".join(c.char for c in row) for row in cells)
