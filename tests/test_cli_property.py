"""Property test (issue #17): every CLI command, driven with random strings and numbers, exits with
0, 1, 2 or 3, never prints a traceback, and with `--json` and exit 0 prints JSON that parses.

The commands and their options are read from the typer app itself, so a new command is driven
too. Values mix junk (random text, huge and non-finite numbers, 100 kB strings) with values that
work, kept cheap (softmax on digits, one epoch, a few steps) so that valid runs really train.
Examples are derandomized (conftest's profile) and bounded.
"""

from __future__ import annotations

import json

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tui_lab.cli import app

runner = CliRunner()

EDGE_NUMBERS = ["0", "-1", "1e30", "1e39", "-1e39", "nan", "inf", "-inf", "1.5", "9223372036854775807",
                "9223372036854775808", "99999999999999999999999", "1e-50", "0x10", "1_000", " 3 ", "٣"]
JUNK = st.one_of(
    st.sampled_from(EDGE_NUMBERS),
    st.text(max_size=12),
    st.text(alphabet="[],.0123456789-x:e ", max_size=20),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "x" * 100_000, "[" * 5000 + "]" * 5000, "/etc/passwd", "/proc/self", "sys:exit",
                     "os:getcwd", "nosuch:thing", "\x00", "-", "--", "--json"]),
)

# Values that work, kept cheap. Keyed by option name (the longest spelling).
GOOD: dict[str, list[str]] = {
    "--model": ["softmax", "linear", "mlp"],
    "--dataset": ["digits", "spirals", "xor", "moons"],
    "--optimizer": ["sgd", "adam", "momentum"],
    "--optimizers": ["sgd,adam", "momentum", "sgd"],
    "--lr": ["0.1", "0.05", "1e-3", "0.1,0.05"],
    "--epochs": ["1"],
    "--batch-size": ["256", "512"],
    "--device": ["cpu", "auto"],
    "--seed": ["0", "7"],
    "--weight-decay": ["0", "1e-4"],
    "--momentum": ["0.5", "0.9"],
    "--amp": ["off"],
    "--hidden": ["8", "8,8", "none"],
    "--activation": ["relu", "tanh"],
    "--dropout": ["0.1"],
    "--threads": ["1", "auto"],
    "--stacked": ["auto", "off"],
    "--input": ["1x8x8", "[[1,2],[3,4]]", "arange:4x4", "digit:3", "3x3"],
    "--kernel": ["sobel", "[[1,0],[0,1]]", "2", "ones:2x2"],
    "--padding": ["0", "1"], "--stride": ["1", "2"], "--dilation": ["1"], "--bias": ["0", "1"],
    "--mode": ["max", "avg"],
    "--preset": ["corr2d", "default"],
    "--frames": ["last", "all"],
    "--depth": ["0", "1"],
    "--steps": ["3", "10"],
    "--start": ["1,1", "-1,2"],
    "--width": ["20", "46"], "--height": ["8", "10"],
    "--limit": ["1", "5"],
    "--group": ["nosuch"],
    "--format": ["csv", "json"],
    "--timeout": ["5"],
    "--dir": ["/nonexistent-lessons"],
    "--vs": ["mlp", "softmax"],
    "--data-dir": ["/tmp"],
    "--lesson": ["nosuch-lesson"],
    "--noise": ["0", "0.1"], "--ratio": ["0.5", "0.8"], "--regularization": ["none", "l2"],
    "--reg-rate": ["0.01"], "--features": ["x1,x2", "x1x2"],
}
GOOD_ARGS: dict[str, list[str]] = {
    "model": ["lenet", "mlp", "softmax", "sys:exit", "os:getcwd", "nosuch:thing"],
    "function": ["bowl", "rosenbrock", "saddle"],
    "run_id": ["1", "2", "0", "99999999999999999999999"],
}
# Never drawn: `--check` runs every lesson's code (minutes; tested by its own tests); the root
# command without a subcommand opens the app.
SKIP_OPTIONS = {"--check", "--help", "--sync-bn", "--rdzv-endpoint"}
# Multi-process options take only values that are refused before anything starts: a valid --nnodes 2
# would wait for a peer that never comes, and --nproc N starts torchrun (tests/test_ddp*.py cover it).
ONLY: dict[str, list[str]] = {
    "--nproc": ["0", "-1", "abc", "1e30", "99999999999999999999", ""],
    "--nnodes": ["0", "-2", "x", "1e30", ""],
    "--node-rank": ["-1", "x", "1e30"],
    "--rank-timeout": ["nan", "-1", "x", "1e30", "0"],
}
# Always given to the commands that train, so that a valid draw trains one cheap epoch, not lenet x5.
ALWAYS = {"train": {"--model", "--epochs"}, "compare": {"--model", "--epochs"}, "playground": {"--steps"}}


def _commands() -> list[tuple[tuple[str, ...], object]]:
    root = typer.main.get_command(app)
    out = []

    def walk(cmd, path):
        subs = getattr(cmd, "commands", None)
        if path:
            out.append((tuple(path), cmd))
        for name, sub in (subs or {}).items():
            walk(sub, [*path, name])

    walk(root, [])
    return out


