"""`dllab conv / pool / transposed` through typer's CliRunner: JSON against torch, text, bad input."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from typer.testing import CliRunner

from tui_lab.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def run_json(*args: str) -> dict:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def f64(x) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64)


def test_conv_json_corr2d_seed_values():
    data = run_json("conv", "--input", "[[0,1,2],[3,4,5],[6,7,8]]", "--kernel", "[[0,1],[2,3]]")
    assert data["output"] == [[[19, 25], [37, 43]]]
    assert data["input_shape"] == [1, 3, 3] and data["kernel_shape"] == [1, 1, 2, 2]
    assert data["output_shape"] == [1, 2, 2]
    first = data["frames"][0]
    assert first["out_index"] == [0, 0, 0] and first["value"] == 19
    assert first["window"] == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert first["terms"] == [[0, 0], [1, 1], [3, 2], [4, 3]]
    assert len(data["frames"]) == 4


def test_conv_json_matches_torch_with_everything_on():
    args = ["conv", "--input", "random:2x6x7", "--kernel", "random:3x2x3x2", "--bias", "1,-2,3",
            "--padding", "2,1", "--stride", "2,3", "--dilation", "1,2", "--seed", "7", "--frames", "last"]
    data = run_json(*args)
    from tui_lab.conv_steps import parse_tensor

    x = f64(parse_tensor("random:2x6x7", seed=7)).unsqueeze(0)
    w = f64(parse_tensor("random:3x2x3x2", "kernel", seed=8))
    expected = F.conv2d(x, w, f64([1, -2, 3]), stride=(2, 3), padding=(2, 1), dilation=(1, 2))[0]
    assert torch.equal(f64(data["output"]), expected)
    assert len(data["frames"]) == 1 and data["frames"][0]["out_index"] == [2, 3, 2]


def test_conv_text_shows_stride_seed_products():
    result = run("conv", "--preset", "stride")
    assert result.exit_code == 0
    out = result.stdout
    assert "0x0 + 0x1 + 1x2 + 2x3 = 8" in out and "0x0 + 6x1 + 0x2 + 0x3 = 6" in out
    assert "floor((3 + 2x1 - 1x(2 - 1) - 1) / 3) + 1 = 2" in out
    assert "[.][.]" in out  # the window drawn over the padding


def test_conv_text_frames_last_only():
    out = run("conv", "--preset", "padding", "--frames", "last").stdout
    assert "step 16/16" in out and "step 1/16" not in out


@pytest.mark.parametrize("mode,fn", [("max", F.max_pool2d), ("avg", F.avg_pool2d)])
def test_pool_json_matches_torch(mode, fn):
    data = run_json("pool", "--input", "arange:5x5", "--kernel", "3", "--stride", "2", "--padding", "1",
                    "--mode", mode)
    x = torch.arange(25, dtype=torch.float64).reshape(1, 1, 5, 5)
    assert torch.equal(f64(data["output"]), fn(x, 3, 2, 1)[0])
    assert data["kernel_shape"] == [3, 3]


def test_pool_global_and_text():
    data = run_json("pool", "--input", "arange:2x4x4", "--kernel", "global", "--mode", "avg")
    assert data["output"] == [[[7.5]], [[23.5]]]
    out = run("pool", "--preset", "maxpool", "--frames", "last").stdout
    assert "max(4, 5, 7, 8) = 8" in out


def test_transposed_json_matches_seed_and_torch():
    data = run_json("transposed", "--input", "[[0,1],[2,3]]", "--kernel", "[[0,1],[2,3]]", "--stride", "2",
                    "--padding", "0")
    assert data["output"] == [[[0, 0, 0, 1], [0, 0, 2, 3], [0, 2, 0, 3], [4, 6, 6, 9]]]
    x = f64([[[[0, 1], [2, 3]]]])
    assert torch.equal(f64(data["output"]), F.conv_transpose2d(x, x, stride=2)[0])
    assert data["frames"][3]["in_index"] == [0, 1, 1]


BAD = [
    ("conv", "--stride", "0"),
    ("conv", "--padding", "-1"),
    ("conv", "--kernel", "ones:5x5"),
    ("conv", "--input", "[[1,2],[3]]"),
    ("conv", "--input", "[[1,2"),
    ("conv", "--input", "potato"),
    ("conv", "--input", "arange:100x100"),
    ("conv", "--input", "ones:17x3x3"),
    ("conv", "--dilation", "0"),
    ("conv", "--frames", "some"),
    ("conv", "--preset", "nope"),
    ("pool", "--mode", "median"),
    ("pool", "--kernel", "2", "--padding", "2"),
    ("transposed", "--padding", "9"),
]


@pytest.mark.parametrize("args", BAD, ids=[" ".join(a) for a in BAD])
def test_bad_configuration_exits_2_with_one_line(args):
    cmd, *rest = args
    base = ["--input", "arange:3x3"] if "--input" not in rest else []
    if cmd != "pool" and "--kernel" not in rest:
        base += ["--kernel", "ones:2x2"]
    result = run(cmd, *base, *rest)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert result.stdout == ""
