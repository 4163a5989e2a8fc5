"""Every key binding of the app and of each screen, read from the classes themselves."""

from __future__ import annotations

import importlib

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

# (title, module, class): the screens whose bindings are listed, in the order a learner meets them
SCREENS: tuple[tuple[str, str, str], ...] = (
    ("Everywhere", "tui_lab.ui.app", "DllabApp"),
    ("Lessons catalog", "tui_lab.ui.screens.catalog", "CatalogScreen"),
    ("Lesson", "tui_lab.ui.screens.lesson", "LessonScreen"),
    ("Train", "tui_lab.ui.screens.train", "TrainScreen"),
    ("Runs", "tui_lab.ui.screens.runs", "RunsScreen"),
    ("Run curves", "tui_lab.ui.screens.run_detail", "RunDetailScreen"),
    ("Devices", "tui_lab.ui.screens.devices", "DevicesScreen"),
)
EXTRA = (("Everywhere", "ctrl+p", "Command palette: every action and lesson by name"),
         ("Everywhere", "tab / shift+tab", "Move the focus"))


def key_label(key: str) -> str:
    return " / ".join(k.strip().replace("ctrl+", "Ctrl+").replace("shift+", "Shift+") for k in key.split(","))


def tool_screens() -> list[tuple[str, str, str]]:
    """The lesson tools' screens (conv, shapes, ...) not already listed, titled by tool name."""
    from tui_lab.ui.tools import TOOL_SCREENS, tool_available

    listed = {(m, c) for _, m, c in SCREENS}
    out = []
    for tool, (module, name) in TOOL_SCREENS.items():
        if (module, name) not in listed and tool_available(tool):
            listed.add((module, name))
            out.append((f"Tool: {tool}", module, name))
    return out


def binding_rows() -> list[tuple[str, str, str]]:
    """(screen, keys, what) for every binding with a description, the tools' screens included."""
    rows: list[tuple[str, str, str]] = []
    for title, module, name in [*SCREENS, *tool_screens()]:
        try:
            cls = getattr(importlib.import_module(module), name)
        except Exception:  # a tool screen that fails to import: the app already reports that
            continue
        for b in cls.BINDINGS:
            binding = b if isinstance(b, Binding) else Binding(*b)
            if binding.description:
                rows.append((title, key_label(binding.key), binding.description))
        if name == "DllabApp":
            rows.extend(EXTRA)
    return rows


class HelpScreen(ModalScreen):
    """A scrollable table of every binding; Escape or F1 closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen #help-box { width: 76; max-width: 100%; height: 1fr; max-height: 36;
                           border: round $primary; background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, show_edge=False, pad_edge=False)
        table.add_column("screen", style="dim", no_wrap=True)
        table.add_column("keys", style="bold", no_wrap=True)
        table.add_column("does")
        last = None
        for title, keys, what in binding_rows():
            table.add_row(title if title != last else "", keys, what)
            last = title
        with VerticalScroll(id="help-box"):
            yield Static(Text("Keys — dllab works with the keyboard alone", style="bold"))
            yield Static(table, id="help-table")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#help-box").focus()
