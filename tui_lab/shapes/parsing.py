"""Text in and out: input shapes parsed from '1x28x28', counts, shapes and bytes formatted for both faces.

Standard library only.
"""

from __future__ import annotations

import math
import re

from tui_lab.errors import ConfigError

MAX_INPUT_ELEMENTS = 50_000_000


def parse_input_shape(text: str | tuple | list | None) -> tuple[int, ...]:
    """'1x28x28' -> (1, 28, 28). One to four positive integers, without the batch dimension."""
    if isinstance(text, (tuple, list)):
        parts = [str(p) for p in text]
        shown = "x".join(parts)
    else:
        shown = (text or "").strip()
        parts = re.split(r"\s*[x×X,*]\s*", shown) if shown else []
    allowed = "1 to 4 positive integers joined by 'x', like 1x28x28 (CxHxW) or 28x28 (steps x features)"
    if not parts or len(parts) > 4 or not all(p.strip().isdigit() and len(p.strip()) <= 12 for p in parts):
        from tui_lab.limits import shown as cut

        raise ConfigError("input", f"expected {allowed}; got {cut(shown)}")
    shape = tuple(int(p) for p in parts)
    if any(s < 1 for s in shape):
        raise ConfigError("input", f"every size must be >= 1; got {shown!r}")
    if math.prod(shape) > MAX_INPUT_ELEMENTS:
        raise ConfigError("input", f"at most {MAX_INPUT_ELEMENTS:,} elements; got {shown!r} = {math.prod(shape):,}")
    return shape


def format_shape(shape) -> str:
    return "x".join(str(s) for s in shape) if shape else "-"


def format_count(n: int | None) -> str:
    """Compact count, truncated (not rounded) like the seeds' table: 1,228,800 -> '1.22M'."""
    if n is None:
        return "-"
    for unit, size in (("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if abs(n) >= size:
            value = math.floor(n / size * 100) / 100
            return f"{value:.2f}{unit}"
    return str(n)


def format_bytes(n: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def seed_count(n: int) -> str:
    """Millions truncated to two decimals, the seeds' table format: 163,328 -> '0.16 M'."""
    return f"{math.floor(n / 1e6 * 100) / 100:.2f} M"


def seed_macs(n: int) -> str:
    """Millions truncated to whole numbers: 346,816,512 -> '346 M'."""
    return f"{n // 10**6} M"
