"""Several optimizers race on one model, one data set, one seed: a config in, a stream of events out.

    for event in compare(CompareConfig(model="mlp", dataset="digits",
                                       runs=(RunSetting("sgd", 0.1), RunSetting("adam", 0.001)))):
        ...  # CompareStarted, then InitialLoss / Step / EpochEnd / Diverged per run (`run`), CompareFinished

Every run starts from the same initial weights (one model, copied) and sees the same batches in the
same order (one shuffle shared by all, the same as `training.train` uses for that seed). The runs
advance round-robin, a reporting window (`report_every` steps; 1 for strict step-by-step) each in
turn, so every report has all runs at the same step and their curves race live; a run that
diverges stops alone. On CUDA the runs step as one model with stacked weights (`torch.func.vmap`:
one forward/backward launch for all K); each run keeps its own torch.optim optimizer. Built from
the training engine's pieces: data on the device, the model zoo, the loss, evaluate.
`recording.record_compare` writes the runs to the run store as one group.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterator

from tui_lab.control import RunControl
from tui_lab.errors import ConfigError

MAX_RUNS = 8


@dataclass(frozen=True)
class RunSetting:
    optimizer: str
    lr: float | None = None  # None: the optimizer's default rate from the registry
    momentum: float | None = None  # None: 0.9 for momentum/nesterov, none for the others
    weight_decay: float = 0.0

    def label(self) -> str:
        extra = "" if self.momentum is None else f" μ={self.momentum:g}"
        wd = f" wd={self.weight_decay:g}" if self.weight_decay else ""
        return f"{self.optimizer} lr={self.lr:g}{extra}{wd}" if self.lr is not None else self.optimizer


@dataclass(frozen=True)
class CompareConfig:
    model: str = "mlp"
    dataset: str = "digits"
    runs: tuple[RunSetting, ...] = (RunSetting("sgd"), RunSetting("momentum"), RunSetting("adam"))
    model_options: dict = field(default_factory=dict, hash=False)
    epochs: int = 3
    batch_size: int = 64
    seed: int = 0
    device: str = "auto"
    data_dir: str | None = None
    threads: int | str = "auto"
    report_every: int = 10
    # Step all runs as one batched model (torch.func.vmap over stacked weights): one forward and one
    # backward launch for K models instead of K. None: on CUDA when the model has no buffers (batch
    # norm keeps running stats, which a stacked forward cannot update); True: wherever it works.
    batched: bool | None = None

    def train_configs(self):
        """One validated `TrainConfig` per run (what the run store keeps); ConfigError names the field."""
        from tui_lab.optimizers import OPTIMIZERS, optimizer_name
        from tui_lab.training import TrainConfig

        if not self.runs:
            raise ConfigError("optimizers", "give at least one optimizer")
        if len(self.runs) > MAX_RUNS:
            raise ConfigError("optimizers", f"at most {MAX_RUNS} optimizers race at once, got {len(self.runs)}")
        out = []
        for s in self.runs:
            name = optimizer_name(s.optimizer)
            lr = OPTIMIZERS[name].default_lr if s.lr is None else s.lr
            out.append(TrainConfig(
                model=self.model, dataset=self.dataset, model_options=dict(self.model_options), optimizer=name,
                lr=lr, momentum=s.momentum, weight_decay=s.weight_decay, epochs=self.epochs,
                batch_size=self.batch_size, seed=self.seed, device=self.device, data_dir=self.data_dir,
                threads=self.threads, report_every=self.report_every,
            ).validated())
        return out


# --- events ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompareStarted:
    device: str
    device_name: str
    params: int  # per model
    train_size: int
    val_size: int
    steps_per_epoch: int
    runs: tuple[dict, ...]  # each run's TrainConfig as a dict
    batched: bool = False  # the runs step as one stacked model (see CompareConfig.batched)


@dataclass(frozen=True)
class InitialLoss:
    run: int
    loss: float  # on the first batch, before any update: the same for every run


@dataclass(frozen=True)
class RunResult:
    run: int
    optimizer: str
    lr: float
    momentum: float | None
    weight_decay: float
    status: str  # "finished" | "diverged" | "failed" | "cancelled"
    initial_loss: float | None
    epochs: tuple[Any, ...]  # training.EpochEnd, one per finished epoch
    seconds: float  # this run's own training time
    examples: int  # training examples it stepped through
    message: str | None = None

    @property
    def final_loss(self) -> float | None:
        return self.epochs[-1].val_loss if self.epochs else None

    @property
    def best_loss(self) -> float | None:
        finite = [e.val_loss for e in self.epochs if math.isfinite(e.val_loss)]
        return min(finite) if finite else None

    @property
    def final_acc(self) -> float | None:
        return self.epochs[-1].val_acc if self.epochs else None

    @property
    def best_acc(self) -> float | None:
        accs = [e.val_acc for e in self.epochs if e.val_acc is not None]
        return max(accs) if accs else None

    @property
    def examples_per_sec(self) -> float | None:
        return self.examples / self.seconds if self.seconds > 0 else None

    def to_json(self) -> dict[str, Any]:
        return {
            "optimizer": self.optimizer,
            "lr": self.lr,
            "status": self.status,
            "initial_loss": self.initial_loss,
            "epochs": [e.__dict__.copy() for e in self.epochs],
        }


@dataclass(frozen=True)
class CompareFinished:
    results: tuple[RunResult, ...]
    seconds: float  # wall time of the whole race

    def to_json(self) -> dict[str, Any]:
        return {"runs": [r.to_json() for r in self.results]}


@dataclass(frozen=True)
class CompareCancelled:
    results: tuple[RunResult, ...]
    seconds: float
    message: str = "stopped by the user"

    def to_json(self) -> dict[str, Any]:
        return {"runs": [r.to_json() for r in self.results]}


@dataclass(frozen=True)
class CompareFailed:
    """The race could not start (no run was created): building the K models failed."""

    message: str
    hint: str


# A race streams CompareStarted, InitialLoss, then the training engine's own Step, EpochEnd,
# Diverged, Failed and HyperparametersChanged events, each with the `run` it belongs to, and ends
# with CompareFinished, CompareCancelled (or CompareFailed when it could not start).
CompareEvent = Any


# --- the race ----------------------------------------------------------------------------------


def compare(config: CompareConfig, control: RunControl | None = None, *,
            cancel: threading.Event | None = None) -> Iterator[CompareEvent]:
    """Validate `config`, load the data on its device once, and return the stream of race events.

    `control` (or a plain `cancel` event) stops or pauses the race from another thread; live
    hyperparameter changes apply to every run. Raises ConfigError at once for bad input; what goes
    wrong later arrives as events.
    """
    from tui_lab.data import dataset_info
    from tui_lab.devices import list_devices, resolve_device
    from tui_lab.training import check_train_memory, load_on_device

    configs = config.train_configs()
    device = resolve_device(configs[0].device)
    info = dataset_info(configs[0].dataset)
    # the model must fit the data, and every run must fit in memory, before the data is loaded
    check_train_memory(configs[0], info, device, copies=len(configs))
    data = load_on_device(configs[0].dataset, device, configs[0].data_dir)
    check_train_memory(configs[0], info, device, batch=min(configs[0].batch_size, data.train_x.shape[0]),
                       copies=len(configs))
    device_name = next((d.description for d in list_devices() if d.name == device), device)
    return _race(configs, device, device_name, data, control or RunControl(cancel), config.batched)


class _Clock:
    """A run's own compute time: CUDA events on a GPU (no sync per step), perf_counter elsewhere."""

    def __init__(self, device: str) -> None:
        import torch

        self.cuda = device.startswith("cuda")
        self._torch = torch
        self.total = 0.0
        self._pending: list[tuple[Any, Any]] = []
        self._t0 = 0.0

    def start(self) -> None:
        if self.cuda:
            ev = self._torch.cuda.Event(enable_timing=True)
            ev.record()
            self._pending.append((ev, None))
        else:
            self._t0 = time.perf_counter()

    def stop(self) -> None:
        if self.cuda:
            ev = self._torch.cuda.Event(enable_timing=True)
            ev.record()
            self._pending[-1] = (self._pending[-1][0], ev)
        else:
            self.total += time.perf_counter() - self._t0

    def read(self) -> float:
        """Seconds so far (syncs on CUDA: call at reporting time only)."""
        done = [(a, b) for a, b in self._pending if b is not None]  # a step that raised has no end
        if done:
            done[-1][1].synchronize()
            self.total += sum(a.elapsed_time(b) for a, b in done) / 1000.0
        self._pending.clear()
        return self.total


