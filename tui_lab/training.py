"""The training engine: a config in, a stream of events out. No UI imports.

    for event in train(TrainConfig(model="lenet", dataset="digits", lr=0.9, epochs=5)):
        ...  # Started, Step (every `report_every` steps), EpochEnd, then Finished | Diverged | Cancelled | Failed

Fast by construction: the data set lives on the device as one tensor and batches are index slices
(no DataLoader workers); losses and accuracy are accumulated on the device and read back only at the
reporting interval, so there is no host sync per step. `train()` validates and loads data eagerly
(raising ConfigError for bad input) and returns the event generator; pass a `threading.Event` as
`cancel` to stop it from another thread within one step.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator

from tui_lab.control import RunControl, apply_hyperparameters
from tui_lab.distributed import SINGLE, Ranks
from tui_lab.errors import ConfigError

AMP_MODES = ("off", "bf16", "fp16")


@dataclass(frozen=True)
class TrainConfig:
    # what to train
    model: str = "lenet"
    dataset: str = "digits"
    model_options: dict = field(default_factory=dict, hash=False)  # e.g. {"hidden": [64], "activation": "relu"}
    # how
    optimizer: str = "adam"
    lr: float = 0.01  # LeNet on digits: >= 90% validation accuracy in 5 epochs
    momentum: float | None = None  # None: the optimizer's own default (0.9 for momentum/nesterov)
    weight_decay: float = 0.0
    epochs: int = 5
    batch_size: int = 64
    seed: int = 0
    # where
    device: str = "auto"
    amp: str = "off"  # bf16 / fp16 autocast, CUDA only
    channels_last: bool = False  # CUDA image models only
    data_dir: str | None = None
    threads: int | str = "auto"  # torch's intra-op CPU threads: a number, or "auto" (fits the box, see threads.py)
    nproc: int = 1  # processes (ranks) per node under torchrun; batch_size is per rank (tui_lab.launch)
    sync_bn: bool = False  # batch norm as SyncBatchNorm across the ranks (CUDA)
    # reporting
    report_every: int = 10  # steps between Step events (one host sync each)
    # run control (schedules.py, finetune.py): lr schedule, and fine-tuning from another run
    schedule: str = "none"  # none | step | cosine | onecycle
    warmup: int = 0  # epochs of linear warm-up
    init_from: int | None = None  # a run id: start from its weights
    trainable: tuple[str, ...] = ()  # module names (prefixes) that train; () = all
    reset: tuple[str, ...] = ()  # module names re-initialised after loading init_from

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def validated(self) -> "TrainConfig":
        """Normalized copy (lower-case names, numbers parsed); ConfigError naming the field otherwise."""
        from tui_lab.data import dataset_info
        from tui_lab.models import MODELS, check_fit
        from tui_lab import limits
        from tui_lab.errors import choice_error
        from tui_lab.models import check_model_options
        from tui_lab.optimizers import MOMENTUM_OPTIMIZERS, optimizer_name

        model = (self.model or "").strip().lower()
        if model not in MODELS:
            raise choice_error("model", self.model, MODELS)
        dataset = dataset_info(self.dataset).name
        check_fit(model, dataset_info(dataset))
        optimizer = optimizer_name(self.optimizer)
        lr = limits.parse_lr(self.lr)
        epochs = limits.parse_epochs(self.epochs)
        batch_size = limits.parse_batch_size(self.batch_size)
        report_every = limits.parse_int("report_every", self.report_every, 1, limits.MAX_REPORT_EVERY)
        seed = limits.parse_seed(self.seed)
        wd = limits.parse_float("weight_decay", self.weight_decay, 0.0)
        momentum = None if self.momentum is None else limits.parse_float("momentum", self.momentum, 0.0, 1.0, high_open=True)
        if momentum is not None and optimizer not in MOMENTUM_OPTIMIZERS:
            raise ConfigError("momentum", f"does not apply to {optimizer}; it applies to {', '.join(MOMENTUM_OPTIMIZERS)}")
        data_dir = limits.check_dir("data_dir", self.data_dir)
        options = check_model_options(model, self.model_options)
        from tui_lab.threads import parse_threads

        requested = parse_threads(self.threads)
        threads_value: int | str = "auto" if requested is None else requested
        amp = (self.amp or "off").lower()
        if amp not in AMP_MODES:
            raise choice_error("amp", self.amp, AMP_MODES)
        nproc = limits.parse_int("nproc", self.nproc, 1, 1024)
        return replace(self, model=model, dataset=dataset, optimizer=optimizer, lr=lr, epochs=epochs,
                       batch_size=batch_size, report_every=report_every, seed=seed, weight_decay=wd,
                       momentum=momentum, amp=amp, threads=threads_value, data_dir=data_dir, model_options=options,
                       nproc=nproc, sync_bn=bool(self.sync_bn), **_run_control_fields(self, epochs))


def _run_control_fields(cfg: TrainConfig, epochs: int) -> dict[str, Any]:
    """schedule, warmup, init_from, trainable, reset: checked (ConfigError naming the field)."""
    from tui_lab import limits
    from tui_lab.finetune import parse_names
    from tui_lab.schedules import check_schedule

    schedule, warmup = check_schedule(cfg.schedule, cfg.warmup, epochs)
    init_from = None
    if cfg.init_from is not None:
        init_from = limits.parse_int("init_from", cfg.init_from, 1)
    reset = parse_names("reset", cfg.reset)
    if reset and init_from is None:
        raise ConfigError("reset", "re-initialises modules of a run given with --init-from; give --init-from RUN too")
    return {"schedule": schedule, "warmup": warmup, "init_from": init_from,
            "trainable": parse_names("trainable", cfg.trainable), "reset": reset}


# --- events ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    device: str
    device_name: str
    params: int
    train_size: int
    val_size: int
    steps_per_epoch: int
    config: dict
    threads: int = 0  # torch's intra-op threads for this run (CPU work), re-checked every epoch
    threads_reason: str = ""  # why that many (threads.choose_threads)
    world_size: int = 1  # processes training together (DDP ranks); steps_per_epoch counts global batches
    trainable_params: int | None = None  # parameters that train (fewer than params when --trainable freezes some)
    resumed_from: int = 0  # epochs already done when this start continued a saved run


@dataclass(frozen=True)
class Step:
    epoch: int
    step: int  # within the epoch, 1-based
    global_step: int  # since the start, 1-based
    loss: float  # mean training loss over the steps since the last Step
    examples_per_sec: float
    device_memory: int | None = None  # bytes allocated on a CUDA device
    run: int = 0  # which run, in a race (0 for a single training)
    ranks: tuple = ()  # a DDP run: (examples/s, device memory bytes or None) of each rank over the window


@dataclass(frozen=True)
class EpochEnd:
    epoch: int
    train_loss: float
    train_acc: float | None  # None for regression
    val_loss: float
    val_acc: float | None
    examples_per_sec: float  # training examples per second this epoch (evaluation excluded)
    seconds: float
    run: int = 0
    lr: float | None = None  # the learning rate of the epoch's first step (schedules change it)


@dataclass(frozen=True)
class Finished:
    epochs: int
    best_val_acc: float | None
    final_val_loss: float
    seconds: float
    checkpoint: str | None


@dataclass(frozen=True)
class Diverged:
    epoch: int
    step: int  # global step at which the loss first became non-finite or exploded
    loss: float
    message: str
    run: int = 0


@dataclass(frozen=True)
class HyperparametersChanged:
    """RunControl's changes, applied to run `run`'s optimizer before step `step` + 1."""

    epoch: int
    step: int
    changes: tuple  # of control.HyperparameterChange
    run: int = 0


@dataclass(frozen=True)
class Paused:
    epoch: int
    step: int


@dataclass(frozen=True)
class Resumed:
    epoch: int
    step: int


@dataclass(frozen=True)
class Cancelled:
    epoch: int
    step: int
    message: str = "stopped by the user"


@dataclass(frozen=True)
class Failed:
    message: str
    hint: str
    run: int = 0


Event = (Started | Step | EpochEnd | HyperparametersChanged | Paused | Resumed | Finished | Diverged | Cancelled
         | Failed)
FINAL_EVENTS = (Finished, Diverged, Cancelled, Failed)


# --- the pieces, reusable (compare.py races several models on the same data) --------------------


@dataclass
class DeviceData:
    info: Any  # DatasetInfo
    train_x: Any
    train_y: Any
    val_x: Any
    val_y: Any


def load_on_device(dataset: str, device: str, data_dir: str | None = None, channels_last: bool = False) -> DeviceData:
    """Load a data set and move it to `device` whole, once."""
    import torch

    from tui_lab.data import load_dataset

    data: Any = load_dataset(dataset, data_dir)
    fmt = torch.channels_last if channels_last and data.train_x.ndim == 4 else torch.contiguous_format
    move = lambda t: t.to(device).contiguous(memory_format=fmt) if t.ndim == 4 else t.to(device)  # noqa: E731
    return DeviceData(data.info, move(data.train_x), data.train_y.to(device), move(data.val_x), data.val_y.to(device))


def for_task(model: str, data: DeviceData) -> tuple[str, DeviceData]:
    """The task a run of `model` learns on `data`, and the data it learns from: for "reconstruction"
    (an autoencoder) the target of every example is the example itself (the same tensors, no copy)."""
    from tui_lab.models import task_for

    task = task_for(model, data.info)
    if task == "reconstruction":
        data = replace(data, train_y=data.train_x, val_y=data.val_x)
    return task, data


def init_model(config: TrainConfig, info: Any, device: str):
    """The config's model, seeded so the same seed gives the same initial weights."""
    import torch

    from tui_lab.models import build_model

    torch.manual_seed(config.seed)
    model = build_model(config.model, info, **config.model_options).to(device)
    if config.channels_last and len(info.input_shape) == 3:
        model = model.to(memory_format=torch.channels_last)
    return model


