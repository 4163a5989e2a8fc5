"""A conv/pool row of a trace as a conv-screen preset: its geometry replayed on a small example input.

How large that example may be is the caller's (the screen's) business: `max_side` and
`max_side_transposed`. Standard library only.
"""

from __future__ import annotations

from typing import Any

from tui_lab.shapes.results import LayerRow

MODES = {"conv": "conv", "max": "max", "avg": "avg", "adaptive-avg": "avg", "adaptive-max": "max",
         "transposed": "transposed"}


def conv_preset(row: LayerRow, max_side: int, max_side_transposed: int | None = None) -> dict[str, Any] | None:
    """A `ConvScreen` preset that replays this conv/pool row's geometry on a small example input.

    The example is `arange:HxW` with each side at most `max_side` (larger when the kernel needs more to
    give one output); a transposed convolution's output grows, so its sides are at most
    `max_side_transposed` (default `max_side`). Keys follow `conv_steps.build_config` (mode, input,
    kernel, padding, stride, dilation, title) plus kernel_size. None for rows that are not a 2-D
    convolution, transposed convolution or max/average pooling.
    """
    if not row.is_spatial_op or row.input_shape is None or row.kernel_size is None or len(row.kernel_size) != 2:
        return None
    mode = MODES.get(row.pool_mode or "")
    if mode is None or row.stride is None or row.dilation is None or row.padding is None:
        return None
    k, s, d = row.kernel_size, row.stride, row.dilation
    if isinstance(row.padding, str):  # 'same' / 'valid'
        p = tuple(di * (ki - 1) // 2 for ki, di in zip(k, d)) if row.padding == "same" else (0, 0)
    else:
        p = tuple(row.padding)
    sizes = row.input_shape[-2:]
    if mode == "transposed":
        cap = max_side if max_side_transposed is None else max_side_transposed
        side = [min(n, cap) for n in sizes]  # the output grows: keep the example small
    else:
        side = [max(min(n, max_side), di * (ki - 1) + 1 - 2 * pi, 1) for n, ki, di, pi in zip(sizes, k, d, p)]
    preset: dict[str, Any] = {
        "mode": mode,
        "input": f"arange:{side[0]}x{side[1]}",
        "kernel_size": list(k),
        "padding": list(p),
        "stride": list(s),
        "title": f"{row.name or 'model'} ({row.type}) from the shape trace, on a {side[0]}x{side[1]} example",
    }
    preset["kernel"] = f"ones:{k[0]}x{k[1]}" if mode in ("conv", "transposed") else list(k)
    preset["dilation"] = list(d)
    return preset