class _Stacked:
    """K copies of one model as stacked weights, stepped together with torch.func.vmap.

    Each run's model keeps its own Parameters, but they are views into the stacked tensors, so its
    optimizer (any torch.optim) updates the stack in place and `evaluate` sees the current weights.
    """

    def __init__(self, models: list, loss_fn) -> None:
        import copy

        import torch
        from torch import nn
        from torch.func import functional_call, vmap

        names = [name for name, _ in models[0].named_parameters()]
        self.stacked = {name: torch.stack([dict(m.named_parameters())[name].detach() for m in models]).requires_grad_()
                        for name in names}
        template = copy.deepcopy(models[0]).to("meta")
        for k, model in enumerate(models):
            for name in names:
                *path, leaf = name.split(".")
                owner = model
                for part in path:
                    owner = getattr(owner, part)
                setattr(owner, leaf, nn.Parameter(self.stacked[name].detach()[k]))
        self.params = [[dict(m.named_parameters())[name] for name in names] for m in models]

        def one(params, x, y):
            out = functional_call(template, params, (x,))
            return loss_fn(out.float(), y), out

        self.template = template
        self.forward = vmap(one, in_dims=(0, None, None), randomness="different")

    def step(self, xb, yb):
        """Forward and backward for all K models: (losses [K], outputs [K, B, ...]); grads in the stack."""
        self.template.train()
        losses, outs = self.forward(self.stacked, xb, yb)
        for tensor in self.stacked.values():
            tensor.grad = None
        losses.sum().backward()  # the K losses are independent: each slice gets its own gradient
        return losses.detach().float(), outs.detach()

    def hand_grads(self, k: int) -> None:
        for p, stacked in zip(self.params[k], self.stacked.values()):
            assert stacked.grad is not None, "hand_grads() before step()"
            p.grad = stacked.grad[k]


