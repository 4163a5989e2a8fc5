"""The glossary (术语表): the seeds' terms, Chinese and English side by side, each with the lesson that teaches it.

Read from `lessons/glossary.toml` (and any `lessons/glossary-*.toml` beside it: two translators wrote
it in parts), one `[[term]]` table per term with `zh`, `en`, `definition_zh`, `definition_en` and
`lesson` (a lesson id). Loading never raises for a bad entry: it becomes a one-line error naming the
file, the term and the field, and the other terms still load. Format: ZH_FORMAT.md.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

from tui_lab.lessons import lessons_dir

TERM_KEYS = ("zh", "en", "definition_zh", "definition_en", "lesson")


@dataclass(frozen=True)
class Term:
    zh: str
    en: str
    definition_zh: str
    definition_en: str
    lesson: str  # the id of the lesson that teaches it

    def definition(self, lang: str) -> str:
        return self.definition_zh if lang == "zh" else self.definition_en

    def to_json(self, lang: str = "en", lesson_title: str | None = None) -> dict[str, Any]:
        return {"zh": self.zh, "en": self.en, "definition": self.definition(lang),
                "definition_zh": self.definition_zh, "definition_en": self.definition_en,
                "lesson": self.lesson, "lesson_title": lesson_title}


def glossary_files(directory: Path | None = None) -> list[Path]:
    """`glossary.toml` then any `glossary-*.toml` in the lessons folder."""
    directory = lessons_dir() if directory is None else Path(directory)
    main = directory / "glossary.toml"
    return ([main] if main.exists() else []) + sorted(directory.glob("glossary-*.toml"))


def load_glossary(directory: Path | None = None) -> tuple[list[Term], list[str]]:
    """Every term of the glossary files (in file order) and one-line errors for the bad ones.

    A term whose zh or en (case-insensitive) repeats an earlier one is an error, not a second entry.
    """
    terms: list[Term] = []
    errors: list[str] = []
    files = glossary_files(directory)
    if not files:
        return [], [f"{lessons_dir() if directory is None else directory}: no glossary.toml"]
    seen_zh: set[str] = set()
    seen_en: set[str] = set()
    for path in files:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            errors.append(f"{path}: cannot be read: {exc}".splitlines()[0])
            continue
        items = raw.get("term", [])
        if not isinstance(items, list):
            errors.append(f"{path}: term: must be an array of tables ([[term]])")
            continue
        for n, item in enumerate(items, start=1):
            where = f"{path.name}: term {n}"
            if not isinstance(item, dict):
                errors.append(f"{where}: must be a table")
                continue
            problem = next((f"{where}: {key}: missing or empty" for key in TERM_KEYS
                            if not (isinstance(item.get(key), str) and item[key].strip())), None)
            unknown = sorted(set(item) - set(TERM_KEYS))
            if problem is None and unknown:
                problem = f"{where}: {unknown[0]}: unknown key; allowed: {', '.join(TERM_KEYS)}"
            if problem is not None:
                errors.append(problem)
                continue
            term = Term(*(item[key].strip() for key in TERM_KEYS))
            if term.zh in seen_zh or term.en.lower() in seen_en:
                errors.append(f"{where}: duplicate term {term.zh} / {term.en}")
                continue
            seen_zh.add(term.zh)
            seen_en.add(term.en.lower())
            terms.append(term)
    return terms, errors


def search(terms: Iterable[Term], query: str) -> list[Term]:
    """The terms where every word of the query is in the zh, en, either definition or the lesson id
    (case-insensitive); terms matching by name come first."""
    words = query.lower().split()
    if not words:
        return list(terms)
    named: list[Term] = []
    other: list[Term] = []
    for term in terms:
        name = f"{term.zh} {term.en}".lower()
        text = f"{name} {term.definition_zh} {term.definition_en} {term.lesson}".lower()
        if all(word in text for word in words):
            (named if all(word in name for word in words) else other).append(term)
    return named + other


def terms_in_text(terms: Iterable[Term], text: str, lesson_id: str | None = None) -> list[Term]:
    """The terms a lesson uses: those it teaches (`lesson_id`) and those whose Chinese or English name
    appears in its text (English case-insensitive, as a whole word), in glossary order."""
    import re

    lowered = text.lower()
    found = []
    for term in terms:
        if term.lesson == lesson_id or term.zh in text:
            found.append(term)
        elif re.search(r"(?<![a-z0-9])" + re.escape(term.en.lower()) + r"(?![a-z0-9])", lowered):
            found.append(term)
    return found
