"""CLI twin of the shapes screen: `dllab shapes MODEL --input CxHxW [--dataset D] [--depth N] [--json]`.

Prints the layer-by-layer trace (shapes, parameters, MACs, receptive field) and its totals, or one JSON
object. A forward pass that fails prints the rows up to the failure and the diagnosis, exit 1; a bad
model name or input shape prints one line, exit 2.
"""

from __future__ import annotations

from typing import Any, List, Optional

import typer

from tui_lab.commands._common import fail, print_json, user_errors

EXIT_MISMATCH = 1

def _model_help() -> str:
    from tui_lab.shapes import DEMOS  # stdlib-only at import time: --help stays fast

    return ("a zoo model (lenet, resnet, lstm, ...), torchvision:NAME (weights=None), your own "
            "module:callable or module:Class (importable from the current directory), or a demo: "
            + ", ".join(DEMOS))


MODEL_HELP = _model_help()


def _render(trace: Any, depth: Optional[int]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from tui_lab.shapes import MAC_NOTE, format_bytes, format_count, format_shape

    console = Console(highlight=False, soft_wrap=False)
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("layer", no_wrap=True)
    table.add_column("type", no_wrap=True)
    table.add_column("input", no_wrap=True)
    table.add_column("output", no_wrap=True)
    table.add_column("params", justify="right", no_wrap=True)
    table.add_column("MACs", justify="right", no_wrap=True)
    table.add_column("RF", justify="right", no_wrap=True)
    for row in trace.visible_rows(depth):
        name = ("  " * row.depth) + (row.name or "(model)")
        out = format_shape(row.output_shape) if row.output_shape else ("FAILED" if row.failed else "-")
        out_text = Text(out, style="bold yellow" if row.shrinks else ("bold red" if row.failed else ""))
        rf = "x".join(map(str, row.receptive_field)) if row.receptive_field else ""
        table.add_row(name, row.type, format_shape(row.input_shape), out_text,
                      f"{row.params:,}" if row.params else "-", f"{row.macs:,}" if row.macs else "-", rf)
    console.print(f"[bold]{trace.model}[/bold]  input {format_shape(trace.input_shape)} (batch 1)")
    console.print(table)
    console.print(
        f"total params {trace.total_params:,} ({format_count(trace.total_params)}), trainable "
        f"{trace.trainable_params:,}, frozen {trace.frozen_params:,}\n"
        f"total MACs {trace.total_macs:,} ({format_count(trace.total_macs)})   activations "
        f"{format_bytes(trace.activation_bytes)}   output {format_shape(trace.output_shape)}"
    )
    console.print(f"[dim]{MAC_NOTE}[/dim]")


def _render_explain(trace: Any, depth: Optional[int]) -> None:
    for row in trace.visible_rows(depth):
        lines = [*row.counting, *row.formula]
        if row.receptive_field:
            lines.append(f"receptive field {'x'.join(map(str, row.receptive_field))}, "
                         f"jump {'x'.join(map(str, row.jump))}")
        if not (row.counting or row.formula) or not row.is_leaf:
            continue
        typer.echo(f"{row.name or '(model)'} ({row.type})")
        for line in lines:
            typer.echo(f"    {line}")


def _render_error(trace: Any) -> None:
    from tui_lab.shapes import format_shape

    e = trace.error
    where = e.layer or "(model)"
    typer.echo(f"error: forward pass failed at {where} ({e.type}) with input "
               f"{format_shape(e.input_shape) if e.input_shape else '-'}", err=True)
    typer.echo(f"  {e.message}", err=True)
    if e.expected:
        typer.echo(f"  expected: {e.expected}", err=True)
    if e.fix:
        typer.echo(f"  fix: {e.fix}", err=True)


def _as_compare(trace: Any) -> Any:
    from tui_lab.shapes import CompareRow

    rf = trace.rows[0].receptive_field if trace.rows else None
    return CompareRow(trace.model, trace.input_shape, trace.output_shape, trace.total_params,
                      trace.total_macs, rf, trace.error.message if trace.error else None)


def _compare_dict(row: Any) -> dict[str, Any]:
    return {
        "model": row.model, "input_shape": list(row.input_shape),
        "output_shape": list(row.output_shape) if row.output_shape else None,
        "total_params": row.total_params, "total_macs": row.total_macs,
        "receptive_field": list(row.receptive_field) if row.receptive_field else None, "error": row.error,
    }


def _render_compare(rows: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    from tui_lab.shapes import format_shape, seed_count, seed_macs

    table = Table(box=None, pad_edge=False, header_style="bold", title="side by side, same input",
                  title_justify="left")
    for name, justify in (("model", "left"), ("output", "left"), ("params", "right"), ("", "right"),
                          ("MACs", "right"), ("", "right"), ("RF", "right")):
        table.add_column(name, justify=justify, no_wrap=True)
    for r in rows:
        table.add_row(r.model, format_shape(r.output_shape) if r.output_shape else "failed",
                      f"{r.total_params:,}", seed_count(r.total_params), f"{r.total_macs:,}", seed_macs(r.total_macs),
                      "x".join(map(str, r.receptive_field)) if r.receptive_field else "")
    Console(highlight=False).print(table)


def register(app: typer.Typer) -> None:
    @app.command("shapes")
    def shapes(
        model: str = typer.Argument(..., help=MODEL_HELP),
        input_shape: Optional[str] = typer.Option(
            None, "--input", "-i", metavar="<CxHxW>", help="one example's shape without the batch, e.g. 1x28x28; "
            "default: the data set's (zoo), 3x224x224 (torchvision), the demo's"),
        dataset: str = typer.Option("digits", "--dataset", "-d", metavar="<name>", help="data set a zoo model is sized for"),
        depth: Optional[int] = typer.Option(None, "--depth", help="show rows nested at most this deep (0 = model)"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
        explain: bool = typer.Option(False, "--explain", help="print each layer's size formula and how its "
                                     "params and MACs add up"),
        vs: Optional[List[str]] = typer.Option(
            None, "--vs", help="another model to line up against (repeat); same --input and --dataset"),
    ) -> None:
        """Trace a model layer by layer: shapes, parameters, MACs, receptive field."""
        if depth is not None and depth < 0:
            raise fail(f"depth: must be an integer >= 0, got {depth}")
        with user_errors():
            from tui_lab.shapes import compare, comparison_group
            from tui_lab.shapes import trace as run_trace

            result = run_trace(model, input_shape, dataset)
            others = compare(vs, input_shape or None, dataset) if vs else ()
        if as_json:
            data = result.to_dict(depth)
            if others:
                data["compare"] = [_compare_dict(r) for r in (_as_compare(result), *others)]
            print_json(data)
        else:
            _render(result, depth)
            if explain:
                _render_explain(result, depth)
            if others:
                _render_compare((_as_compare(result), *others))
            elif comparison_group(model):
                group = [m for m in comparison_group(model) if m != model.strip().lower()]
                typer.echo(f"compare: dllab shapes {model} " + " ".join(f"--vs {m}" for m in group))
            if result.error is not None:
                _render_error(result)
        if result.error is not None:
            raise typer.Exit(EXIT_MISMATCH)
