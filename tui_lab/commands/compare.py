"""CLI twins of the optimizer lab: `dllab landscape` (paths on 2-D functions) and `dllab compare`.

`dllab landscape bowl --optimizers sgd,momentum,adam --lr 0.4 --steps 40` prints a table and an
ASCII contour plot of each path (or one JSON object with `--json`). Bad input exits 2 with one line.
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
    from tui_lab.errors import ConfigError

    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ConfigError("momentum", f"must be a number in [0, 1), got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise ConfigError("momentum", f"must be a number in [0, 1), got {text!r}")
    return value


def _fmt(v: float) -> str:
    import math

    if not math.isfinite(v):
        return "—"
    return f"{v:.4g}"


def landscape(
    function: str = typer.Argument(..., help="bowl, rosenbrock, beale or saddle"),
    optimizers: str = typer.Option("sgd,momentum,adam", "--optimizers", "-o",
                                   help="comma-separated: sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw"),
    lr: Optional[str] = typer.Option(None, "--lr", help="one learning rate for all, or one per optimizer (comma-separated); "
                                     "default: a rate per function that shows its lesson"),
    steps: Optional[str] = typer.Option(None, "--steps", "-n", help="optimizer steps (default: per function)"),
    start: Optional[str] = typer.Option(None, "--start", help="start point X,Y (default: per function), e.g. --start=-5,-2"),
    momentum: Optional[str] = typer.Option(None, "--momentum", help="momentum for momentum/nesterov (default 0.9)"),
    plot: bool = typer.Option(True, "--plot/--no-plot", help="draw the paths over ASCII contours"),
    width: int = typer.Option(64, "--width", help="plot width in characters"),
    height: int = typer.Option(20, "--height", help="plot height in characters"),
    json_out: bool = typer.Option(False, "--json", help="print one JSON object instead of text"),
) -> None:
    """Run optimizers on a 2-D function from one start point and show their paths."""
    with user_errors():
        from tui_lab.landscapes import ASCII_MARKERS, canvas, canvas_text, get_landscape, run_landscape, sample_grid

        land = get_landscape(function)
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
            grid = sample_grid(land.name, width, height, n_bands=6)
        (x0, x1), (y0, y1) = grid.x_range, grid.y_range
        typer.echo(f"y {y1:g}")
        typer.echo(canvas_text(canvas(grid, run, ascii_only=True)))
        typer.echo(f"y {y0:g}   x from {x0:g} to {x1:g};  @ start, * minimum, digits: contour bands from 0 (lowest)")


def register(app: typer.Typer) -> None:
    app.command("landscape")(landscape)
