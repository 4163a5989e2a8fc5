"""The training screen as a learner drives it: live points, stop, bad values, divergence, failures."""

from __future__ import annotations

import io
import time

import pytest
import torch
from rich.console import Console
from textual.app import App
from textual.widgets import Button, Static
from ui_support import sync, wait_until

from tui_lab.runs import RunStore
from tui_lab.ui.screens import train as train_screen
from tui_lab.ui.screens.train import TrainScreen
from tui_lab.ui.widgets.epoch_log import EpochLog
from tui_lab.ui.widgets.loss_plot import CurvePlot
from tui_lab.ui.widgets.train_form import TrainForm

FAST = {"model": "softmax", "dataset": "digits", "optimizer": "sgd", "lr": 0.5, "epochs": 2, "batch_size": 32,
        "device": "cpu"}


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Tiny models: one torch thread (conftest's `one_torch_thread`)."""


class TrainApp(App):
    """The screen on its own, in a tiny app (as a lesson tool is opened)."""

    def __init__(self, preset):
        super().__init__()
        self.preset = preset
        self.store = RunStore()

    def on_mount(self) -> None:
        self.push_screen(TrainScreen(preset=self.preset))


def status(screen) -> str:
    return str(screen.query_one("#train-status", Static).render())


async def ready(pilot) -> TrainScreen:
    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen.ready)
    await pilot.pause()
    return screen


@sync
async def test_a_run_draws_points_fills_the_table_and_is_recorded():
    app = TrainApp(FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        assert not screen.query_one("#train-start", Button).disabled
        await pilot.press("ctrl+s")
        plot = screen.query_one("#train-loss", CurvePlot)
        await wait_until(pilot, lambda: plot.point_count() >= 3)  # the plot gains points while it runs
        await wait_until(pilot, lambda: not screen.running)
        assert "finished" in status(screen)
        table = screen.query_one(EpochLog)
        assert table.row_count == 2
        run = app.store.list_runs()[0]
        assert run.status == "finished" and run.model == "softmax" and run.batch_size == 32
        detail = app.store.get_run(run.id)
        # what the screen shows is what the engine recorded
        assert screen.steps[0] == [s[0] for s in detail.steps]
        assert screen.steps[1] == pytest.approx([s[2] for s in detail.steps])
        last = detail.epochs[-1]
        assert table.cells()[1] == ["2", f"{last.train_loss:.4f}", f"{last.val_loss:.4f}", f"{100 * last.val_acc:.1f}%",
                                    f"{detail.lrs[2]:.2g}"]
        console = Console(width=60, record=True, file=io.StringIO())
        console.print(table.content)
        assert f"{last.val_loss:.4f}" in console.export_text()
        assert f"best val acc {100 * run.best_val_acc:.1f}%" in status(screen)


@sync
async def test_stop_is_honoured_and_recorded():
    app = TrainApp({**FAST, "model": "lenet", "epochs": 50, "batch_size": 16, "lr": 0.9})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: screen.last_step is not None)
        await pilot.press("ctrl+x")  # the engine stops at its next step (tests/test_training.py proves it)
        await wait_until(pilot, lambda: not screen.running, timeout=30)
        assert "stopped" in status(screen)
        assert app.store.list_runs()[0].status == "cancelled"
        assert not screen.query_one("#train-start", Button).disabled  # ready for another run


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("lr", "abc", "finite number > 0"),
        ("lr", "-1", "finite number > 0"),
        ("epochs", "0", "whole number from 1 to"),
        ("batch_size", "2.5", "whole number from 1 to"),
        ("epochs", "", "whole number from 1 to"),
    ],
)
@sync
async def test_bad_values_are_flagged_inline_and_start_stays_disabled(field, value, words):
    app = TrainApp(FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        form = screen.query_one(TrainForm)
        form.field(field).value = value
        await pilot.pause()
        assert form.field(field).has_class("-invalid")
        assert words in str(screen.query_one("#form-error", Static).render())
        assert screen.query_one("#train-start", Button).disabled
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not screen.running and app.store.list_runs() == []
        form.field(field).value = str(FAST[field])
        await pilot.pause()
        assert not form.field(field).has_class("-invalid")
        assert not screen.query_one("#train-start", Button).disabled


@sync
async def test_a_model_that_does_not_fit_the_data_is_flagged_on_the_model_field():
    app = TrainApp({**FAST, "model": "lenet", "dataset": "moons"})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        form = screen.query_one(TrainForm)
        assert form.field("model").has_class("-invalid")
        assert "lenet does not fit data set 'moons'" in str(screen.query_one("#form-error", Static).render())
        assert screen.query_one("#train-start", Button).disabled


@sync
async def test_divergence_shows_the_hint_and_the_app_stays_usable():
    app = TrainApp({**FAST, "lr": 1e9, "epochs": 1})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not screen.running and app.store.list_runs())
        assert "diverged" in status(screen) and "smaller learning rate" in status(screen)
        assert app.store.list_runs()[0].status == "diverged"
        screen.query_one(TrainForm).field("lr").value = "0.5"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not screen.running and len(app.store.list_runs()) == 2)
        assert "finished" in status(screen)


