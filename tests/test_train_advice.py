"""Core helpers of the train form: model options from text, advice for a stuck run, a linear fit."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

from tui_lab.data import dataset_info
from tui_lab.diagnosis import diagnose
from tui_lab.errors import ConfigError
from tui_lab.model_options import (
    ACTIVATION_NAMES,
    OPTION_MODELS,
    form_values,
    parse_model_options,
)
from tui_lab.models import ACTIVATIONS, MODELS, build_model
from tui_lab.regression import linear_fit
from tui_lab.training import TrainConfig


@dataclass
class Epoch:  # the fields of an EpochEnd that the advice reads
    epoch: int
    train_loss: float
    train_acc: float | None
    val_loss: float
    val_acc: float | None


def test_activation_names_are_the_models():
    assert set(ACTIVATION_NAMES) == set(ACTIVATIONS)
    assert all(m in MODELS for models in OPTION_MODELS.values() for m in models)


def test_model_options_from_the_form_build_the_model_the_cli_would():
    options = parse_model_options("mlp", "64, 32", "tanh", "0.3", "on")
    assert options == {"hidden": [64, 32], "activation": "tanh", "dropout": 0.3}  # BN: not an mlp option
    net = build_model("mlp", dataset_info("digits"), **options)
    assert [m.out_features for m in net if isinstance(m, torch.nn.Linear)] == [64, 32, 10]
    assert sum(isinstance(m, torch.nn.Dropout) for m in net) == 2
    assert parse_model_options("lstm", "48") == {"hidden": 48}
    assert parse_model_options("lenet", batch_norm="on") == {"batch_norm": True}
    assert parse_model_options("lenet", "64", "tanh", "0.5", "off") == {}  # options lenet does not take


@pytest.mark.parametrize("model,args,field", [("mlp", ("0",), "hidden"), ("mlp", ("a,b",), "hidden"),
                                              ("gru", ("8,8",), "hidden"), ("mlp", ("", "swish"), "activation"),
                                              ("mlp", ("", None, "1"), "dropout"), ("vgg", ("", None, "-0.1"), "dropout")])
def test_bad_model_options_name_the_field(model, args, field):
    with pytest.raises(ConfigError) as info:
        parse_model_options(model, *args)
    assert info.value.field == field


def test_a_preset_fills_the_option_fields_from_flat_keys_or_model_options():
    assert form_values({"model_options": {"hidden": [64, 32], "dropout": 0.5}}) == {"hidden": "64,32", "dropout": "0.5"}
    assert form_values({"batch_norm": True, "activation": "ReLU"}) == {"batch_norm": "on", "activation": "relu"}


def test_a_run_stuck_at_chance_gets_what_to_try():
    config = TrainConfig(model="lenet", dataset="digits", optimizer="sgd", lr=0.01)
    advice = diagnose(config, [Epoch(1, 2.30, 0.11, 2.30, 0.10)], num_classes=10)
    assert advice.kind == "chance" and "10%" in advice.message
    assert any("lenet-relu" in t for t in advice.tries) and any("larger lr" in t for t in advice.tries)
    # learning well: no advice
    assert diagnose(config, [Epoch(1, 0.5, 0.9, 0.4, 0.92)], num_classes=10) is None


def test_a_stalling_loss_and_overfitting_are_named():
    config = {"model": "mlp", "optimizer": "sgd", "lr": 0.1}
    stall = diagnose(config, [Epoch(1, 1.00, 0.6, 1.0, 0.6), Epoch(2, 0.995, 0.61, 1.0, 0.6)], num_classes=10)
    assert stall.kind == "stall" and "momentum" in stall.text()
    overfit = diagnose(config, [Epoch(1, 0.05, 0.99, 1.2, 0.7)], num_classes=10)
    assert overfit.kind == "overfit" and any("weight decay" in t for t in overfit.tries)
    assert any("dropout" in t for t in overfit.tries)
    # regression at the noise floor is not a stall
    assert diagnose(config, [Epoch(1, 1e-4, None, 1e-4, None), Epoch(2, 1e-4, None, 1e-4, None)]) is None


def test_the_linear_fit_matches_the_true_parameters_and_a_checkpoint(tmp_path):
    from tui_lab.training import Finished, train

    config = TrainConfig(model="linear", dataset="linear", optimizer="sgd", lr=0.03, batch_size=10, epochs=3,
                         device="cpu")
    path = tmp_path / "run.pt"
    assert any(isinstance(e, Finished) for e in train(config, checkpoint_path=path))
    saved = linear_fit(config, str(path))
    state = torch.load(path, weights_only=True)
    weight = next(v for k, v in state.items() if k.endswith("weight"))
    assert saved.fitted_w == pytest.approx(weight.reshape(-1).tolist()) and not saved.refit
    assert saved.fitted_w == pytest.approx(saved.true_w, abs=0.01) and saved.fitted_b == pytest.approx(4.2, abs=0.01)
    refit = linear_fit(config)  # no checkpoint: trained again, same seed, same numbers
    assert refit.refit and refit.fitted_w == pytest.approx(saved.fitted_w, abs=1e-6)
    assert list(refit.targets) == sorted(refit.targets) and len(refit.predictions) == len(refit.targets)
    assert linear_fit(TrainConfig(model="softmax", dataset="digits")) is None
