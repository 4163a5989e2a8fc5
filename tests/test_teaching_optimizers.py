"""The hand-written optimizers match torch.optim step for step, parameters and state alike."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from tui_lab.errors import ConfigError
from tui_lab.teaching_optimizers import TEACHING_NAMES, make_teaching_optimizer

# name -> (torch.optim factory, {teaching state key: torch state key})
TORCH_TWINS = {
    "sgd": (lambda p, lr, wd: torch.optim.SGD(p, lr=lr, weight_decay=wd), {}),
    "momentum": (
        lambda p, lr, wd: torch.optim.SGD(p, lr=lr, momentum=0.9, weight_decay=wd),
        {"velocity": "momentum_buffer"},
    ),
    "nesterov": (
        lambda p, lr, wd: torch.optim.SGD(p, lr=lr, momentum=0.9, nesterov=True, weight_decay=wd),
        {"velocity": "momentum_buffer"},
    ),
    "adagrad": (lambda p, lr, wd: torch.optim.Adagrad(p, lr=lr, weight_decay=wd), {"sum_sq": "sum"}),
    "rmsprop": (lambda p, lr, wd: torch.optim.RMSprop(p, lr=lr, weight_decay=wd), {"mean_sq": "square_avg"}),
    "adam": (lambda p, lr, wd: torch.optim.Adam(p, lr=lr, weight_decay=wd), {"m": "exp_avg", "v": "exp_avg_sq"}),
    "adamw": (lambda p, lr, wd: torch.optim.AdamW(p, lr=lr, weight_decay=wd), {"m": "exp_avg", "v": "exp_avg_sq"}),
}


def _model_and_data():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))
    x = torch.randn(8 * 12, 4)
    y = torch.randint(0, 3, (8 * 12,))
    return model, x, y


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
@pytest.mark.parametrize("name", TEACHING_NAMES)
def test_matches_torch_optim_step_for_step(name, weight_decay):
    model, x, y = _model_and_data()
    twin = copy.deepcopy(model)
    lr = 0.05
    ours = make_teaching_optimizer(name, model.parameters(), lr=lr, weight_decay=weight_decay)
    factory, state_keys = TORCH_TWINS[name]
    theirs = factory(twin.parameters(), lr, weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    for step in range(12):
        xb, yb = x[step * 8 : (step + 1) * 8], y[step * 8 : (step + 1) * 8]
        for m, opt in ((model, ours), (twin, theirs)):
            opt.zero_grad()
            loss_fn(m(xb), yb).backward()
            opt.step()
        for i, (p, q) in enumerate(zip(model.parameters(), twin.parameters())):
            torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6, msg=f"{name} step {step} param {i}")
            state = ours.state_of(i)
            assert set(state) == set(state_keys)
            for key, torch_key in state_keys.items():
                torch.testing.assert_close(state[key], theirs.state[q][torch_key], rtol=1e-5, atol=1e-6)
    # it really trained: the parameters moved from the start
    start, _, _ = _model_and_data()
    assert any(not torch.equal(p, q) for p, q in zip(model.parameters(), start.parameters()))


def test_momentum_setting_is_used():
    torch.manual_seed(1)
    w = torch.randn(3, requires_grad=True)
    w2 = w.detach().clone().requires_grad_(True)
    ours = make_teaching_optimizer("momentum", [w], lr=0.1, momentum=0.5)
    theirs = torch.optim.SGD([w2], lr=0.1, momentum=0.5)
    for _ in range(5):
        for p, opt in ((w, ours), (w2, theirs)):
            opt.zero_grad()
            (p**4).sum().backward()
            opt.step()
    torch.testing.assert_close(w, w2)
    assert ours.settings()["momentum"] == 0.5


def test_adagrad_steps_shrink():
    # the seeds: the accumulated sum only grows, so the same gradient moves w less each time
    w = torch.zeros(1, requires_grad=True)
    opt = make_teaching_optimizer("adagrad", [w], lr=1.0)
    moves = []
    for _ in range(4):
        before = w.item()
        w.grad = torch.ones(1)
        opt.step()
        moves.append(before - w.item())
    assert moves == sorted(moves, reverse=True) and moves[0] > moves[-1] > 0


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"name": "adamax", "lr": 0.1}, "optimizer"),
        ({"name": "sgd", "lr": 0.0}, "lr"),
        ({"name": "sgd", "lr": "abc"}, "lr"),
        ({"name": "sgd", "lr": float("nan")}, "lr"),
        ({"name": "sgd", "lr": 0.1, "weight_decay": -1}, "weight_decay"),
    ],
)
def test_bad_settings_name_the_field(kwargs, field):
    w = torch.zeros(2, requires_grad=True)
    with pytest.raises(ConfigError) as info:
        make_teaching_optimizer(params=[w], **kwargs)
    assert info.value.field == field


@pytest.mark.parametrize("momentum", [None, 0.5])
@pytest.mark.parametrize("name", TEACHING_NAMES)
def test_twin_of_the_training_registry(name, momentum):
    # same name and settings -> same steps as tui_lab.optimizers.make_optimizer (torch.optim underneath)
    from tui_lab.optimizers import make_optimizer

    model, x, y = _model_and_data()
    twin = copy.deepcopy(model)
    ours = make_teaching_optimizer(name, model.parameters(), lr=0.02, weight_decay=0.01, momentum=momentum)
    theirs = make_optimizer(name, twin.parameters(), lr=0.02, weight_decay=0.01, momentum=momentum)
    for step in range(6):
        xb, yb = x[step * 8 : (step + 1) * 8], y[step * 8 : (step + 1) * 8]
        for m, opt in ((model, ours), (twin, theirs)):
            opt.zero_grad()
            nn.functional.cross_entropy(m(xb), yb).backward()
            opt.step()
    for p, q in zip(model.parameters(), twin.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)
