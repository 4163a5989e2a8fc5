"""Autoencoders: the zoo model, the reconstruction task, the latent space against the run's checkpoint."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from typer.testing import CliRunner

from tui_lab import autoencoder as ae
from tui_lab import training as t
from tui_lab.cli import app
from tui_lab.data import dataset_info, load_dataset
from tui_lab.errors import ConfigError
from tui_lab.models import Autoencoder, build_model, check_model_options, task_for
from tui_lab.optimizers import loss_for_task
from tui_lab.runs import RunStore

runner = CliRunner()
DIGITS = dataset_info("digits")


def _train(store, **settings) -> int:
    events = list(ae.train_autoencoder({"epochs": 1, "hidden": [32], "device": "cpu", **settings}, store))
    assert isinstance(events[-1], ae.Trained)
    return events[-1].run_id


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two quick autoencoder runs (2-D and 3-D codes, 1 epoch) and an MLP run, in one store."""
    home = tmp_path_factory.mktemp("latent-home")
    store = RunStore(home / "runs.sqlite3")  # where DLLAB_HOME=home puts it, for the CLI
    two, three = _train(store, latent=2), _train(store, latent=3)
    config = t.TrainConfig(model="mlp", dataset="digits", epochs=1, device="cpu", model_options={"hidden": [16]})
    mlp = store.create_run(config.validated().to_dict())
    from tui_lab.recording import record

    list(record(store, mlp, t.train(config, checkpoint_path=store.checkpoint_path(mlp))))
    return store, two, three, mlp


def _reference_codes(store, run_id):
    """The run's checkpoint loaded by hand into a fresh Autoencoder, its encoder on the validation split."""
    config = store.get_run(run_id).summary.config
    options = config["model_options"]
    model = Autoencoder((1, 28, 28), tuple(options["hidden"]), options["latent"])
    model.load_state_dict(torch.load(store.get_run(run_id).summary.checkpoint, weights_only=True))
    model.eval()
    val = load_dataset("digits")
    with torch.no_grad():
        return model.encoder(val.val_x), val.val_y, model


def test_the_model_reconstructs_its_input_through_a_bottleneck():
    net = build_model("autoencoder", DIGITS, hidden=[64, 16], latent=2).eval()
    x = torch.randn(5, 1, 28, 28)
    assert net(x).shape == x.shape
    assert net.encoder(x).shape == (5, 2)
    widths = [m.out_features for m in net.modules() if isinstance(m, torch.nn.Linear)]
    assert widths == [64, 16, 2, 16, 64, 784]
    assert task_for("autoencoder", DIGITS) == "reconstruction" and task_for("mlp", DIGITS) == "classification"
    assert task_for("mlp", dataset_info("linear")) == "regression"


@pytest.mark.parametrize("model, options, field", [
    ("autoencoder", {"latent": 0}, "latent"), ("autoencoder", {"latent": "two"}, "latent"),
    ("mlp", {"latent": 2}, "latent"), ("autoencoder", {"dropout": 0.5}, "dropout"),
])
def test_bad_options_name_the_field(model, options, field):
    with pytest.raises(ConfigError) as err:
        check_model_options(model, options)
    assert err.value.field == field


def test_reconstruction_loss_is_the_mse_against_the_input_and_has_no_accuracy():
    data = t.load_on_device("digits", "cpu")
    task, d = t.for_task("autoencoder", data)
    assert task == "reconstruction" and d.val_y is d.val_x and d.train_y is d.train_x
    assert t.for_task("mlp", data)[1].val_y is data.val_y  # classification keeps its labels
    torch.manual_seed(0)
    net = build_model("autoencoder", DIGITS, hidden=[32], latent=2)
    loss, acc = t.evaluate(net, loss_for_task(task), d.val_x, d.val_y, task, batch_size=100)
    with torch.no_grad():
        expected = float(((net(data.val_x) - data.val_x) ** 2).mean())
    assert acc is None and loss == pytest.approx(expected, rel=1e-5)


def test_the_preset_halves_the_validation_loss():
    """The lesson's preset (6 epochs on the digits' 1,438 training images, a few seconds on a CPU)
    ends with a validation MSE under half the untrained network's."""
    config = ae.preset_config({"device": "cpu"})
    data = t.load_on_device("digits", "cpu")
    task, d = t.for_task(config.model, data)
    before, _ = t.evaluate(t.init_model(config, data.info, "cpu"), loss_for_task(task), d.val_x, d.val_y, task)
    epochs = [e for e in t.train(config) if isinstance(e, t.EpochEnd)]
    assert len(epochs) == config.epochs == 6
    assert all(e.val_acc is None and e.train_acc is None for e in epochs)
    assert before > 0.9  # standardized pixels: an untrained net's output is ~0, so the MSE is ~their variance
    assert epochs[-1].val_loss < 0.5 * before
    assert epochs[-1].val_loss < 0.35  # the lesson's [target] val_loss_below


