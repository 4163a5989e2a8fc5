"""The training screen: a form, Start/Stop, live loss and accuracy plots, an epoch table.

`TrainScreen(preset={"model": "lenet", "dataset": "digits", ...})` (keys: model, dataset, optimizer,
lr, epochs, batch_size, device). The run goes through `tui_lab.training.train` as a job
(`tui_lab.ui.jobs`: a thread worker whose events come back as coalescing messages), steered by a
`RunControl` and recorded with `tui_lab.recording.record`; the plots redraw on a timer at most ten times a
second, so a fast GPU never floods the terminal. Nothing here trains or computes a metric; it only
shows events.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Button, Input, Select, Static

from tui_lab.control import RunControl
from tui_lab.errors import ConfigError
from tui_lab.model_options import ACTIVATION_NAMES, form_values, parse_model_options
from tui_lab.ui.jobs import JobRunner
from tui_lab.ui.messages import RunConfigError, RunCreated
from tui_lab.ui.widgets.epoch_log import EpochLog, lr_line
from tui_lab.ui.widgets.footer import Footer
from tui_lab.ui.widgets.loss_plot import CurvePlot
from tui_lab.ui.widgets.train_form import FIELDS, TrainForm

# Plots redraw at most 10 times a second, and less when drawing costs more: every redraw is Python on
# the UI thread, and that time (and the GIL) comes out of the training thread's share. The interval
# adapts so the UI thread uses at most UI_BUDGET of one core while a run goes (measured: with a
# small CPU model every ms the UI holds the GIL costs the training thread about as much again).
REDRAW_SECONDS = 0.1  # the shortest interval: at most 10 redraws a second
MAX_REDRAW_SECONDS = 1.5
UI_BUDGET = 0.015
# LeNet on the embedded digits with Adam: learns to ~97% in a few seconds on a CPU, no download.
# (d2l's SGD lr=0.9 batch 256 needs Fashion-MNIST's 60,000 images; on 1,437 digits it stays at chance.)
DEFAULTS: dict[str, Any] = {"model": "lenet", "dataset": "digits", "optimizer": "adam", "lr": 0.01,
                            "epochs": 5, "batch_size": 32, "device": "auto", "momentum": None,
                            "weight_decay": 0, "seed": 0, "amp": "off", "schedule": "none", "warmup": 0,
                            "init_from": None, "trainable": (), "reset": ()}


DDP_DEVICE = "ddp"  # the device picker's "all N GPUs (DDP)"


def rank_text(ranks: tuple) -> str:
    """Per-rank throughput and memory of a DDP run's last window: '  ranks 0: 9,870/s 1.2 GiB · 1: …'."""
    if not ranks:
        return ""
    parts = [f"{i}: {eps:,.0f}/s" + (f" {human_bytes(mem)}" if mem is not None else "") for i, (eps, mem) in enumerate(ranks)]
    return "  ranks " + " · ".join(parts)


def human_bytes(n: int | None) -> str:
    if n is None:
        return ""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


