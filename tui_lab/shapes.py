"""Layer-by-layer shape traces: shapes, parameters, MACs, activation memory and receptive field.

`trace(spec, input_shape, dataset)` builds a model (zoo name, `torchvision:NAME`, a user's
`module:callable`, or one of the `DEMOS` below), runs one real forward pass with hooks on every module
and returns a frozen `ShapeTrace`. A failing forward pass still returns the rows up to the failure plus
a `Mismatch` that names the layer, the shape it got, what it expected and the fix.

What is counted (say it wherever totals are shown, see `MAC_NOTE`):
- MACs are multiply-accumulates of the weights for one example (batch 1): convolution
  `out_elements * in_channels/groups * prod(kernel)`, transposed convolution
  `in_elements * out_channels/groups * prod(kernel)`, linear `rows * in * out`, RNN/GRU/LSTM
  `steps * (all weight_ih/weight_hh elements)`, batch/layer/group norm one per element (scale and shift
  folded at inference). Bias additions, activations and pooling count 0. This is the convention of the
  seeds' Inception table (192x28x28 -> 256x28x28: 128 M / 346 M / 963 M).
- Parameters of a row are all parameters of that module, recursively (trainable and frozen apart);
  totals count each parameter tensor once, however often its module is called.
- Activation memory is the bytes of the tensors a module returns.
- The model is traced in eval mode (batch 1 cannot pass BatchNorm in training mode), with zeros of
  the model's dtype on the model's device; paths that only run in training (GoogLeNet's auxiliary
  heads) do not appear.
- Receptive field and jump (per spatial dimension) follow the conv/pool stack from the input
  (rf 1, jump 1): rf += (dilation*(k-1)) * jump, jump *= stride. Where branches meet (concatenation,
  residual addition) the larger field is kept.
"""

from __future__ import annotations

import difflib
import importlib
import math
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from tui_lab.errors import ConfigError, choice_error

MAC_NOTE = (
    "MACs: weight multiply-accumulates for one example (conv, linear, RNN/GRU/LSTM);\n"
    "norm layers 1 per element; bias, activations and pooling 0"
)
MAX_INPUT_ELEMENTS = 50_000_000
TORCHVISION_DEFAULT_INPUT = (3, 224, 224)


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerRow:
    """One call of one module during the forward pass (a module called twice gives two rows)."""

    index: int
    name: str  # qualified name, "" for the model itself
    type: str  # class name
    depth: int  # 0 for the model, 1 for its direct children, ...
    input_shape: tuple[int, ...] | None  # first tensor argument, batch dimension included
    output_shape: tuple[int, ...] | None  # first tensor returned; None when the call failed
    trainable_params: int  # recursive
    frozen_params: int  # recursive
    macs: int  # own MACs for a leaf, sum of the children for a container
    activation_bytes: int  # bytes of all tensors returned
    is_leaf: bool  # no module was called inside this one
    parent: int | None  # index of the enclosing row
    receptive_field: tuple[int, ...] | None = None  # per spatial dimension, in input pixels
    jump: tuple[int, ...] | None = None  # distance in input pixels between neighbouring outputs
    kernel_size: tuple[int, ...] | None = None  # conv/pool geometry, when the row is one
    stride: tuple[int, ...] | None = None
    padding: tuple[int, ...] | None = None
    dilation: tuple[int, ...] | None = None
    pool_mode: str | None = None  # "conv", "max", "avg", "adaptive-avg", ...
    formula: tuple[str, ...] = ()  # output-size arithmetic per spatial dimension, with its numbers
    counting: tuple[str, ...] = ()  # how params and MACs of this layer add up, with its numbers
    failed: bool = False  # the forward pass raised inside this call
    spatial: bool = True  # dims after (batch, channel) are space; False for Linear/RNN (features, steps)

    @property
    def params(self) -> int:
        return self.trainable_params + self.frozen_params

    @property
    def shrinks(self) -> bool:
        """True when the spatial size (dims after batch and channel) got smaller."""
        i, o = self.input_shape, self.output_shape
        if not self.spatial or not i or not o or len(i) < 3 or len(i) != len(o):
            return False
        return any(b < a for a, b in zip(i[2:], o[2:])) and all(b <= a for a, b in zip(i[2:], o[2:]))

    @property
    def is_spatial_op(self) -> bool:
        """A convolution or pooling row that the conv screen can show."""
        return self.kernel_size is not None


@dataclass(frozen=True)
class Mismatch:
    """Why the forward pass failed, said in the learner's terms."""

    layer: str  # qualified name ("" for the model's own forward)
    type: str
    input_shape: tuple[int, ...] | None
    expected: str | None  # what the layer wanted, e.g. "in_features=400"
    message: str  # one or two sentences
    fix: str | None  # e.g. "Linear(in_features=256)"


@dataclass(frozen=True)
class ShapeTrace:
    model: str
    input_shape: tuple[int, ...]  # as given, without the batch dimension
    rows: tuple[LayerRow, ...]
    total_params: int
    trainable_params: int
    frozen_params: int
    total_macs: int
    activation_bytes: int
    output_shape: tuple[int, ...] | None
    error: Mismatch | None = None

    def visible_rows(self, depth: int | None = None) -> list[LayerRow]:
        return [r for r in self.rows if depth is None or r.depth <= depth]

    def to_dict(self, depth: int | None = None) -> dict[str, Any]:
        """The JSON shape of `dllab shapes --json` (an error object added on a mismatch)."""
        out: dict[str, Any] = {
            "model": self.model,
            "input_shape": list(self.input_shape),
            "rows": [row_to_dict(r) for r in self.visible_rows(depth)],
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "frozen_params": self.frozen_params,
            "total_macs": self.total_macs,
            "activation_bytes": self.activation_bytes,
            "output_shape": _list(self.output_shape),
        }
        if self.error is not None:
            e = self.error
            out = {
                "error": {
                    "layer": e.layer,
                    "type": e.type,
                    "input_shape": _list(e.input_shape),
                    "expected": e.expected,
                    "message": e.message,
                    "fix": e.fix,
                },
                **out,
            }
        return out


