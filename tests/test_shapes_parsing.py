"""Input shapes parsed (bad ones name the field) and counts formatted."""

from __future__ import annotations

import pytest

from tui_lab.errors import ConfigError
from tui_lab.shapes import format_count, parse_input_shape


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