class TrainPanel(JobRunner, Vertical):
    """The form, Start/Stop, plots and epoch log: the train tool, inside TrainScreen or beside a lesson."""

    BINDINGS = [
        Binding("p", "pause", "Pause/resume"),
        Binding("h", "hyperparameters", "Set lr/mom/wd"),
    ]

    running: reactive[bool] = reactive(False, init=False)  # a training is under way: drives the buttons

    def __init__(self, preset: dict[str, Any] | None = None, resume: tuple[int, int | None] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.preset = {**DEFAULTS, **dict(preset or {})}
        self.pending_resume = resume  # (run id, epochs in all or None): continued once the form is ready
        self.control = RunControl()  # cancel / pause / live hyperparameters of the current run
        self.ready = False  # choices loaded (torch imported)
        self.run_id: int | None = None
        self.valid_config = None
        self.steps_per_epoch = 1
        self.epochs_total = 0
        self.last_step = None
        self.steps: tuple[list[float], list[float]] = ([], [])
        self.epochs: list[Any] = []
        self.dirty = False  # new steps since the last redraw
        self.epochs_drawn = -1  # the accuracy plot changes only when an epoch ends
        self.default_lrs: dict[str, float] = {}
        self.changes: list[Any] = []  # HyperparametersChanged events of the current run (marked on the curves)
        self.paused_at: Any = None  # the Paused event while the run is paused

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="train-root"):
            with Vertical(id="train-left"):
                # what a run says stays in view; the form and the epoch table scroll below it (80x24)
                with Horizontal(id="train-buttons"):
                    yield Button("Start ^S", id="train-start", variant="success", compact=True, disabled=True)
                    yield Button("Stop ^X", id="train-stop", variant="error", compact=True, disabled=True)
                yield Input(id="train-hp", compact=True, placeholder="lr=0.001 momentum=0.9 weight_decay=0")
                yield Static("", id="train-hp-msg")
                yield Static("loading torch…", id="train-status")
                yield Static("", id="train-note")  # what to try when a run is stuck; a regression's fit
                with VerticalScroll(id="train-scroll"):
                    yield TrainForm(id="train-form")
                    yield Static("", id="train-lr")  # each epoch's lr as bars (schedules, live changes)
                    yield EpochLog(id="train-epochs")
            with Vertical(id="train-right"):
                yield CurvePlot("loss", "step", id="train-loss")
                yield CurvePlot("accuracy", "epoch", id="train-acc")

    def on_mount(self) -> None:
        self.interval = 0.25
        self._tick_timer = None
        self._redraw_plots()
        self.load_choices()

    def on_unmount(self) -> None:
        self.control.cancel()  # a screen that goes away stops its run

    # ------------------------------------------------------------------ choices (needs torch)

    def load_choices(self) -> None:
        """Import the registries (torch) and list the devices off the UI thread."""

        def job():
            from tui_lab.data import DATASETS
            from tui_lab.devices import list_devices
            from tui_lab.models import MODELS
            from tui_lab.optimizers import OPTIMIZERS

            return MODELS, DATASETS, OPTIMIZERS, list_devices()

        self.run_job("choices", job)

    def _fill_choices(self, models, datasets, optimizers, devices) -> None:
        form = self.query_one(TrainForm)
        self.default_lrs = {n: s.default_lr for n, s in optimizers.items()}
        form.set_choices("model", [(n, n) for n in models])
        form.set_choices("dataset", [(n + ("" if d.embedded else " (download)"), n) for n, d in datasets.items()])
        form.set_choices("optimizer", [(n, n) for n in optimizers])
        self.gpus = sum(d.kind == "cuda" for d in devices)
        ddp = [(f"all {self.gpus} GPUs (DDP)", DDP_DEVICE)] if self.gpus > 1 else []  # tui_lab.launch, one rank per GPU
        form.set_choices("device", [("auto", "auto")] + [(d.label(), d.name) for d in devices] + ddp)
        form.set_choices("activation", [(n, n) for n in ACTIVATION_NAMES])
        form.set_choices("batch_norm", [("off", "off"), ("on", "on")])
        form.set_choices("amp", [("off", "off"), ("bf16 (CUDA)", "bf16"), ("fp16 (CUDA)", "fp16")])
        from tui_lab.schedules import SCHEDULES

        form.set_choices("schedule", [(n, n) for n in SCHEDULES])
        self._fill_form()
        self.ready = True
        self._status(self._idle_text())
        self.call_after_refresh(self.validate)
        if self.pending_resume is not None:
            run_id, epochs = self.pending_resume
            self.pending_resume = None
            self.call_after_refresh(self.resume_run, run_id, epochs)

    # ------------------------------------------------------------------ validation

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.validate()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == "field-optimizer" and event.value in self.default_lrs:
            self._maybe_default_lr(event.value)
        if event.select.id == "field-model":
            self.query_one(TrainForm).show_model_options(None if event.value is Select.NULL else event.value)
        self.validate()

    def _maybe_default_lr(self, optimizer: str) -> None:
        """A new optimizer brings its own default lr, unless the learner typed one of their own."""
        form = self.query_one(TrainForm)
        lr = form.values()["lr"]
        known = {f"{v:g}" for v in self.default_lrs.values()} | {str(self.preset.get("lr"))}
        try:
            typed = f"{float(lr):g}"
        except ValueError:
            typed = lr
        if lr == "" or typed in known:
            form.set_value("lr", f"{self.default_lrs[optimizer]:g}")

    def _fill_form(self) -> None:
        """The preset's values in every field (model options from flat keys or `model_options`)."""
        form = self.query_one(TrainForm)
        values = {**{name: self.preset.get(name) for name in FIELDS}, "batch_norm": "off", "activation": "relu",
                  **form_values(self.preset)}
        values["schedule"] = values.get("schedule") or "none"
        for name in ("trainable", "reset"):  # a list in a preset, comma-separated in the field
            if isinstance(values.get(name), (list, tuple)):
                values[name] = ",".join(str(v) for v in values[name])
        with self.prevent(Input.Changed, Select.Changed):
            for name in FIELDS:
                form.set_value(name, values.get(name))
        form.show_model_options(values.get("model"))

    def build_config(self):
        """The form as a validated TrainConfig; ConfigError names the bad field."""
        from tui_lab.training import TrainConfig

        v = self.query_one(TrainForm).values()
        for name in ("model", "dataset", "optimizer", "device"):
            if not v[name]:
                raise ConfigError(name, "pick one")
        options = parse_model_options(v["model"], v["hidden"], v["activation"], v["dropout"], v["batch_norm"])
        config = TrainConfig(model=v["model"], dataset=v["dataset"], optimizer=v["optimizer"], lr=v["lr"],
                             momentum=v["momentum"] or None, weight_decay=v["weight_decay"] or 0,
                             epochs=v["epochs"], batch_size=v["batch_size"], seed=v["seed"] or 0,
                             device=v["device"], amp=v["amp"] or "off", model_options=options,
                             schedule=v["schedule"] or "none", warmup=v["warmup"] or 0,
                             init_from=v["init_from"] or None, trainable=v["trainable"] or (), reset=v["reset"] or ())
        if v["device"] == DDP_DEVICE:
            config = replace(config, device="cuda", nproc=getattr(self, "gpus", 1))
        config = config.validated()  # includes whether the model fits the data set
        self._check_finetune(config)
        return config

    def _check_finetune(self, config) -> None:
        """Fine-tune fields checked as they are typed: the module names exist in the model, and the
        init-from run is a training run of the same model (its weights are checked when the run starts)."""
        if not (config.trainable or config.reset or config.init_from is not None):
            return
        import torch

        from tui_lab.data import dataset_info
        from tui_lab.finetune import check_names
        from tui_lab.models import build_model

        with torch.device("meta"):  # no memory, no initialisation: names only
            model = build_model(config.model, dataset_info(config.dataset), **config.model_options)
        check_names(model, config.trainable, "trainable", config.model)
        check_names(model, config.reset, "reset", config.model)
        if config.init_from is None:
            return
        store = getattr(self.app, "store", None)
        if store is None:
            return
        cache = self.__dict__.setdefault("_source_runs", {})  # a run's model never changes: read it once
        if config.init_from not in cache:
            try:
                cache[config.init_from] = store.get_run(config.init_from).summary
            except ConfigError as exc:
                raise ConfigError("init_from", exc.message) from None
        source = cache[config.init_from]
        if source.kind != "train":
            raise ConfigError("init_from", f"run {source.id} is part of an optimizer race; give a training run")
        if (source.model or "").lower() != config.model:
            raise ConfigError("init_from", f"run {source.id} trained {source.model}; this form trains {config.model} "
                                           f"(pick {source.model}, or another run)")

    def validate(self) -> bool:
        """Flag the first bad field inline; Start is enabled only for a valid config."""
        if not self.ready:
            return False
        form = self.query_one(TrainForm)
        try:
            self.valid_config = self.build_config()
        except ConfigError as exc:
            self.valid_config = None
            form.set_error(exc.field if exc.field in FIELDS else "model", exc.message if exc.field in FIELDS else str(exc))
        else:
            form.set_error(None)
        self._sync_buttons()
        return self.valid_config is not None

    def watch_running(self, running: bool) -> None:
        if self.is_mounted:
            self._sync_buttons()

    def _sync_buttons(self) -> None:
        self.query_one("#train-start", Button).disabled = self.running or self.valid_config is None
        self.query_one("#train-stop", Button).disabled = not self.running

    # ------------------------------------------------------------------ start / stop

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "train-start":
            self.action_start()
        elif event.button.id == "train-stop":
            self.action_stop()

    def action_start(self) -> None:
        if self.running or not self.validate():
            return
        config = self.valid_config
        self.control = control = RunControl()
        self.steps = ([], [])
        self.epochs = []
        self.changes = []
        self.paused_at = None
        self.epochs_drawn = -1
        self.last_step = None
        self.run_id = None
        self.epochs_total = config.epochs
        self.run_config = config
        self._note("")
        self._reset_acc_plot(config)
        self.query_one(EpochLog).clear()
        self.running = True  # enables Stop (watch_running)
        # Stop takes the focus before the form is locked: focus moving from one disabled field to the
        # next recomposed the footer (a layout pass) several times while the first epoch trained
        self.screen.set_focus(self.query_one("#train-stop", Button), scroll_visible=False)
        self.query_one(TrainForm).set_locked(True)
        self._sync_buttons()
        self._status(f"preparing {config.model} on {config.dataset}…")
        self._redraw_plots()
        self._schedule_tick(first=True)
        self.run_job("train", lambda: self._train_job(config, control))

    # ------------------------------------------------------------------ steering a running job

    def action_pause(self) -> None:
        """P: pause the run between two steps, or resume it."""
        if not self.running or self.control.cancelled:
            return
        if self.control.paused:
            self.control.resume()
        else:
            self.control.pause()
            self._status("pausing…", "yellow")

    def action_hyperparameters(self) -> None:
        """H: a one-line input for lr / momentum / weight decay, applied at the next step."""
        if not self.running:
            self._hp_message("start a run first: hyperparameters change while it trains", "yellow")
            return
        box = self.query_one("#train-hp", Input)
        box.display = True
        box.value = ""
        box.focus()
        self._hp_message("lr=…, momentum=… or weight_decay=… (a bare number is lr); Enter applies, Esc closes", "")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "train-hp":
            return
        event.stop()
        try:
            values = parse_hyperparameters(event.value)
            if not self.running:
                raise ConfigError("run", "no run is training")
            self.control.set_hyperparameters(**values)
        except ConfigError as exc:
            self._hp_message(str(exc), "red")
            return
        self._hp_message("applied at the next step: " + ", ".join(f"{k} {v:g}" for k, v in values.items()), "green")
        self._close_hp()

    def on_key(self, event) -> None:
        if event.key == "escape" and self.query_one("#train-hp", Input).has_focus:
            event.stop()
            self._close_hp()

    def _close_hp(self) -> None:
        box = self.query_one("#train-hp", Input)
        box.display = False
        if self.running:
            self.query_one("#train-stop", Button).focus()

    def _hp_message(self, text: str, style: str) -> None:
        msg = self.query_one("#train-hp-msg", Static)
        msg.update(Text(text, style=style))
        msg.display = bool(text)

    def action_stop(self) -> None:
        if self.running and not self.control.cancelled:
            self.control.cancel()
            self._status("stopping…", "yellow")

    def _train_job(self, config, control: RunControl):
        """The engine's events, recorded in the run store as they go by (runs in the worker)."""
        from tui_lab.recording import record
        from tui_lab.runs import RunStore
        from tui_lab.launch import run_training

        try:
            config = config.validated()
        except ConfigError as exc:  # the form shows it beside the field
            yield exc
            return
        store = getattr(self.app, "store", None) or RunStore()
        run_id = store.create_run(config.to_dict())
        try:  # the run's weights and per-epoch state, as `dllab train` keeps them (resume, features, refit)
            events = run_training(config, control, checkpoint_path=store.checkpoint_path(run_id),
                                  state_path=store.state_path(run_id))
        except ConfigError as exc:  # e.g. no such device or an offline data set: said in the form
            store.finish(run_id, "failed", str(exc))
            yield exc
            return
        yield RunCreated(run_id)
        yield from record(store, run_id, events)

    # ------------------------------------------------------------------ resuming a saved run

    def resume_run(self, run_id: int, epochs: int | None = None) -> None:
        """Continue run `run_id` (finished, cancelled or interrupted) until it has `epochs` in all (None:
        its own number): the same run, its curves so far drawn first, steered by a new RunControl."""
        if self.running:
            return
        store = getattr(self.app, "store", None)
        if store is None:
            from tui_lab.runs import RunStore

            store = RunStore()
        try:
            detail = store.get_run(run_id)
        except ConfigError as exc:
            self._status(str(exc), "red")
            return
        from tui_lab import training as t

        self.preset = {**self.preset, **detail.summary.config}
        self._fill_form()
        config = None
        try:
            config = self.build_config()
        except ConfigError:
            pass  # the saved config is what the run continues with; the form only shows it
        lrs = detail.lrs
        self.control = control = RunControl()
        self.changes, self.paused_at, self.epochs_drawn, self.last_step = [], None, -1, None
        kept = [s for s in detail.steps if s[2] is not None]
        self.steps = ([s[0] for s in kept], [float(s[2]) for s in kept])
        self.epochs = [t.EpochEnd(e.epoch, e.train_loss, e.train_acc, e.val_loss, e.val_acc, e.examples_per_sec or 0.0,
                                  e.seconds or 0.0, lr=lrs.get(e.epoch)) for e in detail.epochs]
        self.run_id = run_id
        self.epochs_total = epochs or detail.summary.epochs
        self.run_config = config
        self._note("")
        self.query_one(EpochLog).clear()
        self.running = True  # enables Stop (watch_running)
        # Stop takes the focus before the form is locked: focus moving from one disabled field to the
        # next recomposed the footer (a layout pass) several times while the first epoch trained
        self.screen.set_focus(self.query_one("#train-stop", Button), scroll_visible=False)
        self.query_one(TrainForm).set_locked(True)
        self._sync_buttons()
        self._status(f"resuming run #{run_id}…")
        self._redraw_plots()
        self._schedule_tick(first=True)
        self.run_job("train", lambda: self._resume_job(store, run_id, epochs, control))
        self.query_one("#train-stop", Button).focus()

    def _resume_job(self, store, run_id: int, epochs: int | None, control: RunControl):
        from tui_lab.recording import record
        from tui_lab.resume import prepare_resume
        from tui_lab.training import train

        try:
            config, state = prepare_resume(store, run_id, epochs)
        except ConfigError as exc:
            yield exc
            return
        self.epochs_total = config.epochs
        try:
            events = train(config, control, checkpoint_path=store.checkpoint_path(run_id),
                           state_path=store.state_path(run_id), resume=state)
        except BaseException:
            store.finish(run_id, "failed", "could not resume")
            raise
        yield RunCreated(run_id)
        yield from record(store, run_id, events)

    # ------------------------------------------------------------------ events from the worker

    def job_event(self, job: str, event: Any) -> None:
        from tui_lab import training as t

        if job == "choices":
            self._fill_choices(*event)
        elif isinstance(event, t.Step):
            self.steps[0].append(event.global_step)
            self.steps[1].append(event.loss)
            self.last_step = event
            self.dirty = True
        elif isinstance(event, RunCreated):
            self.run_id = event.run_id
        elif isinstance(event, ConfigError):
            self.on_run_config_error(RunConfigError(event.field, event.message))
        elif isinstance(event, t.Started):
            self.steps_per_epoch = event.steps_per_epoch
            self._status(f"run #{self.run_id} on {event.device}: {event.params:,} parameters, "
                         f"{event.train_size:,} training examples")
        elif isinstance(event, t.EpochEnd):
            self.epochs.append(event)  # the table and plots pick it up at the next redraw
            self.dirty = True
            self._advise()
        elif isinstance(event, t.HyperparametersChanged):
            self.changes.append(event)
            self.dirty = True
            self._hp_message(f"step {event.step}: " + ", ".join(
                f"{c.name} {'-' if c.old is None else f'{c.old:g}'} -> {c.new:g}" for c in event.changes), "green")
        elif isinstance(event, t.Paused):
            self.paused_at = event
            self._status(f"run #{self.run_id} paused after step {event.step} (epoch {event.epoch}); "
                         "P resumes, H changes lr", "yellow")
        elif isinstance(event, t.Resumed):
            self.paused_at = None
            self._status(f"run #{self.run_id} resumed at step {event.step}", "")
        elif isinstance(event, t.FINAL_EVENTS):
            self._finish(event)

    def job_failed(self, job: str, message: str) -> None:
        """A crash in the worker (not a training failure, those are events) must not kill the app."""
        self.last_job_error = message
        if job == "choices":
            self._status(f"cannot load the training engine: {message}", "red")
            return
        if self.running:
            self._stopped()
        self._status(f"the run crashed: {message}", "red")
        self.notify(message, title="Run crashed", severity="error", timeout=10)

    def job_done(self, job: str) -> None:
        if job == "train" and self.running:  # the stream ended without a final event
            self._stopped()

    def on_run_config_error(self, message: RunConfigError) -> None:
        self._stopped()
        if message.field in ("resume", "epochs") and self.run_id is not None:  # a run that cannot continue
            self._status(f"run #{self.run_id} not resumed: {message.field}: {message.message}", "red")
            return
        self.query_one(TrainForm).set_error(message.field if message.field in FIELDS else "model",
                                            message.message if message.field in FIELDS else f"{message.field}: {message.message}")
        self._status("not started: fix the flagged field", "red")
        self.valid_config = None
        self._sync_buttons()

    def _finish(self, event) -> None:
        from tui_lab import training as t

        self._stopped()
        run = f"run #{self.run_id}"
        if isinstance(event, t.Finished):
            acc = "" if event.best_val_acc is None else f", best val acc {100 * event.best_val_acc:.1f}%"
            self._status(f"{run} finished: {event.epochs} epochs in {event.seconds:.1f}s{acc}", "green")
            self._show_fit(event.checkpoint)
        elif isinstance(event, t.Cancelled):
            self._status(f"{run} stopped at step {event.step}; kept in the history (F4)", "yellow")
        elif isinstance(event, t.Diverged):
            self._status(f"{run} diverged: {event.message}", "red")
            self.notify(event.message, title="Diverged", severity="error", timeout=10)
        elif isinstance(event, t.Failed):
            self._status(f"{run} failed: {event.message}. {event.hint}", "red")
            self.notify(f"{event.message}\n{event.hint}", title="Run failed", severity="error", timeout=10)

    def _stopped(self) -> None:
        self.running = False
        self.paused_at = None
        hp = self.query_one("#train-hp", Input)
        if hp.display:  # hiding a hidden input still costs a layout pass
            hp.display = False
        if self._tick_timer is not None:
            self._tick_timer.stop()
            self._tick_timer = None
        self._redraw_plots()
        self.query_one(TrainForm).set_locked(False)
        self.validate()

    # ------------------------------------------------------------------ drawing

    def _schedule_tick(self, first: bool = False) -> None:
        if first:
            self._window = (time.perf_counter(), time.thread_time())
        self._tick_timer = self.set_timer(self.interval, self._tick)

    def _tick(self) -> None:
        """Redraw if there is something new, then pick the next interval from the UI's CPU share."""
        if not self.running:
            return
        if self.dirty:
            self._redraw_plots()
        wall, cpu = time.perf_counter(), time.thread_time()  # this (the UI) thread's CPU time
        share = (cpu - self._window[1]) / max(wall - self._window[0], 1e-6)
        if share > UI_BUDGET:  # at once to the interval that keeps the share on budget (a short run is over
            # before a gentle 1.5x ladder gets there: a plot redraw costs ~40 ms on a busy 2-core box)
            self.interval = min(MAX_REDRAW_SECONDS, self.interval * share / UI_BUDGET)
        elif share < UI_BUDGET / 2:
            self.interval = max(REDRAW_SECONDS, self.interval / 1.5)
        self._window = (wall, cpu)
        self._schedule_tick()

    def _redraw_plots(self) -> None:
        self.dirty = False
        spe = max(1, self.steps_per_epoch)
        ex = [e.epoch for e in self.epochs]
        loss = self.query_one("#train-loss", CurvePlot)
        loss.set_series({"train": self.steps,
                         "val": ([e * spe for e in ex], [e.val_loss for e in self.epochs])})
        loss.markers = [c.step for c in self.changes]
        loss.marker_label = "lr/mom/wd changed"
        loss.redraw()
        log = self.query_one(EpochLog)
        live = {c.epoch for c in self.changes}
        log.mark_live(live)
        line = lr_line([e.lr for e in self.epochs], live)
        lr_widget = self.query_one("#train-lr", Static)
        if lr_widget.display != bool(line):  # shown from the first epoch on: one layout pass, once
            lr_widget.update(line)
            lr_widget.display = bool(line)  # no line (and no blank row) before the first epoch
        elif line != getattr(self, "_lr_shown", None):
            lr_widget.update(line, layout=False)  # one fixed row: repaint it, no layout pass
        self._lr_shown = line
        if self.epochs_drawn != len(self.epochs):
            log.add_epochs(self.epochs[log.row_count:])
            self.epochs_drawn = len(self.epochs)
            acc = self.query_one("#train-acc", CurvePlot)
            acc.set_series({"train": (ex, [e.train_acc for e in self.epochs]),
                            "val": (ex, [e.val_acc for e in self.epochs])})
            acc.redraw()
        if self.running and self.last_step is not None and self.paused_at is None:
            s = self.last_step
            mem = f"  {human_bytes(s.device_memory)}" if s.device_memory is not None else ""
            self._status(f"run #{self.run_id}  epoch {s.epoch}/{self.epochs_total}  step {s.step}/{self.steps_per_epoch}"
                         f"  loss {s.loss:.4f}\n{s.examples_per_sec:,.0f} ex/s{mem}{rank_text(s.ranks)}")

    def _status(self, text: str, style: str = "") -> None:
        if (text, style) != getattr(self, "_status_shown", None):
            self._status_shown = (text, style)
            # fixed height: no layout pass needed (a layout pass would repaint the whole screen)
            self.query_one("#train-status", Static).update(Text(text, style=style), layout=False)

    def _idle_text(self) -> str:
        return "Ready. Ctrl+S starts, Ctrl+X stops; P pauses, H sets lr while it runs."

    # ------------------------------------------------------------------ other actions

    def action_reset_form(self) -> None:
        if self.running or not self.ready:
            return
        self._fill_form()
        self.validate()

    # ------------------------------------------------------------------ advice and regression fit

    def _reset_acc_plot(self, config) -> None:
        """The accuracy plot, or for a regression run a word that the fit comes at the end."""
        from tui_lab.data import dataset_info
        from tui_lab.models import task_for

        plot = self.query_one("#train-acc", CurvePlot)
        plot.title, plot.xlabel = "accuracy", "epoch"
        task = task_for(config.model, dataset_info(config.dataset))
        plot.empty_text = {"regression": "regression: no accuracy; the fit is drawn when the run ends",
                           "reconstruction": "reconstruction: no accuracy; the loss is the reconstruction's MSE "
                                             "(see it in the latent tool)"}.get(task, "no data yet")

    def _note(self, text: Text | str) -> None:
        """The advice/fit line under the status: a layout pass only when its number of lines changes
        (one every epoch made the app ~25% slower than headless training on a fast model)."""
        plain = text.plain if isinstance(text, Text) else str(text)
        shown = getattr(self, "_note_shown", None)
        if shown is not None and shown[0] == plain and shown[1] == str(getattr(text, "style", "")):
            return
        lines = plain.count("\n") + 1 if plain else 0
        same_height = shown is not None and shown[2] == lines
        self._note_shown = (plain, str(getattr(text, "style", "")), lines)
        self.query_one("#train-note", Static).update(text, layout=not same_height)

    def _advise(self) -> None:
        """After each epoch: what to try when the run is stuck near chance, stalls or overfits."""
        from tui_lab.data import dataset_info
        from tui_lab.diagnosis import diagnose

        config = getattr(self, "run_config", None)
        if config is None or not self.epochs:
            return
        info = dataset_info(config.dataset)
        from tui_lab.data import ACCURACY_TASKS
        from tui_lab.models import task_for

        scored = task_for(config.model, info) in ACCURACY_TASKS
        advice = diagnose(config, self.epochs, info.num_classes if scored else 0)
        self._note(Text(advice.text(), style="yellow") if advice else "")

    def _show_fit(self, checkpoint: str | None) -> None:
        """A linear regression run: the learned w and b beside the true ones, and the fit plot."""
        from tui_lab.regression import fits, linear_fit

        config = getattr(self, "run_config", None)
        if config is None or not fits(config):
            return
        try:
            fit = linear_fit(config, checkpoint)
        except Exception as exc:  # the numbers are a bonus: never lose the finished run over them
            self._note(Text(f"could not read the fitted parameters: {exc}", style="red"))
            return
        if fit is None:
            return
        lines = fit.lines()
        if fit.refit:  # the run kept no checkpoint: the same config and seed trained again on the CPU
            lines[-1] += "  (refit)"
        self._note(Text("\n".join(lines)))
        plot = self.query_one("#train-acc", CurvePlot)
        plot.title, plot.xlabel = "fit: ŷ against y (validation)", "y"
        plot.set_series({"ŷ": (list(fit.targets), list(fit.predictions)),
                         "y = ŷ": (list(fit.targets), list(fit.targets))})
        plot.redraw()



