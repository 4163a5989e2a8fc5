"""The training engine: learning, determinism, divergence, cancellation, failures, checkpoints."""

from __future__ import annotations

import math
import threading

import pytest
import torch

from tui_lab.control import RunControl
from tui_lab.errors import ConfigError
from tui_lab.training import (
    Cancelled, Diverged, EpochEnd, Failed, Finished, Started, Step, TrainConfig, load_checkpoint, train,
)


def collect(config, **kw):
    return list(train(config, **kw))


def test_lenet_on_digits_reaches_90_percent_in_5_epochs():
    events = collect(TrainConfig(model="lenet", dataset="digits", optimizer="adam", lr=0.01, epochs=5, batch_size=64))
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert isinstance(events[0], Started) and isinstance(events[-1], Finished)
    assert len(epochs) == 5
    assert epochs[-1].val_acc >= 0.90, [e.val_acc for e in epochs]
    assert epochs[-1].train_loss < epochs[0].train_loss


def test_epoch_metrics_match_an_independent_evaluation(tmp_path):
    """The val loss/acc an epoch reports is what the saved model gives on the val split."""
    cfg = TrainConfig(model="softmax", dataset="digits", optimizer="sgd", lr=0.1, epochs=2, batch_size=64)
    ckpt = tmp_path / "m.pt"
    events = collect(cfg, checkpoint_path=ckpt)
    last = [e for e in events if isinstance(e, EpochEnd)][-1]
    assert events[-1].checkpoint == str(ckpt)
    from tui_lab.data import load_dataset

    data = load_dataset("digits")
    model = load_checkpoint(ckpt, cfg).eval()
    with torch.no_grad():
        out = model(data.val_x)
    assert last.val_loss == pytest.approx(torch.nn.functional.cross_entropy(out, data.val_y).item(), rel=1e-5)
    assert last.val_acc == pytest.approx((out.argmax(1) == data.val_y).float().mean().item())


def test_same_seed_same_losses_different_seed_different():
    cfg = TrainConfig(model="mlp", dataset="digits", lr=0.01, epochs=2, batch_size=128, report_every=3)
    losses = lambda c: [e.loss for e in collect(c) if isinstance(e, Step)]  # noqa: E731
    a, b = losses(cfg), losses(cfg)
    assert a == b and len(a) >= 4
    from dataclasses import replace

    assert losses(replace(cfg, seed=1)) != a


def test_huge_learning_rate_diverges_with_a_hint():
    events = collect(TrainConfig(model="lenet", optimizer="sgd", lr=1e6, epochs=3, batch_size=256))
    last = events[-1]
    assert isinstance(last, Diverged)
    assert last.step >= 1 and "smaller learning rate" in last.message
    assert not any(isinstance(e, Finished) for e in events)


def test_nan_loss_is_caught_at_its_step():
    cfg = TrainConfig(model="linear", dataset="linear", optimizer="sgd", lr=50.0, epochs=20, batch_size=10, report_every=50)
    last = collect(cfg)[-1]
    assert isinstance(last, Diverged)
    assert last.step < 50 or not math.isfinite(last.loss)


def test_cancel_from_another_thread_stops_at_the_next_step():
    """Cancel is checked before every step: the run ends at the step it had reached, not later."""
    control = RunControl()
    stream = train(TrainConfig(model="lenet", epochs=1000, batch_size=32, report_every=1), control)
    seen = []
    for ev in stream:
        seen.append(ev)
        if isinstance(ev, Step) and ev.global_step == 5:
            other = threading.Thread(target=control.cancel)  # from another thread, as the app does
            other.start()
            other.join()
    assert isinstance(seen[-1], Cancelled)
    assert seen[-1].step == 5  # no step after the one that saw the request
    assert [e.global_step for e in seen if isinstance(e, Step)] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    "field, kwargs",
    [
        ("model", {"model": "transformer"}),
        ("dataset", {"dataset": "imagenet"}),
        ("optimizer", {"optimizer": "lion"}),
        ("lr", {"lr": 0}),
        ("lr", {"lr": -1}),
        ("lr", {"lr": float("nan")}),
        ("lr", {"lr": "abc"}),
        ("epochs", {"epochs": 0}),
        ("batch_size", {"batch_size": 0}),
        ("device", {"device": "cuda:7"}),
        ("model", {"model": "lenet", "dataset": "moons"}),
        ("amp", {"amp": "bf16", "device": "cpu"}),
        ("activation", {"model": "mlp", "model_options": {"activation": "swishy"}}),
    ],
)
def test_bad_input_is_a_config_error_naming_the_field(field, kwargs):
    with pytest.raises(ConfigError) as info:
        train(TrainConfig(**kwargs))
    assert info.value.field == field
    assert "\n" not in str(info.value)


def test_a_crash_inside_the_loop_becomes_a_failed_event(monkeypatch):
    from tui_lab.learner import Learner

    def boom(*a, **k):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2 GiB")

    monkeypatch.setattr(Learner, "account", boom)
    events = collect(TrainConfig(model="softmax", epochs=1))
    assert isinstance(events[-1], Failed)
    assert "batch size" in events[-1].hint


@pytest.mark.parametrize("model, dataset", [("linear", "linear"), ("mlp", "moons"), ("lstm", "sine"), ("gru", "digits"),
                                            ("nin", "digits")])
def test_other_tasks_train(model, dataset):
    events = collect(TrainConfig(model=model, dataset=dataset, epochs=1, lr=0.01, batch_size=64))
    assert isinstance(events[-1], Finished), events[-1]
    ep = [e for e in events if isinstance(e, EpochEnd)][0]
    assert math.isfinite(ep.val_loss)
    assert (ep.val_acc is None) == (dataset in ("linear", "sine"))


def test_linear_regression_recovers_the_seed_weights():
    """y = Xw + b + noise with w = [2, -3.4], b = 4.2: nn.Linear learns them back."""
    cfg = TrainConfig(model="linear", dataset="linear", optimizer="sgd", lr=0.03, epochs=3, batch_size=10)
    events = collect(cfg, checkpoint_path=None)
    assert isinstance(events[-1], Finished)
    assert events[-1].final_val_loss < 1e-3
