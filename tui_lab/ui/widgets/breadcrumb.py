"""One line at the top of a screen saying where the learner is: mode › section › lesson › tool.

The app mounts it on every full screen it shows (`DllabApp.on_screen_change`); each screen names its
own crumb through `crumb()` (or `crumb_name`), so the widget only reads the current mode's stack.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tui_lab.i18n import N_, _

SEPARATOR = " › "
MODE_NAMES = {"lessons": N_("Lessons"), "train": N_("Train"), "runs": N_("Runs")}


# screens that are not lesson tools (a tool screen gets `crumb_name` from `DllabApp.open_tool`)
CLASS_CRUMBS = {"RunDetailScreen": N_("Run curves"), "DevicesScreen": N_("Devices"),
                "GlossaryScreen": N_("Glossary")}


def screen_crumb(screen) -> str:
    """What a screen calls itself in the trail: its `crumb()`, its `crumb_name`, or its class's name."""
    crumb = getattr(screen, "crumb", None)
    if callable(crumb):
        return crumb()
    return _(getattr(screen, "crumb_name", "") or CLASS_CRUMBS.get(type(screen).__name__, ""))


def trail(mode: str, stack) -> list[str]:
    """The crumbs of a mode's screen stack, the mode's own name first (no repeats, no blanks)."""
    parts = [_(MODE_NAMES.get(mode, mode.title()))]
    for screen in stack:
        crumb = screen_crumb(screen)
        for part in crumb.split(SEPARATOR) if crumb else ():
            if part and part != parts[-1]:
                parts.append(part)
    return parts


class Breadcrumb(Static):
    """`dllab › Lessons › Convolutional networks › Padding and stride › conv stepper`, cut from the left."""

    DEFAULT_CSS = """
    Breadcrumb { dock: top; height: 1; width: 1fr; padding: 0 1; background: $panel; color: $text-muted; }
    """

    def on_mount(self) -> None:
        self.update_trail()

    def update_trail(self) -> None:
        app = self.app
        parts = trail(app.current_mode or "", [s for s in app.screen_stack if not s.is_modal])
        self.plain_trail = SEPARATOR.join(["dllab", *parts])
        text = Text("dllab", style="bold")
        for i, part in enumerate(parts):
            text.append(SEPARATOR, style="dim")
            text.append(part, style="bold" if i == len(parts) - 1 else "")
        width = max(10, self.size.width - 2) if self.size.width else 200
        if text.cell_len > width:  # keep the end (where you are); cut the start
            text = Text("…") + text[text.cell_len - width + 1:]
        self.update(text)

    def on_resize(self) -> None:
        self.update_trail()
