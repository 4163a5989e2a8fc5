"""Attention weights of a trained Transformer run, and the arithmetic of one of them, step by step.

`explore(model, tokens)` runs one sequence through a `models.TransformerEncoder` with a forward hook
on every `MultiHeadSelfAttention` module and returns an `AttentionMaps`: the tokens, the target, the
prediction at every position, and for each layer the input the layer read and its attention
weights, (heads, queries, keys), every row a softmax summing to 1. `run_attention(run_id, sample)`
loads a run's checkpoint (`training.load_checkpoint`, weights only) and validation sample N of its
data set. `cell_steps(maps, model, layer, head, query, key)` recomputes one weight from the layer's
weights and input the way the lessons write it: q = x W_q (the head's slice), k likewise,
q.k / sqrt(d), the softmax over the query's row, and the head's output for that query, the
weighted sum of the value vectors. `train_quick_transformer(store)` trains the `reverse` preset
(seconds on a CPU) and records the run, so there is always one to look at.
No UI imports; torch is imported inside the functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from tui_lab.errors import ConfigError

QUICK_TRANSFORMER = {"model": "transformer", "dataset": "reverse", "optimizer": "adam", "lr": 0.003, "epochs": 3,
                     "batch_size": 64, "seed": 0}
TRAIN_HINT = "train one: dllab train --model transformer --dataset reverse --lr 0.003 --epochs 3"


@dataclass(frozen=True)
class LayerAttention:
    name: str  # the attention module's path in the model, e.g. "blocks.0.attention"
    input: Any  # torch.Tensor (tokens, width): what the layer read (embeddings + positions, or the block before)
    weights: Any  # torch.Tensor (heads, queries, keys)

    @property
    def heads(self) -> int:
        return int(self.weights.shape[0])


@dataclass(frozen=True)
class AttentionMaps:
    tokens: tuple[int, ...]
    target: tuple[int, ...] | None
    prediction: tuple[int, ...]
    layers: tuple[LayerAttention, ...]
    sample: int = 0
    run_id: int | None = None

    @property
    def length(self) -> int:
        return len(self.tokens)

    @property
    def right(self) -> int | None:
        """Positions predicted right (None without a target)."""
        if self.target is None:
            return None
        return sum(p == t for p, t in zip(self.prediction, self.target))

    def to_json(self) -> dict[str, Any]:
        return {"run": self.run_id, "sample": self.sample, "tokens": list(self.tokens),
                "target": None if self.target is None else list(self.target), "prediction": list(self.prediction),
                "layers": [{"name": layer.name, "heads": layer.weights.tolist()} for layer in self.layers]}


def attention_modules(model) -> dict[str, Any]:
    """name -> MultiHeadSelfAttention module, in the model's order."""
    from tui_lab.models import MultiHeadSelfAttention

    return {n: m for n, m in model.named_modules() if isinstance(m, MultiHeadSelfAttention)}


def explore(model, tokens, target=None, sample: int = 0, run_id: int | None = None) -> AttentionMaps:
    """One forward pass of `tokens` (one sequence of ids, no batch axis) with a hook on every attention layer."""
    import torch

    modules = attention_modules(model)
    if not modules:
        raise ConfigError("run", f"this model has no attention layers; attention needs a transformer run ({TRAIN_HINT})")
    model.eval()
    seen: list[LayerAttention] = []
    hooks = []
    for name, module in modules.items():
        def hook(mod, inputs, output, name=name):
            seen.append(LayerAttention(name, inputs[0].detach()[0].float().cpu(),
                                       mod.attention_weights[0].float().cpu()))
        hooks.append(module.register_forward_hook(hook))
    x = torch.as_tensor(tokens).long().reshape(1, -1)
    try:
        with torch.no_grad():
            logits = model(x)
    finally:
        for h in hooks:
            h.remove()
    prediction = tuple(int(v) for v in logits[0].argmax(-1))
    tgt = None if target is None else tuple(int(v) for v in torch.as_tensor(target).reshape(-1))
    return AttentionMaps(tuple(int(v) for v in x[0]), tgt, prediction, tuple(seen), sample, run_id)


def load_transformer_run(run_id: int, store=None):
    """(model, TrainConfig) of a finished transformer run with a checkpoint, on the CPU."""
    from tui_lab.features import load_run
    from tui_lab.runs import RunStore

    store = store or RunStore()
    summary = store.get_run(run_id).summary
    if summary.model != "transformer":
        raise ConfigError("run", f"run {run_id} trained {summary.model or 'no model'}; attention needs a transformer "
                                 f"run ({TRAIN_HINT})")
    return load_run(run_id, store)


def sequence_sample(dataset: str, index: int):
    """(tokens, target) of validation sample `index` of a token data set."""
    from tui_lab.data import load_dataset

    data: Any = load_dataset(dataset)
    n = len(data.val_x)
    if not 0 <= index < n:
        raise ConfigError("sample", f"must be a whole number from 0 to {n - 1} (the {dataset} validation set), got {index}")
    return data.val_x[index], data.val_y[index]


