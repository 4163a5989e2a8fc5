"""Feature maps of a trained run: every number is a forward pass with hooks on the run's checkpoint."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from typer.testing import CliRunner

from tui_lab import conv_steps as cs
from tui_lab import features as fm
from tui_lab.cli import app
from tui_lab.data import load_dataset
from tui_lab.errors import ConfigError
from tui_lab.runs import RunStore
from tui_lab.training import load_checkpoint

runner = CliRunner()


@pytest.fixture(scope="module")
def lenet_run(tmp_path_factory):
    """One quick LeNet run (1 epoch) in a store of its own, shared by the tests of this module."""
    home = tmp_path_factory.mktemp("features-home")
    store = RunStore(home / "runs.sqlite3")  # where DLLAB_HOME=home puts it, for the CLI tests
    run_id = fm.train_quick_lenet(store, epochs=1)
    return store, run_id


def _reference(store, run_id, sample):
    """The run's checkpoint loaded independently, with hooks of our own on every leaf."""
    summary = store.get_run(run_id).summary
    model = load_checkpoint(summary.checkpoint, fm._train_config(summary.config))
    model.eval()
    got = {}
    for name, module in model.named_modules():
        if name and not list(module.children()):
            module.register_forward_hook(lambda m, i, o, name=name: got.__setitem__(name, o.detach()[0]))
    x = load_dataset("digits").val_x[sample]
    with torch.no_grad():
        logits = model(x[None])
    return model, got, torch.softmax(logits[0], 0)


def test_every_layer_and_the_prediction_equal_a_hooked_forward_pass(lenet_run):
    store, run_id = lenet_run
    maps = fm.run_features(run_id, 7, store)
    model, ref, probs = _reference(store, run_id, 7)
    assert [layer.name for layer in maps.layers] == list(ref)
    for layer in maps.layers:
        assert layer.shape == tuple(ref[layer.name].shape)
        torch.testing.assert_close(layer.values, ref[layer.name])
    torch.testing.assert_close(torch.tensor(maps.probabilities), probs)
    assert maps.prediction == int(probs.argmax())
    assert maps.layers[0].kind == "Conv2d" and maps.layers[0].shape == (6, 28, 28)
    assert maps.label == int(load_dataset("digits").val_y[7])


def test_cli_json_reports_layers_and_values_of_a_layer(lenet_run, monkeypatch):
    store, run_id = lenet_run
    monkeypatch.setenv("DLLAB_HOME", str(store.path.parent))
    r = runner.invoke(app, ["features", str(run_id), "--sample", "3", "--layer", "3", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    _, ref, probs = _reference(store, run_id, 3)
    assert data["prediction"] == int(probs.argmax())
    assert data["probabilities"] == pytest.approx(probs.tolist(), abs=1e-6)
    assert [entry["name"] for entry in data["layers"]] == list(ref)
    assert [entry["shape"] for entry in data["layers"]] == [list(v.shape) for v in ref.values()]
    assert data["layers"][0]["max"] == pytest.approx(float(ref["0"].max()), rel=1e-6)
    torch.testing.assert_close(torch.tensor(data["values"]), ref["3"])


@pytest.mark.parametrize("args,field", [
    (["features", "999", "--json"], "run"), (["features", "x"], "run"),
    (["features", "RUN", "--sample", "-1"], "sample"), (["features", "RUN", "--sample", "100000"], "sample"),
    (["features", "RUN", "--layer", "nope", "--json"], "layer"),
])
def test_cli_bad_input_is_one_line_naming_the_field(lenet_run, monkeypatch, args, field):
    store, run_id = lenet_run
    monkeypatch.setenv("DLLAB_HOME", str(store.path.parent))
    r = runner.invoke(app, [a.replace("RUN", str(run_id)) for a in args])
    assert r.exit_code == 2
    assert r.stderr.startswith(f"error: {field}") and r.stderr.count("\n") == 1


def test_conv_preset_is_the_real_window_and_kernel_and_gives_the_layer_output(lenet_run):
    store, run_id = lenet_run
    maps = fm.run_features(run_id, 2, store)
    model, _ = fm.load_run(run_id, store)
    for layer, o, row, col in (("0", 4, 0, 0), ("0", 1, 13, 20), ("3", 9, 5, 6)):
        preset = fm.conv_preset(maps, model, layer, o, row, col)
        result = cs.compute(cs.build_config(preset))
        assert result.output_shape == (1, 1, 1)
        assert result.output[0][0][0] == pytest.approx(float(maps.layer(layer).values[o, row, col]), abs=1e-5)
    corner = fm.conv_preset(maps, model, "0", 0, 0, 0)
    assert corner["input"][0][0] == [0.0] * 5 and corner["input"][0][1] == [0.0] * 5  # padding 2: zeros
    with pytest.raises(ConfigError) as err:
        fm.conv_preset(maps, model, "1", 0, 0, 0)
    assert err.value.field == "layer"
    with pytest.raises(ConfigError) as err:
        fm.conv_preset(maps, model, "0", 6, 0, 0)
    assert err.value.field == "channel"
    # the conv layer's own numbers, by torch, for the stepper's window
    w = model[0].weight.detach()
    x = F.pad(maps.input[None], (2, 2, 2, 2))[0, :, 13:18, 20:25]
    assert float((x * w[1]).sum() + model[0].bias.detach()[1]) == pytest.approx(float(maps.layer("0").values[1, 13, 20]), abs=1e-5)
