"""Colour scales for values drawn as heatmaps: sequential for values of one sign, diverging
(blue below zero, orange above, dark at zero) for signed ones, with a legend.

A `Scale` maps a number to a bucket 0..BUCKETS-1; `Scale.styles` are the cell styles of those buckets
(background plus a readable text colour), built once per palette and shared by every grid, so a
frame allocates no style objects. The palettes are data (colours of values), like the decision
map's class colours; the screens' layout styling stays in their .tcss.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

from rich.color import Color
from rich.style import Style
from rich.text import Text

BUCKETS = 9
# Sequential: viridis' anchors (dark purple for the smallest value, yellow for the largest).
SEQUENTIAL_ANCHORS = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))
# Diverging: dark at zero so zeros recede; blue for negative, orange for positive.
NEGATIVE, ZERO, POSITIVE = (60, 140, 240), (40, 40, 48), (240, 120, 50)


def _mix(a: Sequence[int], b: Sequence[int], t: float) -> tuple[int, int, int]:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def _along(anchors: Sequence[Sequence[int]], t: float) -> tuple[int, int, int]:
    pos = t * (len(anchors) - 1)
    i = min(int(pos), len(anchors) - 2)
    return _mix(anchors[i], anchors[i + 1], pos - i)


def palette(diverging: bool) -> tuple[tuple[int, int, int], ...]:
    """The RGB colour of each bucket, lowest value first."""
    if diverging:
        half = BUCKETS // 2
        return tuple(_mix(ZERO, NEGATIVE, (half - b) / half) if b < half else _mix(ZERO, POSITIVE, (b - half) / half)
                     for b in range(BUCKETS))
    return tuple(_along(SEQUENTIAL_ANCHORS, b / (BUCKETS - 1)) for b in range(BUCKETS))


def _text_colour(rgb: Sequence[int]) -> tuple[int, int, int]:
    luminance = (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255
    return (16, 16, 20) if luminance > 0.5 else (236, 236, 240)


@lru_cache(maxsize=None)
def bucket_styles(diverging: bool) -> tuple[Style, ...]:
    """One style per bucket: the bucket's colour as background, black or white text on it."""
    return tuple(Style(bgcolor=Color.from_rgb(*rgb), color=Color.from_rgb(*_text_colour(rgb)))
                 for rgb in palette(diverging))


@dataclass(frozen=True)
class Scale:
    """A colour scale over [lo, hi]; diverging scales are symmetric around zero."""

    lo: float
    hi: float
    diverging: bool

    @classmethod
    def of(cls, values: Iterable[float | int | None]) -> Scale:
        """The scale for these values (None and infinities skipped): diverging when any is below 0."""
        finite = [float(v) for v in values if v is not None and v not in (float("inf"), float("-inf"))]
        if not finite:
            return cls(0.0, 1.0, False)
        lo, hi = min(finite), max(finite)
        if lo < 0:
            m = max(-lo, hi) or 1.0
            return cls(-m, m, True)
        return cls(lo, hi, False)

    def bucket(self, v: float | int | None) -> int | None:
        if v is None or v != v or v in (float("inf"), float("-inf")):
            return None
        if self.diverging:
            half = BUCKETS // 2
            b = round(v / self.hi * half) + half if self.hi else half
        else:
            span = self.hi - self.lo
            b = round((v - self.lo) / span * (BUCKETS - 1)) if span else 0
        return max(0, min(BUCKETS - 1, b))

    def buckets(self, plane: Sequence[Sequence[float | int | None]]) -> list[list[int | None]]:
        return [[self.bucket(v) for v in row] for row in plane]

    @property
    def styles(self) -> tuple[Style, ...]:
        return bucket_styles(self.diverging)

    def legend(self, label: str, fmt=str) -> Text:
        """`label lo ▇▇▇▇▇▇▇▇▇ hi`: the swatches of every bucket between the two ends."""
        text = Text(no_wrap=True)
        text.append(f"{label} ", style="bold")
        text.append(f"{fmt(self.lo)} ")
        for style in self.styles:
            text.append(" ", style=Style(bgcolor=style.bgcolor))
        text.append(f" {fmt(self.hi)}")
        return text
