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
EXIT_STORE = 1  # the run store cannot be used: not the input's fault
MAX_ERROR_LINE = 500  # characters; a 100 kB argument is never echoed whole


def one_line(message: str, limit: int = MAX_ERROR_LINE) -> str:
    """The message on one line, cut to `limit` characters with the full length noted."""
    text = " ".join(str(message).split())
    if len(text) > limit:
        text = f"{text[:limit]}… ({len(text):,} characters)"
    return text


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print `error: <message>` on one line to stderr and return the Exit to raise."""
    sys.stderr.write(f"error: {one_line(message)}\n")
    sys.stderr.flush()
    return typer.Exit(code)


def error_code(exc: DllabError) -> int:
    from tui_lab.errors import StoreError

    return EXIT_STORE if isinstance(exc, StoreError) else EXIT_BAD_INPUT


@contextmanager
def user_errors(code: int = EXIT_BAD_INPUT) -> Iterator[None]:
    """Turn the core's DllabError (bad input) into a one-line message and a non-zero exit."""
    try:
        yield
    except DllabError as exc:
        raise fail(str(exc), error_code(exc) if code == EXIT_BAD_INPUT else code) from None


def open_store():
    """The run store; a damaged one moved aside is reported on stderr in one line (stdout stays pure)."""
    from tui_lab.runs import RunStore

    with user_errors():
        store = RunStore()
    if store.notice:
        sys.stderr.write(f"warning: {one_line(store.notice)}\n")
        sys.stderr.flush()
    return store


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


def threads_option(text: str) -> int | str:
    """Parse `--threads N|auto` (ConfigError naming `threads` otherwise), apply the choice to torch now,
    and return the config value ("auto" or N). The engine chooses again at its start and re-checks each
    epoch; a choice made here first only saves it the first reading's short sample."""
    from tui_lab.threads import apply_threads, choose_threads, parse_threads

    requested = parse_threads(text)
    apply_threads(choose_threads(requested).threads)
    return "auto" if requested is None else requested
