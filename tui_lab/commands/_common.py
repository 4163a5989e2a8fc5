"""Helpers shared by the CLI commands: one-line errors with exit codes, JSON output."""

from __future__ import annotations

import functools
import inspect
import json
import math
import os
import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional

import typer

from tui_lab.errors import DllabError
from tui_lab.i18n import N_

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
    """Print `error: <message>` on one line to stderr (`错误：` in Chinese) and return the Exit to raise."""
    from tui_lab.i18n import _

    sys.stderr.write(_("error: {message}").format(message=one_line(message)) + "\n")
    sys.stderr.flush()
    return typer.Exit(code)


def error_code(exc: DllabError) -> int:
    from tui_lab.errors import StoreError

    return EXIT_STORE if isinstance(exc, StoreError) else EXIT_BAD_INPUT


# ---------------------------------------------------------------------------------------- language

LANG_HELP = N_("Language: en or zh (default: DLLAB_LANG, then the saved setting, then the locale).")


def apply_lang(flag: str | None = None) -> str:
    """Choose the language (flag > DLLAB_LANG > saved setting > locale > en) and use it; a bad flag or
    DLLAB_LANG is a one-line error and exit 2."""
    from tui_lab.errors import ConfigError
    from tui_lab.i18n import resolve_lang, saved_lang, set_lang

    try:
        saved = None if flag or os.environ.get("DLLAB_LANG", "").strip() else saved_lang()
        return set_lang(resolve_lang(flag, saved=saved))
    except ConfigError as exc:
        raise fail(str(exc)) from None


def with_lang_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """`func` (a typer command) with a `--lang` option added: it sets the language, then runs `func`."""
    signature = inspect.signature(func, eval_str=True)
    if "lang" in signature.parameters:
        return func
    option = inspect.Parameter("lang", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[str],
                               default=typer.Option(None, "--lang", metavar="<en|zh>", help=LANG_HELP, show_default=False))

    @functools.wraps(func)
    def command(*args: Any, lang: Optional[str] = None, **kwargs: Any) -> Any:
        if lang is not None:
            apply_lang(lang)
        return func(*args, **kwargs)

    params = list(signature.parameters.values())
    command.__signature__ = signature.replace(parameters=[*params, option])  # type: ignore[attr-defined]
    command.__annotations__ = {**getattr(func, "__annotations__", {}), "lang": Optional[str]}
    return command


def add_lang_options(app: typer.Typer) -> None:
    """Give every command (and group callback) of `app`, and of the typer groups under it, `--lang`."""
    for info in app.registered_commands:
        if info.callback is not None:
            info.callback = with_lang_option(info.callback)
    for group in app.registered_groups:
        sub = group.typer_instance
        if sub is None:
            continue
        if sub.registered_callback is not None and sub.registered_callback.callback is not None:
            sub.registered_callback.callback = with_lang_option(sub.registered_callback.callback)
        add_lang_options(sub)


def translate_help(command: Any) -> None:
    """Translate the help texts of a click command tree in place (built by typer, before it runs)."""
    from tui_lab.i18n import _

    for attr in ("help", "short_help", "epilog"):
        text = getattr(command, attr, None)
        if isinstance(text, str) and text:
            setattr(command, attr, _(text))
    for param in getattr(command, "params", []):
        if isinstance(getattr(param, "help", None), str) and param.help:
            param.help = _(param.help)
    for sub in getattr(command, "commands", {}).values():
        translate_help(sub)


def help_texts(command: Any) -> set[str]:
    """Every help text of a click command tree (what `translate_help` translates)."""
    found = {t for t in (getattr(command, a, None) for a in ("help", "short_help", "epilog")) if isinstance(t, str) and t}
    found |= {p.help for p in getattr(command, "params", []) if isinstance(getattr(p, "help", None), str) and p.help}
    for sub in getattr(command, "commands", {}).values():
        found |= help_texts(sub)
    return found


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