def batch_metrics(out, y, loss, task: str):
    """(loss * n, correct) for one batch, on the device: no host sync (correct: learner.hits; None for
    regression and reconstruction, which have a loss and no accuracy)."""
    from tui_lab.learner import hits

    n = y.shape[0]
    return loss.detach().float() * n, hits(out, y, task)


def evaluate(model, loss_fn, x, y, task: str, batch_size: int = 1024) -> tuple[float, float | None]:
    """Mean loss and accuracy (None for regression and reconstruction; per token for a sequence task) over
    (x, y), one host sync at the end. For reconstruction `y` is `x` (see `for_task`): the MSE per pixel."""
    import torch

    from tui_lab.data import ACCURACY_TASKS
    from tui_lab.learner import hits_dtype

    was_training = model.training
    model.eval()
    total = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device, dtype=hits_dtype(task))
    with torch.no_grad():
        for i in range(0, x.shape[0], batch_size):
            xb, yb = x[i:i + batch_size], y[i:i + batch_size]
            out = model(xb)
            s, c = batch_metrics(out.float(), yb, loss_fn(out.float(), yb), task)
            total += s
            if c is not None:
                correct += c
    model.train(was_training)
    loss_sum, n_correct = torch.stack([total, correct.float()]).tolist()
    n = max(1, x.shape[0])
    return loss_sum / n, (n_correct / n if task in ACCURACY_TASKS else None)


