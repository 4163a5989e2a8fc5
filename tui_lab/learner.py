"""The training step that `training.train` and `compare.compare` share: one model, its optimizer,
and the on-device sums of its training.

A `Learner` never syncs with the host by itself: a step folds its loss and hits into tensors on the
device, and the caller reads a reporting window's values (`window_values`) when it chooses, for one
learner or stacked with others (a race reads all its runs in one transfer). The divergence rule
lives here once: a run has diverged when a step's loss is NaN/inf or exceeds `EXPLODE_FACTOR` times
the first loss (a sigmoid net can saturate at a huge but finite loss instead of reaching inf).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from typing import Any

import torch

from tui_lab.data import ACCURACY_TASKS



def hits(out: torch.Tensor, y: torch.Tensor, task: str) -> torch.Tensor | None:
    """Right predictions in a batch, counted in examples, on the device (None for regression).

    Classification: examples whose arg-max is the label. Sequence: each example counts the fraction of
    its tokens predicted right, so hits / examples is the per-token accuracy (every sequence of a data
    set has the same length)."""
    if task == "classification":
        return (out.argmax(dim=-1) == y).sum()
    if task == "sequence":
        return (out.argmax(dim=-1) == y).float().mean(dim=-1).sum()
    return None


def hits_dtype(task: str) -> torch.dtype:
    return torch.float32 if task == "sequence" else torch.int64


# A loss this many times larger than the first one reported counts as diverged even while finite.
EXPLODE_FACTOR = 1e4


def divergence_message(step: int, loss: float, lr: float) -> str:
    what = "became NaN/inf" if not math.isfinite(loss) else f"exploded to {loss:.3g}"
    return f"loss {what} at step {step}; try a smaller learning rate (lr = {lr:g} now, e.g. {lr / 10:g})"


class Learner:
    """One model and optimizer being trained, with its step counter and sums kept on the device."""

    def __init__(self, model: Any, optimizer: Any, loss_fn: Callable, task: str, device: str,
                 autocast: Callable[[], Any] = contextlib.nullcontext, scaler: Any = None) -> None:
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.task, self.device = task, device
        self.autocast, self.scaler = autocast, scaler
        self.step_t = torch.zeros((), device=device, dtype=torch.int64)  # steps taken, on the device
        self.first_bad = torch.full((), -1, device=device, dtype=torch.int64)  # first diverged step
        self.first_t: torch.Tensor | None = None  # loss of the very first batch, before any update
        self.limit_t: torch.Tensor | None = None
        self.first_loss: float | None = None  # its host copy, once read
        self.examples = 0
        self.begin_epoch()

    # --- sums ----------------------------------------------------------------------------------

    def _zeros(self, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return torch.zeros((), device=self.device, dtype=dtype)

    def begin_epoch(self) -> None:
        self.model.train()
        # a sequence task counts fractions of examples (its right tokens / its length): a float sum
        self.loss_sum, self.correct, self.seen = self._zeros(), self._zeros(hits_dtype(self.task)), 0
        self.reset_window()

    def reset_window(self) -> None:
        self.window, self.window_steps = self._zeros(), 0

    # --- one step ------------------------------------------------------------------------------

    def step(self, xb: torch.Tensor, yb: torch.Tensor, weight: float = 1.0) -> None:
        """Forward, backward and one optimizer step on a batch, then fold it into the sums.

        `weight` scales the loss that is differentiated (and the reporting window): a data-parallel
        rank holding n of a global batch's m examples passes n * world_size / m, so that DDP's mean
        over ranks is the mean over the whole batch even when the shares differ (see distributed.py).
        """
        with self.autocast():
            out = self.model(xb)
            # an empty share (a last global batch smaller than the ranks) still joins the backward
            loss = self.loss_fn(out.float(), yb) if yb.shape[0] else out.float().sum() * 0.0
        scaled = loss if weight == 1.0 else loss * weight
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(scaled).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            scaled.backward()
            self.optimizer.step()
        self.account(loss.detach().float(), out.detach(), yb, weight)

    def account(self, lv: torch.Tensor, out: torch.Tensor, yb: torch.Tensor, weight: float = 1.0) -> None:
        """Fold one step's loss (a 0-d tensor) and hits into the on-device sums: no host sync."""
        n = yb.shape[0]
        self.loss_sum += lv * n
        right = hits(out, yb, self.task)
        if right is not None:
            self.correct += right
        if self.first_t is None or self.limit_t is None:
            self.first_t = lv.clone()
            self.limit_t = EXPLODE_FACTOR * self.first_t.abs().nan_to_num(1.0).clamp_min(1.0)
        limit = self.limit_t
        self.step_t += 1
        self.window += lv if weight == 1.0 else lv * weight
        self.first_bad = torch.where((self.first_bad < 0) & ~(lv.abs() <= limit), self.step_t, self.first_bad)
        self.window_steps += 1
        self.seen += n
        self.examples += n

    def restore_first_loss(self, value: torch.Tensor) -> None:
        """A continued run (checkpoints.restore) compares against the first loss of its first start."""
        self.first_t = value.to(self.device).float()
        self.limit_t = EXPLODE_FACTOR * self.first_t.abs().nan_to_num(1.0).clamp_min(1.0)

    # --- reading back (the caller decides when: one host sync) -----------------------------------

    def window_values(self) -> torch.Tensor:
        """[mean window loss, first diverged step (-1: none), first loss] as one device tensor."""
        assert self.first_t is not None, "window_values() before any step"
        return torch.stack([self.window / max(self.window_steps, 1), self.first_bad.float(), self.first_t])

    def diverged_at(self, mean_loss: float, bad: float, first: float, global_step: int) -> int | None:
        """The step at which this run diverged, or None; `first` is the first loss as read back."""
        if self.first_loss is None:
            self.first_loss = abs(first) if math.isfinite(first) else 1.0
        if bad >= 0:
            return int(bad)
        if not math.isfinite(mean_loss) or mean_loss > EXPLODE_FACTOR * max(self.first_loss, 1.0):
            return global_step
        return None

    def epoch_values(self) -> tuple[float, float | None]:
        """(mean training loss, accuracy or None) over the epoch so far: one host sync."""
        n = max(self.seen, 1)
        loss_sum, n_correct = torch.stack([self.loss_sum / n, self.correct.float()]).tolist()
        return loss_sum, (n_correct / n if self.task in ACCURACY_TASKS else None)
