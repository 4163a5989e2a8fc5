"""conv_steps: every output against torch.nn.functional, every preset against the seed values."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tui_lab import conv_steps as cs
from tui_lab.errors import ConfigError

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def t(x) -> torch.Tensor:
    return torch.tensor(cs._lists(x), dtype=torch.float64)


def torch_output(cfg: cs.Config) -> torch.Tensor:
    """What torch computes for the same configuration (float64, exact on small integers)."""
    x = t(cfg.input).unsqueeze(0)
    if cfg.mode == "conv":
        y = F.conv2d(x, t(cfg.kernel), t(cfg.bias), stride=cfg.stride, padding=cfg.padding,
                     dilation=cfg.dilation)
    elif cfg.mode == "max":
        y = F.max_pool2d(x, cfg.kernel_size, cfg.stride, cfg.padding, cfg.dilation)
    elif cfg.mode == "avg":
        y = F.avg_pool2d(x, cfg.kernel_size, cfg.stride, cfg.padding)
    else:
        y = F.conv_transpose2d(x, t(cfg.kernel), t(cfg.bias), stride=cfg.stride, padding=cfg.padding,
                               dilation=cfg.dilation)
    return y[0]


def check_frames(result: cs.Result) -> None:
    """Each frame's arithmetic adds up and reads the cells it says it reads."""
    cfg = result.config
    for n, f in enumerate(result.frames):
        assert f.step == n
        if cfg.mode == "conv":
            o, i, j = f.out_index
            assert len(f.terms) == cfg.input_shape[0] * cfg.kernel_size[0] * cfg.kernel_size[1]
            total = sum(x * w for x, w in f.terms)
            assert f.running[-1] == total and f.value == total + f.bias
            assert result.output[o][i][j] == f.value
            cells = f.window * cfg.input_shape[0]
            assert [result.padded[c][r][col] for c, (r, col) in zip(f.channels, cells)] == [x for x, _ in f.terms]
        elif cfg.mode in ("max", "avg"):
            c, i, j = f.out_index
            assert result.output[c][i][j] == f.value
            if cfg.mode == "max":
                assert f.value == max((x for x, _ in f.terms), default=float("-inf")) == f.running[-1]
            else:
                assert f.value == sum(x for x, _ in f.terms) / f.divisor
            assert f.window[0] == (i * cfg.stride[0], j * cfg.stride[1])
            assert f.window[-1] == (f.window[0][0] + cfg.dilation[0] * (cfg.kernel_size[0] - 1),
                                    f.window[0][1] + cfg.dilation[1] * (cfg.kernel_size[1] - 1))
        else:
            c, i, j = f.in_index
            assert f.value == cfg.input[c][i][j]
            assert all(x == f.value for x, _ in f.terms)


def assert_matches_torch(cfg: cs.Config) -> cs.Result:
    result = cs.compute(cfg)
    expected = torch_output(cfg)
    assert tuple(expected.shape) == result.output_shape
    assert torch.equal(t(result.output), expected), (result.output, expected)
    assert [f.value for f in result.formulas] == list(expected.shape[1:])
    check_frames(result)
    return result


ints = st.integers(-5, 5)


def tensor(shape):
    if not shape:
        return ints
    return st.lists(tensor(shape[1:]), min_size=shape[0], max_size=shape[0])


@SETTINGS
@given(data=st.data(), c=st.integers(1, 3), o=st.integers(1, 3), h=st.integers(1, 7), w=st.integers(1, 7),
       kh=st.integers(1, 4), kw=st.integers(1, 4), ph=st.integers(0, 2), pw=st.integers(0, 2),
       sh=st.integers(1, 3), sw=st.integers(1, 3), dh=st.integers(1, 2), dw=st.integers(1, 2))
def test_random_conv_equals_torch(data, c, o, h, w, kh, kw, ph, pw, sh, sw, dh, dw):
    assume(dh * (kh - 1) + 1 <= h + 2 * ph and dw * (kw - 1) + 1 <= w + 2 * pw)
    x = data.draw(tensor((c, h, w)))
    k = data.draw(tensor((o, c, kh, kw)))
    bias = data.draw(st.lists(ints, min_size=o, max_size=o))
    cfg = cs.build_config({"input": x, "kernel": k, "bias": bias, "padding": [ph, pw],
                           "stride": [sh, sw], "dilation": [dh, dw]})
    assert_matches_torch(cfg)


