"""Issue #17, found items: a damaged or unusable run store, numbers at the edge, options that do not
apply, typer's own errors, `--json` after Ctrl-C, a diverged run's loss points. Each through the real
CLI (typer's CliRunner) or the core, one-line errors and exit codes checked."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tui_lab import limits
from tui_lab.cli import app
from tui_lab.errors import ConfigError, StoreError
from tui_lab.runs import RunStore, check_store

runner = CliRunner()
TINY = ["--model", "softmax", "--dataset", "digits", "--optimizer", "sgd", "--lr", "0.5", "--device", "cpu"]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def one_line_error(r, code: int = 2) -> str:
    """The result failed with `code` and said so in exactly one line on stderr, no traceback."""
    assert r.exit_code == code, (r.exit_code, r.output)
    assert "Traceback" not in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    return lines[0]


def unusable_home() -> Path:
    """A DLLAB_HOME where no file can be created, even by root (which ignores chmod)."""
    return Path("/proc/self")


# --- the run store ---------------------------------------------------------------------------


def _damage(home: Path, how: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "runs.sqlite3"
    if how == "garbage":
        path.write_bytes(os.urandom(53248))
    else:  # a real store, truncated to half
        store = RunStore(path)
        for i in range(300):
            store.create_run({"model": "mlp", "dataset": "digits", "note": "x" * 400, "i": i})
        store.close()
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize("how", ["garbage", "truncated"])
def test_a_damaged_store_is_moved_aside_with_its_wal_and_a_fresh_one_starts(tmp_path, how):
    path = _damage(tmp_path / "home", how)
    original = path.read_bytes()
    (tmp_path / "home" / "runs.sqlite3-wal").write_bytes(b"junk wal")
    store = RunStore(path)
    assert store.notice and str(path) in store.notice
    aside = [p for p in path.parent.iterdir() if p.name.startswith("runs.sqlite3.damaged-") and "-wal" not in p.name
             and "-shm" not in p.name]
    assert len(aside) == 1 and str(aside[0]) in store.notice
    assert aside[0].read_bytes() == original  # never deleted, never changed
    assert Path(str(aside[0]) + "-wal").read_bytes() == b"junk wal"
    assert store.list_runs() == []  # a fresh store works
    run_id = store.create_run({"model": "mlp"})
    assert store.get_run(run_id).summary.model == "mlp"
    store.close()
    assert RunStore(path).notice is None  # the fresh one is healthy


def test_cli_on_a_damaged_store_warns_in_one_line_and_keeps_stdout_json(_dllab_home):
    path = _damage(_dllab_home, "garbage")
    r = invoke("runs", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == {"runs": []}
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("warning: run store ") and str(path) in r.stderr
    assert "damaged-" in r.stderr


@pytest.mark.parametrize("command", [["runs"], ["runs", "show", "1"], ["runs", "export", "1"],
                                     ["train", *TINY, "--epochs", "1"]])
@pytest.mark.parametrize("home", ["file", "unwritable", "under-a-file"])
def test_an_unusable_dllab_home_is_one_line_exit_1(tmp_path, monkeypatch, command, home):
    target = {"file": tmp_path / "afile", "unwritable": unusable_home(), "under-a-file": tmp_path / "afile" / "sub"}[home]
    (tmp_path / "afile").write_text("not a directory")
    monkeypatch.setenv("DLLAB_HOME", str(target))
    line = one_line_error(invoke(*command), 1)
    assert "run store" in line


def test_store_error_is_one_line_for_the_core():
    with pytest.raises(StoreError) as info:
        RunStore(unusable_home() / "runs.sqlite3")
    assert "\n" not in str(info.value) and "not writable" in str(info.value)


def test_doctor_checks_the_store_and_fails_when_it_is_unusable(_dllab_home, monkeypatch):
    r = invoke("doctor", "--json")
    assert r.exit_code == 0, r.output
    check = json.loads(r.stdout)["run_store_check"]
    assert check["usable"] and check["writable"] and check["integrity"] == "not created yet"
    RunStore().close()
    check = json.loads(invoke("doctor", "--json").stdout)["run_store_check"]
    assert (check["integrity"], check["journal_mode"], check["usable"]) == ("ok", "wal", True)

    path = _damage(_dllab_home, "garbage")
    before = path.read_bytes()
    r = invoke("doctor", "--json")
    assert r.exit_code == 1
    check = json.loads(r.stdout)["run_store_check"]
    assert not check["usable"] and "damaged" in check["integrity"]
    assert path.read_bytes() == before  # doctor reports, it does not repair
    assert "not usable" in r.stderr

    monkeypatch.setenv("DLLAB_HOME", str(unusable_home()))
    r = invoke("doctor")
    assert r.exit_code == 1 and "not usable" in r.stderr and "Traceback" not in r.output


def test_check_store_names_a_file_as_dllab_home(tmp_path):
    (tmp_path / "f").write_text("x")
    check = check_store(tmp_path / "f" / "runs.sqlite3")
    assert not check["usable"] and "not a directory" in check["problem"]


def test_a_store_damaged_after_opening_gives_store_errors_not_sqlite_tracebacks(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite3")
    store._db.close()  # what a vanished file system looks like from here
    with pytest.raises(StoreError):
        store.list_runs()
    with pytest.raises(StoreError):
        store.create_run({"model": "mlp"})


def test_in_memory_store_keeps_nothing_on_disk(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = RunStore.in_memory()
    run_id = store.create_run({"model": "mlp"})
    store.mark_lesson_done("x")
    assert store.get_run(run_id).summary.model == "mlp" and store.done_lessons() == {"x"}
    assert list(tmp_path.iterdir()) == []
    assert not str(store.checkpoint_path(run_id)).startswith(str(tmp_path))


# --- numbers at the edge -------------------------------------------------------------------------


@pytest.mark.parametrize("args, field", [
    (["train", "--epochs", "1e30"], "epochs"),
    (["train", "--batch-size", "1e30"], "batch_size"),
    (["train", "--seed", "9223372036854775808"], "seed"),
    (["train", "--seed", "-1"], "seed"),
    (["compare", "--epochs", "1e30"], "epochs"),
    (["train", "--lr", "1e39"], "lr"),
    (["train", "--lr", "1e-50"], "lr"),
    (["train", "--lr", "nan"], "lr"),
    (["playground", "--lr", "1e39"], "lr"),
    (["train", "--data-dir", "/etc/passwd"], "data_dir"),
    (["train", "--data-dir", "/etc/passwd/sub"], "data_dir"),
    (["runs", "show", "99999999999999999999999"], "run"),
    (["runs", "show", "0"], "run"),
    (["runs", "export", "--", "-5"], "run"),
    (["runs", "--limit", "0"], "limit"),
    (["runs", "--limit", "1e999999999"], "limit"),
])
def test_numbers_at_the_edge_are_one_line_errors(args, field):
    line = one_line_error(invoke(*args), 2)
    assert line.startswith(f"error: {field}: "), line


def test_the_largest_int64_seed_is_exact_not_rounded_through_a_float():
    r = invoke("train", *TINY, "--epochs", "1", "--seed", "9223372036854775807", "--json")
    assert r.exit_code == 0, r.output
    from tui_lab.runs import RunStore

    run = RunStore().get_run(json.loads(r.stdout)["run_id"])
    assert run.summary.seed == 9223372036854775807 and run.summary.config["seed"] == 9223372036854775807


def test_runs_limit_is_exact():
    for _ in range(2):
        assert invoke("train", *TINY, "--epochs", "1", "--json").exit_code == 0
    assert len(json.loads(invoke("runs", "--json", "--limit", "1").stdout)["runs"]) == 1
    assert len(json.loads(invoke("runs", "--json").stdout)["runs"]) == 2
    assert RunStore().list_runs(limit=0) == []  # the core: zero is none, not all


def test_memory_is_checked_before_a_model_is_built():
    line = one_line_error(invoke("train", "--model", "mlp", "--hidden", "100000000", "--device", "cpu"), 2)
    assert line.startswith("error: memory: ") and "parameters" in line and "free" in line
    line = one_line_error(invoke("compare", "--model", "mlp", "--hidden", "100000000", "--device", "cpu"), 2)
    assert line.startswith("error: memory: ")


def test_memory_is_checked_before_a_shape_trace():
    line = one_line_error(invoke("shapes", "resnet", "--input", "1x7000x7000"), 2)
    assert line.startswith("error: input: ") and "free" in line


def test_activation_estimate_matches_the_trace():
    """The meta-device estimate is the trace's own activation count plus the input."""
    from tui_lab.shapes import resolve_model, trace_model

    resolved = resolve_model("resnet")
    est = limits.activation_bytes(resolved.model, (1, 28, 28))
    real = trace_model(resolved.model, (1, 28, 28)).activation_bytes
    assert est == real + 28 * 28 * 4


