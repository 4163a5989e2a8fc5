"""Renders a stream of training events in the terminal with rich: a progress bar and an epoch table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable


@dataclass
class RunResult:
    run_id: int
    status: str = "failed"
    device: str | None = None
    threads: int | None = None  # torch's CPU threads when the run started
    message: str | None = None
    epochs: list[dict[str, Any]] = field(default_factory=list)
    world_size: int = 1  # processes that trained together (DDP ranks)
    params: int | None = None
    trainable_params: int | None = None  # fewer than params when --trainable freezes some

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "status": self.status, "device": self.device, "threads": self.threads,
                "params": self.params, "trainable_params": self.trainable_params,
                "epochs": self.epochs, "message": self.message,
                "world_size": self.world_size}


def stored_result(store, run_id: int) -> dict[str, Any]:
    """The run as the store holds it, in the shape of `RunResult.to_json()` (what `--json` prints
    after Ctrl-C: device, the epochs done so far, status cancelled)."""
    detail = store.get_run(run_id)
    s = detail.summary
    epochs = [{"epoch": e.epoch, "train_loss": e.train_loss, "train_acc": e.train_acc, "val_loss": e.val_loss,
               "val_acc": e.val_acc, "examples_per_sec": e.examples_per_sec, "lr": detail.lrs.get(e.epoch)}
              for e in detail.epochs]
    threads = s.config.get("threads")
    nproc = s.config.get("nproc", 1)
    return RunResult(run_id, status=s.status, device=s.device, threads=threads if isinstance(threads, int) else None,
                     message=s.message, epochs=epochs, world_size=nproc if isinstance(nproc, int) else 1).to_json()


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def render_run(events: Iterable[Any], config, run_id: int, quiet: bool = False) -> RunResult:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from tui_lab import training as t

    console = Console(stderr=quiet, quiet=quiet)
    result = RunResult(run_id)
    table = Table(title=f"run {run_id}: {config.model} on {config.dataset}, {config.optimizer} lr={config.lr:g}")
    for col in ("epoch", "train loss", "train acc", "val loss", "val acc", "examples/s"):
        table.add_column(col, justify="right")
    progress = Progress(TextColumn("[bold]epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("loss {task.fields[loss]}"), TimeElapsedColumn(), console=console,
                        transient=True, disable=quiet or not console.is_terminal)
    with progress:
        task = progress.add_task("train", total=None, epoch=1, loss="-")
        for ev in events:
            if isinstance(ev, t.Started):
                result.device, result.threads, result.world_size = ev.device, ev.threads, ev.world_size
                result.params, result.trainable_params = ev.params, ev.trainable_params
                if ev.trainable_params is not None and ev.trainable_params != ev.params:
                    console.print(f"[dim]{ev.trainable_params:,} of {ev.params:,} parameters train; the rest are frozen[/dim]")
                if ev.resumed_from:
                    console.print(f"[dim]continuing run {run_id} after epoch {ev.resumed_from}[/dim]")
                console.print(f"[dim]device {ev.device} ({ev.device_name}), {ev.params:,} parameters, "
                              f"{ev.train_size:,} train / {ev.val_size:,} val examples, "
                              f"{ev.threads} CPU thread{'s' if ev.threads != 1 else ''}[/dim]")
                progress.update(task, total=ev.steps_per_epoch * config.epochs,
                                completed=ev.steps_per_epoch * ev.resumed_from)
            elif isinstance(ev, t.Step):
                progress.update(task, completed=ev.global_step, epoch=ev.epoch, loss=f"{ev.loss:.4f}")
            elif isinstance(ev, t.EpochEnd):
                row = {"epoch": ev.epoch, "train_loss": ev.train_loss, "train_acc": ev.train_acc, "val_loss": ev.val_loss,
                       "val_acc": ev.val_acc, "examples_per_sec": ev.examples_per_sec, "lr": ev.lr}
                result.epochs.append(row)
                table.add_row(str(ev.epoch), f"{ev.train_loss:.4f}", _pct(ev.train_acc), f"{ev.val_loss:.4f}",
                              _pct(ev.val_acc), f"{ev.examples_per_sec:,.0f}")
                lr_text = "" if ev.lr is None or config.schedule == "none" and not config.warmup else f", lr {ev.lr:.4g}"
                console.print(f"epoch {ev.epoch}: train loss {ev.train_loss:.4f}, val loss {ev.val_loss:.4f}, "
                              f"val acc {_pct(ev.val_acc)}{lr_text}")
            elif isinstance(ev, t.Finished):
                result.status = "finished"
            elif isinstance(ev, t.Diverged):
                result.status, result.message = "diverged", ev.message
            elif isinstance(ev, t.Cancelled):
                result.status, result.message = "cancelled", ev.message
            elif isinstance(ev, t.Failed):
                result.status, result.message = "failed", f"{ev.message} ({ev.hint})"
    if result.epochs:
        console.print(table)
    if result.status == "finished":
        console.print(f"[green]finished[/green]: run {run_id} saved; see `dllab runs show {run_id}`")
    return result
