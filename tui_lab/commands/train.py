"""`dllab train`: one training run from the command line, with a progress bar and an epoch table.

Exit codes: 0 finished, 1 failed, 2 bad input, 3 diverged, 130 cancelled (Ctrl-C).
"""

from __future__ import annotations

import threading
from typing import Optional

import typer

from tui_lab.commands._common import fail, print_json, user_errors

EXIT_FAILED, EXIT_DIVERGED, EXIT_CANCELLED = 1, 3, 130


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)


def train_command(
    model: str = typer.Option("lenet", "--model", "-m", help="model name (see `dllab models`)"),
    dataset: str = typer.Option("digits", "--dataset", "-d", help="data set name (see `dllab datasets`)"),
    optimizer: str = typer.Option("adam", "--optimizer", "-o", help="sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw"),
    lr: str = typer.Option("0.01", "--lr", help="learning rate, a finite number > 0"),
    epochs: str = typer.Option("5", "--epochs", "-e", help="number of epochs, >= 1"),
    batch_size: str = typer.Option("64", "--batch-size", "-b", help="examples per step, >= 1"),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda:N or mps (see `dllab devices`)"),
    seed: str = typer.Option("0", "--seed", help="random seed (same seed, same run on the CPU)"),
    weight_decay: str = typer.Option("0", "--weight-decay", help="L2 penalty, >= 0"),
    momentum: Optional[str] = typer.Option(None, "--momentum", help="momentum in [0, 1) for sgd/momentum/nesterov/rmsprop"),
    amp: str = typer.Option("off", "--amp", help="mixed precision on CUDA: off, bf16, fp16"),
    hidden: Optional[str] = typer.Option(None, "--hidden", help="MLP hidden sizes, e.g. 256,128 (mlp); hidden size (rnn/gru/lstm)"),
    activation: Optional[str] = typer.Option(None, "--activation", help="MLP activation: sigmoid, tanh, relu, leakyrelu, elu"),
    dropout: Optional[str] = typer.Option(None, "--dropout", help="dropout probability in [0, 1) (mlp)"),
    batch_norm: bool = typer.Option(False, "--batch-norm", help="batch normalization (lenet, lenet-relu)"),
    data_dir: Optional[str] = typer.Option(None, "--data-dir", help="where torchvision data sets are (or will be downloaded)"),
    threads: str = typer.Option("auto", "--threads", help="torch CPU threads: auto (from the free CPUs, re-checked each "
                                "epoch; see `dllab doctor`) or a whole number"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object and nothing else"),
) -> None:
    """Train a model on a data set and record the run."""
    from tui_lab.commands._common import threads_option
    from tui_lab.training import TrainConfig, train

    options: dict = {}
    with user_errors():
        threads_value = threads_option(threads)
        if hidden is not None:
            options["hidden"] = _int_list("hidden", hidden)
            if model.strip().lower() in ("rnn", "gru", "lstm"):
                options["hidden"] = options["hidden"][0]
        if activation is not None:
            options["activation"] = activation
        if dropout is not None:
            options["dropout"] = _float("dropout", dropout)
        if batch_norm:
            options["batch_norm"] = True
        config = TrainConfig(
            model=model, dataset=dataset, optimizer=optimizer, lr=lr, epochs=epochs, batch_size=batch_size,
            device=device, seed=seed, weight_decay=weight_decay,
            momentum=None if momentum is None else _float("momentum", momentum),
            amp=amp, data_dir=data_dir, model_options=options, threads=threads_value,
        ).validated()
        cancel = threading.Event()
        from tui_lab.runs import RunStore, record

        store = RunStore()
        run_id = store.create_run(config.to_dict())
        try:
            events = train(config, cancel=cancel, checkpoint_path=store.checkpoint_path(run_id))
        except BaseException:
            store.delete_run(run_id)  # bad input (e.g. an offline data set): no run happened
            raise

    from tui_lab.commands.train_view import render_run

    try:
        result = render_run(record(store, run_id, events), config, run_id, quiet=as_json)
    except KeyboardInterrupt:
        cancel.set()
        if as_json:
            print_json({"run_id": run_id, "status": "cancelled", "device": None, "epochs": []})
        raise fail("cancelled (Ctrl-C); the run so far is kept in the history", EXIT_CANCELLED) from None
    if as_json:
        print_json(result.to_json())
    code = {"finished": 0, "diverged": EXIT_DIVERGED, "cancelled": EXIT_CANCELLED}.get(result.status, EXIT_FAILED)
    if code:
        raise fail(result.message or result.status, code)


def _int_list(field: str, text: str) -> list[int]:
    from tui_lab.errors import ConfigError

    try:
        values = [int(p) for p in text.replace(" ", "").split(",") if p]
    except ValueError:
        raise ConfigError(field, f"must be whole numbers separated by commas, e.g. 256,128; got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise ConfigError(field, f"must be whole numbers >= 1, e.g. 256,128; got {text!r}")
    return values


def _float(field: str, text: str) -> float:
    import math

    from tui_lab.errors import ConfigError

    try:
        x = float(text)
    except ValueError:
        x = math.nan
    if not math.isfinite(x):
        raise ConfigError(field, f"must be a finite number, got {text!r}")
    return x
