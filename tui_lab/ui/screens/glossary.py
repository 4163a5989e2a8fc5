"""The glossary (术语表): every term in Chinese and English, its definition and the lesson that teaches it.

Type to filter (Chinese, English or a word of the definition); Up/Down move through the table, the
line under it shows the highlighted term's entry in both languages; Enter opens the lesson that
teaches it. From a lesson, `g` opens this screen with only the terms that lesson uses (the terms it
teaches and those its text mentions): the keyboard's way to "look up the term under the cursor".
Ctrl+A shows every term again. The terms come from the core (`tui_lab.glossary`).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from tui_lab.i18n import N_, _
from tui_lab.ui.widgets.footer import Footer


class GlossaryScreen(Screen):
    """Browse and filter the glossary; from a lesson, the terms of that lesson."""

    CSS_PATH = "glossary.tcss"
    BINDINGS = [
        Binding("escape", "back", N_("Back")),
        Binding("enter", "open_lesson", N_("Open lesson"), priority=True),
        Binding("up", "move(-1)", N_("Up"), show=False, priority=True),
        Binding("down", "move(1)", N_("Down"), show=False, priority=True),
        Binding("pageup", "move(-10)", N_("Page up"), show=False),
        Binding("pagedown", "move(10)", N_("Page down"), show=False),
        Binding("ctrl+a", "all_terms", N_("All terms"), priority=True),  # over the filter box's Ctrl+A
    ]

    def __init__(self, lesson_id: str | None = None, query: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self.lesson_id = lesson_id
        self.initial_query = query
        self.terms: list = []
        self.errors: list[str] = []
        self.shown: list = []

    def compose(self) -> ComposeResult:
        with Vertical(id="glossary-root"):
            yield Static("", id="glossary-title")
            yield Input(value=self.initial_query, placeholder=_("type to filter terms (中文 or English)…"),
                        id="glossary-filter", compact=True)
            yield DataTable(id="glossary-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="glossary-detail")
        yield Footer()

    def on_mount(self) -> None:
        from tui_lab.glossary import load_glossary

        lessons_dir = getattr(self.app, "lessons_dir", None)
        try:
            self.terms, self.errors = load_glossary(lessons_dir)
        except Exception as exc:  # the app stays up; the screen says what is wrong
            self.terms, self.errors = [], [f"{type(exc).__name__}: {exc}"]
        self._columns()
        self.rebuild()
        self.query_one("#glossary-filter", Input).focus()

    def _columns(self) -> None:
        """Three columns that fit the screen's width (CJK counted as two cells): the lesson column
        takes what the names leave."""
        from rich.cells import cell_len

        table = self.query_one("#glossary-table", DataTable)
        table.clear(columns=True)
        width = (self.size.width or self.app.size.width or 80) - 4  # the root's padding, the scrollbar
        zh_w = min(16, max([cell_len(t.zh) for t in self.terms] + [cell_len(_("Chinese"))]))
        en_w = min(26, max([cell_len(t.en) for t in self.terms] + [cell_len(_("English"))]))
        lesson_w = max(12, width - zh_w - en_w - 6)  # 2 cells of padding per column
        table.add_column(_("Chinese"), key="zh", width=zh_w)
        table.add_column(_("English"), key="en", width=en_w)
        table.add_column(_("lesson"), key="lesson", width=lesson_w)

    def on_resize(self) -> None:
        if self.is_mounted and self.terms:
            self._columns()
            self.rebuild()

    def _lessons(self) -> dict:
        return {lesson.id: lesson for lesson in getattr(self.app, "lessons", [])}

    def _scoped(self) -> list:
        """The terms in scope: all of them, or those the lesson `lesson_id` teaches or mentions."""
        if self.lesson_id is None:
            return list(self.terms)
        from tui_lab.glossary import terms_in_text

        lesson = self._lessons().get(self.lesson_id)
        text = "" if lesson is None else f"{lesson.title}\n{lesson.summary}\n{lesson.body}"
        return terms_in_text(self.terms, text, self.lesson_id)

    def rebuild(self) -> None:
        from tui_lab.glossary import search

        query = self.query_one("#glossary-filter", Input).value
        self.shown = search(self._scoped(), query)
        lessons = self._lessons()
        table = self.query_one("#glossary-table", DataTable)
        table.clear()
        for n, term in enumerate(self.shown):
            lesson = lessons.get(term.lesson)
            table.add_row(term.zh, term.en, lesson.title if lesson is not None else term.lesson, key=str(n))
        title = Text(_("Glossary (术语表)"), style="bold")
        if self.lesson_id is not None:
            lesson = lessons.get(self.lesson_id)
            name = lesson.title if lesson is not None else self.lesson_id
            title.append("  " + _("terms in: {lesson}").format(lesson=name), style="bold")
        title.append("   " + _("{shown} of {total} terms").format(shown=len(self.shown), total=len(self.terms)),
                     style="dim")
        if self.errors:
            title.append("   " + _("{count} broken entries").format(count=len(self.errors)), style="red")
        self.query_one("#glossary-title", Static).update(title)
        if self.shown:
            table.move_cursor(row=0)
        self._show_detail()

    def _current(self):
        table = self.query_one("#glossary-table", DataTable)
        row = table.cursor_row
        return self.shown[row] if self.shown and 0 <= row < len(self.shown) else None

    def _show_detail(self) -> None:
        detail = self.query_one("#glossary-detail", Static)
        term = self._current()
        if term is None:
            detail.update(_("No term matches the filter.") if self.terms else "\n".join(self.errors[:3])
                          or _("No glossary found."))
            return
        lesson = self._lessons().get(term.lesson)
        where = lesson.title if lesson is not None else term.lesson
        detail.update(Text.assemble(
            (term.zh, "bold"), "  ", (term.en, "bold"), ("  · " + _("taught in: {lesson}").format(lesson=where), "dim"),
            "\n", term.definition_zh, "\n", (term.definition_en, "italic")))

    def apply_language(self) -> None:
        self.query_one("#glossary-filter", Input).placeholder = _("type to filter terms (中文 or English)…")
        self._columns()
        self.rebuild()

    # ------------------------------------------------------------------ events and actions

    def on_input_changed(self, event: Input.Changed) -> None:
        self.rebuild()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def action_move(self, delta: int) -> None:
        table = self.query_one("#glossary-table", DataTable)
        if self.shown:
            table.move_cursor(row=max(0, min(len(self.shown) - 1, table.cursor_row + delta)))
        self._show_detail()

    def action_all_terms(self) -> None:
        self.lesson_id = None
        self.rebuild()

    def action_open_lesson(self) -> None:
        term = self._current()
        if term is None:
            return
        if term.lesson not in self._lessons():
            self.notify(_("no lesson {lesson_id!r}").format(lesson_id=term.lesson), severity="error")
            return
        self.app.open_lesson(term.lesson)

    def action_back(self) -> None:
        self.app.pop_screen()
