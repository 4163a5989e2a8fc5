"""One lesson: its Markdown text beside the tool it names (above it on narrow terminals).

Enter (or the button) opens the lesson's tool with the lesson's preset; Ctrl+D marks the lesson
done. The tool itself is a screen of its own (`tui_lab.ui.tools`), pushed on top of this one.
"""

from __future__ import annotations

import json

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Markdown, Static

TOOL_NAMES = {
    "train": "the training screen", "conv": "the convolution stepper", "pool": "the pooling stepper",
    "transposed": "the transposed-convolution stepper", "shapes": "the shape tracer",
    "compare": "the optimizer race", "landscape": "the loss landscape", "playground": "the playground",
    "snippets": "the code cells", "devices": "the device list",
}


class LessonScreen(Screen):
    """Read a lesson and open its interactive tool."""

    CSS_PATH = "lesson.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("enter,o", "open_tool", "Open tool"),
        Binding("ctrl+d", "toggle_done", "Done ✓"),
        Binding("j", "scroll(1)", "Scroll down", show=False),
        Binding("k", "scroll(-1)", "Scroll up", show=False),
    ]

    def __init__(self, lesson, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lesson = lesson

    def compose(self) -> ComposeResult:
        lesson = self.lesson
        from tui_lab.ui.tools import tool_available

        available = tool_available(lesson.tool)
        with Horizontal(id="lesson-root"):
            with VerticalScroll(id="lesson-text"):
                yield Markdown(lesson.body, id="lesson-markdown")
            with Vertical(id="lesson-side"):
                yield Static(Text.assemble((lesson.title, "bold"), "\n", (lesson.section, "dim")), id="lesson-title")
                yield Static("", id="lesson-done")
                what = TOOL_NAMES.get(lesson.tool, lesson.tool)
                yield Static(f"Tool: {lesson.tool} — {what}" + ("" if available else " (coming soon)"), id="lesson-tool")
                preset = ", ".join(f"{k}={json.dumps(v)}" for k, v in lesson.preset.items()) or "defaults"
                yield Static(Text(f"Preset: {preset}", style="dim"), id="lesson-preset")
                yield Button(f"Open {lesson.tool} ⏎", id="lesson-open", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self._show_done()
        self.query_one("#lesson-text").focus()

    def on_screen_resume(self) -> None:
        self._show_done()

    def _show_done(self) -> None:
        done = self.lesson.id in self.app.store.done_lessons()
        self.query_one("#lesson-done", Static).update(
            Text("✓ done" if done else "○ not done (Ctrl+D)", style="green" if done else "dim"))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "lesson-open":
            self.action_open_tool()

    def action_open_tool(self) -> None:
        self.app.open_tool(self.lesson.tool, dict(self.lesson.preset))

    def action_toggle_done(self) -> None:
        store = self.app.store
        store.mark_lesson_done(self.lesson.id, self.lesson.id not in store.done_lessons())
        self._show_done()

    def action_scroll(self, lines: int) -> None:
        self.query_one("#lesson-text", VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_back(self) -> None:
        go_back = getattr(self.app, "go_back", None)
        go_back() if go_back else self.app.pop_screen()
