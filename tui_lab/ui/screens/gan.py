"""The GAN lab: a generator and a discriminator fight over 2-D points, GAN Lab style.

Built as `GanScreen(preset={"data": "gaussians", "lr_g": 0.01, "lr_d": 0.001})` (any key of
`tui_lab.gan.PRESET_KEYS`). One session runs in a thread worker (`tui_lab.gan.GanSession.run`),
steered by a `GanControl`: Space plays and pauses, `n` takes one update and `N` a hundred, the
learning rates change live. The screen only holds the settings and draws the frames.
"""

from __future__ import annotations

import math
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Static

from tui_lab import gan
from tui_lab.errors import DllabError
from tui_lab.ui.jobs import JobRunner
from tui_lab.ui.widgets.footer import Footer
from tui_lab.ui.widgets.gan_map import ARROW_COLS, FAKE_POINT, REAL_POINT, GanMap

MIN_COLS, MIN_ROWS = 12, 12  # pixels
REPORT_EVERY = 5  # updates between frames while playing
LRS = (0.0001, 0.0003, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.05, 0.1)
D_STEPS = (1, 2, 3, 5)
CURVE_POINTS = 400
COLLAPSED = 0.35  # generated spread / real spread below which (with few modes) the note says mode collapse
SPARK = "▁▂▃▄▅▆▇█"
D_STYLE = "bold #60c85a"
G_STYLE = "bold #ba68e6"
DIST_STYLE = "bold #e0c060"


def _rgb(c: tuple[int, int, int]) -> str:
    return f"rgb({c[0]},{c[1]},{c[2]})"


