"""A scatter of 2-D points coloured by label, drawn with half blocks (two pixels per cell).

`LatentScatter.show(points, highlight)` takes `tui_lab.autoencoder.Point`s; each pixel takes the
colour of the most frequent label among its points (`autoencoder.scatter_pixels`, computed for the
widget's size when it is drawn), and the highlighted point is drawn white on top. The label colours
are data (Tableau's ten), like the decision map's class colours.
"""

from __future__ import annotations

from typing import Sequence

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

from tui_lab.ui.widgets.decision_map import BACKGROUND, half_block_row

LABEL_COLOURS = ((78, 121, 167), (242, 142, 43), (225, 87, 89), (118, 183, 178), (89, 161, 79),
                 (237, 201, 72), (176, 122, 161), (255, 157, 167), (156, 117, 95), (186, 176, 172))
HIGHLIGHT = (255, 255, 255)


def label_colour(label: int) -> tuple[int, int, int]:
    return BACKGROUND if label < 0 else LABEL_COLOURS[label % len(LABEL_COLOURS)]


def legend(names: Sequence[str]) -> Text:
    """`■0 ■1 … ■9`: each label's name after a swatch of its colour."""
    text = Text(no_wrap=True, overflow="ellipsis")
    for k, name in enumerate(names):
        if k:
            text.append(" ")
        text.append("■", style=Style(color=Color.from_rgb(*label_colour(k))))
        text.append(str(name)[:8])
    return text


class LatentScatter(Widget, can_focus=False):
    """Points coloured by label; one of them (the selected example) in white."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.points: list = []
        self.highlight: int | None = None
        self._grid: list[list[tuple[int, int, int]]] = []
        self._grid_size: tuple[int, int] = (0, 0)
        self._styles: dict[tuple, Style] = {}

    def show(self, points: Sequence, highlight: int | None = None) -> None:
        self.points = list(points)
        self.highlight = highlight
        self._grid_size = (0, 0)
        self.refresh()

    def pixels(self, cols: int, rows: int) -> list[list[tuple[int, int, int]]]:
        """The RGB colour of every pixel of a cols x rows drawing (the highlight included)."""
        from tui_lab.autoencoder import bounds, pixel_of, scatter_pixels

        if (cols, rows) != self._grid_size:
            box = bounds(self.points)
            grid = [[label_colour(v) for v in row] for row in scatter_pixels(self.points, cols, rows, box)]
            if self.highlight is not None and 0 <= self.highlight < len(self.points):
                p = self.points[self.highlight]
                r, c = pixel_of(p.x, p.y, box, cols, rows)
                grid[r][c] = HIGHLIGHT
            self._grid, self._grid_size = grid, (cols, rows)
        return self._grid

    def _style(self, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Style:
        key = (top, bottom)
        style = self._styles.get(key)
        if style is None:
            style = self._styles[key] = Style(color=Color.from_rgb(*top), bgcolor=Color.from_rgb(*bottom))
        return style

    def render_line(self, y: int) -> Strip:
        width, height = self.size.width, self.size.height
        if not self.points or width < 1 or height < 1:
            text = "no points yet" if y == 0 else ""
            return Strip([Segment(text, self.rich_style)]).adjust_cell_length(width, self.rich_style)
        grid = self.pixels(width, 2 * height)
        if 2 * y + 1 >= len(grid):
            return Strip.blank(width, self.rich_style)
        top, bottom = grid[2 * y], grid[2 * y + 1]
        return half_block_row(top, bottom, self._style, width, self.rich_style)
