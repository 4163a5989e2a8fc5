"""Training speed with the app open vs headless `train()` on the same config; the ratio is printed last.

    python bench/app_overhead.py [--model lenet] [--dataset digits] [--optimizer adam] [--lr 0.01]
                                 [--epochs 5] [--batch-size 32] [--device auto] [--rounds 3] [--threads N]

The defaults are the train screen's own defaults. A small model on a CPU is the worst case (its
training loop is Python-bound, so every ms the UI thread holds the GIL slows it); a model whose steps
are dominated by kernels (e.g. --model resnet --batch-size 128) shows the app's cost apart from that.

Headless: `train()` through `record()` into a run store, as `dllab train` runs it (minus printing).
App: the same config started from the train screen of `DllabApp` (headless Textual driver, 120x40),
with the live plots redrawing. Both times are the engine's own per-epoch training seconds (evaluation
excluded), summed over the epochs; rounds alternate and the medians are compared. Target: <= 1.05.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="lenet")
    p.add_argument("--dataset", default="digits")
    p.add_argument("--optimizer", default="adam")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--device", default="auto")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's own)")
    p.add_argument("--role", choices=("headless", "app"), default=None, help=argparse.SUPPRESS)
    return p.parse_args()


def config(args):
    from tui_lab.training import TrainConfig

    return TrainConfig(model=args.model, dataset=args.dataset, epochs=args.epochs, batch_size=args.batch_size,
                       lr=args.lr, device=args.device, optimizer=args.optimizer).validated()


def train_seconds(store, run_id: int) -> float:
    return sum(e.seconds for e in store.get_run(run_id).epochs)


def headless(args, store) -> float:
    from tui_lab.recording import record
    from tui_lab.training import train

    cfg = config(args)
    events = train(cfg)
    run_id = store.create_run(cfg.to_dict())
    for _ in record(store, run_id, events):
        pass
    return train_seconds(store, run_id)


async def in_app(args, store_path) -> float:
    from tui_lab.ui.app import DllabApp
    from tui_lab.ui.screens.train import TrainScreen

    cfg = config(args)
    app = DllabApp(store_path=store_path, warm_torch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        while not (isinstance(app.screen, TrainScreen) and app.screen.ready):
            await pilot.pause(0.05)
        screen = app.screen
        form = screen.query_one("TrainForm")
        for name in ("model", "dataset", "optimizer", "lr", "epochs", "batch_size", "device"):
            form.set_value(name, getattr(cfg, name) if name != "device" else args.device)
        await pilot.pause()
        assert screen.validate(), "the form did not accept the bench config"
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        while screen.running:
            await pilot.pause(0.1)
        run_id = screen.run_id
        status = app.store.get_run(run_id).summary.status
        assert status == "finished", status
        return train_seconds(app.store, run_id)


def one(args) -> None:
    """One process, one mode: a warm-up run, then the timed run; prints `seconds X`."""
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from tui_lab.runs import RunStore

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DLLAB_HOME"] = tmp
        store_path = os.path.join(tmp, "runs.sqlite3")
        warm = argparse.Namespace(**{**vars(args), "epochs": 1})
        if args.role == "headless":
            store = RunStore(store_path)
            headless(warm, store)  # data set load, kernels, allocator
            seconds = headless(args, store)
        else:
            asyncio.run(in_app(warm, store_path))
            seconds = asyncio.run(in_app(args, store_path))
    print(f"seconds {seconds:.6f} threads {torch.get_num_threads()}")


def main() -> None:
    """Alternate headless and app runs, each in a fresh process (as `dllab train` and `dllab` are):
    torch's CPU thread pools belong to the thread that first ran an op, so mixing both in one process
    would measure the pools, not the app."""
    import subprocess
    import sys

    args = parse()
    if args.role:
        one(args)
        return
    passthrough = [a for a in sys.argv[1:]]
    base, app = [], []
    threads = "?"
    for r in range(args.rounds):
        for role, out in (("headless", base), ("app", app)):
            res = subprocess.run([sys.executable, __file__, *passthrough, "--role", role],
                                 capture_output=True, text=True, check=True)
            last = res.stdout.strip().splitlines()[-1].split()
            out.append(float(last[1]))
            threads = last[3]
        print(f"round {r + 1}: headless {base[-1]:.3f}s  app {app[-1]:.3f}s", flush=True)
    b, a = statistics.median(base), statistics.median(app)
    print(f"config: {args.model}/{args.optimizer} on {args.dataset}, {args.epochs} epochs, batch {args.batch_size},"
          f" device {args.device}, {threads} torch threads, {os.cpu_count()} CPUs")
    print(f"median training seconds: headless {b:.3f}  app {a:.3f}")
    print(f"ratio app/headless: {a / b:.3f}")


if __name__ == "__main__":
    main()
