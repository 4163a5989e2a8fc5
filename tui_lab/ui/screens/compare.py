"""The optimizer race screen: K optimizers train the same model on the same batches; curves race live.

`CompareScreen(preset={"model": "mlp", "dataset": "digits", "optimizers": ["sgd", "momentum", "adam"],
"lr": [0.1, 0.05, 0.001], "epochs": 3})` (also batch_size, seed, momentum, weight_decay, device,
model_options, and `start` to begin at once). Keys: Ctrl+S start, Ctrl+X stop, Ctrl+V loss/accuracy. The race runs through `tui_lab.compare` in a thread worker and is saved as one group
with `recording.record_compare`; the worker only queues events, and a timer redraws at most ten times a second.
"""

from __future__ import annotations

import math
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input, Label, Static

from tui_lab.control import RunControl
from tui_lab.errors import DllabError
from tui_lab.ui.widgets.footer import Footer
from tui_lab.ui.jobs import JobRunner
from tui_lab.ui.widgets.loss_plot import COLORS, CurvePlot

REDRAW_SECONDS = 0.1
DEFAULTS: dict[str, Any] = {"model": "mlp", "dataset": "digits", "optimizers": ["sgd", "momentum", "adam"],
                            "lr": [0.1, 0.05, 0.001], "epochs": 3, "batch_size": 64, "seed": 0}
# form field -> (label, width)
FIELDS = {"optimizers": ("opt", 22), "lr": ("lr", 16), "model": ("model", 8), "dataset": ("data", 9),
          "epochs": ("ep", 4)}


def _rich_color(k: int) -> str:
    """The plot's colour for series k, as rich names it (plotext's 'orange' is rich's 'orange1')."""
    name = COLORS[k % len(COLORS)]
    return {"orange": "orange1"}.get(name, name)


