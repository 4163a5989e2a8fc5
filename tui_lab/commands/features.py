"""`dllab features RUN_ID --sample N [--layer NAME] --json`: every layer's output for one sample."""

from __future__ import annotations

import typer

from tui_lab.commands._common import open_store, print_json, user_errors


def register(app: typer.Typer) -> None:
    app.command("features")(features_command)


def features_command(
    run: str = typer.Argument(..., help="a run id with a checkpoint (see `dllab runs`)"),
    sample: str = typer.Option("0", "--sample", help="index in the data set's validation split"),
    layer: str = typer.Option(None, "--layer", help="also print this layer's values (its name as listed)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """A trained run's feature maps: each layer's shape and range for one sample, and the prediction."""
    from tui_lab.features import run_features
    from tui_lab.limits import INT64_MAX, parse_int, parse_run_id

    with user_errors():
        run_id = parse_run_id(run)
        index = parse_int("sample", sample, 0, INT64_MAX)
        store = open_store()
        maps = run_features(run_id, index, store)
        data = maps.to_json(layer)
    if as_json:
        print_json(data)
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    label = "" if maps.label is None else f", label {maps.label}"
    console.print(f"run {run_id}, sample {index}{label}: prediction {maps.prediction} "
                  f"(p = {maps.probabilities[maps.prediction]:.3f})")
    table = Table("layer", "kind", "shape", "min", "max", "mean")
    for entry in data["layers"]:
        table.add_row(entry["name"], entry["kind"], "x".join(map(str, entry["shape"])),
                      f"{entry['min']:.4g}", f"{entry['max']:.4g}", f"{entry['mean']:.4g}")
    console.print(table)
    if layer is not None:
        console.print(f"{layer}: {data['values']}", markup=False, highlight=False)
