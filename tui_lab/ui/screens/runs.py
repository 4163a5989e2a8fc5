"""The run history: every run in the run store (from the app or `dllab train`, killed ones too).

Enter opens a run's curves; Space marks runs and O overlays the marked ones (two or more). The list
refreshes each time the screen is shown and on R.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Static

from tui_lab.ui.widgets.footer import Footer

from tui_lab.ui.widgets.store_banner import StoreBanner

STATUS_STYLES = {"finished": "green", "running": "cyan", "cancelled": "yellow", "interrupted": "magenta",
                 "diverged": "red", "failed": "red"}


def started_text(t: float | None, now: float | None = None) -> str:
    """`05:13` for a run started today, `11-30` for an older one: short enough that the table keeps
    every column whole at 80 columns (the run's curves screen shows the full time)."""
    if not t:
        return ""
    day = time.localtime(t)[:3]
    return time.strftime("%H:%M" if day == time.localtime(now)[:3] else "%m-%d", time.localtime(t))


class RunsScreen(Screen):
    """Browse runs; mark some and overlay their curves."""

    CSS_PATH = "runs.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("enter", "open", "Curves", priority=True),
        Binding("space", "mark", "Mark"),
        Binding("o", "overlay", "Overlay marked"),
        Binding("r", "refresh", "Refresh"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.marked: set[int] = set()
        self.runs: list = []
        self.show_times = True  # snapshot tests turn this off: times differ on every run

    def compose(self) -> ComposeResult:
        with Vertical(id="runs-root"):
            yield StoreBanner()
            yield Static("", id="runs-title")
            yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in (("mark", "✓"), ("id", "id"), ("status", "status"), ("model", "model"),
                           ("dataset", "data"), ("optimizer", "optim"), ("lr", "lr"), ("epochs", "ep"),
                           ("acc", "best acc"), ("started", "started")):
            table.add_column(label, key=key)
        self.action_refresh()
        table.focus()

    def on_screen_resume(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        table = self.query_one(DataTable)
        current = self._current_id()
        self.runs = self.app.store.list_runs()
        table.clear()
        for run in self.runs:
            acc = "–" if run.best_val_acc is None else f"{100 * run.best_val_acc:.1f}%"
            table.add_row("✓" if run.id in self.marked else " ", str(run.id),
                          Text(run.status, style=STATUS_STYLES.get(run.status, "")),
                          run.model or "", run.dataset or "", run.optimizer or "",
                          "" if run.lr is None else f"{run.lr:g}", f"{run.epochs_done}/{run.epochs}", acc,
                          started_text(run.started) if self.show_times else "", key=str(run.id))
        ids = [r.id for r in self.runs]
        if current in ids:
            table.move_cursor(row=ids.index(current))
        self._title()

    def _title(self) -> None:
        n = len(self.runs)
        text = f"Runs: {n} in the history" if n else "No runs yet: train one (F3) or run `dllab train`."
        if self.marked:
            text += f"   {len(self.marked)} marked (O overlays)"
        self.query_one("#runs-title", Static).update(Text(text, style="bold"))

    def _current_id(self) -> int | None:
        table = self.query_one(DataTable)
        if not self.runs or table.cursor_row is None or table.cursor_row >= len(self.runs):
            return None
        return self.runs[table.cursor_row].id

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        run_id = self._current_id()
        if run_id is not None:
            from tui_lab.ui.screens.run_detail import RunDetailScreen

            self.app.push_screen(RunDetailScreen([run_id]))

    def action_mark(self) -> None:
        run_id = self._current_id()
        if run_id is None:
            return
        self.marked ^= {run_id}
        table = self.query_one(DataTable)
        table.update_cell(str(run_id), "mark", "✓" if run_id in self.marked else " ")
        if table.cursor_row < len(self.runs) - 1:
            table.move_cursor(row=table.cursor_row + 1)
        self._title()

    def action_overlay(self) -> None:
        ids = [r.id for r in self.runs if r.id in self.marked]
        if len(ids) < 2:
            self.notify("Mark two or more runs with Space, then press O.", title="Overlay")
            return
        from tui_lab.ui.screens.run_detail import RunDetailScreen

        self.app.push_screen(RunDetailScreen(ids))

    def action_back(self) -> None:
        go_back = getattr(self.app, "go_back", None)
        go_back() if go_back else self.app.pop_screen()