def run_attention(run_id: int, sample: int = 0, store=None) -> AttentionMaps:
    """Every layer's and head's attention for validation sample `sample` through run `run_id`'s checkpoint."""
    model, config = load_transformer_run(run_id, store)
    tokens, target = sequence_sample(config.dataset, sample)
    return explore(model, tokens, target, sample, run_id)


def newest_transformer_runs(store, limit: int = 200) -> list[int]:
    """Finished transformer runs with a checkpoint, newest first."""
    from pathlib import Path

    return [run.id for run in store.list_runs(limit=limit)
            if run.status == "finished" and run.model == "transformer" and run.checkpoint
            and Path(run.checkpoint).exists()]


def train_quick_transformer(store=None, epochs: int | None = None, cancel=None, threads: int | str = "auto") -> int:
    """Train the transformer on `reverse` (seconds on a CPU) into the run store; its run id. `threads` as in
    TrainConfig: a fixed number gives the same weights however busy the machine is (tests, snapshots)."""
    from tui_lab.features import _train_config
    from tui_lab.recording import record
    from tui_lab.runs import RunStore
    from tui_lab.training import Finished, train

    store = store or RunStore()
    settings = dict(QUICK_TRANSFORMER, threads=threads)
    if epochs is not None:
        settings["epochs"] = epochs
    config = _train_config(settings).validated()
    run_id = store.create_run(config.to_dict())
    events = train(config, checkpoint_path=store.checkpoint_path(run_id), cancel=cancel)
    if not any(isinstance(e, Finished) for e in record(store, run_id, events)):
        raise ConfigError("run", f"the quick transformer run {run_id} did not finish")
    return run_id


# --- one weight, step by step ----------------------------------------------------------------------


@dataclass(frozen=True)
class CellSteps:
    """Weight (query, key) of one head, and that head's output for the query, from the real numbers."""

    layer: int
    head: int
    query: int
    key: int
    head_dim: int
    q: tuple[float, ...]  # the query's vector in this head: x[query] W_q^T, the head's slice
    k: tuple[float, ...]  # the key's vector
    dot: float  # q . k
    scores: tuple[float, ...]  # the query's row: q . k_j / sqrt(d) for every key j
    exps: tuple[float, ...]  # exp(score_j - max score): the softmax's numerators (the max keeps exp finite)
    weights: tuple[float, ...]  # exps / their sum: the attention row, summing to 1
    values: tuple[tuple[float, ...], ...]  # v_j for every key j (x[j] W_v^T, the head's slice)
    output: tuple[float, ...]  # sum_j weights_j v_j: the head's output for this query (before W_o)

    @property
    def scaled(self) -> float:
        return self.scores[self.key]

    @property
    def weight(self) -> float:
        return self.weights[self.key]

    def to_json(self) -> dict[str, Any]:
        return {"layer": self.layer, "head": self.head, "query": self.query, "key": self.key,
                "head_dim": self.head_dim, "q": list(self.q), "k": list(self.k), "dot": self.dot,
                "scaled": self.scaled, "scores": list(self.scores), "exps": list(self.exps),
                "weights": list(self.weights), "weight": self.weight, "values": [list(v) for v in self.values],
                "output": list(self.output)}


def _index(field: str, value: int, high: int, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < high:
        raise ConfigError(field, f"must be a whole number from 0 to {high - 1} ({what}), got {str(value)[:40]}")
    return value


def cell_steps(maps: AttentionMaps, model, layer: int, head: int, query: int, key: int) -> CellSteps:
    """The arithmetic of weight (query, key) of head `head` in layer `layer` (all 0-based)."""
    import torch

    modules = list(attention_modules(model).values())
    _index("layer", layer, len(modules), f"{len(modules)} attention layers")
    module = modules[layer]
    _index("head", head, module.heads, f"{module.heads} heads per layer")
    t = maps.length
    _index("query", query, t, f"{t} tokens")
    _index("key", key, t, f"{t} tokens")
    x = maps.layers[layer].input.double()
    d = module.head_dim
    part = slice(head * d, (head + 1) * d)
    with torch.no_grad():
        wq, wk, wv = (w.weight.detach().double()[part] for w in (module.W_q, module.W_k, module.W_v))
    q_all, k_all, v_all = x @ wq.T, x @ wk.T, x @ wv.T  # (tokens, d) each
    q = q_all[query]
    scores = [float(q @ k_all[j]) / math.sqrt(d) for j in range(t)]
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = math.fsum(exps)
    weights = [e / total for e in exps]
    values = [tuple(float(v) for v in v_all[j]) for j in range(t)]
    output = tuple(math.fsum(weights[j] * values[j][i] for j in range(t)) for i in range(d))
    return CellSteps(layer, head, query, key, d, tuple(float(v) for v in q), tuple(float(v) for v in k_all[key]),
                     float(q @ k_all[key]), tuple(scores), tuple(exps), tuple(weights), tuple(values), output)
