"""Lessons: load the Markdown files under `lessons/`, validate them, and run their code cells.

A lesson is Markdown with TOML front matter between `+++` lines (id, title, section, order, tool,
summary and a `[preset]` table for the tool it opens). A ```python block followed directly by an
```output block is a checked cell. Loading never runs code; `run_cell` runs one cell on demand.

Every cell runs in a fresh namespace of its own: a cell imports what it needs and never relies on
an earlier cell. The checker (`check_lesson`, `dllab lessons --check`) and the snippets screen run
cells the same way. Output is what the cell prints, plus the repr of a final bare expression
(as a notebook shows it); it is compared with the expected output after stripping both ends.
"""

from __future__ import annotations

import ast
import builtins
import io
import re
import threading
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

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

    def summary_dict(self) -> dict[str, Any]:
        """The plain listing used by `dllab lessons --json`."""
        return {"id": self.id, "title": self.title, "section": self.section, "tool": self.tool}


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
    )


def load_lessons(directory: Path | None = None) -> tuple[list[Lesson], list[LessonError]]:
    """Load every `*.md` lesson in `directory` (default `lessons_dir()`), sorted by order then id.

    Never raises for a bad file: it becomes a LessonError and the other lessons still load.
    """
    directory = lessons_dir() if directory is None else Path(directory)
    lessons: list[Lesson] = []
    errors: list[LessonError] = []
    if not directory.is_dir():
        return [], [LessonError(directory, "directory", "no lessons folder here")]
    seen: dict[str, Path] = {}
    for path in sorted(directory.glob("*.md")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(LessonError(path, "file", f"cannot be read: {exc}"))
            continue
        result = parse_lesson(path, text)
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


def find_lesson(lesson_id: str, directory: Path | None = None) -> Lesson | None:
    """The lesson with this id, or None."""
    lessons, _ = load_lessons(directory)
    return next((lesson for lesson in lessons if lesson.id == lesson_id), None)


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
        last = ast.Expression(tree.body.pop().value)
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


def check_lesson(lesson: Lesson, timeout: float = 60) -> list[CellFailure]:
    """Run every cell of a lesson in its own namespace; failures are raised or mismatched cells.

    Torch runs on one intra-op thread while checking (restored afterwards).
    """
    failures: list[CellFailure] = []
    with _one_torch_thread():
        for index, cell in enumerate(lesson.cells, start=1):
            result = run_cell(cell.code, timeout=timeout)
            if not result.matches(cell.expected):
                failures.append(
                    CellFailure(lesson.id, lesson.path, index, cell.expected, result.output, result.error)
                )
    return failures


@dataclass(frozen=True)
class CheckReport:
    """The outcome of checking a set of lessons."""

    lessons: int
    cells: int
    checked_cells: int
    failures: tuple[CellFailure, ...] = field(default_factory=tuple)
    errors: tuple[LessonError, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.errors


def check_all(directory: Path | None = None, timeout: float = 60) -> CheckReport:
    """Load and check every lesson; broken files are reported along with failing cells."""
    lessons, errors = load_lessons(directory)
    failures: list[CellFailure] = []
    for lesson in lessons:
        failures.extend(check_lesson(lesson, timeout=timeout))
    return CheckReport(
        lessons=len(lessons),
        cells=sum(len(lesson.cells) for lesson in lessons),
        checked_cells=sum(1 for lesson in lessons for cell in lesson.cells if cell.checked),
        failures=tuple(failures),
        errors=tuple(errors),
    )
