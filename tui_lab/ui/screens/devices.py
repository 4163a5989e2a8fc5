"""The compute devices here (CPU, each CUDA GPU with its memory, MPS), listed in a worker."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from tui_lab.ui.widgets.footer import Footer

from tui_lab.ui.jobs import JobRunner


def gib(n: int | None) -> str:
    return "" if n is None else f"{n / 1024**3:.1f} GiB"


class DevicesScreen(JobRunner, Screen):
    """Lists devices with names and memory; R refreshes (free memory changes while training)."""

    DEFAULT_CSS = """
    DevicesScreen #devices-box { padding: 0 1; }
    """
    BINDINGS = [Binding("escape", "back", "Back"), Binding("r", "refresh", "Refresh")]

    def __init__(self, preset: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.preset = dict(preset or {})

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="devices-box"):
            yield Static("Devices", id="devices-title")
            yield Static("looking for devices…", id="devices-table")
        yield Footer()

    def on_mount(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        def job():
            from tui_lab.devices import list_devices

            return list_devices()

        self.run_job("devices", job)

    def job_event(self, job: str, event) -> None:
        self._show(event)

    def job_failed(self, job: str, message: str) -> None:
        self.last_job_error = message
        self._show_error(message)

    def _show(self, devices) -> None:
        table = Table(box=None, expand=True)
        for col in ("name", "kind", "description", "free", "total"):
            table.add_column(col)
        for d in devices:
            table.add_row(d.name, d.kind, d.description, gib(d.free_memory), gib(d.total_memory))
        self.query_one("#devices-table", Static).update(table)

    def _show_error(self, message: str) -> None:
        self.query_one("#devices-table", Static).update(f"cannot list devices: {message}")

    def action_back(self) -> None:
        go_back = getattr(self.app, "go_back", None)
        go_back() if go_back else self.app.pop_screen()