def test_deeply_nested_conv_input_is_one_line():
    line = one_line_error(invoke("conv", "--input", "[" * 30000 + "]" * 30000), 2)
    assert line.startswith("error: input: nested lists at most")
    assert len(line) < 300


def test_a_100kb_argument_is_never_echoed_whole():
    huge = "9" * 100_000
    for args in (["train", "--lr", huge], ["train", "--model", huge], ["runs", "show", huge],
                 ["train", "--hidden", huge], ["shapes", "lenet", "--input", huge], ["runs", "--limit", "x" + huge]):
        line = one_line_error(invoke(*args), 2)
        assert len(line) < 700, (args[:2], len(line))


# --- every option applies or is refused ----------------------------------------------------------


@pytest.mark.parametrize("args, field", [
    (["--optimizer", "adam", "--momentum", "0.5"], "momentum"),
    (["--model", "lenet", "--dropout", "0.2"], "dropout"),
    (["--model", "lenet", "--hidden", "64"], "hidden"),
    (["--model", "mlp", "--batch-norm"], "batch_norm"),
    (["--model", "rnn", "--hidden", "32,16"], "hidden"),
    (["--model", "softmax", "--activation", "relu"], "activation"),
    (["--device", ""], "device"),
    (["--device", "   "], "device"),
])
def test_options_that_do_not_apply_are_refused(args, field):
    line = one_line_error(invoke("train", *args), 2)
    assert line.startswith(f"error: {field}: "), line


