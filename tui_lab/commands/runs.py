"""`dllab runs`: the run history (newest first), one run in full, and exports as CSV or JSON."""

from __future__ import annotations

from typing import Optional

import typer

from tui_lab.commands._common import open_store, print_json, user_errors


def register(app: typer.Typer) -> None:
    runs_app = typer.Typer(help="The run history: list, show and export runs.", invoke_without_command=True,
                           no_args_is_help=False)
    runs_app.callback(invoke_without_command=True)(list_command)
    runs_app.command("show")(show_command)
    runs_app.command("export")(export_command)
    app.add_typer(runs_app, name="runs")


def _short_time(started: float | None) -> str:
    """`12-01 04:31` (local time): a run's start, short enough for an 80-column table."""
    import time

    return time.strftime("%m-%d %H:%M", time.localtime(started)) if started else "-"


def _fmt_acc(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def list_command(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="print JSON"),
                 limit: str = typer.Option("50", "--limit", metavar="<int>", help="at most this many runs (>= 1)"),
                 group: str = typer.Option(None, "--group", metavar="<id>", help="only the runs of one optimizer race (group id)")) -> None:
    """List runs, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    from tui_lab.limits import INT64_MAX, parse_int

    with user_errors():
        n = parse_int("limit", limit, 1, INT64_MAX)
    runs = open_store().list_runs(limit=n, group_id=group)
    if as_json:
        print_json({"runs": [
            {"id": r.id, "status": r.status, "model": r.model, "dataset": r.dataset, "optimizer": r.optimizer,
             "lr": r.lr, "started": r.to_json()["started"], "epochs_done": r.epochs_done, "epochs": r.epochs,
             "best_val_acc": r.best_val_acc, "kind": r.kind, "group_id": r.group_id} for r in runs]})
        return
    from rich.console import Console
    from rich.table import Table

    from rich import box

    # light rules and short headers: at 80 columns every column fits; status and time are never cut
    # (the model/dataset/optimizer names give way first, with an ellipsis)
    table = Table(title="runs (newest first)", box=box.SIMPLE_HEAD, show_edge=False, padding=0)
    # id, status ("interrupted"), lr, started, epochs, best acc and the eight one-space rules: 56 columns
    names_width = max(6, (Console().width - 56) // 3)  # what is left for model, dataset and optimizer
    for c in ("id", "status", "model", "dataset", "optim", "lr", "started", "epochs", "best acc"):
        name = c in ("model", "dataset", "optim")
        table.add_column(c, no_wrap=True, overflow="ellipsis", max_width=names_width if name else None,
                         min_width=None if name else {"started": 11, "status": 9}.get(c, len(c)),
                         justify="right" if c in ("lr", "epochs", "best acc") else "left")
    for r in runs:
        table.add_row(str(r.id) + ("*" if r.group_id else ""), r.status, r.model or "", r.dataset or "", r.optimizer or "", f"{r.lr:g}" if r.lr else "",
                      _short_time(r.started), f"{r.epochs_done}/{r.epochs}", _fmt_acc(r.best_val_acc))
    Console().print(table if runs else "no runs yet: try `dllab train`")
    if any(r.group_id for r in runs):
        Console().print("* part of an optimizer race; `dllab runs --group ID --json` lists a race")


def _parse_id(run_id: str) -> int:
    from tui_lab.limits import parse_run_id

    return parse_run_id(run_id)


def show_command(run_id: str = typer.Argument(..., help="run id"),
                 as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Show one run: its settings and per-epoch metrics."""
    with user_errors():
        detail = open_store().get_run(_parse_id(run_id))
    if as_json:
        print_json(detail.to_json())
        return
    from rich.console import Console
    from rich.table import Table

    s = detail.summary
    console = Console()
    console.print(f"[bold]run {s.id}[/bold] {s.status}: {s.model} on {s.dataset}, {s.optimizer} lr={s.lr:g}, "
                  f"batch {s.batch_size}, seed {s.seed}, device {s.device or '?'}")
    if s.message:
        console.print(s.message)
    table = Table()
    for c in ("epoch", "train loss", "train acc", "val loss", "val acc", "examples/s"):
        table.add_column(c, justify="right")
    for e in detail.epochs:
        table.add_row(str(e.epoch), f"{e.train_loss:.4f}" if e.train_loss is not None else "-", _fmt_acc(e.train_acc),
                      f"{e.val_loss:.4f}" if e.val_loss is not None else "-", _fmt_acc(e.val_acc),
                      f"{e.examples_per_sec:,.0f}" if e.examples_per_sec else "-")
    console.print(table)
    for event in detail.events:
        console.print(event.describe(), highlight=False)
    if detail.steps:
        console.print(f"{len(detail.steps)} loss points recorded, last at step {detail.steps[-1][0]}")


def export_command(run_id: str = typer.Argument(..., help="run id"),
                   fmt: str = typer.Option("csv", "--format", "-f", metavar="<csv|json|tensorboard>",
                                           help="csv, json, or tensorboard (event files; needs --out)"),
                   out: Optional[str] = typer.Option(None, "--out", metavar="<dir>",
                                                     help="tensorboard: the folder the event files go under")) -> None:
    """Export a run as CSV (one row per epoch), JSON (everything, with the loss curve) or TensorBoard
    event files (`--format tensorboard --out DIR`; the optional extra: pip install 'dllab[tensorboard]')."""
    import sys

    from tui_lab.errors import ConfigError
    from tui_lab.runs import export_run

    with user_errors():
        if fmt not in ("csv", "json", "tensorboard"):
            raise ConfigError("format", f"unknown format {fmt!r}; allowed: csv, json, tensorboard")
        if fmt == "tensorboard":
            if out is None:
                raise ConfigError("out", "--format tensorboard writes event files: give the folder with --out DIR")
            from tui_lab.tb_export import export_tensorboard, summary_writer_class

            summary_writer_class()  # the missing extra is named before anything is read
            folder = export_tensorboard(open_store().get_run(_parse_id(run_id)), out)
            sys.stdout.write(f"{folder}\n")
            return
        if out is not None:
            raise ConfigError("out", "only --format tensorboard writes files; csv and json go to stdout")
        text = export_run(open_store().get_run(_parse_id(run_id)), fmt)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
