"""Attention and the Transformer: the `reverse` data set and its per-token task, the zoo's transformer,
and a trained run's attention weights (core and `dllab attention`), checked against PyTorch itself."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from typer.testing import CliRunner

from tui_lab import attention as at
from tui_lab.cli import app
from tui_lab.data import dataset_info, load_dataset
from tui_lab.errors import ConfigError
from tui_lab.features import _train_config
from tui_lab.models import MultiHeadSelfAttention, build_model, check_model_options, sinusoidal_positions
from tui_lab.optimizers import loss_for_task
from tui_lab.runs import RunStore
from tui_lab.training import EpochEnd, TrainConfig, evaluate, load_checkpoint, train

runner = CliRunner()


# --- the data set and the task ------------------------------------------------------------------


def test_reverse_is_token_sequences_and_their_reversal():
    data = load_dataset("reverse")
    info = data.info
    assert (info.kind, info.task, info.input_shape, info.num_classes, info.output_dim) == \
        ("tokens", "sequence", (8,), 10, 10)
    assert data.train_x.shape == (4000, 8) and data.val_x.shape == (1000, 8)
    assert data.train_x.dtype == data.train_y.dtype == torch.int64
    assert torch.equal(data.train_y, data.train_x.flip(1)) and torch.equal(data.val_y, data.val_x.flip(1))
    assert set(data.train_x.unique().tolist()) == set(range(10))
    assert torch.equal(load_dataset("reverse").val_x, data.val_x)  # a fixed split


def test_the_sequence_loss_is_cross_entropy_over_every_token():
    torch.manual_seed(0)
    out, y = torch.randn(5, 8, 10), torch.randint(0, 10, (5, 8))
    want = nn.CrossEntropyLoss()(out.permute(0, 2, 1), y)  # torch's (batch, classes, positions) layout
    torch.testing.assert_close(loss_for_task("sequence")(out, y), want)
    assert isinstance(loss_for_task("classification"), nn.CrossEntropyLoss)
    assert isinstance(loss_for_task("regression"), nn.MSELoss)


class _Fixed(nn.Module):
    """Returns stored logits batch by batch (evaluate slices its input)."""

    def __init__(self, logits):
        super().__init__()
        self.logits, self.at = logits, 0

    def forward(self, x):
        out = self.logits[self.at:self.at + len(x)]
        self.at += len(x)
        return out


def test_accuracy_of_a_sequence_task_is_per_token_and_classification_is_unchanged():
    torch.manual_seed(1)
    logits, y = torch.randn(37, 8, 10), torch.randint(0, 10, (37, 8))
    loss, acc = evaluate(_Fixed(logits), loss_for_task("sequence"), torch.zeros(37, 8), y, "sequence", batch_size=10)
    assert acc == pytest.approx((logits.argmax(-1) == y).float().mean().item(), abs=1e-6)
    assert loss == pytest.approx(F.cross_entropy(logits.reshape(-1, 10), y.reshape(-1)).item(), rel=1e-5)
    logits2, y2 = torch.randn(37, 10), torch.randint(0, 10, (37,))
    _, acc2 = evaluate(_Fixed(logits2), loss_for_task("classification"), torch.zeros(37, 2), y2, "classification",
                       batch_size=10)
    assert acc2 == pytest.approx((logits2.argmax(-1) == y2).float().mean().item())
    _, none = evaluate(_Fixed(torch.randn(37, 1)), loss_for_task("regression"), torch.zeros(37, 2),
                       torch.randn(37, 1), "regression")
    assert none is None


# --- the model ------------------------------------------------------------------------------------


def test_multi_head_attention_equals_torch_sdpa_and_nn_multiheadattention():
    torch.manual_seed(2)
    mha = MultiHeadSelfAttention(16, 4)
    x = torch.randn(3, 8, 16)
    out = mha(x)
    q, k, v = (mha.split(w(x)) for w in (mha.W_q, mha.W_k, mha.W_v))
    sdpa = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(3, 8, 16)
    torch.testing.assert_close(out, mha.W_o(sdpa))
    ref = nn.MultiheadAttention(16, 4, bias=False, batch_first=True)
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.cat([mha.W_q.weight, mha.W_k.weight, mha.W_v.weight]))
        ref.out_proj.weight.copy_(mha.W_o.weight)
    ref_out, ref_weights = ref(x, x, x, need_weights=True, average_attn_weights=False)
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(mha.attention_weights, ref_weights)
    torch.testing.assert_close(mha.attention_weights.sum(-1), torch.ones(3, 4, 8))


def test_positional_encoding_is_the_papers_sin_cos():
    p = sinusoidal_positions(8, 6)
    for pos in range(8):
        for i in range(3):
            assert float(p[pos, 2 * i]) == pytest.approx(math.sin(pos / 10000 ** (2 * i / 6)), abs=1e-6)
            assert float(p[pos, 2 * i + 1]) == pytest.approx(math.cos(pos / 10000 ** (2 * i / 6)), abs=1e-6)


def test_transformer_options_are_checked():
    assert check_model_options("transformer", {"heads": "2", "width": 32, "layers": 1}) == \
        {"heads": 2, "width": 32, "layers": 1}
    with pytest.raises(ConfigError, match="^heads: must divide the width"):
        check_model_options("transformer", {"heads": 3})
    with pytest.raises(ConfigError, match="^hidden: does not apply to model transformer"):
        check_model_options("transformer", {"hidden": 8})
    with pytest.raises(ConfigError, match="^model: lenet does not fit data set 'reverse'.*models for it: transformer"):
        build_model("lenet", dataset_info("reverse"))
    net = build_model("transformer", dataset_info("reverse"), width=32, heads=2, layers=3)
    assert len(at.attention_modules(net)) == 3


def test_the_quick_preset_learns_reverse_to_95_percent_per_token():
    """The lesson's preset (the attention screen's quick run is the same settings) on the CPU."""
    from tui_lab.lessons import find_lesson

    lesson = find_lesson("transformer-reverse")
    assert lesson is not None and lesson.target == {"val_acc": 0.95}
    assert {k: lesson.preset[k] for k in ("model", "dataset", "optimizer", "lr", "epochs", "batch_size")} == \
        {k: v for k, v in at.QUICK_TRANSFORMER.items() if k != "seed"}
    config = replace(_train_config(at.QUICK_TRANSFORMER), device="cpu")
    epochs = [e for e in train(config) if isinstance(e, EpochEnd)]
    assert len(epochs) == 3 and epochs[-1].val_acc >= 0.95
    assert epochs[0].train_loss > 5 * epochs[-1].train_loss


# --- a trained run's attention --------------------------------------------------------------------


@pytest.fixture(scope="module")
def transformer_run(tmp_path_factory):
    """One quick transformer run (1 epoch, ~99% per token) in a store of its own."""
    home = tmp_path_factory.mktemp("attention-home")
    store = RunStore(home / "runs.sqlite3")  # where DLLAB_HOME=home puts it, for the CLI tests
    return store, at.train_quick_transformer(store, epochs=1), home


def _hooked(store, run_id, sample):
    """The checkpoint loaded on its own; our hooks record what each attention layer read, and the
    weights are recomputed from its W_q, W_k in float64, independently of the module's forward."""
    summary = store.get_run(run_id).summary
    model = load_checkpoint(summary.checkpoint, TrainConfig(**{k: summary.config[k] for k in
                                                               ("model", "dataset", "model_options")}))
    model.eval()
    inputs: list[torch.Tensor] = []
    for module in at.attention_modules(model).values():
        module.register_forward_pre_hook(lambda m, args: inputs.append(args[0][0].detach()))
    x = load_dataset("reverse").val_x[sample]
    with torch.no_grad():
        logits = model(x[None])
    weights = []
    for module, xin in zip(at.attention_modules(model).values(), inputs):
        d = module.head_dim
        x64 = xin.double()
        with torch.no_grad():
            q = (x64 @ module.W_q.weight.double().T).reshape(-1, module.heads, d).transpose(0, 1)
            k = (x64 @ module.W_k.weight.double().T).reshape(-1, module.heads, d).transpose(0, 1)
        weights.append(torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d), dim=-1))
    return model, inputs, weights, logits[0].argmax(-1).tolist()


