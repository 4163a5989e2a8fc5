"""Lessons: load the Markdown files under `lessons/`, validate them, and run their code cells.

A lesson is Markdown with TOML front matter between `+++` lines (id, title, section, order, tool,
summary and a `[preset]` table for the tool it opens). A ```python block followed directly by an
```output block is a checked cell. Loading never runs code; `run_cell` runs one cell on demand.

The front matter may also hold (format: EXERCISES_FORMAT.md):
- `[[exercises]]`: predict-then-check questions (`Exercise`), each with a `check` cell whose printed
  output must match its `answer` (verified by `dllab lessons --check`); `judge` marks a typed answer.
- `[target]` (train lessons): what the `[preset]` run reaches (`val_acc`, `loss_drop`, `val_loss_below`).
- `[presets.NAME]`: a named extra preset, laid over `[preset]` (state only what differs), with `why`
  and, for a train lesson, `[presets.NAME.expect]` (its expected outcome, e.g. `val_acc_below`).
Lessons are data, not code: a preset may name only the lab's own models, demos and data sets (or a
torchvision architecture), never `module:callable`; the loader refuses a file above MAX_LESSON_BYTES.

Every cell runs in a fresh namespace of its own: a cell imports what it needs and never relies on
an earlier cell. The checker (`check_lesson`, `dllab lessons --check`) and the snippets screen run
cells the same way. Output is what the cell prints, plus the repr of a final bare expression
(as a notebook shows it); it is compared with the expected output after stripping both ends.
"""

from __future__ import annotations

import ast
import builtins
import io
import math
import re
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from PyPI
    import tomli as tomllib

# The tools a lesson may open; the same names as `tui_lab.ui.tools.TOOL_SCREENS` (kept in sync by
# the app's author; the core must not import the UI).
TOOLS: tuple[str, ...] = (
    "train",
    "conv",
    "pool",
    "transposed",
    "shapes",
    "compare",
    "landscape",
    "playground",
    "snippets",
    "devices",
    "features",
    "gan",
    "attention",
    "latent",
)

REQUIRED_FIELDS: dict[str, type] = {
    "id": str,
    "title": str,
    "section": str,
    "order": int,
    "tool": str,
    "summary": str,
}

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")

# A lesson file is a page of prose and code: refuse anything larger (a 100 kB file parses in well
# under a second, but nothing legitimate comes near this; see tests).
MAX_LESSON_BYTES = 256 * 1024

EXERCISE_KINDS = ("number", "text", "choice")
EXERCISE_KEYS = ("prompt", "kind", "answer", "tolerance", "choices", "hint", "explain", "check")
# Tools whose [preset] is a training run (TrainConfig's keys): their lessons state a [target]. The
# latent tool trains its preset when it has no autoencoder run to show.
TRAIN_TOOLS = ("train", "latent")
# [target] of a train preset, and the `expect` of a named train preset: key -> (description, test)
TARGET_KEYS = ("val_acc", "loss_drop", "val_loss_below")
EXPECT_KEYS = ("val_acc", "val_acc_below", "loss_drop", "loss_drop_below", "val_loss_below", "val_loss_above",
               "status")
EXPECT_STATUSES = ("finished", "diverged")
# A gan lesson's [target] and named presets' expect (checked by tui_lab.gan.expect_problems)
GAN_EXPECT_KEYS = ("distance_drop", "distance_drop_below", "modes", "modes_below")
# Preset keys that name a model; the value must be the lab's own (zoo model or demo) or torchvision:NAME.
MODEL_KEYS = ("model", "compare", "models")
_CODE_SPEC_RE = re.compile(r"^\s*[A-Za-z_][\w.]*\s*:\s*[A-Za-z_][\w.]*\s*$")
_FENCE_RE = re.compile(r"^(`{3,}|~{3,})\s*([A-Za-z0-9_+-]*)\s*$")
_PYTHON_LANGS = {"python", "py", "python3"}


@dataclass(frozen=True)
class Cell:
    """One code cell; `expected` is the text of the ```output block after it, or None."""

    code: str
    expected: str | None = None

    @property
    def checked(self) -> bool:
        return self.expected is not None


@dataclass(frozen=True)
class Exercise:
    """A predict-then-check question; `check` is a cell whose printed output must match `answer`."""

    number: int  # 1-based, as the file lists them; with the lesson id it names the exercise
    prompt: str
    kind: str  # "number" | "text" | "choice"
    answer: str
    hint: str
    explain: str
    check: str
    tolerance: float | None = None  # number only; None: DEFAULT_RTOL relative
    choices: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "prompt": self.prompt, "kind": self.kind, "answer": self.answer,
                "tolerance": self.tolerance, "choices": list(self.choices), "hint": self.hint,
                "explain": self.explain}


