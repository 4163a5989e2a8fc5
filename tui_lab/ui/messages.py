"""Every custom Textual message of the app, each a small dataclass with a one-line docstring.

Events of core jobs (training, races, traces) reach screens through `tui_lab.ui.jobs.JobUpdate`,
which coalesces (`can_replace`) so that steps arriving faster than a terminal can redraw never flood
it.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class TorchReady(Message, bubble=False):  # the app forwards it to each screen: no bubbling back
    """torch and the training engine finished importing in the background."""

    error: str | None = None


@dataclass(frozen=True)
class RunCreated:
    """A train job's first event (not a message): the run store's id of the run it records."""

    run_id: int


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
