"""One place for parsing numbers typed by a user and for the limits the lab enforces.

Integers are parsed as integers (never through a float, so `9223372036854775807` stays exact and
`1e30` is checked as the exact number it names), every number is range-checked before use, and the
value echoed in an error is cut short (`shown`) so a 100 kB argument never floods the terminal.
Memory is estimated before a model is built or traced (`check_memory`). No UI imports; no torch at
import time.
"""

from __future__ import annotations

import math
import os
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from tui_lab.errors import ConfigError

INT64_MAX = 2**63 - 1
FLOAT32_MAX = 3.4028234663852886e38
FLOAT32_TINY = 1.1754943508222875e-38  # smallest normal float32

MAX_EPOCHS = 1_000_000
MAX_BATCH_SIZE = 2**24
MAX_REPORT_EVERY = 1_000_000
MAX_HIDDEN = 2**31 - 1  # one layer's width (torch's limit); memory is checked before building
MAX_SHOWN = 40  # characters of a user's value echoed in an error line
MAX_NUMBER_TEXT = 400  # longer number strings are refused before parsing


def shown(value: Any, limit: int = MAX_SHOWN) -> str:
    """repr(value), cut to `limit` characters with a note of the full length: safe to echo."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) <= limit:
        return repr(text) if isinstance(value, str) else text
    cut = text[:limit]
    return (repr(cut)[:-1] + "…'" if isinstance(value, str) else cut + "…") + f" ({len(text):,} characters)"


def _range_text(low: int | float | None, high: int | float | None) -> str:
    if low is not None and high is not None:
        return f"from {low:,} to {high:,}" if isinstance(low, int) else f"from {low:g} to {high:g}"
    if low is not None:
        return f">= {low:,}" if isinstance(low, int) else f">= {low:g}"
    if high is not None:
        return f"<= {high:,}" if isinstance(high, int) else f"<= {high:g}"
    return "any"


def parse_int(field: str, value: Any, low: int | None = None, high: int | None = INT64_MAX) -> int:
    """A whole number in [low, high]; strings are parsed exactly ('1e3' and '5.0' are whole numbers)."""
    allowed = f"must be a whole number {_range_text(low, high)}"
    if isinstance(value, bool):
        raise ConfigError(field, f"{allowed}, got {shown(value)}")
    if isinstance(value, int):
        exact: Decimal | int = value
    elif isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise ConfigError(field, f"{allowed}, got {shown(value)}")
        exact = Decimal(value)
    elif isinstance(value, str):
        text = value.strip().replace("_", "")
        if not text or len(text) > MAX_NUMBER_TEXT:
            raise ConfigError(field, f"{allowed}, got {shown(value)}")
        try:
            exact = Decimal(text)
        except InvalidOperation:
            raise ConfigError(field, f"{allowed}, got {shown(value)}") from None
        if not exact.is_finite() or exact != exact.to_integral_value():
            raise ConfigError(field, f"{allowed}, got {shown(value)}")
    else:
        raise ConfigError(field, f"{allowed}, got {shown(value)}")
    # compare before converting: int(Decimal('1e999999999')) would take forever
    if (low is not None and exact < low) or (high is not None and exact > high):
        raise ConfigError(field, f"{allowed}, got {shown(value)}")
    return int(exact)


def parse_float(field: str, value: Any, low: float | None = None, high: float | None = FLOAT32_MAX,
                low_open: bool = False, high_open: bool = False) -> float:
    """A finite number in the range (open or closed at each end), at most float32's largest by default."""
    lo = "" if low is None else (f"> {low:g}" if low_open else f">= {low:g}")
    hi = "" if high is None else (f"< {high:g}" if high_open else f"<= {high:g}")
    allowed = "must be a finite number" + (f" {lo}" if lo else "") + (" and" if lo and hi else "") + (f" {hi}" if hi else "")
    if isinstance(value, bool):
        raise ConfigError(field, f"{allowed}, got {shown(value)}")
    if isinstance(value, str) and len(value) > MAX_NUMBER_TEXT:
        raise ConfigError(field, f"{allowed}, got {shown(value)}")
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(field, f"{allowed}, got {shown(value)}") from None
    if not math.isfinite(x):
        raise ConfigError(field, f"{allowed}, got {shown(value)}")
    if low is not None and (x <= low if low_open else x < low):
        raise ConfigError(field, f"{allowed}, got {shown(value)}")
    if high is not None and (x >= high if high_open else x > high):
        raise ConfigError(field, f"{allowed}, got {shown(value)}")
    return x


def parse_lr(value: Any, field: str = "lr") -> float:
    """A learning rate: finite, > 0, and representable as a float32 (the models' dtype)."""
    lr = parse_float(field, value, 0.0, FLOAT32_MAX, low_open=True)
    if lr < FLOAT32_TINY:
        raise ConfigError(field, f"must be a finite number > 0 and within float32 range "
                                 f"({FLOAT32_TINY:.3g} to {FLOAT32_MAX:.3g}), got {shown(value)}")
    return lr


def parse_epochs(value: Any, field: str = "epochs") -> int:
    return parse_int(field, value, 1, MAX_EPOCHS)


def parse_batch_size(value: Any, field: str = "batch_size") -> int:
    return parse_int(field, value, 1, MAX_BATCH_SIZE)


def parse_seed(value: Any, field: str = "seed") -> int:
    return parse_int(field, value, 0, INT64_MAX)