@SETTINGS
@given(data=st.data(), mode=st.sampled_from(["max", "avg"]), c=st.integers(1, 2), h=st.integers(1, 7),
       w=st.integers(1, 7), kh=st.integers(1, 4), kw=st.integers(1, 4), sh=st.integers(1, 3),
       sw=st.integers(1, 3), ph=st.integers(0, 2), pw=st.integers(0, 2), d=st.integers(1, 2))
def test_random_pool_equals_torch(data, mode, c, h, w, kh, kw, sh, sw, ph, pw, d):
    d = d if mode == "max" else 1  # avg_pool2d has no dilation
    assume(2 * ph <= kh and 2 * pw <= kw and d * (kh - 1) + 1 <= h + 2 * ph and d * (kw - 1) + 1 <= w + 2 * pw)
    x = data.draw(tensor((c, h, w)))
    cfg = cs.build_config({"mode": mode, "input": x, "kernel": [kh, kw], "stride": [sh, sw],
                           "padding": [ph, pw], "dilation": d})
    assert_matches_torch(cfg)


@SETTINGS
@given(data=st.data(), c=st.integers(1, 2), o=st.integers(1, 2), h=st.integers(1, 5), w=st.integers(1, 5),
       kh=st.integers(1, 3), kw=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 2),
       d=st.integers(1, 2))
def test_random_transposed_equals_torch(data, c, o, h, w, kh, kw, s, p, d):
    assume(cs.transposed_out_size(h, kh, p, s, d) >= 1 and cs.transposed_out_size(w, kw, p, s, d) >= 1)
    x = data.draw(tensor((c, h, w)))
    k = data.draw(tensor((c, o, kh, kw)))
    bias = data.draw(st.lists(ints, min_size=o, max_size=o))
    cfg = cs.build_config({"mode": "transposed", "input": x, "kernel": k, "bias": bias, "stride": s,
                           "padding": p, "dilation": d})
    result = assert_matches_torch(cfg)
    # The scatter frames, replayed, rebuild the uncropped output; running totals agree on the way.
    canvas = [[[cfg.bias[k]] * len(result.full[0][0]) for _ in result.full[0]] for k in range(o)]
    for f in result.frames:
        for (r, col), (x_, w_), total in zip(f.window, f.terms, f.running):
            canvas[f.out_index[0]][r][col] += x_ * w_
            assert canvas[f.out_index[0]][r][col] == total
    assert cs._tuples(canvas) == result.full


@pytest.mark.parametrize("name", sorted(cs.PRESETS))
def test_every_preset_equals_torch(name):
    assert_matches_torch(cs.build_config({"preset": name}))


# Values printed in seed 000 (and the d2l chapters seed 003 follows).
SEED_OUTPUTS = {
    "corr2d": [[[19, 25], [37, 43]]],
    "edge": [[[0, 1, 0, 0, 0, -1, 0]] * 6],
    "multi-channel": [[[56, 72], [104, 120]]],
    "multi-out": [[[56, 72], [104, 120]], [[76, 100], [148, 172]], [[96, 128], [192, 224]]],
    "maxpool": [[[4, 5], [7, 8]]],
    "avgpool": [[[2.0, 3.0], [5.0, 6.0]]],
    "pool-padding": [[[5, 7], [13, 15]]],
    "global-avg": [[[7.5]], [[23.5]]],
    "transposed": [[[0, 0, 1], [0, 4, 6], [4, 12, 9]]],
    "transposed-stride": [[[0, 0, 0, 1], [0, 0, 2, 3], [0, 2, 0, 3], [4, 6, 6, 9]]],
    "transposed-padding": [[[4]]],
}


@pytest.mark.parametrize("name", sorted(SEED_OUTPUTS))
def test_preset_outputs_match_seed_values(name):
    result = cs.compute(cs.build_config({"preset": name}))
    assert cs._lists(result.output) == SEED_OUTPUTS[name]


