"""One run's curves (step loss, epoch validation loss and accuracy), or several runs overlaid.

`RunDetailScreen([run_id, ...])` reads the runs from the run store; the curves are the numbers the
engine recorded, drawn as they are.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Static

from tui_lab.ui.widgets.epoch_table import EpochTable
from tui_lab.ui.widgets.footer import Footer
from tui_lab.ui.widgets.loss_plot import CurvePlot


def run_label(summary) -> str:
    return f"#{summary.id} {summary.model} {summary.optimizer} lr={summary.lr:g}"


class RunDetailScreen(Screen):
    """Curves of one run with its epoch table, or the curves of several runs on the same axes."""

    CSS_PATH = "run_detail.tcss"
    BINDINGS = [Binding("escape", "back", "Back"), Binding("a", "toggle_axis", "Steps/epochs"),
                Binding("l", "toggle_log", "Log loss")]

    def __init__(self, run_ids: list[int], **kwargs) -> None:
        super().__init__(**kwargs)
        self.run_ids = list(run_ids)
        self.details: list = []
        self.by_epoch = False

    def compose(self) -> ComposeResult:
        with Vertical(id="detail-root"):
            yield Static("", id="detail-title")
            with Horizontal(id="detail-plots"):
                yield CurvePlot("loss", "step", id="detail-loss")
                yield CurvePlot("val accuracy", "epoch", id="detail-acc")
            if len(self.run_ids) == 1:
                yield EpochTable(id="detail-epochs")
            else:
                yield Static("", id="detail-legend")
        yield Footer()

    def on_mount(self) -> None:
        store = self.app.store
        self.details = [store.get_run(run_id) for run_id in self.run_ids]
        if len(self.details) == 1:
            d = self.details[0]
            s = d.summary
            message = f"  {s.message}" if s.message else ""
            self.query_one("#detail-title", Static).update(Text.assemble(
                (f"Run #{s.id}", "bold"), f"  {s.status}  {s.model} on {s.dataset}, {s.optimizer} lr={s.lr:g}, "
                f"batch {s.batch_size}, {s.epochs_done}/{s.epochs} epochs", (message, "dim")))
            table = self.query_one(EpochTable)
            table.call_after_refresh(lambda: [table.add_epoch(e) for e in d.epochs])
        else:
            self.query_one("#detail-title", Static).update(
                Text(f"Overlay of {len(self.details)} runs: " + ", ".join(f"#{d.summary.id}" for d in self.details),
                     style="bold"))
            legend = Text()
            for d in self.details:
                s = d.summary
                acc = "–" if s.best_val_acc is None else f"{100 * s.best_val_acc:.1f}%"
                legend.append(f"{run_label(s)} on {s.dataset}: {s.status}, best val acc {acc}\n")
            self.query_one("#detail-legend", Static).update(legend)
        self._draw()

    def _draw(self) -> None:
        many = len(self.details) > 1
        loss_series, acc_series = {}, {}
        for d in self.details:
            name = run_label(d.summary) if many else "train"
            if self.by_epoch or not d.steps:
                loss_series[name] = ([e.epoch for e in d.epochs], [e.train_loss for e in d.epochs])
            else:
                loss_series[name] = ([s[0] for s in d.steps], [s[2] for s in d.steps])
            if not many:
                spe = max(1, d.steps[-1][0] // max(1, d.steps[-1][1])) if d.steps and not self.by_epoch else 1
                loss_series["val"] = ([e.epoch * spe for e in d.epochs], [e.val_loss for e in d.epochs])
            acc_series[f"#{d.summary.id}" if many else "val"] = ([e.epoch for e in d.epochs], [e.val_acc for e in d.epochs])
        loss = self.query_one("#detail-loss", CurvePlot)
        loss.xlabel = "epoch" if self.by_epoch else "step"
        loss.set_series(loss_series)
        loss.redraw()
        acc = self.query_one("#detail-acc", CurvePlot)
        acc.set_series(acc_series)
        acc.redraw()

    def action_toggle_axis(self) -> None:
        self.by_epoch = not self.by_epoch
        self._draw()

    def action_toggle_log(self) -> None:
        loss = self.query_one("#detail-loss", CurvePlot)
        loss.ylog = not loss.ylog
        loss.title = "loss (log scale)" if loss.ylog else "loss"
        self._draw()

    def action_back(self) -> None:
        self.app.pop_screen()
