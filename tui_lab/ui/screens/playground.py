"""The 2-D playground screen: pick data, depth, width and activation, train, watch the boundary.

Built as `PlaygroundScreen(preset={"dataset": "spirals", "hidden": [16, 16], "activation": "relu"})`
(any key of `tui_lab.playground.PRESET_KEYS`). Training runs in a thread worker through
`tui_lab.playground.Playground`; this screen only holds the settings and draws the frames.
"""

from __future__ import annotations

import math
import threading
from dataclasses import replace
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Static

from tui_lab import playground as pg
from tui_lab.errors import DllabError
from tui_lab.ui.jobs import JobRunner
from tui_lab.ui.widgets.decision_map import CLASS_COLOURS, DecisionMap
from tui_lab.ui.widgets.footer import Footer
from tui_lab.ui.widgets.neuron_maps import NeuronMaps, unit_size

MIN_COLS, MIN_ROWS = 8, 8  # pixels; the map is as large as the terminal allows (46 x 40 at 80x24)
REPORT_EVERY = 10  # steps between frames
WIDTHS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)
LRS = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
BATCHES = (0, 8, 32, 128)  # 0 = full batch
OPTIMIZERS = ("adam", "sgd", "momentum", "rmsprop", "adagrad")
NOISES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)
RATIOS = (0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9)
REG_RATES = (0.0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1)
FEATURE_SETS = (("x1", "x2"), ("x1", "x2", "x1^2", "x2^2"), ("x1x2",), ("x1", "x2", "x1x2"),
                ("x1^2", "x2^2"), ("sin_x1", "sin_x2"), pg.FEATURES)
CURVE_POINTS = 400  # (step, train loss, test loss) kept for the curves
SPARK = "▁▂▃▄▅▆▇█"
WIDE = 110  # columns from which the neuron maps are shown

ACTIVATION_NOTES = {
    "relu": "ReLU, max(0, x): each unit folds the plane along a line, so the boundary is made of "
            "straight pieces.",
    "leakyrelu": "LeakyReLU: ReLU with slope 0.1 below 0, so no unit goes dead; straight pieces again.",
    "elu": "ELU: x above 0, eˣ − 1 below; a smooth bend.",
    "tanh": "tanh: a smooth S-curve in (−1, 1), centred on 0; smooth boundaries.",
    "sigmoid": "sigmoid: an S-curve in (0, 1) whose slope is at most 0.25, so gradients shrink layer "
               "by layer: deep sigmoid nets learn slowly.",
}