HP_ALIASES = {"lr": "lr", "momentum": "momentum", "mom": "momentum", "mu": "momentum",
              "weight_decay": "weight_decay", "weight-decay": "weight_decay", "wd": "weight_decay"}


def parse_hyperparameters(text: str) -> dict[str, float]:
    """`lr=0.001 momentum=0.9` (commas or spaces; a bare number is lr) -> checked values;
    ConfigError naming the field and what is allowed."""
    from tui_lab.control import check_hyperparameter

    parts = [p for p in text.replace(",", " ").split() if p]
    if not parts:
        raise ConfigError("lr", "type a value, e.g. lr=0.001 (or momentum=0.9, weight_decay=1e-4)")
    out: dict[str, float] = {}
    for part in parts:
        name, sep, value = part.partition("=")
        if not sep:
            name, value = "lr", part
        key = HP_ALIASES.get(name.strip().lower())
        if key is None:
            raise ConfigError(name, "cannot be changed while training; allowed: lr, momentum, weight_decay")
        out[key] = check_hyperparameter(key, value)
    return out


class TrainScreen(Screen):
    """Train a model and watch it learn (F3, or a lesson's train tool on a narrow terminal)."""

    CSS_PATH = "train.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+s", "start", "Start", priority=True),
        Binding("ctrl+x", "stop", "Stop", priority=True),
        Binding("ctrl+r", "reset_form", "Reset form", show=False),
    ]

    def __init__(self, preset: dict[str, Any] | None = None, resume: tuple[int, int | None] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.panel = TrainPanel(preset=preset, resume=resume, id="train-panel")

    def compose(self) -> ComposeResult:
        yield self.panel
        yield Footer()

    def apply_language(self) -> None:
        """F9: the form's labels in the new language (the footer is recomposed by the app)."""
        for form in self.query(TrainForm):
            form.apply_language()

    # the flow lives in the panel; the screen passes its keys on and shows its state
    ready = property(lambda self: self.panel.ready)
    running = property(lambda self: self.panel.running)
    run_id = property(lambda self: self.panel.run_id)
    steps = property(lambda self: self.panel.steps)
    epochs = property(lambda self: self.panel.epochs)
    last_step = property(lambda self: self.panel.last_step)
    valid_config = property(lambda self: self.panel.valid_config)
    preset = property(lambda self: self.panel.preset)

    def validate(self) -> bool:
        return self.panel.validate()

    def action_start(self) -> None:
        self.panel.action_start()

    def action_stop(self) -> None:
        self.panel.action_stop()

    def action_reset_form(self) -> None:
        self.panel.action_reset_form()

    def action_back(self) -> None:
        go_back = getattr(self.app, "go_back", None)
        if go_back is not None:
            go_back()
        else:
            self.app.pop_screen()
