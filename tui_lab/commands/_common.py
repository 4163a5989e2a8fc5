"""Helpers shared by the CLI commands: one-line errors with exit codes, JSON output."""

from __future__ import annotations

import json
import math
import sys
from contextlib import contextmanager
from typing import Any, Iterator

import typer

from tui_lab.errors import DllabError

EXIT_BAD_INPUT = 2


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print `error: <message>` on one line to stderr and return the Exit to raise."""
    sys.stderr.write(f"error: {message}\n")
    return typer.Exit(code)


@contextmanager
def user_errors(code: int = EXIT_BAD_INPUT) -> Iterator[None]:
    """Turn the core's DllabError (bad input) into a one-line message and a non-zero exit."""
    try:
        yield
    except DllabError as exc:
        raise fail(str(exc), code) from None


def _clean(value: Any) -> Any:
    # JSON has no NaN/inf: write them as null so every consumer can parse the output.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def print_json(obj: Any) -> None:
    """Print one JSON object to stdout and nothing else."""
    sys.stdout.write(json.dumps(_clean(obj)) + "\n")
    sys.stdout.flush()


def threads_field(config_cls: Any, requested: int | None) -> dict[str, Any]:
    """`{"threads": ...}` for a run config that has the field (the engine then chooses at the start and
    re-checks each epoch). For a config without it yet, choose and apply once here and return {}."""
    from dataclasses import fields

    if any(f.name == "threads" for f in fields(config_cls)):
        return {"threads": "auto" if requested is None else requested}
    from tui_lab.threads import apply_threads, choose_threads

    apply_threads(choose_threads(requested).threads)
    return {}