def _join(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    return "" if value is None else str(value)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _loss(x: float | None) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{x:.4f}"


class CompareScreen(JobRunner, Screen):
    """Race optimizers on real training and compare their curves and final numbers."""

    CSS_PATH = "compare.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+s", "start", "Start", priority=True),
        Binding("ctrl+x", "stop", "Stop", priority=True),
        Binding("ctrl+v", "toggle_view", "Loss/acc", priority=True),
    ]

    def __init__(self, preset: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.preset = {**DEFAULTS, **dict(preset or {})}
        self.control = RunControl()  # stops the current race
        self.running = False
        self.view = "loss"  # or "acc"
        self.names: list[str] = []
        self.curves: list[tuple[list[float], list[float]]] = []
        self.epochs: list[list[Any]] = []  # per run, its EpochEnd events
        self.status_of: list[str] = []
        self.initial: list[float | None] = []
        self.final = None  # CompareFinished | CompareCancelled
        self.group: str | None = None
        self.steps_total = 0
        self.global_step = 0
        self.dirty = False

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Vertical(id="cmp-root"):
            with Horizontal(id="cmp-form"):
                for name, (label, _) in FIELDS.items():
                    yield Label(label, classes="cmp-label")
                    yield Input(_join(self.preset.get(name)), id=f"cmp-{name}", classes="cmp-input", compact=True)
            yield Static("Ctrl+S starts the race, Ctrl+X stops it, Ctrl+V switches loss/accuracy.", id="cmp-status")
            yield CurvePlot("training loss", "step", id="cmp-plot")
            yield Static("", id="cmp-table")
        yield Footer()

    def on_mount(self) -> None:
        self.timer = self.set_interval(REDRAW_SECONDS, self._tick, pause=True)
        self._redraw()
        if self.preset.get("start"):
            self.action_start()

    def on_unmount(self) -> None:
        self.control.cancel()  # leaving the screen stops its race

    # ------------------------------------------------------------------ starting and stopping

    def _read_form(self) -> dict[str, str]:
        return {name: self.query_one(f"#cmp-{name}", Input).value.strip() for name in FIELDS}

    def action_start(self) -> None:
        if self.running:
            return
        form = self._read_form()
        self.running = True
        self.control = control = RunControl()
        self.names, self.curves, self.epochs, self.status_of, self.initial = [], [], [], [], []
        self.final, self.group, self.global_step, self.steps_total = None, None, 0, 0
        for field in FIELDS:
            self.query_one(f"#cmp-{field}", Input).disabled = True
        self._status("starting (loading torch and the data)…", "yellow")
        self.timer.resume()
        self.run_job("race", lambda: self._race_job(form, control))

    def action_stop(self) -> None:
        if self.running and not self.control.cancelled:
            self.control.cancel()
            self._status("stopping…", "yellow")

    def _race_job(self, form: dict[str, str], control: RunControl):
        """The race's events, recorded as one group in the run store (runs in the worker)."""
        from tui_lab.compare import CompareConfig, compare, new_group_id, settings_from_lists
        from tui_lab.recording import record_compare
        from tui_lab.optimizers import parse_lr
        from tui_lab.runs import RunStore

        try:
            names = [p.strip() for p in form["optimizers"].split(",") if p.strip()]
            lrs = [parse_lr(p) for p in form["lr"].split(",") if p.strip()]
            p = self.preset
            config = CompareConfig(model=form["model"], dataset=form["dataset"], epochs=form["epochs"],
                                   runs=settings_from_lists(names, lrs, p.get("momentum"), p.get("weight_decay", 0.0)),
                                   batch_size=p.get("batch_size", 64), seed=p.get("seed", 0),
                                   device=p.get("device", "auto"), model_options=dict(p.get("model_options", {})))
            events = compare(config, control)
        except DllabError as exc:
            yield exc
            return
        group = new_group_id()
        yield ("group", group)
        store = getattr(self.app, "store", None) or RunStore()
        yield from record_compare(store, events, group)

    def job_failed(self, job: str, message: str) -> None:
        """A crash in the worker must not kill the app: it is said in the status line."""
        self.last_job_error = message
        self._status(f"the race crashed: {message}", "red")

    def job_done(self, job: str) -> None:
        self._stopped()

    def _stopped(self) -> None:
        self.running = False
        self.timer.pause()
        for field in FIELDS:
            self.query_one(f"#cmp-{field}", Input).disabled = False
        self._redraw()

    # ------------------------------------------------------------------ events from the worker

    def _tick(self) -> None:
        if self.dirty:
            self._redraw()

    def job_event(self, job: str, ev: Any) -> None:
        from tui_lab import compare as c
        from tui_lab import training as t

        self.dirty = True
        if isinstance(ev, tuple) and ev[0] == "group":
            self.group = ev[1]
        elif isinstance(ev, DllabError):
            self._status(f"not started: {ev}", "red")
        elif isinstance(ev, c.CompareStarted):
            k = len(ev.runs)
            self.names = [f"{r['optimizer']} {r['lr']:g}" for r in ev.runs]
            self.curves = [([], []) for _ in range(k)]
            self.epochs = [[] for _ in range(k)]
            self.status_of = ["running"] * k
            self.initial = [None] * k
            self.steps_total = ev.steps_per_epoch * ev.runs[0]["epochs"]
            stacked = " · stacked" if ev.batched else ""
            self._status(f"{ev.runs[0]['model']} on {ev.runs[0]['dataset']} · {ev.device}{stacked} · "
                         f"{ev.params:,} parameters each · group {self.group}")
        elif isinstance(ev, c.InitialLoss):
            self.initial[ev.run] = ev.loss
            self.curves[ev.run][0].insert(0, 0)
            self.curves[ev.run][1].insert(0, ev.loss)
        elif isinstance(ev, t.Step):
            self.curves[ev.run][0].append(ev.global_step)
            self.curves[ev.run][1].append(ev.loss)
            self.global_step = max(self.global_step, ev.global_step)
        elif isinstance(ev, t.EpochEnd):
            self.epochs[ev.run].append(ev)
        elif isinstance(ev, t.Diverged):
            self.status_of[ev.run] = "diverged"
            self.notify(f"{self.names[ev.run]}: {ev.message}", title="Diverged", severity="warning", timeout=6)
        elif isinstance(ev, t.Failed):
            self.status_of[ev.run] = "failed"
            self.notify(f"{self.names[ev.run]}: {ev.message}", title="Run failed", severity="error", timeout=8)
        elif isinstance(ev, c.CompareFailed):
            self._status(f"the race could not start: {ev.message} ({ev.hint})", "red")
        elif isinstance(ev, (c.CompareFinished, c.CompareCancelled)):
            self.final = ev
            self.status_of = [r.status for r in ev.results]
            word = "finished" if isinstance(ev, c.CompareFinished) else "stopped"
            self._status(f"race {word} in {ev.seconds:.1f}s · saved as group {self.group} (see Runs)",
                         "green" if word == "finished" else "yellow")

    # ------------------------------------------------------------------ drawing

    def _redraw(self) -> None:
        self.dirty = False
        plot = self.query_one("#cmp-plot", CurvePlot)
        if self.view == "loss":
            plot.title, plot.xlabel = "training loss (step 0: before any update)", "step"
            plot.set_series({name: curve for name, curve in zip(self.names, self.curves)})
        else:
            plot.title, plot.xlabel = "validation accuracy", "epoch"
            plot.set_series({name: ([e.epoch for e in eps], [e.val_acc for e in eps])
                             for name, eps in zip(self.names, self.epochs)})
        plot.redraw()
        self.query_one("#cmp-table", Static).update(self._table())
        if self.running and self.names and self.final is None:
            self.query_one("#cmp-plot", CurvePlot).border_title = f"step {self.global_step}/{self.steps_total}"

    def _table(self) -> Table | Text:
        if not self.names:
            return Text("")
        table = Table(box=None, pad_edge=False, padding=(0, 1, 0, 0), expand=False)
        for col in ("optimizer", "status", "loss₀", "final", "best", "acc", "best acc", "time", "ex/s"):
            table.add_column(col, justify="left" if col in ("optimizer", "status") else "right", no_wrap=True)
        results = {r.run: r for r in self.final.results} if self.final is not None else {}
        for k, name in enumerate(self.names):
            eps = self.epochs[k]
            r = results.get(k)
            vals = [e.val_loss for e in eps if math.isfinite(e.val_loss)]
            accs = [e.val_acc for e in eps if e.val_acc is not None]
            seconds = sum(e.seconds for e in eps)
            examples = sum(e.examples_per_sec * e.seconds for e in eps)
            if r is not None:
                seconds, examples = r.seconds, r.examples
            table.add_row(
                Text(name, style=_rich_color(k)), self.status_of[k], _loss(self.initial[k]),
                _loss(eps[-1].val_loss if eps else None), _loss(min(vals) if vals else None),
                _pct(eps[-1].val_acc if eps else None), _pct(max(accs) if accs else None),
                f"{seconds:.1f}s" if seconds else "—", f"{examples / seconds:,.0f}" if seconds else "—",
            )
        return table

    def _status(self, text: str, style: str = "") -> None:
        self.query_one("#cmp-status", Static).update(Text(text, style=style))

    # ------------------------------------------------------------------ other actions

    def action_toggle_view(self) -> None:
        self.view = "acc" if self.view == "loss" else "loss"
        self._redraw()

    def action_back(self) -> None:
        go_back = getattr(self.app, "go_back", None)
        if go_back is not None:
            go_back()
        else:
            self.app.pop_screen()
