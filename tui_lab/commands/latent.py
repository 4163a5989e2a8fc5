"""`dllab latent RUN_ID [--json]`: an autoencoder run's validation set in its latent space."""

from __future__ import annotations

import typer

from tui_lab.commands._common import open_store, print_json, user_errors


def register(app: typer.Typer) -> None:
    app.command("latent")(latent_command)


def latent_command(
    run: str = typer.Argument(..., help="an autoencoder run id with a checkpoint (see `dllab runs`)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON: every point (x, y) with its label"),
) -> None:
    """An autoencoder's codes of the validation set with their labels (wider codes: PCA to 2-D)."""
    from tui_lab.autoencoder import run_latent
    from tui_lab.limits import parse_run_id

    with user_errors():
        run_id = parse_run_id(run)
        space = run_latent(run_id, open_store())
    if as_json:
        print_json(space.to_json())
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"run {run_id}: {len(space.points)} validation examples, {space.describe()}; "
                  f"reconstruction MSE {space.val_loss:.4f}")
    table = Table("label", "points", "mean x", "mean y")
    by_label: dict[int, list] = {}
    for p in space.points:
        by_label.setdefault(p.label, []).append(p)
    for label in sorted(by_label):
        pts = by_label[label]
        name = space.classes[label] if label < len(space.classes) else str(label)
        table.add_row(name, str(len(pts)), f"{sum(p.x for p in pts) / len(pts):.3f}",
                      f"{sum(p.y for p in pts) / len(pts):.3f}")
    console.print(table)
