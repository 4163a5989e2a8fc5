"""`dllab train`: one training run from the command line, with a progress bar and an epoch table.

Exit codes: 0 finished, 1 failed, 2 bad input, 3 diverged, 130 cancelled (Ctrl-C).
"""

from __future__ import annotations

import sys
import threading
from typing import Optional

import typer

from tui_lab.commands._common import fail, open_store, print_json, user_errors

EXIT_FAILED, EXIT_DIVERGED, EXIT_CANCELLED = 1, 3, 130


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)


def train_command(
    ctx: typer.Context,
    model: str = typer.Option("lenet", "--model", "-m", metavar="<name>", help="model name (see `dllab models`)"),
    dataset: str = typer.Option("digits", "--dataset", "-d", metavar="<name>", help="data set name (see `dllab datasets`)"),
    optimizer: str = typer.Option("adam", "--optimizer", "-o", metavar="<name>", help="sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw"),
    lr: str = typer.Option("0.01", "--lr", metavar="<float>", help="learning rate, a finite number > 0"),
    epochs: str = typer.Option("5", "--epochs", "-e", metavar="<int>", help="number of epochs, >= 1"),
    batch_size: str = typer.Option("64", "--batch-size", "-b", metavar="<int>", help="examples per step, >= 1"),
    device: str = typer.Option("auto", "--device", metavar="<auto|cpu|cuda[:N]|mps>", help="auto, cpu, cuda:N or mps (see `dllab devices`)"),
    seed: str = typer.Option("0", "--seed", metavar="<int>", help="random seed (same seed, same run on the CPU)"),
    weight_decay: str = typer.Option("0", "--weight-decay", metavar="<float>", help="L2 penalty, >= 0"),
    momentum: Optional[str] = typer.Option(None, "--momentum", metavar="<float>", help="momentum in [0, 1) for sgd/momentum/nesterov/rmsprop"),
    amp: str = typer.Option("off", "--amp", metavar="<off|bf16|fp16>", help="mixed precision on CUDA: off, bf16, fp16"),
    hidden: Optional[str] = typer.Option(None, "--hidden", metavar="<int,int,...>", help="MLP hidden sizes, e.g. 256,128 (mlp); hidden size (rnn/gru/lstm)"),
    activation: Optional[str] = typer.Option(None, "--activation", metavar="<name>", help="MLP activation: sigmoid, tanh, relu, leakyrelu, elu"),
    dropout: Optional[str] = typer.Option(None, "--dropout", metavar="<float>", help="dropout probability in [0, 1) (mlp)"),
    batch_norm: bool = typer.Option(False, "--batch-norm", help="batch normalization (lenet, lenet-relu)"),
    latent: Optional[str] = typer.Option(None, "--latent", metavar="<int>", help="autoencoder: the code's size (2: a 2-D latent space)"),
    data_dir: Optional[str] = typer.Option(None, "--data-dir", metavar="<dir>", help="where torchvision data sets are (or will be downloaded)"),
    threads: str = typer.Option("auto", "--threads", metavar="<auto|INT>", help="torch CPU threads: auto (from the free CPUs, re-checked each "
                                "epoch; see `dllab doctor`) or a whole number"),
    nproc: Optional[str] = typer.Option(None, "--nproc", metavar="<int>", help="data-parallel processes on this node, under torchrun "
                                        "(DDP: gloo on the CPU, NCCL with one GPU each); --batch-size is per process"),
    nnodes: str = typer.Option("1", "--nnodes", metavar="<int>", help="DDP: machines taking part (torchrun --nnodes)"),
    node_rank: str = typer.Option("0", "--node-rank", metavar="<int>", help="DDP: this machine's rank, 0..nnodes-1 (torchrun --node-rank)"),
    rdzv_endpoint: Optional[str] = typer.Option(None, "--rdzv-endpoint", metavar="<host:port>", help="DDP: host:port of node 0, for "
                                                "several machines (torchrun --rdzv-endpoint)"),
    sync_bn: bool = typer.Option(False, "--sync-bn", help="DDP: batch norm over the whole global batch (SyncBatchNorm, CUDA)"),
    rank_timeout: str = typer.Option("300", "--rank-timeout", metavar="<seconds>", help="DDP: seconds a rank waits for a silent peer "
                                     "before the run fails"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object and nothing else"),
    lesson: Optional[str] = typer.Option(None, "--lesson", metavar="<id>", help="run this lesson's train preset (see `dllab lessons`); "
                                         "other flags override it"),
    preset_name: Optional[str] = typer.Option(None, "--preset", metavar="<name>", help="with --lesson: one of the lesson's named presets"),
    schedule: str = typer.Option("none", "--schedule", metavar="<none|step|cosine|onecycle>",
                                 help="lr schedule: none, step (x0.1 every third), cosine, onecycle"),
    warmup: str = typer.Option("0", "--warmup", metavar="<int>", help="epochs of linear lr warm-up, >= 0"),
    resume: Optional[str] = typer.Option(None, "--resume", metavar="<run id>", help="continue that run from its last "
                                         "complete epoch (the same run; --epochs: how many in all)"),
    init_from: Optional[str] = typer.Option(None, "--init-from", metavar="<run id>", help="start from that run's weights (fine-tuning)"),
    trainable: Optional[str] = typer.Option(None, "--trainable", metavar="<names>", help="train only these modules, e.g. 11 or "
                                            "9,11 (names as `dllab shapes` prints them; prefixes allowed); freeze the rest"),
    reset: Optional[str] = typer.Option(None, "--reset", metavar="<names>", help="with --init-from: re-initialise these "
                                        "modules (a new head)"),
) -> None:
    """Train a model on a data set and record the run (or a lesson's preset: --lesson ID [--preset NAME]);
    with --nproc N on N processes with DistributedDataParallel (torchrun)."""
    target: dict = {}
    if lesson is not None or preset_name is not None:
        values, target = _lesson_preset(ctx, lesson, preset_name)
        model, dataset, optimizer = values.get("model", model), values.get("dataset", dataset), values.get("optimizer", optimizer)
        lr, epochs, batch_size = values.get("lr", lr), values.get("epochs", epochs), values.get("batch_size", batch_size)
        seed, device, weight_decay = values.get("seed", seed), values.get("device", device), values.get("weight_decay", weight_decay)
        momentum, hidden = values.get("momentum", momentum), values.get("hidden", hidden)
        activation, dropout = values.get("activation", activation), values.get("dropout", dropout)
        batch_norm = bool(values.get("batch_norm", batch_norm))
        latent = values.get("latent", latent)
        schedule, warmup = values.get("schedule", schedule), values.get("warmup", warmup)
    from tui_lab.commands._common import threads_option
    from tui_lab.launch import Launch, run_training
    from tui_lab.training import TrainConfig

    from tui_lab import limits

    options: dict = {}
    if resume is not None:
        return _resume_command(ctx, resume, epochs, device, threads, as_json)
    with user_errors():
        threads_value = threads_option(threads)
        if hidden is not None:
            options["hidden"] = limits.parse_int_list("hidden", hidden)
        if activation is not None:
            options["activation"] = activation
        if dropout is not None:
            options["dropout"] = limits.parse_float("dropout", dropout, 0.0, 1.0, high_open=True)
        if batch_norm:
            options["batch_norm"] = True
        if latent is not None:
            options["latent"] = limits.parse_int("latent", latent, 1, limits.MAX_HIDDEN)
        config = TrainConfig(
            model=model, dataset=dataset, optimizer=optimizer, lr=lr, epochs=epochs, batch_size=batch_size,
            device=device, seed=seed, weight_decay=weight_decay,
            momentum=None if momentum is None else limits.parse_float("momentum", momentum, 0.0, 1.0, high_open=True),
            amp=amp, data_dir=data_dir, model_options=options, threads=threads_value,
            nproc=1 if nproc is None else nproc, sync_bn=sync_bn,
            schedule=schedule, warmup=warmup, init_from=_run_id("init_from", init_from),
            trainable=trainable or (), reset=reset or (),
        ).validated()
        launch = None
        if nproc is not None or sync_bn or nnodes != "1" or node_rank != "0" or rdzv_endpoint is not None:
            launch = Launch(nnodes=nnodes, node_rank=node_rank, rdzv_endpoint=rdzv_endpoint,
                            timeout=rank_timeout).validated()
        cancel = threading.Event()
        from tui_lab.recording import record

        if launch is not None and launch.node_rank > 0:  # rank 0 (node 0) records the run and shows it
            _follow_node(config, launch, cancel)
            return
        store = open_store()
        run_id = store.create_run(config.to_dict())
        try:
            events = run_training(config, cancel=cancel, checkpoint_path=store.checkpoint_path(run_id), launch=launch,
                                  state_path=store.state_path(run_id))
        except BaseException:
            store.delete_run(run_id)  # bad input (e.g. an offline data set): no run happened
            raise

    from tui_lab.commands.train_view import render_run, stored_result

    recorded = record(store, run_id, events)
    try:
        result = render_run(recorded, config, run_id, quiet=as_json)
    except KeyboardInterrupt:
        cancel.set()
        recorded.close()  # the store marks the run cancelled (if Ctrl-C landed outside the generator)
        if as_json:
            with user_errors():
                print_json(stored_result(store, run_id))
        raise fail("cancelled (Ctrl-C); the run so far is kept in the history", EXIT_CANCELLED) from None
    if target:
        outcome = _target_outcome(target, result)
        if as_json:
            print_json({**result.to_json(), "lesson": {"id": lesson, "preset": preset_name or "default", **outcome}})
        else:
            verdict = "reached" if outcome["reached"] else "missed: " + "; ".join(outcome["problems"])
            sys.stderr.write(f"lesson {lesson} ({preset_name or 'preset'}): target {_spec_text(target)} {verdict}\n")
    elif as_json:
        print_json(result.to_json())
    code = {"finished": 0, "diverged": EXIT_DIVERGED, "cancelled": EXIT_CANCELLED}.get(result.status, EXIT_FAILED)
    if code:
        raise fail(result.message or result.status, code)


def _follow_node(config, launch, cancel: threading.Event) -> None:
    """A node other than node 0: run its ranks under torchrun and say how they ended."""
    from tui_lab import training as t
    from tui_lab.launch import train_distributed

    final = None
    try:
        for ev in train_distributed(config, cancel=cancel, launch=launch):
            final = ev
    except KeyboardInterrupt:
        raise fail("cancelled (Ctrl-C); this node's ranks were stopped", EXIT_CANCELLED) from None
    if isinstance(final, t.Failed):
        raise fail(f"{final.message} ({final.hint})", EXIT_FAILED)
    sys.stderr.write(f"node {launch.node_rank}: its {config.nproc} ranks ended; node 0 records the run\n")


def _run_id(field: str, text: Optional[str]) -> Optional[int]:
    from tui_lab.errors import ConfigError

    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(field, f"a run id is a whole number >= 1 (see `dllab runs`), got {text!r}")
    return value


RESUME_OPTIONS = ("resume", "epochs", "device", "threads", "as_json")


def _resume_command(ctx: typer.Context, resume: str, epochs: str, device: str, threads: str, as_json: bool) -> None:
    """`dllab train --resume RUN [--epochs E]`: the same run continues from its last complete epoch.

    The run stays one run (same id, its curves continuous, a `continued` event at the seam): with the
    same seed on a CPU the continued run is bit for bit the one that never stopped, so its record
    should read as that run's, not as a second run.
    """
    from tui_lab import limits
    from tui_lab.commands._common import threads_option
    from tui_lab.resume import prepare_resume
    from tui_lab.errors import ConfigError
    from tui_lab.recording import record
    from tui_lab.training import train

    with user_errors():
        others = sorted(name for name, param in ((p.name, p) for p in ctx.command.params)
                        if name not in RESUME_OPTIONS
                        and getattr(ctx.get_parameter_source(name), "name", "DEFAULT") != "DEFAULT")
        if others:
            flags = ", ".join("--" + n.replace("_", "-") for n in others)
            raise ConfigError("resume", f"continues the run with its own settings; only --epochs, --device and "
                                        f"--threads apply (got {flags})")
        run_id = _run_id("resume", resume)
        assert run_id is not None
        store = open_store()
        given_epochs = getattr(ctx.get_parameter_source("epochs"), "name", "DEFAULT") != "DEFAULT"
        overrides: dict = {}
        if getattr(ctx.get_parameter_source("device"), "name", "DEFAULT") != "DEFAULT":
            overrides["device"] = device
        if getattr(ctx.get_parameter_source("threads"), "name", "DEFAULT") != "DEFAULT":
            overrides["threads"] = threads_option(threads)
        config, state = prepare_resume(
            store, run_id, limits.parse_int("epochs", epochs, 1) if given_epochs else None, overrides)
        done = int(state["epoch"])
        cancel = threading.Event()
        try:
            events = train(config, cancel=cancel, checkpoint_path=store.checkpoint_path(run_id),
                           state_path=store.state_path(run_id), resume=state)
        except BaseException:
            store.finish(run_id, "failed", "could not resume")
            raise
    from tui_lab.commands.train_view import render_run, stored_result

    recorded = record(store, run_id, events)
    try:
        result = render_run(recorded, config, run_id, quiet=as_json)
    except KeyboardInterrupt:
        cancel.set()
        recorded.close()
        if as_json:
            with user_errors():
                print_json(stored_result(store, run_id))
        raise fail("cancelled (Ctrl-C); the run so far is kept in the history", EXIT_CANCELLED) from None
    if as_json:
        whole = stored_result(store, run_id)  # every epoch, the ones before the resume included
        print_json({**result.to_json(), "epochs": whole["epochs"], "resumed_from": done})
    code = {"finished": 0, "diverged": EXIT_DIVERGED, "cancelled": EXIT_CANCELLED}.get(result.status, EXIT_FAILED)
    if code:
        raise fail(result.message or result.status, code)


def _lesson_preset(ctx: typer.Context, lesson_id: Optional[str], name: Optional[str]) -> tuple[dict, dict]:
    """The lesson's train preset as option texts, minus what the command line gives; and its target."""
    from tui_lab.lessons import TRAIN_TOOLS, find_lesson, lessons_dir, train_config_kwargs

    if lesson_id is None:
        raise fail("preset: --preset names one of a lesson's presets; give the lesson with --lesson ID")
    found = find_lesson(lesson_id.strip())
    if found is None:
        raise fail(f"lesson: no lesson {lesson_id[:80]!r} in {lessons_dir()} (see `dllab lessons`)")
    if found.tool not in TRAIN_TOOLS:
        raise fail(f"lesson: {found.id} opens the {found.tool} tool, not train; its preset is not a training run")
    if name not in (None, "default") and name not in found.presets:
        names = ", ".join(["default", *found.presets])
        raise fail(f"preset: {found.id} has no preset {name[:80]!r}; it has: {names}")
    raw = found.preset_named(name)
    with user_errors():
        flat = train_config_kwargs(raw, where=f"{found.path.name}: preset")
    flat.update(flat.pop("model_options", {}))
    spec = found.target if name in (None, "default") else found.presets[name].expect
    # typer may bundle its own click: compare the source's name, not the enum
    given = {p for p in flat if getattr(ctx.get_parameter_source(p), "name", "DEFAULT") != "DEFAULT"}
    values: dict = {}
    for key, value in flat.items():
        if key in given:
            continue  # the command line wins
        if key == "hidden":
            value = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
        values[key] = value if isinstance(value, (bool, str)) else str(value)
    return values, spec


def _spec_text(spec: dict) -> str:
    ops = {"val_acc": ">=", "loss_drop": ">=", "val_acc_below": "<", "loss_drop_below": "<", "val_loss_below": "<",
           "val_loss_above": ">", "status": "="}
    return ", ".join(f"{k.removesuffix('_below').removesuffix('_above')} {ops[k]} {v}" for k, v in spec.items())


def _target_outcome(spec: dict, result) -> dict:
    from tui_lab.lessons import outcome_problems

    problems = outcome_problems(spec, result.epochs, result.status)
    return {"target": dict(spec), "reached": not problems, "problems": problems}

