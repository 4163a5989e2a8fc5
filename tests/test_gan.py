"""The 2-D GAN core: its measures against their formulas, its losses and arrows against PyTorch,
the control (pause, single steps, live learning rates), and learning vs mode collapse."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from tui_lab import gan
from tui_lab.errors import ConfigError


def direct_energy_distance(xs, ys) -> float:
    def dist(a, b):
        return math.dist(a, b)

    xy = sum(dist(a, b) for a in xs for b in ys) / (len(xs) * len(ys))
    xx = sum(dist(a, b) for a, b in itertools.product(xs, xs)) / len(xs) ** 2
    yy = sum(dist(a, b) for a, b in itertools.product(ys, ys)) / len(ys) ** 2
    return 2 * xy - xx - yy


def test_energy_distance_is_its_formula_on_tiny_sets():
    g = torch.Generator().manual_seed(3)
    for n, m in ((1, 1), (2, 3), (4, 5), (7, 2)):
        x, y = torch.randn(n, 2, generator=g), 2 + torch.randn(m, 2, generator=g)
        assert gan.energy_distance(x, y) == pytest.approx(direct_energy_distance(x.tolist(), y.tolist()), abs=1e-9)
    x = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    y = torch.tensor([[0.0, 0.0]])
    # |x-y|: 0 and 5 -> mean 2.5; |x-x'| over 4 pairs: 0, 5, 5, 0 -> 2.5; |y-y'| = 0: 2*2.5 - 2.5 - 0
    assert gan.energy_distance(x, y) == pytest.approx(2.5)
    assert gan.energy_distance(x, x) == pytest.approx(0.0, abs=1e-12)
    assert gan.energy_distance(x, y) == pytest.approx(gan.energy_distance(y, x))
    with pytest.raises(ConfigError, match="points"):
        gan.energy_distance(torch.zeros(0, 2), y)


def test_modes_covered_counts_centres_with_enough_points_near_them():
    centres = torch.tensor(gan.mode_centres("gaussians"))
    assert len(centres) == 8 and torch.allclose(centres.norm(dim=1), torch.ones(8))
    pts = torch.cat([centres[0].repeat(50, 1), centres[3].repeat(49, 1) + 0.1, torch.zeros(1, 2)])
    covered, total, on_mode = gan.modes_covered(pts, "gaussians")
    assert (covered, total) == (2, 8) and on_mode == pytest.approx(0.99)
    real = gan.sample_real("gaussians", 1000, torch.Generator().manual_seed(0))
    assert gan.modes_covered(real, "gaussians")[0] == 8  # the data set covers all of its own modes
    for data in gan.DATASETS:
        pts = gan.sample_real(data, 1000, torch.Generator().manual_seed(1))
        assert pts.shape == (1000, 2) and pts.abs().max() < gan.BOUNDS[1]
        assert gan.modes_covered(pts, data)[0] == 8, data


def test_losses_are_the_bce_formulas():
    r, f = torch.tensor([2.0, -1.0, 0.5]), torch.tensor([-3.0, 0.0, 1.0])
    sig = torch.sigmoid
    d = -(torch.log(sig(r)).mean() + torch.log(1 - sig(f)).mean())
    assert gan.d_loss_of(r, f).item() == pytest.approx(d.item(), rel=1e-6)
    assert gan.g_loss_of(f).item() == pytest.approx(-torch.log(sig(f)).mean().item(), rel=1e-6)
    assert gan.g_loss_of(f, "minimax").item() == pytest.approx(torch.log(1 - sig(f)).mean().item(), rel=1e-6)


def test_the_push_is_minus_the_gradient_of_the_generator_loss():
    d = torch.nn.Linear(2, 1)
    with torch.no_grad():
        d.weight[:] = torch.tensor([[2.0, -1.0]])
        d.bias[:] = 0.5
    x = torch.tensor([[0.0, 0.0], [1.0, 1.0], [-2.0, 0.5]])
    a = x @ torch.tensor([2.0, -1.0]) + 0.5
    w = torch.tensor([2.0, -1.0])
    # -d/dx softplus(-a) = sigmoid(-a) w ; minimax: -d/dx (-softplus(a)) = sigmoid(a) w
    assert torch.allclose(gan.generator_push(d, x), torch.sigmoid(-a)[:, None] * w, atol=1e-6)
    assert torch.allclose(gan.generator_push(d, x, "minimax"), torch.sigmoid(a)[:, None] * w, atol=1e-6)
    assert gan.arrow_char(1, 0) == "→" and gan.arrow_char(0, 1) == "↑" and gan.arrow_char(-1, -1) == "↙"
    assert gan.arrow_char(1, -1) == "↘" and gan.arrow_char(0, 0) == "·" and gan.arrow_char(math.nan, 1) == "·"


def test_a_frame_is_d_and_the_push_at_the_cell_centres():
    s = gan.GanSession(gan.GanConfig(data="moons", seed=2))
    s.train(5)
    f = s.frame(cols=10, rows=8, field_cols=5, field_rows=4)
    assert (f.rows, f.cols, len(f.field), len(f.field[0])) == (8, 10, 4, 5)
    centres = gan.grid_centres(10, 8)
    with torch.no_grad():
        probs = torch.sigmoid(s.D(centres)).reshape(8, 10)
    assert torch.allclose(torch.tensor(f.grid), probs, atol=1e-6)
    push = gan.generator_push(s.D, gan.grid_centres(5, 4))
    assert torch.allclose(torch.tensor(f.field).reshape(-1, 2), push, atol=1e-6)
    fake = s.G(s.z_eval).detach()
    assert f.distance == pytest.approx(gan.energy_distance(fake, s.real_eval))
    assert len(f.fake) == len(f.fake_grad) == gan.SHOW_POINTS and f.step == 5
    assert gan.cell_of(*f.real[0], 10, 8) is not None and gan.cell_of(9.0, 0.0, 10, 8) is None


def test_control_pauses_steps_one_at_a_time_and_changes_learning_rates_live():
    s = gan.GanSession(gan.GanConfig(data="ring"))
    control = gan.GanControl(paused=True)
    control.request_steps(3)
    control.set_hyperparameters(lr_g=0.01)
    frames = s.run(steps=100, control=control, every=10, size=lambda: (8, 8, 2, 2))
    first = next(frames)
    assert first.step == 3 and s.lr_g == 0.01 and s.opt_g.param_groups[0]["lr"] == 0.01
    assert s.opt_d.param_groups[0]["lr"] == 0.002
    control.resume()
    assert next(frames).step == 13
    control.cancel()
    assert list(frames) == []
    with pytest.raises(ConfigError, match="lr_g"):
        control.set_hyperparameters(lr_g=-1)
    with pytest.raises(ConfigError, match="momentum"):
        control.set_hyperparameters(momentum=0.9)


def test_training_is_deterministic_and_bad_settings_name_their_field():
    cfg = gan.GanConfig(data="gaussians", steps=20, seed=5)
    assert gan.train_history(cfg, every=10) == gan.train_history(cfg, every=10)
    for field, value in (("data", "mnist"), ("lr_g", 0), ("lr_d", "x"), ("steps", 0), ("loss", "wgan"),
                         ("d_steps", 99), ("optimizer", "rmsprop")):
        with pytest.raises(ConfigError, match=f"^{field}:"):
            gan.validate(gan.GanConfig(**{field: value}))
    with pytest.raises(ConfigError, match="preset: unknown key 'lr'"):
        gan.config_from_preset({"lr": 0.1})


def test_the_default_ring_halves_its_distance():
    rows = gan.train_history(gan.GanConfig(data="ring", steps=300), every=150)
    assert rows[-1]["distance"] <= rows[0]["distance"] / 2
    assert rows[-1]["modes"] >= 6


def test_the_lesson_presets_learn_and_collapse_as_they_say():
    """The GAN lesson's [preset] meets its [target] (distance halves, all modes), the mode-collapse
    preset its expect (few modes covered, the distance does not halve)."""
    from tui_lab.lessons import load_lessons

    lesson = next(lesson for lesson in load_lessons()[0] if lesson.tool == "gan")
    assert lesson.target and "mode-collapse" in lesson.presets
    for name, spec in ((None, lesson.target), ("mode-collapse", lesson.presets["mode-collapse"].expect)):
        config = gan.config_from_preset(lesson.preset_named(name))
        history = gan.train_history(config, every=config.steps)
        assert gan.expect_problems(spec, history) == [], (name, history)
    problems = gan.expect_problems({"modes": 9, "distance_drop": 100}, history)  # the collapsed run
    assert len(problems) == 2 and problems[0].startswith("modes: is")
