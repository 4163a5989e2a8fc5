"""A matrix drawn as a grid of right-aligned numbers, with cells marked (window, padding, ...).

`MatrixGrid.show(cells, marks)` takes the cell texts and a {(row, col): mark names} map; each mark
is a component class (`matrix-grid--window`, `--pad`, `--focus`, `--pending`, `--scatter`) styled
from the screen's .tcss. `render_grid` does the same without a widget (used by the benchmark).
"""

from __future__ import annotations

from typing import Callable, Iterable, Mapping, Sequence

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

MARKS = ("window", "pad", "focus", "pending", "scatter")

Marks = Mapping[tuple[int, int], Iterable[str]]


def render_grid(
    cells: Sequence[Sequence[str]],
    marks: Marks,
    style_of: Callable[[tuple[str, ...]], Style],
    width: int | None = None,
) -> Text:
    """The grid as rich Text: each cell right-aligned in `width` characters after one space."""
    if width is None:
        width = max((len(c) for row in cells for c in row), default=1)
    text = Text(no_wrap=True, overflow="crop", end="")
    cache: dict[tuple[str, ...], Style] = {}
    for r, row in enumerate(cells):
        if r:
            text.append("\n")
        for c, cell in enumerate(row):
            chunk = " " + cell.rjust(width)
            names = marks.get((r, c))
            if names:
                key = tuple(names)
                style = cache.get(key)
                if style is None:
                    style = cache[key] = style_of(key)
                text.append(chunk, style)
            else:
                text.append(chunk)
    return text


class MatrixGrid(Static):
    """A grid of numbers; marked cells take the styles of their component classes."""

    COMPONENT_CLASSES = {f"matrix-grid--{m}" for m in MARKS}

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes)
        self.cells: list[list[str]] = []
        self.marks: dict[tuple[int, int], tuple[str, ...]] = {}
        self.cell_width = 1

    def style_for(self, names: tuple[str, ...]) -> Style:
        style = Style()
        for name in names:
            style += self.get_component_rich_style(f"matrix-grid--{name}", partial=True, default=Style())
        return style

    def show(self, cells: Sequence[Sequence[str]], marks: Marks | None = None, width: int | None = None) -> None:
        """Draw `cells` (texts) with `marks` {(row, col): names}; `width` fixes the cell width."""
        self.cells = [list(row) for row in cells]
        self.marks = {k: tuple(v) for k, v in (marks or {}).items()}
        self.cell_width = width or max((len(c) for row in cells for c in row), default=1)
        self.update(render_grid(self.cells, self.marks, self.style_for, self.cell_width))

    def cell_region(self, row: int, col: int) -> tuple[int, int, int]:
        """(x, y, cell width) of a cell inside the widget, for scrolling it into view."""
        return 1 + col * (self.cell_width + 1), row, self.cell_width
