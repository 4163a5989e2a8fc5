"""CLI twins of the optimizer lab: `dllab landscape` (paths on 2-D functions) and `dllab compare`.

`dllab landscape bowl --optimizers sgd,momentum,adam --lr 0.4 --steps 40` prints a table and an
ASCII contour plot of each path (or one JSON object with `--json`).
`dllab compare --model mlp --dataset digits --optimizers sgd,momentum,adam --lr 0.1,0.05,0.001`
races them on real training, saves the runs as one group and prints a results table (or `--json`).
Bad input exits 2 with one line; Ctrl-C exits 130 keeping the runs so far; all runs failing exits 1.
"""

from __future__ import annotations

from typing import Optional

import typer

from tui_lab.commands._common import print_json, user_errors


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _parse_lrs(text: str | None) -> list[float] | None:
    from tui_lab.optimizers import parse_lr

    parts = _split(text)
    return [parse_lr(p) for p in parts] if parts else None


def _parse_momentum(text: str | None) -> float | None:
    from tui_lab.limits import parse_float

    return None if text is None else parse_float("momentum", text, 0.0, 1.0, high_open=True)


def _size(field: str, text: str, most: int) -> int:
    from tui_lab.errors import ConfigError

    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 2 <= value <= most:
        raise ConfigError(field, f"must be a whole number from 2 to {most}, got {text!r}")
    return value


def _fmt(v: float) -> str:
    import math

    if not math.isfinite(v):
        return "—"
    return f"{v:.4g}"


def landscape(
    function: str = typer.Argument(..., help="bowl, rosenbrock, beale or saddle"),
    optimizers: str = typer.Option("sgd,momentum,adam", "--optimizers", "-o", metavar="<name,name,...>",
                                   help="comma-separated: sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw"),
    lr: Optional[str] = typer.Option(None, "--lr", metavar="<float,float,...>", help="one learning rate for all, or one per optimizer (comma-separated); "
                                     "default: a rate per function that shows its lesson"),
    steps: Optional[str] = typer.Option(None, "--steps", "-n", metavar="<int>", help="optimizer steps (default: per function)"),
    start: Optional[str] = typer.Option(None, "--start", metavar="<X,Y>", help="start point X,Y (default: per function), e.g. --start=-5,-2"),
    momentum: Optional[str] = typer.Option(None, "--momentum", metavar="<float>", help="momentum for momentum/nesterov (default 0.9)"),
    plot: bool = typer.Option(True, "--plot/--no-plot", help="draw the paths over ASCII contours"),
    width: str = typer.Option("64", "--width", metavar="<int>", help="plot width in characters, 2..400"),
    height: str = typer.Option("20", "--height", metavar="<int>", help="plot height in characters, 2..200"),
    json_out: bool = typer.Option(False, "--json", help="print one JSON object instead of text"),
) -> None:
    """Run optimizers on a 2-D function from one start point and show their paths."""
    with user_errors():
        from tui_lab.landscapes import ASCII_MARKERS, canvas, canvas_text, get_landscape, run_landscape, sample_grid

        land = get_landscape(function)
        plot_w, plot_h = _size("width", width, 400), _size("height", height, 200)
        run = run_landscape(land.name, _split(optimizers), _parse_lrs(lr), steps, start, momentum=_parse_momentum(momentum))
    if json_out:
        print_json(run.to_json())
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    console.print(f"[bold]{land.title}[/]  {land.formula}  start ({run.start[0]:g}, {run.start[1]:g})  {run.steps} steps")
    if land.note:
        console.print(f"[dim]{land.note}[/]")
    table = Table(box=None, pad_edge=False)
    for col in ("", "optimizer", "lr", "momentum", "final x", "final y", "final f", "status"):
        table.add_column(col, justify="left" if col in ("", "optimizer", "status") else "right")
    for k, t in enumerate(run.trajectories):
        x, y = t.points[-1]
        table.add_row(ASCII_MARKERS[k % len(ASCII_MARKERS)], t.optimizer, f"{t.lr:g}",
                      "" if t.momentum is None else f"{t.momentum:g}", _fmt(x), _fmt(y), _fmt(t.final_value), t.status)
    console.print(table)
    if plot:
        with user_errors():
            grid = sample_grid(land.name, plot_w, plot_h, n_bands=6)
        (x0, x1), (y0, y1) = grid.x_range, grid.y_range
        typer.echo(f"y {y1:g}")
        typer.echo(canvas_text(canvas(grid, run, ascii_only=True)))
        typer.echo(f"y {y0:g}   x from {x0:g} to {x1:g};  @ start, * minimum, digits: contour bands from 0 (lowest)")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _loss(x: float | None) -> str:
    import math

    return "—" if x is None or not math.isfinite(x) else f"{x:.4f}"