@dataclass(frozen=True)
class NamedPreset:
    """A lesson's extra preset: `values` is `[preset]` with the named table laid over it."""

    name: str
    values: dict[str, Any]
    why: str
    expect: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    section: str
    order: int
    tool: str
    preset: dict[str, Any]
    summary: str
    body: str
    cells: tuple[Cell, ...]
    path: Path
    exercises: tuple[Exercise, ...] = ()
    target: dict[str, float] = field(default_factory=dict)  # train lessons: what `preset` reaches
    presets: dict[str, NamedPreset] = field(default_factory=dict)
    lang: str = "en"  # the language of title, summary, body and exercise texts (see `load_lessons`)
    text_path: Path | None = None  # the translation's file when lang is not "en" (`path` stays the English one)

    def summary_dict(self) -> dict[str, Any]:
        """The plain listing used by `dllab lessons --json`."""
        return {"id": self.id, "title": self.title, "section": self.section, "tool": self.tool, "lang": self.lang,
                "exercises": [exercise.to_json() for exercise in self.exercises],
                "target": dict(self.target),
                "presets": {name: {"why": p.why, "expect": dict(p.expect)} for name, p in self.presets.items()}}

    def preset_named(self, name: str | None) -> dict[str, Any]:
        """The preset called `name` (None or "default": `[preset]`); KeyError when there is none."""
        if name in (None, "", "default"):
            return dict(self.preset)
        return dict(self.presets[name].values)


@dataclass(frozen=True)
class LessonError:
    """A lesson file that could not be loaded; str() is one line 'file: field: message'."""

    path: Path
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.field}: {self.message}"


@dataclass(frozen=True)
class CellResult:
    """What running a cell produced: its printed output, and a one-line error or None."""

    output: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def matches(self, expected: str | None) -> bool:
        """True when the run raised nothing and, if there is an expected output, printed it."""
        if self.error is not None:
            return False
        return expected is None or self.output.strip() == expected.strip()


@dataclass(frozen=True)
class CellFailure:
    """A cell whose run raised or printed something other than its expected output."""

    lesson_id: str
    path: Path
    index: int  # 1-based, as a reader counts cells in the file
    expected: str | None
    output: str
    error: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}: cell {self.index}"
        if self.error is not None:
            return f"{where}: raised {self.error}"
        exp_lines = (self.expected or "").strip().splitlines()
        got_lines = self.output.strip().splitlines()
        for n in range(max(len(exp_lines), len(got_lines))):
            exp = exp_lines[n] if n < len(exp_lines) else "<nothing>"
            got = got_lines[n] if n < len(got_lines) else "<nothing>"
            if exp != got:
                return f"{where}: output line {n + 1}: expected {exp!r}, got {got!r}"
        return f"{where}: output differs"  # pragma: no cover - strip() equality makes this rare


@dataclass(frozen=True)
class ExerciseFailure:
    """An exercise whose check raised, or printed something its answer does not match."""

    lesson_id: str
    path: Path
    number: int  # 1-based
    answer: str
    output: str
    error: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}: exercise {self.number}"
        if self.error is not None:
            return f"{where}: check raised {self.error}"
        got = " ".join(self.output.split())[:200] or "<nothing>"
        return f"{where}: answer is {self.answer!r} but the check printed {got!r}"


@dataclass(frozen=True)
class LessonCrash:
    """A lesson whose checking process was killed or ended without a result."""

    lesson_id: str
    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


Failure = CellFailure | ExerciseFailure | LessonCrash


# ---------------------------------------------------------------------------------------- loading


def lessons_dir() -> Path:
    """The lessons folder: `lessons/` in a checkout, `tui_lab/_lessons` in an installed wheel."""
    package = Path(__file__).resolve().parent
    installed = package / "_lessons"
    if installed.is_dir():
        return installed
    return package.parent / "lessons"


def split_front_matter(text: str) -> tuple[str, str] | None:
    """Split `+++` TOML front matter from the body; None when the file has none."""
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "+++":
        return None
    for n in range(1, len(lines)):
        if lines[n].strip() == "+++":
            return "".join(lines[1:n]), "".join(lines[n + 1 :])
    return None


