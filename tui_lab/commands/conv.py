"""CLI twin of the convolution screen: `dllab conv`, `dllab pool`, `dllab transposed`.

Each command builds a `conv_steps.Config` from the options, computes every frame and prints them as
text (`--frames all|last`) or as one JSON object (`--json`). Bad input exits 2 with one line.
"""

from __future__ import annotations

from typing import Any, Optional

import typer

from tui_lab.commands._common import fail, print_json, user_errors

GRID_MAX = 16  # draw the padded input grid for each frame only up to this many cells a side

INPUT_HELP = ("JSON nested lists (\\[H]\\[W] or \\[C]\\[H]\\[W]), arange:HxW, ones:HxW, zeros:HxW, "
              "random:CxHxW (integers 0..9, see --seed) or digit:N (8x8 digit 0..1796)")
KERNEL_HELP = ("JSON nested lists (\\[kh]\\[kw], \\[C]\\[kh]\\[kw] or \\[O]\\[C]\\[kh]\\[kw]), a generator as for "
               "--input, or sobel, sobel-x, sobel-y, edge, laplace")


def _frames_choice(frames: str) -> str:
    if frames not in ("all", "last"):
        raise fail(f"frames: unknown frames {frames!r}; allowed: all, last")
    return frames


def _grid_lines(result: Any, frame: Any, channel: int) -> list[str]:
    """The padded input (or, for transposed, the uncropped output) with the frame's cells bracketed."""
    from tui_lab.conv_steps import fmt

    if result.mode == "transposed":
        from tui_lab.conv_steps import canvas_after

        plane = canvas_after(result, frame.step)[0]
    else:
        plane = result.padded[channel]
    cells = set(frame.window)
    width = max(len(fmt(v)) for row in plane for v in row)
    lines = []
    for r, row in enumerate(plane):
        parts = []
        for c, v in enumerate(row):
            text = "." if result.is_padding(r, c) and result.mode != "transposed" else fmt(v)
            if result.mode == "transposed" and result.is_padding(r, c):
                text = f"~{fmt(v)}"
            text = text.rjust(width + (1 if result.mode == "transposed" else 0))
            parts.append(f"[{text}]" if (r, c) in cells else f" {text} ")
        lines.append("  " + "".join(parts).rstrip())
    return lines


def _print_result(result: Any, frames: str) -> None:
    from tui_lab.conv_steps import fmt

    cfg = result.config
    title = f" ({cfg.title})" if cfg.title else ""
    typer.echo(f"{result.mode}{title}")
    typer.echo(f"input {'x'.join(map(str, result.input_shape))}  kernel "
               f"{'x'.join(map(str, result.kernel_shape))}  padding {cfg.padding[0]},{cfg.padding[1]}  "
               f"stride {cfg.stride[0]},{cfg.stride[1]}  dilation {cfg.dilation[0]},{cfg.dilation[1]}")
    for f in result.formulas:
        typer.echo(f"{f.axis:>6}: {f.general} = {f.text}")
    chosen = result.frames if frames == "all" else result.frames[-1:]
    big = max(len(result.padded[0]), len(result.padded[0][0])) > GRID_MAX or (
        result.mode == "transposed" and max(len(result.full[0]), len(result.full[0][0])) > GRID_MAX)
    total = len(result.frames)
    for frame in chosen:
        typer.echo("")
        if result.mode == "transposed":
            where = f"in{list(frame.in_index)} scatters to out channel {frame.out_index[0]}"
        else:
            rows = sorted({r for r, _ in frame.window})
            cols = sorted({c for _, c in frame.window})
            # window coordinates are in the padded input; say so only when there is padding
            padded = " (padded)" if any(cfg.padding) else ""
            where = (f"out{list(frame.out_index)}  window rows {rows[0]}..{rows[-1]}, "
                     f"cols {cols[0]}..{cols[-1]}{padded}")
        typer.echo(f"step {frame.step + 1}/{total}  {where}")
        if not big:
            channels = (range(len(result.padded)) if result.mode == "conv" else
                        [frame.out_index[0]] if result.mode in ("max", "avg") else [0])
            for c in channels:
                if result.mode == "conv" and len(result.padded) > 1:
                    typer.echo(f"  input channel {c}: {frame.products_text(c)}")
                for line in _grid_lines(result, frame, c):
                    typer.echo(line)
        typer.echo(f"  {frame.products_text()}")
    typer.echo("")
    typer.echo(f"output {'x'.join(map(str, result.output_shape))}:")
    width = max(len(fmt(v)) for plane in result.output for row in plane for v in row)
    for o, plane in enumerate(result.output):
        if len(result.output) > 1:
            typer.echo(f"  channel {o}:")
        for row in plane:
            typer.echo("  " + " ".join(fmt(v).rjust(width) for v in row))


def _run(spec: dict[str, Any], frames: str, as_json: bool) -> None:
    from tui_lab.conv_steps import build_config, compute

    frames = _frames_choice(frames)
    with user_errors():
        result = compute(build_config(spec))
    if as_json:
        print_json(result.to_json(frames))
    else:
        _print_result(result, frames)


