"""Every key binding of the app and of each screen, read from the classes themselves."""

from __future__ import annotations

import importlib

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui_lab.i18n import N_, _
from tui_lab.ui.widgets.footer import Footer

# (title, module, class): the screens whose bindings are listed, in the order a learner meets them
SCREENS: tuple[tuple[str, str, str], ...] = (
    (N_("Everywhere"), "tui_lab.ui.app", "DllabApp"),
    (N_("Lessons catalog"), "tui_lab.ui.screens.catalog", "CatalogScreen"),
    (N_("Lesson"), "tui_lab.ui.screens.lesson", "LessonScreen"),
    (N_("Glossary"), "tui_lab.ui.screens.glossary", "GlossaryScreen"),
    (N_("Train"), "tui_lab.ui.screens.train", "TrainScreen"),
    (N_("Train, while a run goes"), "tui_lab.ui.screens.train", "TrainPanel"),
    (N_("Runs"), "tui_lab.ui.screens.runs", "RunsScreen"),
    (N_("Run curves"), "tui_lab.ui.screens.run_detail", "RunDetailScreen"),
    (N_("Devices"), "tui_lab.ui.screens.devices", "DevicesScreen"),
)
EXTRA = ((N_("Everywhere"), "Ctrl+P", N_("Command palette: every action, tool and lesson by name")),
         (N_("Everywhere"), "Tab / Shift+Tab", N_("Move the focus")))


_NAMED_KEYS = {"escape": "Esc", "enter": "Enter", "space": "Space", "tab": "Tab", "backspace": "Backspace",
               "delete": "Del", "home": "Home", "end": "End", "pageup": "PgUp", "pagedown": "PgDn",
               "up": "↑", "down": "↓", "left": "←", "right": "→", "plus": "+", "minus": "-"}


def one_key(key: str) -> str:
    """A key as the learner types it: `]` not `right_square_bracket`, `Ctrl+S`, `F1`, `Esc`."""
    from textual.keys import key_to_character

    *modifiers, base = key.strip().split("+") if key.strip() != "+" else ["+"]
    char = key_to_character(base) if len(base) > 1 else base
    if base in _NAMED_KEYS:
        shown = _NAMED_KEYS[base]
    elif char is not None and len(char) == 1 and char.isprintable():
        shown = char
    elif base.startswith("f") and base[1:].isdigit():
        shown = base.upper()
    else:
        shown = base.replace("_", " ")
    if modifiers and len(shown) == 1:
        shown = shown.upper()  # Ctrl+S, as menus write it
    return "".join(f"{m.title()}+" for m in modifiers) + shown


def key_label(key: str) -> str:
    return " / ".join(one_key(k) for k in key.split(","))


def tool_screens() -> list[tuple[str, str, str]]:
    """The lesson tools' screens (conv, shapes, ...) not already listed, titled by tool name."""
    from tui_lab.ui.tools import TOOL_SCREENS, tool_available

    listed = {(m, c) for _, m, c in SCREENS}
    out = []
    for tool, (module, name) in TOOL_SCREENS.items():
        if (module, name) not in listed and tool_available(tool):
            listed.add((module, name))
            out.append((_("Tool: {tool}").format(tool=tool), module, name))
    return out


def binding_rows() -> list[tuple[str, str, str]]:
    """(screen, keys, what) for every binding with a description, the tools' screens included, in the
    current language."""
    rows: list[tuple[str, str, str]] = []
    for title, module, name in [*SCREENS, *tool_screens()]:
        try:
            cls = getattr(importlib.import_module(module), name)
        except Exception:  # a tool screen that fails to import: the app already reports that
            continue
        for b in cls.BINDINGS:
            binding = b if isinstance(b, Binding) else Binding(*b)
            if binding.description:
                rows.append((_(title), key_label(binding.key), _(binding.description)))
        if name == "DllabApp":
            rows.extend((_(title), keys, _(what)) for title, keys, what in EXTRA)
    return rows


class HelpScreen(ModalScreen):
    """A scrollable table of every binding; Escape or F1 closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen #help-box { width: 76; max-width: 100%; height: 1fr; max-height: 36;
                           border: round $primary; background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,f1,q,question_mark", "dismiss", N_("Close"))]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Text(_("Keys — dllab works with the keyboard alone"), style="bold"), id="help-heading")
            yield Static(self._table(), id="help-table")
        yield Footer()

    @staticmethod
    def _table() -> Table:
        table = Table(box=None, expand=True, show_edge=False, pad_edge=False)
        table.add_column(_("screen"), style="dim", no_wrap=True)
        table.add_column(_("keys"), style="bold", no_wrap=True)
        table.add_column(_("does"))
        last = None
        for title, keys, what in binding_rows():
            table.add_row(title if title != last else "", keys, what)
            last = title
        return table

    def apply_language(self) -> None:
        self.query_one("#help-heading", Static).update(Text(_("Keys — dllab works with the keyboard alone"), style="bold"))
        self.query_one("#help-table", Static).update(self._table())

    def on_mount(self) -> None:
        self.query_one("#help-box").focus()
