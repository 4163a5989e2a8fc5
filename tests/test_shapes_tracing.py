"""Shape traces checked against a real forward pass, torchinfo, hand counts and the zoo."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tui_lab.data import dataset_info
from tui_lab.models import build_model
from tui_lab.shapes import resolve_model, trace, trace_model


# d2l's LeNet on 1x28x28: (type, output shape, params, MACs), MACs = weights x output positions
LENET_BY_HAND = [
    ("Conv2d", (1, 6, 28, 28), 6 * 1 * 5 * 5 + 6, 6 * 28 * 28 * (1 * 5 * 5)),
    ("Sigmoid", (1, 6, 28, 28), 0, 0),
    ("AvgPool2d", (1, 6, 14, 14), 0, 0),
    ("Conv2d", (1, 16, 10, 10), 16 * 6 * 5 * 5 + 16, 16 * 10 * 10 * (6 * 5 * 5)),
    ("Sigmoid", (1, 16, 10, 10), 0, 0),
    ("AvgPool2d", (1, 16, 5, 5), 0, 0),
    ("Flatten", (1, 400), 0, 0),
    ("Linear", (1, 120), 400 * 120 + 120, 400 * 120),
    ("Sigmoid", (1, 120), 0, 0),
    ("Linear", (1, 84), 120 * 84 + 84, 120 * 84),
    ("Sigmoid", (1, 84), 0, 0),
    ("Linear", (1, 10), 84 * 10 + 10, 84 * 10),
]
def test_lenet_counted_by_hand():
    result = trace("lenet", "1x28x28", "digits")
    assert result.error is None
    root, *layers = result.rows
    assert (root.depth, root.name, root.output_shape) == (0, "", (1, 10))
    got = [(r.type, r.output_shape, r.params, r.macs) for r in layers]
    assert got == LENET_BY_HAND
    assert result.total_params == 61_706 == sum(p for *_, p, _ in LENET_BY_HAND)
    assert result.total_macs == 416_520 == root.macs
    assert result.trainable_params == 61_706 and result.frozen_params == 0
    assert result.output_shape == (10,)
    # receptive field of the conv/pool stack: 5, 6, 14, 16 with jumps 1, 2, 2, 4
    stack = [(r.receptive_field, r.jump) for r in layers if r.is_spatial_op]
    assert stack == [((5, 5), (1, 1)), ((6, 6), (2, 2)), ((14, 14), (2, 2)), ((16, 16), (4, 4))]


def test_rows_follow_the_real_forward_pass():
    model = build_model("lenet", dataset_info("digits")).eval()
    result = trace_model(model, (1, 28, 28))
    x = torch.zeros(1, 1, 28, 28)
    for row, layer in zip(result.rows[1:], model):
        assert row.input_shape == tuple(x.shape)
        x = layer(x)
        assert row.output_shape == tuple(x.shape)
        assert row.activation_bytes == x.numel() * x.element_size()


def _torchinfo_weight_macs(summary) -> int:
    """torchinfo's mult-adds of conv and linear leaves, less its bias terms (dllab does not count bias)."""
    total = 0
    for layer in summary.summary_list:
        m = layer.module
        if not layer.is_leaf_layer or not isinstance(m, (nn.modules.conv._ConvNd, nn.Linear)):
            continue
        bias = m.bias.numel() if m.bias is not None else 0
        if isinstance(m, nn.modules.conv._ConvNd):
            positions = layer.macs // sum(p.numel() for p in m.parameters())
            total += layer.macs - bias * positions
        else:
            total += layer.macs - bias * layer.output_size[0]
    return total


@pytest.mark.parametrize("name, shape", [("resnet18", (3, 32, 32)), ("alexnet", (3, 64, 64)),
                                         ("mobilenet_v2", (3, 32, 32))])