@sync
async def test_out_of_memory_shows_the_hint(monkeypatch):
    from tui_lab import training

    def fake_train(config, control=None, checkpoint_path=None, **kwargs):
        yield training.Failed("CUDA out of memory", training.OOM_HINT)

    monkeypatch.setattr(training, "train", fake_train)
    app = TrainApp(FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not screen.running and app.store.list_runs())
        assert "CUDA out of memory" in status(screen) and "lower the batch size" in status(screen)
        assert app.store.list_runs()[0].status == "failed"
        assert not screen.query_one("#train-start", Button).disabled


@sync
async def test_plots_redraw_at_a_bounded_rate(monkeypatch):
    """However many steps arrive, the plots redraw at most ~10 times a second."""
    redraws = []
    real = CurvePlot.redraw
    monkeypatch.setattr(CurvePlot, "redraw", lambda self: (redraws.append(time.perf_counter()), real(self)))
    app = TrainApp({**FAST, "batch_size": 4, "epochs": 1})  # ~360 steps, a Step event every 10
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        redraws.clear()
        start = time.perf_counter()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not screen.running)
        seconds = time.perf_counter() - start
        steps = len(screen.steps[0])
        assert steps >= 30
        # two plots per redraw; one extra redraw at start and one at the end
        assert len(redraws) / 2 <= seconds / train_screen.REDRAW_SECONDS + 3


def note(screen) -> str:
    return str(screen.query_one("#train-note", Static).render())


@sync
async def test_the_form_holds_every_engine_option_and_they_reach_the_run():
    from dataclasses import fields

    from tui_lab.training import TrainConfig
    from tui_lab.ui.widgets.train_form import FIELDS

    # nproc comes from the device picker ("all N GPUs (DDP)", tested below); sync_bn is a CLI option of DDP runs
    engine = {f.name for f in fields(TrainConfig)} - {"data_dir", "channels_last", "report_every", "threads",
                                                       "nproc", "sync_bn"}
    assert engine - {"model_options"} <= set(FIELDS)
    assert {"hidden", "activation", "dropout", "batch_norm"} <= set(FIELDS)
    preset = {**FAST, "model": "mlp", "optimizer": "momentum", "model_options": {"hidden": [32]}, "seed": 3}
    app = TrainApp(preset)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        form = screen.query_one(TrainForm)
        assert form.values()["hidden"] == "32" and form.values()["seed"] == "3"
        assert form.field("batch_norm").disabled and not form.field("dropout").disabled  # mlp takes dropout
        for name, value in (("dropout", "0.25"), ("weight_decay", "0.001"), ("momentum", "0.8"), ("seed", "7")):
            form.set_value(name, value)
        form.set_value("activation", "tanh")
        await pilot.pause()
        assert screen.validate()
        config = screen.valid_config
        assert config.model_options == {"hidden": [32], "activation": "tanh", "dropout": 0.25}
        assert (config.weight_decay, config.momentum, config.seed, config.amp) == (0.001, 0.8, 7, "off")
        form.set_value("schedule", "cosine")
        form.set_value("warmup", "1")
        form.set_value("trainable", "3")
        await pilot.pause()
        assert screen.validate()
        assert (screen.valid_config.schedule, screen.valid_config.warmup, screen.valid_config.trainable) == (
            "cosine", 1, ("3",))
        form.set_value("reset", "0")  # re-initialising needs a run to start from: the field says so
        await pilot.pause()
        assert not screen.validate()
        assert "reset:" in str(screen.query_one("#form-error", Static).render())
        for name in ("reset", "trainable", "warmup"):
            form.set_value(name, "")
        form.set_value("dropout", "1.5")
        await pilot.pause()
        assert not screen.validate()
        assert "drop: a probability in [0, 1)" in str(screen.query_one("#form-error", Static).render())
        form.set_value("model", "lenet")  # lenet takes batch norm, not dropout: the bad dropout no longer matters
        await pilot.pause()
        assert not form.field("batch_norm").disabled and form.field("dropout").disabled
        assert screen.validate()



def form_error(screen) -> str:
    return str(screen.query_one("#form-error", Static).render())


