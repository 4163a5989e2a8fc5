"""The playground core: decision grids, live training and the linear collapse, checked against torch."""

from __future__ import annotations

import copy
import subprocess
import sys
import threading

import pytest
import torch
import torch.nn.functional as F

from tui_lab import playground as pg
from tui_lab.data import load_dataset
from tui_lab.errors import ConfigError
from tui_lab.models import ACTIVATIONS


def test_activation_names_are_the_model_zoos():
    assert set(pg.ACTIVATIONS) == set(ACTIVATIONS)


def test_core_does_not_import_textual():
    code = "import sys, tui_lab.playground as p; p.Playground(p.PlaygroundConfig('spirals', (2,))).frame(4, 4); " \
           "assert not any(m.startswith('textual') for m in sys.modules), 'textual imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- grid --------------------------------------------------------------------------------------


def test_decision_grid_is_the_argmax_of_the_real_forward_pass():
    torch.manual_seed(3)
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    bounds = pg.Bounds(-2.0, 1.0, -0.5, 1.5)
    cols, rows = 7, 5
    classes, conf = pg.decision_grid(model, bounds, cols, rows)
    assert len(classes) == rows and all(len(r) == cols for r in classes)
    for r in range(rows):
        for c in range(cols):
            # centre of cell (r, c), row 0 at the top, written out independently
            x = -2.0 + (c + 0.5) * 3.0 / cols
            y = 1.5 - (r + 0.5) * 2.0 / rows
            with torch.no_grad():
                logits = model(torch.tensor([[x, y]], dtype=torch.float32))[0]
            assert classes[r][c] == int(logits.argmax())
            assert conf[r][c] == pytest.approx(float(torch.softmax(logits, 0).max()), abs=1e-6)
    assert len({v for row in classes for v in row}) > 1  # the test model does split this box


def test_cell_of_inverts_cell_centre():
    b = pg.Bounds(-1.0, 3.0, -2.0, 2.0)
    for r in range(6):
        for c in range(9):
            x, y = b.cell_centre(c, r, 9, 6)
            assert b.cell_of(x, y, 9, 6) == (r, c)
    assert b.cell_of(3.5, 0.0, 9, 6) is None
    assert b.cell_of(0.0, -2.1, 9, 6) is None


def test_bounds_hold_every_point_and_keep_the_aspect():
    d = load_dataset("moons")
    b = pg.data_bounds("moons", aspect=46 / 40)
    pts = torch.cat([d.train_x, d.val_x])
    assert b.xmin < pts[:, 0].min() and pts[:, 0].max() < b.xmax
    assert b.ymin < pts[:, 1].min() and pts[:, 1].max() < b.ymax
    assert (b.xmax - b.xmin) / (b.ymax - b.ymin) == pytest.approx(46 / 40)


# --- training ----------------------------------------------------------------------------------


def test_a_training_step_is_torch_optim_on_the_same_network():
    config = pg.PlaygroundConfig("moons", (8, 8), "tanh", lr=0.01, optimizer="adam", seed=5)
    p = pg.Playground(config)
    torch.manual_seed(5)
    ref = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 8),
                              torch.nn.Tanh(), torch.nn.Linear(8, 2))
    for a, b in zip(p.model.parameters(), ref.parameters()):
        assert torch.equal(a, b)  # same seed, same initial weights
    opt = torch.optim.Adam(ref.parameters(), lr=0.01)
    d = load_dataset("moons")
    for _ in range(20):
        opt.zero_grad()
        F.cross_entropy(ref(d.train_x), d.train_y).backward()
        opt.step()
    p.train(20)
    assert p.step == 20
    for a, b in zip(p.model.parameters(), ref.parameters()):
        torch.testing.assert_close(a, b)
    frame = p.frame(10, 8)
    with torch.no_grad():
        out = ref(d.train_x)
        assert frame.loss == pytest.approx(F.cross_entropy(out, d.train_y).item(), rel=1e-5)
        assert frame.accuracy == pytest.approx((out.argmax(1) == d.train_y).float().mean().item())
        assert frame.val_accuracy == pytest.approx((ref(d.val_x).argmax(1) == d.val_y).float().mean().item())
    assert frame.collapse is None and frame.step == 20
    b = frame.bounds
    for r in range(8):
        for c in range(10):
            x = b.xmin + (c + 0.5) * (b.xmax - b.xmin) / 10
            y = b.ymax - (r + 0.5) * (b.ymax - b.ymin) / 8
            with torch.no_grad():
                assert frame.grid[r][c] == int(ref(torch.tensor([[x, y]])).argmax())