def parse_cells(body: str) -> tuple[Cell, ...]:
    """Find the ```python blocks of a Markdown body; one followed by ```output is checked."""
    blocks: list[tuple[str, str, int, int]] = []  # (lang, text, first line, last line)
    lines = body.splitlines()
    n = 0
    while n < len(lines):
        indent = len(lines[n]) - len(lines[n].lstrip(" "))
        match = _FENCE_RE.match(lines[n].strip()) if indent <= 3 else None  # Markdown allows 0-3 spaces
        if not match:
            n += 1
            continue
        fence, lang = match.group(1), match.group(2).lower()
        start = n
        content: list[str] = []
        n += 1
        while n < len(lines):
            stripped = lines[n].strip()
            if stripped.startswith(fence[0] * len(fence)) and stripped.strip(fence[0]) == "":
                break
            line = lines[n]
            content.append(line[min(indent, len(line) - len(line.lstrip(" "))):])
            n += 1
        blocks.append((lang, "\n".join(content), start, n))
        n += 1

    cells: list[Cell] = []
    skip = False
    for i, (lang, text, _start, end) in enumerate(blocks):
        if skip:
            skip = False
            continue
        if lang not in _PYTHON_LANGS:
            continue
        expected = None
        if i + 1 < len(blocks):
            next_lang, next_text, next_start, _ = blocks[i + 1]
            between = lines[end + 1 : next_start]
            if next_lang == "output" and all(not line.strip() for line in between):
                expected = next_text
                skip = True
        cells.append(Cell(code=text, expected=expected))
    return tuple(cells)


class _Invalid(Exception):
    """A front-matter problem: (field, message), turned into a LessonError by parse_lesson."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(field_name, message)
        self.field, self.message = field_name, message


def _finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _text(where: str, value: Any, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise _Invalid(where, "missing" if value is None else f"must be a string, got {value!r}"[:200])
    if required and not value.strip():
        raise _Invalid(where, "must not be empty")
    return value


def _parse_exercises(raw: Any) -> tuple[Exercise, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise _Invalid("exercises", "must be an array of tables ([[exercises]])")
    out = []
    for number, item in enumerate(raw, start=1):
        where = f"exercises[{number}]"
        unknown = sorted(set(item) - set(EXERCISE_KEYS))
        if unknown:
            raise _Invalid(f"{where}.{unknown[0]}", f"unknown key; allowed: {', '.join(EXERCISE_KEYS)}")
        kind = item.get("kind")
        if kind not in EXERCISE_KINDS:
            raise _Invalid(f"{where}.kind", f"must be one of {', '.join(EXERCISE_KINDS)}, got {kind!r}"[:200])
        prompt = _text(f"{where}.prompt", item.get("prompt")).strip()
        answer = item.get("answer")
        if kind == "number":
            if _finite_number(answer):
                answer = repr(answer) if isinstance(answer, float) else str(answer)
            if not isinstance(answer, str) or parse_number(answer) is None:
                raise _Invalid(f"{where}.answer", f"must be a finite number for kind = number, got {answer!r}"[:200])
        answer = _text(f"{where}.answer", answer).strip()
        tolerance = item.get("tolerance")
        if tolerance is not None and not (_finite_number(tolerance) and tolerance >= 0):
            raise _Invalid(f"{where}.tolerance", f"must be a finite number >= 0, got {tolerance!r}"[:200])
        choices = item.get("choices", [])
        if not isinstance(choices, list) or not all(isinstance(c, str) and c.strip() for c in choices):
            raise _Invalid(f"{where}.choices", "must be a list of non-empty strings")
        choices = tuple(c.strip() for c in choices)
        if kind == "choice":
            if len(choices) < 2:
                raise _Invalid(f"{where}.choices", "a choice exercise needs at least 2 choices")
            if len({_normal(c) for c in choices}) != len(choices):
                raise _Invalid(f"{where}.choices", "has duplicates")
            if _normal(answer) not in {_normal(c) for c in choices}:
                raise _Invalid(f"{where}.answer", f"{answer!r} is not one of the choices {list(choices)}"[:200])
        elif choices:
            raise _Invalid(f"{where}.choices", f"only a choice exercise has choices (this one is kind = {kind})")
        out.append(Exercise(
            number=number, prompt=prompt, kind=kind, answer=answer,
            hint=_text(f"{where}.hint", item.get("hint")).strip(),
            explain=_text(f"{where}.explain", item.get("explain")).strip(),
            check=_text(f"{where}.check", item.get("check")),
            tolerance=None if tolerance is None else float(tolerance), choices=choices,
        ))
    return tuple(out)


def _check_names(where: str, preset: dict[str, Any]) -> None:
    """Lessons are data: a preset names the lab's own models, never `module:callable` (that imports code)."""
    for key in MODEL_KEYS:
        values = preset.get(key)
        if key == "model" and values is not None and not isinstance(values, str):
            raise _Invalid(f"{where}.model", f"must name a model as a string, got {values!r}"[:200])
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, str) and ":" in value and not value.strip().lower().startswith("torchvision:"):
                raise _Invalid(f"{where}.{key}", f"{value[:80]!r}: a lesson may name only the lab's own models "
                                                 "and demos (or torchvision:NAME), never module:callable")
            if value is not None and not isinstance(value, str):
                raise _Invalid(f"{where}.{key}", f"must name a model as a string, got {value!r}"[:200])
    for key, value in preset.items():
        if isinstance(value, str) and _CODE_SPEC_RE.match(value) and not value.strip().lower().startswith("torchvision:"):
            raise _Invalid(f"{where}.{key}", f"{value[:80]!r} looks like module:callable; a lesson names "
                                             "only the lab's own models, demos and data sets")


