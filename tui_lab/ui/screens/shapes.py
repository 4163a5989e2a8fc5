"""The shapes screen: a model traced layer by layer, with collapsible nesting and the size formulas.

Built as `ShapesScreen(preset={"model": "lenet", "dataset": "digits", "input": "1x28x28"})` (input and
dataset optional; `{"model": "inception-demo"}` opens one of `shapes.DEMOS`; `"depth": N` opens folded
to depth N; `"compare": ["conv3x3-demo", ...]` shows the models side by side). Keys: space/enter fold
a block, +/- depth, c opens a conv/pool row in the conv screen, v side by side, m edits the model.
Every number comes from `tui_lab.shapes`, run in a thread worker; this screen only arranges and draws.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Input, Label, Static

from tui_lab.ui.widgets.footer import Footer

from tui_lab.ui.jobs import JobRunner

SHRINK_STYLE = "bold yellow"
FAILED_STYLE = "bold red"
NAME_WIDTH = 34  # the layer column, indent included


def _count(n: int) -> str:
    """Exact below a million (so hand counts can be checked), compact above."""
    from tui_lab.shapes import format_count

    if not n:
        return "-"
    return f"{n:,}" if n < 1_000_000 else format_count(n)


class ShapesScreen(JobRunner, Screen):
    """Trace a model: shapes, parameters, MACs and receptive field per layer."""

    CSS_PATH = "shapes.tcss"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("space", "toggle_row", "Fold"),
        Binding("plus,equals_sign", "depth(1)", "Deeper"),
        Binding("minus", "depth(-1)", "Shallower", show=False),
        Binding("e", "expand_all", "Expand all", show=False),
        Binding("c", "open_conv", "Conv screen"),
        Binding("v", "compare", "Compare"),
        Binding("m", "focus_form", "Model"),
    ]

    def __init__(self, preset: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.preset = dict(preset or {})
        self.result = None  # shapes.ShapeTrace
        self.collapsed: set[int] = set()  # blocks folded by hand
        self.expanded: set[int] = set()  # blocks unfolded by hand past the depth limit
        self.max_depth: int | None = None
        self.error_text: str | None = None
        self._visible: list[int] = []
        self._compared = False
        self.tracing = False  # a trace is running (tests and the title wait on it)

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        model = str(self.preset.get("model", "lenet"))
        shape = self.preset.get("input", "")
        if isinstance(shape, (list, tuple)):
            shape = "x".join(str(s) for s in shape)
        with Vertical(id="shapes-root"):
            yield Static("tracing…", id="shapes-title")
            with Horizontal(id="shapes-form"):
                yield Label("model", classes="shapes-label")
                yield Input(model, placeholder="lenet, torchvision:resnet18, mymod:Net", id="shapes-model",
                            compact=True)
                yield Label("input", classes="shapes-label")
                yield Input(str(shape or ""), placeholder="default", id="shapes-input", compact=True)
                yield Label("data", classes="shapes-label")
                yield Input(str(self.preset.get("dataset", "digits")), id="shapes-dataset", compact=True)
            yield DataTable(id="shapes-table", cursor_type="row", zebra_stripes=False)
            yield Static("", id="shapes-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#shapes-table", DataTable)
        table.add_column("layer", key="layer")
        table.add_column("output", key="output")
        table.add_column("params", key="params")
        table.add_column("MACs", key="macs")
        table.add_column("RF", key="rf")
        depth = self.preset.get("depth")
        self.max_depth = int(depth) if isinstance(depth, int) and depth >= 0 else None
        table.focus()
        self._start_trace()

    # ------------------------------------------------------------------ tracing

    def _form(self) -> tuple[str, str, str]:
        return (
            self.query_one("#shapes-model", Input).value.strip(),
            self.query_one("#shapes-input", Input).value.strip(),
            self.query_one("#shapes-dataset", Input).value.strip() or "digits",
        )

    def _start_trace(self) -> None:
        model, shape, dataset = self._form()
        self.query_one("#shapes-title", Static).update(Text(f"tracing {model}…", style="dim"))
        self.tracing = True

        def job():
            # torch and the model are built here, off the UI thread; a trace that finishes after a
            # newer one started is dropped by the job runner
            from tui_lab.shapes import trace

            return trace(model, shape or None, dataset)

        self.run_job("trace", job)

    def job_event(self, job: str, event) -> None:
        if job == "trace":
            self._apply(event)
        else:
            self._show_compare(event)

    def job_done(self, job: str) -> None:
        if job == "trace":
            self.tracing = False

    def job_failed(self, job: str, message: str) -> None:
        # a bug in a traced model's code or in ours: say so and keep the screen alive
        self._show_error(message)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#shapes-table", DataTable).focus()
        self._start_trace()

    def _show_error(self, message: str) -> None:
        self.last_job_error = self.error_text = message
        self.query_one("#shapes-title", Static).update(Text(f"error: {message}", style=FAILED_STYLE))
        self.notify(message, title="cannot trace", severity="error")

    def _apply(self, result) -> None:
        from tui_lab.shapes import format_shape

        self.result = result
        self.query_one("#shapes-input", Input).placeholder = format_shape(result.input_shape)
        self.error_text = None
        self.collapsed = set()
        self.expanded = set()
        self._draw_title()
        self._fill_table()
        if result.error is not None:
            failing = next((r.index for r in result.rows if r.failed), None)
            if failing is not None and failing in self._visible:
                self.query_one("#shapes-table", DataTable).move_cursor(row=self._visible.index(failing))
        self._draw_detail()
        if self.preset.get("compare") and not self._compared:
            self._compared = True
            self.action_compare()

    # ------------------------------------------------------------------ side by side

    def action_compare(self) -> None:
        from tui_lab.shapes import comparison_group

        model, shape, dataset = self._form()
        specs = self.preset.get("compare") or comparison_group(model)
        if isinstance(specs, str):
            specs = [p.strip() for p in specs.split(",") if p.strip()]
        if not specs:
            self.notify("no side-by-side for this model; try inception-demo, reduction-demo or "
                        "stacked3x3-demo", severity="warning")
            return
        specs = list(specs)
        if model.lower() not in [m.lower() for m in specs]:
            specs.insert(0, model)
        self.query_one("#shapes-detail", Static).update(Text("comparing " + ", ".join(specs) + "…", style="dim"))

        def job():
            from tui_lab.shapes import compare

            return compare(specs, shape or None, dataset)

        self.run_job("compare", job)

    def _show_compare(self, rows) -> None:
        from tui_lab.shapes import format_shape, seed_count, seed_macs

        t = Text()
        t.append("side by side, same input (params / MACs as in the seeds' table)\n", style="bold")
        for r in rows:
            rf = "x".join(map(str, r.receptive_field)) if r.receptive_field else "-"
            out = format_shape(r.output_shape) if r.output_shape else "failed"
            millions = seed_count(r.total_params) if r.total_params >= 100_000 else ""
            macs = seed_macs(r.total_macs) if r.total_macs >= 10**6 else f"{r.total_macs:,}"
            t.append(f"{r.model[:16]:<16} {out:>11}  {r.total_params:>10,} {millions:>7}"
                     f"  {macs:>7} MACs  RF {rf}\n")
        self.query_one("#shapes-detail", Static).update(t)

    # ------------------------------------------------------------------ drawing

    def _draw_title(self) -> None:
        from tui_lab.shapes import format_count, format_shape

        r = self.result
        title = Text()
        title.append(r.model, style="bold")
        title.append(f"  {format_shape(r.input_shape)} → ")
        if r.error is not None:
            title.append(f"✗ fails at {r.error.layer or '(model)'}", style=FAILED_STYLE)
        else:
            title.append(format_shape(r.output_shape))
        title.append(f"  params {format_count(r.total_params)}")
        if r.frozen_params:
            title.append(f" ({format_count(r.frozen_params)} frozen)")
        title.append(f"  MACs {format_count(r.total_macs)}")
        self.query_one("#shapes-title", Static).update(title)

    def _is_open(self, row) -> bool:
        """A block shows its layers unless folded by hand or by the depth limit (and not unfolded)."""
        if row.index in self.collapsed:
            return False
        return self.max_depth is None or row.depth < self.max_depth or row.index in self.expanded

    def _row_visible(self, row) -> bool:
        rows = self.result.rows
        parent = row.parent
        while parent is not None:
            if not self._is_open(rows[parent]):
                return False
            parent = rows[parent].parent
        return True

    def _has_children(self, row) -> bool:
        return not row.is_leaf

    def _fill_table(self) -> None:
        from tui_lab.shapes import format_shape

        table = self.query_one("#shapes-table", DataTable)
        keep = table.cursor_row
        table.clear()
        self._visible = []
        for row in self.result.rows:
            if not self._row_visible(row):
                continue
            self._visible.append(row.index)
            if self._has_children(row):
                folded = not self._is_open(row)
                marker = "▸ " if folded else "▾ "
            else:
                marker = "  "
            short = row.name.rsplit(".", 1)[-1] if row.name else "model"
            label = f"{'  ' * min(row.depth, 6)}{marker}{short} {row.type}"
            if len(label) > NAME_WIDTH:
                label = label[: NAME_WIDTH - 1] + "…"
            if row.failed:
                out = Text("✗ failed", style=FAILED_STYLE)
            elif row.output_shape is None:
                out = Text("-", style="dim")
            else:
                out = Text(format_shape(row.output_shape[1:]) or "-", style=SHRINK_STYLE if row.shrinks else "")
            rf = "x".join(map(str, row.receptive_field)) if row.receptive_field else ""
            if row.receptive_field and len(set(row.receptive_field)) == 1:
                rf = str(row.receptive_field[0])
            table.add_row(
                Text(label, style=FAILED_STYLE if row.failed else ("bold" if row.depth == 0 else "")),
                out,
                Text(_count(row.params), justify="right"),
                Text(_count(row.macs), justify="right"),
                Text(rf, justify="right"),
                key=str(row.index),
            )
        if self._visible:
            table.move_cursor(row=max(0, min(keep, len(self._visible) - 1)))

    def _selected(self):
        if self.result is None or not self._visible:
            return None
        table = self.query_one("#shapes-table", DataTable)
        i = table.cursor_row
        if not 0 <= i < len(self._visible):
            return None
        return self.result.rows[self._visible[i]]

    def _draw_detail(self) -> None:
        from tui_lab.shapes import format_bytes, format_shape
        from tui_lab.ui.conv_handoff import conv_preset

        detail = self.query_one("#shapes-detail", Static)
        row = self._selected()
        if row is None:
            detail.update("")
            return
        t = Text()
        t.append(row.name or "(model)", style="bold")
        t.append(f" {row.type}  {format_shape(row.input_shape)} → ")
        if row.output_shape is not None:
            t.append(format_shape(row.output_shape), style=SHRINK_STYLE if row.shrinks else "")
        else:
            t.append("failed" if row.failed else "-", style=FAILED_STYLE if row.failed else "")
        act = self.result.activation_bytes if row.depth == 0 else row.activation_bytes
        t.append(f"  {'all act' if row.depth == 0 else 'act'} {format_bytes(act)}\n", style="")
        e = self.result.error
        if row.failed and e is not None:
            t.append(e.message + "\n", style=FAILED_STYLE)
            if e.fix:
                t.append(f"fix: {e.fix}\n", style="bold")
        if row.counting:
            t.append("\n".join(row.counting) + "\n")
        else:
            t.append(f"params {row.params:,}")
            if row.frozen_params:
                t.append(f" ({row.trainable_params:,} trainable, {row.frozen_params:,} frozen)")
            t.append(f"  MACs {row.macs:,}" + ("  (sum of the layers inside)" if not row.is_leaf else "") + "\n")
        if row.formula:
            t.append("   ".join(row.formula) + "\n")
        if row.receptive_field:
            t.append(f"receptive field {'x'.join(map(str, row.receptive_field))}, jump "
                     f"{'x'.join(map(str, row.jump))}")
            if conv_preset(row) is not None:
                t.append("   c: open in the conv screen", style="dim")
        elif e is not None and not row.failed:
            t.append(f"forward failed at {e.layer or '(model)'}: see that row", style=FAILED_STYLE)
        detail.update(t)

    @on(DataTable.RowHighlighted, "#shapes-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._draw_detail()

    @on(DataTable.RowSelected, "#shapes-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_toggle_row()

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_toggle_row(self) -> None:
        row = self._selected()
        if row is None or row.is_leaf:
            return
        if self._is_open(row):
            self.collapsed.add(row.index)
            self.expanded.discard(row.index)
        else:
            self.collapsed.discard(row.index)
            self.expanded.add(row.index)  # open even past the depth limit
        self._refill_keeping(row.index)

    def action_depth(self, delta: int) -> None:
        if self.result is None:
            return
        deepest = max(r.depth for r in self.result.rows)
        current = deepest if self.max_depth is None else self.max_depth
        new = max(0, min(deepest, current + delta))
        self.max_depth = None if new >= deepest else new
        self.expanded = set()
        self.collapsed = set()
        row = self._selected()
        self._refill_keeping(row.index if row else 0)
        self.notify(f"depth {new}" + (" (all)" if self.max_depth is None else ""), timeout=1.5)

    def action_expand_all(self) -> None:
        if self.result is None:
            return
        self.max_depth = None
        self.collapsed = set()
        self.expanded = set()
        row = self._selected()
        self._refill_keeping(row.index if row else 0)

    def _refill_keeping(self, index: int) -> None:
        self._fill_table()
        # keep the cursor on the same layer, or its nearest visible ancestor
        rows = self.result.rows
        while index not in self._visible and rows[index].parent is not None:
            index = rows[index].parent
        if index in self._visible:
            self.query_one("#shapes-table", DataTable).move_cursor(row=self._visible.index(index))
        self._draw_detail()

    def action_open_conv(self) -> None:
        from tui_lab.ui.conv_handoff import conv_preset
        from tui_lab.ui.tools import build_tool_screen

        row = self._selected()
        preset = conv_preset(row) if row is not None else None
        if preset is None:
            self.notify("pick a 2-D convolution or pooling row first", severity="warning")
            return
        try:
            screen = build_tool_screen("conv", preset)
        except Exception as exc:  # the conv screen is another module: never crash this one
            self.notify(f"the conv screen could not open: {exc}", severity="error")
            return
        if screen is None:
            self.notify("the conv screen is not available in this build", severity="warning")
            return
        self.app.push_screen(screen)

    def action_focus_form(self) -> None:
        self.query_one("#shapes-model", Input).focus()
