"""A shape-trace row opened in the conv screen, on an example input sized for that screen."""

from __future__ import annotations

from typing import Any

from tui_lab.shapes import LayerRow
from tui_lab.shapes import conv_preset as _conv_preset

CONV_SCREEN_MAX_SIDE = 8  # a small example input shows the geometry and fits the conv screen
CONV_SCREEN_MAX_SIDE_TRANSPOSED = 4  # a transposed conv's output grows: its example stays smaller


def conv_preset(row: LayerRow) -> dict[str, Any] | None:
    """The conv-screen preset for this row (see `tui_lab.shapes.conv_handoff.conv_preset`), or None."""
    return _conv_preset(row, CONV_SCREEN_MAX_SIDE, CONV_SCREEN_MAX_SIDE_TRANSPOSED)