def _list(shape):
    return None if shape is None else list(shape)


def row_to_dict(r: LayerRow) -> dict[str, Any]:
    return {
        "name": r.name,
        "type": r.type,
        "depth": r.depth,
        "input_shape": _list(r.input_shape),
        "output_shape": _list(r.output_shape),
        "params": r.params,
        "macs": r.macs,
        "trainable_params": r.trainable_params,
        "frozen_params": r.frozen_params,
        "activation_bytes": r.activation_bytes,
        "receptive_field": _list(r.receptive_field),
        "jump": _list(r.jump),
        "is_leaf": r.is_leaf,
        "formula": list(r.formula),
        "counting": list(r.counting),
    }


# --- parsing -----------------------------------------------------------------------------------


def parse_input_shape(text: str | tuple | list | None) -> tuple[int, ...]:
    """'1x28x28' -> (1, 28, 28). One to four positive integers, without the batch dimension."""
    if isinstance(text, (tuple, list)):
        parts = [str(p) for p in text]
        shown = "x".join(parts)
    else:
        shown = (text or "").strip()
        parts = re.split(r"\s*[x×X,*]\s*", shown) if shown else []
    allowed = "1 to 4 positive integers joined by 'x', like 1x28x28 (CxHxW) or 28x28 (steps x features)"
    if not parts or len(parts) > 4 or not all(p.strip().isdigit() for p in parts):
        raise ConfigError("input", f"expected {allowed}; got {shown!r}")
    shape = tuple(int(p) for p in parts)
    if any(s < 1 for s in shape):
        raise ConfigError("input", f"every size must be >= 1; got {shown!r}")
    if math.prod(shape) > MAX_INPUT_ELEMENTS:
        raise ConfigError("input", f"at most {MAX_INPUT_ELEMENTS:,} elements; got {shown!r} = {math.prod(shape):,}")
    return shape


def format_shape(shape) -> str:
    return "x".join(str(s) for s in shape) if shape else "-"


def format_count(n: int | None) -> str:
    """Compact count, truncated (not rounded) like the seeds' table: 1,228,800 -> '1.22M'."""
    if n is None:
        return "-"
    for unit, size in (("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if abs(n) >= size:
            value = math.floor(n / size * 100) / 100
            return f"{value:.2f}{unit}"
    return str(n)


def format_bytes(n: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


# --- demo modules (the seeds' comparisons) -----------------------------------------------------


def _demo_modules():
    from torch import nn
    import torch

    from tui_lab.models import Inception

    def InceptionDemo():
        """GoogLeNet's Inception (3a) as in the seeds: 192 -> 64 + 128 + 32 + 32 = 256 channels, weights
        only (bias=False), the way the seeds' table counts them."""
        return Inception(192, 64, (96, 128), (16, 32), 32, bias=False)

    class MismatchLeNet(nn.Module):
        """LeNet-5 as drawn for 32x32 inputs (no padding, Linear(400, 120)): fed 28x28 it breaks."""

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.pool1 = nn.AvgPool2d(2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.pool2 = nn.AvgPool2d(2)
            self.flatten = nn.Flatten()
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)
            self.act = nn.Sigmoid()

        def forward(self, x):
            x = self.pool1(self.act(self.conv1(x)))
            x = self.pool2(self.act(self.conv2(x)))
            x = self.flatten(x)
            return self.fc3(self.act(self.fc2(self.act(self.fc1(x)))))

    class TinyUNet(nn.Module):
        """A two-level U-Net: down by pooling, up by transposed convs, skip connections concatenated."""

        def __init__(self, in_channels=1, classes=2, width=16):
            super().__init__()

            def block(i, o):
                return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.ReLU(), nn.Conv2d(o, o, 3, padding=1), nn.ReLU())

            w = width
            self.enc1, self.enc2 = block(in_channels, w), block(w, 2 * w)
            self.pool = nn.MaxPool2d(2)
            self.bottleneck = block(2 * w, 4 * w)
            self.up2 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2)
            self.dec2 = block(4 * w, 2 * w)
            self.up1 = nn.ConvTranspose2d(2 * w, w, 2, stride=2)
            self.dec1 = block(2 * w, w)
            self.head = nn.Conv2d(w, classes, 1)

        def forward(self, x):
            e1 = self.enc1(x)
            e2 = self.enc2(self.pool(e1))
            b = self.bottleneck(self.pool(e2))
            d2 = self.dec2(torch.cat([self.up2(b), e2], dim=1))
            d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
            return self.head(d1)

    return nn, InceptionDemo, MismatchLeNet, TinyUNet


@dataclass(frozen=True)
class Demo:
    name: str
    description: str
    input_shape: tuple[int, ...]

    def build(self):
        """A fresh instance of the demo model."""
        return _demo(self.name)


def _demo(name: str):
    nn, InceptionDemo, MismatchLeNet, TinyUNet = _demo_modules()
    builders = {
        "inception-demo": lambda: InceptionDemo(),
        "conv3x3-demo": lambda: nn.Sequential(nn.Conv2d(192, 256, 3, padding=1, bias=False)),
        "conv5x5-demo": lambda: nn.Sequential(nn.Conv2d(192, 256, 5, padding=2, bias=False)),
        "reduction-demo": lambda: nn.Sequential(
            nn.Conv2d(128, 32, 1, bias=False), nn.ReLU(), nn.Conv2d(32, 256, 5, padding=2, bias=False)
        ),
        "direct5x5-demo": lambda: nn.Sequential(nn.Conv2d(128, 256, 5, padding=2, bias=False)),
        "stacked3x3-demo": lambda: nn.Sequential(
            nn.Conv2d(1, 1, 3, bias=False), nn.ReLU(), nn.Conv2d(1, 1, 3, bias=False)
        ),
        "single5x5-demo": lambda: nn.Sequential(nn.Conv2d(1, 1, 5, bias=False)),
        "dilated-demo": lambda: nn.Sequential(nn.Conv2d(1, 1, 3, dilation=2, bias=False)),
        "mismatch-demo": lambda: MismatchLeNet(),
        "unet-demo": lambda: TinyUNet(),
        "fcn-demo": lambda: nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 2, 1),  # a 1x1 conv in place of the dense classifier: one score map per class
            nn.ConvTranspose2d(2, 2, kernel_size=8, stride=4, padding=2),  # back up 4x to the input size
        ),
    }
    return builders[name]()


