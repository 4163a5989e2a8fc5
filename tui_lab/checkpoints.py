"""A training run's full state, written at the end of every epoch so the run can continue exactly.

    save_state(path, ...)      # after each epoch: atomic (a temp file, fsync, then os.replace)
    state = load_state(path)   # torch.load(weights_only=True): tensors and plain types only
    restore(state, ...)        # before the first step of the next epoch

What is kept: the model's and optimizer's state_dicts, the scheduler's and the fp16 grad scaler's
(when there are ones), every random state the next epoch draws from — torch's global CPU generator
(dropout), the CUDA generators, and the shuffle generator that fixes the data order of every later
epoch (`torch.randperm(n, generator=shuffle)`) — and the loop's own counters (epoch, global step,
best accuracy, the first loss that the divergence rule compares against). RNG states are uint8
tensors and everything else is a number, a string or a dict of them, so `weights_only=True` loads it
and a checkpoint can never run code.

With the same seed on a CPU, a run continued from epoch k is bit for bit the run that never stopped:
`tests/test_checkpoints.py` checks it, after a clean finish and after SIGKILL in the middle of an epoch.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tui_lab.errors import ConfigError

VERSION = 1


def save_state(path: str | os.PathLike, *, model: Any, optimizer: Any, shuffle: Any, learner: Any, epoch: int,
               global_step: int, best_acc: float | None, val_loss: float, config: dict[str, Any],
               scheduler: Any = None, scaler: Any = None) -> Path:
    """Write the run's state after epoch `epoch` atomically: a reader sees the old file or the new one."""
    import torch

    state = {
        "version": VERSION,
        "epoch": int(epoch),
        "global_step": int(global_step),
        "best_acc": None if best_acc is None else float(best_acc),
        "val_loss": float(val_loss),
        "first_loss": None if learner.first_t is None else learner.first_t.detach().float().cpu().reshape(()),
        "config": json.dumps(config),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "scaler": None if scaler is None else scaler.state_dict(),
        "rng": {
            "torch": torch.get_rng_state(),
            "shuffle": shuffle.get_state(),
            "cuda": list(torch.cuda.get_rng_state_all()) if torch.cuda.is_available() and torch.cuda.is_initialized() else [],
        },
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def load_state(path: str | os.PathLike, field: str = "resume") -> dict[str, Any]:
    """The saved state (weights only); ConfigError naming `field` when it is missing or unreadable."""
    import torch

    p = Path(path)
    if not p.is_file():
        raise ConfigError(field, f"no checkpoint at {p}: the run has no complete epoch saved yet")
    try:
        state = torch.load(str(p), map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, not a torch file, pickled code refused by weights_only
        raise ConfigError(field, f"cannot read the checkpoint {p}: {type(exc).__name__}") from None
    if not isinstance(state, dict) or state.get("version") != VERSION:
        raise ConfigError(field, f"{p} is not a dllab training checkpoint (version {VERSION})")
    return state


def state_config(state: dict[str, Any]) -> dict[str, Any]:
    return json.loads(state["config"])


def restore(state: dict[str, Any], *, model: Any, optimizer: Any, shuffle: Any, learner: Any,
            scheduler: Any = None, scaler: Any = None) -> tuple[int, int, float | None]:
    """Load `state` into a freshly built run; returns (epochs done, global step, best accuracy).
    Call it last, just before the loop: it sets the global RNG to where the saved run was."""
    import torch

    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and state.get("scheduler") is not None:
        scheduler.load_state_dict(state["scheduler"])
    if scaler is not None and state.get("scaler") is not None:
        scaler.load_state_dict(state["scaler"])
    global_step = int(state["global_step"])
    learner.step_t.fill_(global_step)
    if state.get("first_loss") is not None:
        learner.restore_first_loss(state["first_loss"])
    rng = state["rng"]
    shuffle.set_state(rng["shuffle"])
    torch.set_rng_state(rng["torch"])
    if rng.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    return int(state["epoch"]), global_step, state.get("best_acc")

