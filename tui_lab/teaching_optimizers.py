"""Hand-written SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam and AdamW, as the seeds explain them.

Each one is a few readable lines over plain tensors and keeps its state in named tensors
(velocity, accumulated squared gradients, first and second moments) so a screen can show them.
The tests check every one against `torch.optim` step for step. Used like torch.optim:

    opt = make_teaching_optimizer("adam", model.parameters(), lr=1e-3)
    loss.backward(); opt.step(); opt.zero_grad(); opt.state_of(0)  # {"m": ..., "v": ...}
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import torch

from tui_lab.errors import ConfigError, choice_error


def _check_lr(lr: Any) -> float:
    try:
        value = float(lr)
    except (TypeError, ValueError):
        raise ConfigError("lr", f"must be a finite number > 0, got {lr!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError("lr", f"must be a finite number > 0, got {lr!r}")
    return value


def _check_momentum(value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError("momentum", f"must be a number in [0, 1), got {value!r}") from None
    if not 0.0 <= v < 1.0:
        raise ConfigError("momentum", f"must be a number in [0, 1), got {value!r}")
    return v


def _check_nonneg(field: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(field, f"must be a finite number >= 0, got {value!r}") from None
    if not math.isfinite(v) or v < 0:
        raise ConfigError(field, f"must be a finite number >= 0, got {value!r}")
    return v


class TeachingOptimizer:
    """Shared plumbing: the parameter list, per-parameter state, step count, zero_grad."""

    name = "base"
    rule = ""  # the update rule in one line, for display
    # state key -> what it means, in the order a screen should show them
    state_labels: dict[str, str] = {}

    def __init__(self, params: Iterable[torch.Tensor], lr: float, weight_decay: float = 0.0) -> None:
        self.params = list(params)
        if not self.params:
            raise ConfigError("params", "optimizer got an empty parameter list")
        self.lr = _check_lr(lr)
        self.weight_decay = _check_nonneg("weight_decay", weight_decay)
        self.steps = 0  # optimizer steps taken
        self.state: list[dict[str, torch.Tensor]] = [self._init_state(p) for p in self.params]
        self._updates = [0] * len(self.params)  # per parameter, as torch counts Adam's t

    def _init_state(self, p: torch.Tensor) -> dict[str, torch.Tensor]:
        return {}

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.steps += 1
        for i, (p, state) in enumerate(zip(self.params, self.state)):
            if p.grad is None:
                continue
            self._updates[i] += 1
            self.t = self._updates[i]
            self._update(p, p.grad, state)

    def _update(self, p: torch.Tensor, g: torch.Tensor, state: dict[str, torch.Tensor]) -> None:
        raise NotImplementedError

    def state_of(self, index: int = 0) -> dict[str, torch.Tensor]:
        """The named state of parameter `index` (copies, safe to keep)."""
        return {k: v.detach().clone() for k, v in self.state[index].items()}

    def settings(self) -> dict[str, float]:
        return {"lr": self.lr, "weight_decay": self.weight_decay}


class SGD(TeachingOptimizer):
    """Plain gradient descent on the minibatch gradient: w <- w - lr * g."""

    name = "sgd"
    rule = "w ← w − η·g"

    def _update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p  # L2 penalty: its gradient is wd * w
        p -= self.lr * g


class Momentum(TeachingOptimizer):
    """SGD with a velocity: the last direction keeps some say in this one, damping the zig-zag.

    v <- mu * v + g  (v = g on the first step, as torch does);  w <- w - lr * v.
    Nesterov looks ahead: it steps along g + mu * v instead of v.
    """

    name = "momentum"
    rule = "v ← μ·v + g;  w ← w − η·v"
    state_labels = {"velocity": "velocity v"}

    def __init__(self, params, lr, weight_decay=0.0, momentum: float = 0.9, nesterov: bool = False):
        self.momentum = _check_momentum(momentum)
        self.nesterov = bool(nesterov)
        if self.nesterov:
            self.name = "nesterov"
            self.rule = "v ← μ·v + g;  w ← w − η·(g + μ·v)"
        super().__init__(params, lr, weight_decay)

    def _update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if "velocity" not in state:
            state["velocity"] = g.clone()
        else:
            state["velocity"].mul_(self.momentum).add_(g)
        v = state["velocity"]
        direction = g + self.momentum * v if self.nesterov else v
        p -= self.lr * direction

    def settings(self):
        return {**super().settings(), "momentum": self.momentum}


class AdaGrad(TeachingOptimizer):
    """A learning rate per coordinate: divide by the root of all squared gradients seen so far.

    s <- s + g^2;  w <- w - lr * g / (sqrt(s) + eps). The sum only grows, so steps shrink towards 0.
    """

    name = "adagrad"
    rule = "s ← s + g²;  w ← w − η·g / (√s + ε)"
    state_labels = {"sum_sq": "sum of squared grads s"}

    def __init__(self, params, lr, weight_decay=0.0, eps: float = 1e-10):
        self.eps = eps
        super().__init__(params, lr, weight_decay)

    def _init_state(self, p):
        return {"sum_sq": torch.zeros_like(p)}

    def _update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p
        state["sum_sq"] += g * g
        p -= self.lr * g / (state["sum_sq"].sqrt() + self.eps)


class RMSProp(TeachingOptimizer):
    """AdaGrad that forgets: an exponential moving average of squared gradients instead of a sum.

    s <- alpha * s + (1 - alpha) * g^2;  w <- w - lr * g / (sqrt(s) + eps).
    With momentum mu: b <- mu * b + g / (sqrt(s) + eps);  w <- w - lr * b.
    """

    name = "rmsprop"
    rule = "s ← α·s + (1−α)·g²;  w ← w − η·g / (√s + ε)"
    state_labels = {"mean_sq": "moving avg of g² s", "velocity": "velocity b"}

    def __init__(self, params, lr, weight_decay=0.0, alpha: float = 0.99, eps: float = 1e-8, momentum: float = 0.0):
        self.alpha = alpha
        self.eps = eps
        self.momentum = _check_momentum(momentum)
        super().__init__(params, lr, weight_decay)

    def _init_state(self, p):
        state = {"mean_sq": torch.zeros_like(p)}
        if self.momentum:
            state["velocity"] = torch.zeros_like(p)
        return state

    def _update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p
        s = state["mean_sq"]
        s.mul_(self.alpha).add_((1 - self.alpha) * g * g)
        scaled = g / (s.sqrt() + self.eps)
        if self.momentum:
            state["velocity"].mul_(self.momentum).add_(scaled)
            scaled = state["velocity"]
        p -= self.lr * scaled

    def settings(self):
        return {**super().settings(), "momentum": self.momentum}


class Adam(TeachingOptimizer):
    """Momentum (first moment m) + RMSProp (second moment v), both bias-corrected for early steps.

    m <- b1*m + (1-b1)*g;  v <- b2*v + (1-b2)*g^2;  m^ = m/(1-b1^t);  v^ = v/(1-b2^t)
    w <- w - lr * m^ / (sqrt(v^) + eps). AdamW instead shrinks w directly: w <- w - lr*wd*w.
    """

    name = "adam"
    rule = "m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  w ← w − η·m̂ / (√v̂ + ε)"
    state_labels = {"m": "1st moment m", "v": "2nd moment v"}

    def __init__(self, params, lr, weight_decay=0.0, betas=(0.9, 0.999), eps: float = 1e-8, decoupled: bool = False):
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.decoupled = bool(decoupled)
        if self.decoupled:
            self.name = "adamw"
            self.rule = "w ← w − η·λ·w;  then Adam's step"
        super().__init__(params, lr, weight_decay)

    def _init_state(self, p):
        return {"m": torch.zeros_like(p), "v": torch.zeros_like(p)}

    def _update(self, p, g, state):
        if self.weight_decay:
            if self.decoupled:
                p.mul_(1 - self.lr * self.weight_decay)  # decay the weights, not the gradient
            else:
                g = g + self.weight_decay * p
        m, v, t = state["m"], state["v"], self.t
        m.mul_(self.beta1).add_((1 - self.beta1) * g)
        v.mul_(self.beta2).add_((1 - self.beta2) * g * g)
        m_hat = m / (1 - self.beta1**t)
        v_hat = v / (1 - self.beta2**t)
        p -= self.lr * m_hat / (v_hat.sqrt() + self.eps)


TEACHING_NAMES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
# each optimizer's update in one line, for screens (g: gradient, η: lr, μ: momentum)
UPDATE_RULES = {
    "sgd": SGD.rule,
    "momentum": Momentum.rule,
    "nesterov": "v ← μ·v + g;  w ← w − η·(g + μ·v)",
    "adagrad": AdaGrad.rule,
    "rmsprop": RMSProp.rule,
    "adam": Adam.rule,
    "adamw": "w ← w − η·λ·w;  then Adam's step",
}
MOMENTUM_NAMES = ("momentum", "nesterov")  # momentum 0.9 unless set
DEFAULT_MOMENTUM = 0.9


def make_teaching_optimizer(
    name: str,
    params: Iterable[torch.Tensor],
    lr: float,
    weight_decay: float = 0.0,
    momentum: float | None = None,
) -> TeachingOptimizer:
    """The hand-written twin of `tui_lab.optimizers.make_optimizer(name, ...)`: same names, same settings."""
    key = (name or "").strip().lower()
    if key not in TEACHING_NAMES:
        raise choice_error("optimizer", name, TEACHING_NAMES)
    if key == "sgd":
        if momentum:  # as torch.optim.SGD: plain SGD unless a momentum is given
            return Momentum(params, lr, weight_decay, momentum=momentum)
        return SGD(params, lr, weight_decay)
    if key in MOMENTUM_NAMES:
        mu = DEFAULT_MOMENTUM if not momentum else momentum
        if key == "momentum" and momentum is not None:
            mu = momentum
        return Momentum(params, lr, weight_decay, momentum=mu, nesterov=key == "nesterov")
    if key == "adagrad":
        return AdaGrad(params, lr, weight_decay)
    if key == "rmsprop":
        return RMSProp(params, lr, weight_decay, momentum=momentum or 0.0)
    return Adam(params, lr, weight_decay, decoupled=key == "adamw")