@pytest.mark.parametrize("dataset", ["moons", "circles", "xor"])
def test_relu_mlp_fits_and_a_linear_net_cannot(dataset):
    relu = list(pg.train_playground(pg.PlaygroundConfig(dataset, (16, 16), "relu", steps=300), cols=8, rows=8))
    assert [f.step for f in relu[:3]] == [0, 10, 20] and relu[-1].step == 300
    assert relu[-1].accuracy > 0.97 and relu[-1].val_accuracy > 0.95
    assert relu[-1].loss < relu[0].loss
    for hidden, act in (((16, 16), "none"), ((), "relu")):
        lin = list(pg.train_playground(pg.PlaygroundConfig(dataset, hidden, act, steps=300), cols=8, rows=8))[-1]
        if dataset == "moons":  # moons are nearly linearly separable, but not quite
            assert lin.accuracy < 0.92 < relu[-1].accuracy
        else:  # xor and circles: no straight line does much better than chance
            assert lin.accuracy < 0.7
        assert lin.collapse is not None


def test_runs_are_deterministic_with_a_seed_and_differ_across_seeds():
    def last(seed, batch=0):
        cfg = pg.PlaygroundConfig("spirals", (8,), "relu", steps=40, seed=seed, batch_size=batch)
        return list(pg.train_playground(cfg, cols=6, rows=6))[-1]

    a, b, c = last(1), last(1), last(2)
    assert a.loss == b.loss and a.grid == b.grid
    assert a.loss != c.loss
    m1, m2 = last(1, batch=32), last(1, batch=32)
    assert m1.loss == m2.loss and m1.loss != a.loss


def test_minibatches_walk_a_seeded_permutation():
    p = pg.Playground(pg.PlaygroundConfig("xor", (4,), batch_size=100, seed=7))
    n = len(p.data.train_x)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(7))
    x, y = p._batch()
    assert torch.equal(x, p.data.train_x[perm[:100]]) and torch.equal(y, p.data.train_y[perm[:100]])
    x2, _ = p._batch()
    assert torch.equal(x2, p.data.train_x[perm[100:200]])


def test_cancel_stops_a_run():
    cancel = threading.Event()
    frames = []
    for frame in pg.train_playground(pg.PlaygroundConfig("xor", (4,), steps=500), cancel=cancel, cols=4, rows=4):
        frames.append(frame)
        if frame.step == 30:
            cancel.set()
    assert frames[-1].step == 30


def test_a_run_can_be_continued():
    p = pg.Playground(pg.PlaygroundConfig("xor", (4,), steps=30))
    assert [f.step for f in p.run(cols=4, rows=4, every=20)] == [20, 30]
    assert [f.step for f in p.run(cols=4, rows=4, every=20)] == [50, 60]


def test_divergence_is_reported():
    frames = list(pg.train_playground(pg.PlaygroundConfig("xor", (16,), "relu", lr=1e30, optimizer="sgd", steps=50),
                                      cols=4, rows=4))
    assert frames[-1].diverged and frames[-1].step < 50


# --- the linear collapse -------------------------------------------------------------------------


@pytest.mark.parametrize("hidden", [(), (5,), (16, 16), (3, 7, 2, 9)])
def test_collapse_linear_is_the_forward_pass(hidden):
    p = pg.Playground(pg.PlaygroundConfig("spirals", hidden, "none", seed=11))
    p.train(25)  # trained weights, not only the initial ones
    w, b = pg.collapse_linear(p.model)
    assert tuple(w.shape) == (3, 2) and tuple(b.shape) == (3,)
    x = torch.randn(200, 2, generator=torch.Generator().manual_seed(0)) * 3
    with torch.no_grad():
        out = p.model(x)
    torch.testing.assert_close((x.double() @ w.T + b).float(), out, atol=1e-5, rtol=1e-5)
    frame = p.frame(12, 10)
    assert frame.collapse is not None
    assert frame.collapse.layers == len(hidden) + 1
    assert frame.collapse.max_error < 1e-5
    torch.testing.assert_close(torch.tensor(frame.collapse.weight, dtype=torch.float64), w)


