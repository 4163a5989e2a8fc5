"""`dllab landscape` (and later `dllab compare`) as a user runs them: JSON shape, text, one-line errors."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from tui_lab.cli import app

runner = CliRunner()


def _torch_bowl(name, lr, steps, start):
    w = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = {
        "sgd": lambda: torch.optim.SGD([w], lr=lr),
        "momentum": lambda: torch.optim.SGD([w], lr=lr, momentum=0.9),
        "adam": lambda: torch.optim.Adam([w], lr=lr),
    }[name]()
    points = [w.tolist()]
    for _ in range(steps):
        opt.zero_grad()
        (0.1 * w[0] ** 2 + 2 * w[1] ** 2).backward()
        opt.step()
        points.append(w.tolist())
    return points


def test_landscape_json_matches_torch_optim():
    result = runner.invoke(app, ["landscape", "bowl", "--optimizers", "sgd,momentum,adam", "--lr", "0.4,0.4,0.4",
                                 "--steps", "40", "--start", "-5,-2", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)  # one JSON object and nothing else
    assert set(doc) == {"function", "start", "trajectories"}
    assert doc["function"] == "bowl" and doc["start"] == [-5.0, -2.0]
    assert [t["optimizer"] for t in doc["trajectories"]] == ["sgd", "momentum", "adam"]
    for t in doc["trajectories"]:
        assert t["lr"] == 0.4
        expected = _torch_bowl(t["optimizer"], 0.4, 40, [-5.0, -2.0])
        assert len(t["points"]) == 41
        for got, want in zip(t["points"], expected):
            assert got == pytest.approx(want, rel=1e-12, abs=1e-15)
        x, y = expected[-1]
        assert t["final_value"] == pytest.approx(0.1 * x**2 + 2 * y**2, rel=1e-12, abs=1e-15)
    assert "momentum" not in doc["trajectories"][0] and doc["trajectories"][1]["momentum"] == 0.9


def test_landscape_momentum_option_and_single_lr():
    result = runner.invoke(app, ["landscape", "bowl", "-o", "momentum", "--lr", "0.1", "--momentum", "0.5",
                                 "--steps", "5", "--json"])
    assert result.exit_code == 0, result.output
    (t,) = json.loads(result.stdout)["trajectories"]
    assert t["momentum"] == 0.5 and t["lr"] == 0.1


def test_landscape_diverged_final_value_is_null():
    result = runner.invoke(app, ["landscape", "bowl", "-o", "sgd,adam", "--lr", "1.0,0.4", "--steps", "100", "--json"])
    assert result.exit_code == 0, result.output
    bad, good = json.loads(result.stdout)["trajectories"]
    assert bad["final_value"] is None and isinstance(good["final_value"], float)


def test_landscape_text_has_table_and_plot():
    result = runner.invoke(app, ["landscape", "rosenbrock", "-o", "sgd,adam", "--steps", "50", "--width", "50",
                                 "--height", "12"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Rosenbrock" in out and "sgd" in out and "adam" in out
    plot = [line for line in out.splitlines() if len(line) == 50]
    assert len(plot) >= 12
    assert any("A" in line for line in plot) and any("@" in line for line in plot)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["landscape", "cone"], "function"),
        (["landscape", "bowl", "-o", "sgd,lion"], "optimizer"),
        (["landscape", "bowl", "--lr", "abc"], "lr"),
        (["landscape", "bowl", "--lr", "0"], "lr"),
        (["landscape", "bowl", "-o", "sgd,adam", "--lr", "0.1,0.2,0.3"], "lr"),
        (["landscape", "bowl", "--steps", "0"], "steps"),
        (["landscape", "bowl", "--steps", "many"], "steps"),
        (["landscape", "bowl", "--start", "1;2"], "start"),
        (["landscape", "bowl", "--momentum", "2"], "momentum"),
        (["landscape", "bowl", "--width", "wide"], "width"),
        (["landscape", "bowl", "--height", "1"], "height"),
    ],
)
def test_landscape_bad_input_exits_2_with_one_line(args, needle):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {needle}:")


# --- dllab compare ---------------------------------------------------------------------------


@pytest.fixture
def one_thread(one_torch_thread):
    """One torch thread (conftest's `one_torch_thread`)."""


def test_compare_json_shape_same_initial_loss_and_group_saved(one_thread):
    result = runner.invoke(app, ["compare", "--model", "mlp", "--hidden", "32", "--dataset", "digits",
                                 "--optimizers", "sgd,momentum,adam", "--lr", "0.1,0.05,0.001", "--epochs", "2",
                                 "--seed", "0", "--device", "cpu", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc) == {"runs"} and len(doc["runs"]) == 3
    for run, (name, lr) in zip(doc["runs"], [("sgd", 0.1), ("momentum", 0.05), ("adam", 0.001)]):
        assert set(run) == {"optimizer", "lr", "status", "initial_loss", "epochs"}
        assert (run["optimizer"], run["lr"], run["status"]) == (name, lr, "finished")
        assert [e["epoch"] for e in run["epochs"]] == [1, 2]
        assert {"train_loss", "val_loss", "val_acc", "examples_per_sec"} <= set(run["epochs"][0])
    assert len({r["initial_loss"] for r in doc["runs"]}) == 1
    from tui_lab.runs import RunStore

    runs = RunStore().list_runs()
    assert len(runs) == 3 and len({r.group_id for r in runs}) == 1 and {r.kind for r in runs} == {"compare"}


def test_compare_text_table_with_a_diverged_run(one_thread):
    result = runner.invoke(app, ["compare", "-m", "softmax", "-o", "sgd,sgd", "--lr", "0.1,1e6", "-e", "1",
                                 "--device", "cpu", "--stacked", "on"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "diverged" in out and "finished" in out and "group cmp-" in out and "stacked" in out
    assert max(len(line) for line in out.splitlines()) <= 80


@pytest.mark.parametrize(
    "args, needle",
    [
        (["compare", "-o", "sgd,lion"], "optimizer"),
        (["compare", "-o", "sgd,adam", "--lr", "0.1,0.2,0.3"], "lr"),
        (["compare", "--lr", "fast"], "lr"),
        (["compare", "--epochs", "0"], "epochs"),
        (["compare", "--model", "resnet9000"], "model"),
        (["compare", "--dataset", "imagenet"], "dataset"),
        (["compare", "--momentum", "1.5"], "momentum"),
        (["compare", "--stacked", "maybe"], "stacked"),
    ],
)
def test_compare_bad_input_exits_2_with_one_line(args, needle):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {needle}:")


def test_compare_that_cannot_start_exits_1_with_one_line(monkeypatch, one_thread):
    import tui_lab.training as training

    def no_memory(*args, **kwargs):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(training, "init_model", no_memory)
    result = runner.invoke(app, ["compare", "-m", "softmax", "-e", "1", "--device", "cpu", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"runs": []}
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: RuntimeError: CUDA out of memory")
