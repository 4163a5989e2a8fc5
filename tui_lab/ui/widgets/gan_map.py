"""A GAN's plane, GAN Lab style: the discriminator's verdict behind real and generated points, and
the generator's gradient arrows on top.

`GanMap.show(frame, field=False)` takes a `tui_lab.gan.GanFrame`. Each half-block pixel is tinted
green where D says "real" (probability > 0.5) and purple where it says "generated", stronger the surer
it is; real points are bright green, generated ones bright purple. Arrows (→↗↑↖←↙↓↘) sit on a
coarse grid of ARROW_COLS x 1 cells: by default where generated points are (the mean push on them,
where D sends them next), with `field=True` at every block (the push a generated point would get there).
"""

from __future__ import annotations

import math

from rich.segment import Segment
from textual.strip import Strip

from tui_lab import gan
from tui_lab.ui.widgets.decision_map import BACKGROUND, DecisionMap, _mix

REAL = (96, 200, 90)  # GAN Lab: green for real
FAKE = (186, 104, 230)  # purple for generated
REAL_POINT = _mix(REAL, (255, 255, 255), 0.25)
FAKE_POINT = _mix(FAKE, (255, 255, 255), 0.25)
TINT = 0.55  # the most a region pixel takes of its colour (D certain)
ARROW_COLS = 3  # terminal columns per arrow block (one line high)
STRONG, WEAK = (255, 255, 255), (170, 170, 180)


def region_colour(p: float) -> tuple[int, int, int]:
    """The tint for D's probability 'real' p: purple below 0.5, green above, dark at 0.5."""
    if not math.isfinite(p):
        return BACKGROUND
    t = math.sqrt(min(1.0, abs(p - 0.5) * 2))  # a square root: D's small leanings show too
    return _mix(BACKGROUND, REAL if p >= 0.5 else FAKE, TINT * round(t * 6) / 6)


def pixel_colours(frame) -> list[list[tuple[int, int, int]]]:
    """RGB per pixel (the frame's rows x cols): D's verdict, then real points, generated on top."""
    rows, cols = frame.rows, frame.cols
    pixels = [[region_colour(p) for p in row] for row in frame.grid]
    for points, colour in ((frame.real, REAL_POINT), (frame.fake, FAKE_POINT)):
        for x, y in points:
            cell = gan.cell_of(x, y, cols, rows)
            if cell is not None:
                pixels[cell[0]][cell[1]] = colour
    return pixels


def arrow_blocks(frame, lines: int, field: bool) -> dict[tuple[int, int], tuple[float, float]]:
    """(line, block) -> push vector: the mean push on the generated points in each block, or (field)
    the push at every block's centre (frame.field must then be lines x blocks)."""
    blocks = max(1, frame.cols // ARROW_COLS)
    if field:
        return {(r, b): tuple(v) for r, row in enumerate(frame.field) for b, v in enumerate(row)
                if r < lines and b < blocks}
    sums: dict[tuple[int, int], list[float]] = {}
    for (x, y), (gx, gy) in zip(frame.fake, frame.fake_grad):
        cell = gan.cell_of(x, y, blocks, lines)
        if cell is None:
            continue
        s = sums.setdefault(cell, [0.0, 0.0, 0.0])
        s[0] += gx
        s[1] += gy
        s[2] += 1
    return {cell: (s[0] / s[2], s[1] / s[2]) for cell, s in sums.items()}


class GanMap(DecisionMap):
    """D's decision map, real and generated points, and the generator's gradient arrows."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.arrows: dict[tuple[int, int], tuple[str, bool]] = {}  # (line, col) -> (char, strong)

    def show(self, frame, field: bool = False) -> None:  # type: ignore[override]
        self.pixels = pixel_colours(frame)
        lines = (frame.rows + 1) // 2
        vectors = arrow_blocks(frame, lines, field)
        top = max((math.hypot(*v) for v in vectors.values() if all(map(math.isfinite, v))), default=0.0)
        self.arrows = {}
        for (line, block), (dx, dy) in vectors.items():
            char = gan.arrow_char(dx, dy, floor=1e-4)
            strong = top > 0 and math.hypot(dx, dy) >= 0.25 * top
            blocks = max(1, frame.cols // ARROW_COLS)
            self.arrows[(line, int((block + 0.5) * frame.cols / blocks))] = (char, strong)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        marks = sorted((col, mark) for (line, col), mark in self.arrows.items() if line == y)
        if not marks or 2 * y >= len(self.pixels):
            return strip
        top = self.pixels[2 * y]
        bottom = self.pixels[2 * y + 1] if 2 * y + 1 < len(self.pixels) else [BACKGROUND] * len(top)
        segments: list[Segment] = []
        pos = 0
        for col, (char, strong) in marks:
            if col >= len(top) or col < pos:
                continue
            if col > pos:
                segments.extend(strip.crop(pos, col))
            back = _mix(top[col], bottom[col], 0.5)
            style = self._style(STRONG if strong else WEAK, back)
            segments.append(Segment(char, style))
            pos = col + 1
        segments.extend(strip.crop(pos, strip.cell_length))
        return Strip(segments).adjust_cell_length(self.size.width, self.rich_style)