OOM_HINT = "out of GPU memory: lower the batch size, use --amp bf16, or pick a smaller model"


def load_checkpoint(path: str | Path, config: TrainConfig):
    """Rebuild a run's model and load its saved state_dict (weights only, never pickled code)."""
    import torch

    from tui_lab.data import dataset_info

    model = init_model(config.validated(), dataset_info(config.dataset), "cpu")
    model.load_state_dict(torch.load(str(path), map_location="cpu", weights_only=True))
    return model


# --- the loop ----------------------------------------------------------------------------------


MEMORY_HINT = "use smaller --hidden sizes, a smaller model or a smaller --batch-size"


def check_train_memory(cfg: TrainConfig, info: Any, device: str, batch: int | None = None, copies: int = 1) -> None:
    """ConfigError before anything is allocated when the model (weights, gradients, optimizer state) or,
    given `batch`, one batch's activations (forward and backward) would not fit in free memory."""
    import torch

    from tui_lab import limits
    from tui_lab.models import build_model

    with torch.device("meta"):
        meta = build_model(cfg.model, info, **cfg.model_options)
    params = sum(p.numel() * p.element_size() for p in meta.parameters())
    needed = 4 * params  # weights, gradients and up to two optimizer states
    what = f"{cfg.model} ({sum(p.numel() for p in meta.parameters()):,} parameters)"
    if batch is not None:
        act = limits.activation_bytes(meta, tuple(info.input_shape), batch)
        if act:
            needed += 2 * act
            what += f" with batch {batch:,}"
    if copies > 1:
        needed *= copies
        what = f"{copies} runs of {what}"
    limits.check_memory("memory", needed, device, what, MEMORY_HINT)