DEMOS: dict[str, Demo] = {
    d.name: d
    for d in (
        Demo("inception-demo", "Inception block 192x28x28 -> 256x28x28 (seeds: 0.16 M params, 128 M MACs)",
             (192, 28, 28)),
        Demo("conv3x3-demo", "one 3x3 conv 192 -> 256 channels (seeds: 0.44 M params, 346 M MACs)",
             (192, 28, 28)),
        Demo("conv5x5-demo", "one 5x5 conv 192 -> 256 channels (seeds: 1.22 M params, 963 M MACs)",
             (192, 28, 28)),
        Demo("reduction-demo", "1x1 reduction: 128 -> 32 (1x1) -> 256 (5x5): 1x1x128x32 + 5x5x32x256 weights",
             (128, 100, 100)),
        Demo("direct5x5-demo", "no reduction: 128 -> 256 (5x5): 5x5x128x256 weights, about 4x more",
             (128, 100, 100)),
        Demo("stacked3x3-demo", "two 3x3 convs: receptive field 5, like one 5x5", (1, 9, 9)),
        Demo("single5x5-demo", "one 5x5 conv: receptive field 5", (1, 9, 9)),
        Demo("dilated-demo", "3x3 conv with dilation 2: receptive field 5 with 9 weights", (1, 9, 9)),
        Demo("unet-demo", "a small U-Net: 32x32 down to 8x8 and back up, skip connections concatenated",
             (1, 32, 32)),
        Demo("fcn-demo", "a fully convolutional net: 1x1 conv scores, a transposed conv upsamples 4x",
             (1, 32, 32)),
        Demo("mismatch-demo", "LeNet-5 drawn for 32x32 fed a 28x28 image: Linear(400, 120) gets 256",
             (1, 28, 28)),
    )
}


# --- resolving a model spec --------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedModel:
    model: Any  # nn.Module
    default_input: tuple[int, ...]
    label: str
    kind: str  # "zoo" | "torchvision" | "user" | "demo"


def _allowed_specs() -> list[str]:
    from tui_lab.models import MODELS

    return [*MODELS, *DEMOS, "torchvision:NAME", "module:callable"]


def resolve_model(spec: str, dataset: str = "digits") -> ResolvedModel:
    """Build the model a spec names; raises ConfigError('model', ...) when it cannot."""
    text = (spec or "").strip()
    if not text:
        raise ConfigError("model", "missing; give a zoo name (lenet, resnet, ...), torchvision:NAME or module:callable")
    key = text.lower()
    if key in DEMOS:
        demo = DEMOS[key]
        return ResolvedModel(demo.build(), demo.input_shape, key, "demo")
    if key.startswith("torchvision:"):
        return _resolve_torchvision(text.split(":", 1)[1].strip())
    if ":" in text:
        return _resolve_user(text)
    from tui_lab.data import dataset_info
    from tui_lab.models import MODELS, build_model

    if key not in MODELS:
        raise choice_error("model", text, _allowed_specs())
    info = dataset_info(dataset)
    return ResolvedModel(build_model(key, info), tuple(info.input_shape), key, "zoo")


def _resolve_torchvision(name: str) -> ResolvedModel:
    import torchvision.models as tvm

    names = sorted(tvm.list_models(module=tvm))
    if name not in names:
        close = difflib.get_close_matches(name, names, n=5)
        hint = f"did you mean {', '.join(close)}?" if close else f"e.g. {', '.join(names[:6])}, ..."
        raise ConfigError("model", f"unknown torchvision classification model {name!r}; {hint} "
                                   "(all: torchvision.models.list_models())")
    kwargs: dict[str, Any] = {"weights": None}
    if name in ("googlenet", "inception_v3"):
        kwargs["aux_logits"] = False
        kwargs["init_weights"] = False
    model = tvm.get_model(name, **kwargs)
    default = (3, 299, 299) if name == "inception_v3" else TORCHVISION_DEFAULT_INPUT
    return ResolvedModel(model, default, f"torchvision:{name}", "torchvision")


