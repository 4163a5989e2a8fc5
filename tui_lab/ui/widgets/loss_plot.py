"""A line plot of one or more named series (textual-plotext); it draws what it is given, nothing more.

The owner sets the series and calls `redraw()` at the rate it chooses (the train screen: at most ten
times a second, however fast steps arrive). The plot is built at render time, for its size: the y
range is chosen so every tick label sits exactly on a character row, evenly spaced (plotext's own
ticks round to rows and come out uneven on short plots); the legend is a line above the frame, never
over the curves; before the first point there is no axis at all, only a line saying what will come.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text
from textual_plotext import PlotextPlot

MAX_DRAWN = 300  # points per series handed to plotext
COLORS = ("cyan", "orange", "green", "magenta", "red", "blue", "yellow", "white")
RICH_COLORS = {"orange": "dark_orange"}  # plotext's colour names that Rich spells otherwise
NICE = (1.0, 2.0, 2.5, 5.0)
FRAME_ROWS = 3  # the frame's top and bottom lines and the x tick labels


def nice_steps(start: float):
    """1, 2, 2.5, 5 times a power of ten, from the first one >= start."""
    exp = math.floor(math.log10(start)) if start > 0 else 0
    while True:
        for m in NICE:
            value = m * 10.0 ** exp
            if value >= start * (1 - 1e-12):
                yield value
        exp += 1


def row_ticks(lo: float, hi: float, rows: int) -> tuple[float, float, list[float], int]:
    """A y range and ticks for a plot `rows` character rows high: (ymin, ymax, ticks, decimals).

    Each tick lies exactly on a row (ymin on the bottom one, then every `m` rows) and the step
    between ticks is a round number, so the labels read evenly spaced and true. The range covers
    [lo, hi]; a flat series gets a unit-wide range around it."""
    rows = max(2, rows)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi - lo < 1e-12 * max(1.0, abs(hi)):
        lo, hi = lo - 0.5, hi + 0.5
    target = max(2, min(6, rows // 2 + 1))  # about one label every two rows, at most six
    best = None
    for every in range(1, rows):  # rows between two labels: the choice that wastes the least height
        count = (rows - 1) // every + 1
        if not 2 <= count <= 7:
            continue
        intervals = (rows - 1) / every  # label intervals across the whole height (may end between labels)
        for tries, step in enumerate(nice_steps((hi - lo) / intervals)):
            ymin = math.floor(lo / step + 1e-9) * step
            ymax = ymin + intervals * step
            if ymax >= hi - 1e-12 * max(1.0, abs(hi)) or tries > 12:
                break
        if ymax < hi - 1e-12 * max(1.0, abs(hi)):  # no round grid with this spacing (it straddles 0)
            continue
        key = ((ymax - ymin) / (hi - lo) + 0.15 * abs(count - target), every)
        if best is None or key < best[0]:
            best = (key, ymin, ymax, step, count)
    if best is None:  # two rows across zero: the data's own ends, as labels
        step = hi - lo
        decimals = max(0, 2 - math.floor(math.log10(step)))
        return lo, hi, [lo, hi], decimals
    _, ymin, ymax, step, count = best
    ticks = [round(ymin + j * step, 12) for j in range(count)]
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    if decimals and round(step, decimals) != step:  # 2.5 x 10^-k needs one more place
        decimals += 1
    return ymin, ymax, ticks, decimals


def x_ticks(lo: float, hi: float, width: int) -> tuple[list[float], int]:
    """Round x ticks inside [lo, hi], about one per 10 columns; integers when the step allows."""
    if hi <= lo:
        return [lo], (0 if float(lo).is_integer() else 2)
    want = max(2, min(8, width // 10))
    step = next(nice_steps((hi - lo) / want))
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    value = first
    while value <= hi + 1e-9 * max(1.0, abs(hi)):
        ticks.append(value)
        value = first + len(ticks) * step
    decimals = 0 if step >= 1 and float(step).is_integer() else max(1, -math.floor(math.log10(step) + 1e-9) + 1)
    return ticks, decimals


class CurvePlot(PlotextPlot):
    """Named (x, y) series drawn as lines, with a title, a legend line above and an x label."""

    def __init__(self, title: str = "", xlabel: str = "", empty_text: str = "no data yet", **kwargs) -> None:
        super().__init__(**kwargs)
        self.title = title
        self.xlabel = xlabel
        self.empty_text = empty_text
        self.series: dict[str, tuple[list[float], list[float]]] = {}
        self.ylim: tuple[float, float] | None = None
        self.ylog = False  # log-scaled y axis (losses spanning decades, a diverged run beside good ones)
        self.y_ticks: list[str] = []  # the y labels of the last build (tests read them)
        self.markers: list[float] = []  # x positions marked by a vertical line (a live hyperparameter change)
        self.marker_label = "changed"
        self._version = 0  # bumped by redraw(); render() rebuilds the plot only when it changes
        self._cache_key: tuple | None = None
        self._cache = None

    def set_series(self, series: dict[str, tuple[Sequence[float], Sequence[float]]]) -> None:
        """Replace every series; non-finite points (a diverged run) are dropped."""
        clean: dict[str, tuple[list[float], list[float]]] = {}
        for name, (xs, ys) in series.items():
            pts = [(x, y) for x, y in zip(xs, ys) if y is not None and math.isfinite(y)]
            clean[name] = ([p[0] for p in pts], [p[1] for p in pts])
        self.series = clean

    def drawn_points(self, xs: list[float], ys: list[float]) -> tuple[list[float], list[float]]:
        """At most MAX_DRAWN points (means of equal runs of points): a terminal cannot show more,
        and plotext's cost grows with the number of points however long a run gets."""
        n = len(xs)
        if n <= MAX_DRAWN:
            return xs, ys
        k = math.ceil(n / MAX_DRAWN)
        return ([sum(xs[i:i + k]) / len(xs[i:i + k]) for i in range(0, n, k)],
                [sum(ys[i:i + k]) / len(ys[i:i + k]) for i in range(0, n, k)])

    def point_count(self) -> int:
        return sum(len(xs) for xs, _ in self.series.values())

    def _visible(self) -> list[tuple[int, str, list[float], list[float]]]:
        """(colour index, name, xs, ys) of each series with something to draw (y > 0 on a log axis)."""
        out = []
        for i, (name, (xs, ys)) in enumerate(self.series.items()):
            if self.ylog:
                kept = [(x, y) for x, y in zip(xs, ys) if y > 0]
                xs, ys = [p[0] for p in kept], [p[1] for p in kept]
            if xs:
                out.append((i, name, *self.drawn_points(xs, ys)))
        return out

    def redraw(self) -> None:
        """Take the series as they are now; the plot is rebuilt at the next render."""
        self._version += 1
        self.refresh()

    def legend(self, visible) -> Text:
        """`loss   ━ train  ━ val`: the title, then each series in its colour (above the frame)."""
        text = Text(self.title, style="bold")
        if len(self.series) > 1 or (visible and visible[0][1] not in ("", self.title)):
            for i, name, _, _ in visible:
                color = COLORS[i % len(COLORS)]
                text.append("  ━ ", style=RICH_COLORS.get(color, color))
                text.append(name)
        if self.markers and visible:
            text.append("  ┊ ", style="yellow")
            text.append(self.marker_label)
        return text

    def build(self, width: int, height: int):
        """The legend line and the plotext canvas for this size (or the empty text)."""
        visible = self._visible()
        head = self.legend(visible)
        head.truncate(width, overflow="ellipsis")
        if not visible or height < 2 + FRAME_ROWS + 2:
            self.y_ticks = []
            message = Text(self.empty_text if not visible else "(too small to plot)", style="dim")
            return Text("\n").join([head, message])
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plot_height = height - 1  # the legend line
        if self.xlabel:
            plt.xlabel(self.xlabel)
        for i, _name, xs, ys in visible:
            marker = "braille" if len(xs) > 1 else "dot"
            plt.plot(xs, ys, color=COLORS[i % len(COLORS)], marker=marker)
        all_x = [x for _, _, xs, _ in visible for x in xs]
        all_y = [y for _, _, _, ys in visible for y in ys]
        rows = plot_height - FRAME_ROWS - (1 if self.xlabel else 0)
        if self.ylog:
            plt.yscale("log")
            self.y_ticks = []
        else:
            lo, hi = self.ylim if self.ylim else (min(all_y), max(all_y))
            ymin, ymax, ticks, decimals = row_ticks(lo, hi, rows)
            self.y_ticks = [f"{t:.{decimals}f}" for t in ticks]
            plt.ylim(ymin, ymax)
            plt.yticks(ticks, self.y_ticks)
        xlo, xhi = min(all_x), max(all_x)
        for x in self.markers:
            if xlo <= x <= xhi:
                plt.vline(x, "yellow")
        if xhi > xlo:
            xt, xdec = x_ticks(xlo, xhi, width)
            plt.xlim(xlo, xhi)
            plt.xticks(xt, [f"{t:.{xdec}f}" for t in xt])
        plt.plotsize(width, plot_height)
        self._plot._set_size(width, plot_height)
        plt.theme(self._get_plotext_theme_name(self.app.theme))
        return Text("\n").join([head, Text.from_ansi(plt.build())])

    def render(self):
        """The plot, rebuilt only when the data, the size or the theme changed (a layout pass elsewhere
        on the screen re-renders every widget; rebuilding plotext's canvas each time is the costly part)."""
        key = (self._version, self.size, self.app.theme)
        if key != self._cache_key:
            self._cache = self.build(self.size.width, self.size.height)
            self._cache_key = key
        return self._cache
