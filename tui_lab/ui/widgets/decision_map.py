"""A classifier's decision map drawn with half blocks: two pixels per terminal cell.

`DecisionMap.show(frame)` takes a `tui_lab.playground.PlaygroundFrame`: each pixel is coloured by
the predicted class, fainter where the network is less sure, and the training points are drawn on
top in the full colour of their label (a point in another class's region is misclassified).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

HALF = "▀"  # foreground = top pixel, background = bottom pixel


def half_block_row(top: Sequence, bottom: Sequence, style_of: Callable[[Any, Any], Style], width: int,
                   base: Style) -> Strip:
    """One terminal line of two pixel rows as `▀` cells (top pixel in front, bottom behind), equal
    neighbours joined into one segment; `style_of(top, bottom)` must return shared (cached) styles."""
    segments: list[Segment] = []
    run_style, run = None, 0
    for t, b in zip(top, bottom):
        style = style_of(t, b)
        if style is run_style:
            run += 1
            continue
        if run:
            segments.append(Segment(HALF * run, run_style))
        run_style, run = style, 1
    if run:
        segments.append(Segment(HALF * run, run_style))
    return Strip(segments).adjust_cell_length(width, base)
BACKGROUND = (30, 30, 36)
CLASS_COLOURS = ((242, 142, 43), (78, 140, 220), (96, 190, 90), (220, 90, 160), (200, 200, 80))
# How much of the class colour a region pixel gets, by confidence band (lowest .. highest).
REGION_MIX = (0.12, 0.24, 0.36, 0.5)


def _mix(a: Sequence[int], b: Sequence[int], t: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))  # type: ignore[return-value]


def confidence_band(confidence: float, num_classes: int, bands: int = len(REGION_MIX)) -> int:
    """0 .. bands-1: where the confidence lies between chance (1/K) and certainty (1)."""
    chance = 1.0 / max(num_classes, 2)
    t = (confidence - chance) / (1.0 - chance)
    return max(0, min(bands - 1, int(t * bands)))


def region_colour(cls: int, band: int) -> tuple[int, int, int]:
    return _mix(BACKGROUND, CLASS_COLOURS[cls % len(CLASS_COLOURS)], REGION_MIX[band])


def point_colour(label: int) -> tuple[int, int, int]:
    return _mix(CLASS_COLOURS[label % len(CLASS_COLOURS)], (255, 255, 255), 0.15)


def pixel_colours(frame) -> list[list[tuple[int, int, int]]]:
    """The RGB colour of every pixel (rows x cols of the frame's grid), points included."""
    rows, cols = frame.rows, frame.cols
    pixels = [
        [region_colour(c, confidence_band(p, frame.num_classes)) for c, p in zip(grid_row, conf_row)]
        for grid_row, conf_row in zip(frame.grid, frame.confidence)
    ]
    for x, y, label in frame.points:
        cell = frame.bounds.cell_of(x, y, cols, rows)
        if cell is not None:
            pixels[cell[0]][cell[1]] = point_colour(label)
    return pixels


class DecisionMap(Widget, can_focus=False):
    """The decision regions of a 2-D classifier and its training points."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.pixels: list[list[tuple[int, int, int]]] = []
        self._styles: dict[tuple, Style] = {}

    def show(self, frame) -> None:
        self.pixels = pixel_colours(frame)
        self.refresh()

    def clear(self) -> None:
        self.pixels = []
        self.refresh()

    def _style(self, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Style:
        key = (top, bottom)
        style = self._styles.get(key)
        if style is None:
            style = self._styles[key] = Style(color=Color.from_rgb(*top), bgcolor=Color.from_rgb(*bottom))
        return style

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        top_i, bottom_i = 2 * y, 2 * y + 1
        if top_i >= len(self.pixels):
            return Strip.blank(width, self.rich_style)
        top = self.pixels[top_i]
        bottom = self.pixels[bottom_i] if bottom_i < len(self.pixels) else [BACKGROUND] * len(top)
        return half_block_row(top, bottom, self._style, width, self.rich_style)