def test_preset_names_forgive_case_and_dashes():
    assert cs.build_config({"preset": "multichannel"}).name == "multi-channel"
    assert cs.build_config({"preset": "Global_Avg"}).name == "global-avg"


def test_corr2d_first_frame_as_written():
    result = cs.compute(cs.build_config({"preset": "corr2d"}))
    assert result.frames[0].products_text() == "0x0 + 1x1 + 3x2 + 4x3 = 19"
    assert result.frames[0].window == ((0, 0), (0, 1), (1, 0), (1, 1))
    assert result.frames[0].running == (0, 1, 7, 19)


def test_padding_seed_values():
    result = cs.compute(cs.build_config({"preset": "padding"}))
    assert len(result.padded[0]) == 5 and len(result.padded[0][0]) == 5
    assert result.output_shape == (1, 4, 4)
    assert result.frames[0].products_text() == "0x0 + 0x1 + 0x2 + 0x3 = 0"
    assert result.is_padding(0, 0) and not result.is_padding(1, 1)


def test_stride_3_2_seed_values():
    result = cs.compute(cs.build_config({"preset": "stride"}))
    texts = [f.products_text() for f in result.frames]
    assert "0x0 + 0x1 + 1x2 + 2x3 = 8" in texts
    assert "0x0 + 6x1 + 0x2 + 0x3 = 6" in texts
    assert result.formulas[0].text == "floor((3 + 2x1 - 1x(2 - 1) - 1) / 3) + 1 = 2"


def test_sobel_finds_the_vertical_edge_only():
    result = cs.compute(cs.build_config({"preset": "sobel"}))
    gx, gy = result.output
    assert all(v == 0 for row in gy for v in row)  # no horizontal edges
    assert gx[0] == (-4, -4, 0, 0, 4, 4)


def test_1x1_mixes_channels_per_pixel():
    result = cs.compute(cs.build_config({"preset": "1x1"}))
    assert result.output_shape == (2, 3, 3)
    assert result.output[0][0][0] == 0 - 18 and result.output[1][1][1] == 4 + 13 + 22


def test_formula_text_and_general_form():
    cfg = cs.build_config({"input": "arange:7x7", "kernel": "ones:3x3", "padding": 1, "stride": 2,
                           "dilation": 2})
    fh, fw = cs.formulas(cfg)
    assert fh.text == "floor((7 + 2x1 - 2x(3 - 1) - 1) / 2) + 1 = 3" and fh.value == 3
    assert fh.general == "floor((n + 2p - d(k - 1) - 1) / s) + 1"
    tr = cs.formulas(cs.build_config({"preset": "transposed-stride"}))[1]
    assert tr.text == "(2 - 1)x2 - 2x0 + 1x(2 - 1) + 1 = 4"


def test_generators_and_seed():
    assert cs.parse_tensor("arange:2x3") == [[0, 1, 2], [3, 4, 5]]
    assert cs.parse_tensor("ones:1x2") == [[1, 1]]
    a = cs.parse_tensor("random:2x3x3", seed=1)
    assert a == cs.parse_tensor("random:2x3x3", seed=1) != cs.parse_tensor("random:2x3x3", seed=2)
    assert all(0 <= v <= 9 for ch in a for row in ch for v in row)


def test_digit_from_embedded_data():
    from sklearn.datasets import load_digits

    digit = cs.parse_tensor("digit:3")
    assert digit == load_digits().images[3].astype(int).tolist()
    assert len(digit) == 8 and max(max(r) for r in digit) <= 16


def test_mixed_float_input_and_json_text():
    cfg = cs.build_config({"input": "[[0.5, 1], [2, 3.25]]", "kernel": "[[1, -1]]", "bias": "0.5"})
    assert_matches_torch(cfg)


def test_to_json_shape():
    result = cs.compute(cs.build_config({"preset": "corr2d"}))
    data = result.to_json("last")
    assert {"input_shape", "kernel_shape", "output_shape", "output", "frames"} <= set(data)
    assert data["output"] == [[[19, 25], [37, 43]]] and len(data["frames"]) == 1
    assert set(data["frames"][0]) >= {"out_index", "window", "terms", "value"}
    assert len(result.to_json()["frames"]) == 4


