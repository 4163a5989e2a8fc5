"""RunControl: how a running job is steered from another thread (the app's UI, a signal handler).

Every core job takes one: `job(config, control) -> Iterator[Event]`. The job polls it between steps,
so every request takes effect at the next step and never in the middle of one:

- `cancel()`: the job ends with its Cancelled event at the next step;
- `pause()` / `resume()`: the job blocks between steps (cancel still wakes it);
- `set_hyperparameters(lr=..., momentum=..., weight_decay=...)`: applied to the optimizer before the
  next step; the job reports each applied change back as an event, so the run store and the screen
  see exactly when it happened.

Thread-safe: one lock guards the pending changes; pause and cancel are `threading.Event`s.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

from tui_lab.errors import ConfigError

HYPERPARAMETERS = ("lr", "momentum", "weight_decay")


@dataclass(frozen=True)
class HyperparameterChange:
    """One applied change: `name` went from `old` to `new` before global step `step` + 1."""

    name: str
    old: float | None
    new: float


def check_hyperparameter(name: str, value: Any) -> float:
    """The value as a float if `name` may take it; ConfigError naming the field otherwise."""
    if name not in HYPERPARAMETERS:
        raise ConfigError(name, f"cannot be changed while training; allowed: {', '.join(HYPERPARAMETERS)}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    if not math.isfinite(x) or x < 0:
        raise ConfigError(name, f"must be a finite number >= 0, got {value!r}")
    if name == "lr" and x == 0:
        raise ConfigError("lr", "must be > 0")
    if name == "momentum" and x >= 1:
        raise ConfigError("momentum", f"must be in [0, 1), got {value!r}")
    return x


class RunControl:
    """Cancel, pause/resume and live hyperparameters for one running job (thread-safe)."""

    def __init__(self, cancel_event: threading.Event | None = None) -> None:
        self._cancel = cancel_event or threading.Event()  # a caller's own Event may stand in
        self._running = threading.Event()  # set = not paused
        self._running.set()
        self._lock = threading.Lock()
        self._pending: dict[str, float] = {}

    # --- requests (any thread) -------------------------------------------------------------------

    def cancel(self) -> None:
        self._cancel.set()
        self._running.set()  # a paused job wakes up to notice

    def pause(self) -> None:
        if not self._cancel.is_set():
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def set_hyperparameters(self, **values: Any) -> None:
        """Queue changes (lr, momentum, weight_decay); ConfigError for a bad name or value."""
        checked = {name: check_hyperparameter(name, value) for name, value in values.items()}
        with self._lock:
            self._pending.update(checked)

    # --- state ------------------------------------------------------------------------------------

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    # --- the job's side ---------------------------------------------------------------------------

    def wait_while_paused(self, poll: float = 0.1) -> None:
        """Block while paused; return at once when running or cancelled."""
        while not self._running.wait(poll):
            if self._cancel.is_set():
                return

    def take_changes(self) -> dict[str, float]:
        """The changes requested since the last call (the job applies them, then reports them)."""
        with self._lock:
            changes, self._pending = self._pending, {}
        return changes


def apply_hyperparameters(optimizer: Any, changes: dict[str, float]) -> list[HyperparameterChange]:
    """Set the changes on every param group of a torch optimizer; the ones it has, as applied.

    `momentum` applies to SGD/RMSprop (their `momentum` key); Adam-style optimizers have betas
    instead, so a momentum change is not applied to them and not reported.
    """
    applied = []
    for name, value in changes.items():
        groups = [g for g in optimizer.param_groups if name in g]
        if not groups:
            continue
        old = groups[0][name]
        for group in groups:
            group[name] = value
        applied.append(HyperparameterChange(name, None if old is None else float(old), value))
    return applied