def _resolve_user(text: str) -> ResolvedModel:
    from torch import nn

    module_name, _, attr = text.partition(":")
    module_name, attr = module_name.strip(), attr.strip()
    if not module_name or not attr:
        raise ConfigError("model", f"expected module:callable or module:Class, got {text!r}")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = sys.modules.get(module_name)
        if module is not None and _is_local(module, cwd):
            module = importlib.reload(module)  # the learner edited their file: trace the new version
        else:
            module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError("model", f"cannot import {module_name!r} from the current directory or PYTHONPATH ({exc})") from None
    except Exception as exc:  # the user's module raised while importing
        raise ConfigError("model", f"importing {module_name!r} failed: {type(exc).__name__}: {exc}") from None
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigError("model", f"{module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not isinstance(obj, nn.Module):
        if not callable(obj):
            raise ConfigError("model", f"{text!r} is neither an nn.Module nor callable")
        try:
            obj = obj()
        except Exception as exc:
            raise ConfigError("model", f"building {text!r} with no arguments failed: {type(exc).__name__}: {exc}") from None
        if not isinstance(obj, nn.Module):
            raise ConfigError("model", f"{text!r} returned {type(obj).__name__}, not an nn.Module")
    return ResolvedModel(obj, (1, 28, 28), text, "user")


def _is_local(module, cwd: str) -> bool:
    path = getattr(module, "__file__", None) or ""
    return bool(path) and os.path.abspath(path).startswith(os.path.abspath(cwd) + os.sep) and "site-packages" not in path


def trace(spec: str, input_shape: str | tuple | None = None, dataset: str = "digits") -> ShapeTrace:
    """Resolve `spec`, then trace it for `input_shape` (default: the data set's or the demo's)."""
    shape = parse_input_shape(input_shape) if input_shape not in (None, "") else None
    resolved = resolve_model(spec, dataset)
    return trace_model(resolved.model, shape or resolved.default_input, name=resolved.label)


# --- tracing -----------------------------------------------------------------------------------


@dataclass
class _Call:
    index: int
    module: Any
    name: str
    depth: int
    parent: int | None
    input_shape: tuple[int, ...] | None
    input_tensor: Any = None
    output_shape: tuple[int, ...] | None = None
    activation_bytes: int = 0
    own_macs: int = 0
    children: list[int] = field(default_factory=list)
    done: bool = False
    rf: tuple[int, ...] | None = None
    jump: tuple[int, ...] | None = None
    geometry: dict[str, Any] | None = None
    formula: tuple[str, ...] = ()
    counting: tuple[str, ...] = ()
    exc: BaseException | None = None  # what this call's forward raised, if it did
    produced: list[Any] = field(default_factory=list)  # rf entries registered inside this call


def _tensors(obj) -> list:
    import torch

    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in _tensors(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in _tensors(o)]
    if hasattr(obj, "data") and hasattr(obj, "batch_sizes"):  # PackedSequence
        return _tensors(obj.data)
    return []


def _ntuple(value, n: int) -> tuple:
    if isinstance(value, (tuple, list)):
        return tuple(value) if len(value) == n else tuple(value) * n if len(value) == 1 else tuple(value)
    return (value,) * n


def trace_model(model, input_shape: tuple[int, ...], *, name: str = "", batch_size: int = 1) -> ShapeTrace:
    """Run one forward pass of `model` on zeros of shape (batch_size, *input_shape) and record it."""
    import torch

    shape = parse_input_shape(input_shape)
    calls: list[_Call] = []
    stack: list[_Call] = []
    names = {id(m): n for n, m in model.named_modules()}
    rf_map: dict[int, tuple[Any, tuple[int, ...], tuple[int, ...]]] = {}  # id -> (tensor, rf, jump)

    # match the model's own dtype and device (a half-precision or GPU model traces as it is)
    first_param = next((p for p in model.parameters() if p.is_floating_point() and _numel(p)), None)
    x = torch.zeros(batch_size, *shape, dtype=first_param.dtype if first_param is not None else torch.float32,
                    device=first_param.device if first_param is not None else "cpu")
    if x.dim() >= 3:
        nd = x.dim() - 2
        rf_map[id(x)] = (x, (1,) * nd, (1,) * nd)

    def lookup_rf(t):
        entry = rf_map.get(id(t))
        if entry is not None and entry[0] is t:
            return entry[1], entry[2]
        return None

    def pre_hook(module, args, kwargs):
        tensors = _tensors(args) or _tensors(kwargs)
        first = tensors[0] if tensors else None
        parent = stack[-1] if stack else None
        call = _Call(
            index=len(calls), module=module, name=names.get(id(module), "?"), depth=len(stack),
            parent=parent.index if parent else None,
            input_shape=tuple(first.shape) if first is not None else None, input_tensor=first,
        )
        if parent is not None:
            parent.children.append(call.index)
        calls.append(call)
        stack.append(call)

    raised: list[_Call] = []  # calls whose forward raised, innermost first

    def post_hook(module, args, kwargs, output):
        # safety net: a call whose hooks never ran is dropped rather than misnesting the rest
        while len(stack) > 1 and stack[-1].module is not module:
            stack.pop()
        call = stack.pop()
        active = sys.exc_info()[1]
        if output is None and active is not None:  # always_call: this forward raised
            call.exc = active
            raised.append(call)
            return None
        outs = _tensors(output)
        call.done = True
        call.output_shape = tuple(outs[0].shape) if outs else None
        call.activation_bytes = sum(t.numel() * t.element_size() for t in outs)
        try:
            call.own_macs = _macs(module, call.input_tensor, outs[0] if outs else None)
            call.counting = _counting(module, call.input_tensor, outs[0] if outs else None, call.own_macs)
        except Exception:  # counting must never break a trace
            call.own_macs = 0
        try:
            _receptive(call, module, outs[0] if outs else None, lookup_rf, rf_map, calls)
        except Exception:  # an unusual layer: no receptive field rather than a broken trace
            call.rf = call.jump = None
        if stack:
            stack[-1].produced.extend(call.produced)
        call.input_tensor = None

    handles = []
    for m in model.modules():
        handles.append(m.register_forward_pre_hook(pre_hook, with_kwargs=True))
        handles.append(m.register_forward_hook(post_hook, with_kwargs=True, always_call=True))
    error: Mismatch | None = None
    failing: _Call | None = None
    output_shape = None
    was_training = model.training
    model.eval()  # batch 1 through BatchNorm in training mode would fail; shapes are the same
    try:
        with torch.no_grad():
            out = model(x)
        outs = _tensors(out)
        output_shape = tuple(outs[0].shape[1:]) if outs else None
    except Exception as exc:  # the learner's model: report, never crash
        # the innermost layer that raised this very exception (re-raised as is on the way out)
        same = [c for c in raised if c.exc is exc]
        failing = same[0] if same else (raised[0] if raised else (stack[-1] if stack else None))
        error = _diagnose(failing, exc, calls)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)

    rows = _rows(model, calls, failing_index=failing.index if (error and failing) else None)
    trainable = sum(_numel(p) for p in model.parameters() if p.requires_grad)
    total = sum(_numel(p) for p in model.parameters())
    total_macs = sum(c.own_macs for c in calls)
    act = sum(r.activation_bytes for r in rows if r.is_leaf)
    return ShapeTrace(
        model=name or type(model).__name__, input_shape=shape, rows=tuple(rows), total_params=total,
        trainable_params=trainable, frozen_params=total - trainable, total_macs=total_macs,
        activation_bytes=act, output_shape=output_shape, error=error,
    )