def test_live_edits_stay_true_to_torch():
    cfg = cs.build_config({"preset": "digit"})
    bigger = cs.resize_kernel(cfg, 4, 4)
    assert bigger.kernel_size == (4, 4) and bigger.kernel[0][0][0] == (-1, 0, 1, 1)
    assert_matches_torch(bigger)
    for mode in ("max", "avg", "transposed", "conv"):
        cfg = cs.switch_mode(cfg, mode)
        assert cfg.mode == mode
        assert_matches_torch(cfg)
    assert cfg.kernel[0][0] == cs.SOBEL_X  # the round trip through pooling keeps the kernel


BAD = [
    ({"stride": 0}, "stride"),
    ({"stride": "1,0"}, "stride"),
    ({"padding": -1}, "padding"),
    ({"dilation": 0}, "dilation"),
    ({"kernel": "ones:4x4"}, "kernel"),
    ({"kernel": "ones:2x2", "dilation": 3}, "kernel"),
    ({"input": [[1, 2], [3]]}, "input"),
    ({"input": "[[1, 2], [3, 4]"}, "input"),
    ({"input": "squares:3x3"}, "input generator"),
    ({"input": "nonsense"}, "input"),
    ({"input": [[True, 1], [1, 1]]}, "input"),
    ({"input": []}, "input"),
    ({"input": "arange:65x65"}, "input"),
    ({"input": "ones:17x3x3"}, "input"),
    ({"input": [[[[[1]]]]]}, "input"),
    ({"kernel": "ones:17x17", "input": "ones:20x20"}, "kernel"),
    ({"input": "ones:16x64x64", "kernel": "ones:16x16x3x3"}, "input"),  # above the products limit
    ({"input": "ones:2x3x3", "kernel": "ones:2x2"}, "kernel"),
    ({"input": "ones:2x3x3", "kernel": "ones:1x3x2x2"}, "kernel"),
    ({"bias": "1,2"}, "bias"),
    ({"input": "digit:5000"}, "input"),
    ({"input": "digit:x"}, "input"),
    ({"preset": "nope"}, "preset"),
    ({"mode": "median"}, "mode"),
    ({"seed": "x"}, "seed"),
    ({"mode": "max", "kernel": 2, "padding": 2}, "padding"),
    ({"mode": "max", "kernel": 5}, "kernel"),
    ({"mode": "avg", "dilation": 2}, "dilation"),
    ({"mode": "transposed", "kernel": "ones:2x2", "padding": 3}, "padding"),
]


@pytest.mark.parametrize("spec,field", BAD, ids=[f"{i}-{f}" for i, (_, f) in enumerate(BAD)])
def test_bad_configurations_raise_config_error(spec, field):
    base = {"input": "arange:3x3", "kernel": "ones:2x2"}
    if spec.get("mode") in ("max", "avg"):
        base.pop("kernel")
    with pytest.raises(ConfigError) as info:
        cs.build_config({**base, **spec})
    assert info.value.field == field
    assert "\n" not in str(info.value)


def test_live_edit_errors():
    cfg = cs.build_config({"preset": "maxpool"})
    with pytest.raises(ConfigError):
        cs.resize_kernel(cfg, 0, 0)
    with pytest.raises(ConfigError):
        cs.resize_kernel(cfg, 4, 4)  # larger than the 3x3 input


def test_core_imports_neither_textual_nor_torch():
    code = ("import sys, tui_lab.conv_steps as c; c.compute(c.build_config({'preset': 'corr2d'}));"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'torch') or m.startswith('tui_lab.ui')];"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_dilated_max_pool_window_wholly_in_the_padding_is_minus_infinity():
    """Found by hypothesis: a 2x2 input, kernel 2, dilation 3, padding 1 -> one window of padding only."""
    cfg = cs.build_config({"mode": "max", "input": [[0, 1], [2, 3]], "kernel": 2, "stride": 1,
                           "padding": 1, "dilation": 3})
    result = assert_matches_torch(cfg)
    assert result.output[0][0][0] == float("-inf")
    assert cs.products_text(result.frames[0]) == "max(only padding) = -inf"
