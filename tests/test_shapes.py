"""Shape traces checked against a real forward pass, autograd, torchinfo, hand counts and the seeds."""

from __future__ import annotations

import re
import sys
import textwrap

import pytest
import torch
from torch import nn

from tui_lab.data import dataset_info
from tui_lab.errors import ConfigError
from tui_lab.models import build_model
from tui_lab.shapes import (
    DEMOS,
    format_count,
    parse_input_shape,
    resolve_model,
    seed_count,
    seed_macs,
    trace,
    trace_model,
)


# --- LeNet counted by hand -------------------------------------------------------------------

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


# --- torchinfo -------------------------------------------------------------------------------


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


# --- the seeds' numbers ----------------------------------------------------------------------


@pytest.mark.parametrize("spec, params, macs", [
    ("inception-demo", "0.16 M", "128 M"),
    ("conv3x3-demo", "0.44 M", "346 M"),
    ("conv5x5-demo", "1.22 M", "963 M"),
])
def test_seed_inception_table(spec, params, macs):
    result = trace(spec)
    assert result.input_shape == (192, 28, 28) and result.output_shape == (256, 28, 28)
    assert (seed_count(result.total_params), seed_macs(result.total_macs)) == (params, macs)
    # every output position costs one pass over the weights (no bias in these demos)
    assert result.total_macs == result.total_params * 28 * 28


def test_inception_weights_exactly():
    result = trace("inception-demo")
    assert result.total_params == 192 * 64 + 192 * 96 + 96 * 128 * 9 + 192 * 16 + 16 * 32 * 25 + 192 * 32
    branches = {r.name: r.output_shape[1] for r in result.rows if r.depth == 1 and r.type == "Conv2d"}
    assert branches == {"p1_1": 64, "p2_1": 96, "p2_2": 128, "p3_1": 16, "p3_2": 32, "p4_2": 32}
    # a ReLU module used in four branches gives a row per call, its parameters counted once
    assert sum(1 for r in result.rows if r.name == "relu") == 6
    # the concatenation keeps the widest view: the 5x5 path after a 1x1
    assert result.rows[0].receptive_field == (5, 5)


def test_one_by_one_reduction_example():
    reduced = trace("reduction-demo")
    direct = trace("direct5x5-demo")
    assert reduced.total_params == 1 * 1 * 128 * 32 + 5 * 5 * 32 * 256
    assert direct.total_params == 5 * 5 * 128 * 256
    assert round(direct.total_params / reduced.total_params) == 4
    assert reduced.output_shape == direct.output_shape == (256, 100, 100)


# --- receptive field checked with autograd ---------------------------------------------------


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


# --- branching blocks, containers, recurrent nets --------------------------------------------


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


@pytest.mark.parametrize("cell, gates", [("rnn", 1), ("gru", 3), ("lstm", 4)])
def test_recurrent_macs(cell, gates):
    result = trace(cell)
    row = next(r for r in result.rows if r.type == cell.upper())
    assert row.input_shape == (1, 28, 28)  # 28 rows of 28 pixels, batch first
    assert row.output_shape == (1, 28, 64)
    assert row.macs == 28 * gates * 64 * (28 + 64)
    assert row.params == gates * 64 * (28 + 64) + 2 * gates * 64
    assert result.output_shape == (10,)


def test_frozen_parameters():
    model = build_model("lenet", dataset_info("digits"))
    for p in model[0].parameters():
        p.requires_grad_(False)
    result = trace_model(model, (1, 28, 28))
    assert result.frozen_params == 156
    assert result.trainable_params == 61_706 - 156
    assert (result.rows[1].trainable_params, result.rows[1].frozen_params) == (0, 156)


# --- mismatch diagnosis ----------------------------------------------------------------------


def test_mismatch_linear_in_features():
    result = trace("mismatch-demo")
    e = result.error
    assert (e.layer, e.type, e.input_shape, e.expected) == ("fc1", "Linear", (1, 256), "in_features=400")
    assert "16 * 4 * 4 = 256" in e.message
    assert e.fix.startswith("Linear(in_features=256, out_features=120)")
    # rows up to the failure are there, the failing one last and marked
    assert [r.name for r in result.rows] == ["", "conv1", "act", "pool1", "conv2", "act", "pool2", "flatten", "fc1"]
    assert result.rows[-1].failed and result.rows[-1].output_shape is None
    assert result.rows[-2].output_shape == (1, 256)
    assert result.output_shape is None
    # the suggested fix works: with in_features=256 the forward pass goes through
    model = DEMOS["mismatch-demo"].build()
    model.fc1 = nn.Linear(256, 120)
    assert trace_model(model, (1, 28, 28)).error is None