def test_compare_momentum_without_a_momentum_run_is_refused():
    line = one_line_error(invoke("compare", "--optimizers", "adam,sgd", "--momentum", "0.5"), 2)
    assert line.startswith("error: momentum: ")


def test_options_that_apply_still_work():
    from tui_lab.training import TrainConfig

    cfg = TrainConfig(model="rnn", dataset="digits", model_options={"hidden": [32]}, optimizer="sgd",
                      momentum=0.5).validated()
    assert cfg.model_options == {"hidden": 32} and cfg.momentum == 0.5
    cfg = TrainConfig(model="lenet", model_options={"batch_norm": True}).validated()
    assert cfg.model_options == {"batch_norm": True}


@pytest.mark.parametrize("args", [["train", "--nosuch"], ["shapes", "lenet", "--depth", "abc"], ["nosuch"],
                                  ["runs", "show"], ["train", "--lr"], ["playground", "--width", "x" * 100_000]])
def test_typers_own_usage_errors_are_one_line_exit_2(args):
    line = one_line_error(invoke(*args), 2)
    assert "╭" not in line and "--help" in line and len(line) < 700


def test_sys_exit_in_a_users_model_is_an_error_not_a_silent_exit_0():
    r = invoke("shapes", "sys:exit", "--json")
    line = one_line_error(r, 2)
    assert "SystemExit" in line and r.stdout == ""


# --- --json after Ctrl-C, diverged runs -----------------------------------------------------------


def _interrupt_at_epoch(monkeypatch, epoch: int) -> None:
    """Ctrl-C arrives while epoch `epoch` is being written (a KeyboardInterrupt inside the run)."""
    real = RunStore.add_epoch

    def add_epoch(self, run_id, row):
        real(self, run_id, row)
        if row.epoch == epoch:
            raise KeyboardInterrupt

    monkeypatch.setattr(RunStore, "add_epoch", add_epoch)


def test_train_json_after_ctrl_c_is_the_run_as_stored(monkeypatch):
    _interrupt_at_epoch(monkeypatch, 3)
    r = invoke("train", *TINY, "--epochs", "50", "--json")
    assert r.exit_code == 130
    data = json.loads(r.stdout)
    assert data["status"] == "cancelled" and data["device"] == "cpu"
    assert [e["epoch"] for e in data["epochs"]] == [1, 2, 3]
    stored = RunStore().get_run(data["run_id"])
    assert stored.summary.status == "cancelled"
    assert [e.val_loss for e in stored.epochs] == [e["val_loss"] for e in data["epochs"]]


