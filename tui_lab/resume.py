"""Continuing a saved run (`dllab train --resume RUN`, the runs screen's Resume): check it, reopen it.

Kept apart from `checkpoints` (which `training` imports) because it builds a TrainConfig.
"""

from __future__ import annotations

from typing import Any

from tui_lab.checkpoints import load_state, state_config
from tui_lab.errors import ConfigError


def prepare_resume(store: Any, run_id: int, epochs: int | None = None,
                   overrides: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
    """Check that run `run_id` can continue to `epochs` in all (None: its own number) and reopen it in
    the store; (validated TrainConfig, saved state). ConfigError naming `resume` or `epochs` otherwise.

    A continued run stays the same run (same id, continuous curves, a `continued` event at the seam):
    on a CPU it is bit for bit the run that never stopped, so its record reads as that run's."""
    import dataclasses

    from tui_lab.training import TrainConfig

    summary = store.get_run(run_id).summary
    if summary.kind != "train":
        raise ConfigError("resume", f"run {run_id} is part of an optimizer race; only a training run resumes")
    if summary.status == "running":
        raise ConfigError("resume", f"run {run_id} is still running")
    if int(summary.config.get("nproc", 1) or 1) > 1:
        raise ConfigError("resume", f"run {run_id} trained on several processes (DDP); only a single-process run resumes")
    state = load_state(store.state_path(run_id))
    done = int(state["epoch"])
    total = int(summary.config.get("epochs", done)) if epochs is None else int(epochs)
    if total <= done:
        raise ConfigError("epochs", f"run {run_id} already has {done} complete epoch{'s' if done != 1 else ''}; "
                                    f"give more than {done} epochs in all to continue it")
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    saved = {k: v for k, v in state_config(state).items() if k in known}
    config = TrainConfig(**{**saved, **(overrides or {}), "epochs": total}).validated()
    store.reopen_run(run_id, done, total, config.to_dict())
    store.add_run_event(run_id, int(state["global_step"]), done, "continued", {"from_epoch": done, "epochs": total})
    return config, state