def test_mismatch_zoo_model_on_a_bigger_input():
    e = trace("lenet", "1x32x32").error
    assert (e.layer, e.expected) == ("7", "in_features=400")
    assert e.fix.startswith("Linear(in_features=576")


def test_mismatch_channels_and_too_small_and_rnn():
    e = trace("lenet", "3x28x28").error
    assert (e.layer, e.type, e.expected) == ("0", "Conv2d", "in_channels=1")
    assert e.fix.startswith("Conv2d(in_channels=3)")
    e = trace("lenet", "1x4x4").error
    assert e.layer == "3" and "5x5 kernel" in e.message and e.input_shape == (1, 6, 2, 2)
    e = trace("lstm", "1x28x20").error
    assert (e.layer, e.expected) == ("rnn", "input_size=28")
    assert e.fix.startswith("LSTM(input_size=20)")


def test_error_in_a_models_own_forward_names_the_model():
    class ViewNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3)

        def forward(self, x):
            return self.conv(x).view(-1, 999)

    result = trace_model(ViewNet(), (1, 8, 8))
    assert result.error.layer == "" and result.error.type == "ViewNet"
    assert "'conv' returned 1x4x6x6" in result.error.message
    assert result.rows[1].output_shape == (1, 4, 6, 6)


# --- model specs and bad input ---------------------------------------------------------------


def test_user_module_and_class(tmp_path, monkeypatch):
    (tmp_path / "my_shapes_net.py").write_text(textwrap.dedent("""
        from torch import nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 26 * 26, 3))

            def forward(self, x):
                return self.body(x)

        def make():
            return nn.Sequential(nn.Flatten(), nn.Linear(784, 5))

        not_a_model = 3
    """))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    net = trace("my_shapes_net:Net")
    assert net.output_shape == (3,) and net.total_params == 2 * 9 + 2 + 2 * 26 * 26 * 3 + 3
    assert [r.depth for r in net.rows] == [0, 1, 2, 2, 2]
    assert trace("my_shapes_net:make").output_shape == (5,)
    with pytest.raises(ConfigError, match="has no attribute 'Missing'"):
        trace("my_shapes_net:Missing")
    with pytest.raises(ConfigError, match="neither an nn.Module nor callable"):
        trace("my_shapes_net:not_a_model")


@pytest.mark.parametrize("spec, match", [
    ("nosuch", "unknown model 'nosuch'; allowed: linear"),
    ("torchvision:resnet", "did you mean"),
    ("no_such_module_xyz:Net", "cannot import 'no_such_module_xyz'"),
    ("", "missing"),
])
def test_bad_model_names(spec, match):
    with pytest.raises(ConfigError, match=match) as info:
        trace(spec)
    assert info.value.field == "model"


@pytest.mark.parametrize("text", ["", "abc", "1x0x3", "1x-2", "1x2x3x4x5", "1.5x3", "1xx"])
def test_bad_input_shapes(text):
    with pytest.raises(ConfigError) as info:
        parse_input_shape(text)
    assert info.value.field == "input"
    assert f"got {text!r}" in info.value.message or "at most" in info.value.message


def test_input_shape_parsing_and_counts():
    assert parse_input_shape("1x28x28") == (1, 28, 28)
    assert parse_input_shape(" 3 x 32 x 32 ") == (3, 32, 32)
    assert parse_input_shape("28x28") == (28, 28)
    assert parse_input_shape((1, 8, 8)) == (1, 8, 8)
    with pytest.raises(ConfigError, match="at most"):
        parse_input_shape("3x10000x10000")
    assert format_count(1_228_800) == "1.22M" and format_count(999) == "999"
    with pytest.raises(ConfigError, match="dataset"):
        trace("lenet", None, "nosuch")



# --- upsampling: U-Net and FCN ---------------------------------------------------------------


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


