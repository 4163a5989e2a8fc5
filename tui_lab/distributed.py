"""One rank's view of a data-parallel run: batch slicing, DistributedDataParallel, metrics across ranks.

`training._run` takes a `Ranks` and calls its hooks at a few places (wrap the model, take this
rank's share of a global batch, read a reporting window, an epoch's sums, the validation). `SINGLE`
(one process) makes every hook the identity, so a one-process run is unchanged; `DataParallel` is a
rank of a `torch.distributed` process group (gloo on the CPU, NCCL with one GPU per process), set up
by `tui_lab.launch` under torchrun.

Same numbers as one process. Every rank draws the same global order (the shuffle is seeded on the
CPU) and takes its contiguous share of every global batch of world_size * batch_size examples
(`torch.tensor_split`: shares differ by at most one). A rank holding n of a batch's m examples scales
its mean loss by n * world_size / m before backward; DDP averages the gradients over the ranks, so
the update is the gradient of the mean over all m examples: N ranks with batch b take the steps of
one process with batch N * b, to float rounding (without batch norm, which normalizes each rank's
share; `sync_bn` makes it SyncBatchNorm, on CUDA).

Agreement. Everything that ends a run is decided from values all ranks share: at each reporting
point every rank gathers [window loss, first bad step, first loss, stop requested, examples/s,
memory] from all ranks, so they diverge, cancel (a stop asked of any rank) and finish at the same
step, and the window's per-rank throughput and memory come back with it. Validation is sharded
and summed. A rank that dies or stops answering makes the others' next collective fail (a closed
connection at once, a silent rank after the process group's timeout).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tui_lab.data import ACCURACY_TASKS
from tui_lab.errors import ConfigError

BACKENDS = {"cpu": "gloo", "cuda": "nccl"}


class Ranks:
    """One process: every hook is the identity (the plain, single-process run)."""

    world_size = 1
    rank = 0

    def prepare(self, model: Any) -> Any:
        """The model to train (SyncBatchNorm conversion in a DDP run)."""
        return model

    def wrap(self, model: Any) -> Any:
        """The module the step runs (DistributedDataParallel in a DDP run); `model` stays the plain one."""
        return model

    def share(self, idx: Any) -> tuple[Any, float]:
        """This rank's part of a global batch's indices, and the loss weight that makes DDP's mean exact."""
        return idx, 1.0

    def window(self, learner: Any, control: Any, window_start: float) -> tuple[float, float, float, tuple]:
        """(mean window loss, first diverged step or -1, first loss, per-rank (examples/s, memory))."""
        mean_loss, bad, first = learner.window_values().tolist()
        return mean_loss, bad, first, ()

    def epoch_values(self, learner: Any) -> tuple[float, float | None]:
        return learner.epoch_values()

    def evaluate(self, evaluate: Callable, model: Any, loss_fn: Any, x: Any, y: Any, task: str,
                 batch_size: int) -> tuple[float, float | None]:
        return evaluate(model, loss_fn, x, y, task, batch_size)


SINGLE = Ranks()


@dataclass(frozen=True)
class Fault:
    """A fault to inject, for tests and drills: `raise` or `hang` on `rank` at its step `step`.

    Parsed from the launcher's DLLAB_DDP_FAULT, e.g. "raise@1:3" (rank 1 raises at its 3rd step)."""

    kind: str
    rank: int
    step: int

    @staticmethod
    def parse(text: str | None) -> "Fault | None":
        if not text:
            return None
        try:
            kind, _, where = text.partition("@")
            rank, _, step = where.partition(":")
            fault = Fault(kind.strip(), int(rank), int(step))
        except ValueError:
            fault = None
        if fault is None or fault.kind not in ("raise", "hang") or fault.rank < 0 or fault.step < 1:
            raise ConfigError("DLLAB_DDP_FAULT", f"must look like raise@RANK:STEP or hang@RANK:STEP, got {text!r}")
        return fault


