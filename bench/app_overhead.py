"""Training speed with the app open vs headless `train()` on the same config; the ratio is printed last.

    python bench/app_overhead.py [--model lenet-relu] [--dataset digits] [--epochs 3] [--batch-size 64]
                                 [--device auto] [--rounds 3]

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
import time


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="lenet-relu")
    p.add_argument("--dataset", default="digits")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--device", default="auto")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's own)")
    return p.parse_args()


def config(args):
    from tui_lab.training import TrainConfig

    return TrainConfig(model=args.model, dataset=args.dataset, epochs=args.epochs, batch_size=args.batch_size,
                       lr=args.lr, device=args.device, optimizer="sgd").validated()


def train_seconds(store, run_id: int) -> float:
    return sum(e.seconds for e in store.get_run(run_id).epochs)


def headless(args, store) -> float:
    from tui_lab.runs import record
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
        for name in ("model", "dataset", "lr", "epochs", "batch_size", "device"):
            form.set_value(name, getattr(cfg, name) if name != "device" else args.device)
        form.set_value("optimizer", "sgd")
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


def main() -> None:
    args = parse()
    import torch  # imported before timing anything

    if args.threads:
        torch.set_num_threads(args.threads)

    from tui_lab.runs import RunStore

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DLLAB_HOME"] = tmp
        store_path = os.path.join(tmp, "runs.sqlite3")
        store = RunStore(store_path)
        headless(args, store)  # warm-up: data set load, kernels, allocator
        base, app = [], []
        for r in range(args.rounds):
            base.append(headless(args, store))
            app.append(asyncio.run(in_app(args, store_path)))
            print(f"round {r + 1}: headless {base[-1]:.3f}s  app {app[-1]:.3f}s", flush=True)
    b, a = statistics.median(base), statistics.median(app)
    print(f"config: {args.model} on {args.dataset}, {args.epochs} epochs, batch {args.batch_size}, device {args.device},"
          f" {torch.get_num_threads()} torch threads, {os.cpu_count()} CPUs")
    print(f"median training seconds: headless {b:.3f}  app {a:.3f}")
    print(f"ratio app/headless: {a / b:.3f}")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
