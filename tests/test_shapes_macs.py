"""Parameters and MACs: the seeds' tables, hand counts, recurrent gates, counting lines that add up."""

from __future__ import annotations

import re

import pytest

from tui_lab.shapes import seed_count, seed_macs, trace


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


@pytest.mark.parametrize("cell, gates", [("rnn", 1), ("gru", 3), ("lstm", 4)])
def test_recurrent_macs(cell, gates):
    result = trace(cell)
    row = next(r for r in result.rows if r.type == cell.upper())
    assert row.input_shape == (1, 28, 28)  # 28 rows of 28 pixels, batch first
    assert row.output_shape == (1, 28, 64)
    assert row.macs == 28 * gates * 64 * (28 + 64)
    assert row.params == gates * 64 * (28 + 64) + 2 * gates * 64
    assert result.output_shape == (10,)


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