def test_attention_json_rows_sum_to_one_and_equal_the_hooks(transformer_run, monkeypatch):
    store, run_id, home = transformer_run
    monkeypatch.setenv("DLLAB_HOME", str(home))
    result = runner.invoke(app, ["attention", str(run_id), "--sample", "5", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    val = load_dataset("reverse")
    assert data["tokens"] == val.val_x[5].tolist() and data["target"] == val.val_y[5].tolist()
    _, _, weights, prediction = _hooked(store, run_id, 5)
    assert data["prediction"] == prediction
    assert len(data["layers"]) == len(weights) == 2
    for layer, ref in zip(data["layers"], weights):
        got = torch.tensor(layer["heads"], dtype=torch.float64)
        assert got.shape == (4, 8, 8)
        torch.testing.assert_close(got.sum(-1), torch.ones(4, 8, dtype=torch.float64), atol=1e-5, rtol=0)
        torch.testing.assert_close(got, ref, atol=1e-5, rtol=0)


def test_a_trained_run_attends_to_the_mirrored_position(transformer_run):
    """Reversing needs output position i to read input position 7 - i: the last layer's heads put most of
    their weight there (averaged over heads), which is what the screen shows as an anti-diagonal."""
    store, run_id, _ = transformer_run
    maps = at.run_attention(run_id, 0, store)
    assert maps.right is not None and maps.right >= 7
    last = maps.layers[-1].weights.mean(0)
    assert [int(row.argmax()) for row in last] == [7 - i for i in range(8)]


def test_cell_steps_rebuild_a_weight_and_the_heads_output(transformer_run):
    store, run_id, _ = transformer_run
    maps = at.run_attention(run_id, 3, store)
    model, inputs, weights, _ = _hooked(store, run_id, 3)
    module = list(at.attention_modules(model).values())[1]
    steps = at.cell_steps(maps, model, 1, 2, 4, 3)
    assert steps.weight == pytest.approx(float(maps.layers[1].weights[2, 4, 3]), abs=1e-6)
    assert steps.weight == pytest.approx(float(weights[1][2, 4, 3]), abs=1e-9)
    assert math.fsum(steps.weights) == pytest.approx(1.0, abs=1e-12)
    assert steps.scaled == pytest.approx(steps.dot / math.sqrt(steps.head_dim))
    x = inputs[1][None]
    q, k, v = (module.split(w(x)) for w in (module.W_q, module.W_k, module.W_v))
    head_out = F.scaled_dot_product_attention(q, k, v)[0, 2, 4]  # head 2's output for query 4
    torch.testing.assert_close(torch.tensor(steps.output, dtype=torch.float32), head_out, atol=1e-4, rtol=1e-4)
    with pytest.raises(ConfigError, match="^head: must be a whole number from 0 to 3"):
        at.cell_steps(maps, model, 0, 4, 0, 0)


def test_cli_errors_are_one_line(transformer_run, monkeypatch):
    store, run_id, home = transformer_run
    monkeypatch.setenv("DLLAB_HOME", str(home))
    other = store.create_run(TrainConfig(model="mlp", dataset="moons").to_dict())
    for args, text in ((["attention", str(other)], "error: run: run"),
                       (["attention", str(run_id), "--sample", "1000"], "error: sample: must be a whole number from 0 to 999"),
                       (["attention", str(run_id), "--cell", "0,1"], "error: cell: four whole numbers"),
                       (["attention", str(run_id), "--cell", "0,0,0,9"], "error: key: must be a whole number from 0 to 7"),
                       (["attention", "4242"], "error: run: no run with id 4242")):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and result.output.startswith(text), (args, result.output)
        assert len(result.output.strip().splitlines()) == 1
    result = runner.invoke(app, ["attention", str(run_id), "--sample", "2", "--cell", "1,0,2,5"])
    assert result.exit_code == 0 and "layer 1 head 0, query 2 -> key 5" in result.output
