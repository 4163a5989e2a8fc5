"""One recorder for every training job: events in, the same events out, each written to the run
store as it goes by.

A single training writes to the run its caller created (`run_id`); a race creates one run per
optimizer when it starts, grouped under `group_id`. Events carry the `run` they belong to (0 for a
single training), so the same code writes both. A run still open when the stream stops early (the
consumer stopped: Ctrl-C, a closed generator, an app quitting) is marked cancelled.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

from tui_lab import compare as c
from tui_lab import training as t
from tui_lab.runs import EpochRow, RunStore


def record(store: RunStore, run_id: int, events: Iterable[Any]) -> Iterator[Any]:
    """A single training's events, written to the run `run_id` its caller created."""
    return record_events(store, events, run_id=run_id)


def record_compare(store: RunStore, events: Iterable[Any], group_id: str | None = None) -> Iterator[Any]:
    """A race's events, each run written as one of a group (kind 'compare')."""
    return record_events(store, events, group_id=group_id or c.new_group_id())


def record_events(store: RunStore, events: Iterable[Any], run_id: int | None = None,
                  group_id: str | None = None) -> Iterator[Any]:
    ids: dict[int, int] = {} if run_id is None else {0: run_id}
    done: set[int] = set()

    def finish(run: int, status: str, message: str | None, checkpoint: str | None = None) -> None:
        if run in ids and run not in done:
            store.finish(ids[run], status, message, checkpoint)
            done.add(run)

    try:
        for ev in events:
            if isinstance(ev, t.Started):
                store.set_started(ids[0], ev.device, ev.params)
            elif isinstance(ev, c.CompareStarted):
                for k, cfg in enumerate(ev.runs):
                    ids[k] = store.create_run(cfg, kind="compare", group_id=group_id)
                    store.set_started(ids[k], ev.device, ev.params)
            elif isinstance(ev, c.InitialLoss):
                store.add_step(ids[ev.run], 0, 0, ev.loss)  # the loss before any update: step 0
            elif isinstance(ev, t.Step):
                store.add_step(ids[ev.run], ev.global_step, ev.epoch, ev.loss)
            elif isinstance(ev, t.EpochEnd):
                store.add_epoch(ids[ev.run], EpochRow(ev.epoch, ev.train_loss, ev.train_acc, ev.val_loss,
                                                      ev.val_acc, ev.examples_per_sec, ev.seconds))
                if ev.lr is not None:
                    store.set_epoch_lr(ids[ev.run], ev.epoch, ev.lr)
            elif isinstance(ev, t.HyperparametersChanged) and ev.run in ids:
                store.add_run_event(ids[ev.run], ev.step, ev.epoch, "hyperparameters",
                                    {ch.name: {"old": ch.old, "new": ch.new} for ch in ev.changes})
            elif isinstance(ev, (t.Paused, t.Resumed)):  # a pause stops every run of a race
                for k in ids:
                    if k not in done:
                        store.add_run_event(ids[k], ev.step, ev.epoch,
                                            "paused" if isinstance(ev, t.Paused) else "resumed")
            elif isinstance(ev, t.Diverged):
                if math.isfinite(ev.loss):  # the exploding loss is the last point of its curve
                    store.add_step(ids[ev.run], ev.step, ev.epoch, ev.loss)
                finish(ev.run, "diverged", ev.message)
            elif isinstance(ev, t.Failed):
                finish(ev.run, "failed", ev.message)
            elif isinstance(ev, t.Cancelled):
                finish(0, "cancelled", ev.message)
            elif isinstance(ev, t.Finished):
                finish(0, "finished", None, ev.checkpoint)
            elif isinstance(ev, (c.CompareFinished, c.CompareCancelled)):
                status = "finished" if isinstance(ev, c.CompareFinished) else "cancelled"
                message = ev.message if isinstance(ev, c.CompareCancelled) else None
                for k in list(ids):
                    finish(k, status, message)
            yield ev
    finally:
        for k in list(ids):
            finish(k, "cancelled", "stopped before the end")
