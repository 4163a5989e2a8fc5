"""A matrix drawn as a grid of right-aligned numbers, with cells marked (window, padding, ...).

`MatrixGrid.show(cells, marks, heat=..., palette=...)` takes the cell texts, a {(row, col): mark
names} map and, for a heatmap, a bucket per cell (None: no colour) with the styles of the buckets
(`tui_lab.ui.widgets.heat`). Each mark is a component class (`matrix-grid--window`, `--pad`,
`--focus`, `--pending`, `--scatter`) styled from the screen's .tcss, drawn over the heat colour.
Padding cells are filled with `·` (`··0`), so they read as padding even without colour. Rows are
drawn with the Line API and cached, so only changed, visible rows cost anything to paint; the
styles of (bucket, marks) pairs are built once per palette.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

MARKS = ("window", "pad", "focus", "pending", "scatter")
PAD_FILL = "·"

Marks = Mapping[tuple[int, int], Iterable[str]]
HeatRow = Sequence[int | None]


def row_segments(row: Sequence[str], marks_row: Mapping[int, Style], width: int, base: Style,
                 pads: frozenset[int] | set[int] = frozenset(), zoom: int = 1, blank: bool = False) -> list[Segment]:
    """One grid row as segments: each cell right-aligned in `width` after one space (padding cells
    filled with `·`); runs of unstyled cells share one segment. `marks_row` holds the full style
    (base included) of each styled cell. `zoom` 2 adds a space after each cell; `blank` draws the
    row's second line (the colours without the numbers)."""
    segments: list[Segment] = []
    run: list[str] = []
    run_style: Style = base
    tail = " " * (zoom - 1)
    for c, cell in enumerate(row):
        if c in pads:
            chunk = ("" if blank else cell).rjust(width + 1, PAD_FILL) + PAD_FILL * (zoom - 1)
        else:
            chunk = " " * (width + zoom) if blank else " " + cell.rjust(width) + tail
        style = marks_row.get(c, base)
        if style is not run_style:  # styles are cached objects: neighbours alike share one segment
            if run:
                segments.append(Segment("".join(run), run_style))
            run, run_style = [], style
        run.append(chunk)
    if run:
        segments.append(Segment("".join(run), run_style))
    return segments


