"""What to try when a run is not learning: stuck near chance, a loss that stalls, or overfitting.

`diagnose(config, epochs)` reads the epochs a run has finished (EpochEnd events or rows with the same
fields) and returns an `Advice` or None. The train screen shows it under the status line; the rules
are plain so a test can state them: chance is 1/classes; a stall is under 1% relative improvement of
the training loss over the last epoch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CHANCE_MARGIN = 1.5  # accuracy under 1.5x chance (plus two points) counts as "near chance"
STALL = 0.01  # the training loss fell by less than 1% over the last epoch
OVERFIT_GAP = 0.15  # training accuracy this far above validation accuracy


@dataclass(frozen=True)
class Advice:
    kind: str  # "chance" | "stall" | "overfit"
    message: str  # what is wrong, with the numbers
    tries: tuple[str, ...]  # what to try, most likely first

    def text(self) -> str:
        return f"{self.message} Try: " + "; ".join(self.tries) + "."


def _get(config: Any, name: str, default: Any = None) -> Any:
    if isinstance(config, Mapping):
        return config.get(name, default)
    return getattr(config, name, default)


def _lr_tries(optimizer: str, lr: float) -> list[str]:
    adaptive = optimizer in ("adam", "adamw", "rmsprop", "adagrad")
    if adaptive and lr >= 0.05:
        return [f"a smaller lr (lr {lr:g} is large for {optimizer}: 0.001-0.01)"]
    if not adaptive and lr < 0.05:
        return [f"a larger lr (x10: {lr * 10:g})"]
    return []


def diagnose(config: Any, epochs: Sequence[Any], num_classes: int = 0) -> Advice | None:
    """Advice for a run after its latest epoch, or None when it is learning."""
    if not epochs:
        return None
    model = str(_get(config, "model", "")).lower()
    optimizer = str(_get(config, "optimizer", "")).lower()
    lr = float(_get(config, "lr", 0.0) or 0.0)
    options = _get(config, "model_options", {}) or {}
    last = epochs[-1]
    if num_classes > 1 and last.val_acc is not None:
        chance = 1.0 / num_classes
        if last.val_acc <= CHANCE_MARGIN * chance + 0.02:
            tries = _lr_tries(optimizer, lr)
            if model == "lenet" and not options.get("batch_norm"):
                tries.append("lenet-relu (sigmoid LeNet learns slowly), or batch norm")
            if optimizer in ("sgd", "momentum", "nesterov"):
                tries.append("adam with lr 0.01")
            tries.append("more epochs")
            return Advice("chance", f"Epoch {last.epoch}: validation accuracy {100 * last.val_acc:.1f}% is near "
                                    f"chance ({100 * chance:.0f}% for {num_classes} classes): the model is not "
                                    f"learning yet.", tuple(tries))
        if last.train_acc is not None and last.train_acc - last.val_acc > OVERFIT_GAP:
            tries = ["weight decay 1e-4 to 1e-3"]
            if model in ("mlp", "alexnet", "vgg", "nin"):
                tries.append("dropout 0.5")
            tries.append("a smaller model or fewer epochs")
            return Advice("overfit", f"Epoch {last.epoch}: training accuracy {100 * last.train_acc:.1f}% but "
                                     f"validation {100 * last.val_acc:.1f}%: the model memorises the training "
                                     f"set (overfitting).", tuple(tries))
    if len(epochs) >= 2:
        before, now = epochs[-2].train_loss, last.train_loss
        learned = num_classes > 1 and last.train_acc is not None and last.train_acc >= 0.95
        small = num_classes <= 1 and now < 1e-3  # regression: the noise floor
        if before > 0 and (before - now) / before < STALL and not learned and not small:
            tries = _lr_tries(optimizer, lr)
            if now > before:
                tries.insert(0, f"a smaller lr (the loss rose: {before:.4g} -> {now:.4g})")
            if optimizer == "sgd":
                tries.append("momentum (0.9) or adam")
            tries.append("a larger model if it cannot fit the training set")
            return Advice("stall", f"Epoch {last.epoch}: the training loss stalls ({before:.4g} -> {now:.4g}, "
                                   f"under {100 * STALL:.0f}% better).", tuple(tries))
    return None
