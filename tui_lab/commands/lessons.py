"""`dllab lessons`: list the lessons (`--json`), or run every cell and compare (`--check`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from tui_lab.commands._common import fail, print_json

EXIT_CHECK_FAILED = 1


def register(app: typer.Typer) -> None:
    @app.command("lessons")
    def lessons_command(
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
        check: bool = typer.Option(
            False, "--check", help="Run every cell of every lesson and compare with its expected output."
        ),
        directory: Optional[Path] = typer.Option(
            None, "--dir", help="Read lessons from this folder instead of the built-in ones."
        ),
        timeout: float = typer.Option(60.0, "--timeout", help="Seconds one cell may run in --check."),
    ) -> None:
        """List the lessons, or check that every code cell still prints what the lesson says."""
        from tui_lab.lessons import load_lessons

        if directory is not None and not directory.is_dir():
            raise fail(f"dir: no such folder {str(directory)!r}")
        if timeout <= 0:
            raise fail(f"timeout: must be a number of seconds > 0, got {timeout!r}")
        if check:
            _check(directory, as_json, timeout)
            return
        lessons, errors = load_lessons(directory)
        if as_json:
            print_json(
                {
                    "lessons": [lesson.summary_dict() for lesson in lessons],
                    "errors": [str(error) for error in errors],
                }
            )
            return
        _print_table(lessons, errors)


def _print_table(lessons, errors) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"{len(lessons)} lessons", show_lines=False)
    for name in ("#", "id", "title", "section", "tool"):
        table.add_column(name, overflow="fold")
    for lesson in lessons:
        table.add_row(str(lesson.order), lesson.id, lesson.title, lesson.section, lesson.tool)
    console.print(table)
    err = Console(stderr=True)
    for error in errors:
        err.print(f"broken lesson: {error}", markup=False, highlight=False)


def _check(directory: Optional[Path], as_json: bool, timeout: float) -> None:
    import sys

    from tui_lab.lessons import check_all

    report = check_all(directory, timeout=timeout)
    problems = [str(error) for error in report.errors] + [str(failure) for failure in report.failures]
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "lessons": report.lessons,
                "cells": report.cells,
                "checked_cells": report.checked_cells,
                "failures": problems,
            }
        )
    else:
        for line in problems:
            sys.stdout.write(line.replace("\n", " ") + "\n")
        verdict = "ok" if report.ok else f"{len(problems)} failed"
        sys.stdout.write(
            f"{verdict}: ran {report.cells} cells ({report.checked_cells} checked) "
            f"in {report.lessons} lessons\n"
        )
    if not report.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)
