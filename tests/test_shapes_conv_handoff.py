"""A conv/pool row replayed as a conv-screen preset, checked against torch's output sizes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tui_lab import conv_steps as cs
from tui_lab.shapes import conv_preset, trace


@pytest.mark.parametrize("max_side, max_side_transposed", [(8, 4), (5, None), (3, 2)])
def test_conv_presets_replay_the_layer_geometry(max_side, max_side_transposed):
    seen = set()
    for spec in ("lenet", "lenet-relu", "dilated-demo", "inception-demo", "fcn-demo", "nin"):
        for row in trace(spec).rows:
            preset = conv_preset(row, max_side, max_side_transposed)
            if preset is None:
                assert not row.is_spatial_op or row.pool_mode not in ("conv", "max", "avg", "transposed")
                continue
            seen.add(preset["mode"])
            config = cs.build_config(dict(preset))
            h, w = (int(v) for v in preset["input"].split(":")[1].split("x"))
            k, s, p = tuple(preset["kernel_size"]), tuple(preset["stride"]), tuple(preset["padding"])
            d = tuple(preset["dilation"])
            # the example is as small as the caller asks, unless the kernel needs more to give an output
            if preset["mode"] == "transposed":
                cap = max_side if max_side_transposed is None else max_side_transposed
                assert (h, w) == tuple(min(n, cap) for n in row.input_shape[-2:])
            else:
                need = tuple(di * (ki - 1) + 1 - 2 * pi for ki, di, pi in zip(k, d, p))
                assert (h, w) == tuple(max(min(n, max_side), m, 1) for n, m in zip(row.input_shape[-2:], need))
            assert preset["title"].endswith(f"on a {h}x{w} example")
            x = torch.zeros(1, 1, h, w)
            if preset["mode"] == "conv":
                y = nn.functional.conv2d(x, torch.zeros(1, 1, *k), stride=s, padding=p, dilation=d)
            elif preset["mode"] == "transposed":
                y = nn.functional.conv_transpose2d(x, torch.zeros(1, 1, *k), stride=s, padding=p)
            else:
                y = nn.functional.max_pool2d(x, k, s, p)
            assert cs.compute(config).output_shape[-2:] == tuple(y.shape[-2:]), (spec, row.name, preset)
    assert seen == {"conv", "max", "avg", "transposed"}
    assert conv_preset(trace("lenet").rows[7], max_side) is None  # a Linear row
