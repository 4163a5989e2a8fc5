"""Feature maps: every layer's output for one sample, from a trained run's checkpoint.

`explore(model, x)` runs one forward pass with a forward hook on every leaf module and returns a
`FeatureMaps`: each layer's name (its path in the model, as `named_modules` gives it), kind, shape
and output, and the softmax of the logits with the prediction. `run_features(run_id, sample)`
loads the run's model (`training.load_checkpoint`, weights only) and its data set's validation
sample N. `train_quick_lenet(store)` trains LeNet (ReLU, max pooling) on the embedded digits in seconds and records the
run, so there is always a run to explore. `conv_preset(maps, model, layer, out_channel, row, col)`
is the convolution stepper's preset for one output cell of a conv layer: the real input window
(padding included as zeros), the real kernel slice of that output channel and its bias.
No UI imports; torch is imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from tui_lab.errors import ConfigError

QUICK_LENET = {"model": "lenet-relu", "dataset": "digits", "optimizer": "adam", "lr": 0.01, "epochs": 2,
               "batch_size": 64, "seed": 0}


@dataclass(frozen=True)
class Layer:
    name: str  # the module's path, e.g. "0" or "features.3"
    kind: str  # the module's class, e.g. "Conv2d"
    shape: tuple[int, ...]  # the output's shape for one sample (no batch axis)
    values: Any  # torch.Tensor, the output for the sample (float32, cpu)

    @property
    def is_map(self) -> bool:
        """True for a (channels, height, width) output: drawn as one small map per channel."""
        return len(self.shape) == 3

    def summary(self) -> dict[str, Any]:
        v = self.values
        return {"name": self.name, "kind": self.kind, "shape": list(self.shape),
                "min": float(v.min()), "max": float(v.max()), "mean": float(v.mean())}


@dataclass(frozen=True)
class FeatureMaps:
    input: Any  # torch.Tensor (C, H, W) or (features,): the sample
    label: int | None
    layers: tuple[Layer, ...]
    probabilities: tuple[float, ...]
    prediction: int
    classes: tuple[str, ...] = ()
    sample: int = 0
    run_id: int | None = None

    def layer(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ConfigError("layer", f"no layer {name!r}; layers: {', '.join(layer.name for layer in self.layers)}")

    def to_json(self, layer: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "run": self.run_id, "sample": self.sample, "label": self.label, "prediction": self.prediction,
            "probabilities": list(self.probabilities), "layers": [layer.summary() for layer in self.layers],
        }
        if layer is not None:
            chosen = self.layer(layer)
            out["layer"] = chosen.name
            out["values"] = chosen.values.tolist()
        return out


def explore(model, x, label: int | None = None, sample: int = 0, run_id: int | None = None,
            classes: tuple[str, ...] = ()) -> FeatureMaps:
    """One forward pass of `x` (one sample, no batch axis) with a hook on every leaf module."""
    import torch

    model.eval()
    outputs: list[tuple[str, str, Any]] = []
    hooks = []
    for name, module in model.named_modules():
        if name and not list(module.children()):
            def hook(mod, inputs, output, name=name):
                outputs.append((name, type(mod).__name__, output.detach()[0].float().cpu()))
            hooks.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            logits = model(x.unsqueeze(0))
    finally:
        for h in hooks:
            h.remove()
    probs = torch.softmax(logits[0].float(), 0)
    layers = tuple(Layer(n, k, tuple(v.shape), v) for n, k, v in outputs)
    return FeatureMaps(x, label, layers, tuple(probs.tolist()), int(probs.argmax()), classes, sample, run_id)


def _train_config(config: dict[str, Any]):
    from tui_lab.training import TrainConfig

    names = {f.name for f in fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in config.items() if k in names})


def load_run(run_id: int, store=None):
    """(model, TrainConfig) of a finished run with a checkpoint, on the CPU."""
    from tui_lab.runs import RunStore
    from tui_lab.training import load_checkpoint

    store = store or RunStore()
    summary = store.get_run(run_id).summary
    if not summary.checkpoint or not Path(summary.checkpoint).exists():
        raise ConfigError("run", f"run {run_id} has no checkpoint (status {summary.status}); "
                                 "pick a finished training run (see `dllab runs`)")
    config = _train_config(summary.config)
    try:
        model = load_checkpoint(summary.checkpoint, config)
    except ConfigError:
        raise
    except Exception as exc:  # a checkpoint that does not match its model, or a damaged file
        raise ConfigError("run", f"run {run_id}'s checkpoint could not be loaded ({type(exc).__name__})") from None
    return model, config


def sample_of(dataset: str, index: int):
    """(x, label, classes) of validation sample `index` of a data set."""
    from tui_lab.data import load_dataset

    data: Any = load_dataset(dataset)
    n = len(data.val_x)
    if not 0 <= index < n:
        raise ConfigError("sample", f"must be a whole number from 0 to {n - 1} (the {dataset} validation set), got {index}")
    return data.val_x[index].float(), int(data.val_y[index]), tuple(data.info.classes or ())


def run_features(run_id: int, sample: int = 0, store=None) -> FeatureMaps:
    """Every layer's output for validation sample `sample` through run `run_id`'s checkpoint."""
    model, config = load_run(run_id, store)
    x, label, classes = sample_of(config.dataset, sample)
    return explore(model, x, label, sample, run_id, classes)


def train_quick_lenet(store=None, epochs: int = 2, cancel=None, threads: int | str = "auto") -> int:
    """Train LeNet on the embedded digits (a few seconds on a CPU) into the run store; its run id.
    `threads=1` gives the same weights on any machine (tests and snapshots)."""
    from tui_lab.recording import record
    from tui_lab.runs import RunStore
    from tui_lab.training import Finished, train

    store = store or RunStore()
    config = _train_config(dict(QUICK_LENET, epochs=epochs, threads=threads)).validated()
    run_id = store.create_run(config.to_dict())
    events = train(config, checkpoint_path=store.checkpoint_path(run_id), cancel=cancel)
    if not any(isinstance(e, Finished) for e in record(store, run_id, events)):
        raise ConfigError("run", f"the quick LeNet run {run_id} did not finish")
    return run_id


def conv_layers(model) -> dict[str, Any]:
    """name -> nn.Conv2d, in the model's order."""
    from torch import nn

    return {n: m for n, m in model.named_modules() if isinstance(m, nn.Conv2d)}