def test_compare_json_after_ctrl_c_is_the_race_as_stored(monkeypatch):
    _interrupt_at_epoch(monkeypatch, 2)
    r = invoke("compare", "--model", "softmax", "--optimizers", "sgd,adam", "--epochs", "20", "--device", "cpu",
               "--json")
    assert r.exit_code == 130
    data = json.loads(r.stdout)
    assert data["status"] == "cancelled" and len(data["runs"]) == 2
    assert all(run["status"] == "cancelled" and run["device"] == "cpu" for run in data["runs"])
    assert {run["optimizer"] for run in data["runs"]} == {"sgd", "adam"}
    assert any(run["epochs"] for run in data["runs"])
    assert all(run["initial_loss"] is not None for run in data["runs"])


@pytest.mark.parametrize("model, lr", [("softmax", 1e30), ("mlp", 1e30), ("mlp", 50.0)])
def test_a_diverged_run_keeps_its_loss_points_up_to_the_divergence(model, lr):
    """Diverging inside the first reporting window (50 steps) still leaves a curve: the loss at step 1
    (before any update, as torch computes it) and the exploded loss where it diverged when finite."""
    import math

    import torch

    from tui_lab.data import load_dataset
    from tui_lab.optimizers import loss_for_task
    from tui_lab.recording import record
    from tui_lab.training import Diverged, TrainConfig, init_model, train

    store = RunStore()
    config = TrainConfig(model=model, dataset="digits", optimizer="sgd", lr=lr, epochs=2, device="cpu",
                         report_every=50).validated()
    run_id = store.create_run(config.to_dict())
    events = list(record(store, run_id, train(config)))
    diverged = events[-1]
    assert isinstance(diverged, Diverged) and 1 < diverged.step <= 50
    detail = store.get_run(run_id)
    assert detail.summary.status == "diverged"
    steps = [s for s, _e, _l in detail.steps]
    assert steps[0] == 1 and all(s <= diverged.step for s in steps)
    if math.isfinite(diverged.loss):
        assert steps[-1] == diverged.step
    # step 1's loss is the untrained model's loss on the first shuffled batch
    data = load_dataset("digits")
    net = init_model(config, data.info, "cpu")
    idx = torch.randperm(data.train_x.shape[0], generator=torch.Generator().manual_seed(config.seed))[:config.batch_size]
    with torch.no_grad():
        expected = loss_for_task(data.info.task)(net(data.train_x[idx]).float(), data.train_y[idx]).item()
    assert detail.steps[0][2] == pytest.approx(expected, rel=1e-5)


# --- the limits module itself ---------------------------------------------------------------------


def test_parse_int_is_exact_and_ranged():
    assert limits.parse_int("n", "9223372036854775807") == 2**63 - 1
    assert limits.parse_int("n", "1e3") == 1000 and limits.parse_int("n", "5.0") == 5
    assert limits.parse_int("n", 7.0) == 7
    for bad in ("9223372036854775808", "1.5", "nan", "inf", "", "abc", True, None, 1.5, "1e999999999"):
        with pytest.raises(ConfigError):
            limits.parse_int("n", bad, 0)


def test_parse_float_and_lr_limits():
    assert limits.parse_lr("3.4e38") == 3.4e38
    for bad in ("3.5e38", "0", "-1", "nan", "inf", "1e-60", "x" * 1000):
        with pytest.raises(ConfigError):
            limits.parse_lr(bad)
    with pytest.raises(ConfigError):
        limits.parse_float("momentum", "1", 0.0, 1.0, high_open=True)


def test_shown_cuts_long_values():
    assert limits.shown("abc") == "'abc'"
    text = limits.shown("x" * 100_000)
    assert len(text) < 80 and "100,000 characters" in text


def test_sqlite_overflow_id_is_refused_by_the_core(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite3")
    with pytest.raises(ConfigError):
        store.get_run(10**30)
    assert isinstance(store._db, sqlite3.Connection)


def test_a_path_the_system_refuses_is_one_line_exit_1():
    r = invoke("lessons", "--dir", "[" * 5000)
    line = one_line_error(r, 1)
    assert "too long" in line and len(line) < 200


def test_choice_errors_cut_a_long_value():
    from tui_lab.errors import choice_error

    text = str(choice_error("model", "m" * 100_000, ["lenet", "mlp"]))
    assert len(text) < 150 and "100,002 characters" in text and text.endswith("allowed: lenet, mlp")


def test_a_run_whose_config_text_was_damaged_still_lists_and_shows(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite3")
    run_id = store.create_run({"model": "mlp"})
    store._exec("UPDATE runs SET config = ? WHERE id = ?", ("{not json" + "[" * 5000, run_id))
    assert store.list_runs()[0].config == {}
    assert store.get_run(run_id).summary.model == "mlp"
