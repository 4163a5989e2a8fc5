"""The attention explorer: a trained Transformer's attention weights over the tokens of one sample.

Built as `AttentionScreen(preset={"run": 3, "sample": 0})`; without a run it takes the newest finished
transformer run with a checkpoint from the history, or trains the `reverse` preset in seconds
(recorded like any run). The numbers come from `tui_lab.attention` (a forward pass with hooks on
every attention layer); this screen only draws: the chosen head's weights as a heatmap with the
tokens on both axes and a cursor on one cell, every head of the layers as small multiples (the
shared `ChannelMaps`), and the cursor cell's arithmetic from the real vectors: q and k, q.k / sqrt(d),
the softmax over the query's row, and the weighted sum of the value vectors.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from tui_lab.ui.jobs import JobRunner
from tui_lab.ui.widgets.channel_maps import ChannelMaps
from tui_lab.ui.widgets.footer import Footer
from tui_lab.ui.widgets.heat import Scale

CELL = 4  # columns per matrix cell: " .97"
CURSOR = Style(bold=True, reverse=True)


class AttentionScreen(JobRunner, Screen):
    """Every layer's and head's attention for one sample of a trained transformer run."""

    CSS_PATH = "attention.tcss"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("n", "head(1)", "Head"),
        Binding("N", "head(-1)", "Head back", show=False),
        Binding("L", "layer(1)", "Layer"),
        Binding("right_square_bracket", "sample(1)", "Sample+"),
        Binding("left_square_bracket", "sample(-1)", "Sample-", show=False),
        Binding("r", "run", "Older run"),
        Binding("t", "train", "Train transformer", show=False),
        Binding("up,k", "move(-1, 0)", "Cell", show=False),
        Binding("down,j", "move(1, 0)", "Cell", show=False),
        Binding("left,h", "move(0, -1)", "Cell", show=False),
        Binding("right,l", "move(0, 1)", "Cell", show=False),
    ]

    def __init__(self, preset: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.preset = dict(preset or {})
        self.run_id: int | None = None
        self.runs: list[int] = []  # finished transformer runs of the history, newest first
        self.sample = int(self.preset.get("sample", 0) or 0)
        self.maps = None
        self.model = None
        self.layer_index = 0
        self.head_index = 0
        self.cell: tuple[int, int] = (0, 0)  # (query, key)
        self.steps = None
        self.error = ""
        self._placed = False  # the first sample opens on the last layer, the cursor on its strongest weight

    def compose(self) -> ComposeResult:
        with Vertical(id="at-root"):
            yield Static("loading…", id="at-title")
            with Horizontal(id="at-main"):
                with Vertical(id="at-left"):
                    yield Static("", id="at-matrix")
                    yield VerticalScroll(id="at-heads", can_focus=False)
                with VerticalScroll(id="at-steps-box", can_focus=False):
                    yield Static("", id="at-steps")
            yield Static("", id="at-status")
        yield Footer()

    def on_mount(self) -> None:
        self._load(self.preset.get("run"))

    def on_resize(self) -> None:
        self.set_class(self.size.width < 110, "-narrow")
        self.set_class(self.size.height < 32, "-short")
        if self.maps is not None:
            self.refresh_view()

    # ------------------------------------------------------------------ jobs

    def _load(self, run: Any, train: bool = False, older: bool = False) -> None:
        from tui_lab import attention as at

        sample = self.sample

        def job():
            from tui_lab.runs import RunStore

            store = RunStore()
            run_id = run
            if older:  # the history as it is now: runs trained since the last load count
                found = at.newest_transformer_runs(store)
                if [r for r in found if r != run]:
                    run_id = found[(found.index(run) + 1) % len(found) if run in found else 0]
                else:
                    yield ("notice", f"run {run} is the only transformer run in the history; t trains another")
                    return
            if train:
                yield ("status", "training the transformer on reverse (seconds)…")
                run_id = at.train_quick_transformer(store)
            elif run_id is None:
                found = at.newest_transformer_runs(store)
                if found:
                    run_id = found[0]
                else:
                    yield ("status", "no transformer run in the history: training one on reverse (seconds)…")
                    run_id = at.train_quick_transformer(store)
            model, _ = at.load_transformer_run(int(run_id), store)
            maps = at.run_attention(int(run_id), sample, store)
            yield ("maps", int(run_id), model, maps, at.newest_transformer_runs(store))

        self.run_job("attention", job)

    def job_event(self, job: str, event: Any) -> None:
        if event[0] == "status":
            self.query_one("#at-title", Static).update(event[1])
            return
        if event[0] == "notice":
            self.notify(event[1], timeout=3)
            return
        _, self.run_id, self.model, self.maps, self.runs = event
        self.error = ""
        layers = self.maps.layers
        self.layer_index = min(self.layer_index, len(layers) - 1) if self._placed else len(layers) - 1
        self.head_index = min(self.head_index, layers[self.layer_index].heads - 1)
        query = min(self.cell[0], self.maps.length - 1)
        self.cell = (query, int(layers[self.layer_index].weights[self.head_index, query].argmax()))
        self._placed = True
        if len(self.query(".at-layer")) != len(layers):
            self._mount_heads()
        self.refresh_view()

    def job_failed(self, job: str, message: str) -> None:
        self.last_job_error = self.error = message
        self.query_one("#at-title", Static).update(Text(f"error: {message}", style="bold"))

    # ------------------------------------------------------------------ drawing

    def _mount_heads(self) -> None:
        box = self.query_one("#at-heads", VerticalScroll)
        box.remove_children()
        grids = []
        for k in range(len(self.maps.layers)):
            grid = ChannelMaps(id=f"at-layer-{k}", classes="at-layer")
            grid.border_title = f"layer {k}: heads"
            grids.append(grid)
        box.mount_all(grids)
        self.call_after_refresh(self.refresh_view)

    def _tokens(self, values) -> str:
        return "".join(str(v) for v in values) if self.has_class("-narrow") else " ".join(str(v) for v in values)

    def refresh_view(self) -> None:
        maps = self.maps
        if maps is None:
            return
        from tui_lab import attention as at

        self.steps = at.cell_steps(maps, self.model, self.layer_index, self.head_index, *self.cell)
        narrow = self.has_class("-narrow")
        title = Text.assemble(("" if narrow else "attention · ", "bold"), (f"run {self.run_id}", "bold"),
                              f" · sample {maps.sample} · ", ("in ", "dim"), self._tokens(maps.tokens))
        if maps.target is not None:
            title.append(" · target ", style="dim")
            title.append(self._tokens(maps.target))
        title.append(" · out " if narrow else " · predicted ", style="dim")
        title.append(self._tokens(maps.prediction), style="bold")
        if maps.right is not None:
            title.append(f" ({maps.right}/{maps.length})")
        self.query_one("#at-title", Static).update(title)
        self._draw_matrix()
        self._draw_heads()
        self._draw_steps()

    def _draw_matrix(self) -> None:
        maps = self.maps
        weights = maps.layers[self.layer_index].weights[self.head_index].tolist()
        scale = Scale(0.0, 1.0, False)
        styles = scale.styles
        query, key = self.cell
        text = Text(no_wrap=True)
        text.append("q\\k ", style="dim")
        for j, tok in enumerate(maps.tokens):
            text.append(f"{tok:>{CELL}}", style="bold reverse" if j == key else "bold")
        for i, row in enumerate(weights):
            text.append("\n")
            text.append(f"{i}:{maps.tokens[i]:<2}", style="bold reverse" if i == query else "bold")
            for j, w in enumerate(row):
                cell = f"{w:.2f}"[1:] if w < 0.995 else "1.0"
                style = styles[scale.bucket(w) or 0]
                if (i, j) == (query, key):
                    style = style + CURSOR
                text.append(f" {cell:>{CELL - 1}}", style=style)
        box = self.query_one("#at-matrix", Static)
        box.border_title = f"layer {self.layer_index} · head {self.head_index}"
        box.update(text)

    def _draw_heads(self) -> None:
        for k, layer in enumerate(self.maps.layers):
            grids = self.query(f"#at-layer-{k}")
            if not grids:
                return
            grid = grids.first(ChannelMaps)
            cursor = (self.head_index, *self.cell) if k == self.layer_index else None
            grid.show([layer.weights[h].tolist() for h in range(layer.heads)], cursor)
            grid.set_class(k == self.layer_index, "-current")

    def _vector(self, values) -> str:
        """A vector's numbers: all of them on a wide screen, the first few and its length at 80 columns."""
        shown = list(values) if not self.has_class("-narrow") else list(values)[:3]
        more = f" …{len(values)}" if len(shown) < len(values) else ""
        return "[" + " ".join(f"{v:.2f}" for v in shown) + more + "]"

    def _draw_steps(self) -> None:
        s, maps = self.steps, self.maps
        if s is None:
            return
        narrow = self.has_class("-narrow")
        query, key = s.query, s.key
        text = Text()
        text.append(f"query {query} (token {maps.tokens[query]}) → key {key} (token {maps.tokens[key]})", style="bold")
        text.append(f"\nd = {s.head_dim} dimensions in this head", style="dim")
        text.append(f"\nq = x{query}·W_q ", style="bold")
        text.append(self._vector(s.q))
        text.append(f"\nk = x{key}·W_k ", style="bold")
        text.append(self._vector(s.k))
        text.append("\n1 ", style="bold")
        text.append(f"q·k = {s.dot:.4f}, ÷ √{s.head_dim} = ")
        text.append(f"{s.scaled:.4f}", style="bold")
        if narrow or self.has_class("-short"):
            text.append("\n2 ", style="bold")
            text.append("the row's scores q·k_j / √d:\n  ")
            self._row(text, s.scores, key, "{:.0f}" if narrow else "{:.2f}")
            text.append("\n3 ", style="bold")
            text.append(f"softmax: e_j = exp(s_j − max), e_j / Σe (Σe = {sum(s.exps):.3f}):\n  " if not narrow
                        else f"softmax e_j / Σe, Σe = {sum(s.exps):.3f}:\n  ")
            self._row(text, s.weights, key, "{:.2f}")
        else:  # room for the whole row as a table: every key's score, exponential and weight
            text.append("\n2 ", style="bold")
            text.append("score s_j = q·k_j / √d for every key j of the row, then ")
            text.append("3 ", style="bold")
            text.append("the softmax:\n")
            text.append(f"  {'j':>2} {'token':>5} {'s_j':>9} {'e_j = exp(s_j − max)':>22} {'w_j = e_j / Σe':>16}",
                        style="dim")
            for j in range(maps.length):
                line = (f"\n  {j:>2} {maps.tokens[j]:>5} {s.scores[j]:>9.4f} {s.exps[j]:>22.6f} "
                        f"{s.weights[j]:>16.6f}")
                text.append(line, style="bold reverse" if j == key else "")
            text.append(f"\n  {'Σe':>27} {sum(s.exps):>9.6f}", style="dim")
        text.append(f"\n  w[{query},{key}] = ")
        text.append(f"{s.weight:.4f}", style="bold")
        text.append(f"; row sum {sum(s.weights):.4f}", style="dim")
        text.append("\n4 ", style="bold")
        text.append("output Σ_j w_j·v_j:\n  " if narrow else "the head's output for the query, Σ_j w_j·v_j:\n  ")
        text.append(self._vector(s.output))
        text.append(f"\n  v{key} = x{key}·W_v ", style="dim")
        text.append(self._vector(s.values[key]), style="dim")
        self.query_one("#at-steps", Static).update(text)
        self.query_one("#at-steps-box", VerticalScroll).border_title = "one weight, step by step"
        legend = Scale(0.0, 1.0, False).legend("weight", lambda v: f"{v:g}")
        legend.append("  arrows: cell · n: head · L: layer · ]: sample", style="dim")
        self.query_one("#at-status", Static).update(legend)

    def _row(self, text: Text, values, key: int, fmt: str) -> None:
        for j, v in enumerate(values):
            if j:
                text.append(" ")
            cell = fmt.format(v)
            if fmt == "{:.2f}" and 0 <= v < 0.995:
                cell = cell[1:]  # .94 as in the matrix
            text.append(cell, style="bold reverse" if j == key else "")

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        go_back = getattr(self.app, "go_back", None)
        if go_back is not None:
            go_back()
        elif len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def action_move(self, dq: int, dk: int) -> None:
        if self.maps is None:
            return
        t = self.maps.length
        self.cell = ((self.cell[0] + dq) % t, (self.cell[1] + dk) % t)
        self.refresh_view()

    def action_head(self, delta: int) -> None:
        if self.maps is None:
            return
        self.head_index = (self.head_index + delta) % self.maps.layers[self.layer_index].heads
        self.refresh_view()

    def action_layer(self, delta: int) -> None:
        if self.maps is None:
            return
        self.layer_index = (self.layer_index + delta) % len(self.maps.layers)
        self.head_index = min(self.head_index, self.maps.layers[self.layer_index].heads - 1)
        self.refresh_view()

    def action_sample(self, delta: int) -> None:
        if self.run_id is None:
            return
        self.sample = max(0, self.sample + delta)
        self._load(self.run_id)

    def action_run(self) -> None:
        """The next older transformer run of the history (back to the newest after the oldest)."""
        if self.run_id is not None:
            self._load(self.run_id, older=True)

    def action_train(self) -> None:
        self._load(None, train=True)
