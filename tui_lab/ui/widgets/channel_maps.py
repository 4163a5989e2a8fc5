"""Small multiples: one half-block heatmap per channel of a layer's output, wrapped to the width.

`ChannelMaps.show(planes, cursor)` takes 2-D lists of floats (all the same size) and an optional
(channel, row, col) cursor drawn in reverse; every plane shares one colour scale (the layer's), so
channels compare at a glance. Each map is `w` columns by `ceil(h / 2)` lines (two pixels a line),
with its channel number above it.
"""

from __future__ import annotations

from typing import Sequence

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

from tui_lab.ui.widgets.heat import Scale, palette

HALF = "▀"
GAP = 1

Plane = Sequence[Sequence[float]]


class ChannelMaps(Widget, can_focus=False):
    """Every channel of a layer as a small heatmap; the cursor cell in reverse."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.planes: list[Plane] = []
        self.cursor: tuple[int, int, int] | None = None
        self.labels: list[str] | None = None
        self.scale = Scale(0.0, 1.0, False)
        self._buckets: list[list[list[int]]] = []
        self._styles: dict[tuple[int, int, bool], Style] = {}

    def show(self, planes: Sequence[Plane], cursor: tuple[int, int, int] | None = None,
             labels: Sequence[str] | None = None, scale: Scale | None = None) -> None:
        """`labels`: what to write above each map instead of its number; `scale`: a colour scale to
        share with other widgets (images and their reconstructions) instead of these planes' own."""
        self.planes = list(planes)
        self.cursor = cursor
        self.labels = list(labels) if labels is not None else None
        self.scale = scale or Scale.of(v for p in self.planes for row in p for v in row)
        self._buckets = [[[self.scale.bucket(v) or 0 for v in row] for row in p] for p in self.planes]
        self._styles.clear()
        self.refresh(layout=True)

    @property
    def map_size(self) -> tuple[int, int]:
        """(columns, lines) of one map, its label line included."""
        if not self.planes:
            return (0, 0)
        h, w = len(self.planes[0]), len(self.planes[0][0])
        return w, (h + 1) // 2 + 1

    def per_row(self, width: int) -> int:
        w, _ = self.map_size
        return max(1, (width + GAP) // (w + GAP)) if w else 1

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if not self.planes:
            return 1
        per = self.per_row(width)
        rows = -(-len(self.planes) // per)
        return rows * self.map_size[1]

    def _style(self, top: int, bottom: int, reverse: bool) -> Style:
        key = (top, bottom, reverse)
        style = self._styles.get(key)
        if style is None:
            colours = palette(self.scale.diverging)
            style = Style(color=Color.from_rgb(*colours[top]), bgcolor=Color.from_rgb(*colours[bottom]),
                          reverse=reverse)
            self._styles[key] = style
        return style

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if not self.planes:
            return Strip([Segment("no layer output yet", base)]).adjust_cell_length(width, base)
        w, lines = self.map_size
        per = self.per_row(width)
        band, line = divmod(y, lines)
        segments: list[Segment] = []
        for k in range(band * per, min(len(self.planes), band * per + per)):
            if k > band * per:
                segments.append(Segment(" " * GAP, base))
            if line == 0:
                mark = "▸" if self.cursor is not None and self.cursor[0] == k else ""
                name = self.labels[k] if self.labels is not None and k < len(self.labels) else str(k)
                segments.append(Segment(f"{mark}{name}"[:w].ljust(w), base + Style(bold=bool(mark))))
                continue
            buckets = self._buckets[k]
            r = 2 * (line - 1)
            top = buckets[r] if r < len(buckets) else None
            bottom = buckets[r + 1] if r + 1 < len(buckets) else None
            if top is None:
                segments.append(Segment(" " * w, base))
                continue
            colours = palette(self.scale.diverging)
            for c in range(w):
                b = bottom[c] if bottom is not None else 0
                cursor = self.cursor
                if cursor is not None and cursor[0] == k and cursor[2] == c and cursor[1] in (r, r + 1):
                    # the cursor pixel in white, the other pixel of the cell in its own colour
                    other = b if cursor[1] == r else top[c]
                    glyph = HALF if cursor[1] == r else "▄"
                    segments.append(Segment(glyph, Style(color="white", bgcolor=Color.from_rgb(*colours[other]))))
                    continue
                segments.append(Segment(HALF, self._style(top[c], b, False)))
        return Strip(segments).adjust_cell_length(width, base)