COMMANDS = _commands()


@st.composite
def _value(draw, name: str, good: dict[str, list[str]]):
    """Mostly a value that works (so valid runs happen too), sometimes junk."""
    if name in good and draw(st.integers(0, 4)) > 0:
        return draw(st.sampled_from(good[name]))
    return draw(JUNK)


# A quarter of the examples are "clean": only these options, only values that work, so that the
# success paths (a real run, a real trace, JSON out) are driven as often as the error paths.
CLEAN = {"--model", "--epochs", "--seed", "--lr", "--batch-size", "--weight-decay", "--json", "--device",
         "--threads", "--steps", "--input", "--kernel", "--limit", "--format", "--depth", "--frames", "--noise",
         "--ratio", "--width", "--height"}


@st.composite
def invocations(draw):
    path, cmd = draw(st.sampled_from(COMMANDS))
    clean = draw(st.integers(0, 3)) == 0
    args: list[str] = list(path)
    for param in cmd.params:
        if param.param_type_name == "argument":
            if clean or draw(st.integers(0, 9)) > 0:  # sometimes missing: typer's own usage error
                args.append(draw(st.sampled_from(GOOD_ARGS[param.name])) if clean and param.name in GOOD_ARGS
                            else draw(_value(param.name, GOOD_ARGS)))
            continue
        name = max(param.opts, key=len)
        always = name in ALWAYS.get(path[0], ())
        if name in SKIP_OPTIONS or (not always and draw(st.integers(0, 9)) >= 3):  # 30% of the time
            continue
        if clean:
            if name in CLEAN and (name in GOOD or getattr(param, "is_flag", False)):
                args += [name] if getattr(param, "is_flag", False) else [name, draw(st.sampled_from(GOOD[name]))]
            continue
        if getattr(param, "is_flag", False):
            args.append(draw(st.sampled_from(param.opts)))
        elif name in ONLY:
            args += [draw(st.sampled_from(param.opts)), draw(st.sampled_from(ONLY[name]))]
        else:
            args += [draw(st.sampled_from(param.opts)), draw(_value(name, GOOD))]
    if not clean and draw(st.integers(0, 19)) == 0:
        args.append(draw(st.sampled_from(["--nosuch", "extra", "-z"])))
    return args


def _check(args: list[str]) -> None:
    r = runner.invoke(app, args)
    shown = [a[:60] for a in args]
    assert r.exit_code in (0, 1, 2, 3), (shown, r.exit_code, r.output[-2000:])
    assert r.exception is None or isinstance(r.exception, SystemExit), (shown, repr(r.exception))
    assert "Traceback" not in r.output, (shown, r.output[-2000:])
    err = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
    assert all(len(line) < 2000 for line in err), (shown, r.stderr[-2000:])
    if "--json" in args and (r.exit_code == 0 or r.stdout.strip()):
        json.loads(r.stdout)  # a JSON answer, also when it reports a failure (a shape mismatch: exit 1)
    elif r.exit_code != 0:
        assert err, (shown, r.stderr[-2000:])  # said why, in a line of its own


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Tiny models: one torch thread (conftest's `one_torch_thread`)."""


@pytest.fixture(autouse=True)
def _serve_checks_but_never_serves():
    """`dllab serve` with good options would serve until Ctrl+C: its checks run, the server does not."""
    from tui_lab.web.server import DllabServer

    real = DllabServer.serve
    DllabServer.serve = lambda self, debug=False: None  # type: ignore[method-assign]
    yield
    DllabServer.serve = real  # type: ignore[method-assign]


def test_every_command_is_driven():
    names = {" ".join(p) for p, _ in COMMANDS}
    assert {"train", "compare", "runs", "runs show", "runs export", "shapes", "conv", "pool", "transposed",
            "playground", "landscape", "doctor", "models", "datasets", "devices", "lessons", "serve"} <= names


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(invocations())
def test_any_command_line_exits_cleanly(args):
    _check(args)


@pytest.mark.parametrize("args", [
    ["train", "--model", "softmax", "--epochs", "1", "--device", "cpu", "--json"],
    ["compare", "--model", "softmax", "--optimizers", "sgd,adam", "--epochs", "1", "--device", "cpu", "--json"],
    ["runs", "--json"], ["runs", "show", "1", "--json"], ["runs", "export", "1", "--format", "json"],
    ["shapes", "lenet", "--json"], ["conv", "--preset", "corr2d", "--json"], ["playground", "--steps", "3", "--json"],
    ["landscape", "bowl", "--steps", "3", "--json"], ["doctor", "--json"], ["lessons", "--json"],
])
def test_valid_json_commands_print_one_json_object(args):
    """The property test's JSON check, on command lines that certainly succeed."""
    invoke_first = ["train", "--model", "softmax", "--epochs", "1", "--device", "cpu", "--json"]
    assert runner.invoke(app, invoke_first).exit_code == 0
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output[-2000:]
    json.loads(r.stdout)
