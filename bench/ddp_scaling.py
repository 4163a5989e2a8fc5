"""DDP scaling: training examples/s with 1..N ranks under torchrun, and the scaling efficiency.

    python bench/ddp_scaling.py [--max-procs 2] [--model mlp] [--dataset digits] [--batch-size 64]
                                [--epochs 3] [--device cpu|cuda]

Each row is a real `tui_lab.launch` run (torchrun, DistributedDataParallel; gloo on the CPU, NCCL on
CUDA) with `--batch-size` per rank, so N ranks train on a global batch of N x batch. Throughput is the
median over the epochs after the first (warm-up) of the engine's own examples/s (the training
examples of an epoch over its training seconds, evaluation excluded); efficiency = throughput(N) /
(N x throughput(1)). The 1-rank row also runs under torchrun, so the launch is the same on every row.
Start-up (torchrun and each rank importing torch) is reported apart: it is paid once per run.

Honest about the CPU: ranks on a CPU share its cores. Each rank gets cores // N threads, so N ranks
can at best match one rank using all cores; on a 2-core machine shared with other work expect an
efficiency well below 1. The numbers that mean something for DDP come from one GPU per rank.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from tui_lab.launch import run_training
from tui_lab.training import EpochEnd, Failed, Finished, Started, TrainConfig


def one(nproc: int, args: argparse.Namespace) -> tuple[float, float, int]:
    """(median examples/s after the first epoch, seconds from launch to Started, threads per rank)."""
    config = TrainConfig(model=args.model, dataset=args.dataset, optimizer="sgd", lr=0.05, epochs=args.epochs,
                         batch_size=args.batch_size, device=args.device, nproc=nproc, report_every=50)
    t0 = time.perf_counter()
    startup, threads, rates = 0.0, 0, []
    for ev in run_training(config):
        if isinstance(ev, Started):
            startup, threads = time.perf_counter() - t0, ev.threads
        elif isinstance(ev, EpochEnd):
            rates.append(ev.examples_per_sec)
        elif isinstance(ev, Failed):
            raise SystemExit(f"{nproc} ranks: {ev.message}")
        elif isinstance(ev, Finished):
            break
    return statistics.median(rates[1:] or rates), startup, threads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-procs", type=int, default=2)
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--batch-size", type=int, default=64, help="per rank")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{args.model} on {args.dataset}, batch {args.batch_size} per rank, {args.epochs} epochs, "
          f"device {args.device}, {cores} CPUs in affinity, load average {os.getloadavg()[0]:.1f}")
    print(f"{'ranks':>5} {'threads/rank':>12} {'examples/s':>11} {'efficiency':>10} {'start-up s':>10}")
    base = None
    for n in range(1, args.max_procs + 1):
        rate, startup, threads = one(n, args)
        base = base or rate
        print(f"{n:>5} {threads:>12} {rate:>11,.0f} {rate / (n * base):>10.2f} {startup:>10.1f}", flush=True)


if __name__ == "__main__":
    main()