def parse_run_id(value: Any, field: str = "run") -> int:
    """A run id: a whole number from 1 to the largest SQLite integer."""
    try:
        return parse_int(field, value, 1, INT64_MAX)
    except ConfigError:
        raise ConfigError(field, f"a run id is a whole number from 1 to {INT64_MAX} (see `dllab runs`), "
                                 f"got {shown(value)}") from None


def parse_int_list(field: str, text: Any, low: int = 1, high: int = MAX_HIDDEN) -> list[int]:
    """'256,128' -> [256, 128], each a whole number in [low, high]."""
    if isinstance(text, (list, tuple)):
        parts = list(text)
    else:
        raw = str(text)
        if len(raw) > MAX_NUMBER_TEXT:
            raise ConfigError(field, f"must be whole numbers separated by commas, e.g. 256,128; got {shown(text)}")
        parts = [p for p in raw.replace(" ", "").split(",") if p]
    if not parts:
        raise ConfigError(field, f"must be whole numbers separated by commas, e.g. 256,128; got {shown(text)}")
    out = []
    for p in parts:
        try:
            out.append(parse_int(field, p, low, high))
        except ConfigError:
            raise ConfigError(field, f"must be whole numbers from {low:,} to {high:,} separated by commas, "
                                     f"e.g. 256,128; got {shown(text)}") from None
    return out


MAX_NESTING = 6  # nested-list inputs are at most 4-D; a little slack for a clear shape error later


def check_nesting(field: str, text: str, most: int = MAX_NESTING) -> None:
    """ConfigError when JSON text nests lists deeper than `most` (checked by a scan, not by recursion,
    so 30,000 brackets give one line instead of a RecursionError)."""
    depth = deepest = 0
    for ch in text:
        if ch == "[":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > most:
                    raise ConfigError(field, f"nested lists at most {most} deep (a tensor is at most 4-D), "
                                             f"got {shown(text)}")
        elif ch == "]":
            depth -= 1


def check_dir(field: str, value: str | os.PathLike | None) -> str | None:
    """A path option that must be a directory (it may not exist yet; then its parent must not be a file)."""
    if value is None or value == "":
        return None
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(field, f"must be a directory, but {shown(str(path), 80)} is a file")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(field, f"must be a directory, but {shown(str(parent), 80)} is a file")
            break
    return str(path)


# --- memory ------------------------------------------------------------------------------------


def available_memory(device: str = "cpu") -> int | None:
    """Bytes free for a new allocation on `device` (None when unknown)."""
    if device.startswith("cuda"):
        try:
            import torch

            free, _total = torch.cuda.mem_get_info(torch.device(device))
            return int(free)
        except Exception:
            return None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def format_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PB"  # pragma: no cover


# Keep this much of the free memory for everything else (the UI, the data, the allocator).
MEMORY_FRACTION = 0.8


def check_memory(field: str, needed: int, device: str = "cpu", what: str = "this", hint: str = "") -> None:
    """ConfigError(field, ...) when `needed` bytes exceed the memory free on `device` (with headroom)."""
    free = available_memory(device)
    if free is None:
        return
    if needed > MEMORY_FRACTION * free:
        more = f"; {hint}" if hint else ""
        raise ConfigError(field, f"{what} needs about {format_bytes(needed)} but {device} has "
                                 f"{format_bytes(free)} free{more}")


def model_bytes(build) -> tuple[int, int]:
    """(parameter count, parameter bytes) of the model `build()` makes, built on the meta device (no memory)."""
    import torch

    with torch.device("meta"):
        model = build()
    n = b = 0
    for p in model.parameters():
        try:
            n += p.numel()
            b += p.numel() * p.element_size()
        except Exception:  # an uninitialized (lazy) parameter has no size yet
            continue
    for buf in model.buffers():
        try:
            b += buf.numel() * buf.element_size()
        except Exception:
            continue
    return n, b


def activation_bytes(model, input_shape: tuple[int, ...], batch_size: int = 1) -> int | None:
    """Bytes of the input and every leaf module's output for one forward pass, on the meta device (no memory).

    None when the model cannot run on the meta device (data-dependent code); the caller then goes on.
    """
    import torch
    from torch.func import functional_call

    def meta(t):
        return torch.empty(t.shape, dtype=t.dtype, device="meta")

    try:
        params = {k: meta(v) for k, v in model.named_parameters()}
        buffers = {k: meta(v) for k, v in model.named_buffers()}
        first = next((p for p in model.parameters() if p.is_floating_point()), None)
        dtype = first.dtype if first is not None else torch.float32
    except Exception:
        return None
    total = 0

    def hook(_module, _args, output):
        nonlocal total
        stack = [output]
        while stack:
            o = stack.pop()
            if isinstance(o, torch.Tensor):
                total += o.numel() * o.element_size()
            elif isinstance(o, (list, tuple)):
                stack.extend(o)
            elif isinstance(o, dict):
                stack.extend(o.values())

    leaves = [m for m in model.modules() if next(m.children(), None) is None] or [model]
    handles = [m.register_forward_hook(hook) for m in leaves]
    was_training = model.training
    model.eval()
    try:
        x = torch.empty((batch_size, *input_shape), dtype=dtype, device="meta")
        total = x.numel() * x.element_size()
        with torch.no_grad():
            functional_call(model, {**params, **buffers}, (x,))
    except BaseException as exc:  # noqa: BLE001 - data-dependent code: no estimate
        if isinstance(exc, KeyboardInterrupt):
            raise
        return None
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return total