def _is_spatial(module) -> bool:
    from torch import nn

    return not isinstance(module, (nn.Linear, nn.Bilinear, nn.RNNBase, nn.Embedding, nn.MultiheadAttention))


def _numel(p) -> int:
    from torch.nn.parameter import UninitializedParameter

    return 0 if isinstance(p, UninitializedParameter) else p.numel()


def _rows(model, calls: list[_Call], failing_index: int | None) -> list[LayerRow]:
    rows: list[LayerRow] = []
    # children are appended before their parent finishes, so sum bottom-up in reverse order
    macs = [0] * len(calls)
    for c in reversed(calls):
        macs[c.index] = c.own_macs + sum(macs[i] for i in c.children)
    for c in calls:
        trainable = sum(_numel(p) for p in c.module.parameters() if p.requires_grad)
        frozen = sum(_numel(p) for p in c.module.parameters() if not p.requires_grad)
        g = c.geometry or {}
        rows.append(LayerRow(
            index=c.index, name=c.name, type=type(c.module).__name__, depth=c.depth,
            input_shape=c.input_shape, output_shape=c.output_shape if c.done else None,
            trainable_params=trainable, frozen_params=frozen, macs=macs[c.index],
            activation_bytes=c.activation_bytes, is_leaf=not c.children, parent=c.parent,
            receptive_field=c.rf, jump=c.jump, kernel_size=g.get("kernel_size"), stride=g.get("stride"),
            padding=g.get("padding"), dilation=g.get("dilation"), pool_mode=g.get("mode"),
            formula=c.formula, counting=c.counting, failed=(c.index == failing_index), spatial=_is_spatial(c.module),
        ))
    return rows


# --- MACs --------------------------------------------------------------------------------------