@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh", "leakyrelu", "elu"])
def test_a_nonlinear_network_does_not_collapse(act):
    p = pg.Playground(pg.PlaygroundConfig("xor", (4,), act))
    with pytest.raises(ConfigError, match="non-linear"):
        pg.collapse_linear(p.model)
    assert p.frame(4, 4).collapse is None


def test_the_boundary_line_splits_the_two_classes():
    p = pg.Playground(pg.PlaygroundConfig("moons", (), seed=0))
    p.train(100)
    frame = p.frame(20, 16)
    (w00, w01), (w10, w11) = frame.collapse.weight
    a, b, c = w10 - w00, w11 - w01, frame.collapse.bias[1] - frame.collapse.bias[0]
    for r in range(16):
        for col in range(20):
            x, y = frame.bounds.cell_centre(col, r, 20, 16)
            side = a * x + b * y + c
            if abs(side) > 1e-6:
                assert frame.grid[r][col] == (1 if side > 0 else 0)
    text = pg.boundary_text(frame.collapse, 2)
    assert text.startswith("boundary ") and text.endswith("= 0") and f"{a:.2f}x" in text


# --- configuration -------------------------------------------------------------------------------


def test_preset_is_read_and_normalised():
    cfg = pg.config_from_preset({"dataset": "Spirals", "hidden": [16, 16], "activation": "ReLU"})
    assert cfg == pg.PlaygroundConfig("spirals", (16, 16), "relu")
    assert pg.config_from_preset({"hidden": []}).hidden == ()
    assert pg.config_from_preset({"hidden": 4}).hidden == (4,)
    assert pg.config_from_preset(None) == pg.PlaygroundConfig()
    assert pg.describe(cfg) == "2 → 16 → 16 → 3, relu"
    assert pg.describe(pg.PlaygroundConfig("xor", ())) == "2 → 2, linear model"


@pytest.mark.parametrize("preset, field, words", [
    ({"dataset": "mnist"}, "dataset", "spirals, moons, circles, xor"),
    ({"hidden": [8] * 5}, "hidden", "0 to 4 widths"),
    ({"hidden": [0]}, "hidden", "from 1 to 64"),
    ({"hidden": [65]}, "hidden", "from 1 to 64"),
    ({"hidden": ["x"]}, "hidden", "widths"),
    ({"hidden": "16"}, "hidden", "list of widths"),
    ({"activation": "swish"}, "activation", "relu"),
    ({"lr": -1}, "lr", "> 0"),
    ({"lr": "abc"}, "lr", "> 0"),
    ({"optimizer": "lbfgs"}, "optimizer", "adam"),
    ({"steps": 0}, "steps", "from 1"),
    ({"batch_size": -2}, "batch_size", "from 0"),
    ({"depth": 2}, "preset", "allowed: dataset, hidden"),
])
def test_bad_settings_name_the_field_and_what_is_allowed(preset, field, words):
    with pytest.raises(ConfigError) as err:
        pg.config_from_preset(preset)
    assert err.value.field == field
    assert words in str(err.value)


# --- plain-text faces -----------------------------------------------------------------------------