class GanScreen(JobRunner, Screen):
    """Watch a GAN learn 2-D points: D's verdict, the points, the generator's gradient arrows."""

    CSS_PATH = "gan.tcss"
    FRAME_INTERVAL = 1 / 20  # seconds between frames while playing, so the fight can be watched

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("space", "play", "Play/pause"),
        Binding("n", "step(1)", "Step"),
        Binding("N", "step(100)", "Step x100", show=False),
        Binding("r", "reset", "Reset"),
        Binding("g", "lr('lr_g', 1)", "lr_g+"),
        Binding("G", "lr('lr_g', -1)", "lr_g-", show=False),
        Binding("d", "lr('lr_d', 1)", "lr_d+"),
        Binding("D", "lr('lr_d', -1)", "lr_d-", show=False),
        Binding("x", "data", "Data"),
        Binding("l", "loss", "Loss", show=False),
        Binding("k", "d_steps", "D steps", show=False),
        Binding("s", "seed", "Seed", show=False),
        Binding("v", "field", "Arrows", show=False),
    ]

    def __init__(self, preset: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.preset = dict(preset or {})
        self.error = ""
        try:
            self.config = gan.config_from_preset(self.preset)
        except DllabError as exc:
            self.error = str(exc)
            self.config = gan.validate(gan.GanConfig())
        self.control = gan.GanControl(paused=True)
        self.session: gan.GanSession | None = None
        self.frame: gan.GanFrame | None = None
        self.field = False  # arrows at every block instead of on the generated points
        self.map_size = (46, 40)  # (cols, pixel rows), read from the widget once laid out
        self.history: list[tuple[int, float, float, float]] = []  # (step, d_loss, g_loss, distance)
        self.lrs = (self.config.lr_g, self.config.lr_d)  # the live rates (the session's own)

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Vertical(id="gan-root"):
            yield Static("", id="gan-title")
            with Horizontal(id="gan-main"):
                yield GanMap(id="gan-map")
                with Vertical(id="gan-side"):
                    yield Static("", id="gan-settings")
                    yield Static("", id="gan-stats")
                    yield Static("", id="gan-curves")
                    yield Static("", id="gan-note")
        yield Footer()

    def on_mount(self) -> None:
        self._draw_settings()
        self._draw_stats()
        self.call_after_refresh(self._measure_and_start)

    def _measure_and_start(self) -> None:
        self._measure()
        self._start()

    def _measure(self) -> bool:
        """A square plane as large as the map widget allows: one column per pixel, two pixels per line."""
        size = self.query_one("#gan-map", GanMap).content_size
        side = max(MIN_ROWS, min(size.width, 2 * size.height))
        new = (max(MIN_COLS, side), max(MIN_ROWS, side - side % 2))
        changed = new != self.map_size
        self.map_size = new
        return changed

    def dims(self) -> tuple[int, int, int, int]:
        """(cols, rows, field_cols, field_rows) of a frame: the arrows' blocks are ARROW_COLS x 1 line."""
        cols, rows = self.map_size
        return cols, rows, max(1, cols // ARROW_COLS), max(1, rows // 2)

    def on_resize(self) -> None:
        self.call_after_refresh(self._resized)

    def _resized(self) -> None:
        if self._measure() and self.session is not None and self.control.paused:
            self.control.set_hyperparameters()  # wakes the paused session; it redraws at the new size

    def on_unmount(self) -> None:
        self.control.cancel()

    # ------------------------------------------------------------------ worker

    def _start(self, play: bool = False) -> None:
        """A fresh session for the current config in a worker; paused unless `play`."""
        self.control.cancel()
        self.control = control = gan.GanControl(paused=not play)
        self.session = None
        self.frame = None
        self.history = []
        self.lrs = (self.config.lr_g, self.config.lr_d)
        config = self.config
        limited = "steps" in self.preset

        def job():
            session = gan.GanSession(config)
            yield session
            yield session.frame(*self.dims())
            while not control.cancelled:
                # a preset's `steps` stops there (Space goes on for as many again); otherwise play on
                yield from session.run(steps=config.steps if limited else gan.MAX_STEPS, control=control,
                                       every=REPORT_EVERY, size=self.dims, min_interval=self.FRAME_INTERVAL)
                if session.diverged:
                    return
                control.pause()
                yield "paused"

        self.run_job("gan", job)
        self._draw_stats()

    def job_event(self, job: str, event) -> None:
        if isinstance(event, gan.GanSession):
            self.session = event
            return
        if event == "paused":
            self._draw_stats()
            return
        self.frame = event
        if self.session is not None:
            self.lrs = (self.session.lr_g, self.session.lr_d)
        if not self.history or self.history[-1][0] != event.step:
            self.history.append((event.step, event.d_loss, event.g_loss, event.distance))
            if len(self.history) > CURVE_POINTS:  # keep every other old point: the whole run, bounded
                self.history = self.history[:-CURVE_POINTS // 2:2] + self.history[-CURVE_POINTS // 2:]
        self.query_one("#gan-map", GanMap).show(event, field=self.field)
        self._draw_settings()
        self._draw_stats()
        self._draw_curves()
        self._draw_note()

    def job_failed(self, job: str, message: str) -> None:
        self.last_job_error = self.error = message
        self._draw_title()

    # ------------------------------------------------------------------ drawing

    def _draw_title(self) -> None:
        c = self.config
        if self.error:
            title = Text(f"error: {self.error}", style="bold")
        else:
            title = Text.assemble(("GAN lab", "bold"), f" · {c.data} · {gan.describe_networks(c)} · {c.optimizer}")
        self.query_one("#gan-title", Static).update(title)
        self.query_one("#gan-map").border_title = c.data

    def _draw_settings(self) -> None:
        self._draw_title()
        c = self.config
        lr_g, lr_d = self.lrs
        pairs = [(("g", f"lr_g {lr_g:g}"), ("d", f"lr_d {lr_d:g}")),
                 (("x", c.data), ("k", f"{c.d_steps} D step{'s' if c.d_steps > 1 else ''}/G step")),
                 (("l", "non-saturating" if c.loss == "nonsaturating" else "minimax"), ("s", f"seed {c.seed}"))]
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, ((k1, v1), (k2, v2)) in enumerate(pairs):
            if i:
                text.append("\n")
            text.append(f"{k1} ", style="bold")
            text.append(f"{v1:<15}")
            text.append(f"{k2} ", style="bold")
            text.append(v2)
        self.query_one("#gan-settings", Static).update(text)

    def _draw_stats(self) -> None:
        f = self.frame
        state = "▶ playing" if not self.control.paused else "⏸ paused (space)"
        if f is None:
            self.query_one("#gan-stats", Static).update(Text(f"step 0 · {'loading…' if self.session is None else state}"))
            return
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"step {f.step}", style="bold")
        text.append(f" · {state}\n")
        if f.diverged:
            text.append("diverged: lower the learning rates (r resets)\n", style="bold")
        text.append("D loss ", style="dim")
        text.append(f"{f.d_loss:.3f}", style=D_STYLE)
        text.append("  G loss ", style="dim")
        text.append(f"{f.g_loss:.3f}", style=G_STYLE)
        text.append(f"\nD(real) {f.d_real:.2f}  D(fake) {f.d_fake:.2f}\n")
        text.append("distance ", style="dim")
        text.append(f"{f.distance:.4f}", style=DIST_STYLE)
        if self.history and self.history[0][0] == 0 and self.history[0][3] > 0 and f.step:
            text.append(f" ({f.distance / self.history[0][3]:.0%} of step 0)", style="dim")
        text.append("\nmodes ")
        text.append("●" * f.modes, style=_rgb(FAKE_POINT))
        text.append("○" * (f.modes_total - f.modes), style="dim")
        text.append(f" {f.modes}/{f.modes_total} · spread {f.spread:.2f}")
        self.query_one("#gan-stats", Static).update(text)

    def _draw_curves(self) -> None:
        box = self.query_one("#gan-curves", Static)
        box.update(curves_text(self.history, max(8, (box.content_size.width or 30) - 9)))

    def _draw_note(self) -> None:
        f = self.frame
        if f is None:
            return
        text = Text()
        text.append("●", style=_rgb(REAL_POINT))
        text.append(" real  ")
        text.append("●", style=_rgb(FAKE_POINT))
        text.append(" generated  ")
        text.append("tint: D's verdict", style="dim")
        arrows = "every block (v)" if self.field else "on generated points (v: everywhere)"
        text.append(f"\narrows: where D pushes G's points, {arrows}", style="dim")
        if f.step and f.modes <= max(1, f.modes_total // 4) and f.spread < COLLAPSED:
            text.append("\nMode collapse: ", style="bold")
            text.append(f"the generated points spread {f.spread:.0%} as wide as the real ones: G sends every "
                        "noise vector to the spot D currently rates most real; D learns it, G jumps elsewhere.")
        elif self.config.loss == "minimax" and f.d_fake < 0.1:
            text.append("\nSaturated: ", style="bold")
            text.append("D is sure the points are fake, so log(1 − D(G(z))) is flat there: tiny arrows, "
                        "G barely moves. Press l for the non-saturating loss.")
        self.query_one("#gan-note", Static).update(text)

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        self.control.cancel()
        self.app.pop_screen()

    def action_play(self) -> None:
        if self.control.paused:
            self.control.resume()
        else:
            self.control.pause()
        self._draw_stats()

    def action_step(self, n: int) -> None:
        if not self.control.paused:
            self.control.pause()
        self.control.request_steps(n)
        self._draw_stats()

    def action_reset(self) -> None:
        self._start()

    def action_lr(self, name: str, delta: int) -> None:
        current = self.lrs[0] if name == "lr_g" else self.lrs[1]
        if delta > 0:
            bigger = [v for v in LRS if v > current * 1.0001]
            new = bigger[0] if bigger else current
        else:
            smaller = [v for v in LRS if v < current / 1.0001]
            new = smaller[-1] if smaller else current
        if new == current:
            return
        self.control.set_hyperparameters(**{name: new})  # live: the session applies it before its next update
        self.lrs = (new, self.lrs[1]) if name == "lr_g" else (self.lrs[0], new)
        self.config = gan.with_changes(self.config, **{name: new})  # a reset keeps it
        self._draw_settings()

    def _change(self, **changes: Any) -> None:
        """A setting that needs new networks: a fresh session (paused at step 0)."""
        try:
            config = gan.with_changes(self.config, lr_g=self.lrs[0], lr_d=self.lrs[1], **changes)
        except DllabError as exc:
            self.notify(str(exc), severity="warning", timeout=3)
            return
        self.config = config
        self.error = ""
        self._draw_settings()
        self._start()

    def action_data(self) -> None:
        names = gan.DATASETS
        self._change(data=names[(names.index(self.config.data) + 1) % len(names)])

    def action_loss(self) -> None:
        self._change(loss="minimax" if self.config.loss == "nonsaturating" else "nonsaturating")

    def action_d_steps(self) -> None:
        i = D_STEPS.index(self.config.d_steps) if self.config.d_steps in D_STEPS else -1
        self._change(d_steps=D_STEPS[(i + 1) % len(D_STEPS)])

    def action_seed(self) -> None:
        self._change(seed=self.config.seed + 1)

    def action_field(self) -> None:
        self.field = not self.field
        if self.frame is not None:
            self.query_one("#gan-map", GanMap).show(self.frame, field=self.field)
            self._draw_note()


def curves_text(history: list[tuple[int, float, float, float]], width: int) -> Text:
    """D loss, G loss (one shared scale) and the distance (its own) as sparklines, newest on the right."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if len(history) < 2:
        return text.append("curves after the first updates (n steps, space plays)", style="dim")
    points = history[-width:] if len(history) <= width else [history[round(i * (len(history) - 1) / (width - 1))]
                                                            for i in range(width)]

    def line(k: int, lo: float, hi: float) -> str:
        span = hi - lo or 1.0
        return "".join(SPARK[max(0, min(len(SPARK) - 1, round((p[k] - lo) / span * (len(SPARK) - 1))))]
                       if math.isfinite(p[k]) else " " for p in points)

    losses = [v for p in points for v in (p[1], p[2]) if math.isfinite(v)] or [0.0]
    dists = [p[3] for p in points if math.isfinite(p[3])] or [0.0]
    lo, hi = min(losses), max(losses)
    text.append("D loss   ", style="dim")
    text.append(line(1, lo, hi), style=D_STYLE)
    text.append("\nG loss   ", style="dim")
    text.append(line(2, lo, hi), style=G_STYLE)
    text.append("\ndistance ", style="dim")
    text.append(line(3, min(dists), max(dists)), style=DIST_STYLE)
    text.append(f"\nloss {lo:.2f}…{hi:.2f} · steps {points[0][0]}–{points[-1][0]}", style="dim")
    return text
