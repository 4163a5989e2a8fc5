"""The seeds' side-by-side comparisons."""

from __future__ import annotations

from tui_lab.shapes import COMPARISONS, compare, comparison_group, seed_count, seed_macs


def test_seed_comparison_groups():
    assert comparison_group("conv5x5-demo") == ("inception-demo", "conv3x3-demo", "conv5x5-demo")
    assert comparison_group("lenet") is None
    rows = compare(COMPARISONS["inception"])
    assert [(seed_count(r.total_params), seed_macs(r.total_macs)) for r in rows] == [
        ("0.16 M", "128 M"), ("0.44 M", "346 M"), ("1.22 M", "963 M")]
    assert {r.output_shape for r in rows} == {(256, 28, 28)}
    rf = compare(COMPARISONS["receptive"])
    assert [r.receptive_field for r in rf] == [(5, 5)] * 3
    assert [r.total_params for r in rf] == [2 * 9, 25, 9]  # two 3x3 use fewer weights than one 5x5