def test_totals_match_torchinfo(name, shape):
    torchinfo = pytest.importorskip("torchinfo")
    resolved = resolve_model(f"torchvision:{name}")
    result = trace_model(resolved.model, shape, name=resolved.label)
    summary = torchinfo.summary(resolved.model, input_size=(1, *shape), verbose=0)
    assert result.error is None
    assert result.total_params == summary.total_params
    assert result.trainable_params == summary.trainable_params
    mine = sum(r.macs for r in result.rows if r.is_leaf and isinstance(_module(resolved.model, r.name),
                                                                      (nn.modules.conv._ConvNd, nn.Linear)))
    assert mine == _torchinfo_weight_macs(summary)
    # the rest of the total is batch norm, one MAC per element
    norms = sum(r.macs for r in result.rows if r.type == "BatchNorm2d")
    assert result.total_macs == mine + norms
    assert result.output_shape == (1000,)
    if name == "resnet18":  # the published receptive field of ResNet-18's last stage
        assert next(r for r in result.rows if r.name == "layer4").receptive_field == (435, 435)


def _module(model, name):
    return model.get_submodule(name) if name else model


def test_googlenet_inception_blocks_are_nested():
    result = trace("googlenet")
    assert result.error is None and result.output_shape == (10,)
    blocks = [r for r in result.rows if r.type == "Inception"]
    assert [r.output_shape[1] for r in blocks] == [64, 120, 144]
    first = blocks[0]
    children = [r for r in result.rows if r.parent == first.index]
    assert all(r.depth == first.depth + 1 for r in children)
    assert first.params == sum(c.params for c in children if c.type == "Conv2d")
    assert first.macs == sum(c.macs for c in children)
    widest = max(c.receptive_field for c in children if c.receptive_field)
    assert first.receptive_field == widest


def test_resnet_residual_blocks_and_batch_norm():
    result = trace("resnet")
    model = build_model("resnet", dataset_info("digits"))
    assert result.total_params == sum(p.numel() for p in model.parameters())
    blocks = [r for r in result.rows if r.type == "Residual"]
    assert len(blocks) == 8
    assert [b.output_shape for b in blocks[::2]] == [(1, 16, 28, 28), (1, 32, 14, 14), (1, 64, 7, 7), (1, 128, 4, 4)]
    bn = next(r for r in result.rows if r.type == "BatchNorm2d")
    assert bn.macs == 16 * 28 * 28  # one per element, as documented
    assert blocks[1].receptive_field == (11, 11)  # 1 + 5 convs of 3x3 at stride 1


def test_frozen_parameters():
    model = build_model("lenet", dataset_info("digits"))
    for p in model[0].parameters():
        p.requires_grad_(False)
    result = trace_model(model, (1, 28, 28))
    assert result.frozen_params == 156
    assert result.trainable_params == 61_706 - 156
    assert (result.rows[1].trainable_params, result.rows[1].frozen_params) == (0, 156)


def test_every_zoo_model_traces_on_its_data():
    from tui_lab.data import DATASETS
    from tui_lab.models import MODELS

    for name, spec in MODELS.items():
        for ds in ("digits", "moons", "sine"):
            info = DATASETS[ds]
            if info.kind not in spec.kinds or (spec.classification_only and info.task != "classification"):
                continue
            result = trace(name, None, ds)
            assert result.error is None, (name, ds, result.error)
            # an autoencoder's output is its input (its own task); every other model predicts the data's targets
            expected = info.input_shape if spec.task == "reconstruction" else (info.output_dim,)
            assert result.output_shape == tuple(expected), (name, ds)
            model = build_model(name, info)
            assert result.total_params == sum(p.numel() for p in model.parameters())


def test_half_precision_model_and_a_caught_exception_inside_forward():
    half = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten()).to(torch.bfloat16)
    result = trace_model(half, (1, 6, 6))
    assert result.error is None and result.rows[-1].activation_bytes == 2 * 16 * 2

    class Careful(nn.Module):
        def __init__(self):
            super().__init__()
            self.bad = nn.Linear(3, 4)
            self.good = nn.Conv2d(1, 2, 3)

        def forward(self, x):
            try:
                self.bad(x)  # raises: 6 features, not 3
            except RuntimeError:
                pass
            return self.good(x)

    result = trace_model(Careful(), (1, 6, 6))
    assert result.error is None
    good = next(r for r in result.rows if r.name == "good")
    assert (good.depth, good.parent, good.output_shape) == (1, 0, (1, 2, 4, 4))
    assert result.rows[0].output_shape == (1, 2, 4, 4)
