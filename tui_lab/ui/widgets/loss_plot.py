"""A line plot of one or more named series (textual-plotext); it draws what it is given, nothing more.

The owner sets the series and calls `redraw()` at the rate it chooses (the train screen: at most ten
times a second, however fast steps arrive).
"""

from __future__ import annotations

import math
from typing import Sequence

from textual_plotext import PlotextPlot

MAX_DRAWN = 300  # points per series handed to plotext
COLORS = ("cyan", "orange", "green", "magenta", "red", "blue", "yellow", "white")


class CurvePlot(PlotextPlot):
    """Named (x, y) series drawn as lines, with a title and an x label."""

    def __init__(self, title: str = "", xlabel: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self.title = title
        self.xlabel = xlabel
        self.series: dict[str, tuple[list[float], list[float]]] = {}
        self.ylim: tuple[float, float] | None = None
        self.ylog = False  # log-scaled y axis (losses spanning decades, a diverged run beside good ones)
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

    def redraw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.title)
        plt.xlabel(self.xlabel)
        drawn = False
        for i, (name, (xs, ys)) in enumerate(self.series.items()):
            if self.ylog:  # log needs y > 0
                kept = [(x, y) for x, y in zip(xs, ys) if y > 0]
                xs, ys = [p[0] for p in kept], [p[1] for p in kept]
            if not xs:
                continue
            marker = "braille" if len(xs) > 1 else "dot"
            xs, ys = self.drawn_points(xs, ys)
            plt.plot(xs, ys, label=name, color=COLORS[i % len(COLORS)], marker=marker)
            drawn = True
        if not drawn:
            plt.plot([0], [0], marker=" ")  # an empty frame with axes instead of a blank box
        if self.ylim:
            plt.ylim(*self.ylim)
        if self.ylog and drawn:
            plt.yscale("log")
        self._version += 1
        self.refresh()

    def render(self):
        """The plot, rebuilt only when the data, the size or the theme changed (a layout pass elsewhere
        on the screen re-renders every widget; rebuilding plotext's canvas each time is the costly part)."""
        key = (self._version, self.size, self.app.theme)
        if key != self._cache_key:
            self._cache = super().render()
            self._cache_key = key
        return self._cache
