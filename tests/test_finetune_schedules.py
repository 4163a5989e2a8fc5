"""Fine-tuning (--init-from, --trainable, --reset) and lr schedules (--schedule, --warmup)."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from tui_lab.cli import app
from tui_lab.runs import RunStore

runner = CliRunner()
BASE = ["train", "-m", "lenet", "-d", "digits", "-o", "sgd", "--lr", "0.1", "-b", "64", "--device", "cpu",
        "--threads", "1", "--json"]


def run(*args: str, code: int = 0) -> dict:
    out = runner.invoke(app, [*BASE, *args])
    assert out.exit_code == code, out.output
    return json.loads(out.stdout) if code == 0 else {"stderr": out.stderr}


def weights(run_id: int) -> dict:
    return torch.load(RunStore().checkpoint_path(run_id), weights_only=True)


def test_trainable_freezes_exactly_what_it_says():
    source = run("-e", "1")
    tuned = run("-e", "1", "--init-from", str(source["run_id"]), "--trainable", "9,11", "--weight-decay", "0.01")
    before, after = weights(source["run_id"]), weights(tuned["run_id"])
    assert tuned["params"] == source["params"] == 61706
    assert tuned["trainable_params"] == 10164 + 850  # layers 9 and 11, as `dllab shapes lenet` counts them
    for key in before:
        module = key.split(".")[0]
        if module in ("9", "11"):
            assert not torch.equal(before[key], after[key]), key  # trained
        else:
            assert torch.equal(before[key], after[key]), key  # frozen: not even weight decay moved it


def test_trainable_sets_requires_grad_and_the_optimizer_gets_only_those(monkeypatch):
    from tui_lab import finetune
    from tui_lab.models import build_model
    from tui_lab.data import dataset_info

    model = build_model("lenet", dataset_info("digits"))
    finetune.freeze(model, ("1", "11"))  # "1" is an activation: no parameters, and never selects "11"'s
    assert {n for n, p in model.named_parameters() if p.requires_grad} == {"11.weight", "11.bias"}
    assert finetune.count_trainable(model) == 850
    finetune.freeze(model, ())
    assert all(p.requires_grad for p in model.parameters())


def test_reset_gives_a_fresh_head_and_mismatches_are_one_line_errors():
    source = run("-e", "1", "--seed", "5")
    fresh = run("-e", "1", "--init-from", str(source["run_id"]), "--reset", "11", "--trainable", "11", "--lr", "1e-9")
    src, got = weights(source["run_id"]), weights(fresh["run_id"])
    assert torch.equal(src["0.weight"], got["0.weight"])  # copied
    assert not torch.allclose(src["11.weight"], got["11.weight"])  # re-initialised (seed 0's init, barely trained)
    for args, words in (
        (["--init-from", str(source["run_id"]), "-m", "mlp"], "init_from: run"),
        (["--init-from", "999"], "no run with id 999"),
        (["--trainable", "12"], "trainable: no module '12' in lenet"),
        (["--reset", "11"], "reset: re-initialises modules"),
        (["--init-from", str(source["run_id"]), "-d", "spirals", "-m", "mlp"], "init_from"),
    ):
        out = run("-e", "1", *args, code=2)
        assert words in out["stderr"] and len(out["stderr"].strip().splitlines()) == 1, (args, out["stderr"])


def test_a_head_of_another_size_needs_reset():
    from tui_lab.errors import ConfigError
    from tui_lab import finetune

    src = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 10))
    dst = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 5))
    with pytest.raises(ConfigError, match=r"1.weight is 10x8, this model's is 5x8; re-initialise it with --reset 1"):
        finetune.load_init(dst, src.state_dict(), (), "run 3")
    finetune.load_init(dst, src.state_dict(), ("1",), "run 3")
    assert torch.equal(dst[0].weight, src[0].weight)


def torch_lrs(make, epochs: int, per_step: int = 1, lr: float = 0.1) -> list[float]:
    """The lr each epoch starts with under a torch scheduler built here, stepped as torch documents."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = make(opt)
    out = []
    for _ in range(epochs):
        out.append(opt.param_groups[0]["lr"])
        for _ in range(per_step):
            opt.step()
            if per_step > 1:
                sched.step()
        if per_step == 1:
            sched.step()
    return out


@pytest.mark.parametrize("schedule, warmup, make", [
    ("step", 0, lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.1)),
    ("cosine", 0, lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=6)),
    ("cosine", 2, lambda o: torch.optim.lr_scheduler.SequentialLR(o, [
        torch.optim.lr_scheduler.LinearLR(o, start_factor=1 / 3, total_iters=2),
        torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=4)], milestones=[2])),
    ("none", 2, lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=1 / 3, total_iters=2)),
])
def test_each_epochs_lr_equals_torchs_scheduler(schedule, warmup, make):
    out = run("-m", "softmax", "-e", "6", "--schedule", schedule, "--warmup", str(warmup))
    assert [e["lr"] for e in out["epochs"]] == pytest.approx(torch_lrs(make, 6), rel=1e-12, abs=1e-15)
    shown = RunStore().get_run(out["run_id"]).to_json()["epochs"]
    assert [e["lr"] for e in shown] == [e["lr"] for e in out["epochs"]]


def test_onecycle_steps_every_batch():
    out = run("-m", "softmax", "-e", "3", "--schedule", "onecycle")
    spe = 23  # 1,437 digits in batches of 64
    expected = torch_lrs(lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=3 * spe), 3, spe)
    assert [e["lr"] for e in out["epochs"]] == pytest.approx(expected, rel=1e-12)


def test_bad_schedule_values_name_the_field():
    assert "schedule: unknown schedule 'linear'" in run("--schedule", "linear", code=2)["stderr"]
    assert "warmup: must be" in run("--warmup", "-1", code=2)["stderr"]
    assert "warmup: must be fewer epochs" in run("-e", "2", "--warmup", "2", code=2)["stderr"]


def test_transfer_data_sets_split_the_digits():
    from tui_lab.data import load_dataset

    src, dst, full = load_dataset("digits-0to4"), load_dataset("digits-5to9-small"), load_dataset("digits")
    assert src.info.num_classes == dst.info.num_classes == 5 and dst.info.classes == ("5", "6", "7", "8", "9")
    assert set(src.train_y.tolist()) == set(dst.train_y.tolist()) == set(range(5))
    assert dst.train_y.bincount().tolist() == [10] * 5  # ten training images per digit
    assert len(src.train_y) == int((full.train_y < 5).sum()) and len(dst.val_y) == int((full.val_y >= 5).sum())