def conv_input(maps: FeatureMaps, model, layer: str):
    """The tensor that conv layer `layer` read: the sample, or the previous leaf's output."""
    names = [entry.name for entry in maps.layers]
    if layer not in names:
        raise ConfigError("layer", f"no layer {layer!r}; layers: {', '.join(names)}")
    k = names.index(layer)
    return maps.input if k == 0 else maps.layers[k - 1].values


def conv_preset(maps: FeatureMaps, model, layer: str, out_channel: int, row: int, col: int) -> dict[str, Any]:
    """The stepper's preset for output cell (out_channel, row, col) of conv layer `layer`: the input
    window it reads (zeros where it hangs over the padding), that channel's kernel and bias. The
    stepper's one output cell is the layer's output there (a test checks it against the hook)."""
    convs = conv_layers(model)
    if layer not in convs:
        raise ConfigError("layer", f"{layer!r} is not a conv layer; conv layers: {', '.join(convs) or 'none'}")
    conv = convs[layer]
    if not all(not list(child.children()) for child in model.children()):
        raise ConfigError("layer", "the stepper takes its input from the layer before, which needs a model "
                                   "that is one chain of layers (lenet, lenet-relu, alexnet, vgg, nin)")
    if conv.groups != 1 or conv.dilation != (1, 1):
        raise ConfigError("layer", f"{layer} uses groups or dilation, which the stepper does not show")
    out = maps.layer(layer)
    o_n, oh, ow = out.shape
    for name, value, high in (("channel", out_channel, o_n), ("row", row, oh), ("col", col, ow)):
        if not 0 <= value < high:
            raise ConfigError(name, f"must be 0..{high - 1} for {layer} (output {o_n}x{oh}x{ow}), got {value}")
    x = conv_input(maps, model, layer)
    kh, kw = conv.kernel_size
    (sh, sw), (ph, pw) = conv.stride, conv.padding
    c, h, w = x.shape
    top, left = row * sh - ph, col * sw - pw
    window = [[[float(x[ch, r, q]) if 0 <= r < h and 0 <= q < w else 0.0
                for q in range(left, left + kw)] for r in range(top, top + kh)] for ch in range(c)]
    weight = conv.weight.detach().float()
    kernel = [[[[float(v) for v in krow] for krow in weight[out_channel, ch]] for ch in range(c)]]
    bias = [float(conv.bias.detach()[out_channel])] if conv.bias is not None else [0.0]
    return {"mode": "conv", "input": window, "kernel": kernel, "bias": bias,
            "title": f"{layer}: output channel {out_channel} at ({row}, {col}) of sample {maps.sample}, "
                     f"the real input window and kernel"}