def _macs(module, inp, out) -> int:
    from torch import nn

    if out is None:
        return 0
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        k = math.prod(module.kernel_size)
        return inp.numel() * (module.out_channels // module.groups) * k
    if isinstance(module, nn.modules.conv._ConvNd):
        k = math.prod(module.kernel_size)
        return out.numel() * (module.in_channels // module.groups) * k
    if isinstance(module, nn.Linear):
        return (out.numel() // module.out_features) * module.in_features * module.out_features
    if isinstance(module, nn.Bilinear):
        return (out.numel() // module.out_features) * module.in1_features * module.in2_features * module.out_features
    if isinstance(module, nn.RNNBase):
        weights = sum(p.numel() for n, p in module.named_parameters() if n.startswith("weight"))
        if inp is None:
            return 0
        if inp.dim() == 2 and not (hasattr(inp, "batch_sizes")):
            steps = inp.shape[0]  # unbatched (T, F)
        else:
            steps = inp.shape[1] * inp.shape[0]  # batch x time, either layout
        return steps * weights
    if isinstance(module, (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)):
        return out.numel()
    return 0


def _counting(module, inp, out, macs: int) -> tuple[str, ...]:
    """'params = 6*1*5*5 + 6 = 156' and 'MACs = ...' lines for the layers whose counts are formulas."""
    from torch import nn

    if out is None:
        return ()
    bias = getattr(module, "bias", None)
    b = bias.numel() if isinstance(bias, nn.Parameter) else 0
    plus_b = f" + {b}" if b else ""
    if isinstance(module, nn.modules.conv._ConvNd):
        k = "*".join(map(str, module.kernel_size))
        transposed = isinstance(module, nn.modules.conv._ConvTransposeNd)
        cin_g, cout = module.in_channels // module.groups, module.out_channels
        if transposed:
            w = f"{module.in_channels}*{cout // module.groups}*{k}"
            where = f"{format_shape(inp.shape[1:])} inputs * {cout // module.groups}*{k}"
        else:
            w = f"{cout}*{cin_g}*{k}"
            where = f"{format_shape(out.shape[1:])} outputs * {cin_g}*{k}"
        total = sum(p.numel() for p in module.parameters(recurse=False))
        return (f"params = {w}{plus_b} = {total:,}", f"MACs = {where} = {macs:,}")
    if isinstance(module, nn.Linear):
        rows = out.numel() // module.out_features
        total = module.in_features * module.out_features + b
        return (f"params = {module.in_features}*{module.out_features}{plus_b} = {total:,}",
                f"MACs = {rows} row{'s' if rows != 1 else ''} * {module.in_features}*{module.out_features} = {macs:,}")
    if isinstance(module, nn.RNNBase):
        gates = {"LSTM": 4, "GRU": 3}.get(module.mode, 1)
        h, i = module.hidden_size, module.input_size
        weights = sum(p.numel() for n, p in module.named_parameters() if n.startswith("weight"))
        biases = sum(p.numel() for n, p in module.named_parameters() if n.startswith("bias"))
        plain = module.num_layers == 1 and not module.bidirectional and not getattr(module, "proj_size", 0)
        if plain:
            w_text = f"{gates}*{h}*({i} + {h})" + (f" + 2*{gates}*{h}" if biases else "")
        else:
            w_text = f"{weights:,} weights" + (f" + {biases:,} biases" if biases else "")
        steps = macs // weights if weights else 0
        return (f"params = {w_text} = {weights + biases:,}",
                f"MACs = {steps} steps * {weights:,} weights = {macs:,}")
    if isinstance(module, nn.modules.batchnorm._NormBase):
        total = sum(p.numel() for p in module.parameters(recurse=False))
        running = f" (+{2 * module.num_features} running mean/var, not parameters)" if module.track_running_stats else ""
        params = f"params = 2*{module.num_features} = {total}" if total else "params = 0 (affine=False)"
        return (params + running, f"MACs = {out.numel():,} elements * 1 (scale and shift) = {macs:,}")
    return ()


# --- receptive field and output-size formulas --------------------------------------------------


def _geometry(module):
    """Kernel/stride/padding/dilation of a conv or pool layer, per spatial dimension, or None."""
    from torch import nn

    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        return None
    if isinstance(module, nn.modules.conv._ConvNd):
        n = len(module.kernel_size)
        pad = module.padding if not isinstance(module.padding, str) else module.padding
        return {
            "kernel_size": tuple(module.kernel_size), "stride": tuple(module.stride),
            "padding": pad if isinstance(pad, str) else tuple(pad), "dilation": tuple(module.dilation),
            "mode": "conv", "ceil": False, "n": n,
        }
    pools = (
        (nn.MaxPool1d, 1, "max"), (nn.MaxPool2d, 2, "max"), (nn.MaxPool3d, 3, "max"),
        (nn.AvgPool1d, 1, "avg"), (nn.AvgPool2d, 2, "avg"), (nn.AvgPool3d, 3, "avg"),
        (nn.LPPool1d, 1, "lp"), (nn.LPPool2d, 2, "lp"),
    )
    for cls, n, mode in pools:
        if isinstance(module, cls):
            k = _ntuple(module.kernel_size, n)
            s = _ntuple(module.stride if module.stride is not None else module.kernel_size, n)
            p = _ntuple(getattr(module, "padding", 0), n)
            d = _ntuple(getattr(module, "dilation", 1), n)
            return {"kernel_size": k, "stride": s, "padding": p, "dilation": d, "mode": mode,
                    "ceil": bool(getattr(module, "ceil_mode", False)), "n": n}
    return None


def _formula_lines(g, in_sizes, out_sizes) -> tuple[str, ...]:
    lines = []
    axes = ("H", "W") if len(in_sizes) == 2 else ("D", "H", "W")[-len(in_sizes):] if len(in_sizes) <= 3 else None
    for i, (n, o) in enumerate(zip(in_sizes, out_sizes)):
        axis = axes[i] if axes else f"dim{i}"
        k, s, d = g["kernel_size"][i], g["stride"][i], g["dilation"][i]
        pad = g["padding"]
        if isinstance(pad, str):
            lines.append(f"{axis}: padding={pad!r} keeps {n} -> {o}" if pad == "same"
                         else f"{axis}: floor(({n} - {d * (k - 1) + 1}) / {s}) + 1 = {o}")
            continue
        p = pad[i]
        rnd = "ceil" if g["ceil"] else "floor"
        if d == 1:
            lines.append(f"{axis}: {rnd}(({n} - {k} + 2*{p}) / {s}) + 1 = {o}")
        else:
            lines.append(f"{axis}: {rnd}(({n} + 2*{p} - {d}*({k}-1) - 1) / {s}) + 1 = {o}")
    return tuple(lines)


def _receptive(call: _Call, module, out, lookup_rf, rf_map, calls) -> None:
    """Set the call's receptive field/jump and register its output tensor for the layers after it."""
    from torch import nn

    if out is None:
        return
    inp = call.input_tensor
    in_rf = lookup_rf(inp) if inp is not None else None
    spatial_out = tuple(out.shape[2:]) if out.dim() >= 3 else None

    if in_rf is None and inp is not None and inp.dim() >= 3:
        # the input came from a functional op (torch.cat, +, F.relu): take the largest field among
        # tensors with the same spatial size produced so far (the branches that met)
        in_rf = _best_rf(list(rf_map.values()), tuple(inp.shape[2:]))

    g = _geometry(module)
    if isinstance(module, nn.modules.conv._ConvTransposeNd) and inp is not None:
        # upsampling: the output-size formula runs the other way; no receptive field is tracked past it
        n = len(module.kernel_size)
        call.geometry = {"kernel_size": tuple(module.kernel_size), "stride": tuple(module.stride),
                         "padding": tuple(module.padding), "dilation": tuple(module.dilation),
                         "mode": "transposed", "ceil": False, "n": n,
                         "output_padding": tuple(module.output_padding)}
        axes = ("D", "H", "W")[-n:] if n <= 3 else tuple(f"dim{i}" for i in range(n))
        lines = []
        for ax, i_, o_, k, s, p, d, op in zip(axes, inp.shape[-n:], out.shape[-n:], module.kernel_size,
                                              module.stride, module.padding, module.dilation,
                                              module.output_padding):
            extra = f" + {op}" if op else ""
            dk = f"{k}-1" if d == 1 else f"{d}*({k}-1)"
            lines.append(f"{ax}: ({i_} - 1)*{s} - 2*{p} + {dk}{extra} + 1 = {o_}")
        call.formula = tuple(lines)
        if in_rf is not None and len(in_rf[0]) == n:
            # an output value sees at most ceil(k_eff / s) neighbouring inputs; the grid gets s times finer
            rf, jump = in_rf
            k_eff = [d * (k - 1) + 1 for k, d in zip(module.kernel_size, module.dilation)]
            call.rf = tuple(r + (math.ceil(k / s) - 1) * j for r, k, s, j in zip(rf, k_eff, module.stride, jump))
            call.jump = tuple(_num(j / s) for j, s in zip(jump, module.stride))
    elif isinstance(module, nn.Upsample) and inp is not None and inp.dim() >= 3:
        n = inp.dim() - 2
        in_sizes, out_sizes = tuple(inp.shape[-n:]), tuple(out.shape[-n:])
        call.formula = tuple(f"{ax}: {i} * {_num(o / i)} = {o} ({module.mode} upsampling)"
                             for ax, i, o in zip(("D", "H", "W")[-n:], in_sizes, out_sizes))
        if in_rf is not None and len(in_rf[0]) == n:
            rf, jump = in_rf
            extra = 0 if module.mode == "nearest" else 1  # (bi/tri)linear mixes two neighbours
            call.rf = tuple(r + extra * j for r, j in zip(rf, jump))
            call.jump = tuple(_num(j * i / o) for j, i, o in zip(jump, in_sizes, out_sizes))
    elif g is not None and inp is not None:
        n = g["n"]
        call.geometry = g
        in_sizes = tuple(inp.shape[-n:])
        out_sizes = tuple(out.shape[-n:])
        call.formula = _formula_lines(g, in_sizes, out_sizes)
        if in_rf is not None and len(in_rf[0]) == n:
            rf, jump = in_rf
            k, s, d = g["kernel_size"], g["stride"], g["dilation"]
            call.rf = tuple(r + d_ * (k_ - 1) * j for r, k_, d_, j in zip(rf, k, d, jump))
            call.jump = tuple(j * s_ for j, s_ in zip(jump, s))
    elif isinstance(module, (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d,
                             nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)) and inp is not None:
        n = inp.dim() - 2 if inp.dim() >= 3 else 1
        in_sizes, out_sizes = tuple(inp.shape[-n:]), tuple(out.shape[-n:])
        mode = "adaptive-max" if "Max" in type(module).__name__ else "adaptive-avg"
        call.formula = tuple(
            f"{ax}: adaptive pooling fixes the output at {o} (input {i})"
            for ax, i, o in zip(("D", "H", "W")[-n:], in_sizes, out_sizes)
        )
        if in_rf is not None and len(in_rf[0]) == n and all(i % o == 0 for i, o in zip(in_sizes, out_sizes)):
            s = tuple(i // o for i, o in zip(in_sizes, out_sizes))
            k = tuple(i - (o - 1) * st for i, o, st in zip(in_sizes, out_sizes, s))
            rf, jump = in_rf
            call.rf = tuple(r + (k_ - 1) * j for r, k_, j in zip(rf, k, jump))
            call.jump = tuple(j * st for j, st in zip(jump, s))
            call.geometry = {"kernel_size": k, "stride": s, "padding": (0,) * n, "dilation": (1,) * n,
                             "mode": mode, "ceil": False, "n": n}
    elif call.children:
        # a container: its output is either a child's (already registered) or a new tensor made in
        # its forward (concatenation, residual sum): keep the largest field of the same size
        known = lookup_rf(out)
        if known is None and spatial_out is not None:
            known = _best_rf(call.produced, spatial_out)
            if known is None and in_rf is not None and inp is not None and tuple(inp.shape[2:]) == spatial_out:
                known = in_rf
        if known is not None:
            call.rf, call.jump = known
    elif (
        in_rf is not None and spatial_out is not None and inp is not None and inp.dim() == out.dim()
        and tuple(inp.shape[2:]) == spatial_out and not isinstance(module, (nn.Linear, nn.RNNBase))
    ):
        call.rf, call.jump = in_rf  # elementwise layers (ReLU, BatchNorm, Dropout) pass it on

    if call.rf is not None:
        rf_map[id(out)] = (out, call.rf, call.jump)
        call.produced.append((out, call.rf, call.jump))


def _num(x: float):
    """An int when whole (jumps are whole numbers until a transposed conv makes the grid finer)."""
    return int(x) if float(x).is_integer() else round(float(x), 4)


def _best_rf(entries, spatial):
    best = None
    for t, rf, jump in entries:
        if tuple(t.shape[2:]) == spatial and len(rf) == len(spatial):
            if best is None or math.prod(rf) > math.prod(best[0]):
                best = (rf, jump)
    return best


# --- mismatch diagnosis ------------------------------------------------------------------------


def _diagnose(call: _Call | None, exc: Exception, calls: list[_Call]) -> Mismatch:
    from torch import nn

    raw = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if call is None:
        return Mismatch("", "", None, None, f"the forward pass failed before any layer ran: {raw}", None)
    module, shape, name = call.module, call.input_shape, call.name
    kind = type(module).__name__
    label = f"{name!r} ({kind})" if name else f"the model's own forward ({kind})"
    got = format_shape(shape) if shape else "no tensor"
    previous = _previous_output(call, calls)

    if isinstance(module, nn.Linear) and shape:
        n = shape[-1]
        if n != module.in_features:
            how = ""
            source = _flattened_source(n, calls)
            if source is not None:
                dims = source[1:]
                how = f" (the flattened {'x'.join(map(str, dims))} output: {' * '.join(map(str, dims))} = {n})"
            return Mismatch(
                name, kind, shape, f"in_features={module.in_features}",
                f"{label} expects in_features={module.in_features} but received {got}: "
                f"the last dimension is {n}{how}.",
                f"Linear(in_features={n}, out_features={module.out_features}){_at(name)}",
            )
    if isinstance(module, nn.modules.conv._ConvNd) and shape:
        n = len(module.kernel_size)
        if len(shape) not in (n + 1, n + 2):
            return Mismatch(name, kind, shape, f"a {n + 2}-D (N, C, spatial) input",
                            f"{label} expects a {n + 2}-D input (batch, channels, {n} spatial) but received {got}.",
                            None)
        c = shape[-n - 1]
        cin = module.in_channels
        if c != cin:
            return Mismatch(
                name, kind, shape, f"in_channels={cin}",
                f"{label} expects {cin} input channels but received {c} (input {got}).",
                f"{kind}(in_channels={c}){_at(name)}, or feed {cin} channels",
            )
        return _too_small(name, kind, label, shape, module, raw, n)
    g = _geometry(module)
    if g is not None and shape:
        return _too_small(name, kind, label, shape, module, raw, g["n"])
    if isinstance(module, nn.modules.batchnorm._NormBase) and shape and len(shape) >= 2:
        if shape[1] != module.num_features:
            return Mismatch(
                name, kind, shape, f"num_features={module.num_features}",
                f"{label} expects {module.num_features} channels but received {shape[1]} (input {got}).",
                f"{kind}(num_features={shape[1]}){_at(name)}",
            )
    if isinstance(module, nn.RNNBase) and shape:
        if shape[-1] != module.input_size:
            return Mismatch(
                name, kind, shape, f"input_size={module.input_size}",
                f"{label} expects {module.input_size} features per step but received {got} "
                f"(last dimension {shape[-1]}).",
                f"{kind}(input_size={shape[-1]}){_at(name)}",
            )
    where = label
    if call.children and previous is not None:
        where += f", after its layer {calls[call.children[-1]].name!r} returned {format_shape(previous)}"
    return Mismatch(name, kind, shape, None, f"{where} failed on input {got}: {raw}", None)


def _too_small(name, kind, label, shape, module, raw, n) -> Mismatch:
    g = _geometry(module)
    sizes = shape[-n:]
    if g is not None and not isinstance(g["padding"], str):
        need = tuple(g["dilation"][i] * (g["kernel_size"][i] - 1) + 1 - 2 * g["padding"][i] for i in range(n))
        if any(s < k for s, k in zip(sizes, need)):
            ks = "x".join(str(k) for k in g["kernel_size"])
            return Mismatch(
                name, kind, shape, f"spatial size >= {'x'.join(str(max(k, 1)) for k in need)}",
                f"{label} has a {ks} kernel but its input is only {'x'.join(map(str, sizes))} "
                f"(input {format_shape(shape)}): the image shrank too much before this layer.",
                "a larger --input, or smaller kernels / more padding / fewer poolings before "
                f"{name or 'this layer'}",
            )
    return Mismatch(name, kind, shape, None, f"{label} failed on input {format_shape(shape)}: {raw}", None)


def _previous_output(call: _Call, calls: list[_Call]) -> tuple[int, ...] | None:
    """Output shape of the last layer that finished before `call` failed (a child of it, or before it)."""
    for c in reversed(calls):
        if c.done and c.output_shape is not None and c.index != call.index:
            return c.output_shape
    return None


def _at(name: str) -> str:
    return f" at {name!r}" if name else ""


def _flattened_source(n: int, calls: list[_Call]) -> tuple[int, ...] | None:
    """The last multi-dimensional output whose flattened size is n (what a Flatten turned into n)."""
    for c in reversed(calls):
        if c.done and c.output_shape is not None and len(c.output_shape) >= 3 and math.prod(c.output_shape[1:]) == n:
            return c.output_shape
    return None


def seed_count(n: int) -> str:
    """Millions truncated to two decimals, the seeds' table format: 163,328 -> '0.16 M'."""
    return f"{math.floor(n / 1e6 * 100) / 100:.2f} M"


def seed_macs(n: int) -> str:
    """Millions truncated to whole numbers: 346,816,512 -> '346 M'."""
    return f"{n // 10**6} M"


__all__ = [
    "COMPARISONS", "CompareRow", "DEMOS", "MAC_NOTE", "LayerRow", "compare", "comparison_group", "conv_preset", "Mismatch", "ShapeTrace", "format_bytes", "format_count",
    "format_shape", "parse_input_shape", "resolve_model", "row_to_dict", "seed_count", "seed_macs",
    "trace", "trace_model",
]


# --- side-by-side comparisons (the seeds' tables) ----------------------------------------------

# demo groups compared in the seeds: a learner opening one sees the others beside it
COMPARISONS: dict[str, tuple[str, ...]] = {
    "inception": ("inception-demo", "conv3x3-demo", "conv5x5-demo"),
    "reduction": ("reduction-demo", "direct5x5-demo"),
    "receptive": ("stacked3x3-demo", "single5x5-demo", "dilated-demo"),
}


@dataclass(frozen=True)
class CompareRow:
    model: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...] | None
    total_params: int
    total_macs: int
    receptive_field: tuple[int, ...] | None  # of the model's output, where tracked
    error: str | None = None


def comparison_group(spec: str) -> tuple[str, ...] | None:
    """The seeds' comparison a demo belongs to, e.g. inception-demo -> (inception, 3x3, 5x5)."""
    key = (spec or "").strip().lower()
    for group in COMPARISONS.values():
        if key in group:
            return group
    return None


def compare(specs, input_shape: str | tuple | None = None, dataset: str = "digits") -> tuple[CompareRow, ...]:
    """Trace several models for the same input and line up their totals."""
    rows = []
    for spec in specs:
        t = trace(spec, input_shape, dataset)
        rf = t.rows[0].receptive_field if t.rows else None
        rows.append(CompareRow(t.model, t.input_shape, t.output_shape, t.total_params, t.total_macs, rf,
                               t.error.message if t.error else None))
    return tuple(rows)


# --- handing a layer to the conv screen --------------------------------------------------------

CONV_SCREEN_MAX_SIDE = 8  # a small example input shows the geometry and fits the conv screen


def conv_preset(row: LayerRow) -> dict[str, Any] | None:
    """A `ConvScreen` preset that replays this conv/pool row's geometry on a small example input.

    Keys follow `conv_steps.build_config` (mode, input, kernel, padding, stride, dilation, title) plus
    kernel_size. None for rows that are not a 2-D convolution or max/average pooling.
    """
    if not row.is_spatial_op or row.input_shape is None or len(row.kernel_size) != 2:
        return None
    mode = {"conv": "conv", "max": "max", "avg": "avg", "adaptive-avg": "avg", "adaptive-max": "max",
            "transposed": "transposed"}.get(row.pool_mode or "")
    if mode is None:
        return None
    k, s, d = row.kernel_size, row.stride, row.dilation
    if isinstance(row.padding, str):  # 'same' / 'valid'
        p = tuple(di * (ki - 1) // 2 for ki, di in zip(k, d)) if row.padding == "same" else (0, 0)
    else:
        p = tuple(row.padding)
    sizes = row.input_shape[-2:]
    side = [max(min(n, CONV_SCREEN_MAX_SIDE), di * (ki - 1) + 1 - 2 * pi, 1)
            for n, ki, di, pi in zip(sizes, k, d, p)]
    preset: dict[str, Any] = {
        "mode": mode,
        "input": f"arange:{side[0]}x{side[1]}",
        "kernel_size": list(k),
        "padding": list(p),
        "stride": list(s),
        "title": f"{row.name or 'model'} ({row.type}) from the shape trace, on a {side[0]}x{side[1]} example",
    }
    if mode == "transposed":
        side = [min(n, 4) for n in sizes]  # the output grows: keep the example small
        preset["input"] = f"arange:{side[0]}x{side[1]}"
        preset["title"] = f"{row.name or 'model'} ({row.type}) from the shape trace, on a {side[0]}x{side[1]} example"
    if mode in ("conv", "transposed"):
        preset["kernel"] = f"ones:{k[0]}x{k[1]}"
        preset["dilation"] = list(d)
    else:
        preset["kernel"] = list(k)
        preset["dilation"] = list(d)
    return preset
