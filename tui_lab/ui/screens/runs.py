"""The run history: every run in the run store (from the app or `dllab train`, killed ones too).

Enter opens a run's curves; Space marks runs and O overlays the marked ones (two or more); C resumes a
finished, cancelled or interrupted training run (asking inline how many epochs it should have in all)
in the train screen. The list refreshes each time the screen is shown and on R.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from tui_lab.errors import ConfigError

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
        Binding("c", "resume", "Resume"),
    ]

    RESUMABLE = ("finished", "cancelled", "interrupted")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.marked: set[int] = set()
        self.runs: list = []
        self.show_times = True  # snapshot tests turn this off: times differ on every run
        self.resuming: tuple[int, int] | None = None  # (run id, epochs done) while the epochs box is open

    def compose(self) -> ComposeResult:
        with Vertical(id="runs-root"):
            yield StoreBanner()
            yield Static("", id="runs-title")
            yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="runs-msg")
            yield Input(id="runs-epochs", compact=True, placeholder="epochs in all")
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
        if self.resuming is not None:  # Enter (a priority key here) in the epochs box starts the resume
            self._submit_resume(self.query_one("#runs-epochs", Input).value)
            return
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

    # ------------------------------------------------------------------ resume

    def action_resume(self) -> None:
        """C: continue the run under the cursor; the box asks how many epochs it should have in all."""
        run_id = self._current_id()
        if run_id is None:
            return
        run = next(r for r in self.runs if r.id == run_id)
        problem = None
        if run.kind != "train":
            problem = f"run {run_id} is part of an optimizer race; only a training run resumes"
        elif run.status not in self.RESUMABLE:
            problem = f"run {run_id} {run.status}; a finished, cancelled or interrupted run resumes"
        elif not self.app.store.state_path(run_id).is_file():
            problem = f"run {run_id} has no saved epoch to continue from (it stopped before its first epoch ended)"
        if problem:
            self._message(problem, "red")
            return
        done = run.epochs_done
        self.resuming = (run_id, done)
        box = self.query_one("#runs-epochs", Input)
        box.value = str(run.epochs if run.epochs > done else done + max(1, done))
        box.display = True
        box.focus()
        self._message(f"Resume run #{run_id} ({done} epochs done): epochs in all, more than {done}. "
                      "Enter trains, Esc cancels.", "")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "runs-epochs" or self.resuming is None:
            return
        event.stop()
        self._submit_resume(event.value)

    def _submit_resume(self, value: str) -> None:
        assert self.resuming is not None
        run_id, done = self.resuming
        from tui_lab import limits

        try:
            epochs = limits.parse_epochs(value)
            if epochs <= done:
                raise ConfigError("epochs", f"run {run_id} already has {done} complete epochs; give more than {done}")
        except ConfigError as exc:
            self._message(str(exc), "red")
            return
        self._close_resume()
        from tui_lab.ui.screens.train import TrainScreen

        self.app.push_screen(TrainScreen(resume=(run_id, epochs)))

    def on_key(self, event) -> None:
        if event.key == "escape" and self.resuming is not None:
            event.stop()
            self._close_resume()

    def _close_resume(self) -> None:
        self.resuming = None
        self.query_one("#runs-epochs", Input).display = False
        self._message("", "")
        self.query_one(DataTable).focus()

    def _message(self, text: str, style: str) -> None:
        msg = self.query_one("#runs-msg", Static)
        msg.update(Text(text, style=style))
        msg.display = bool(text)

    def action_back(self) -> None:
        go_back = getattr(self.app, "go_back", None)
        go_back() if go_back else self.app.pop_screen()