def test_ascii_map_shows_regions_and_points_two_pixel_rows_a_line():
    p = pg.Playground(pg.PlaygroundConfig("spirals", (8,), "relu", seed=2))
    p.train(30)
    frame = p.frame(30, 20)
    lines = pg.ascii_map(frame)
    assert len(lines) == 10 and all(len(line) == 30 for line in lines)
    points = {}
    for x, y, label in frame.points:
        r, c = frame.bounds.cell_of(x, y, 30, 20)
        points[(r // 2, c)] = label  # the last point drawn in a cell wins, as in the map
    for r, line in enumerate(lines):
        for c, ch in enumerate(line):
            if (r, c) in points:
                assert ch == "ox+"[points[(r, c)]]
            else:
                assert ch == ".-~"[frame.grid[2 * r][c]]
    assert set("".join(lines)) <= set(".-~ox+")


def test_frame_summary_is_json_and_matches_the_frame():
    import json

    frame = list(pg.train_playground(pg.PlaygroundConfig("xor", (4, 4), "none", steps=20), cols=6, rows=6))[-1]
    data = json.loads(json.dumps(pg.frame_summary(frame)))
    assert data["step"] == 20 and data["loss"] == frame.loss and data["accuracy"] == frame.accuracy
    assert data["hidden"] == [4, 4] and data["linear"] is True and data["network"] == "2 → 4 → 4 → 2, none"
    assert data["collapse"]["layers"] == 3 and data["collapse"]["weight"] == [list(r) for r in frame.collapse.weight]
    assert data["collapse"]["boundary"] == pg.boundary_text(frame.collapse, 2)
    relu = list(pg.train_playground(pg.PlaygroundConfig("xor", (4,), "relu", steps=10), cols=4, rows=4))[-1]
    assert pg.frame_summary(relu)["collapse"] is None


# --- TensorFlow Playground's settings -------------------------------------------------------------


def test_default_noise_and_ratio_keep_the_data_sets_split_and_ratio_noise_resplit_it():
    d = load_dataset("xor")
    same = pg.playground_data(pg.PlaygroundConfig("xor"))
    assert torch.equal(same.train_x, d.train_x) and torch.equal(same.val_x, d.val_x)
    half = pg.playground_data(pg.PlaygroundConfig("xor", ratio=0.5))
    assert len(half.train_x) == len(half.val_x) == (len(d.train_x) + len(d.val_x)) // 2
    assert torch.equal(torch.cat([half.train_x, half.val_x]), torch.cat([d.train_x, d.val_x]))
    noisy = pg.playground_data(pg.PlaygroundConfig("xor", noise=0.2))
    moved = (noisy.train_x - d.train_x).std().item()
    radius = torch.cat([d.train_x, d.val_x]).abs().max().item()
    assert moved == pytest.approx(0.2 * radius, rel=0.1)  # noise std is the fraction of the radius
    assert torch.equal(noisy.train_y, d.train_y)  # labels are those of the clean points


def test_features_are_computed_from_x1_x2_and_feed_the_first_layer():
    x = torch.tensor([[0.5, -2.0], [1.0, 3.0]])
    f = pg.featurize(x, pg.FEATURES)
    expected = torch.stack([x[:, 0], x[:, 1], x[:, 0] ** 2, x[:, 1] ** 2, x[:, 0] * x[:, 1],
                            torch.sin(x[:, 0]), torch.sin(x[:, 1])], 1)
    torch.testing.assert_close(f, expected)
    cfg = pg.validate(pg.PlaygroundConfig("xor", (4,), features="x1x2, sin(x1) ,x1"))
    assert cfg.features == ("x1", "x1x2", "sin_x1")  # canonical order
    model = pg.build_playground_model(cfg)
    first = pg.linear_layers(model)[0]
    assert first.in_features == 3
    with torch.no_grad():
        ref = model[1](pg.featurize(x, cfg.features))
        torch.testing.assert_close(model(x), ref)
    assert pg.describe(cfg) == "3 → 4 → 2, relu"


def test_regularisation_adds_rate_times_the_weights_norm_to_the_loss():
    for kind in ("l1", "l2"):
        cfg = pg.PlaygroundConfig("moons", (8,), "tanh", lr=0.05, optimizer="sgd", regularization=kind, reg_rate=0.01)
        p = pg.Playground(cfg)
        ref = copy.deepcopy(p.model)
        opt = torch.optim.SGD(ref.parameters(), lr=0.05)
        for _ in range(5):
            opt.zero_grad()
            ws = [ref[1].weight, ref[3].weight]
            pen = sum(w.abs().sum() for w in ws) if kind == "l1" else sum((w ** 2).sum() for w in ws)
            (F.cross_entropy(ref(p.data.train_x), p.data.train_y) + 0.01 * pen).backward()
            opt.step()
        p.train(5)
        for a, b in zip(p.model.parameters(), ref.parameters()):
            torch.testing.assert_close(a, b)
        assert len(p.grad_norms) == 2


def test_x1_times_x2_alone_solves_xor_with_no_hidden_layer():
    """TensorFlow Playground's classic: xor is not linearly separable in (x1, x2), but it is in x1·x2."""
    solved = list(pg.train_playground(pg.PlaygroundConfig("xor", (), lr=0.1, steps=300, features=("x1x2",)),
                                      cols=4, rows=4, every=300))[-1]
    plain = list(pg.train_playground(pg.PlaygroundConfig("xor", (), lr=0.1, steps=300), cols=4, rows=4, every=300))[-1]
    assert solved.accuracy > 0.99 and solved.val_accuracy > 0.99
    assert plain.accuracy < 0.7


def test_noise_and_a_half_split_overfit_a_large_net_and_l2_narrows_the_gap():
    def gap(**kw):
        cfg = pg.PlaygroundConfig("xor", (64, 64), "relu", lr=0.01, steps=600, noise=0.3, ratio=0.5, **kw)
        f = list(pg.train_playground(cfg, cols=4, rows=4, every=600))[-1]
        return f.test_loss - f.loss, f

    plain, f = gap()
    assert f.test_loss > f.loss and plain > 0.2  # measured 0.46
    l2, f2 = gap(regularization="l2", reg_rate=0.003)
    assert 0 < l2 < plain / 3  # measured 0.03
    # the test loss itself is what the frame says: cross-entropy on the test points
    p = pg.Playground(pg.PlaygroundConfig("xor", (4,), noise=0.3, ratio=0.5))
    frame = p.frame(4, 4)
    with torch.no_grad():
        assert frame.test_loss == pytest.approx(F.cross_entropy(p.model(p.data.val_x), p.data.val_y).item(), rel=1e-6)


def test_deep_sigmoid_nets_show_vanishing_gradients_in_the_norms():
    p = pg.Playground(pg.PlaygroundConfig("circles", (8, 8, 8, 8), "sigmoid", lr=0.01, optimizer="sgd"))
    p.train(1)
    norms = p.grad_norms
    assert len(norms) == 5
    assert norms[0] < norms[-1] / 20  # the first layer's gradient is a small fraction of the last's
    relu = pg.Playground(pg.PlaygroundConfig("circles", (8, 8, 8, 8), "relu", lr=0.01, optimizer="sgd"))
    relu.train(1)
    assert relu.grad_norms[0] / relu.grad_norms[-1] > norms[0] / norms[-1]
    # the norms are torch's: recompute them by hand
    ref = copy.deepcopy(pg.Playground(pg.PlaygroundConfig("circles", (8, 8, 8, 8), "sigmoid")).model)
    F.cross_entropy(ref(p.data.train_x), p.data.train_y).backward()
    by_hand = [m.weight.grad.norm().item() for m in pg.linear_layers(ref)]
    assert list(norms) == pytest.approx(by_hand, rel=1e-5)


def test_neuron_maps_are_the_hidden_units_outputs_on_the_grid():
    p = pg.Playground(pg.PlaygroundConfig("moons", (3, 2), "tanh"))
    frame = p.frame(10, 8, neuron_size=(6, 4))
    assert [len(layer) for layer in frame.neurons] == [3, 2]
    pts = pg.grid_points(p.bounds(6 / 4), 6, 4)
    with torch.no_grad():
        h1 = torch.tanh(p.model[1](pts))
        h2 = torch.tanh(p.model[3](h1))
        outs = pg.hidden_outputs(p.model, pts)
        torch.testing.assert_close(p.model(pts), p.model[5](h2))  # the leaves in order are the forward
    torch.testing.assert_close(outs[0], h1)
    torch.testing.assert_close(outs[1], h2)
    torch.testing.assert_close(torch.tensor(frame.neurons[0][2]), h1[:, 2].reshape(4, 6))
    torch.testing.assert_close(torch.tensor(frame.neurons[1][1]), h2[:, 1].reshape(4, 6))


@pytest.mark.parametrize("preset,field", [
    ({"noise": 2}, "noise"), ({"ratio": 0.95}, "ratio"), ({"regularization": "l3"}, "regularization"),
    ({"reg_rate": -1}, "reg_rate"), ({"features": ["x3"]}, "features"), ({"features": []}, "features"),
])
def test_bad_playground_settings_name_their_field(preset, field):
    with pytest.raises(ConfigError) as err:
        pg.config_from_preset(preset)
    assert err.value.field == field
