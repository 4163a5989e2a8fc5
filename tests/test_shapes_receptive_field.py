"""Output-size formulas and receptive fields, checked against the output shapes and autograd."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from tui_lab.data import dataset_info
from tui_lab.models import build_model
from tui_lab.shapes import DEMOS, trace, trace_model


def test_formula_numbers_are_the_output_sizes():
    for spec in ("lenet", "alexnet", "googlenet", "dilated-demo"):
        for row in trace(spec).rows:
            if not row.formula or row.pool_mode.startswith("adaptive"):
                continue
            results = [int(re.search(r"= (\d+)$", line).group(1)) for line in row.formula]
            assert tuple(results) == row.output_shape[2:], (spec, row.name, row.formula)


def test_formula_text_shows_the_seeds_form():
    conv = trace("lenet").rows[1]
    assert conv.formula == ("H: floor((28 - 5 + 2*2) / 1) + 1 = 28", "W: floor((28 - 5 + 2*2) / 1) + 1 = 28")
    dilated = trace("dilated-demo").rows[1]
    assert dilated.formula[0] == "H: floor((9 + 2*0 - 2*(3-1) - 1) / 1) + 1 = 5"


def _support(layers: nn.Module, shape) -> tuple[int, int]:
    """Rows and columns of the input that one central output value depends on (via the gradient)."""
    for p in layers.parameters():
        nn.init.constant_(p, 0.1)
    x = torch.ones(1, *shape, requires_grad=True)
    y = layers(x)
    h, w = y.shape[-2:]
    y[0, 0, h // 2, w // 2].backward()
    nz = x.grad[0].abs().sum(0).nonzero()
    return (int(nz[:, 0].max() - nz[:, 0].min() + 1), int(nz[:, 1].max() - nz[:, 1].min() + 1))


@pytest.mark.parametrize("spec", ["stacked3x3-demo", "single5x5-demo", "dilated-demo"])
def test_receptive_field_of_two_3x3_equals_one_5x5(spec):
    result = trace(spec)
    assert result.rows[-1].receptive_field == (5, 5)
    assert _support(DEMOS[spec].build(), (1, 9, 9)) == (5, 5)


def test_lenet_receptive_field_against_autograd():
    model = build_model("lenet-relu", dataset_info("digits"))
    features = nn.Sequential(*list(model)[:6])  # conv, relu, maxpool, conv, relu, maxpool
    result = trace_model(features, (1, 64, 64))
    assert result.rows[-1].receptive_field == (16, 16)
    # average pooling spreads the gradient over the whole window (max pooling would pick one cell)
    avg = build_model("lenet", dataset_info("digits"))
    assert _support(nn.Sequential(*list(avg)[:6]), (1, 64, 64)) == (16, 16)


def test_unet_shapes_down_and_up_and_receptive_field():
    result = trace("unet-demo")
    top = {r.name: r for r in result.rows if r.depth == 1}
    sizes = [top[n].output_shape[2:] for n in ("enc1", "enc2", "bottleneck", "up2", "dec2", "up1", "dec1", "head")]
    assert sizes == [(32, 32), (16, 16), (8, 8), (16, 16), (16, 16), (32, 32), (32, 32), (32, 32)]
    assert top["up2"].formula[0] == "H: (8 - 1)*2 - 2*0 + 2-1 + 1 = 16"
    up = DEMOS["unet-demo"].build()
    assert top["up2"].macs == 64 * 8 * 8 * 32 * 2 * 2  # every input value times its kernel
    assert result.total_params == sum(p.numel() for p in up.parameters())
    # through the skip connections the widest path wins; checked with autograd (average pooling so
    # the gradient reaches the whole window)
    assert result.rows[0].receptive_field == (44, 44)
    up.pool = nn.AvgPool2d(2)
    assert _support(up, (1, 64, 64)) == (44, 44)


def test_fcn_transposed_conv_receptive_field():
    result = trace("fcn-demo")
    last = result.rows[-1]
    assert last.type == "ConvTranspose2d" and last.output_shape == (1, 2, 32, 32)
    assert (last.receptive_field, last.jump) == ((14, 14), (1, 1))
    model = DEMOS["fcn-demo"].build()
    model[2], model[5] = nn.AvgPool2d(2), nn.AvgPool2d(2)
    assert _support(model, (1, 64, 64)) == (14, 14)