class DataParallel(Ranks):
    """A rank of an initialized process group (`torch.distributed.init_process_group` done by the caller)."""

    def __init__(self, rank: int, world_size: int, local_rank: int, device: str, sync_bn: bool = False,
                 stop_requested: Callable[[], bool] = lambda: False, fault: Fault | None = None) -> None:
        self.rank, self.world_size, self.local_rank = rank, world_size, local_rank
        self.device, self.sync_bn = device, sync_bn
        self.is_cuda = device.startswith("cuda")
        self.stop_requested = stop_requested
        self.fault = fault
        self.steps = 0
        self._examples_mark = 0

    # --- the model ---------------------------------------------------------------------------------

    def prepare(self, model: Any) -> Any:
        import torch

        if self.sync_bn:
            model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        return model

    def wrap(self, model: Any) -> Any:
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model, device_ids=[self.local_rank] if self.is_cuda else None)

    # --- the batches -------------------------------------------------------------------------------

    def share(self, idx: Any) -> tuple[Any, float]:
        import torch

        self.steps += 1
        if self.fault is not None and self.fault.rank == self.rank and self.fault.step == self.steps:
            self._inject()
        m = idx.shape[0]
        part = torch.tensor_split(idx, self.world_size)[self.rank]
        return part, part.shape[0] * self.world_size / max(m, 1)

    def _inject(self) -> None:
        assert self.fault is not None
        if self.fault.kind == "hang":
            while True:  # a rank stuck in its own code: the others time out in their next collective
                time.sleep(1.0)
        raise RuntimeError(f"injected fault on rank {self.rank} at step {self.steps} (DLLAB_DDP_FAULT)")

    # --- metrics across ranks ----------------------------------------------------------------------

    def _gather(self, values: list[float]) -> list[list[float]]:
        import torch
        import torch.distributed as dist

        row = torch.tensor(values, dtype=torch.float64, device=self.device)
        rows = [torch.empty_like(row) for _ in range(self.world_size)]
        dist.all_gather(rows, row)
        return torch.stack(rows).tolist()

    def _sum(self, values: list[float]) -> list[float]:
        import torch
        import torch.distributed as dist

        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return t.tolist()

    def window(self, learner: Any, control: Any, window_start: float) -> tuple[float, float, float, tuple]:
        import torch

        mean_loss, bad, first = learner.window_values().tolist()  # a host sync: the window's work is done
        seconds = max(time.perf_counter() - window_start, 1e-9)
        examples, self._examples_mark = learner.examples - self._examples_mark, learner.examples
        memory = torch.cuda.memory_allocated(self.device) if self.is_cuda else -1
        table = self._gather([mean_loss, bad, first, float(bool(self.stop_requested())), examples / seconds,
                              float(memory)])
        if any(r[3] > 0 for r in table) and not control.cancelled:
            control.cancel()  # every rank sees the same table: all stop before the same step
        bads = [r[1] for r in table if r[1] >= 0]
        per_rank = tuple((r[4], None if r[5] < 0 else int(r[5])) for r in table)
        # each rank's window holds its weighted loss (n_r * W / m * mean_r): their mean is the batch's mean
        return (math.fsum(r[0] for r in table) / self.world_size, min(bads) if bads else -1.0,
                math.fsum(r[2] for r in table) / self.world_size, per_rank)

    def epoch_values(self, learner: Any) -> tuple[float, float | None]:
        import torch

        sums = torch.stack([learner.loss_sum.double(), learner.correct.double()]).tolist()
        loss_sum, correct, seen = self._sum([sums[0], sums[1], float(learner.seen)])
        seen = max(seen, 1.0)
        return loss_sum / seen, (correct / seen if learner.task in ACCURACY_TASKS else None)

    def evaluate(self, evaluate: Callable, model: Any, loss_fn: Any, x: Any, y: Any, task: str,
                 batch_size: int) -> tuple[float, float | None]:
        import torch

        xs = torch.tensor_split(x, self.world_size)[self.rank]
        ys = torch.tensor_split(y, self.world_size)[self.rank]
        n = float(xs.shape[0])
        loss, acc = evaluate(model, loss_fn, xs, ys, task, batch_size) if n else (0.0, 0.0)
        loss_sum, hits, total = self._sum([loss * n, (acc or 0.0) * n, n])
        total = max(total, 1.0)
        return loss_sum / total, (hits / total if task in ACCURACY_TASKS else None)


def backend_for(device: str) -> str:
    """gloo for `cpu`, nccl for `cuda`; ConfigError naming `device` for anything else."""
    kind = device.split(":")[0]
    if kind not in BACKENDS:
        raise ConfigError("device", f"a run across processes needs cpu (gloo) or cuda (NCCL), got {device!r}")
    return BACKENDS[kind]
