"""The snippets tool: a lesson's code cells, run on demand, output beside the expected output.

Built as `SnippetsScreen(preset={"lesson": "<id>"})` or `SnippetsScreen(preset={"cells": [...]})`
(each cell a code string or `{"code": ..., "expected": ...}`). Each run is a fresh namespace, as in
`dllab lessons --check` (see `tui_lab.lessons`); the learner can edit a cell and rerun it.
Keys: Ctrl+R runs the cell, Ctrl+T runs them all, Ctrl+N / Ctrl+B move between cells, Ctrl+O resets.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, Vertical
from textual.screen import Screen
from textual.widgets import OptionList, Static, TextArea
from textual.widgets.option_list import Option

from tui_lab.lessons import Cell, CellResult
from tui_lab.ui.widgets.footer import Footer
from tui_lab.ui.jobs import JobRunner


def cells_from_preset(preset: dict[str, Any], lessons: list | None = None) -> tuple[str, tuple[Cell, ...], str | None]:
    """(title, cells, problem) for a preset; `problem` says why there are no cells, or is None."""
    if "cells" in preset:
        raw = preset["cells"]
        if not isinstance(raw, (list, tuple)):
            return "Code cells", (), "preset 'cells' must be a list of code strings or {code, expected} tables"
        cells = []
        for item in raw:
            if isinstance(item, str):
                cells.append(Cell(item, None))
            elif isinstance(item, dict) and isinstance(item.get("code"), str):
                expected = item.get("expected")
                cells.append(Cell(item["code"], expected if isinstance(expected, str) else None))
            else:
                return "Code cells", (), f"preset 'cells' has an entry that is not code: {item!r}"
        return str(preset.get("title", "Code cells")), tuple(cells), None if cells else "no cells in the preset"
    lesson_id = preset.get("lesson")
    if not lesson_id:
        return "Code cells", (), "open the snippets tool from a lesson: its preset names the lesson"
    if lessons is None:
        from tui_lab.lessons import load_lessons

        lessons, _ = load_lessons()
    lesson = next((lesson for lesson in lessons if getattr(lesson, "id", None) == lesson_id), None)
    if lesson is None:
        return "Code cells", (), f"no lesson {lesson_id!r}"
    if not lesson.cells:
        return lesson.title, (), f"the lesson {lesson_id!r} has no code cells"
    return lesson.title, tuple(lesson.cells), None


LABEL_WIDTH = 12  # characters of a cell's first line shown in the list


def output_diff(expected: str, got: str) -> Text:
    """The lines that differ: `- expected` in red, `+ got` in green (difflib, lines compared as the
    check compares them: trailing spaces and blank edges ignored)."""
    import difflib

    def lines(text: str) -> list[str]:
        return [line.rstrip() for line in text.strip("\n").splitlines()]

    out = Text("what differs (- expected, + got):", style="bold")
    changed = [line for line in difflib.ndiff(lines(expected), lines(got)) if line.startswith(("- ", "+ "))]
    for line in changed:
        out.append("\n" + line, style="red" if line[0] == "-" else "green")
    if not changed:
        out.append("\nonly spaces at the ends of lines differ", style="yellow")
    return out


def _first_line(code: str) -> str:
    for line in code.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(("import ", "from ")):
            return stripped
    return code.strip().splitlines()[0] if code.strip() else "(empty)"


def _run_safely(code: str) -> CellResult:
    from tui_lab.lessons import run_cell

    try:
        return run_cell(code)
    except Exception as exc:  # run_cell reports cell errors itself; this guards against a bug
        return CellResult("", f"{type(exc).__name__}: {exc}")


class SnippetsScreen(JobRunner, Screen):
    """Pick a cell, edit it, run it (Ctrl+R, or all with Ctrl+T) and compare with the lesson's output."""

    CSS_PATH = "snippets.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+r", "run_cell", "Run"),
        Binding("ctrl+n", "next_cell", "Next cell"),
        Binding("ctrl+b", "previous_cell", "Prev cell"),
        Binding("ctrl+t", "run_all", "Run all"),
        Binding("ctrl+o", "reset_cell", "Reset"),
    ]

    def __init__(self, preset: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.preset = dict(preset or {})
        self.title_text = "Code cells"
        self.cells: tuple[Cell, ...] = ()
        self.problem: str | None = None
        self.codes: list[str] = []
        self.results: dict[int, tuple[str, CellResult]] = {}  # index -> (code run, result)
        self.current = 0
        self.running: int | None = None

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        app_lessons = getattr(self.app, "lessons", None)
        self.title_text, self.cells, self.problem = cells_from_preset(
            self.preset, app_lessons if isinstance(app_lessons, list) and app_lessons else None
        )
        self.codes = [cell.code for cell in self.cells]
        yield Static(self._title(), id="snippets-title")
        with Horizontal(id="snippets-body"):
            yield OptionList(*self._options(), id="snippets-cells")
            with Vertical(id="snippets-main"):
                yield TextArea(self.codes[0] if self.codes else "", id="snippets-code", show_line_numbers=True,
                               read_only=not self.cells)
                yield Static("", id="snippets-status")
                with Horizontal(id="snippets-results"):
                    with ScrollableContainer(id="snippets-output-box"):
                        yield Static("", id="snippets-output")
                    with ScrollableContainer(id="snippets-expected-box"):
                        yield Static("", id="snippets-expected")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#snippets-output-box").border_title = "Output"
        self.query_one("#snippets-expected-box").border_title = "Expected"
        cells_list = self.query_one("#snippets-cells", OptionList)
        if self.cells:
            cells_list.highlighted = 0
        self._show_cell(0)
        # the learner came to type and run code: the editor has the focus (the list is a Tab away)
        (self.query_one("#snippets-code", TextArea) if self.cells else cells_list).focus()

    def _title(self) -> Text:
        count = len(self.cells)
        checked = sum(cell.checked for cell in self.cells)
        return Text.assemble(
            (self.title_text, "bold"), (f"   {count} cells, {checked} checked · each runs on its own", "dim")
        )

    def _options(self) -> list[Option]:
        return [Option(self._option_label(i), id=f"cell-{i}") for i in range(len(self.cells))]

    def _option_label(self, index: int) -> Text:
        mark, style = "·", "dim"
        if self.running == index:
            mark, style = "…", "yellow"
        elif index in self.results:
            code, result = self.results[index]
            if result.error is not None:
                mark, style = "!", "red"
            elif self.cells[index].checked:
                ok = result.matches(self.cells[index].expected)
                mark, style = ("✓", "green") if ok else ("✗", "red")
            else:
                mark, style = "✓", "green"
        edited = "*" if self.codes[index] != self.cells[index].code else " "
        snippet = _first_line(self.codes[index])
        snippet = snippet if len(snippet) <= LABEL_WIDTH else snippet[: LABEL_WIDTH - 1] + "…"
        return Text.assemble((mark, style), f"{index + 1:>2}{edited}", (snippet, "dim"), no_wrap=True)

    def _refresh_option(self, index: int) -> None:
        cells_list = self.query_one("#snippets-cells", OptionList)
        cells_list.replace_option_prompt_at_index(index, self._option_label(index))

    # ------------------------------------------------------------------ showing a cell

    def _show_cell(self, index: int) -> None:
        status = self.query_one("#snippets-status", Static)
        expected_view = self.query_one("#snippets-expected", Static)
        output_view = self.query_one("#snippets-output", Static)
        if not self.cells:
            status.update(Text(self.problem or "no cells", style="yellow"))
            output_view.update("")
            expected_view.update("")
            return
        self.current = index
        editor = self.query_one("#snippets-code", TextArea)
        if editor.text != self.codes[index]:
            editor.load_text(self.codes[index])
        cell = self.cells[index]
        expected_view.update(
            Text(cell.expected.strip("\n")) if cell.checked else Text("(none: unchecked cell)", style="dim")
        )
        self._show_result(index)

    def _show_result(self, index: int) -> None:
        status = self.query_one("#snippets-status", Static)
        output_view = self.query_one("#snippets-output", Static)
        label = f"Cell {index + 1} of {len(self.cells)}"
        if self.running == index:
            status.update(Text.assemble(label, (" · running…", "yellow")))
            output_view.update(Text("running…", style="dim"))
            return
        if index not in self.results:
            status.update(Text.assemble(label, (" · Ctrl+R runs it", "dim")))
            output_view.update(Text("(not run yet)", style="dim"))
            return
        code, result = self.results[index]
        cell = self.cells[index]
        text = Text(result.output.rstrip("\n"))
        if result.error is not None:
            if result.output:
                text.append("\n")
            text.append(result.error, style="bold red")
        elif cell.checked and not result.matches(cell.expected):
            text.append("\n\n")
            text.append_text(output_diff(cell.expected, result.output))
        output_view.update(text)
        edited = " (edited code)" if code != self.cells[index].code else ""
        if result.error is not None:
            verdict = Text(" · ✗ raised an error" + edited, style="red")
        elif not cell.checked:
            verdict = Text(" · ran" + edited, style="green")
        elif result.matches(cell.expected):
            verdict = Text(" · ✓ output matches the expected output" + edited, style="green")
        else:
            verdict = Text(" · ✗ output differs from the expected output" + edited, style="red")
        status.update(Text.assemble(label, verdict))

    # ------------------------------------------------------------------ events and actions

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index is not None and event.option_index != self.current:
            self._show_cell(event.option_index)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._show_cell(event.option_index)
        self.query_one("#snippets-code", TextArea).focus()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if not self.cells:
            return
        text = event.text_area.text
        if text != self.codes[self.current]:
            self.codes[self.current] = text
            self._refresh_option(self.current)

    def _select(self, index: int) -> None:
        if not self.cells:
            return
        index = max(0, min(len(self.cells) - 1, index))
        self.query_one("#snippets-cells", OptionList).highlighted = index
        self._show_cell(index)

    def action_next_cell(self) -> None:
        self._select(self.current + 1)

    def action_previous_cell(self) -> None:
        self._select(self.current - 1)

    def action_reset_cell(self) -> None:
        if not self.cells:
            return
        self.codes[self.current] = self.cells[self.current].code
        self.query_one("#snippets-code", TextArea).load_text(self.codes[self.current])
        self._refresh_option(self.current)

    def action_run_cell(self) -> None:
        if not self.cells or self.running is not None:
            return
        index = self.current
        self.running = index
        self._refresh_option(index)
        self._show_result(index)
        self._run(index, self.codes[index])

    def action_run_all(self) -> None:
        if not self.cells or self.running is not None:
            return
        self.running = 0
        self._refresh_option(0)
        self._show_result(self.current)
        self._run_all(list(enumerate(self.codes)))

    def _run(self, index: int, code: str) -> None:
        self.run_job("cells", lambda: iter([(index, code, _run_safely(code), None)]))

    def _run_all(self, jobs: list[tuple[int, str]]) -> None:
        def job():
            for position, (index, code) in enumerate(jobs):
                following = jobs[position + 1][0] if position + 1 < len(jobs) else None
                yield index, code, _run_safely(code), following
            yield "all"

        self.run_job("cells", job)

    def job_event(self, job: str, event) -> None:
        if event == "all":
            self._all_finished()
        else:
            self._finished(*event)

    def job_failed(self, job: str, message: str) -> None:
        self.last_job_error = message
        self.running = None
        self.query_one("#snippets-status", Static).update(Text(f"error: {message}", style="red"))

    def _finished(self, index: int, code: str, result: CellResult, following: int | None = None) -> None:
        self.running = following
        self.results[index] = (code, result)
        self._refresh_option(index)
        if following is not None:
            self._refresh_option(following)
        if self.current in (index, following):
            self._show_result(self.current)

    def _all_finished(self) -> None:
        passed = sum(
            1 for i, (code, result) in self.results.items() if result.matches(self.cells[i].expected)
        )
        style = "green" if passed == len(self.cells) else "red"
        self.query_one("#snippets-status", Static).update(
            Text(f"Ran all {len(self.cells)} cells: {passed} as expected, {len(self.cells) - passed} not", style=style)
        )

    def action_back(self) -> None:
        go_back = getattr(self.app, "go_back", None)
        go_back() if go_back else self.app.pop_screen()
