"""A matrix drawn as a grid of right-aligned numbers, with cells marked (window, padding, ...).

`MatrixGrid.show(cells, marks)` takes the cell texts and a {(row, col): mark names} map; each mark
is a component class (`matrix-grid--window`, `--pad`, `--focus`, `--pending`, `--scatter`) styled
from the screen's .tcss. Rows are drawn with the Line API, so only the visible rows of a large grid
(28x28 and up, inside a scrolling box) cost anything to paint.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

MARKS = ("window", "pad", "focus", "pending", "scatter")

Marks = Mapping[tuple[int, int], Iterable[str]]


def row_segments(row: Sequence[str], marks_row: Mapping[int, Style], width: int, base: Style) -> list[Segment]:
    """One grid row as segments: each cell right-aligned in `width` after one space; runs of
    unmarked cells share one segment."""
    segments: list[Segment] = []
    plain: list[str] = []
    for c, cell in enumerate(row):
        chunk = " " + cell.rjust(width)
        style = marks_row.get(c)
        if style is None:
            plain.append(chunk)
            continue
        if plain:
            segments.append(Segment("".join(plain), base))
            plain = []
        segments.append(Segment(chunk, base + style))
    if plain:
        segments.append(Segment("".join(plain), base))
    return segments


class MatrixGrid(Widget):
    """A grid of numbers; marked cells take the styles of their component classes."""

    COMPONENT_CLASSES = {f"matrix-grid--{m}" for m in MARKS}

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.cells: list[list[str]] = []
        self.marks: dict[tuple[int, int], tuple[str, ...]] = {}
        self.cell_width = 1
        self._row_marks: dict[int, dict[int, tuple[str, ...]]] = {}
        self._styles: dict[tuple[str, ...], Style] = {}
        self._strips: dict[int, Strip] = {}

    def style_for(self, names: tuple[str, ...]) -> Style:
        style = self._styles.get(names)
        if style is None:
            style = Style()
            for name in names:
                style += self.get_component_rich_style(f"matrix-grid--{name}", partial=True, default=Style())
            self._styles[names] = style
        return style

    def on_mount(self) -> None:
        self.watch(self.app, "theme", lambda *_: self._restyle(), init=False)

    def on_resize(self) -> None:
        self._strips.clear()

    def _restyle(self) -> None:
        self._styles.clear()
        self._strips.clear()
        self.refresh()

    def show(self, cells: Sequence[Sequence[str]], marks: Marks | None = None, width: int | None = None) -> None:
        """Draw `cells` (texts) with `marks` {(row, col): names}; `width` fixes the cell width.

        Only rows whose texts or marks changed are repainted, so a step costs a few rows."""
        old_size, old_width = self.grid_size, self.cell_width
        old_cells, old_row_marks = self.cells, self._row_marks
        self.cells = [list(row) for row in cells]
        self.marks = {k: tuple(v) for k, v in (marks or {}).items()}
        self.cell_width = width or max((len(c) for row in cells for c in row), default=1)
        self._row_marks = {}
        for (r, c), names in self.marks.items():
            self._row_marks.setdefault(r, {})[c] = names
        if self.grid_size != old_size or self.cell_width != old_width:
            self._strips.clear()
            self.refresh(layout=True)
            return
        dirty = [y for y, row in enumerate(self.cells)
                 if row != old_cells[y] or self._row_marks.get(y) != old_row_marks.get(y)]
        for y in dirty:
            self._strips.pop(y, None)
        if dirty:
            self.refresh(*(Region(0, y, self.size.width, 1) for y in dirty))

    @property
    def grid_size(self) -> Size:
        cols = max((len(row) for row in self.cells), default=0)
        return Size(cols * (self.cell_width + 1), len(self.cells))

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self.grid_size.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self.grid_size.height

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if y >= len(self.cells):
            return Strip.blank(width, base)
        strip = self._strips.get(y)
        if strip is None:
            marks_row = {c: self.style_for(n) for c, n in self._row_marks.get(y, {}).items()}
            segments = row_segments(self.cells[y], marks_row, self.cell_width, base)
            strip = Strip(segments).adjust_cell_length(width, base)
            self._strips[y] = strip
        return strip

    def row_text(self, y: int) -> str:
        """The plain text of a row (for tests and the benchmark)."""
        return "".join(" " + c.rjust(self.cell_width) for c in self.cells[y])

    def cell_region(self, row: int, col: int) -> tuple[int, int, int]:
        """(x, y, cell width) of a cell inside the widget, for scrolling it into view."""
        return 1 + col * (self.cell_width + 1), row, self.cell_width
