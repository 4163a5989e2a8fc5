"""The lesson catalog: lessons grouped by section, filtered as you type, done ones ticked.

The filter box keeps the focus (type to filter, Up/Down to move, Enter to open), so every other key
is a function or control key (and `?`, help, while the filter is empty). Lessons whose title matches
come before those that match only by section or summary. Broken lesson files are listed under
"Broken lessons" with the file and field that is wrong; the rest of the catalog still works.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui_lab.i18n import N_, _
from tui_lab.ui.messages import TorchReady
from tui_lab.ui.widgets.footer import Footer
from tui_lab.ui.widgets.store_banner import StoreBanner

BROKEN_SECTION = N_("Broken lessons")


def matches(query: str, *fields: str) -> bool:
    """Every word of the query appears in one of the fields (case-insensitive)."""
    text = " ".join(fields).lower()
    return all(word in text for word in query.lower().split())


# how much a query word counts where it is found: at the start of a word / inside a word
_FIELD_WEIGHTS = (("title", 8.0, 4.0), ("id", 3.0, 1.5), ("tool", 3.0, 1.5), ("section", 2.0, 1.0),
                  ("summary", 1.0, 0.5))


def _word_score(word: str, text: str, start: float, inside: float) -> float:
    at = text.find(word)
    if at < 0:
        return 0.0
    words = re.finditer(r"[a-z0-9]+", text)
    return start if any(m.group().startswith(word) for m in words) else inside


def match_score(query: str, lesson) -> float | None:
    """How well a lesson matches the filter: None when a word is nowhere; else title matches count most
    (at the start of a word more than inside one: `race` is the optimizer race, not "traced"), then
    the id and tool, the section, the summary; the whole query in the title adds a bonus."""
    words = query.lower().split()
    if not words:
        return 0.0
    fields = {name: str(getattr(lesson, name, "") or "").lower() for name, _, _ in _FIELD_WEIGHTS}
    total = 0.0
    for word in words:
        best = max(_word_score(word, fields[name], start, inside) for name, start, inside in _FIELD_WEIGHTS)
        if best == 0.0:
            return None
        total += best
    if len(words) > 1 and " ".join(words) in fields["title"]:
        total += 4.0
    return total


def rank_lessons(query: str, lessons) -> list:
    """The lessons that match, best first (curriculum order among equals and for an empty query)."""
    scored = [(match_score(query, lesson), i, lesson) for i, lesson in enumerate(lessons)]
    return [lesson for score, i, lesson in sorted((t for t in scored if t[0] is not None),
                                                  key=lambda t: (-t[0], t[1]))]


class CatalogScreen(Screen):
    """Pick a lesson: type to filter, Up/Down to move, Enter to open, Ctrl+D to mark it done."""

    CSS_PATH = "catalog.tcss"
    BINDINGS = [
        Binding("enter", "open", N_("Open"), priority=True),
        Binding("up", "move(-1)", N_("Up"), show=False, priority=True),
        Binding("down", "move(1)", N_("Down"), show=False, priority=True),
        Binding("pageup", "move(-10)", N_("Page up"), show=False),
        Binding("pagedown", "move(10)", N_("Page down"), show=False),
        Binding("ctrl+d", "toggle_done", N_("Done ✓"), priority=True),
        Binding("escape", "clear_filter", N_("Clear filter"), show=False),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="catalog-root"):
            yield StoreBanner()
            yield Static("", id="catalog-title")
            yield Input(placeholder=_("type to filter lessons…"), id="catalog-filter", compact=True)
            yield OptionList(id="catalog-list")
            yield Static("", id="catalog-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.done: set[str] = set()
        self._refresh_done()
        self.rebuild()
        self.query_one("#catalog-filter", Input).focus()

    def on_screen_resume(self) -> None:
        self._refresh_done()
        self.rebuild(keep=True)
        self.query_one("#catalog-filter", Input).focus()

    def apply_language(self) -> None:
        """The language changed (the app reloaded its lessons): placeholder, list and detail anew."""
        self.query_one("#catalog-filter", Input).placeholder = _("type to filter lessons…")
        self.rebuild(keep=True)

    def focus_filter(self) -> None:
        """Focus the filter with its text selected: typing replaces the old query."""
        box = self.query_one("#catalog-filter", Input)
        box.focus()
        box.select_all()

    def _refresh_done(self) -> None:
        try:
            self.done = self.app.store.done_lessons()
        except Exception:
            self.done = set()

    # ------------------------------------------------------------------ the list

    def rebuild(self, keep: bool = False) -> None:
        """Fill the list with the lessons that match the filter, grouped by section."""
        option_list = self.query_one("#catalog-list", OptionList)
        previous = option_list.highlighted_option.id if keep and option_list.highlighted_option else None
        query = self.query_one("#catalog-filter", Input).value
        self._built_query = query
        # best match first: its section comes first and its row is highlighted, so Enter opens it
        lessons = rank_lessons(query, self.app.lessons)
        sections: dict[str, list] = {}
        for lesson in lessons:
            sections.setdefault(lesson.section, []).append(lesson)
        options: list[Option] = []
        for section, items in sections.items():
            done = sum(lesson.id in self.done for lesson in items)
            options.append(Option(Text(f"{section}  {done}/{len(items)}", style="bold"), disabled=True))
            for lesson in items:
                mark = "✓" if lesson.id in self.done else " "
                untranslated = getattr(lesson, "lang", "en") != getattr(self.app, "lang", "en")
                options.append(Option(Text.assemble(f" {mark} ", (f"{lesson.title}", ""), (f"  {lesson.tool}", "dim"),
                                                    ("  " + _("(not translated yet)") if untranslated else "", "dim italic")),
                                      id=f"lesson:{lesson.id}"))
        errors = [e for e in self.app.lesson_errors if matches(query, str(e))]
        if errors:
            options.append(Option(Text(f"{_(BROKEN_SECTION)}  {len(errors)}", style="bold red"), disabled=True))
            for i, error in enumerate(errors):
                name = getattr(getattr(error, "path", None), "name", None) or str(error)
                options.append(Option(Text(f" ✗ {name}", style="red"), id=f"broken:{i}"))
        option_list.clear_options()
        option_list.add_options(options)
        ids = [o.id for o in options]
        if previous is not None and previous in ids:
            target = ids.index(previous)
        else:
            target = next((i for i, o in enumerate(options) if not o.disabled), None)
        self._errors_shown = errors
        self._highlight(target)
        # the list settles its own highlight after the refresh; ours must come after that
        self.call_after_refresh(self._highlight, target)
        total = len(self.app.lessons)
        done_total = sum(lesson.id in self.done for lesson in self.app.lessons)
        torch_state = ""
        if getattr(self.app, "warm", False):
            torch_state = (_("torch ready") if self.app.torch_ready
                           else (_("torch failed") if self.app.torch_error else _("loading torch…")))
        self.query_one("#catalog-title", Static).update(
            Text.assemble(("dllab", "bold"), "  " + _("lessons {done}/{total} done").format(done=done_total, total=total),
                          (f"   {torch_state}", "dim")))
        self._show_detail()

    def _highlight(self, index: int | None) -> None:
        option_list = self.query_one("#catalog-list", OptionList)
        if index is not None and index < option_list.option_count:
            option_list.highlighted = index
        self._show_detail()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.value == "?":  # `?` as the whole query is the help key; inside a query it is text
            event.input.value = ""
            self.app.action_help()
            return
        self.rebuild()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show_detail()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_open()

    def on_torch_ready(self, message: TorchReady) -> None:
        self.rebuild(keep=True)

    def _selected(self) -> tuple[str, str] | None:
        option = self.query_one("#catalog-list", OptionList).highlighted_option
        if option is None or option.id is None:
            return None
        kind, _, key = option.id.partition(":")
        return kind, key

    def _lesson(self, lesson_id: str):
        return next((lesson for lesson in self.app.lessons if lesson.id == lesson_id), None)

    def _show_detail(self) -> None:
        detail = self.query_one("#catalog-detail", Static)
        selected = self._selected()
        if selected is None:
            detail.update(_("No lesson matches the filter.") if self.app.lessons or self.app.lesson_errors
                          else _("No lessons found."))
        elif selected[0] == "lesson":
            lesson = self._lesson(selected[1])
            detail.update(Text.assemble((f"{lesson.title}", "bold"), f"  [{lesson.tool}]\n", lesson.summary))
        else:
            detail.update(Text(str(self._errors_shown[int(selected[1])]), style="red"))

    # ------------------------------------------------------------------ actions

    def action_move(self, delta: int) -> None:
        option_list = self.query_one("#catalog-list", OptionList)
        enabled = [i for i, o in enumerate(option_list.options) if not o.disabled]
        if not enabled:
            return
        current = option_list.highlighted
        if current is None or current not in enabled:
            option_list.highlighted = enabled[0]
            return
        pos = max(0, min(len(enabled) - 1, enabled.index(current) + delta))
        option_list.highlighted = enabled[pos]

    def action_open(self) -> None:
        # Enter typed right after the query can arrive before the filter's Changed message: catch up first
        if self.query_one("#catalog-filter", Input).value != getattr(self, "_built_query", None):
            self.rebuild()
        selected = self._selected()
        if selected is None:
            return
        if selected[0] == "broken":
            self.notify(str(self._errors_shown[int(selected[1])]), title=_("Broken lesson"), severity="error", timeout=10)
            return
        self.app.open_lesson(selected[1])

    def action_toggle_done(self) -> None:
        selected = self._selected()
        if selected is None or selected[0] != "lesson":
            return
        lesson_id = selected[1]
        done = lesson_id not in self.done
        self.app.store.mark_lesson_done(lesson_id, done)
        self._refresh_done()
        self.rebuild(keep=True)

    def action_clear_filter(self) -> None:
        self.query_one("#catalog-filter", Input).value = ""
