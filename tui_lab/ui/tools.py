"""Which screen each lesson tool opens, imported lazily so the catalog paints before torch loads.

A lesson names a tool (`conv`, `train`, ...) and a preset (a dict). Each tool screen lives in its own
module under `tui_lab.ui.screens` and is built as `ScreenClass(preset=preset)`. A tool whose module is
not there yet is reported as "coming" rather than crashing the app.
"""

from __future__ import annotations

import importlib
from typing import Any

from tui_lab.i18n import N_, _

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
    "gan": ("tui_lab.ui.screens.gan", "GanScreen"),
    "attention": ("tui_lab.ui.screens.attention", "AttentionScreen"),
    "latent": ("tui_lab.ui.screens.latent", "LatentScreen"),
}

TOOLS = tuple(TOOL_SCREENS)

# tool name -> what the learner calls it (lesson side panel, breadcrumb, command palette); translated
# by `tool_title`
TOOL_TITLES: dict[str, str] = {
    "train": N_("training screen"), "conv": N_("convolution stepper"), "pool": N_("pooling stepper"),
    "transposed": N_("transposed-convolution stepper"), "shapes": N_("shape tracer"),
    "compare": N_("optimizer race"), "landscape": N_("loss landscape"), "playground": N_("playground"),
    "snippets": N_("code cells"), "devices": N_("device list"),
    "features": N_("feature-map explorer"),
    "gan": N_("GAN lab"),
    "attention": N_("attention explorer"),
    "latent": N_("autoencoder explorer"),
}


def tool_title(tool: str, article: bool = True) -> str:
    """`the convolution stepper` (or `convolution stepper`), in the current language; the tool's own
    name when unknown."""
    title = _(TOOL_TITLES.get(tool, tool))
    return _("the {tool}").format(tool=title) if article else title


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
