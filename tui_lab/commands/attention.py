"""`dllab attention RUN_ID --sample N [--cell LAYER,HEAD,QUERY,KEY] --json`: a transformer run's attention."""

from __future__ import annotations

import typer

from tui_lab.commands._common import open_store, print_json, user_errors


def register(app: typer.Typer) -> None:
    app.command("attention")(attention_command)


def _cell(text: str) -> tuple[int, int, int, int]:
    from tui_lab.errors import ConfigError
    from tui_lab.limits import shown

    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        raise ConfigError("cell", f"four whole numbers LAYER,HEAD,QUERY,KEY (0-based), e.g. 0,1,2,5; got {shown(text)}")
    layer, head, query, key = (int(p) for p in parts)
    return layer, head, query, key


def attention_command(
    run: str = typer.Argument(..., help="a transformer run id with a checkpoint (see `dllab runs`)"),
    sample: str = typer.Option("0", "--sample", metavar="<int>", help="index in the data set's validation split"),
    cell: str = typer.Option(None, "--cell", metavar="<layer,head,query,key>",
                             help="also show the arithmetic of this weight (q.k/sqrt(d), softmax, weighted sum of v)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """A trained transformer's attention: every layer's and head's weights over the tokens of one sample."""
    from tui_lab.attention import cell_steps, load_transformer_run, run_attention
    from tui_lab.limits import INT64_MAX, parse_int, parse_run_id

    with user_errors():
        run_id = parse_run_id(run)
        index = parse_int("sample", sample, 0, INT64_MAX)
        where = None if cell is None else _cell(cell)
        store = open_store()
        maps = run_attention(run_id, index, store)
        data = maps.to_json()
        steps = None
        if where is not None:
            model, _ = load_transformer_run(run_id, store)
            steps = cell_steps(maps, model, *where)
            data["cell"] = steps.to_json()
    if as_json:
        print_json(data)
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    right = maps.right
    console.print(f"run {run_id}, sample {index}: tokens {' '.join(map(str, maps.tokens))}", markup=False)
    if maps.target is not None:
        console.print(f"target     {' '.join(map(str, maps.target))}", markup=False)
    console.print(f"prediction {' '.join(map(str, maps.prediction))}"
                  + ("" if right is None else f"  ({right}/{maps.length} right)"), markup=False)
    for k, layer in enumerate(maps.layers):
        for h in range(layer.heads):
            table = Table(f"L{k} H{h}", *[str(t) for t in maps.tokens], title=f"layer {k} head {h} (rows: queries)")
            for q, row in enumerate(layer.weights[h].tolist()):
                table.add_row(f"{q}:{maps.tokens[q]}", *[f"{w:.2f}" for w in row])
            console.print(table)
    if steps is not None:
        s = steps
        console.print(f"layer {s.layer} head {s.head}, query {s.query} -> key {s.key} (d = {s.head_dim}):", markup=False)
        console.print(f"  q.k = {s.dot:.4f}; / sqrt({s.head_dim}) = {s.scaled:.4f}", markup=False)
        console.print(f"  row scores {[round(v, 3) for v in s.scores]}", markup=False)
        console.print(f"  softmax    {[round(v, 3) for v in s.weights]} -> weight {s.weight:.4f}", markup=False)
        console.print(f"  output = sum_j w_j v_j = {[round(v, 3) for v in s.output]}", markup=False)
