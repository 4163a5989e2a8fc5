"""Errors the core raises for bad input; both faces turn them into one-line messages.

`ConfigError(field, message)` names the field at fault and what is allowed, e.g.
`ConfigError("lr", "must be a finite number > 0, got 'abc'")` -> "lr: must be a finite number > 0, got 'abc'".
"""

from __future__ import annotations


class DllabError(Exception):
    """Base class for errors that are the user's input, not a bug."""


class ConfigError(DllabError, ValueError):
    """A bad value for a named field; str() is one line: '<field>: <message>'."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class StoreError(DllabError):
    """The run store cannot be opened or written (read-only or missing DLLAB_HOME); str() is one line."""


def choice_error(field: str, value: object, allowed) -> ConfigError:
    """The standard error for a value that is not one of a fixed set of names."""
    names = ", ".join(str(a) for a in allowed)
    shown = repr(value)
    if len(shown) > 60:  # a 100 kB argument is never echoed whole
        shown = f"{shown[:50]}… ({len(shown):,} characters)"
    return ConfigError(field, f"unknown {field} {shown}; allowed: {names}")
