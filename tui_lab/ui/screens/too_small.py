"""Shown over everything while the terminal is smaller than the app's minimum size."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import ModalScreen
from textual.widgets import Static

from tui_lab.i18n import _


class TooSmallScreen(ModalScreen):
    """Says how large the terminal must be; the app pops it once the terminal is big enough."""

    DEFAULT_CSS = """
    TooSmallScreen { align: center middle; background: $background; }
    TooSmallScreen #too-small { width: auto; height: auto; padding: 0 1; text-align: center; }
    """

    def __init__(self, min_width: int, min_height: int) -> None:
        super().__init__()
        self.min_width, self.min_height = min_width, min_height

    def compose(self) -> ComposeResult:
        yield Static("", id="too-small")

    def on_mount(self) -> None:
        self._update()

    def on_resize(self) -> None:
        self._update()

    def _update(self) -> None:
        w, h = self.app.size
        self.query_one("#too-small", Static).update(
            _("dllab needs a terminal of at least {min_width}x{min_height}.\n"
              "This one is {width}x{height}: make it larger (or zoom out).").format(
                min_width=self.min_width, min_height=self.min_height, width=w, height=h)
        )
