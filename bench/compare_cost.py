"""Benchmark: racing K optimizers against one training run of the same model, data and epochs.

    python bench/compare_cost.py [--model mlp] [--dataset digits] [--epochs 2] [--reps 3] [--device cpu]
                                 [--threads N]

Baseline, measured in the same run: `training.train` once with each of the five optimizers (sgd,
momentum, rmsprop, adagrad, adam); "one run" is their mean, so the ratio says what racing them costs
against training one of them. Then `compare.compare` with all five. Everything is timed from its
Started event to its final event, so data loading and imports are left out. Baselines and race
alternate `--reps` times; the minimum of each is kept (the least disturbed by other jobs on a shared
machine), and the process CPU time is shown too. Target: ratio <= 5.5 on a CPU (K runs cost K times
one run, plus little). On a loaded 2-core machine, `--threads 1` gives steadier numbers.
`--stacked on` steps the five as one vmapped model (the default on CUDA, where it saves K-1 launches
per layer); on a CPU it is slower for wide layers (batched matmuls), which is why auto leaves it off.
"""

from __future__ import annotations

import argparse
import statistics
import time


def timed(events, first_type, final_types) -> tuple[float, float]:
    """Wall and process-CPU seconds from the first event of `first_type` to a final event."""
    wall0 = cpu0 = None
    for ev in events:
        if isinstance(ev, first_type):
            wall0, cpu0 = time.perf_counter(), time.process_time()
        elif isinstance(ev, final_types):
            return time.perf_counter() - wall0, time.process_time() - cpu0
    raise RuntimeError("the stream ended without a final event")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: leave torch's default)")
    parser.add_argument("--stacked", choices=("auto", "on", "off"), default="auto",
                        help="step the runs as one vmapped model (auto: on CUDA)")
    args = parser.parse_args()

    import torch

    from tui_lab import compare as c
    from tui_lab import training as t

    if args.threads:
        torch.set_num_threads(args.threads)
    common = dict(model=args.model, dataset=args.dataset, epochs=args.epochs, batch_size=args.batch_size,
                  device=args.device, seed=0)
    names = ("sgd", "momentum", "rmsprop", "adagrad", "adam")
    race_cfg = c.CompareConfig(runs=tuple(c.RunSetting(n) for n in names),
                               batched={"auto": None, "on": True, "off": False}[args.stacked], **common)

    def one(name):
        return timed(t.train(t.TrainConfig(optimizer=name, **common)), t.Started, t.FINAL_EVENTS)

    def race():
        return timed(c.compare(race_cfg), c.CompareStarted, (c.CompareFinished, c.CompareCancelled))

    one("adam"), race()  # warm up: data set cache, allocator, first-call costs
    base: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
    many = []
    for _ in range(args.reps):
        for n in names:
            base[n].append(one(n))
        many.append(race())
    walls = {n: min(w for w, _ in base[n]) for n in names}
    cpus = {n: statistics.median(p for _, p in base[n]) for n in names}
    b_wall, b_cpu = statistics.mean(walls.values()), statistics.mean(cpus.values())
    m_wall, m_cpu = min(w for w, _ in many), statistics.median(p for _, p in many)
    print(f"{args.model} on {args.dataset}, {args.epochs} epochs, batch {args.batch_size}, device {args.device}, "
          f"torch threads {torch.get_num_threads()}, reps {args.reps}, stacked {args.stacked}")
    for n in names:
        print(f"  one run {n:<9}     wall {walls[n]:7.3f} s   cpu {cpus[n]:7.3f} s")
    print(f"one run (mean of 5)   wall {b_wall:7.3f} s   cpu {b_cpu:7.3f} s")
    print(f"race of {len(names)} optimizers  wall {m_wall:7.3f} s   cpu {m_cpu:7.3f} s")
    print(f"ratio wall {m_wall / b_wall:.2f}x   cpu {m_cpu / b_cpu:.2f}x   (target <= 5.5x for 5 on a CPU)")
    print(f"vs adam alone: wall {m_wall / walls['adam']:.2f}x   cpu {m_cpu / cpus['adam']:.2f}x")


if __name__ == "__main__":
    main()
