"""The landscape screen: optimizers walking a 2-D function, drawn over its contours step by step.

Built as `LandscapeScreen(preset={"function": "bowl", "optimizers": ["sgd", "momentum", "adam"],
"lr": [0.4, 0.4, 0.4], "steps": 40})` (also `start` [x, y], `momentum`, `engine` "torch" or "teaching",
`frame` to open at a step, -1 for the last, and `play`, default on). Keys: space play, ←/→ step,
+/- speed, f function, [ ] halve/double every lr, t torch.optim vs hand-written, o update rules.
Paths and optimizer state come from `tui_lab.landscapes`; this only draws.
"""

from __future__ import annotations

import math
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from tui_lab import landscapes as ls
from tui_lab.ui.widgets.footer import Footer
from tui_lab.ui.jobs import JobRunner

SPEEDS = (2, 4, 8, 16, 32, 64)  # steps per second
FUNCTIONS = tuple(ls.LANDSCAPES)
DEFAULT_OPTIMIZERS = ("sgd", "momentum", "adam")
PATH_COLORS = ("#ff6e6e", "#5af78e", "#f4f99d", "#6be5fd", "#ff92d0", "#ffb86c", "#caa9fa")
STATE_SHORT = {"velocity": "vel", "sum_sq": "Σg²", "mean_sq": "avg g²", "m": "m", "v": "v"}


BAND_PALETTE = ((20, 28, 72), (24, 58, 96), (22, 86, 100), (34, 100, 78), (70, 100, 50), (104, 92, 36),
                (112, 66, 32), (104, 40, 40))  # low to high, dark enough that the bright paths stand out


def _band_color(band: float, bands: int) -> str:
    t = min(max(band / max(1, bands - 1), 0.0), 1.0) * (len(BAND_PALETTE) - 1)
    i = min(int(t), len(BAND_PALETTE) - 2)
    f = t - i
    r, g, b = (round(a + (c - a) * f) for a, c in zip(BAND_PALETTE[i], BAND_PALETTE[i + 1]))
    return f"#{r:02x}{g:02x}{b:02x}"


