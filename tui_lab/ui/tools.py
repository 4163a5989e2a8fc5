"""Which screen each lesson tool opens, imported lazily so the catalog paints before torch loads.

A lesson names a tool (`conv`, `train`, ...) and a preset (a dict). Each tool screen lives in its own
module under `tui_lab.ui.screens` and is built as `ScreenClass(preset=preset)`. A tool whose module is
not there yet is reported as "coming" rather than crashing the app.
"""

from __future__ import annotations

import importlib
from typing import Any

# tool name -> (module, class name)
TOOL_SCREENS: dict[str, tuple[str, str]] = {
    "train": ("tui_lab.ui.screens.train", "TrainScreen"),
    "conv": ("tui_lab.ui.screens.conv", "ConvScreen"),
    "pool": ("tui_lab.ui.screens.conv", "ConvScreen"),
    "transposed": ("tui_lab.ui.screens.conv", "ConvScreen"),
    "shapes": ("tui_lab.ui.screens.shapes", "ShapesScreen"),
    "compare": ("tui_lab.ui.screens.compare", "CompareScreen"),
    "landscape": ("tui_lab.ui.screens.landscape", "LandscapeScreen"),
    "playground": ("tui_lab.ui.screens.playground", "PlaygroundScreen"),
    "snippets": ("tui_lab.ui.screens.snippets", "SnippetsScreen"),
    "devices": ("tui_lab.ui.screens.devices", "DevicesScreen"),
    "features": ("tui_lab.ui.screens.features", "FeaturesScreen"),
}

TOOLS = tuple(TOOL_SCREENS)

# tool name -> what the learner calls it (lesson side panel, breadcrumb, command palette)
TOOL_TITLES: dict[str, str] = {
    "train": "the training screen", "conv": "the convolution stepper", "pool": "the pooling stepper",
    "transposed": "the transposed-convolution stepper", "shapes": "the shape tracer",
    "compare": "the optimizer race", "landscape": "the loss landscape", "playground": "the playground",
    "snippets": "the code cells", "devices": "the device list", "features": "the feature-map explorer",
}


def tool_title(tool: str, article: bool = True) -> str:
    """`the convolution stepper` (or `convolution stepper`); the tool's own name when unknown."""
    title = TOOL_TITLES.get(tool, tool)
    return title if article else title.removeprefix("the ")


def tool_available(tool: str) -> bool:
    """True when the tool's screen module exists (without importing it)."""
    import importlib.util

    entry = TOOL_SCREENS.get(tool)
    return entry is not None and importlib.util.find_spec(entry[0]) is not None


def build_tool_screen(tool: str, preset: dict[str, Any] | None = None, **kwargs: Any):
    """Build the screen for `tool` with `preset`; None when the tool is not built yet."""
    if not tool_available(tool):
        return None
    module_name, class_name = TOOL_SCREENS[tool]
    cls = getattr(importlib.import_module(module_name), class_name)
    preset = dict(preset or {})
    if tool in ("pool", "transposed"):
        preset.setdefault("mode", tool)
    return cls(preset=preset, **kwargs)