def compare_command(
    model: str = typer.Option("mlp", "--model", "-m", metavar="<name>", help="model name (see `dllab models`)"),
    dataset: str = typer.Option("digits", "--dataset", "-d", metavar="<name>", help="data set name (see `dllab datasets`)"),
    optimizers: str = typer.Option("sgd,momentum,adam", "--optimizers", "-o", metavar="<name,name,...>",
                                   help="comma-separated: sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw"),
    lr: Optional[str] = typer.Option(None, "--lr", metavar="<float,float,...>", help="one learning rate for all, or one per optimizer "
                                     "(comma-separated); default: each optimizer's own"),
    epochs: str = typer.Option("3", "--epochs", "-e", metavar="<int>", help="number of epochs, >= 1"),
    batch_size: str = typer.Option("64", "--batch-size", "-b", metavar="<int>", help="examples per step, >= 1"),
    seed: str = typer.Option("0", "--seed", metavar="<int>", help="random seed: the shared initial weights and batch order"),
    device: str = typer.Option("auto", "--device", metavar="<auto|cpu|cuda[:N]|mps>", help="auto, cpu, cuda:N or mps"),
    momentum: Optional[str] = typer.Option(None, "--momentum", metavar="<float>", help="momentum for momentum/nesterov (default 0.9)"),
    weight_decay: str = typer.Option("0", "--weight-decay", metavar="<float>", help="L2 penalty for every run, >= 0"),
    hidden: Optional[str] = typer.Option(None, "--hidden", metavar="<int,int,...>", help="MLP hidden sizes, e.g. 256,128"),
    data_dir: Optional[str] = typer.Option(None, "--data-dir", metavar="<dir>", help="where torchvision data sets are"),
    stacked: str = typer.Option("auto", "--stacked", metavar="<auto|on|off>", help="step the runs as one vmapped model: auto (on CUDA), "
                                "on, off"),
    threads: str = typer.Option("auto", "--threads", metavar="<auto|INT>", help="torch CPU threads: auto (from the free CPUs, re-checked each "
                                "epoch; see `dllab doctor`) or a whole number"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object and nothing else"),
) -> None:
    """Race several optimizers on the same model, data, initial weights and batch order."""
    import threading

    from tui_lab.commands._common import fail

    with user_errors():
        from tui_lab import limits
        from tui_lab.commands._common import threads_option
        from tui_lab.compare import CompareConfig, compare, settings_from_lists
        from tui_lab.recording import record_compare
        from tui_lab.errors import ConfigError

        threads_value = threads_option(threads)
        options: dict = {}
        if hidden is not None:
            options["hidden"] = limits.parse_int_list("hidden", hidden)
        wd = limits.parse_float("weight_decay", weight_decay, 0.0)
        names = _split(optimizers)
        mu = _parse_momentum(momentum)
        if mu is not None and not any(n.lower() in ("momentum", "nesterov") for n in names):
            raise ConfigError("momentum", "applies to the momentum and nesterov runs; none of "
                                          f"{limits.shown(optimizers)} is one")
        settings = settings_from_lists(names, _parse_lrs(lr), mu, wd)
        modes = {"auto": None, "on": True, "off": False}
        if stacked.strip().lower() not in modes:
            from tui_lab.errors import choice_error

            raise choice_error("stacked", stacked, modes)
        config = CompareConfig(model=model, dataset=dataset, runs=settings, model_options=options, epochs=epochs,
                               batch_size=batch_size, seed=seed, device=device, data_dir=data_dir,
                               batched=modes[stacked.strip().lower()],
                               threads=threads_value)
        cancel = threading.Event()
        events = compare(config, cancel=cancel)

    from tui_lab.compare import new_group_id
    from tui_lab.commands._common import open_store

    group = new_group_id()
    store = open_store()
    recorded = record_compare(store, events, group)
    try:
        final = _render(recorded, group, quiet=as_json)
    except KeyboardInterrupt:
        cancel.set()
        recorded.close()  # runs still going are marked cancelled in the store
        if as_json:
            with user_errors():
                print_json(_stored_group(store, group))
        raise fail(f"cancelled (Ctrl-C); the runs so far are kept as group {group}", 130) from None
    from tui_lab.compare import CompareFailed

    if as_json:
        print_json(final.to_json() if final is not None and not isinstance(final, CompareFailed) else {"runs": []})
    if isinstance(final, CompareFailed):
        raise fail(f"{final.message} ({final.hint})", 1)
    if final is None or all(r.status == "failed" for r in final.results):
        raise fail("every run failed", 1)


def _stored_group(store, group: str) -> dict:
    """The race as the store holds it, in the shape `--json` prints for a finished race."""
    runs = []
    for summary in sorted(store.list_runs(group_id=group), key=lambda r: r.id):
        detail = store.get_run(summary.id)
        initial = next((loss for step, _epoch, loss in detail.steps if step == 0), None)
        runs.append({"run_id": summary.id, "optimizer": summary.optimizer, "lr": summary.lr, "status": summary.status,
                     "device": summary.device, "initial_loss": initial, "message": summary.message,
                     "epochs": [{"epoch": e.epoch, "train_loss": e.train_loss, "train_acc": e.train_acc,
                                 "val_loss": e.val_loss, "val_acc": e.val_acc, "examples_per_sec": e.examples_per_sec,
                                 "seconds": e.seconds} for e in detail.epochs]})
    return {"group": group, "status": "cancelled", "runs": runs}


def _render(events, group: str, quiet: bool):
    """Print the race as it goes (epoch lines, a progress bar on a terminal) and the final table."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from tui_lab import compare as c
    from tui_lab import training as t

    console = Console(stderr=quiet, quiet=quiet, highlight=False)
    names: list[str] = []
    final = None
    progress = Progress(TextColumn("[bold]epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[losses]}"), TimeElapsedColumn(), console=console, transient=True,
                        disable=quiet or not console.is_terminal)
    latest: dict[int, str] = {}
    with progress:
        task = progress.add_task("race", total=None, epoch=1, losses="")
        for ev in events:
            if isinstance(ev, c.CompareStarted):
                names = [f"{r['optimizer']} lr={r['lr']:g}" for r in ev.runs]
                stacked = ", stepped as one stacked model" if ev.batched else ""
                console.print(f"[dim]{ev.runs[0]['model']} on {ev.runs[0]['dataset']}, device {ev.device} "
                              f"({ev.device_name}), {ev.params:,} parameters each, {len(ev.runs)} runs{stacked}, "
                              f"group {group}[/dim]")
                progress.update(task, total=ev.steps_per_epoch * ev.runs[0]["epochs"])
            elif isinstance(ev, c.InitialLoss) and ev.run == 0:
                console.print(f"loss on the first batch before any update: {ev.loss:.4f} (every run)")
            elif isinstance(ev, t.Step):
                latest[ev.run] = f"{ev.loss:.3f}"
                progress.update(task, completed=ev.global_step, epoch=ev.epoch,
                                losses=" ".join(latest[k] for k in sorted(latest)))
            elif isinstance(ev, t.EpochEnd):
                console.print(f"epoch {ev.epoch}  {names[ev.run]:<18} train loss {ev.train_loss:.4f}  "
                              f"val loss {ev.val_loss:.4f}  acc {_pct(ev.val_acc)}")
            elif isinstance(ev, t.Diverged):
                console.print(f"[red]{names[ev.run]} diverged[/red]: {ev.message}")
            elif isinstance(ev, t.Failed):
                console.print(f"[red]{names[ev.run]} failed[/red]: {ev.message} ({ev.hint})")
            elif isinstance(ev, (c.CompareFinished, c.CompareCancelled, c.CompareFailed)):
                final = ev
    if final is None or isinstance(final, c.CompareFailed):
        return final
    table = Table(title=f"group {group}", box=None, pad_edge=False, padding=(0, 1, 0, 0))
    for col in ("optimizer", "lr", "status", "first\nloss", "final\nloss", "best\nloss", "final\nacc", "best\nacc",
                "time", "examples\n/s"):
        table.add_column(col, justify="left" if col in ("optimizer", "status") else "right", no_wrap=True)
    for r in final.results:
        eps = r.examples_per_sec
        table.add_row(r.optimizer, f"{r.lr:g}", r.status, _loss(r.initial_loss), _loss(r.final_loss),
                      _loss(r.best_loss), _pct(r.final_acc), _pct(r.best_acc), f"{r.seconds:.2f}s",
                      "—" if eps is None else f"{eps:,.0f}")
    console.print(table)
    console.print(f"[dim]losses and accuracy on the validation split; time is each run's own share of the race. "
                  f"See `dllab runs` for group {group}.[/dim]")
    return final


def register(app: typer.Typer) -> None:
    app.command("landscape")(landscape)
    app.command("compare")(compare_command)