def band_legend(grid: ls.Grid) -> Text:
    """The contour key: each band's colour with the value where it starts (bands are quantiles of
    f over the plot, so each covers an equal share of it), lowest first, on two lines."""
    bands = len(grid.levels) + 1
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("f ")
    for k in range(bands):
        text.append("  ", Style(bgcolor=_band_color(k, bands)))
    text.append(" ↑\n", "dim")
    edges = [grid.levels[0], grid.levels[len(grid.levels) // 2], grid.levels[-1]]
    text.append(f"  <{_num(edges[0])} · {_num(edges[1])} · >{_num(edges[2])}\n", "dim")
    return text


def _num(v: float) -> str:
    if not math.isfinite(v):
        return "—"
    if v == 0:
        return "0"
    return f"{v:.3g}" if 1e-3 <= abs(v) < 1e4 else f"{v:.1e}"


def _pair(p: tuple[float, float]) -> str:
    return f"({_num(p[0])}, {_num(p[1])})"


class LandscapeCanvas(Widget):
    """Contour bands and paths, sampled to whatever size the widget has."""

    DEFAULT_CSS = "LandscapeCanvas { width: 1fr; height: 1fr; }"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.function = "bowl"
        self.run: ls.LandscapeRun | None = None
        self.frame = 0
        self._grid: ls.Grid | None = None

    def show(self, function: str, run: ls.LandscapeRun | None, frame: int) -> None:
        if function != self.function:
            self._grid = None
        self.function, self.run, self.frame = function, run, frame
        self.refresh()

    def grid(self) -> ls.Grid | None:
        w, h = self.size.width, self.size.height
        if w < 2 or h < 2:
            return None
        if self._grid is None or (self._grid.width, self._grid.height) != (w, h) or self._grid.function != self.function:
            self._grid = ls.sample_grid(self.function, w, h)
        return self._grid

    def render(self) -> Text:
        grid = self.grid()
        if grid is None:
            return Text("")
        cells = ls.canvas(grid, self.run, self.frame)
        bands = len(grid.levels) + 1
        text = Text(no_wrap=True, overflow="crop")
        for r, row in enumerate(cells):
            for cell in row:
                bg = _band_color(cell.band, bands)
                if cell.kind in ("path", "head"):
                    color = PATH_COLORS[cell.path % len(PATH_COLORS)]
                    text.append(cell.char, Style(color=color, bgcolor=bg, bold=cell.kind == "head"))
                elif cell.kind == "start":
                    text.append(cell.char, Style(color="white", bgcolor=bg, bold=True))
                elif cell.kind == "min":
                    text.append(cell.char, Style(color="#ffffff", bgcolor=bg))
                elif cell.kind == "contour":
                    text.append(" ", Style(bgcolor=_band_color(cell.band + 0.4, bands)))
                else:
                    text.append(" ", Style(bgcolor=bg))
            if r < len(cells) - 1:
                text.append("\n")
        return text


class LandscapeScreen(JobRunner, Screen):
    """Watch optimizers descend a 2-D function; step, play, change the function or the rates."""

    CSS_PATH = "landscape.tcss"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("space", "toggle_play", "Play/pause"),
        Binding("right,l", "step(1)", "Step"),
        Binding("left,h", "step(-1)", "Step back", show=False),
        Binding("home,g", "jump(0)", "Start", show=False),
        Binding("end,G", "jump(-1)", "End", show=False),
        Binding("plus,equals_sign", "speed(1)", "Faster"),
        Binding("minus", "speed(-1)", "Slower", show=False),
        Binding("f", "next_function", "Function"),
        Binding("right_square_bracket", "scale_lr(2.0)", "lr×2"),
        Binding("t", "toggle_engine", "torch/by hand", show=False),
        Binding("o", "show_rule", "Rule", show=False),
        Binding("left_square_bracket", "scale_lr(0.5)", "lr÷2", show=False),
    ]

    def __init__(self, preset: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        preset = dict(preset or {})
        self.function = str(preset.get("function", "bowl"))
        self.optimizers = list(preset.get("optimizers") or DEFAULT_OPTIMIZERS)
        lr = preset.get("lr")
        self.lrs: list[float] | None = None if lr is None else (list(lr) if isinstance(lr, (list, tuple)) else [lr])
        self.steps = preset.get("steps")
        self.start = preset.get("start")
        self.momentum = preset.get("momentum")
        self.frame = int(preset.get("frame", 0))
        self.autoplay = bool(preset.get("play", True))
        self.engine = str(preset.get("engine", "torch"))  # or "teaching": the hand-written optimizers
        self.run: ls.LandscapeRun | None = None
        self.error: str | None = None
        self.playing = False
        self.speed_i = 2
        self._timer = None
        self.rule_index = -1  # which optimizer's update rule the status line shows; -1: the function's note

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Vertical(id="ls-root"):
            yield Static("computing paths…", id="ls-title")
            with Horizontal(id="ls-body"):
                yield LandscapeCanvas(id="ls-plot")
                with VerticalScroll(id="ls-side", can_focus=False):
                    yield Static("", id="ls-legend")
            yield Static("", id="ls-status")
        yield Footer()

    def on_mount(self) -> None:
        self._timer = self.set_interval(1 / SPEEDS[self.speed_i], self._tick, pause=True)
        self._compute()

    def _compute(self) -> None:
        # torch loads on first use: keep it off the UI thread
        function, optimizers, lrs, steps, start = self.function, self.optimizers, self.lrs, self.steps, self.start
        momentum, engine = self.momentum, self.engine
        self.run_job("paths", lambda: ls.run_landscape(function, optimizers, lrs, steps, start,
                                                       momentum=momentum, engine=engine))

    def job_event(self, job: str, event: Any) -> None:
        self._apply(event)

    def job_failed(self, job: str, message: str) -> None:
        self._show_error(message)

    def _show_error(self, message: str) -> None:
        self.last_job_error = message
        self.error = message
        self.run = None
        self.query_one("#ls-title", Static).update(Text(f"error: {message}", style="bold red"))
        self.query_one("#ls-legend", Static).update("")

    def _apply(self, run: ls.LandscapeRun) -> None:
        self.error = None
        self.run = run
        self.lrs = [t.lr for t in run.trajectories]
        self.frame = max(0, min(self.frame if self.frame >= 0 else run.steps + 1 + self.frame, run.steps))
        self.refresh_view()
        if self.autoplay and self.frame < run.steps:
            self._set_playing(True)
        self.autoplay = False

    # ------------------------------------------------------------------ drawing

    def refresh_view(self) -> None:
        run = self.run
        if run is None:
            return
        land = ls.LANDSCAPES[run.function]
        state = "playing" if self.playing else "paused"
        self.query_one("#ls-title", Static).update(
            Text.assemble((land.title, "bold"), f"  {land.formula}  ", f"step {self.frame}/{run.steps} {state}")
        )
        self.query_one("#ls-plot", LandscapeCanvas).show(run.function, run, self.frame)
        self.query_one("#ls-legend", Static).update(self._legend(run))
        self.query_one("#ls-status", Static).update(self._status_text(run, land))

    def _status_text(self, run: ls.LandscapeRun, land: ls.Landscape) -> Text:
        if 0 <= self.rule_index < len(run.trajectories):
            from tui_lab.teaching_optimizers import (
                UPDATE_RULES,  # torch is loaded by now
            )

            k = self.rule_index
            name = run.trajectories[k].optimizer
            return Text.assemble((f"{ls.MARKERS[k % len(ls.MARKERS)]} {name}: ",
                                  Style(color=PATH_COLORS[k % len(PATH_COLORS)], bold=True)),
                                 UPDATE_RULES.get(name, ""))
        return Text(land.note, style="italic")

    def _legend(self, run: ls.LandscapeRun) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        for k, traj in enumerate(run.trajectories):
            color = PATH_COLORS[k % len(PATH_COLORS)]
            step = traj.at(self.frame)
            head = f"{ls.MARKERS[k % len(ls.MARKERS)]} {traj.optimizer}"
            text.append(head, Style(color=color, bold=True))
            extra = f"  lr {traj.lr:g}" + ("" if traj.momentum is None else f" μ {traj.momentum:g}")
            text.append(extra + "\n")
            if len(run.trajectories) <= 3:
                text.append(f" at {_pair(step.point)}\n")
                text.append(f" f {_num(step.value)}  g {_pair(step.grad)}\n", "dim")
            else:  # many paths: two lines fewer each, so the legend fits 80x24 without scrolling
                text.append(f" {_pair(step.point)} f {_num(step.value)}\n")
            for key, value in step.state.items():
                text.append(f" {STATE_SHORT.get(key, key)} {_pair(value)}\n")
            if traj.status == "diverged" and self.frame >= len(traj.steps) - 1:
                text.append(f" diverged after step {len(traj.steps) - 1}\n", Style(color="red", bold=True))
        grid = self.query_one("#ls-plot", LandscapeCanvas).grid()
        if grid is not None:
            text.append_text(band_legend(grid))
            (x0, x1), (y0, y1) = grid.x_range, grid.y_range
            text.append(f"x {x0:g}…{x1:g}  y {y0:g}…{y1:g}\n", "dim")
        land = ls.LANDSCAPES[run.function]
        text.append("◎ start" + ("  ✕ minimum" if land.minimum else "") + "\n", "dim")
        by = "torch.optim" if self.engine == "torch" else "hand-written optimizers"
        text.append(f"paths by {by}\n", "dim")
        text.append("[ ] lr · t by hand · o rule", "dim")
        return text

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        go_back = getattr(self.app, "go_back", None)  # the dllab app knows where Escape leads
        if go_back is not None:
            go_back()
        else:
            self.app.pop_screen()

    def _set_playing(self, playing: bool) -> None:
        self.playing = playing
        if self._timer is not None:
            self._timer.resume() if playing else self._timer.pause()
        self.refresh_view()

    def action_toggle_play(self) -> None:
        if self.run is None:
            return
        if not self.playing and self.frame >= self.run.steps:
            self.frame = 0  # play again from the start
        self._set_playing(not self.playing)

    def _tick(self) -> None:
        if self.run is None:
            return
        if self.frame >= self.run.steps:
            self._set_playing(False)
            return
        self.frame += 1
        self.refresh_view()

    def action_step(self, delta: int) -> None:
        if self.run is None:
            return
        if self.playing:
            self._set_playing(False)
        self.frame = max(0, min(self.frame + delta, self.run.steps))
        self.refresh_view()

    def action_jump(self, where: int) -> None:
        if self.run is None:
            return
        self.frame = 0 if where == 0 else self.run.steps
        self._set_playing(False)

    def action_speed(self, delta: int) -> None:
        self.speed_i = max(0, min(self.speed_i + delta, len(SPEEDS) - 1))
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_interval(1 / SPEEDS[self.speed_i], self._tick, pause=not self.playing)
        self.notify(f"{SPEEDS[self.speed_i]} steps/s", timeout=1)

    def action_next_function(self) -> None:
        i = FUNCTIONS.index(self.function) if self.function in FUNCTIONS else -1
        self.function = FUNCTIONS[(i + 1) % len(FUNCTIONS)]
        self.lrs, self.steps, self.start = None, None, None  # each function's own defaults
        self._restart()

    def action_scale_lr(self, factor: float) -> None:
        if self.run is None:
            return
        self.lrs = [lr * factor for lr in self.lrs or []] or None
        self._restart()

    def action_show_rule(self) -> None:
        """Cycle the status line through each optimizer's update rule, then back to the note."""
        if self.run is None:
            return
        self.rule_index += 1
        if self.rule_index >= len(self.run.trajectories):
            self.rule_index = -1
        self.refresh_view()

    def action_toggle_engine(self) -> None:
        """Recompute with the hand-written optimizers (or back): the paths should not move."""
        if self.run is None:
            return
        self.engine = "teaching" if self.engine == "torch" else "torch"
        frame = self.frame
        self._restart()
        self.frame, self.autoplay = frame, False

    def _restart(self) -> None:
        self._set_playing(False)
        self.frame = 0
        self.autoplay = True
        self.query_one("#ls-title", Static).update("computing paths…")
        self._compute()