class PlaygroundScreen(JobRunner, Screen):
    """Train a small MLP on 2-D points and watch its decision boundary."""

    CSS_PATH = "playground.tcss"
    FRAME_INTERVAL = 1 / 30  # seconds between frames while training, so a fast run can be watched

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("space", "toggle_train", "Train/stop"),
        Binding("r", "reset", "Reset"),
        Binding("d", "dataset(1)", "Data"),
        Binding("D", "dataset(-1)", "Data back", show=False),
        Binding("right_square_bracket", "depth(1)", "Layer+"),
        Binding("left_square_bracket", "depth(-1)", "Layer-"),
        Binding("w", "width(1)", "Width+"),
        Binding("W", "width(-1)", "Width-", show=False),
        Binding("a", "activation(1)", "Activation"),
        Binding("A", "activation(-1)", "Activation back", show=False),
        Binding("l", "lr(1)", "LR+"),
        Binding("L", "lr(-1)", "LR-", show=False),
        Binding("o", "optimizer", "Optimizer", show=False),
        Binding("b", "batch", "Batch", show=False),
        Binding("s", "seed", "Seed", show=False),
        Binding("n", "noise(1)", "Noise", show=False),
        Binding("N", "noise(-1)", "Noise-", show=False),
        Binding("t", "ratio(1)", "Train %", show=False),
        Binding("T", "ratio(-1)", "Train %-", show=False),
        Binding("g", "regularization", "Reg", show=False),
        Binding("e", "reg_rate(1)", "Rate", show=False),
        Binding("E", "reg_rate(-1)", "Rate-", show=False),
        Binding("f", "features(1)", "Features", show=False),
        Binding("F", "features(-1)", "Features back", show=False),
    ]

    def __init__(self, preset: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.preset = dict(preset or {})
        self.error = ""
        try:
            self.config = pg.config_from_preset(self.preset)
        except DllabError as exc:
            self.error = str(exc)
            self.config = pg.validate(pg.PlaygroundConfig())
        self.session: pg.Playground | None = None
        self.frame: pg.PlaygroundFrame | None = None
        self.training = False
        self._cancel = threading.Event()
        self.map_size = (46, 40)  # (cols, pixel rows): read from the widget once laid out
        self.neuron_size: tuple[int, int] | None = None  # (cols, pixel rows) per unit; None when hidden
        self.history: list[tuple[int, float, float]] = []  # (step, train loss, test loss)

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Vertical(id="pg-root"):
            yield Static("", id="pg-title")
            with Horizontal(id="pg-main"):
                yield DecisionMap(id="pg-map")
                yield NeuronMaps(id="pg-neurons")
                with Vertical(id="pg-side"):
                    yield Static("", id="pg-settings")
                    yield Static("", id="pg-stats")
                    yield Static("", id="pg-curves")
                    yield Static("", id="pg-note")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#pg-map").border_title = self.config.dataset
        self._draw_settings()
        self._draw_stats()
        self.call_after_refresh(self._measure_and_start)

    def _measure_and_start(self) -> None:
        self._measure()
        self._start(train=False, new_session=True)

    def _measure(self) -> bool:
        """Fit the grid to the map widget: one column per cell, two pixel rows per cell; size the
        neuron maps to their panel (shown from WIDE columns)."""
        self.set_class(self.size.width >= WIDE, "-wide")
        size = self.query_one("#pg-map", DecisionMap).content_size
        new = (max(MIN_COLS, size.width), max(MIN_ROWS, 2 * size.height))
        neurons = None
        if self.size.width >= WIDE and self.config.hidden:
            panel = self.query_one("#pg-neurons", NeuronMaps).content_size
            cols, rows = unit_size(panel.width or 24, panel.height or 20, list(self.config.hidden))
            neurons = (cols, rows) if cols and rows else None
        changed = new != self.map_size or neurons != self.neuron_size
        self.map_size, self.neuron_size = new, neurons
        return changed

    def on_resize(self) -> None:
        self.set_class(self.size.width >= WIDE, "-wide")  # lay the panels out first, then measure
        self.call_after_refresh(self._resized)

    def _resized(self) -> None:
        # A running worker reads map_size before every frame; a stopped one is asked to redraw.
        if self._measure() and not self.training and self.session is not None:
            self._start(train=False)

    def on_unmount(self) -> None:
        self._cancel.set()

    # ------------------------------------------------------------------ worker

    def _start(self, train: bool, new_session: bool = False) -> None:
        """Stop whatever runs, then (re)build the session and/or train it in a worker."""
        self._cancel.set()
        self._cancel = cancel = threading.Event()
        if new_session:
            self.session = None
        self.training = train
        if new_session:
            self.history = []
        self._draw_stats()
        config, session, size = self.config, self.session, lambda: self.map_size
        neurons = self.neuron_size
        limited = "steps" in self.preset

        def job():
            nonlocal session
            if session is None:
                session = pg.Playground(config)  # loads the data (scikit-learn) the first time
                yield session
            if not train:
                yield session.frame(*self.map_size, neuron_size=neurons)
                return
            # continuous until paused (space), as TensorFlow Playground does; a preset's `steps` stops there
            yield from session.run(steps=None if limited else pg.MAX_STEPS * 50, cancel=cancel, every=REPORT_EVERY,
                                   min_interval=self.FRAME_INTERVAL, size=size, neuron_size=neurons)

        self.run_job("playground", job)

    def job_event(self, job: str, event) -> None:
        if isinstance(event, pg.Playground):
            self.session = event
            return
        self.frame = event
        if not self.history or self.history[-1][0] != event.step:
            self.history.append((event.step, event.loss, event.test_loss))
            if len(self.history) > CURVE_POINTS:  # keep every other old point: the whole run, bounded
                self.history = self.history[:-CURVE_POINTS // 2:2] + self.history[-CURVE_POINTS // 2:]
        self.query_one("#pg-map", DecisionMap).show(event)
        self.query_one("#pg-neurons", NeuronMaps).show(event)
        self._draw_stats()
        self._draw_curves()
        self._draw_note()

    def job_failed(self, job: str, message: str) -> None:
        self.last_job_error = self.error = message
        self._draw_title()

    def job_done(self, job: str) -> None:
        self.training = False
        self._draw_stats()

    # ------------------------------------------------------------------ drawing

    def _draw_title(self) -> None:
        c = self.config
        if self.error:
            title = Text(f"error: {self.error}", style="bold")
        else:
            title = Text.assemble(("playground", "bold"), f" · {c.dataset} · {pg.describe(c)}")
        self.query_one("#pg-title", Static).update(title)

    def _draw_settings(self) -> None:
        self._draw_title()
        c = self.config
        width = "/".join(str(h) for h in c.hidden) if c.hidden else "-"
        features = ",".join(pg.FEATURE_LABELS[f] for f in c.features)
        pairs = [
            (("d", c.dataset), ("[]", f"{c.depth} hidden" if c.depth else "0 (linear model)")),
            (("w", f"width {width}"), ("a", c.activation if c.hidden else "-")),
            (("o", c.optimizer), ("l", f"lr {c.lr:g}")),
            (("b", "batch all" if c.batch_size == 0 else f"batch {c.batch_size}"), ("s", f"seed {c.seed}")),
            (("n", f"noise {c.noise:g}"), ("t", f"train {round(100 * c.ratio)}%")),
            (("g", f"reg {c.regularization}"), ("e", f"rate {c.reg_rate:g}")),
        ]
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, ((k1, v1), (k2, v2)) in enumerate(pairs):
            if i:
                text.append("\n")
            text.append(f"{k1:>2} ", style="bold")
            text.append(f"{v1:<12} ")
            text.append(f"{k2:>2} ", style="bold")
            text.append(v2)
        text.append("\n f ", style="bold")
        text.append(f"in {features}")
        self.query_one("#pg-settings", Static).update(text)
        self.query_one("#pg-map").border_title = c.dataset

    def _draw_stats(self) -> None:
        f = self.frame
        state = "▶ training" if self.training else "⏸ stopped (space)"
        if f is None:
            text = Text(f"step 0 · {'loading…' if self.session is None else state}")
        else:
            text = Text(no_wrap=True, overflow="ellipsis")
            text.append(f"step {f.step}", style="bold")
            text.append(f" · {state}\n")
            if f.diverged:
                text.append("loss diverged (lower lr)")
            else:
                text.append("loss ", style="dim")
                text.append(f"train {f.loss:.3f}", style=TRAIN_STYLE)
                text.append(f" test {f.test_loss:.3f}", style=TEST_STYLE)
            text.append(f"\nacc train {100 * f.accuracy:.1f}% test {100 * f.val_accuracy:.1f}%")
            if f.grad_norms:
                text.append("\n")
                text.append_text(grad_norm_text(f.grad_norms))
            legend = Text("  ")
            for k in range(f.num_classes):
                legend.append("●", style=f"rgb({','.join(map(str, CLASS_COLOURS[k]))})")
                legend.append(f"{k} ")
            text.append("\n")
            text.append_text(legend)
        self.query_one("#pg-stats", Static).update(text)

    def _draw_curves(self) -> None:
        box = self.query_one("#pg-curves", Static)
        box.update(curves_text(self.history, max(8, (box.content_size.width or 30) - 6)))

    def _draw_note(self) -> None:
        f = self.frame
        if f is None or f.config != self.config:
            return
        c = f.config
        if f.collapse is not None:
            what = "a linear model" if not c.hidden else f"{f.collapse.layers} layers, no activation"
            err = f.collapse.max_error
            shown = "< 1e-6" if err < 1e-6 else f"= {err:.0e}"  # float32 round-off, not a difference
            note = Text.assemble(
                ("The network is linear: ", "bold"),
                f"{what}; all layers collapse to one Wx+b "
                f"(|Wx+b − net(x)| {shown} on the map), so the boundary is a straight line.\n",
                (pg.boundary_text(f.collapse, f.num_classes), "dim"),
            )
        else:
            note = Text.assemble(
                ACTIVATION_NOTES.get(c.activation, ""),
                (" Keys a / A change it; at 'none' every layer collapses into one straight line.", "dim"),
            )
        self.query_one("#pg-note", Static).update(note)

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        self._cancel.set()
        self.app.pop_screen()

    def action_toggle_train(self) -> None:
        if self.training:
            self._cancel.set()
            self.training = False
            self._draw_stats()
        else:
            self._start(train=True)

    def action_reset(self) -> None:
        self.frame = None
        self._start(train=False, new_session=True)

    def _change(self, **changes: Any) -> None:
        """A new setting: a fresh network; training goes on if it was running."""
        try:
            config = pg.validate(replace(self.config, **changes))
        except DllabError as exc:
            self.notify(str(exc), severity="warning", timeout=3)
            return
        if config == self.config:
            return
        self.config = config
        self.error = ""
        self._draw_settings()
        self._measure()
        self._start(train=self.training, new_session=True)

    def action_dataset(self, delta: int) -> None:
        names = pg.DATASETS
        self._change(dataset=names[(names.index(self.config.dataset) + delta) % len(names)])

    def action_depth(self, delta: int) -> None:
        hidden = self.config.hidden
        if delta > 0 and len(hidden) < pg.MAX_DEPTH:
            hidden = hidden + ((hidden[-1] if hidden else 8),)
        elif delta < 0 and hidden:
            hidden = hidden[:-1]
        self._change(hidden=hidden)

    def action_width(self, delta: int) -> None:
        if not self.config.hidden:
            self.notify("no hidden layer: press ] to add one", timeout=3)
            return
        current = self.config.hidden[0]
        if delta > 0:
            bigger = [w for w in WIDTHS if w > current]
            new = bigger[0] if bigger else current
        else:
            smaller = [w for w in WIDTHS if w < current]
            new = smaller[-1] if smaller else current
        self._change(hidden=tuple(new for _ in self.config.hidden))

    def action_activation(self, delta: int) -> None:
        names = pg.ACTIVATIONS
        self._change(activation=names[(names.index(self.config.activation) + delta) % len(names)])

    def action_lr(self, delta: int) -> None:
        lr = self.config.lr
        if delta > 0:
            bigger = [v for v in LRS if v > lr * 1.0001]
            new = bigger[0] if bigger else lr
        else:
            smaller = [v for v in LRS if v < lr / 1.0001]
            new = smaller[-1] if smaller else lr
        self._change(lr=new)

    def action_optimizer(self) -> None:
        names = OPTIMIZERS
        i = names.index(self.config.optimizer) if self.config.optimizer in names else -1
        self._change(optimizer=names[(i + 1) % len(names)])

    def action_batch(self) -> None:
        i = BATCHES.index(self.config.batch_size) if self.config.batch_size in BATCHES else -1
        self._change(batch_size=BATCHES[(i + 1) % len(BATCHES)])

    def action_seed(self) -> None:
        self._change(seed=self.config.seed + 1)

    def _cycle(self, values: tuple, current: Any, delta: int) -> Any:
        i = values.index(current) if current in values else (-1 if delta > 0 else 0)
        return values[(i + delta) % len(values)]

    def action_noise(self, delta: int) -> None:
        self._change(noise=self._cycle(NOISES, self.config.noise, delta))

    def action_ratio(self, delta: int) -> None:
        self._change(ratio=self._cycle(RATIOS, self.config.ratio, delta))

    def action_regularization(self) -> None:
        reg = self._cycle(pg.REGULARIZATIONS, self.config.regularization, 1)
        rate = self.config.reg_rate if reg == "none" or self.config.reg_rate else 0.003
        self._change(regularization=reg, reg_rate=rate)

    def action_reg_rate(self, delta: int) -> None:
        self._change(reg_rate=self._cycle(REG_RATES, self.config.reg_rate, delta))

    def action_features(self, delta: int) -> None:
        self._change(features=self._cycle(FEATURE_SETS, self.config.features, delta))


TRAIN_STYLE = "bold #f28e2b"
TEST_STYLE = "bold #4e8cdc"


def grad_norm_text(norms: tuple[float, ...]) -> Text:
    """`∇w ▁▃█ 1e-04…2e-02`: each layer's weight-gradient norm as a bar on a log scale (input
    layer first), so a vanishing gradient (deep sigmoid) shows as bars shrinking to the left."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("∇w ", style="bold")
    finite = [n for n in norms if n > 0 and math.isfinite(n)]
    if not finite:
        return text.append("0")
    hi = math.log10(max(finite))
    top = hi  # the largest norm is a full bar; three decades below it, the lowest
    for n in norms:
        k = 0 if n <= 0 or not math.isfinite(n) else round((math.log10(n) - (top - 3)) / 3 * (len(SPARK) - 1))
        text.append(SPARK[max(0, min(len(SPARK) - 1, k))])
    text.append(f" {min(finite):.0e}…{max(finite):.0e}", style="dim")
    return text


def curves_text(history: list[tuple[int, float, float]], width: int) -> Text:
    """Train and test loss as two sparklines on one shared scale, the newest step on the right."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if len(history) < 2:
        return text.append("loss curves after the first steps", style="dim")
    points = history[-width:] if len(history) <= width else [history[round(i * (len(history) - 1) / (width - 1))]
                                                            for i in range(width)]
    values = [v for _, a, b in points for v in (a, b) if math.isfinite(v)]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    span = hi - lo or 1.0

    def line(k: int) -> str:
        return "".join(SPARK[max(0, min(len(SPARK) - 1, round((p[k] - lo) / span * (len(SPARK) - 1))))]
                       if math.isfinite(p[k]) else " " for p in points)

    text.append("train ", style="dim")
    text.append(line(1), style=TRAIN_STYLE)
    text.append("\ntest  ", style="dim")
    text.append(line(2), style=TEST_STYLE)
    text.append(f"\n{lo:.3f}…{hi:.3f} · steps {points[0][0]}–{points[-1][0]}", style="dim")
    return text
