"""Training throughput: dllab's engine vs a plain PyTorch loop written the d2l way, in one run.

    python bench/train_throughput.py [--model lenet] [--dataset digits] [--batch-size 256] [--epochs 5] [--device auto]

The baseline is d2l's train_ch6 style: TensorDataset + DataLoader(shuffle=True), `.item()` per step,
same model, data, batch size and optimizer. Both sides run the same number of epochs after one
warm-up epoch each; the last line is the ratio engine / baseline (higher is better; target >= 1.0
on a CPU, >= 2 on a GPU for LeNet at batch 256).
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.utils.data import DataLoader, TensorDataset

from tui_lab.data import load_dataset
from tui_lab.devices import resolve_device
from tui_lab.models import build_model
from tui_lab.optimizers import loss_for_task, make_optimizer
from tui_lab.training import EpochEnd, TrainConfig, train


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def baseline(cfg: TrainConfig, device: str, epochs: int) -> float:
    """Examples/sec of the d2l-style loop (data on the host, moved per batch, .item() per step)."""
    data = load_dataset(cfg.dataset)
    torch.manual_seed(cfg.seed)
    net = build_model(cfg.model, data.info).to(device)
    opt = make_optimizer(cfg.optimizer, net.parameters(), cfg.lr)
    loss_fn = loss_for_task(data.info.task)
    loader = DataLoader(TensorDataset(data.train_x, data.train_y), batch_size=cfg.batch_size, shuffle=True)

    def one_epoch():
        net.train()
        total = correct = n = 0
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            y_hat = net(x)
            loss = loss_fn(y_hat, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * y.numel()  # d2l's Accumulator: a host sync every step
            correct += (y_hat.argmax(1) == y).sum().item()
            n += y.numel()
        return n

    one_epoch()  # warm-up
    sync(device)
    t0 = time.perf_counter()
    seen = sum(one_epoch() for _ in range(epochs))
    sync(device)
    return seen / (time.perf_counter() - t0)


def engine(cfg: TrainConfig) -> float:
    """Examples/sec of the engine's training phase, epochs after the first (warm-up) one."""
    rates = [(ev.examples_per_sec, ev.seconds) for ev in train(cfg) if isinstance(ev, EpochEnd)]
    measured = rates[1:]
    n = 1 / sum(1 / r for r, _ in measured) * len(measured)  # harmonic mean = total examples / total time
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="lenet")
    ap.add_argument("--dataset", default="digits")
    ap.add_argument("--optimizer", default="sgd")
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--repeats", type=int, default=3, help="alternate baseline/engine this many times, keep the best")
    args = ap.parse_args()
    device = resolve_device(args.device)
    cfg = TrainConfig(model=args.model, dataset=args.dataset, optimizer=args.optimizer, lr=args.lr,
                      epochs=args.epochs + 1, batch_size=args.batch_size, device=device, report_every=50)
    best_base = best_engine = 0.0
    for _ in range(args.repeats):  # interleaved, so machine noise hits both sides alike
        best_base = max(best_base, baseline(cfg, device, args.epochs))
        best_engine = max(best_engine, engine(cfg))
    print(f"device: {device}  model: {args.model}  data: {args.dataset}  batch: {args.batch_size}  epochs: {args.epochs}")
    print(f"baseline (d2l loop, DataLoader + .item() per step): {best_base:,.0f} examples/s")
    print(f"dllab engine:                                        {best_engine:,.0f} examples/s")
    print(f"ratio engine/baseline: {best_engine / best_base:.2f}")


if __name__ == "__main__":
    main()
