"""One lesson: its Markdown text beside the tool it names (above it on narrow terminals).

A `train` lesson on a terminal 120 columns or wider shows the train tool itself beside the text,
with the lesson's preset loaded (Ctrl+S starts it). Otherwise Enter (or the button) opens the tool's
own screen (`tui_lab.ui.tools`) with the preset. Ctrl+D marks the lesson done. The lesson's exercises
follow its text (`tui_lab.ui.widgets.exercises`); `e` jumps to the first unsolved one, and solved ones
are kept in the run store.
"""

from __future__ import annotations

import json

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Markdown, Static

from tui_lab.i18n import N_, _
from tui_lab.ui.tools import tool_title
from tui_lab.ui.widgets.footer import Footer

EMBED_WIDTH = 120  # from this width a train lesson shows the train tool beside its text


class LessonScreen(Screen):
    """Read a lesson and open its interactive tool."""

    CSS_PATH = ["lesson.tcss", "train.tcss", "../widgets/exercises.tcss"]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (EMBED_WIDTH, "-wide")]
    BINDINGS = [
        Binding("escape", "back", N_("Back")),
        Binding("enter,o", "open_tool", N_("Open tool")),
        Binding("ctrl+d", "toggle_done", N_("Done ✓")),
        Binding("ctrl+r", "open_cells", N_("Run cells")),
        Binding("e", "exercises", N_("Exercises")),
        Binding("g", "glossary", N_("Terms")),
        Binding("ctrl+s", "start", N_("Start"), priority=True),
        Binding("ctrl+x", "stop", N_("Stop"), priority=True),
        Binding("j", "scroll(1)", N_("Scroll down"), show=False),
        Binding("k", "scroll(-1)", N_("Scroll up"), show=False),
    ]

    def __init__(self, lesson, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lesson = lesson
        self.embeds_train = lesson.tool == "train"
        if self.embeds_train:
            self.add_class("-embeds-train")
        # the breakpoint class from the first frame on (Textual sets it only after the first resize,
        # so the screen drew two columns and then reflowed)
        try:
            width = self.app.size.width
        except Exception:
            width = 0
        self.add_class("-wide" if width >= EMBED_WIDTH else "-narrow")

    def crumb(self) -> str:
        from tui_lab.ui.widgets.breadcrumb import SEPARATOR

        return f"{self.lesson.section}{SEPARATOR}{self.lesson.title}"

    @property
    def train_panel(self):
        """The train tool beside the text, when it is showing (a train lesson on a wide terminal)."""
        if not (self.embeds_train and self.has_class("-wide")):
            return None
        from tui_lab.ui.screens.train import TrainPanel

        return self.query_one(TrainPanel)

    def compose(self) -> ComposeResult:
        lesson = self.lesson
        from tui_lab.ui.tools import tool_available

        available = tool_available(lesson.tool)
        with Horizontal(id="lesson-root"):
            with Vertical(id="lesson-left"):
                yield Static("", id="lesson-bar")  # shown when the train tool takes the side panel's place
                with VerticalScroll(id="lesson-text"):
                    yield Markdown(self._body(), id="lesson-markdown")
                    if lesson.exercises:
                        from tui_lab.ui.widgets.exercises import ExercisesPanel

                        yield ExercisesPanel(lesson.exercises, self._solved(), id="lesson-exercises")
            with Vertical(id="lesson-side"):
                yield Static(self._title_text(), id="lesson-title")
                yield Static("", id="lesson-done")
                yield Static(self._tool_text(available), id="lesson-tool")
                yield Button(self._open_label(), id="lesson-open", variant="primary", compact=True)
                yield Static(self._preset_text(), id="lesson-preset")
            if self.embeds_train:
                from tui_lab.ui.screens.train import TrainPanel

                yield TrainPanel(preset=dict(lesson.preset), id="lesson-train")
        yield Footer()

    # ------------------------------------------------------------------ texts (redrawn on a language switch)

    def _body(self) -> str:
        from tui_lab.ui.cjk import join_cjk_lines

        return join_cjk_lines(self.lesson.body)

    def _title_text(self) -> Text:
        return Text.assemble((self.lesson.title, "bold"), "\n", (self.lesson.section, "dim"))

    def _tool_text(self, available: bool) -> str:
        return (_("Tool: {tool}").format(tool=tool_title(self.lesson.tool))
                + ("" if available else " " + _("(coming soon)")))

    def _open_label(self) -> str:
        return _("Open {tool} ⏎").format(tool=self.lesson.tool)

    def _preset_text(self) -> Text:
        preset = ", ".join(f"{k}={json.dumps(v)}" for k, v in self.lesson.preset.items()) or _("defaults")
        return Text(_("Preset: {preset}").format(preset=preset), style="dim")

    def apply_language(self) -> None:
        """The language changed: the same lesson in the new language (the app reloaded them), its text,
        side panel and exercises redrawn; the scroll position, the train panel and its run stay."""
        from tui_lab.ui.tools import tool_available

        lesson = next((item for item in getattr(self.app, "lessons", []) if item.id == self.lesson.id), None)
        if lesson is not None:
            self.lesson = lesson
        self.query_one("#lesson-markdown", Markdown).update(self._body())
        self.query_one("#lesson-title", Static).update(self._title_text())
        self.query_one("#lesson-tool", Static).update(self._tool_text(tool_available(self.lesson.tool)))
        self.query_one("#lesson-open", Button).label = self._open_label()
        self.query_one("#lesson-preset", Static).update(self._preset_text())
        from tui_lab.ui.widgets.train_form import TrainForm

        for form in self.query(TrainForm):  # the train tool beside the text, if there is one
            form.apply_language()
        self._show_done()
        from tui_lab.ui.widgets.exercises import ExercisesPanel

        for panel in self.query(ExercisesPanel):
            panel.set_exercises(self.lesson.exercises)

    def on_mount(self) -> None:
        self._show_done()
        self.query_one("#lesson-text").focus()

    def on_screen_resume(self) -> None:
        self._show_done()

    def _show_done(self) -> None:
        done = self.lesson.id in self.app.store.done_lessons()
        mark = Text(_("✓ done") if done else _("○ not done (Ctrl+D)"), style="green" if done else "dim")
        self.query_one("#lesson-done", Static).update(mark)
        self.query_one("#lesson-bar", Static).update(Text.assemble((self.lesson.section, "dim"), "  ", mark))

    def _solved(self) -> set[int]:
        try:
            return self.app.store.solved_exercises(self.lesson.id)
        except Exception:  # a damaged or read-only store: the exercises still work, unrecorded
            return set()

    def on_exercises_panel_solved(self, event) -> None:
        try:
            self.app.store.mark_exercise_solved(self.lesson.id, event.number)
        except Exception as exc:
            self.notify(_("solved, but the progress could not be saved: {error}").format(error=exc), severity="warning")

    def action_exercises(self) -> None:
        """Jump to the first exercise not solved yet, ready to type a prediction."""
        from tui_lab.ui.widgets.exercises import ExercisesPanel

        panels = self.query(ExercisesPanel)
        target = panels.first().first_open() if panels else None
        if target is not None:
            target.focus()
            target.parent.scroll_visible(animate=False, top=True)

    def action_glossary(self) -> None:
        """`g`: the glossary, showing only the terms this lesson uses (Up/Down through them, Enter or
        the detail line shows each entry in both languages)."""
        self.app.action_glossary(lesson_id=self.lesson.id)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "lesson-open":
            self.action_open_tool()

    def action_open_tool(self) -> None:
        panel = self.train_panel
        if panel is not None:  # the tool is right here: move into its form
            panel.query_one("#field-model").focus()
            return
        self.app.open_tool(self.lesson.tool, dict(self.lesson.preset))

    def action_open_cells(self) -> None:
        """Every lesson's code cells can be run, edited and checked, whatever its main tool."""
        self.app.open_tool("snippets", {"lesson": self.lesson.id})

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("start", "stop"):
            return self.train_panel is not None
        if action == "open_cells":
            return bool(self.lesson.cells)  # a snippets lesson too: Ctrl+R and Enter both open its cells
        if action == "exercises":
            return bool(self.lesson.exercises)
        return True

    def on_resize(self) -> None:
        self.refresh_bindings()  # Start/Stop come and go with the embedded tool

    def action_start(self) -> None:
        if self.train_panel is not None:
            self.train_panel.action_start()

    def action_stop(self) -> None:
        if self.train_panel is not None:
            self.train_panel.action_stop()

    def action_toggle_done(self) -> None:
        store = self.app.store
        store.mark_lesson_done(self.lesson.id, self.lesson.id not in store.done_lessons())
        self._show_done()

    def action_scroll(self, lines: int) -> None:
        self.query_one("#lesson-text", VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_back(self) -> None:
        go_back = getattr(self.app, "go_back", None)
        go_back() if go_back else self.app.pop_screen()
