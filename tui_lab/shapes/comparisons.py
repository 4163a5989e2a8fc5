"""Side-by-side comparisons, the seeds' tables: several models traced for the same input, totals lined up."""

from __future__ import annotations

from dataclasses import dataclass

from tui_lab.shapes.tracing import trace


# demo groups compared in the seeds: a learner opening one sees the others beside it
COMPARISONS: dict[str, tuple[str, ...]] = {
    "inception": ("inception-demo", "conv3x3-demo", "conv5x5-demo"),
    "reduction": ("reduction-demo", "direct5x5-demo"),
    "receptive": ("stacked3x3-demo", "single5x5-demo", "dilated-demo"),
}


@dataclass(frozen=True)
class CompareRow:
    model: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...] | None
    total_params: int
    total_macs: int
    receptive_field: tuple[int, ...] | None  # of the model's output, where tracked
    error: str | None = None


def comparison_group(spec: str) -> tuple[str, ...] | None:
    """The seeds' comparison a demo belongs to, e.g. inception-demo -> (inception, 3x3, 5x5)."""
    key = (spec or "").strip().lower()
    for group in COMPARISONS.values():
        if key in group:
            return group
    return None


def compare(specs, input_shape: str | tuple | None = None, dataset: str = "digits") -> tuple[CompareRow, ...]:
    """Trace several models for the same input and line up their totals."""
    rows = []
    for spec in specs:
        t = trace(spec, input_shape, dataset)
        rf = t.rows[0].receptive_field if t.rows else None
        rows.append(CompareRow(t.model, t.input_shape, t.output_shape, t.total_params, t.total_macs, rf,
                               t.error.message if t.error else None))
    return tuple(rows)
