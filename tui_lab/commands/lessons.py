"""`dllab lessons`: list the lessons (`--json`), or run every cell and exercise check (`--check`).

`--check` runs each lesson in a fresh process with a hard per-cell timeout (`tui_lab.lesson_check`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from tui_lab.commands._common import fail, print_json
from tui_lab.i18n import N_, _

EXIT_CHECK_FAILED = 1


def register(app: typer.Typer) -> None:
    @app.command("lessons")
    def lessons_command(
        as_json: bool = typer.Option(False, "--json", help=N_("Print one JSON object instead of a table.")),
        check: bool = typer.Option(
            False, "--check", help=N_("Run every cell of every lesson and compare with its expected output.")
        ),
        directory: Optional[Path] = typer.Option(
            None, "--dir", help=N_("Read lessons from this folder instead of the built-in ones.")
        ),
        timeout: str = typer.Option("60", "--timeout", metavar="<seconds>", help=N_("Seconds one cell may run in --check (then it is killed).")),
        jobs: Optional[str] = typer.Option(
            None, "--jobs", metavar="<int>", help=N_("Lessons checked at once, each in its own process (default: CPUs, at most 4).")
        ),
    ) -> None:
        """List the lessons, or check that every code cell still prints what the lesson says."""
        # listed in the chosen language (--lang); --check runs each cell once, from the English file
        # (a translation shares its cells: tests/test_lessons_zh.py)
        from tui_lab.lessons import load_lessons

        if directory is not None and not directory.is_dir():
            raise fail(f"dir: no such folder {str(directory)!r}")
        seconds = _positive_seconds(timeout)
        workers = None if jobs is None else _jobs(jobs)
        if check:
            _check(directory, as_json, seconds, workers)
            return
        from tui_lab.i18n import current_lang

        lessons, errors = load_lessons(directory, lang=current_lang())
        if as_json:
            print_json(
                {
                    "lessons": [lesson.summary_dict() for lesson in lessons],
                    "errors": [str(error) for error in errors],
                }
            )
            return
        _print_table(lessons, errors)


def _positive_seconds(text: str) -> float:
    import math

    try:
        value = float(text.strip())
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise fail(f"timeout: must be a finite number of seconds > 0, got {text[:40]!r}")
    return value


def _jobs(text: str) -> int:
    t = text.strip()
    if not (t.isdigit() and 1 <= int(t) <= 64):
        raise fail(f"jobs: must be a whole number from 1 to 64, got {text[:40]!r}")
    return int(t)


def _print_table(lessons, errors) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=_("{count} lessons").format(count=len(lessons)), show_lines=False)
    for name in ("#", "id", _("title"), _("section"), _("tool"), _("ex")):
        table.add_column(name, overflow="fold")
    for lesson in lessons:
        table.add_row(str(lesson.order), lesson.id, lesson.title, lesson.section, lesson.tool,
                      str(len(lesson.exercises)))
    console.print(table)
    err = Console(stderr=True)
    for error in errors:
        err.print(_("broken lesson: {error}").format(error=error), markup=False, highlight=False)


def _check(directory: Optional[Path], as_json: bool, timeout: float, jobs: Optional[int]) -> None:
    import sys

    from tui_lab.lesson_check import check_all

    report = check_all(directory, timeout=timeout, jobs=jobs)
    problems = [str(error) for error in report.errors] + [str(failure) for failure in report.failures]
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "lessons": report.lessons,
                "cells": report.cells,
                "checked_cells": report.checked_cells,
                "exercises": report.exercises,
                "failures": problems,
            }
        )
    else:
        for line in problems:
            sys.stdout.write(line.replace("\n", " ") + "\n")
        verdict = "ok" if report.ok else f"{len(problems)} failed"
        sys.stdout.write(
            f"{verdict}: ran {report.cells} cells ({report.checked_cells} checked) and "
            f"{report.exercises} exercise checks in {report.lessons} lessons\n"
        )
    if not report.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)