def train(config: TrainConfig, control: RunControl | None = None,
          checkpoint_path: str | Path | None = None, *, cancel: threading.Event | None = None,
          ranks: Ranks | None = None, state_path: str | Path | None = None, resume: dict | None = None,
          init_weights: dict | None = None) -> Iterator[Event]:
    """Validate `config`, load its data on its device, and return the stream of training events.

    `control` steers the run from another thread (cancel, pause, live hyperparameters); a plain
    `threading.Event` may be given as `cancel` instead. Raises ConfigError at once for bad input
    (unknown names, bad numbers, missing device, offline data set). Everything that goes wrong
    later arrives as a Diverged or Failed event. `ranks` is this process's rank in a data-parallel run
    (set up by `tui_lab.launch`, which is how a config with nproc > 1 runs).

    Run control (checkpoints.py, finetune.py): `state_path` gets the run's full state after every
    epoch; `resume` (checkpoints.load_state) continues a saved run after its last complete epoch;
    `init_weights` is the state_dict that `config.init_from` names (read from the run store when
    not given).
    """
    from tui_lab.data import dataset_info
    from tui_lab.devices import list_devices, resolve_device

    cfg = config.validated()
    if ranks is None and (cfg.nproc > 1 or cfg.sync_bn):
        raise ConfigError("nproc" if cfg.nproc > 1 else "sync_bn",
                          "a run across processes starts with tui_lab.launch.run_training (dllab train --nproc N)")
    device = resolve_device(cfg.device)
    if cfg.amp != "off" and not device.startswith("cuda"):
        raise ConfigError("amp", f"{cfg.amp} mixed precision needs a CUDA device; this run is on {device} (use --amp off)")
    info = dataset_info(cfg.dataset)
    check_train_memory(cfg, info, device)  # builds on the meta device: validates model/data fit, no memory
    data = load_on_device(cfg.dataset, device, cfg.data_dir, cfg.channels_last and device.startswith("cuda"))
    check_train_memory(cfg, info, device, batch=min(cfg.batch_size, data.train_x.shape[0]))
    device_name = next((d.description for d in list_devices() if d.name == device), device)
    if cfg.init_from is not None and init_weights is None and resume is None:
        from tui_lab.finetune import source_weights

        init_weights = source_weights(cfg.init_from)[0]
    setup = RunSetup(state_path, resume, init_weights)
    _check_finetune(cfg, info, setup)
    return _run(cfg, device, device_name, data, control or RunControl(cancel), checkpoint_path, ranks or SINGLE,
                setup)


@dataclass
class RunSetup:
    """Run control's part of a run: where its state goes each epoch, a saved state to continue, the
    weights to start from."""

    state_path: str | Path | None = None
    resume: dict | None = None
    init_weights: dict | None = None


def _check_finetune(cfg: TrainConfig, info: Any, setup: RunSetup) -> None:
    """Module names and init weights checked up front (ConfigError), on the meta device."""
    if not (cfg.trainable or cfg.reset or setup.init_weights is not None):
        return
    import torch

    from tui_lab.finetune import check_names, load_init
    from tui_lab.models import build_model

    with torch.device("meta"):
        model = build_model(cfg.model, info, **cfg.model_options)
    check_names(model, cfg.trainable, "trainable", cfg.model)
    check_names(model, cfg.reset, "reset", cfg.model)
    if setup.init_weights is not None and setup.resume is None:
        model = model.to_empty(device="cpu")
        load_init(model, setup.init_weights, cfg.reset, f"run {cfg.init_from}")


