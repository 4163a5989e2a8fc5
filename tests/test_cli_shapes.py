"""`dllab shapes` as a user runs it: text, --json, --depth, mismatch exit 1, bad input exit 2."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tui_lab.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["shapes", *args])


def test_text_table_and_totals():
    result = run("lenet", "--input", "1x28x28")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "1x6x28x28" in out and "1x16x5x5" in out
    assert "total params 61,706" in out
    assert "total MACs 416,520" in out
    assert "MACs: weight multiply-accumulates" in out


def test_json_shape():
    result = run("lenet", "--dataset", "digits", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert {"rows", "total_params", "total_macs"} <= set(data)
    assert data["total_params"] == 61_706 and data["total_macs"] == 416_520
    for row in data["rows"]:
        assert {"name", "type", "depth", "input_shape", "output_shape", "params", "macs"} <= set(row)
    conv = data["rows"][1]
    assert (conv["name"], conv["type"], conv["depth"]) == ("0", "Conv2d", 1)
    assert (conv["input_shape"], conv["output_shape"]) == ([1, 1, 28, 28], [1, 6, 28, 28])
    assert (conv["params"], conv["macs"]) == (156, 117_600)
    assert "error" not in data


def test_depth_limits_rows_not_totals():
    full = json.loads(run("googlenet", "--json").stdout)
    shallow = json.loads(run("googlenet", "--json", "--depth", "1").stdout)
    assert max(r["depth"] for r in full["rows"]) == 2
    assert max(r["depth"] for r in shallow["rows"]) == 1
    assert len(shallow["rows"]) < len(full["rows"])
    assert shallow["total_macs"] == full["total_macs"] and shallow["total_params"] == full["total_params"]
    inception = next(r for r in shallow["rows"] if r["type"] == "Inception")
    assert inception["macs"] > 0  # a collapsed block still carries its children's MACs


def test_seed_demo():
    data = json.loads(run("inception-demo", "--json").stdout)
    assert data["input_shape"] == [192, 28, 28] and data["output_shape"] == [256, 28, 28]
    assert data["total_params"] == 163_328 and data["total_macs"] == 128_049_152


def test_mismatch_json_exit_1():
    result = run("mismatch-demo", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["error"]["layer"] == "fc1"
    assert data["error"]["input_shape"] == [1, 256]
    assert "in_features=400" in data["error"]["message"]
    assert data["error"]["fix"].startswith("Linear(in_features=256")
    assert [r["name"] for r in data["rows"]][-1] == "fc1"
    assert data["rows"][-2]["output_shape"] == [1, 256]


def test_mismatch_text_exit_1():
    result = run("lenet", "--input", "1x32x32")
    assert result.exit_code == 1
    assert "FAILED" in result.stdout
    assert "forward pass failed at 7 (Linear) with input 1x576" in result.stderr
    assert "fix: Linear(in_features=576" in result.stderr


@pytest.mark.parametrize("args, text", [
    (["nosuch"], "error: model: unknown model 'nosuch'"),
    (["torchvision:nope"], "error: model: unknown torchvision classification model 'nope'"),
    (["lenet", "--input", "1xax28"], "error: input: expected 1 to 4 positive integers"),
    (["lenet", "--input", "0x28x28"], "error: input: every size must be >= 1"),
    (["lenet", "--dataset", "nosuch"], "error: dataset: unknown dataset 'nosuch'"),
    (["lenet", "--depth", "-1"], "error: depth: must be an integer >= 0"),
])
def test_bad_input_exit_2_one_line(args, text):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(text)
    assert result.stderr.count("\n") == 1


def test_side_by_side_with_vs():
    result = run("inception-demo", "--depth", "0", "--vs", "conv3x3-demo", "--vs", "conv5x5-demo")
    assert result.exit_code == 0
    lines = [line.split() for line in result.stdout.splitlines()]
    table = {parts[0]: parts for parts in lines if parts and parts[0].endswith("-demo") and len(parts) > 5}
    assert table["inception-demo"][2:6] == ["163,328", "0.16", "M", "128,049,152"]
    assert table["conv3x3-demo"][3:4] == ["0.44"] and "346" in table["conv3x3-demo"]
    assert table["conv5x5-demo"][3:4] == ["1.22"] and "963" in table["conv5x5-demo"]
    data = json.loads(run("reduction-demo", "--json", "--vs", "direct5x5-demo").stdout)
    assert [c["total_params"] for c in data["compare"]] == [1 * 1 * 128 * 32 + 5 * 5 * 32 * 256, 5 * 5 * 128 * 256]


def test_demo_in_a_group_prints_the_compare_hint():
    result = run("conv3x3-demo")
    assert "compare: dllab shapes conv3x3-demo --vs inception-demo --vs conv5x5-demo" in result.stdout


def test_users_own_module_from_the_current_directory(tmp_path, monkeypatch):
    (tmp_path / "cli_user_net.py").write_text(
        "from torch import nn\n\n"
        "class Net(nn.Sequential):\n"
        "    def __init__(self):\n"
        "        super().__init__(nn.Conv2d(3, 8, 3, stride=2), nn.Flatten(), nn.Linear(8 * 15 * 15, 4))\n"
    )
    monkeypatch.chdir(tmp_path)
    data = json.loads(run("cli_user_net:Net", "--input", "3x32x32", "--json").stdout)
    assert [r["output_shape"] for r in data["rows"]] == [[1, 4], [1, 8, 15, 15], [1, 1800], [1, 4]]
    assert data["total_params"] == 8 * 3 * 9 + 8 + 1800 * 4 + 4
    result = run("cli_user_net:Nope")
    assert result.exit_code == 2 and "has no attribute 'Nope'" in result.stderr


def test_explain_prints_the_arithmetic():
    out = run("lenet", "--explain").stdout
    assert "params = 6*1*5*5 + 6 = 156" in out
    assert "MACs = 6x28x28 outputs * 1*5*5 = 117,600" in out
    assert "H: floor((28 - 5 + 2*2) / 1) + 1 = 28" in out
    assert "receptive field 16x16, jump 4x4" in out
    assert "(Sigmoid)" not in out  # nothing to explain for an activation
