"""Every custom Textual message of the app, each a small dataclass with a one-line docstring.

Training events from the core (`tui_lab.training`) are plain frozen dataclasses; the train screen's
worker wraps them into these messages. Steps can arrive far faster than a terminal can redraw, so
the worker queues them and posts `StepsPending`, which coalesces (`can_replace`) into the newest one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class TorchReady(Message, bubble=False):  # the app forwards it to each screen: no bubbling back
    """torch and the training engine finished importing in the background."""

    error: str | None = None


@dataclass
class RunEvent(Message):
    """One low-rate training event (Started, EpochEnd, or a final one) for the run `run_id`."""

    run_id: int | None
    event: Any


@dataclass
class StepsPending(Message):
    """New Step events wait in the screen's queue; a burst collapses into one message."""

    run_id: int | None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StepsPending) and message.run_id == self.run_id


@dataclass
class RunConfigError(Message):
    """train() refused the config: `field` names the form field, `message` what is allowed."""

    field: str
    message: str


@dataclass
class LessonDoneChanged(Message):
    """A lesson was marked done (or not done) in the run store."""

    lesson_id: str
    done: bool
