"""Threads on a shared CPU: `--threads auto` against fixed thread counts, each side in a fresh process.

    python bench/shared_cpu.py [--epochs 4] [--repeats 3] [--scenario both|busy|quiet] [--pin]

LeNet on digits (tui_lab.training.train, device cpu, the CLI's defaults: adam, lr 0.01, batch 64),
training examples/s over the epochs after one warm-up epoch (harmonic mean, i.e. total examples over
total time), each run in a fresh Python process so thread pools start clean:

  busy   one competing busy process (a Python busy loop in a subprocess; `--pin` pins it to CPU 0)
         for the whole scenario. auto vs OMP_NUM_THREADS=1. Target: auto / one >= 0.9.
  quiet  no process of ours competing. auto vs torch's default threads. Target: auto / default >= 0.95.

Sides alternate (auto, other, auto, other, ...) so drifting load hits both alike. The ratio is of the
medians; the best of each side is shown too. On a machine other people use, "quiet" is only as quiet
as they leave it: the lines print what `auto` saw (threads chosen, other processes' CPUs busy).

The auto side runs `TrainConfig(threads="auto")`: the engine chooses its threads at the start and
re-checks them after every epoch (`training.fit_threads`). The child's own `apply_threads` calls are
no-ops beside it (they share the engine's reading and come within its 50 ms window).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def child(side: str, epochs: int) -> None:
    """One measured run; prints one JSON line."""
    import torch

    from tui_lab.threads import apply_threads, choose_threads
    from tui_lab.training import EpochEnd, Started, TrainConfig, train

    common: dict = {"model": "lenet", "dataset": "digits", "device": "cpu", "epochs": epochs + 1, "report_every": 50}
    seen: list[str] = []
    if side == "auto":
        cfg = TrainConfig(threads="auto", **common)
        choice = choose_threads(None)
        apply_threads(choice.threads)
        seen.append(choice.reason)
    else:
        cfg = TrainConfig(threads=torch.get_num_threads(), **common)
    rates = []
    threads = []
    for ev in train(cfg):
        if isinstance(ev, Started):
            threads.append(torch.get_num_threads())
        elif isinstance(ev, EpochEnd):
            rates.append((ev.examples_per_sec, ev.seconds))
            if side == "auto":
                apply_threads(choose_threads(None).threads)
            threads.append(torch.get_num_threads())
    measured = rates[1:]
    rate = len(measured) / sum(1 / r for r, _ in measured)
    print(json.dumps({"side": side, "rate": rate, "threads": threads[:-1], "reasons": seen}))


def run_side(side: str, epochs: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    if side == "one":
        env["OMP_NUM_THREADS"] = "1"
    out = subprocess.run([sys.executable, __file__, "--child", side, "--epochs", str(epochs)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def scenario(name: str, other: str, epochs: int, repeats: int, target: float) -> float:
    results: dict[str, list[dict]] = {"auto": [], other: []}
    for _ in range(repeats):
        for side in ("auto", other):
            r = run_side(side, epochs)
            results[side].append(r)
            extra = f"  ({r['reasons'][0]})" if r["reasons"] else ""
            print(f"  {name:<5} {side:<7} {r['rate']:8,.0f} examples/s  threads per epoch {r['threads']}{extra}",
                  flush=True)
    med = {s: statistics.median(r["rate"] for r in rs) for s, rs in results.items()}
    best = {s: max(r["rate"] for r in rs) for s, rs in results.items()}
    ratio = med["auto"] / med[other]
    print(f"{name}: auto median {med['auto']:,.0f} (best {best['auto']:,.0f}) vs {other} median {med[other]:,.0f} "
          f"(best {best[other]:,.0f}) examples/s, {repeats} runs each: ratio auto/{other} {ratio:.2f} "
          f"(target >= {target}) {'ok' if ratio >= target else 'BELOW TARGET'}", flush=True)
    return ratio


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=4, help="measured epochs per run (after one warm-up epoch)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per side per scenario")
    ap.add_argument("--scenario", choices=("both", "busy", "quiet"), default="both")
    ap.add_argument("--pin", action="store_true", help="pin the busy process to CPU 0")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.epochs)
        return
    with open("/proc/loadavg") if os.path.exists("/proc/loadavg") else open(os.devnull) as f:
        load = f.read().split()[:3]
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"lenet on digits, cpu, {cpus} CPUs, load average {' '.join(load) or 'unknown'}, "
          f"{args.epochs} measured epochs per run, {args.repeats} runs per side")
    if args.scenario in ("both", "quiet"):
        scenario("quiet", "default", args.epochs, args.repeats, 0.95)
    if args.scenario in ("both", "busy"):
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            if args.pin and hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(busy.pid, {min(os.sched_getaffinity(0))})
            time.sleep(0.5)
            scenario("busy", "one", args.epochs, args.repeats, 0.9)
        finally:
            busy.kill()
            busy.wait()


if __name__ == "__main__":
    main()