@sync
async def test_schedule_and_fine_tune_fields_are_checked_inline_and_reach_the_run():
    """sched/warm and init/train/reset in the form's "how" group: bad values flagged as typed (a module
    the model lacks, a run that does not exist or trained another model), good ones reach the run:
    the lr column follows torch's StepLR, only the named module trains, the weights come from the run."""
    store = RunStore()
    source = None
    app = TrainApp({**FAST, "model": "mlp", "epochs": 1})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        form = screen.query_one(TrainForm)
        await pilot.press("ctrl+s")  # the source run: its weights are saved for init-from
        await wait_until(pilot, lambda: not screen.running)
        source = screen.run_id
        other = store.create_run({**FAST, "model": "softmax"})
        store.finish(other, "finished")
        for name, value, words in (("warmup", "3", "warm: must be fewer epochs than the run's 3"),
                                   ("trainable", "9", "train: no module '9' in mlp"),
                                   ("reset", "3", "reset: re-initialises modules of a run given with --init-from"),
                                   ("init_from", "99999", "from: no run with id 99999"),
                                   ("init_from", str(other), f"from: run {other} trained softmax")):
            form.set_value("epochs", "3")
            form.set_value(name, value)
            await pilot.pause()
            assert not screen.validate() and words in form_error(screen), (name, form_error(screen))
            assert screen.query_one("#train-start", Button).disabled
            form.set_value(name, "")
        for name, value in (("schedule", "step"), ("init_from", str(source)), ("trainable", "3"), ("reset", "3")):
            form.set_value(name, value)
        await pilot.pause()
        assert screen.validate(), form_error(screen)
        config = screen.valid_config
        assert (config.schedule, config.init_from, config.trainable, config.reset) == ("step", source, ("3",), ("3",))
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not screen.running)
        assert "finished" in status(screen)
        run = app.store.get_run(screen.run_id)
        assert run.summary.config["init_from"] == source and run.summary.config["trainable"] == ["3"]
        lrs = [run.lrs[e] for e in (1, 2, 3)]
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.1)
        expected = []
        for _ in range(3):
            expected.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        assert lrs == pytest.approx(expected)
        assert [row[4] for row in screen.query_one(EpochLog).cells()] == [f"{lr:.2g}" for lr in lrs]
        line = str(screen.query_one("#train-lr", Static).render())
        assert line.startswith("lr ") and line.endswith("0.5→0.005")
        weights = torch.load(app.store.checkpoint_path(screen.run_id), weights_only=True)
        first = torch.load(app.store.checkpoint_path(source), weights_only=True)
        assert torch.equal(weights["1.weight"], first["1.weight"])  # frozen: the source's weights, unchanged
        assert not torch.equal(weights["3.weight"], first["3.weight"])  # the head trained


@sync
async def test_a_run_stuck_at_chance_says_what_to_try():
    app = TrainApp({**FAST, "lr": 1e-6, "epochs": 1})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not screen.running)
        assert "near chance (10% for 10 classes)" in note(screen).replace("\n", " ")
        assert "larger lr" in note(screen).replace("\n", " ")


@sync
async def test_a_regression_run_shows_fitted_and_true_parameters_and_a_fit_plot():
    app = TrainApp({"model": "linear", "dataset": "linear", "optimizer": "sgd", "lr": 0.03, "batch_size": 10,
                    "epochs": 3, "device": "cpu"})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        acc = screen.query_one("#train-acc", CurvePlot)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not screen.running)
        await wait_until(pilot, lambda: "fitted" in note(screen))
        lines = note(screen).splitlines()
        assert lines[0].startswith("w1  true   2.0000  fitted   2.0")
        assert lines[2].startswith("b   true   4.2000  fitted   4.2")
        assert acc.title.startswith("fit") and set(acc.series) == {"ŷ", "y = ŷ"}


@sync
async def test_with_two_gpus_the_device_picker_offers_ddp(monkeypatch):
    from tui_lab import devices
    from tui_lab.devices import DeviceInfo

    fake = [DeviceInfo("cpu", "cpu", "CPU"), DeviceInfo("cuda:0", "cuda", "GPU", 2**30, 2**30),
            DeviceInfo("cuda:1", "cuda", "GPU", 2**30, 2**30)]
    monkeypatch.setattr(devices, "list_devices", lambda: fake)
    app = TrainApp(FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        form = screen.query_one(TrainForm)
        assert form._choices["device"][-1] == train_screen.DDP_DEVICE
        form.set_value("device", train_screen.DDP_DEVICE)
        config = screen.panel.build_config()
        assert (config.device, config.nproc, config.batch_size) == ("cuda", 2, 32)  # batch per GPU


def test_rank_line_shows_each_ranks_throughput_and_memory():
    assert train_screen.rank_text(()) == ""
    text = train_screen.rank_text(((1234.4, 3 * 2**20), (1200.0, None)))
    assert text == "  ranks 0: 1,234/s 3.0 MiB · 1: 1,200/s"