def steer(control: RunControl, learners: list, epoch: int, global_step: int) -> Iterator[Event]:
    """Between two steps: apply the hyperparameter changes asked for, wait out a pause."""
    def apply() -> Iterator[Event]:
        changes = control.take_changes()
        if changes:
            for index, learner in enumerate(learners):
                applied = apply_hyperparameters(learner.optimizer, changes)
                if applied:
                    yield HyperparametersChanged(epoch, global_step, tuple(applied), run=index)

    yield from apply()
    if control.paused:
        yield Paused(epoch, global_step)
        control.wait_while_paused()
        yield from apply()  # a change made while paused applies before the next step too
        if not control.cancelled:
            yield Resumed(epoch, global_step)


def _run(cfg: TrainConfig, device: str, device_name: str, data: DeviceData, control: RunControl,
         checkpoint_path: str | Path | None, ranks: Ranks = SINGLE, setup: RunSetup | None = None) -> Iterator[Event]:
    import torch

    from tui_lab import checkpoints, finetune
    from tui_lab.learner import Learner, divergence_message
    from tui_lab.optimizers import loss_for_task, make_optimizer
    from tui_lab.schedules import build_schedule, current_lr, fast_forward

    setup = setup or RunSetup()
    model = optimizer = learner = None
    try:
        task, data = for_task(cfg.model, data)
        model = init_model(cfg, data.info, device)
        if setup.init_weights is not None and setup.resume is None:
            finetune.load_init(model, setup.init_weights, cfg.reset, f"run {cfg.init_from}")
        model = ranks.prepare(model)
        finetune.freeze(model, cfg.trainable)
        optimizer = make_optimizer(cfg.optimizer, finetune.trainable_parameters(model), cfg.lr, cfg.weight_decay,
                                   cfg.momentum)
        loss_fn = loss_for_task(task)
        amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(cfg.amp)
        scaler = torch.amp.GradScaler("cuda") if cfg.amp == "fp16" else None
        autocast = (lambda: torch.autocast("cuda", dtype=amp_dtype)) if amp_dtype else contextlib.nullcontext
        is_cuda = device.startswith("cuda")
        if is_cuda:
            torch.backends.cudnn.benchmark = True  # batch shapes are fixed: let cuDNN pick its fastest kernels
        learner = Learner(ranks.wrap(model), optimizer, loss_fn, task, device, autocast, scaler)

        n = data.train_x.shape[0]
        bs = min(cfg.batch_size * ranks.world_size, n)  # the global batch; each rank steps on its share
        steps_per_epoch = math.ceil(n / bs)
        shuffle = torch.Generator().manual_seed(cfg.seed)  # on the CPU: the same order on every device
        schedule = build_schedule(optimizer, cfg.schedule, cfg.warmup, cfg.epochs, steps_per_epoch)
        scheduler = None if schedule is None else schedule.scheduler
        threads = fit_threads(cfg.threads)
        done, global_step, best_acc = 0, 0, None
        if setup.resume is not None:  # last: the global RNG continues where the saved run was
            start_lrs = [g["lr"] for g in optimizer.param_groups]
            same_total = checkpoints.state_config(setup.resume).get("epochs") == cfg.epochs
            done, global_step, best_acc = checkpoints.restore(setup.resume, model=model, optimizer=optimizer,
                                                              shuffle=shuffle, learner=learner,
                                                              scheduler=scheduler if same_total else None,
                                                              scaler=scaler)
            if schedule is not None and not same_total:  # the saved schedule was for another total
                fast_forward(schedule, optimizer, start_lrs, done, steps_per_epoch)
        yield Started(device, device_name, finetune.count_all(model), n, data.val_x.shape[0], steps_per_epoch,
                      cfg.to_dict(), threads.threads, threads.reason, ranks.world_size,
                      finetune.count_trainable(model), done)

        t_start = time.perf_counter()
        val_loss = math.nan
        for epoch in range(done + 1, cfg.epochs + 1):
            epoch_lr = current_lr(optimizer)
            perm = torch.randperm(n, generator=shuffle).to(device)
            learner.begin_epoch()
            window_start = t_epoch = time.perf_counter()
            for i in range(steps_per_epoch):
                yield from steer(control, [learner], epoch, global_step)
                if control.cancelled:
                    yield Cancelled(epoch, global_step)
                    return
                idx, weight = ranks.share(perm[i * bs:(i + 1) * bs])
                learner.step(data.train_x[idx], data.train_y[idx], weight)
                global_step += 1
                if schedule is not None:
                    schedule.after_step()
                if learner.window_steps == cfg.report_every or i == steps_per_epoch - 1:
                    mean_loss, bad, first, per_rank = ranks.window(learner, control, window_start)
                    at = learner.diverged_at(mean_loss, bad, first, global_step)
                    if at is not None:
                        if global_step == learner.window_steps and at > 1 and math.isfinite(first):
                            # diverged inside the very first window: keep the loss known before it (step 1)
                            yield Step(epoch, 1, 1, first, learner.window_steps * bs / max(time.perf_counter()
                                                                                        - window_start, 1e-9))
                        yield Diverged(epoch, at, mean_loss, divergence_message(at, mean_loss, cfg.lr))
                        return
                    now = time.perf_counter()
                    mem = torch.cuda.memory_allocated(device) if is_cuda else None
                    yield Step(epoch, i + 1, global_step, mean_loss,
                               learner.window_steps * bs / max(now - window_start, 1e-9), mem, ranks=per_rank)
                    learner.reset_window()
                    window_start = time.perf_counter()
            train_loss, train_acc = ranks.epoch_values(learner)
            train_seconds = time.perf_counter() - t_epoch
            val_loss, val_acc = ranks.evaluate(evaluate, model, loss_fn, data.val_x, data.val_y, task, max(bs, 512))
            if not math.isfinite(val_loss):
                yield Diverged(epoch, global_step, val_loss, divergence_message(global_step, val_loss, cfg.lr))
                return
            if val_acc is not None:
                best_acc = val_acc if best_acc is None else max(best_acc, val_acc)
            if schedule is not None:
                schedule.after_epoch()
            yield EpochEnd(epoch, train_loss, train_acc, val_loss, val_acc, n / max(train_seconds, 1e-9),
                           time.perf_counter() - t_epoch, lr=epoch_lr)
            if setup.state_path is not None and ranks.rank == 0:  # after the epoch is recorded: the store never lags
                checkpoints.save_state(setup.state_path, model=model, optimizer=optimizer, shuffle=shuffle,
                                       learner=learner, epoch=epoch, global_step=global_step, best_acc=best_acc,
                                       val_loss=val_loss, config=cfg.to_dict(), scheduler=scheduler, scaler=scaler)
            fit_threads(cfg.threads)  # other processes come and go: re-check once an epoch (< 1 ms)

        saved = None
        if checkpoint_path is not None:
            path = Path(checkpoint_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.save(model.state_dict(), str(path))
            saved = str(path)
        yield Finished(cfg.epochs, best_acc, val_loss, time.perf_counter() - t_start, saved)
    except torch.cuda.OutOfMemoryError:
        model = optimizer = learner = None
        _free_cuda()
        yield Failed("CUDA out of memory", OOM_HINT)
    except Exception as exc:  # a failed run must never take the app down with it
        model = optimizer = learner = None
        yield failure(exc, "this looks like a bug in dllab or in a custom model; the run was stopped")
    finally:
        del model, optimizer, learner


def fit_threads(requested: int | str):
    """Choose torch's intra-op threads for this box now (see threads.py) and apply them."""
    from tui_lab.threads import apply_threads, choose_threads, parse_threads

    choice = choose_threads(parse_threads(requested))
    apply_threads(choice.threads)
    return choice


def failure(exc: BaseException, hint: str, run: int = 0) -> Failed:
    """A Failed event for an exception: one line, and the out-of-memory hint when memory ran out."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    if "out of memory" in text.lower():
        _free_cuda()
        hint = OOM_HINT
    return Failed(f"{type(exc).__name__}: {text}", hint, run)


def _free_cuda() -> None:
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
