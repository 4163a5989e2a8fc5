"""`dllab playground`: the 2-D playground without the app; trains an MLP and prints its decision map."""

from __future__ import annotations


import typer

from tui_lab.commands._common import print_json, user_errors


def register(app: typer.Typer) -> None:
    app.command("playground")(playground_command)


def playground_command(
    dataset: str = typer.Option("spirals", "--dataset", "-d", metavar="<name>", help="spirals, moons, circles, xor"),
    hidden: str = typer.Option("16,16", "--hidden", metavar="<int,int,...>", help="hidden widths, e.g. 16,16; 'none' for a linear model"),
    activation: str = typer.Option("relu", "--activation", metavar="<name>", help="relu, tanh, sigmoid, leakyrelu, elu, none"),
    optimizer: str = typer.Option("adam", "--optimizer", "-o", metavar="<name>", help="adam, sgd, momentum, rmsprop, adagrad, adamw, nesterov"),
    lr: str = typer.Option("0.03", "--lr", metavar="<float>", help="learning rate, a finite number > 0"),
    steps: str = typer.Option("300", "--steps", metavar="<int>", help="training steps"),
    seed: str = typer.Option("0", "--seed", metavar="<int>", help="random seed"),
    noise: str = typer.Option("0", "--noise", metavar="<float>", help="Gaussian noise added to the points, 0..1 of the data's radius"),
    ratio: str = typer.Option("0.8", "--ratio", metavar="<float>", help="share of the points used for training, 0.1..0.9; the rest is the test set"),
    batch_size: str = typer.Option("0", "--batch-size", metavar="<int>", help="minibatch size; 0 = the whole training set"),
    regularization: str = typer.Option("none", "--regularization", metavar="<none|l1|l2>", help="none, l1 or l2 (on the weights)"),
    reg_rate: str = typer.Option("0", "--reg-rate", metavar="<float>", help="regularisation rate, 0..10"),
    features: str = typer.Option("x1,x2", "--features", metavar="<name,name,...>", help="inputs: x1,x2,x1^2,x2^2,x1x2,sin_x1,sin_x2"),
    width: int = typer.Option(46, "--width", help="map width in characters"),
    map_height: int = typer.Option(20, "--height", help="map height in lines"),
    as_json: bool = typer.Option(False, "--json", help="print the final numbers as JSON (no map)"),
) -> None:
    """Train a small MLP on 2-D points and print the decision map it draws."""
    from tui_lab.playground import PlaygroundConfig, ascii_map, boundary_text, frame_summary, train_playground, validate

    with user_errors():
        if not 8 <= width <= 200 or not 4 <= map_height <= 100:
            from tui_lab.errors import ConfigError

            raise ConfigError("width" if not 8 <= width <= 200 else "height",
                              "the map must be 8..200 characters wide and 4..100 lines high")
        text = hidden.strip().lower()
        widths: tuple = () if text in ("", "none", "0") else tuple(p.strip() for p in text.split(","))
        config = validate(PlaygroundConfig(dataset=dataset, hidden=tuple(_int(w, "hidden") for w in widths), activation=activation,
                                           lr=lr, optimizer=optimizer, steps=_int(steps, "steps"), seed=_int(seed, "seed"),
                                           batch_size=_int(batch_size, "batch_size"), noise=noise, ratio=ratio,
                                           regularization=regularization, reg_rate=reg_rate, features=features))
        frames = list(train_playground(config, cols=width, rows=map_height * 2, every=config.steps))
    first, last = frames[0], frames[-1]
    if as_json:
        summary = frame_summary(last)
        summary["initial_loss"] = first.loss
        print_json(summary)
        return
    from rich.console import Console

    console = Console()
    console.print(f"{config.dataset}: {len(config.hidden)} hidden layer(s) {list(config.hidden)}, "
                  f"activation {config.activation}, {config.optimizer} lr={config.lr:g}")
    console.print("\n".join(ascii_map(last)), markup=False, highlight=False)
    console.print(f"step {last.step}: train loss {last.loss:.4f} (from {first.loss:.4f}), test loss {last.test_loss:.4f}; "
                  f"train acc {100 * last.accuracy:.1f}%, test acc {100 * last.val_accuracy:.1f}%")
    if last.collapse is not None:
        console.print(f"linear network: its {last.collapse.layers} layers collapse to one Wx + b "
                      f"(max difference {last.collapse.max_error:.1e}); {boundary_text(last.collapse, last.num_classes)}")


def _int(text: object, field: str) -> int:
    from tui_lab.errors import ConfigError

    try:
        return int(str(text))
    except ValueError:
        raise ConfigError(field, f"expected a whole number, got {text!r}") from None