def _outcome_table(where: str, raw: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _Invalid(where, f"must be a table, got {type(raw).__name__}")
    if not raw:
        raise _Invalid(where, f"is empty; give one of {', '.join(allowed)}")
    for key, value in raw.items():
        if key not in allowed:
            raise _Invalid(f"{where}.{key}", f"unknown key; allowed: {', '.join(allowed)}")
        if key == "status":
            if value not in EXPECT_STATUSES:
                raise _Invalid(f"{where}.status", f"must be one of {', '.join(EXPECT_STATUSES)}, got {value!r}"[:200])
            continue
        if not _finite_number(value):
            raise _Invalid(f"{where}.{key}", f"must be a finite number, got {value!r}"[:200])
        if key.startswith("val_acc") and not 0 <= value <= 1:
            raise _Invalid(f"{where}.{key}", f"is a fraction in [0, 1], got {value!r}")
        if key.startswith("loss_drop") and value <= 0:
            raise _Invalid(f"{where}.{key}", f"is a factor > 0 (first / last epoch's train loss), got {value!r}")
    return dict(raw)


def _parse_presets(meta: dict[str, Any], tool: str, preset: dict[str, Any]) -> tuple[dict, dict[str, NamedPreset]]:
    _check_names("preset", preset)
    target: dict[str, Any] = {}
    if "target" in meta:
        if tool not in (*TRAIN_TOOLS, "gan"):
            raise _Invalid("target", f"only a train, latent or gan lesson's preset has a target (this lesson opens {tool})")
        target = _outcome_table("target", meta["target"], TARGET_KEYS if tool in TRAIN_TOOLS else GAN_EXPECT_KEYS)
    raw = meta.get("presets", {})
    if not isinstance(raw, dict):
        raise _Invalid("presets", "must be tables [presets.NAME]")
    named: dict[str, NamedPreset] = {}
    for name, table in raw.items():
        where = f"presets.{name}"
        if not _ID_RE.match(name) or name == "default":
            raise _Invalid(where, "a preset name is lowercase letters, digits and '-' (and not 'default')")
        if not isinstance(table, dict):
            raise _Invalid(where, f"must be a table, got {type(table).__name__}")
        values = dict(table)
        why = _text(f"{where}.why", values.pop("why", None)).strip()
        expect: dict[str, Any] = {}
        if "expect" in values:
            if tool not in (*TRAIN_TOOLS, "gan"):
                raise _Invalid(f"{where}.expect", f"only a train, latent or gan preset has an expected outcome (this lesson opens {tool})")
            expect = _outcome_table(f"{where}.expect", values.pop("expect"),
                                    EXPECT_KEYS if tool in TRAIN_TOOLS else GAN_EXPECT_KEYS)
        elif tool == "train":
            raise _Invalid(f"{where}.expect", f"missing; a named train preset says what it shows: {', '.join(EXPECT_KEYS)}")
        merged = {**preset, **values}
        _check_names(where, merged)
        named[name] = NamedPreset(name, merged, why, expect)
    return target, named


def parse_lesson(path: Path, text: str) -> Lesson | LessonError:
    """Parse one lesson file's text; a problem becomes a LessonError naming the field."""
    split = split_front_matter(text)
    if split is None:
        return LessonError(path, "front matter", "the file must start with TOML between '+++' lines")
    front, body = split
    try:
        meta = tomllib.loads(front)
    except tomllib.TOMLDecodeError as exc:
        return LessonError(path, "front matter", f"invalid TOML: {exc}")

    for name, kind in REQUIRED_FIELDS.items():
        if name not in meta:
            return LessonError(path, name, "missing; every lesson needs " + ", ".join(REQUIRED_FIELDS))
        value = meta[name]
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            return LessonError(path, name, f"must be an integer, got {value!r}")
        if kind is str and not isinstance(value, str):
            return LessonError(path, name, f"must be a string, got {value!r}")
        if kind is str and not value.strip():
            return LessonError(path, name, "must not be empty")
    if not _ID_RE.match(meta["id"]):
        return LessonError(path, "id", f"must be lowercase letters, digits and '-', got {meta['id']!r}")
    if meta["tool"] not in TOOLS:
        return LessonError(path, "tool", f"unknown tool {meta['tool']!r}; allowed: {', '.join(TOOLS)}")
    preset = meta.get("preset", {})
    if not isinstance(preset, dict):
        return LessonError(path, "preset", f"must be a table ([preset]), got {type(preset).__name__}")
    try:
        target, presets = _parse_presets(meta, meta["tool"], preset)
        exercises = _parse_exercises(meta.get("exercises"))
    except _Invalid as exc:
        return LessonError(path, exc.field, exc.message)

    return Lesson(
        id=meta["id"],
        title=meta["title"].strip(),
        section=meta["section"].strip(),
        order=meta["order"],
        tool=meta["tool"],
        preset=dict(preset),
        summary=meta["summary"].strip(),
        body=body,
        cells=parse_cells(body),
        path=path,
        exercises=exercises,
        target=target,
        presets=presets,
    )


def read_lesson(path: Path) -> Lesson | LessonError:
    """Read and parse one lesson file; too large, unreadable or malformed gives a LessonError."""
    try:
        size = path.stat().st_size
        if size > MAX_LESSON_BYTES:
            return LessonError(path, "file", f"is {size:,} bytes; a lesson may be at most {MAX_LESSON_BYTES:,} bytes")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return LessonError(path, "file", f"cannot be read: {exc}")
    return parse_lesson(path, text)


def load_lessons(directory: Path | None = None, lang: str = "en") -> tuple[list[Lesson], list[LessonError]]:
    """Load every `*.md` lesson in `directory` (default `lessons_dir()`), sorted by order then id.

    Never raises for a bad file: it becomes a LessonError and the other lessons still load.
    With `lang` other than "en", each lesson is read from `directory/<lang>/<same file name>` when that
    translation exists and agrees with the English lesson (`translate_lesson`); else the English lesson
    is used (its section name translated by `<lang>/SECTIONS.toml`), and a translation that disagrees is
    also reported as a LessonError.
    """
    directory = lessons_dir() if directory is None else Path(directory)
    lessons, errors = _load_english(directory)
    if lang == "en" or not lessons:
        return lessons, errors
    translated: list[Lesson] = []
    sections = section_names(directory, lang)
    for lesson in lessons:
        result = translate_lesson(lesson, directory / lang / lesson.path.name, lang)
        if isinstance(result, LessonError):
            errors.append(result)
            result = None
        if result is None:
            result = replace(lesson, section=sections.get(lesson.section, lesson.section))
        translated.append(result)
    return translated, errors


# Front-matter keys a translation changes; everything else is the English file's (ZH_FORMAT.md).
TRANSLATED_KEYS = ("title", "section", "summary")
TRANSLATED_EXERCISE_KEYS = ("prompt", "hint", "explain")


def section_names(directory: Path, lang: str) -> dict[str, str]:
    """English section name -> its name in `lang` (`directory/<lang>/SECTIONS.toml`); {} when none."""
    path = Path(directory) / lang / "SECTIONS.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    return {str(k): str(v) for k, v in raw.items() if isinstance(v, str)}


def translation_problem(english: Lesson, translated: Lesson) -> tuple[str, str] | None:
    """(field, message) for the first thing a translation changes that it must share with the English
    lesson (id, order, tool, presets, target, cells, exercise kind/answer/check/choices/tolerance);
    None when it shares them all."""
    for name in ("id", "order", "tool", "preset", "target"):
        if getattr(english, name) != getattr(translated, name):
            return name, f"differs from the English lesson's ({getattr(english, name)!r})"[:200]
    if set(english.presets) != set(translated.presets):
        return "presets", f"names differ from the English lesson's ({sorted(english.presets)})"
    for name, preset in english.presets.items():
        other = translated.presets[name]
        if (preset.values, preset.expect) != (other.values, other.expect):
            return f"presets.{name}", "differs from the English lesson's"
    if len(english.cells) != len(translated.cells):
        return "cells", f"{len(translated.cells)} code cells, the English lesson has {len(english.cells)}"
    for n, (a, b) in enumerate(zip(english.cells, translated.cells), start=1):
        if a != b:
            return f"cell {n}", "differs from the English lesson's (cells are copied verbatim)"
    if len(english.exercises) != len(translated.exercises):
        return "exercises", f"{len(translated.exercises)} exercises, the English lesson has {len(english.exercises)}"
    for ex_en, ex_tr in zip(english.exercises, translated.exercises):
        for key in ("kind", "answer", "check", "choices", "tolerance"):
            if getattr(ex_en, key) != getattr(ex_tr, key):
                return f"exercises[{ex_en.number}].{key}", "differs from the English lesson's"
    return None


def translate_lesson(english: Lesson, path: Path, lang: str) -> Lesson | LessonError | None:
    """The lesson in `lang` from its translation at `path`: the English lesson with the translated texts.

    None when there is no such file; a LessonError when it cannot be read or does not share the English
    lesson's cells, presets and exercises (`translation_problem`). The cells, presets and exercise
    checks of the result are the English lesson's own objects, so what runs is what `--check` checks.
    """
    if not path.exists():
        return None
    parsed = read_lesson(path)
    if isinstance(parsed, LessonError):
        return parsed
    problem = translation_problem(english, parsed)
    if problem is not None:
        return LessonError(path, problem[0], problem[1])
    exercises = tuple(replace(en, prompt=tr.prompt, hint=tr.hint, explain=tr.explain)
                      for en, tr in zip(english.exercises, parsed.exercises))
    presets = {name: replace(preset, why=parsed.presets[name].why) for name, preset in english.presets.items()}
    return replace(english, title=parsed.title, section=parsed.section, summary=parsed.summary, body=parsed.body,
                   exercises=exercises, presets=presets, lang=lang, text_path=path)


def _load_english(directory: Path) -> tuple[list[Lesson], list[LessonError]]:
    lessons: list[Lesson] = []
    errors: list[LessonError] = []
    if not directory.is_dir():
        return [], [LessonError(directory, "directory", "no lessons folder here")]
    seen: dict[str, Path] = {}
    for path in sorted(directory.glob("*.md")):
        result = read_lesson(path)
        if isinstance(result, LessonError):
            errors.append(result)
            continue
        if result.id in seen:
            errors.append(LessonError(path, "id", f"duplicate id {result.id!r}, also in {seen[result.id].name}"))
            continue
        seen[result.id] = path
        lessons.append(result)
    lessons.sort(key=lambda lesson: (lesson.order, lesson.id))
    return lessons, errors


def find_lesson(lesson_id: str, directory: Path | None = None, lang: str = "en") -> Lesson | None:
    """The lesson with this id (in `lang` where translated), or None."""
    lessons, _ = load_lessons(directory, lang)
    return next((lesson for lesson in lessons if lesson.id == lesson_id), None)


# ---------------------------------------------------------------------------------------- train presets

# The keys a train preset may set: TrainConfig's own, plus the model options written flat or nested.
TRAIN_PRESET_KEYS = ("model", "dataset", "optimizer", "lr", "epochs", "batch_size", "seed", "weight_decay",
                     "momentum", "device", "model_options", "schedule", "warmup")
MODEL_OPTION_KEYS = ("hidden", "activation", "dropout", "batch_norm", "latent")


def train_config_kwargs(values: dict[str, Any], where: str = "preset") -> dict[str, Any]:
    """TrainConfig keyword arguments for a train preset; ConfigError names a key that is not a setting."""
    from tui_lab.errors import ConfigError

    kwargs: dict[str, Any] = {}
    options = dict(values.get("model_options") or {})
    for key, value in values.items():
        if key in MODEL_OPTION_KEYS:
            options[key] = value
        elif key in TRAIN_PRESET_KEYS:
            if key != "model_options":
                kwargs[key] = value
        else:
            raise ConfigError(f"{where}.{key}", "is not a train setting; allowed: "
                                                + ", ".join(TRAIN_PRESET_KEYS + MODEL_OPTION_KEYS))
    if options:
        kwargs["model_options"] = options
    return kwargs


def outcome_problems(spec: dict[str, Any], epochs: list[dict[str, Any]], status: str) -> list[str]:
    """What a run missed of a `[target]` or a named preset's `expect`; [] when it meets all of it.

    `epochs` are the run's epoch rows (train_loss, val_loss, val_acc), `status` how it ended. A target
    (no `status` key) also needs the run to have finished; `expect` may ask for "diverged".
    """
    problems: list[str] = []
    wanted = spec.get("status", "finished")
    if status != wanted:
        problems.append(f"status: the run {status}, expected {wanted}")
        if status != "finished" or not epochs:
            return problems
    if not epochs:
        return problems + ["no epoch finished"]
    first, last = epochs[0], epochs[-1]

    def num(row: dict[str, Any], key: str) -> float:
        value = row.get(key)
        return math.nan if value is None else float(value)

    drop = num(first, "train_loss") / num(last, "train_loss") if num(last, "train_loss") > 0 else math.inf
    tests = {
        "val_acc": (num(last, "val_acc"), lambda x, t: x >= t, ">="),
        "val_acc_below": (num(last, "val_acc"), lambda x, t: x < t, "<"),
        "loss_drop": (drop, lambda x, t: x >= t, ">="),
        "loss_drop_below": (drop, lambda x, t: x < t, "<"),
        "val_loss_below": (num(last, "val_loss"), lambda x, t: x < t, "<"),
        "val_loss_above": (num(last, "val_loss"), lambda x, t: x > t, ">"),
    }
    for key, threshold in spec.items():
        if key == "status":
            continue
        value, ok, op = tests[key]
        if not ok(value, threshold):
            name = key.removesuffix("_below").removesuffix("_above")
            problems.append(f"{key}: {name} is {value:.4g}, expected {op} {threshold:g}")
    return problems


# ---------------------------------------------------------------------------------------- judging

DEFAULT_RTOL = 1e-6  # a number exercise without `tolerance`: equal up to this relative error
_NUMBER_RE = re.compile(r"^[+-]?(\d[\d_]*\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_SHAPE_WRAPPERS = ("torch.size(", "size(")


def parse_number(text: str) -> float | None:
    """A finite number from what a learner types: 0.5, .5, -3, 1e-3, 1_000, 50%, 3/4; else None."""
    t = text.strip().replace(" ", "")
    if not t or len(t) > 100:
        return None
    scale = 1.0
    if t.endswith("%"):
        t, scale = t[:-1], 0.01
    if t.count("/") == 1:
        num, den = (parse_number(part) for part in t.split("/"))
        if num is None or not den:
            return None
        value = num / den
    elif _NUMBER_RE.match(t):
        value = float(t)
    else:
        return None
    value *= scale
    return value if math.isfinite(value) else None


def parse_shape(text: str) -> tuple[int, ...] | None:
    """A shape from '(5, 7)', '5x7', '5 x 7', '[5, 7]', 'torch.Size([5, 7])', '(5,)'; else None."""
    t = text.strip().lower()
    for wrapper in _SHAPE_WRAPPERS:
        if t.startswith(wrapper) and t.endswith(")"):
            t = t[len(wrapper):-1].strip()
    if len(t) > 200:
        return None
    while len(t) >= 2 and t[0] + t[-1] in ("()", "[]"):
        t = t[1:-1].strip()
    parts = re.split(r"\s*[x×,]\s*|\s+", t)
    if parts and parts[-1] == "":
        parts = parts[:-1]  # (5,)
    if not parts or not all(part.isdigit() for part in parts):
        return None
    return tuple(int(part) for part in parts)


def _normal(text: str) -> str:
    """Case and whitespace do not matter; quotes around the whole answer do not either."""
    t = " ".join(text.strip().split()).lower()
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"`":
        t = t[1:-1].strip()
    return t


@dataclass(frozen=True)
class Verdict:
    """How a typed answer compares: `correct`, or `understood` False when it cannot be read."""

    correct: bool
    message: str
    understood: bool = True


def judge(exercise: Exercise, typed: str) -> Verdict:
    """Mark what a learner typed (or what a check printed) against the exercise's answer.

    number: both parsed as numbers, within `tolerance` (absolute) or DEFAULT_RTOL relative.
    text: shapes compare as tuples ('(5, 7)' == '5x7' == 'torch.Size([5, 7])'), numbers as numbers,
    anything else after ignoring case and runs of whitespace.
    choice: the choice's text, or its number in the list (1-based).
    """
    given = typed.strip()
    if not given:
        return Verdict(False, "type your prediction first", understood=False)
    if exercise.kind == "number":
        x, parsed = parse_number(given), parse_number(exercise.answer)
        want = math.nan if parsed is None else parsed  # the loader made sure the answer is a number
        if x is None:
            return Verdict(False, f"not a number: {given[:40]!r} (e.g. 0.5, 1e-3, 3/4)", understood=False)
        tol = exercise.tolerance if exercise.tolerance is not None else DEFAULT_RTOL * max(1.0, abs(want))
        ok = abs(x - want) <= tol + 1e-12 * max(1.0, abs(want))
        return Verdict(ok, "right" if ok else "not quite")
    if exercise.kind == "choice":
        options = {_normal(c): c for c in exercise.choices}
        pick = options.get(_normal(given))
        if pick is None and given.isdigit() and 1 <= int(given) <= len(exercise.choices):
            pick = exercise.choices[int(given) - 1]
        if pick is None:
            return Verdict(False, "pick one of: " + ", ".join(exercise.choices), understood=False)
        ok = _normal(pick) == _normal(exercise.answer)
        return Verdict(ok, "right" if ok else f"not {pick}")
    shape_given, shape_want = parse_shape(given), parse_shape(exercise.answer)
    if shape_want is not None and len(shape_want) > 1:
        ok = shape_given == shape_want
        return Verdict(ok, "right" if ok else "not quite")
    num_given, num_want = parse_number(given), parse_number(exercise.answer)
    if num_want is not None and num_given is not None:
        ok = abs(num_given - num_want) <= 1e-9 * max(1.0, abs(num_want))
        return Verdict(ok, "right" if ok else "not quite")
    ok = _normal(given) == _normal(exercise.answer)
    return Verdict(ok, "right" if ok else "not quite")


# ---------------------------------------------------------------------------------------- running


def _error_line(exc: BaseException, filename: str) -> str:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        line, message = exc.lineno, exc.msg or message
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return f"{text} (line {line})" if line is not None else text


def _execute(code: str, namespace: dict, buffer: io.StringIO, filename: str) -> None:
    def cell_print(*args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("file", buffer)
        builtins.print(*args, **kwargs)

    namespace.setdefault("__name__", "__cell__")
    namespace["print"] = cell_print
    tree = ast.parse(code, filename=filename, mode="exec")
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        final = tree.body.pop()
        assert isinstance(final, ast.Expr)
        last = ast.Expression(final.value)
    exec(compile(tree, filename, "exec"), namespace)  # noqa: S102 - running the learner's cell is the point
    if last is not None:
        value = eval(compile(last, filename, "eval"), namespace)  # noqa: S307
        if value is not None:
            buffer.write(repr(value) + "\n")


def run_cell(code: str, namespace: dict | None = None, timeout: float = 60) -> CellResult:
    """Run one cell's code and capture what it prints (and a final expression's repr).

    Printing goes through a `print` placed in the cell's namespace, so a run in a worker thread
    never touches `sys.stdout`. `error` is a one-line summary of an exception, or of a timeout
    (the cell's thread is then left to finish on its own; Python cannot stop it).
    """
    namespace = {} if namespace is None else namespace
    buffer = io.StringIO()
    filename = "<cell>"
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            _execute(code, namespace, buffer, filename)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - any failure of learner code is reported
            outcome.append(exc)

    thread = threading.Thread(target=target, name="lesson-cell", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        return CellResult(buffer.getvalue(), f"TimeoutError: cell still running after {timeout:g} s")
    exc = outcome[0] if outcome else None
    return CellResult(buffer.getvalue(), None if exc is None else _error_line(exc, filename))


@contextmanager
def _one_torch_thread() -> Iterator[None]:
    # Lesson cells use tiny tensors: one intra-op thread is as fast, and on a busy machine it avoids
    # OpenMP threads spinning against other processes (a 2-core box under load ran 10x slower).
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def _default_dtype_kept() -> Iterator[None]:
    # A cell that calls torch.set_default_dtype must not change the next cell's results.
    try:
        import torch
    except ImportError:  # pragma: no cover
        yield
        return
    before = torch.get_default_dtype()
    try:
        yield
    finally:
        torch.set_default_dtype(before)


def _check_items(lesson: Lesson) -> list[tuple[str, int, str]]:
    """What checking a lesson runs, in order: ("cell", n, code) then ("exercise", n, check)."""
    return [("cell", n, cell.code) for n, cell in enumerate(lesson.cells, start=1)] + [
        ("exercise", ex.number, ex.check) for ex in lesson.exercises
    ]


def check_lesson(lesson: Lesson, timeout: float = 60, on_start: Any = None) -> list[Failure]:
    """Run every cell and every exercise check of a lesson, each in its own namespace.

    A cell fails when it raises or prints other than its expected output; an exercise when its
    check raises or prints what `judge` does not accept as the answer. This runs in the calling
    process (tests, the snippets screen); `dllab lessons --check` uses `check_all`, which runs each
    lesson in a process of its own. Torch runs on one intra-op thread (restored afterwards), and the
    default dtype is restored after each cell. `on_start(kind, n)` is called before each item.
    """
    failures: list[Failure] = []
    exercises = {ex.number: ex for ex in lesson.exercises}
    with _one_torch_thread():
        for kind, n, code in _check_items(lesson):
            if on_start is not None:
                on_start(kind, n)
            with _default_dtype_kept():
                result = run_cell(code, timeout=timeout)
            if kind == "cell":
                cell = lesson.cells[n - 1]
                if not result.matches(cell.expected):
                    failures.append(CellFailure(lesson.id, lesson.path, n, cell.expected, result.output, result.error))
                continue
            exercise = exercises[n]
            if result.error is not None or not judge(exercise, result.output).correct:
                failures.append(ExerciseFailure(lesson.id, lesson.path, n, exercise.answer, result.output, result.error))
    return failures


@dataclass(frozen=True)
class CheckReport:
    """The outcome of checking a set of lessons."""

    lessons: int
    cells: int
    checked_cells: int
    failures: tuple[Failure, ...] = field(default_factory=tuple)
    errors: tuple[LessonError, ...] = field(default_factory=tuple)
    exercises: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures and not self.errors