def register(app: typer.Typer) -> None:
    @app.command("conv")
    def conv(
        input: Optional[str] = typer.Option(None, "--input", "-i", metavar="<spec>", help=INPUT_HELP),
        kernel: Optional[str] = typer.Option(None, "--kernel", "-k", metavar="<spec>", help=KERNEL_HELP),
        bias: Optional[str] = typer.Option(None, "--bias", metavar="<b,b,...>", help="B, or B1,B2,... one per output channel"),
        padding: Optional[str] = typer.Option(None, "--padding", "-p", metavar="<P|PH,PW>", help="P or PH,PW (each side)"),
        stride: Optional[str] = typer.Option(None, "--stride", "-s", metavar="<S|SH,SW>", help="S or SH,SW"),
        dilation: Optional[str] = typer.Option(None, "--dilation", "-d", metavar="<D|DH,DW>", help="D or DH,DW"),
        preset: Optional[str] = typer.Option(None, "--preset", metavar="<name>", help="a named example (corr2d, padding, "
                                             "stride, edge, sobel, dilation, multi-channel, multi-out, 1x1, digit)"),
        seed: int = typer.Option(0, "--seed", help="seed for random: inputs"),
        frames: str = typer.Option("all", "--frames", metavar="<all|last>", help="all | last"),
        as_json: bool = typer.Option(False, "--json", help="one JSON object on stdout"),
    ) -> None:
        """Cross-correlation step by step: each output cell as its window, products and sum."""
        spec: dict[str, Any] = {"seed": seed}
        if preset is None:
            spec["mode"] = "conv"
        for key, value in (("preset", preset), ("input", input), ("kernel", kernel), ("bias", bias),
                           ("padding", padding), ("stride", stride), ("dilation", dilation)):
            if value is not None:
                spec[key] = value
        _run(spec, frames, as_json)

    @app.command("pool")
    def pool(
        input: Optional[str] = typer.Option(None, "--input", "-i", metavar="<spec>", help=INPUT_HELP),
        kernel: Optional[str] = typer.Option(None, "--kernel", "-k", metavar="<spec>", help="K, KH,KW or global"),
        stride: Optional[str] = typer.Option(None, "--stride", "-s", metavar="<S|SH,SW>", help="S or SH,SW (default: the kernel size)"),
        padding: Optional[str] = typer.Option(None, "--padding", "-p", metavar="<P|PH,PW>", help="P or PH,PW, at most half the kernel"),
        mode: str = typer.Option("max", "--mode", "-m", metavar="<max|avg>", help="max | avg"),
        preset: Optional[str] = typer.Option(None, "--preset", metavar="<name>", help="maxpool, avgpool, pool-padding, global-avg"),
        seed: int = typer.Option(0, "--seed", help="seed for random: inputs"),
        frames: str = typer.Option("all", "--frames", metavar="<all|last>", help="all | last"),
        as_json: bool = typer.Option(False, "--json", help="one JSON object on stdout"),
    ) -> None:
        """Max or average pooling step by step (average counts padding cells, as torch does)."""
        if mode not in ("max", "avg"):
            raise fail(f"mode: unknown mode {mode!r}; allowed: max, avg")
        spec: dict[str, Any] = {"seed": seed, "mode": mode}
        for key, value in (("preset", preset), ("input", input), ("kernel", kernel),
                           ("padding", padding), ("stride", stride)):
            if value is not None:
                spec[key] = value
        _run(spec, frames, as_json)

    @app.command("transposed")
    def transposed(
        input: Optional[str] = typer.Option(None, "--input", "-i", metavar="<spec>", help=INPUT_HELP),
        kernel: Optional[str] = typer.Option(None, "--kernel", "-k", metavar="<spec>",
                                             help=KERNEL_HELP.replace("\\[O]\\[C]", "\\[C]\\[O]")),
        stride: Optional[str] = typer.Option(None, "--stride", "-s", metavar="<S|SH,SW>", help="S or SH,SW"),
        padding: Optional[str] = typer.Option(None, "--padding", "-p", metavar="<P|PH,PW>", help="P or PH,PW: crops the output"),
        bias: Optional[str] = typer.Option(None, "--bias", metavar="<b,b,...>", help="B, or one per output channel"),
        preset: Optional[str] = typer.Option(None, "--preset", metavar="<name>",
                                             help="transposed, transposed-stride, transposed-padding"),
        seed: int = typer.Option(0, "--seed", help="seed for random: inputs"),
        frames: str = typer.Option("all", "--frames", metavar="<all|last>", help="all | last"),
        as_json: bool = typer.Option(False, "--json", help="one JSON object on stdout"),
    ) -> None:
        """Transposed convolution step by step: each input cell scatters input x kernel."""
        spec: dict[str, Any] = {"seed": seed, "mode": "transposed"}
        for key, value in (("preset", preset), ("input", input), ("kernel", kernel), ("bias", bias),
                           ("padding", padding), ("stride", stride)):
            if value is not None:
                spec[key] = value
        _run(spec, frames, as_json)
