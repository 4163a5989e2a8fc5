"""Every hidden unit's output over the plane, as TensorFlow Playground's small squares.

`NeuronMaps.show(frame)` takes a `PlaygroundFrame` whose `neurons` are [layer][unit] rows x cols
values; each layer is a column of small half-block maps, one per unit (two pixel rows per line),
coloured on a diverging scale (blue below zero, orange above) normalised per layer, so a dead ReLU
unit is a flat dark square and a saturated sigmoid a flat bright one. `unit_size(width, height,
units)` says how many (cols, pixel rows) each map can have in a widget of that size.
"""

from __future__ import annotations

from typing import Sequence

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from tui_lab.ui.widgets.heat import BUCKETS, palette

HALF = "▀"
GAP = 1  # columns between two layers


def unit_size(width: int, height: int, layers: Sequence[int]) -> tuple[int, int]:
    """(cols, pixel rows) of one unit's map so that every layer fits: the tallest layer's units
    stacked with a one-line header, the layers side by side."""
    if not layers:
        return (0, 0)
    lines_per_unit = max(1, (height - 1) // max(layers))
    cols = max(2, min(12, (width - GAP * (len(layers) - 1)) // len(layers)))
    lines = min(lines_per_unit, max(1, cols // 4))  # keep them roughly square (a line is 2 pixels)
    return cols, 2 * lines


class NeuronMaps(Widget, can_focus=False):
    """Small maps of every hidden unit's output, one column per hidden layer."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.neurons: tuple = ()
        self.scales: list[float] = []
        self._colours = palette(True)
        self._styles: dict[tuple[int, int], Style] = {}

    def show(self, frame) -> None:
        self.neurons = frame.neurons
        self.scales = [max((abs(v) for u in layer for row in u for v in row), default=0.0) for layer in self.neurons]
        self.refresh()

    def _style(self, top: int, bottom: int) -> Style:
        key = (top, bottom)
        style = self._styles.get(key)
        if style is None:
            style = self._styles[key] = Style(color=Color.from_rgb(*self._colours[top]),
                                              bgcolor=Color.from_rgb(*self._colours[bottom]))
        return style

    @staticmethod
    def bucket(v: float, scale: float) -> int:
        half = BUCKETS // 2
        return max(0, min(BUCKETS - 1, half + round(v / scale * half))) if scale else half

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if not self.neurons:
            return Strip.blank(width, base)
        segments: list[Segment] = []
        for k, layer in enumerate(self.neurons):
            if k:
                segments.append(Segment(" " * GAP, base))
            cols = len(layer[0][0]) if layer and layer[0] else 0
            lines = (len(layer[0]) + 1) // 2 if layer and layer[0] else 1
            if y == 0:
                segments.append(Segment(f"L{k + 1} {len(layer)}"[:cols].ljust(cols), base + Style(bold=True)))
                continue
            unit, line = divmod(y - 1, lines)
            if unit >= len(layer):
                segments.append(Segment(" " * cols, base))
                continue
            scale = self.scales[k]
            rows = layer[unit]
            top = rows[2 * line]
            bottom = rows[2 * line + 1] if 2 * line + 1 < len(rows) else None
            for c in range(cols):
                t = self.bucket(top[c], scale)
                b = self.bucket(bottom[c], scale) if bottom is not None else BUCKETS // 2
                segments.append(Segment(HALF, self._style(t, b)))
        return Strip(segments).adjust_cell_length(width, base)