def _can_stack(model, wanted: bool | None, device: str, k: int) -> bool:
    if wanted is False or k < 2 or list(model.buffers()):
        return False
    return bool(wanted) or device.startswith("cuda")


@dataclass
class _Runner:
    index: int
    cfg: Any
    learner: Any  # learner.Learner: model, optimizer and on-device sums
    clock: _Clock
    status: str = "running"
    message: str | None = None
    initial: float | None = None
    epochs: list = field(default_factory=list)
    window_time: float = 0.0
    epoch_time: float = 0.0
    _examples: int = 0  # examples stepped through, kept when the learner is freed

    @property
    def examples(self) -> int:
        return self.learner.examples if self.learner is not None else self._examples

    def stop(self, status: str, message: str | None) -> None:
        """End this run (diverged or failed) and free its model: the others carry on."""
        self.status, self.message = status, message
        if self.learner is not None:
            self._examples = self.learner.examples
        self.learner = None

    def result(self, status: str | None = None) -> RunResult:
        momentum = self.cfg.momentum
        if momentum is None and self.cfg.optimizer in ("momentum", "nesterov"):
            momentum = 0.9
        return RunResult(self.index, self.cfg.optimizer, self.cfg.lr, momentum, self.cfg.weight_decay,
                         status or self.status, self.initial, tuple(self.epochs), self.clock.total, self.examples,
                         self.message)