def test_latent_json_points_are_the_encoders_outputs_on_the_validation_set(runs, monkeypatch):
    store, two, _, _ = runs
    monkeypatch.setenv("DLLAB_HOME", str(store.path.parent))
    result = runner.invoke(app, ["latent", str(two), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    codes, labels, model = _reference_codes(store, two)
    assert data["latent"] == 2 and data["projection"] == "none" and data["run"] == two
    assert len(data["points"]) == len(labels) == 359
    got = torch.tensor([[p["x"], p["y"]] for p in data["points"]])
    assert torch.allclose(got, codes, atol=1e-5)
    assert [p["label"] for p in data["points"]] == labels.tolist()
    val = load_dataset("digits").val_x
    with torch.no_grad():
        assert data["val_loss"] == pytest.approx(float(F.mse_loss(model(val), val)), rel=1e-5)


def test_a_wider_code_is_projected_by_pca(runs):
    from sklearn.decomposition import PCA

    store, _, three, _ = runs
    space = ae.run_latent(three, store)
    codes, labels, _ = _reference_codes(store, three)
    pca = PCA(n_components=2).fit(codes.double().numpy())
    expected = torch.tensor(pca.transform(codes.double().numpy()))
    got = torch.tensor([[p.x, p.y] for p in space.points], dtype=torch.float64)
    signs = torch.sign((got * expected).sum(0))  # PCA axes are defined up to their sign
    assert space.projection == "pca" and space.latent == 3
    assert torch.allclose(got, expected * signs, atol=1e-4)
    assert space.explained == pytest.approx(tuple(pca.explained_variance_ratio_), rel=1e-4)
    assert "principal components" in space.describe()


def test_reconstructions_are_the_models_outputs(runs):
    store, two, _, _ = runs
    model, config = ae.load_autoencoder(two, store)
    rec = ae.reconstructions(model, config, [0, 5, 358])
    _, labels, ref = _reference_codes(store, two)
    val = load_dataset("digits").val_x
    with torch.no_grad():
        out = ref(val[[0, 5, 358]])
    assert torch.allclose(rec.outputs, out, atol=1e-6)
    assert rec.labels == tuple(labels[[0, 5, 358]].tolist())
    assert rec.errors == pytest.approx([float(F.mse_loss(o, i)) for o, i in zip(out, val[[0, 5, 358]])], rel=1e-5)
    assert ae.thumbnail(rec.inputs, 14).shape == (3, 1, 14, 14)
    with pytest.raises(ConfigError) as err:
        ae.reconstructions(model, config, [359])
    assert err.value.field == "sample" and "0 to 358" in str(err.value)


@pytest.mark.parametrize("which, text", [("mlp", "trained mlp, not an autoencoder"),
                                        ("missing", "no run with id 999")])
def test_cli_other_runs_are_one_line_errors(runs, monkeypatch, which, text):
    store, _, _, mlp = runs
    monkeypatch.setenv("DLLAB_HOME", str(store.path.parent))
    result = runner.invoke(app, ["latent", str(mlp if which == "mlp" else 999)])
    assert result.exit_code == 2
    assert text in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_cli_train_takes_latent_for_the_autoencoder_only():
    result = runner.invoke(app, ["train", "--model", "mlp", "--latent", "2", "--epochs", "1"])
    assert result.exit_code == 2 and "latent" in result.output
    result = runner.invoke(app, ["train", "--model", "autoencoder", "--latent", "0", "--epochs", "1"])
    assert result.exit_code == 2 and "latent" in result.output
    result = runner.invoke(app, ["train", "--model", "autoencoder", "--latent", "3", "--hidden", "16", "--epochs", "1",
                                 "--device", "cpu", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["epochs"][0]["val_acc"] is None and data["epochs"][0]["val_loss"] > 0


def test_scatter_pixels_majority_label_y_up():
    points = [ae.Point(0.0, 0.0, 3), ae.Point(0.0, 0.0, 1), ae.Point(0.0, 0.0, 1), ae.Point(1.0, 1.0, 7)]
    box = (0.0, 1.0, 0.0, 1.0)
    grid = ae.scatter_pixels(points, 4, 2, box)
    assert grid[1][0] == 1  # bottom left: two 1s beat one 3
    assert grid[0][3] == 7  # top right (the largest y is the top row)
    assert sum(v >= 0 for row in grid for v in row) == 2
    assert ae.scatter_pixels([ae.Point(0, 0, 5), ae.Point(0, 0, 2)], 1, 1, box) == [[2]]  # a tie: the smaller
    lo_x, hi_x, lo_y, hi_y = ae.bounds(points)
    assert lo_x < 0 < 1 < hi_x and lo_y < 0 < 1 < hi_y


def test_the_lessons_preset_is_the_one_the_explorer_trains():
    from tui_lab.lessons import find_lesson

    lesson = find_lesson("autoencoders")
    assert lesson is not None and lesson.tool == "latent"
    assert lesson.preset == ae.PRESET
    assert lesson.target == {"val_loss_below": 0.35}
