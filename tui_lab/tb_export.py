"""`dllab runs export RUN --format tensorboard --out DIR`: a recorded run as TensorBoard event files.

Written with `torch.utils.tensorboard.SummaryWriter` into DIR/run-ID: the loss per recorded step
(`train/loss`), per epoch `epoch/train_loss`, `epoch/train_acc`, `epoch/val_loss`, `epoch/val_acc`
and `epoch/lr`, each live hyperparameter change at its step (`control/lr`, `control/momentum`,
`control/weight_decay`), and the run's settings with its best accuracy and last validation loss as
hyperparameters (the HPARAMS tab). TensorBoard is an optional extra: `pip install 'dllab[tensorboard]'`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tui_lab.errors import ConfigError

EXTRA_HINT = "the tensorboard export needs the optional extra: pip install 'dllab[tensorboard]'"
HPARAM_KEYS = ("model", "dataset", "optimizer", "lr", "momentum", "weight_decay", "batch_size", "epochs", "seed",
               "schedule", "warmup", "init_from")


def summary_writer_class() -> Any:
    try:
        import tensorboard  # noqa: F401  (torch.utils.tensorboard needs it)
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError("format", EXTRA_HINT) from None
    return SummaryWriter


def hparams(config: dict[str, Any]) -> dict[str, Any]:
    """The settings TensorBoard accepts as hyperparameters (numbers, strings, bools; None as "")."""
    out: dict[str, Any] = {}
    for key in HPARAM_KEYS:
        value = config.get(key)
        out[key] = "" if value is None else value if isinstance(value, (int, float, str, bool)) else str(value)
    return out


def export_tensorboard(detail: Any, out_dir: str | Path) -> Path:
    """Write run `detail` (runs.RunDetail) as event files under out_dir/run-ID; returns that folder."""
    writer_class = summary_writer_class()
    s = detail.summary
    folder = Path(out_dir) / f"run-{s.id}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError("out", f"cannot create {folder}: {exc.strerror or exc}") from None
    writer = writer_class(log_dir=str(folder))
    try:
        for step, _epoch, loss in detail.steps:
            if loss is not None:
                writer.add_scalar("train/loss", loss, step)
        for e in detail.epochs:
            for tag, value in (("epoch/train_loss", e.train_loss), ("epoch/train_acc", e.train_acc),
                               ("epoch/val_loss", e.val_loss), ("epoch/val_acc", e.val_acc),
                               ("epoch/lr", detail.lrs.get(e.epoch))):
                if value is not None:
                    writer.add_scalar(tag, value, e.epoch)
        for event in detail.events:
            if event.kind == "hyperparameters":
                for name, change in event.data.items():
                    writer.add_scalar(f"control/{name}", change["new"], event.step)
            writer.add_text("control/events", event.describe(), event.step)
        last = detail.epochs[-1] if detail.epochs else None
        metrics = {"hparam/best_val_acc": s.best_val_acc if s.best_val_acc is not None else float("nan"),
                   "hparam/final_val_loss": last.val_loss if last and last.val_loss is not None else float("nan")}
        writer.add_hparams(hparams(s.config or {}), metrics, run_name=".")
    finally:
        writer.close()
    return folder
