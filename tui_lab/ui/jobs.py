"""The one way a screen runs a core job: in a thread worker, its events handed back as messages.

    class ConvScreen(JobRunner, Screen):
        def on_mount(self):
            self.run_job("frames", lambda: cs.compute(cs.build_config(preset)))

        def job_event(self, job, event):      # on the UI thread, in order
            ...
        def job_failed(self, job, message):   # any failure of any job: one line, shown here
            ...

A job is a callable run off the UI thread. It returns either one value (one event) or an iterator
of events (a training, a race, a playground): each event is queued and one `JobUpdate` message is
posted, which coalesces (`can_replace`) with those not yet handled, so a fast GPU never floods the
screen. The handler drains the queue in order and calls `job_event` for each.

Starting a job of the same name supersedes the previous one: its later events are dropped, and an
iterator it was reading is closed between two events (a thread cannot be interrupted, so a job
that must stop sooner takes a `RunControl`). Every exception of a job — a `DllabError` with its
one-line message, or anything else with its type — arrives at `job_failed`; the app stays alive.
A worker that dies some other way reaches `on_worker_state_changed`, which says so the same way.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from textual.message import Message
from textual.worker import Worker, WorkerState

from tui_lab.errors import DllabError

_tokens = itertools.count(1)
_running: set[threading.Event] = set()  # one per job thread still running, set when it ends
_running_lock = threading.Lock()


def wait_for_jobs(timeout: float) -> bool:
    """Wait (blocking, at most `timeout` s) until every job thread has ended; True if they all did.

    The app calls it as it exits, after its screens cancelled their runs, so that a training stopped
    by a closing terminal or browser tab is recorded as cancelled before the process ends."""
    import time

    deadline = time.monotonic() + timeout
    with _running_lock:
        pending = list(_running)
    return all(event.wait(max(0.0, deadline - time.monotonic())) for event in pending)


@dataclass
class JobUpdate(Message, bubble=False):
    """Events of job `job` wait in its runner's queue; a burst collapses into one message."""

    job: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, JobUpdate) and message.job == self.job


@dataclass(frozen=True)
class _Done:
    """The job's worker ended (after its last event)."""


@dataclass(frozen=True)
class _Error:
    message: str


def error_line(exc: BaseException) -> str:
    """One line for an exception: a DllabError's own message, otherwise its type and first line."""
    if isinstance(exc, DllabError):
        return str(exc)
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class JobRunner:
    """Mixin for a Screen or Widget: `run_job`, and the hooks `job_event` / `job_failed` / `job_done`."""

    def _job_state(self) -> tuple[dict[str, int], dict[str, deque], threading.Lock]:
        state = self.__dict__.get("_jobs")
        if state is None:
            state = self.__dict__["_jobs"] = ({}, {}, threading.Lock())
        return state

    def job_running(self, job: str) -> bool:
        return any(w.name == job and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
                   for w in self.workers_of_jobs())

    def workers_of_jobs(self) -> list[Worker]:
        return [w for w in self.app.workers if w.node is self and w.group.startswith("job:")]  # type: ignore[attr-defined]

    def run_job(self, job: str, fn: Callable[[], Any]) -> Worker:
        """Run `fn` in a thread worker; its result or events come back through `job_event`."""
        tokens, queues, lock = self._job_state()
        token = next(_tokens)
        with lock:
            tokens[job] = token
            queues.setdefault(job, deque())
        return self.run_worker(  # type: ignore[attr-defined]
            lambda: self._job_thread(job, token, fn), name=job, group=f"job:{job}", thread=True,
            exclusive=True, exit_on_error=False)

    def _job_thread(self, job: str, token: int, fn: Callable[[], Any]) -> None:
        tokens, _, _ = self._job_state()
        ended = threading.Event()
        with _running_lock:
            _running.add(ended)
        try:
            result = fn()
            if isinstance(result, Iterator):
                try:
                    for event in result:
                        if tokens.get(job) != token:
                            break  # superseded: stop reading (closing runs the job's own cleanup)
                        self._push(job, token, event)
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
            else:
                self._push(job, token, result)
        except Exception as exc:  # every failure of every job reaches its screen as one line
            self._push(job, token, _Error(error_line(exc)))
        finally:
            with _running_lock:
                _running.discard(ended)
            ended.set()
            self._push(job, token, _Done())

    def _push(self, job: str, token: int, event: Any) -> None:
        tokens, queues, lock = self._job_state()
        announced: set[str] = self.__dict__.setdefault("_jobs_announced", set())
        with lock:
            if tokens.get(job) != token:
                return
            queues[job].append(event)
            if job in announced:
                return  # one wake-up of the UI thread in flight per job: it drains everything queued
            announced.add(job)
        self.post_message(JobUpdate(job))  # type: ignore[attr-defined]  # thread-safe; coalesces

    def on_job_update(self, message: JobUpdate) -> None:
        message.stop()
        _, queues, lock = self._job_state()
        with lock:
            self.__dict__.setdefault("_jobs_announced", set()).discard(message.job)  # the next push posts again
            queue = queues.get(message.job)
            events = list(queue) if queue else []
            if queue:
                queue.clear()
        for event in events:
            if isinstance(event, _Error):
                self.job_failed(message.job, event.message)
            elif isinstance(event, _Done):
                self.job_done(message.job)
            else:
                self.job_event(message.job, event)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group.startswith("job:") and event.state == WorkerState.ERROR:
            self.job_failed(worker.name, error_line(worker.error) if worker.error else "the job stopped")

    def cancel_jobs(self) -> None:
        """Supersede every job of this runner: later events are dropped, iterators closed."""
        tokens, _, lock = self._job_state()
        with lock:
            for job in tokens:
                tokens[job] = next(_tokens)

    # --- hooks ------------------------------------------------------------------------------------

    def job_event(self, job: str, event: Any) -> None:
        """One event (or the one result) of `job`, on the UI thread."""

    def job_done(self, job: str) -> None:
        """The job's worker ended; its events have all been handled."""

    def job_failed(self, job: str, message: str) -> None:
        """The job raised: by default a notification; screens also show it in place."""
        self.last_job_error = message
        self.notify(message, title=f"{job} failed", severity="error", timeout=8)  # type: ignore[attr-defined]
