"""`dllab gan`: the 2-D GAN without the app; trains it and prints the losses and the distance."""

from __future__ import annotations

import typer

from tui_lab.commands._common import print_json, user_errors


def register(app: typer.Typer) -> None:
    app.command("gan")(gan_command)


def gan_command(
    data: str = typer.Option("ring", "--data", "-d", metavar="<name>", help="ring, moons, gaussians"),
    steps: str = typer.Option("1500", "--steps", metavar="<int>", help="generator updates"),
    lr_g: str = typer.Option("0.002", "--lr-g", metavar="<float>", help="the generator's learning rate"),
    lr_d: str = typer.Option("0.002", "--lr-d", metavar="<float>", help="the discriminator's learning rate"),
    d_steps: str = typer.Option("1", "--d-steps", metavar="<int>", help="discriminator updates per generator update"),
    loss: str = typer.Option("nonsaturating", "--loss", metavar="<name>", help="the generator's loss: nonsaturating, minimax"),
    optimizer: str = typer.Option("adam", "--optimizer", "-o", metavar="<name>", help="adam (betas 0.5, 0.999) or sgd"),
    batch_size: str = typer.Option("128", "--batch-size", metavar="<int>", help="real and generated points per update"),
    seed: str = typer.Option("0", "--seed", metavar="<int>", help="random seed"),
    every: str = typer.Option("50", "--every", metavar="<int>", help="updates between history rows"),
    as_json: bool = typer.Option(False, "--json", help='print {"history": [{"step", "d_loss", "g_loss", "distance", ...}]}'),
) -> None:
    """Train a GAN on 2-D points; the distance is the energy distance between 1,000 generated and
    1,000 real points, `modes` how many of the data's 8 modes the generated points cover."""
    from tui_lab import gan

    with user_errors():
        config = gan.validate(gan.GanConfig(data=data, steps=steps, lr_g=lr_g, lr_d=lr_d, d_steps=d_steps,  # type: ignore[arg-type]
                                            loss=loss, optimizer=optimizer, batch_size=batch_size, seed=seed))
        step_every = gan._ranged("every", every, 1, gan.MAX_STEPS)
        history = gan.train_history(config, every=step_every)
    if as_json:
        print_json({"config": gan.config_dict(config), "history": history})
        return
    print(f"{config.data}: {gan.describe(config)}, {config.loss} generator loss")
    print(f"{'step':>6} {'d_loss':>8} {'g_loss':>8} {'distance':>9} {'modes':>6}")
    for row in history:
        print(f"{row['step']:>6} {row['d_loss']:>8.4f} {row['g_loss']:>8.4f} {row['distance']:>9.4f} "
              f"{row['modes']:>3}/{row['modes_total']}")
    first, last = history[0], history[-1]
    if first["distance"] > 0:
        print(f"distance {first['distance']:.4f} -> {last['distance']:.4f} "
              f"({last['distance'] / first['distance']:.1%} of the start); "
              f"{last['modes']} of {last['modes_total']} modes covered")