def _race(configs, device: str, device_name: str, data, control: RunControl,
          batched: bool | None = None) -> Iterator[CompareEvent]:
    import copy

    import torch

    from tui_lab.learner import Learner, divergence_message
    from tui_lab.models import count_parameters
    from tui_lab.optimizers import loss_for_task, make_optimizer
    from tui_lab.training import (OOM_HINT, Diverged, EpochEnd, Step, evaluate, failure, fit_threads, for_task,
                                  init_model, steer)

    cfg0 = configs[0]
    task, data = for_task(cfg0.model, data)
    loss_fn = loss_for_task(task)
    t_start = time.perf_counter()
    runners: list[_Runner] = []
    stack: _Stacked | None = None
    try:
        base = init_model(cfg0, data.info, device)  # seeded: the weights `train` would start from
        models = [copy.deepcopy(base) for _ in configs[:-1]] + [base]
        if _can_stack(base, batched, device, len(models)):
            try:
                stack = _Stacked(models, loss_fn)
                with torch.no_grad():  # a model vmap cannot run falls back to one model at a time
                    stack.forward({k: v.detach() for k, v in stack.stacked.items()}, data.train_x[:2], data.train_y[:2])
            except torch.cuda.OutOfMemoryError:
                raise
            except Exception:
                stack = None
                base = init_model(cfg0, data.info, device)
                models = [copy.deepcopy(base) for _ in configs[:-1]] + [base]
        for k, (cfg, model) in enumerate(zip(configs, models)):
            opt = make_optimizer(cfg.optimizer, model.parameters(), cfg.lr, cfg.weight_decay, cfg.momentum)
            runners.append(_Runner(k, cfg, Learner(model, opt, loss_fn, task, device), _Clock(device)))
    except Exception as exc:  # e.g. K models do not fit in GPU memory: say so, do not crash the caller
        runners.clear()
        text = str(exc).splitlines()[0] if str(exc) else ""
        oom = "out of memory" in text.lower()
        if oom and torch.cuda.is_available():
            torch.cuda.empty_cache()
        yield CompareFailed(f"{type(exc).__name__}: {text}",
                            OOM_HINT + " or race fewer optimizers" if oom else "the models could not be built")
        return

    n = data.train_x.shape[0]
    bs = min(cfg0.batch_size, n)
    steps_per_epoch = math.ceil(n / bs)
    shuffle = torch.Generator().manual_seed(cfg0.seed)  # one order for all runs, as `train` draws it
    fit_threads(cfg0.threads)
    yield CompareStarted(device, device_name, count_parameters(base), n, data.val_x.shape[0], steps_per_epoch,
                         tuple(c.to_dict() for c in configs), stack is not None)
    shared_clock = _Clock(device)  # the stacked step's time, shared out among the live runs

    def fail(r: _Runner, exc: BaseException):
        event = failure(exc, "this looks like a bug; the other runs go on", r.index)
        r.stop("failed", event.message)
        return event

    def running() -> list[_Runner]:
        return [r for r in runners if r.status == "running"]

    def results(final: str) -> tuple[RunResult, ...]:
        return tuple(r.result(final if r.status == "running" else None) for r in runners)

    global_step = 0  # steps every live run has taken
    for epoch in range(1, cfg0.epochs + 1):
        perm = torch.randperm(n, generator=shuffle).to(device)
        for r in running():
            r.learner.begin_epoch()
            r.window_time = r.epoch_time = r.clock.read()
        for w0 in range(0, steps_per_epoch, cfg0.report_every):
            # One turn per reporting window: each run takes the window's steps, then the next run.
            # The curves still move together (every report has all runs at the same step), and each
            # model stays in the cache for its whole turn instead of being evicted every step.
            yield from steer(control, [r.learner for r in running()], epoch, global_step)
            window = range(w0, min(w0 + cfg0.report_every, steps_per_epoch))
            batches = [(data.train_x[idx], data.train_y[idx]) for idx in (perm[i * bs:(i + 1) * bs] for i in window)]
            if stack is not None:
                live = running()
                shared_clock.start()
                try:
                    for xb, yb in batches:
                        if control.cancelled or not live:
                            break
                        losses, outs = stack.step(xb, yb)
                        for r in list(live):
                            try:
                                stack.hand_grads(r.index)
                                r.learner.optimizer.step()
                                r.learner.account(losses[r.index], outs[r.index], yb)
                            except Exception as exc:  # one broken optimizer must not stop the race
                                live.remove(r)
                                yield fail(r, exc)
                except Exception as exc:  # the stacked step itself broke: every live run with it
                    for r in live:
                        yield fail(r, exc)
                    live = []
                shared_clock.stop()
                share = shared_clock.read()
                shared_clock.total = 0.0
                for r in live:
                    r.clock.total += share / len(live)
            for r in running() if stack is None else ():
                try:
                    for xb, yb in batches:
                        if control.cancelled:
                            break
                        r.clock.start()
                        r.learner.step(xb, yb)
                        r.clock.stop()
                except Exception as exc:  # one broken run must not stop the race
                    yield fail(r, exc)
            if control.cancelled:
                for r in runners:
                    r.clock.read()
                yield CompareCancelled(results("cancelled"), time.perf_counter() - t_start)
                return
            global_step += len(window)
            i = window[-1]
            live = [r for r in running() if r.learner.window_steps]
            if not live:
                continue
            # one host sync for all runs: [mean window loss, first bad step, first loss] each
            values = torch.stack([r.learner.window_values() for r in live]).tolist()
            for r, (mean_loss, bad, first) in zip(live, values):
                if r.initial is None:
                    r.initial = first
                    yield InitialLoss(r.index, first)
                at = r.learner.diverged_at(mean_loss, bad, first, global_step)
                if at is not None:
                    r.stop("diverged", divergence_message(at, mean_loss, r.cfg.lr))
                    yield Diverged(epoch, at, mean_loss, r.message or "", r.index)
                    continue
                now = r.clock.read()
                yield Step(epoch, i + 1, global_step, mean_loss,
                           r.learner.window_steps * bs / max(now - r.window_time, 1e-9), run=r.index)
                r.learner.reset_window()
                r.window_time = now
        for r in running():
            try:
                seconds = r.clock.read() - r.epoch_time
                train_loss, train_acc = r.learner.epoch_values()
                val_loss, val_acc = evaluate(r.learner.model, loss_fn, data.val_x, data.val_y, task, max(bs, 512))
            except Exception as exc:
                yield fail(r, exc)
                continue
            if not math.isfinite(val_loss):
                r.stop("diverged", divergence_message(global_step, val_loss, r.cfg.lr))
                yield Diverged(epoch, global_step, val_loss, r.message or "", r.index)
                continue
            stats = EpochEnd(epoch, train_loss, train_acc, val_loss, val_acc, n / max(seconds, 1e-9), seconds, r.index)
            r.epochs.append(stats)
            yield stats
        fit_threads(cfg0.threads)
    for r in running():
        r.status = "finished"
    yield CompareFinished(results("finished"), time.perf_counter() - t_start)


# --- the run store -----------------------------------------------------------------------------


def new_group_id() -> str:
    return "cmp-" + uuid.uuid4().hex[:10]


def settings_from_lists(optimizers: list[str], lrs: list[float] | None = None, momentum: float | None = None,
                        weight_decay: float = 0.0) -> tuple[RunSetting, ...]:
    """Zip names with rates (one rate for all, one each, or none for the defaults) into settings."""
    if not optimizers:
        raise ConfigError("optimizers", "give at least one optimizer")
    rates: list[float | None]
    if not lrs:
        rates = [None] * len(optimizers)
    elif len(lrs) == 1:
        rates = [lrs[0]] * len(optimizers)
    elif len(lrs) != len(optimizers):
        raise ConfigError("lr", f"give one learning rate, or one per optimizer ({len(optimizers)}), got {len(lrs)}")
    else:
        rates = list(lrs)
    # `momentum` sets the momentum/nesterov runs' coefficient (0.9 unless set); sgd stays plain SGD
    return tuple(RunSetting(o, lr, momentum if o.strip().lower() in ("momentum", "nesterov") else None, weight_decay)
                 for o, lr in zip(optimizers, rates))

