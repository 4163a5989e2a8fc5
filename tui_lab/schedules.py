"""Learning-rate schedules for a training run, built from torch.optim.lr_scheduler.

`--schedule none|step|cosine|onecycle` with `--warmup N` (epochs):

- none: the lr stays as given (after the warm-up, if any);
- step: StepLR, the lr times 0.1 every third of the run (step_size = max(1, (epochs - warmup) // 3));
- cosine: CosineAnnealingLR from the lr down to 0 over the epochs after the warm-up;
- onecycle: OneCycleLR stepped every batch (lr is its max_lr; the warm-up is its pct_start =
  warmup / epochs, torch's 0.3 when no warm-up is given).

The warm-up of none/step/cosine is LinearLR from lr / (warmup + 1) up to lr over `warmup` epochs,
chained before the main schedule with SequentialLR. Epoch schedules step once at the end of each
epoch, onecycle after every optimizer step. Each epoch reports the lr its first step used.

A live lr change (RunControl) sets the optimizer's lr now; step and cosine continue from that value
(they are chained: each step scales the current lr), onecycle recomputes its lr from its own curve at
the next step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tui_lab.errors import ConfigError, choice_error

SCHEDULES = ("none", "step", "cosine", "onecycle")


def check_schedule(schedule: Any, warmup: Any, epochs: int) -> tuple[str, int]:
    """(schedule, warmup) normalized; ConfigError naming the field otherwise."""
    name = str(schedule or "none").strip().lower()
    if name not in SCHEDULES:
        raise choice_error("schedule", schedule, SCHEDULES)
    try:
        as_float = float(warmup)
        ok = as_float.is_integer() and as_float >= 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigError("warmup", f"must be a whole number of epochs >= 0, got {warmup!r}")
    n = int(as_float)
    if n >= epochs and n > 0:
        raise ConfigError("warmup", f"must be fewer epochs than the run's {epochs}, got {n}")
    return name, n


@dataclass
class Schedule:
    """A torch scheduler and when it steps: after every optimizer step (onecycle) or every epoch."""

    scheduler: Any
    per_step: bool

    def after_step(self) -> None:
        if self.per_step:
            self.scheduler.step()

    def after_epoch(self) -> None:
        if not self.per_step:
            self.scheduler.step()


def build_schedule(optimizer: Any, schedule: str, warmup: int, epochs: int, steps_per_epoch: int) -> Schedule | None:
    """The scheduler for a run (None for no schedule and no warm-up). Build it right after the optimizer."""
    from torch.optim import lr_scheduler as ls

    if schedule == "onecycle":
        max_lrs = [g["lr"] for g in optimizer.param_groups]
        pct = warmup / epochs if warmup else 0.3
        return Schedule(ls.OneCycleLR(optimizer, max_lr=max_lrs, total_steps=epochs * steps_per_epoch,
                                      pct_start=pct), per_step=True)
    rest = epochs - warmup
    main: Any = None
    if schedule == "step":
        main = ls.StepLR(optimizer, step_size=max(1, rest // 3), gamma=0.1)
    elif schedule == "cosine":
        main = ls.CosineAnnealingLR(optimizer, T_max=max(1, rest), eta_min=0.0)
    if warmup:
        warm = ls.LinearLR(optimizer, start_factor=1.0 / (warmup + 1), end_factor=1.0, total_iters=warmup)
        if main is None:
            return Schedule(warm, per_step=False)
        return Schedule(ls.SequentialLR(optimizer, [warm, main], milestones=[warmup]), per_step=False)
    return None if main is None else Schedule(main, per_step=False)


def fast_forward(schedule: Schedule, optimizer: Any, start_lrs: list[float], epochs_done: int,
                 steps_per_epoch: int) -> None:
    """Bring a freshly built schedule to where an uninterrupted run would be after `epochs_done`
    epochs (a continued run whose total number of epochs changed: the saved scheduler was built for
    the old total). The same steps in the same order: the same floats as the run that never stopped."""
    import warnings

    for group, lr in zip(optimizer.param_groups, start_lrs):
        group["lr"] = lr
    steps = epochs_done * (steps_per_epoch if schedule.per_step else 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "scheduler.step() before optimizer.step()": on purpose here
        for _ in range(steps):
            schedule.scheduler.step()


def current_lr(optimizer: Any) -> float:
    return float(optimizer.param_groups[0]["lr"])
