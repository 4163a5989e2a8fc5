"""Optimizer registry over torch.optim, plus the loss that matches each task.

`make_optimizer(name, params, lr, weight_decay, momentum)` builds one; `parse_lr` validates a
learning rate typed by a user. The hand-written teaching versions live in `teaching_optimizers.py`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

from tui_lab.errors import ConfigError, choice_error


@dataclass(frozen=True)
class OptimizerSpec:
    name: str
    description: str
    default_lr: float


OPTIMIZERS: dict[str, OptimizerSpec] = {
    s.name: s
    for s in (
        OptimizerSpec("sgd", "plain (minibatch) stochastic gradient descent", 0.1),
        OptimizerSpec("momentum", "SGD with momentum (0.9 unless set)", 0.05),
        OptimizerSpec("nesterov", "SGD with Nesterov momentum (0.9 unless set)", 0.05),
        OptimizerSpec("adagrad", "AdaGrad: per-parameter steps shrink with accumulated squared gradients", 0.05),
        OptimizerSpec("rmsprop", "RMSProp: a leaky average of squared gradients", 0.001),
        OptimizerSpec("adam", "Adam: momentum + RMSProp with bias correction", 0.001),
        OptimizerSpec("adamw", "Adam with decoupled weight decay", 0.001),
    )
}


# The optimizers a momentum coefficient applies to (`--momentum` with any other is refused).
MOMENTUM_OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop")


def optimizer_name(name: str) -> str:
    key = (name or "").strip().lower()
    if key not in OPTIMIZERS:
        raise choice_error("optimizer", name, OPTIMIZERS)
    return key


def parse_lr(value: object, field: str = "lr") -> float:
    """A learning rate: a finite number > 0 within float32 range (strings like '1e-3' accepted)."""
    from tui_lab.limits import parse_lr as _parse

    return _parse(value, field)


def make_optimizer(name: str, params: Iterable, lr: float, weight_decay: float = 0.0, momentum: float | None = None):
    import torch

    key = optimizer_name(name)
    lr = parse_lr(lr)
    if not math.isfinite(weight_decay) or weight_decay < 0:
        raise ConfigError("weight_decay", f"must be a finite number >= 0, got {weight_decay!r}")
    if momentum is not None and not (0.0 <= momentum < 1.0):
        raise ConfigError("momentum", f"must be in [0, 1), got {momentum!r}")
    if key == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum or 0.0, weight_decay=weight_decay)
    if key == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9 if momentum is None else momentum, weight_decay=weight_decay)
    if key == "nesterov":
        m = 0.9 if momentum is None else momentum
        if m == 0:  # torch's Nesterov needs a momentum: 0 would silently be plain SGD, or raise in torch
            raise ConfigError("momentum", "nesterov needs a momentum in (0, 1); use --optimizer sgd for none")
        return torch.optim.SGD(params, lr=lr, momentum=m, nesterov=True, weight_decay=weight_decay)
    if key == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, weight_decay=weight_decay)
    if key == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=momentum or 0.0, weight_decay=weight_decay)
    if key == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)


def loss_for_task(task: str):
    """Cross-entropy for classification (LogSoftmax + NLLLoss in one), the same averaged over every token
    for a sequence task, mean squared error for regression and for reconstruction (an autoencoder: the
    mean over every pixel of (output - input)^2)."""
    from torch import nn

    if task == "sequence":
        return token_cross_entropy
    return nn.CrossEntropyLoss() if task == "classification" else nn.MSELoss()


def token_cross_entropy(out, y):
    """Mean cross-entropy over every token: `out` (batch, tokens, vocab) logits, `y` (batch, tokens) ids."""
    import torch.nn.functional as F

    return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
