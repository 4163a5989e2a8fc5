"""The shapes screen hands a conv/pool row to the conv screen on an example sized for that screen."""

from __future__ import annotations

from tui_lab.shapes import conv_preset as core_preset
from tui_lab.shapes import trace
from tui_lab.ui.conv_handoff import (
    CONV_SCREEN_MAX_SIDE,
    CONV_SCREEN_MAX_SIDE_TRANSPOSED,
    conv_preset,
)


def test_presets_use_the_conv_screens_sizes():
    assert (CONV_SCREEN_MAX_SIDE, CONV_SCREEN_MAX_SIDE_TRANSPOSED) == (8, 4)
    lenet = trace("lenet").rows
    assert conv_preset(lenet[1])["input"] == "arange:8x8"  # conv1 on 28x28, capped at 8
    assert conv_preset(lenet[4])["input"] == "arange:8x8"  # conv2 on 14x14
    assert conv_preset(trace("lenet", "1x6x6").rows[1])["input"] == "arange:6x6"  # below the cap: as it is
    up = next(r for r in trace("fcn-demo").rows if r.type == "ConvTranspose2d")
    assert conv_preset(up)["input"] == "arange:4x4"  # 8x8 scores, capped at 4: the output grows
    for row in (*lenet, up):
        assert conv_preset(row) == core_preset(row, CONV_SCREEN_MAX_SIDE, CONV_SCREEN_MAX_SIDE_TRANSPOSED)