class MatrixGrid(Widget):
    """A grid of numbers; marked cells take the styles of their component classes."""

    COMPONENT_CLASSES = {f"matrix-grid--{m}" for m in MARKS}

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.cells: list[list[str]] = []
        self.marks: dict[tuple[int, int], tuple[str, ...]] = {}
        self.cell_width = 1
        self.zoom = 1  # 2: each cell two lines high and one column wider (wide screens)
        self.label_width = 0  # at least this wide, so the box's border title and subtitle show whole
        self.heat: list[list[int | None]] = []
        self.palette: Sequence[Style] = ()
        self._row_marks: dict[int, dict[int, tuple[str, ...]]] = {}
        self._styles: dict[tuple[int | None, tuple[str, ...]], Style] = {}
        self._mark_styles: dict[tuple[str, ...], Style] = {}
        self._strips: dict[int, Strip] = {}

    def style_for(self, names: tuple[str, ...], bucket: int | None = None) -> Style:
        """The full style of a cell: base, then the heat colour of `bucket`, then the marks."""
        key = (bucket, names)
        style = self._styles.get(key)
        if style is None:
            marks = self._mark_styles.get(names)
            if marks is None:
                marks = Style()
                for name in names:
                    marks += self.get_component_rich_style(f"matrix-grid--{name}", partial=True, default=Style())
                self._mark_styles[names] = marks
            style = self.rich_style
            if bucket is not None and "pad" not in names and "pending" not in names:
                style += self.palette[bucket]
            style = self._styles[key] = style + marks
        return style

    def on_mount(self) -> None:
        self.watch(self.app, "theme", lambda *_: self._restyle(), init=False)

    def on_resize(self) -> None:
        self._strips.clear()

    def _restyle(self) -> None:
        self._styles.clear()
        self._mark_styles.clear()
        self._strips.clear()
        self.refresh()

    def set_zoom(self, zoom: int) -> None:
        if zoom != self.zoom:
            self.zoom = zoom
            self._strips.clear()
            self.refresh(layout=True)

    def show(self, cells: Sequence[Sequence[str]], marks: Marks | None = None, width: int | None = None,
             heat: Sequence[HeatRow] | None = None, palette: Sequence[Style] | None = None) -> None:
        """Draw `cells` (texts) with `marks` {(row, col): names}; `width` fixes the cell width;
        `heat` a bucket per cell (or None) coloured with `palette`'s styles.

        Only rows whose texts, marks or colours changed are repainted, so a step costs a few rows."""
        old_size, old_width = self.grid_size, self.cell_width
        old_cells, old_row_marks, old_heat = self.cells, self._row_marks, self.heat
        self.cells = [list(row) for row in cells]
        self.marks = {k: tuple(v) for k, v in (marks or {}).items()}
        self.cell_width = width or max((len(c) for row in cells for c in row), default=1)
        new_palette = tuple(palette or ())
        self.heat = [list(row) for row in heat] if heat is not None else []
        self._row_marks = {}
        for (r, c), names in self.marks.items():
            self._row_marks.setdefault(r, {})[c] = names
        if new_palette != tuple(self.palette):
            self.palette = new_palette
            self._styles.clear()
            self._strips.clear()
        if self.grid_size != old_size or self.cell_width != old_width:
            self._strips.clear()
            self.refresh(layout=True)
            return
        dirty = [y for y, row in enumerate(self.cells)
                 if row != old_cells[y] or self._row_marks.get(y) != old_row_marks.get(y)
                 or self._heat_row(y, self.heat) != self._heat_row(y, old_heat)]
        if dirty:
            z = self.zoom
            for y in dirty:
                for line in range(y * z, y * z + z):
                    self._strips.pop(line, None)
            self.refresh(*(Region(0, y * z, self.size.width, z) for y in dirty))

    @staticmethod
    def _heat_row(y: int, heat: list[list[int | None]]) -> list[int | None] | None:
        return heat[y] if y < len(heat) else None

    @property
    def grid_size(self) -> Size:
        cols = max((len(row) for row in self.cells), default=0)
        return Size(cols * (self.cell_width + self.zoom), len(self.cells) * self.zoom)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return max(self.grid_size.width, self.label_width)

    def fit_label(self, *labels: str) -> None:
        """Widen the grid (not its cells) so that these border labels of its box are not cut."""
        need = max((len(label) + 4 for label in labels if label), default=0)
        if need != self.label_width:
            self.label_width = need
            self.refresh(layout=True)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self.grid_size.height

    def render_line(self, line: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        y, sub = divmod(line, self.zoom)
        if y >= len(self.cells):
            return Strip.blank(width, base)
        strip = self._strips.get(line)
        if strip is None:
            names_row = self._row_marks.get(y, {})
            heat_row = self.heat[y] if y < len(self.heat) and self.palette else ()
            styled = set(names_row) | {c for c, b in enumerate(heat_row) if b is not None}
            marks_row = {c: self.style_for(names_row.get(c, ()), heat_row[c] if c < len(heat_row) else None)
                         for c in styled}
            pads = {c for c, n in names_row.items() if "pad" in n}
            segments = row_segments(self.cells[y], marks_row, self.cell_width, base, pads, self.zoom, sub > 0)
            strip = Strip(segments).adjust_cell_length(width, base)
            self._strips[line] = strip
        return strip

    def row_text(self, y: int) -> str:
        """The plain text of a row (for tests and the benchmark)."""
        return "".join(" " + c.rjust(self.cell_width) for c in self.cells[y])

    def cell_region(self, row: int, col: int) -> tuple[int, int, int]:
        """(x, y, cell width) of a cell inside the widget, for scrolling it into view."""
        z = self.zoom
        return 1 + col * (self.cell_width + z), row * z, self.cell_width
