"""`dllab glossary`: the glossary (术语表), Chinese and English side by side with the lesson of each term."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from tui_lab.commands._common import fail, print_json
from tui_lab.i18n import N_, _


def register(app: typer.Typer) -> None:
    @app.command("glossary")
    def glossary_command(
        query: Optional[str] = typer.Argument(None, help=N_("Only the terms that contain these words.")),
        as_json: bool = typer.Option(False, "--json", help=N_("Print one JSON object instead of a table.")),
        lesson: Optional[str] = typer.Option(None, "--lesson", help=N_("Only the terms taught in this lesson (its id).")),
        directory: Optional[Path] = typer.Option(
            None, "--dir", help=N_("Read lessons from this folder instead of the built-in ones.")
        ),
    ) -> None:
        """The glossary: each term in Chinese and English, a one-line definition and the lesson that teaches it."""
        from tui_lab.glossary import load_glossary, search
        from tui_lab.i18n import current_lang
        from tui_lab.lessons import load_lessons

        if directory is not None and not directory.is_dir():
            raise fail(f"dir: no such folder {str(directory)!r}")
        lang = current_lang()
        terms, errors = load_glossary(directory)
        lessons, _errors = load_lessons(directory, lang=lang)
        titles = {item.id: item.title for item in lessons}
        if lesson is not None:
            if lesson not in titles:
                raise fail(f"lesson: no lesson {lesson[:60]!r}; see `dllab lessons`")
            terms = [term for term in terms if term.lesson == lesson]
        terms = search(terms, query or "")
        if as_json:
            print_json({"lang": lang, "terms": [term.to_json(lang, titles.get(term.lesson)) for term in terms],
                        "errors": errors})
            return
        _print_table(terms, errors, titles, lang)


def _print_table(terms, errors, titles, lang: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=_("Glossary: {count} terms").format(count=len(terms)), show_lines=False, expand=True)
    table.add_column(_("Chinese"), no_wrap=True)
    table.add_column(_("English"), overflow="fold", max_width=24)
    table.add_column(_("definition"), overflow="fold", ratio=1)
    table.add_column(_("lesson"), overflow="fold", max_width=28)
    for term in terms:
        table.add_row(term.zh, term.en, term.definition(lang), titles.get(term.lesson, term.lesson))
    console.print(table)
    err = Console(stderr=True)
    for error in errors:
        err.print(_("broken glossary entry: {error}").format(error=error), markup=False, highlight=False)