# --- handing a row to the conv screen --------------------------------------------------------


def test_conv_presets_replay_the_layer_geometry():
    from tui_lab import conv_steps as cs
    from tui_lab.shapes import conv_preset

    seen = set()
    for spec in ("lenet", "lenet-relu", "dilated-demo", "inception-demo", "fcn-demo", "nin"):
        for row in trace(spec).rows:
            preset = conv_preset(row)
            if preset is None:
                assert not row.is_spatial_op or row.pool_mode not in ("conv", "max", "avg", "transposed")
                continue
            seen.add(preset["mode"])
            config = cs.build_config(dict(preset))
            n = int(preset["input"].split(":")[1].split("x")[0])
            x = torch.zeros(1, 1, n, n)
            k, s, p = tuple(preset["kernel_size"]), tuple(preset["stride"]), tuple(preset["padding"])
            if preset["mode"] == "conv":
                y = nn.functional.conv2d(x, torch.zeros(1, 1, *k), stride=s, padding=p, dilation=tuple(preset["dilation"]))
            elif preset["mode"] == "transposed":
                y = nn.functional.conv_transpose2d(x, torch.zeros(1, 1, *k), stride=s, padding=p)
            else:
                y = nn.functional.max_pool2d(x, k, s, p)
            assert cs.compute(config).output_shape[-2:] == tuple(y.shape[-2:]), (spec, row.name, preset)
    assert seen == {"conv", "max", "avg", "transposed"}
    assert conv_preset(trace("lenet").rows[7]) is None  # a Linear row


def test_user_module_is_reloaded_after_an_edit(tmp_path, monkeypatch):
    source = "from torch import nn\n\ndef make():\n    return nn.Sequential(nn.Flatten(), nn.Linear(784, {}))\n"
    path = tmp_path / "my_reloaded_net.py"
    path.write_text(source.format(5))
    monkeypatch.chdir(tmp_path)
    assert trace("my_reloaded_net:make").output_shape == (5,)
    path.write_text(source.format(7) + "\n# edited\n")
    assert trace("my_reloaded_net:make").output_shape == (7,)
    sys.modules.pop("my_reloaded_net", None)


def test_seed_comparison_groups():
    from tui_lab.shapes import COMPARISONS, compare, comparison_group

    assert comparison_group("conv5x5-demo") == ("inception-demo", "conv3x3-demo", "conv5x5-demo")
    assert comparison_group("lenet") is None
    rows = compare(COMPARISONS["inception"])
    assert [(seed_count(r.total_params), seed_macs(r.total_macs)) for r in rows] == [
        ("0.16 M", "128 M"), ("0.44 M", "346 M"), ("1.22 M", "963 M")]
    assert {r.output_shape for r in rows} == {(256, 28, 28)}
    rf = compare(COMPARISONS["receptive"])
    assert [r.receptive_field for r in rf] == [(5, 5)] * 3
    assert [r.total_params for r in rf] == [2 * 9, 25, 9]  # two 3x3 use fewer weights than one 5x5


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
            assert result.output_shape == (info.output_dim,), (name, ds)
            model = build_model(name, info)
            assert result.total_params == sum(p.numel() for p in model.parameters())


def _evaluate(expression: str) -> int:
    """'6x28x28 outputs * 1*5*5' -> 117600: the counting line's arithmetic, words dropped."""
    expression = re.sub(r"\([a-z ]+\)", "", expression).replace(",", "")
    expression = re.sub(r"(?<=\d)x(?=\d)", "*", expression)
    expression = re.sub(r"[a-z]+", "", expression)
    return eval(expression, {"__builtins__": {}})  # digits, + * ( ) only


@pytest.mark.parametrize("spec", ["lenet", "lstm", "gru", "fcn-demo", "resnet"])
def test_counting_lines_add_up(spec):
    checked = 0
    for row in trace(spec).rows:
        for line in row.counting:
            m = re.match(r"^(params|MACs) = (.*) = ([\d,]+)", line)
            assert m, line
            value = int(m.group(3).replace(",", ""))
            assert value == (row.params if m.group(1) == "params" else row.macs), (row.name, line)
            assert _evaluate(m.group(2)) == value, (row.name, line)
            checked += 1
    assert checked >= 4


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
