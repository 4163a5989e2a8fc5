"""Step-by-step frames for convolution (cross-correlation), pooling and transposed convolution.

`build_config({...})` turns specs (JSON lists, `arange:3x3`, `digit:0`, a preset name, ...) into a
`Config`; `compute(config)` returns a `Result` with one `Frame` per output cell (one per input cell
for transposed convolution). Pure Python on exact numbers: on integer inputs the output equals
`torch.nn.functional` exactly. No torch or Textual import here.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import accumulate
from operator import mul
from typing import Any

from tui_lab.errors import ConfigError, choice_error

Number = int | float

MODES = ("conv", "max", "avg", "transposed")

# Stated size limits: the frames are Python objects, one product each, so bound the work.
MAX_SIDE = 64  # input height / width
MAX_CHANNELS = 16  # input and output channels
MAX_KERNEL = 16  # kernel height / width
MAX_STRIDE = 16
MAX_PADDING = 16
MAX_DILATION = 8
MAX_PRODUCTS = 1_000_000  # frames x terms per frame
MAX_DIGIT = 1796  # sklearn's load_digits has 1797 images

LIMITS_TEXT = (
    f"input up to {MAX_SIDE}x{MAX_SIDE}, {MAX_CHANNELS} channels in and out, kernel up to "
    f"{MAX_KERNEL}x{MAX_KERNEL}, stride <= {MAX_STRIDE}, padding <= {MAX_PADDING}, "
    f"dilation <= {MAX_DILATION}, at most {MAX_PRODUCTS} products"
)

SOBEL_X = ((-1, 0, 1), (-2, 0, 2), (-1, 0, 1))
SOBEL_Y = ((-1, -2, -1), (0, 0, 0), (1, 2, 1))

NAMED_KERNELS: dict[str, Any] = {
    "sobel-x": SOBEL_X,
    "sobel-y": SOBEL_Y,
    "sobel": ((SOBEL_X,), (SOBEL_Y,)),  # two output channels: x and y gradients
    "edge": ((1, -1),),
    "laplace": ((0, 1, 0), (1, -4, 1), (0, 1, 0)),
}

GENERATORS = ("arange", "ones", "zeros", "random", "digit")

# Named presets reproducing the examples of the seed notes (values printed in seed 000) and of
# the d2l chapters seed 003 follows; tests check each one against those values and against torch.
X33 = [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
K22 = [[0, 1], [2, 3]]
PRESETS: dict[str, dict[str, Any]] = {
    "corr2d": {"mode": "conv", "input": X33, "kernel": K22,
               "title": "corr2d: cross-correlation of a 3x3 input with a 2x2 kernel"},
    "padding": {"mode": "conv", "input": X33, "kernel": K22, "padding": 1,
                "title": "padding 1: the 3x3 input becomes 5x5, the output 4x4"},
    "stride": {"mode": "conv", "input": X33, "kernel": K22, "padding": 1, "stride": [3, 2],
               "title": "stride 3 in height, 2 in width"},
    "edge": {"mode": "conv", "input": [[1, 1, 0, 0, 0, 0, 1, 1]] * 6, "kernel": [[1, -1]],
             "title": "a [1, -1] kernel finds the vertical edges"},
    "sobel": {"mode": "conv", "input": [[1, 1, 0, 0, 0, 0, 1, 1]] * 6, "kernel": "sobel",
              "title": "Sobel x and y on an image with vertical edges: two output channels"},
    "dilation": {"mode": "conv", "input": "arange:7x7", "kernel": "ones:3x3", "dilation": 2,
                 "title": "dilation 2: a 3x3 kernel sees a 5x5 field"},
    "multi-channel": {"mode": "conv",
                      "input": [X33, [[1, 2, 3], [4, 5, 6], [7, 8, 9]]],
                      "kernel": [K22, [[1, 2], [3, 4]]],
                      "title": "two input channels: the channel results are summed"},
    "multi-out": {"mode": "conv",
                  "input": [X33, [[1, 2, 3], [4, 5, 6], [7, 8, 9]]],
                  "kernel": [[[[k + i for k in row] for row in kc] for kc in (K22, [[1, 2], [3, 4]])]
                             for i in range(3)],
                  "title": "two input channels, three output channels (K, K+1, K+2)"},
    "1x1": {"mode": "conv", "input": "arange:3x3x3",
            "kernel": [[[[1]], [[0]], [[-1]]], [[[1]], [[1]], [[1]]]],
            "title": "1x1 convolution: mixes 3 channels into 2 at each pixel"},
    "maxpool": {"mode": "max", "input": X33, "kernel": 2, "stride": 1,
                "title": "2x2 max pooling, stride 1"},
    "avgpool": {"mode": "avg", "input": X33, "kernel": 2, "stride": 1,
                "title": "2x2 average pooling, stride 1"},
    "pool-padding": {"mode": "max", "input": "arange:4x4", "kernel": 3, "padding": 1, "stride": 2,
                     "title": "3x3 max pooling, padding 1, stride 2"},
    "global-avg": {"mode": "avg", "input": "arange:2x4x4", "kernel": "global",
                   "title": "global average pooling: one value per channel"},
    "transposed": {"mode": "transposed", "input": [[0, 1], [2, 3]], "kernel": K22,
                   "title": "transposed convolution: each input cell scatters a scaled kernel"},
    "transposed-stride": {"mode": "transposed", "input": [[0, 1], [2, 3]], "kernel": K22,
                          "stride": 2, "title": "transposed convolution with stride 2"},
    "transposed-padding": {"mode": "transposed", "input": [[0, 1], [2, 3]], "kernel": K22,
                           "padding": 1,
                           "title": "transposed convolution with padding 1 crops the border"},
    "digit": {"mode": "conv", "input": "digit:0", "kernel": "sobel-x", "padding": 1,
              "title": "Sobel x on an 8x8 digit from the embedded data set"},
    "digit-sobel": {"mode": "conv", "input": "digit:3", "kernel": "sobel", "padding": 1,
                    "title": "Sobel x and y on a digit 3: output channel 0 finds vertical edges, 1 horizontal (o)"},
    "digit-maxpool": {"mode": "max", "input": "digit:3", "kernel": 2, "stride": 2,
                      "title": "2x2 max pooling, stride 2, on a digit: 8x8 -> 4x4, the strongest stroke kept"},
}
DEFAULT_PRESET = {"conv": "corr2d", "max": "maxpool", "avg": "avgpool", "transposed": "transposed"}


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Frame:
    """One step. conv/pool: one output cell; transposed: one input cell scattered into the output.

    conv/max/avg: `out_index` (channel, row, col) of the output written; `window` the (row, col)
    cells read, in padded-input coordinates, in kernel order; `terms` (input, kernel weight) per
    product, channel-major (weight None for pooling; max pooling leaves out the -inf padding);
    `running` the partial sum (running max for max pooling) after each term; `value` the output.
    transposed: `in_index` (in channel, row, col) scattered; `out_index` (out channel, row, col) of
    where kernel[0][0] lands in the cropped output (may be negative when cropped); `window` the
    (row, col) cells written in the full, uncropped output; `terms` (input, kernel) per cell;
    `running` the totals in those cells after this step; `value` the input value scattered.
    """

    step: int
    kind: str
    out_index: tuple[int, int, int]
    window: tuple[tuple[int, int], ...]
    terms: tuple[tuple[Number, Number | None], ...]
    running: tuple[Number, ...]
    bias: Number
    value: Number
    channels: tuple[int, ...] = ()  # input channel of each term (conv); empty otherwise
    in_index: tuple[int, int, int] | None = None
    divisor: int = 1  # avg pooling divides the window sum by this

    def products_text(self, channel: int | None = None) -> str:
        """The arithmetic as written on paper: `0x0 + 1x1 + 3x2 + 4x3 = 19`."""
        return products_text(self, channel)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "out_index": list(self.out_index),
            "window": [list(cell) for cell in self.window],
            "terms": [list(t) for t in self.terms],
            "running": list(self.running),
            "bias": self.bias,
            "value": self.value,
        }
        if self.in_index is not None:
            out["in_index"] = list(self.in_index)
        if self.kind == "avg":
            out["divisor"] = self.divisor
        return out


@dataclass(frozen=True)
class Formula:
    """The output size along one axis with the current numbers filled in."""

    axis: str  # "height" | "width"
    general: str
    text: str
    value: int


@dataclass(frozen=True)
class Config:
    """A validated configuration; `kernel` is 4-D: conv and pooling [O][C][kh][kw], transposed
    [C][O][kh][kw].

    Pooling uses only the kernel's size (its values are kept so switching back to conv is lossless).
    """

    mode: str
    input: tuple  # [C][H][W]
    kernel: tuple  # 4-D, see above
    bias: tuple[Number, ...] = ()
    padding: tuple[int, int] = (0, 0)
    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)
    title: str = ""
    name: str = ""

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (len(self.input), len(self.input[0]), len(self.input[0][0]))

    @property
    def kernel_shape(self) -> tuple[int, int, int, int]:
        k = self.kernel
        return (len(k), len(k[0]), len(k[0][0]), len(k[0][0][0]))

    @property
    def kernel_size(self) -> tuple[int, int]:
        return self.kernel_shape[2], self.kernel_shape[3]

    @property
    def out_channels(self) -> int:
        c = self.input_shape[0]
        if self.mode in ("max", "avg"):
            return c
        return self.kernel_shape[1] if self.mode == "transposed" else self.kernel_shape[0]


@dataclass(frozen=True)
class Result:
    config: Config
    padded: tuple  # [C][Hp][Wp] input with padding (max pooling pads with None = -inf)
    output: tuple  # [O][OH][OW]
    frames: Sequence[Frame]  # a Frames: built as read
    formulas: tuple[Formula, Formula]
    full: tuple = ()  # transposed: the uncropped output [O][FH][FW]

    @property
    def mode(self) -> str:
        return self.config.mode

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.config.input_shape

    @property
    def kernel_shape(self) -> tuple[int, ...]:
        if self.config.mode in ("max", "avg"):
            return self.config.kernel_size
        return self.config.kernel_shape

    @property
    def output_shape(self) -> tuple[int, int, int]:
        return (len(self.output), len(self.output[0]), len(self.output[0][0]))

    def is_padding(self, row: int, col: int) -> bool:
        """True for a padded-input cell that is padding (conv/pool) or a cropped cell (transposed)."""
        ph, pw = self.config.padding
        if self.config.mode == "transposed":
            fh, fw = len(self.full[0]), len(self.full[0][0])
            return not (ph <= row < fh - ph and pw <= col < fw - pw)
        _, h, w = self.config.input_shape
        return not (ph <= row < ph + h and pw <= col < pw + w)

    def to_json(self, frames: str = "all") -> dict[str, Any]:
        chosen = self.frames if frames == "all" else self.frames[-1:]
        return {
            "mode": self.config.mode,
            "input_shape": list(self.input_shape),
            "kernel_shape": list(self.kernel_shape),
            "output_shape": list(self.output_shape),
            "padding": list(self.config.padding),
            "stride": list(self.config.stride),
            "dilation": list(self.config.dilation),
            "formula": {f.axis: f.text for f in self.formulas},
            "output": _lists(self.output),
            "frames": [f.to_json() for f in chosen],
        }


def _lists(t: Any) -> Any:
    return [_lists(v) for v in t] if isinstance(t, (list, tuple)) else t


def _tuples(t: Any) -> Any:
    return tuple(_tuples(v) for v in t) if isinstance(t, (list, tuple)) else t


# ----------------------------------------------------------------------------- parsing


def _check_number(v: Any, field: str) -> Number:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ConfigError(field, f"every entry must be a number, got {v!r}")
    if isinstance(v, float) and not math.isfinite(v):
        raise ConfigError(field, f"every entry must be a finite number, got {v!r}")
    return v


def _shape_of(data: Any, field: str) -> tuple[int, ...]:
    """Shape of a rectangular nested list; ConfigError for ragged or empty ones."""
    if not isinstance(data, (list, tuple)):
        _check_number(data, field)
        return ()
    if len(data) == 0:
        raise ConfigError(field, "empty list; give a non-empty rectangular nested list")
    shapes = {_shape_of(item, field) for item in data}
    if len(shapes) != 1:
        raise ConfigError(field, "ragged matrix: every row must have the same length")
    return (len(data),) + shapes.pop()


def _dims(text: str, field: str) -> list[int]:
    parts = text.lower().split("x")
    try:
        dims = [int(p) for p in parts]
    except ValueError:
        raise ConfigError(field, f"sizes must look like HxW or CxHxW, got {text!r}") from None
    if not 2 <= len(dims) <= 4 or any(d < 1 for d in dims):
        raise ConfigError(field, f"sizes must be 2 to 4 positive integers like 3x3, got {text!r}")
    if any(d > MAX_SIDE for d in dims):
        raise ConfigError(field, f"size {text!r} above the limit ({LIMITS_TEXT})")
    return dims


def _fill(dims: Sequence[int], make) -> list:
    if len(dims) == 1:
        return [make() for _ in range(dims[0])]
    return [_fill(dims[1:], make) for _ in range(dims[0])]


def load_digit(index: int) -> list[list[int]]:
    """An 8x8 digit image (values 0..16) from scikit-learn's embedded data set; no network."""
    if not 0 <= index <= MAX_DIGIT:
        raise ConfigError("input", f"digit index must be 0..{MAX_DIGIT}, got {index}")
    from sklearn.datasets import load_digits  # lazy: importing sklearn takes a while

    image = load_digits().images[index]
    return [[int(v) for v in row] for row in image]


def parse_tensor(spec: Any, field: str = "input", seed: int = 0) -> Any:
    """A nested list from a spec: JSON text or list, `arange:HxW`, `ones:HxW`, `zeros:HxW`,
    `random:CxHxW` (integers 0..9 from `seed`), `digit:N`, or a named kernel (`sobel`, ...)."""
    if isinstance(spec, (list, tuple)):
        data = spec
    elif isinstance(spec, str):
        text = spec.strip()
        if text.startswith("[") or re.fullmatch(r"-?\d+(\.\d+)?", text):
            from tui_lab.limits import check_nesting

            check_nesting(field, text)
            try:
                data = json.loads(text)
            except (json.JSONDecodeError, RecursionError) as exc:
                raise ConfigError(field, f"not valid JSON nested lists ({getattr(exc, 'msg', exc)}): {text[:40]!r}") from None
            if not isinstance(data, list):
                data = [[data]]
        elif text.lower() in NAMED_KERNELS:
            data = NAMED_KERNELS[text.lower()]
        elif ":" in text:
            kind, _, arg = text.partition(":")
            kind = kind.lower()
            if kind == "digit":
                try:
                    index = int(arg)
                except ValueError:
                    raise ConfigError(field, f"digit:N needs an integer N, got {arg!r}") from None
                data = load_digit(index)
            elif kind in GENERATORS:
                dims = _dims(arg, field)
                if kind == "arange":
                    counter = iter(range(math.prod(dims)))
                    data = _fill(dims, lambda: next(counter))
                elif kind == "ones":
                    data = _fill(dims, lambda: 1)
                elif kind == "zeros":
                    data = _fill(dims, lambda: 0)
                else:
                    rng = random.Random(seed)
                    data = _fill(dims, lambda: rng.randint(0, 9))
            else:
                raise choice_error(f"{field} generator", kind, GENERATORS)
        else:
            allowed = "JSON nested lists, arange:HxW, ones:HxW, zeros:HxW, random:CxHxW, digit:N"
            if field == "kernel":
                allowed += ", " + ", ".join(NAMED_KERNELS)
            raise ConfigError(field, f"cannot parse {text[:40]!r}; give {allowed}")
    else:
        raise ConfigError(field, f"expected a spec string or nested list, got {type(spec).__name__}")
    _shape_of(data, field)
    return data


def _pair(value: Any, field: str, low: int, high: int) -> tuple[int, int]:
    """An int or (h, w) pair from 3, "3", "3,2", [3, 2]; ConfigError outside low..high."""
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",")]
        try:
            items = [int(p) for p in parts]
        except ValueError:
            raise ConfigError(field, f"must be an integer or H,W integers, got {value!r}") from None
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [value]
    if len(items) == 1:
        items = items * 2
    if len(items) != 2 or any(isinstance(i, bool) or not isinstance(i, int) for i in items):
        raise ConfigError(field, f"must be an integer or H,W integers, got {value!r}")
    for i in items:
        if i < low:
            raise ConfigError(field, f"must be >= {low}, got {i}")
        if i > high:
            raise ConfigError(field, f"must be <= {high} (limit), got {i}")
    return items[0], items[1]


def _as_input(data: Any) -> tuple:
    shape = _shape_of(data, "input")
    if len(shape) == 2:
        data = [data]
    elif len(shape) == 4 and shape[0] == 1:
        data = data[0]
    elif len(shape) != 3:
        raise ConfigError("input", f"must be [H][W] or [C][H][W] nested lists, got {len(shape)}-D")
    c, h, w = _shape_of(data, "input")
    if h > MAX_SIDE or w > MAX_SIDE:
        raise ConfigError("input", f"{h}x{w} is above the limit ({LIMITS_TEXT})")
    if c > MAX_CHANNELS:
        raise ConfigError("input", f"{c} channels is above the limit ({LIMITS_TEXT})")
    return _tuples(data)


def _as_kernel(data: Any, mode: str, in_channels: int) -> tuple:
    shape = _shape_of(data, "kernel")
    if len(shape) == 2:
        if in_channels != 1:
            raise ConfigError("kernel", f"a [kh][kw] kernel needs a 1-channel input; the input has "
                                        f"{in_channels} channels, give [{in_channels}][kh][kw]")
        data = [[data]]
    elif len(shape) == 3:
        # One kernel per input channel: conv sums them into one output; transposed ditto.
        data = [data] if mode != "transposed" else [[k] for k in data]
    elif len(shape) != 4:
        raise ConfigError("kernel", f"must be [kh][kw], [C][kh][kw] or [O][C][kh][kw], got {len(shape)}-D")
    k = _tuples(data)
    a, b, kh, kw = _shape_of(k, "kernel")
    c_in, c_out = (a, b) if mode == "transposed" else (b, a)
    if kh > MAX_KERNEL or kw > MAX_KERNEL:
        raise ConfigError("kernel", f"{kh}x{kw} is above the limit ({LIMITS_TEXT})")
    if c_out > MAX_CHANNELS:
        raise ConfigError("kernel", f"{c_out} output channels is above the limit ({LIMITS_TEXT})")
    if c_in != in_channels:
        layout = "[C][O][kh][kw]" if mode == "transposed" else "[O][C][kh][kw]"
        raise ConfigError("kernel", f"has {c_in} input channels but the input has {in_channels} "
                                    f"(layout {layout})")
    return k


def preset_name(name: str) -> str:
    """The preset called `name`, ignoring case, '-' and '_' ("multichannel" is "multi-channel")."""
    def key(text: str) -> str:
        return str(text).lower().replace("-", "").replace("_", "").replace(" ", "")

    for known in PRESETS:
        if key(known) == key(name):
            return known
    raise choice_error("preset", name, PRESETS)


def build_config(spec: dict[str, Any] | None = None, **overrides: Any) -> Config:
    """Validate a dict of specs (keys: preset, mode, input, kernel, bias, padding, stride,
    dilation, seed) into a Config. A `preset` supplies defaults the other keys override."""
    spec = {**(spec or {}), **{k: v for k, v in overrides.items() if v is not None}}
    name = spec.pop("preset", None)
    mode = spec.get("mode", "conv")
    if mode == "pool":
        mode = spec.get("pool", "max")
    if mode not in MODES:
        raise choice_error("mode", mode, MODES + ("pool",))
    if name is None and "input" not in spec:
        name = DEFAULT_PRESET[mode]
    base: dict[str, Any] = {}
    if name is not None:
        name = preset_name(name)
        base = dict(PRESETS[name])
        if "mode" not in spec:
            mode = base["mode"]
        elif (mode in ("max", "avg")) != (base["mode"] in ("max", "avg")):
            # A conv preset opened as pooling (or back): keep its input, choose a fitting kernel.
            base.pop("kernel", None)
            base.pop("padding", None)
            base.pop("stride", None)
            base.pop("dilation", None)
    merged = {**base, **spec, "mode": mode}
    seed = merged.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError("seed", f"must be an integer, got {seed!r}")
    x = _as_input(parse_tensor(merged.get("input", "arange:4x4"), "input", seed))
    c, h, w = len(x), len(x[0]), len(x[0][0])

    padding = _pair(merged.get("padding", 0), "padding", 0, MAX_PADDING)
    dilation = _pair(merged.get("dilation", 1), "dilation", 1, MAX_DILATION)
    if mode in ("max", "avg"):
        ks = merged.get("kernel", 2)
        if isinstance(ks, str) and ks.strip().lower() == "global":
            kh, kw = h, w
        elif isinstance(ks, (list, tuple)) and ks and isinstance(ks[0], (list, tuple)):
            kshape = _shape_of(ks, "kernel")
            kh, kw = kshape[-2], kshape[-1]
        else:
            kh, kw = _pair(ks, "kernel", 1, MAX_KERNEL)
        kernel = _tuples([[[[1] * kw for _ in range(kh)] for _ in range(c)]])
        stride = _pair(merged.get("stride", (kh, kw)), "stride", 1, MAX_STRIDE)
        if mode == "avg" and dilation != (1, 1):
            raise ConfigError("dilation", "average pooling has no dilation (torch's avg_pool2d); use 1")
    else:
        kernel = _as_kernel(parse_tensor(merged.get("kernel", "ones:3x3"), "kernel", seed + 1), mode, c)
        stride = _pair(merged.get("stride", 1), "stride", 1, MAX_STRIDE)
    o = len(kernel[0]) if mode == "transposed" else len(kernel)
    bias = _bias(merged.get("bias", 0), o) if mode in ("conv", "transposed") else ()
    config = Config(mode, x, kernel, bias, padding, stride, dilation,
                    title=merged.get("title", ""), name=name or "")
    validate(config)
    return config


def _bias(value: Any, out_channels: int) -> tuple[Number, ...]:
    if isinstance(value, str):
        try:
            items = [json.loads(p) for p in value.split(",")]
        except json.JSONDecodeError:
            raise ConfigError("bias", f"must be a number or one per output channel, got {value!r}") from None
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [value]
    items = [_check_number(v, "bias") for v in items]
    if len(items) == 1:
        items = items * out_channels
    if len(items) != out_channels:
        raise ConfigError("bias", f"give one number or {out_channels} (one per output channel), got {len(items)}")
    return tuple(items)


# ----------------------------------------------------------------------------- sizes


def conv_out_size(n: int, k: int, p: int, s: int, d: int = 1) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def transposed_out_size(n: int, k: int, p: int, s: int, d: int = 1) -> int:
    return (n - 1) * s - 2 * p + d * (k - 1) + 1


def formulas(config: Config) -> tuple[Formula, Formula]:
    _, h, w = config.input_shape
    kh, kw = config.kernel_size
    out = []
    for axis, n, k, p, s, d in (("height", h, kh, config.padding[0], config.stride[0], config.dilation[0]),
                                ("width", w, kw, config.padding[1], config.stride[1], config.dilation[1])):
        if config.mode == "transposed":
            value = transposed_out_size(n, k, p, s, d)
            general = "(n - 1)s - 2p + d(k - 1) + 1"
            text = f"({n} - 1)x{s} - 2x{p} + {d}x({k} - 1) + 1 = {value}"
        else:
            value = conv_out_size(n, k, p, s, d)
            general = "floor((n + 2p - d(k - 1) - 1) / s) + 1"
            text = f"floor(({n} + 2x{p} - {d}x({k} - 1) - 1) / {s}) + 1 = {value}"
        out.append(Formula(axis, general, text, value))
    return out[0], out[1]


def validate(config: Config) -> None:
    """ConfigError when torch would refuse the configuration or it is above the stated limits."""
    c, h, w = config.input_shape
    kh, kw = config.kernel_size
    fh, fw = formulas(config)
    if config.mode == "transposed":
        if fh.value < 1 or fw.value < 1:
            raise ConfigError("padding", f"too large: output would be {fh.value}x{fw.value}; "
                                         f"height {fh.text}, width {fw.text}")
        terms = c * h * w * len(config.kernel[0]) * kh * kw
    else:
        for axis, n, k, p, d in (("height", h, kh, config.padding[0], config.dilation[0]),
                                 ("width", w, kw, config.padding[1], config.dilation[1])):
            span = d * (k - 1) + 1
            if span > n + 2 * p:
                raise ConfigError("kernel", f"{axis} {span} (dilated) is larger than the padded "
                                            f"input {axis} {n + 2 * p}")
            if config.mode in ("max", "avg") and 2 * p > k:
                raise ConfigError("padding", f"{p} is more than half the pooling kernel {axis} {k}")
        per = kh * kw * (1 if config.mode in ("max", "avg") else c)
        terms = fh.value * fw.value * config.out_channels * per
    if terms > MAX_PRODUCTS:
        raise ConfigError("input", f"{terms} products is above the limit ({LIMITS_TEXT})")


# ----------------------------------------------------------------------------- frames


def compute(config: Config) -> Result:
    """The output and the frames (built as read) for a config, validated again here."""
    validate(config)
    if config.mode == "conv":
        return _conv(config)
    if config.mode in ("max", "avg"):
        return _pool(config)
    return _transposed(config)


def _pad(x: tuple, ph: int, pw: int, fill: Any) -> tuple:
    out = []
    for ch in x:
        w = len(ch[0]) + 2 * pw
        rows = [(fill,) * w] * ph
        rows += [(fill,) * pw + tuple(row) + (fill,) * pw for row in ch]
        rows += [(fill,) * w] * ph
        out.append(tuple(rows))
    return tuple(out)


def _windows(config: Config, oh: int, ow: int) -> list[tuple[tuple[int, int], ...]]:
    """The (row, col) cells each output cell reads, in padded coordinates, row-major."""
    kh, kw = config.kernel_size
    (sh, sw), (dh, dw) = config.stride, config.dilation
    offsets = [(a * dh, b * dw) for a in range(kh) for b in range(kw)]
    return [tuple((i * sh + da, j * sw + db) for da, db in offsets) for i in range(oh) for j in range(ow)]


class Frames(Sequence):
    """The frames of one computation, each built the first time it is read: a 28x28 input has
    784 and the screen shows one at a time. Reads like a tuple of `Frame` (len, index, slice)."""

    def __init__(self, count: int, make) -> None:
        self._count = count
        self._make = make
        self._cache: dict[int, Frame] = {}

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, k):
        if isinstance(k, slice):
            return tuple(self[i] for i in range(*k.indices(self._count)))
        if k < 0:
            k += self._count
        if not 0 <= k < self._count:
            raise IndexError(k)
        frame = self._cache.get(k)
        if frame is None:
            frame = self._cache[k] = self._make(k)
        return frame

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Frames({self._count})"


def _conv(config: Config) -> Result:
    fh, fw = formulas(config)
    padded = _pad(config.input, *config.padding, 0)
    windows = _windows(config, fh.value, fw.value)
    per_plane = len(windows)
    chans = tuple(c for c in range(len(padded)) for _ in range(len(windows[0])))
    # channel-major weights, in the same order as the terms
    weights = [[v for kc in kern for row in kc for v in row] for kern in config.kernel]

    def gather(window: tuple[tuple[int, int], ...]) -> list[Number]:
        return [xc[r][col] for xc in padded for r, col in window]

    gathered = [gather(w) for w in windows]
    output = tuple(
        tuple(tuple(sum(map(mul, gathered[i * fw.value + j], wo)) + bias for j in range(fw.value))
              for i in range(fh.value))
        for wo, bias in zip(weights, config.bias))

    def make(k: int) -> Frame:
        o, cell = divmod(k, per_plane)
        i, j = divmod(cell, fw.value)
        xs, wo = gathered[cell], weights[o]
        running = tuple(accumulate(map(mul, xs, wo)))
        return Frame(k, "conv", (o, i, j), windows[cell], tuple(zip(xs, wo)), running,
                     config.bias[o], output[o][i][j], chans)

    return Result(config, padded, output, Frames(len(config.kernel) * per_plane, make), (fh, fw))


def _pool(config: Config) -> Result:
    fh, fw = formulas(config)
    is_max = config.mode == "max"
    padded = _pad(config.input, *config.padding, None if is_max else 0)
    kh, kw = config.kernel_size
    windows = _windows(config, fh.value, fw.value)
    per_plane = len(windows)

    def values(c: int, window: tuple[tuple[int, int], ...]) -> list[Number]:
        xc = padded[c]
        vals = [xc[r][col] for r, col in window]
        return [v for v in vals if v is not None] if is_max else vals  # -inf padding never wins

    def reduce(vals: list[Number]) -> Number:
        if is_max:  # a dilated window can fall wholly in the padding: torch gives -inf there
            return max(vals) if vals else float("-inf")
        return sum(vals) / (kh * kw)  # count_include_pad=True, as torch

    output = tuple(
        tuple(tuple(reduce(values(c, windows[i * fw.value + j])) for j in range(fw.value))
              for i in range(fh.value))
        for c in range(len(padded)))

    def make(k: int) -> Frame:
        c, cell = divmod(k, per_plane)
        i, j = divmod(cell, fw.value)
        vals = values(c, windows[cell])
        running = tuple(accumulate(vals, max if is_max else None)) or (output[c][i][j],)  # all padding: -inf
        return Frame(k, config.mode, (c, i, j), windows[cell], tuple((v, None) for v in vals), running,
                     0, output[c][i][j], divisor=1 if is_max else kh * kw)

    return Result(config, padded, output, Frames(len(padded) * per_plane, make), (fh, fw))


def _transposed(config: Config) -> Result:
    fh, fw = formulas(config)
    c_in, h, w = config.input_shape
    _, c_out, kh, kw = config.kernel_shape
    (sh, sw), (ph, pw), (dh, dw) = config.stride, config.padding, config.dilation
    full_h = (h - 1) * sh + dh * (kh - 1) + 1
    full_w = (w - 1) * sw + dw * (kw - 1) + 1
    full = [[[config.bias[o]] * full_w for _ in range(full_h)] for o in range(c_out)]
    for o in range(c_out):
        plane = full[o]
        for c in range(c_in):
            kern, xc = config.kernel[c][o], config.input[c]
            for i in range(h):
                for j in range(w):
                    x = xc[i][j]
                    for a in range(kh):
                        row = plane[i * sh + a * dh]
                        for b in range(kw):
                            row[j * sw + b * dw] += x * kern[a][b]
    full_t = tuple(tuple(tuple(row) for row in plane) for plane in full)
    output = tuple(tuple(row[pw:full_w - pw] for row in plane[ph:full_h - ph]) for plane in full_t)
    per_out = c_in * h * w

    def total_at(o: int, r: int, col: int, upto: int) -> Number:
        """Bias plus every contribution to full-output cell (r, col) from frames <= upto."""
        total = config.bias[o]
        for a in range(kh):
            i, rem = divmod(r - a * dh, sh)
            if rem or not 0 <= i < h:
                continue
            for b in range(kw):
                j, rem = divmod(col - b * dw, sw)
                if rem or not 0 <= j < w:
                    continue
                for c in range(c_in):
                    if o * per_out + (c * h + i) * w + j <= upto:
                        total += config.input[c][i][j] * config.kernel[c][o][a][b]
        return total

    def make(k: int) -> Frame:
        o, rest = divmod(k, per_out)
        c, cell = divmod(rest, h * w)
        i, j = divmod(cell, w)
        x, kern = config.input[c][i][j], config.kernel[c][o]
        window = tuple((i * sh + a * dh, j * sw + b * dw) for a in range(kh) for b in range(kw))
        terms = tuple((x, kern[a][b]) for a in range(kh) for b in range(kw))
        running = tuple(total_at(o, r, col, k) for r, col in window)
        return Frame(k, "transposed", (o, i * sh - ph, j * sw - pw), window, terms, running,
                     config.bias[o], x, in_index=(c, i, j))

    result = Result(config, config.input, output, Frames(c_out * per_out, make), (fh, fw), full=full_t)
    return result


def canvas_after(result: Result, step: int) -> tuple[tuple[tuple[Number, ...], ...], frozenset]:
    """Transposed convolution: the uncropped output channel of frame `step` as it stands after
    that step, and the set of (row, col) cells written so far."""
    cfg = result.config
    c_in, h, w = cfg.input_shape
    _, _, kh, kw = cfg.kernel_shape
    (sh, sw), (dh, dw) = cfg.stride, cfg.dilation
    per_out = c_in * h * w
    o = step // per_out
    plane = result.full[o]
    canvas = [[cfg.bias[o]] * len(plane[0]) for _ in plane]
    touched = set()
    for k in range(o * per_out, step + 1):
        c, cell = divmod(k - o * per_out, h * w)
        i, j = divmod(cell, w)
        x, kern = cfg.input[c][i][j], cfg.kernel[c][o]
        for a in range(kh):
            row = canvas[i * sh + a * dh]
            for b in range(kw):
                row[j * sw + b * dw] += x * kern[a][b]
                touched.add((i * sh + a * dh, j * sw + b * dw))
    return tuple(tuple(r) for r in canvas), frozenset(touched)


# ----------------------------------------------------------------------------- text


def fmt(v: Number | None) -> str:
    """A number as the screen and CLI show it: ints plainly, floats to 4 significant digits."""
    if v is None:
        return "-inf"
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.4g}"
    return str(v)


def _paren(v: Number | None) -> str:
    s = fmt(v)
    return f"({s})" if s.startswith("-") else s


def products_text(frame: Frame, channel: int | None = None) -> str:
    """`0x0 + 1x1 + 3x2 + 4x3 = 19`; max pooling `max(0, 1, 3, 4) = 4`; avg `(0 + 1 + 3 + 4) / 4 = 2`.

    With `channel`, a conv frame shows only that input channel's products and their sum."""
    if frame.kind == "max":
        inside = ", ".join(fmt(x) for x, _ in frame.terms) or "only padding"
        return f"max({inside}) = {fmt(frame.value)}"
    if frame.kind == "avg":
        return f"({' + '.join(_paren(x) for x, _ in frame.terms)}) / {frame.divisor} = {fmt(frame.value)}"
    if frame.kind == "transposed":
        return f"{_paren(frame.value)} x kernel -> " + ", ".join(
            f"{_paren(x)}x{_paren(w)}" for x, w in frame.terms)
    terms = frame.terms
    if channel is not None and frame.channels:
        terms = tuple(t for t, c in zip(frame.terms, frame.channels) if c == channel)
        total = sum(x * (w or 0) for x, w in terms)  # conv terms always carry a weight
        return f"{' + '.join(f'{_paren(x)}x{_paren(w)}' for x, w in terms)} = {fmt(total)}"
    text = " + ".join(f"{_paren(x)}x{_paren(w)}" for x, w in terms)
    if frame.bias:
        text += f" + {_paren(frame.bias)}"
    return f"{text} = {fmt(frame.value)}"


# ----------------------------------------------------------------------------- live edits


def resize_kernel(config: Config, kh: int, kw: int) -> Config:
    """The same config with a kh x kw kernel: overlapping values kept, new cells set to 1."""
    if not (1 <= kh <= MAX_KERNEL and 1 <= kw <= MAX_KERNEL):
        raise ConfigError("kernel", f"size must be 1..{MAX_KERNEL}, got {kh}x{kw}")
    old_h, old_w = config.kernel_size

    def cell(k2: tuple, a: int, b: int) -> Number:
        return k2[a][b] if a < old_h and b < old_w else 1

    kernel = tuple(tuple(tuple(tuple(cell(k2, a, b) for b in range(kw)) for a in range(kh))
                         for k2 in outer) for outer in config.kernel)
    stride = config.stride
    if config.mode in ("max", "avg") and config.stride == config.kernel_size:
        stride = (kh, kw)
    new = replace(config, kernel=kernel, stride=stride)
    validate(new)
    return new


def switch_mode(config: Config, mode: str) -> Config:
    """The config seen through another operation; kernel layout and limits adjusted to fit."""
    if mode not in MODES:
        raise choice_error("mode", mode, MODES)
    if mode == config.mode:
        return config
    kernel = config.kernel
    if (mode == "transposed") != (config.mode == "transposed"):
        # conv [O][C] <-> transposed [C][O]: swap the first two axes.
        kernel = tuple(tuple(kernel[a][b] for a in range(len(kernel))) for b in range(len(kernel[0])))
    if mode in ("max", "avg"):
        kh, kw = config.kernel_size
        padding = (min(config.padding[0], kh // 2), min(config.padding[1], kw // 2))
        dilation = config.dilation if mode == "max" else (1, 1)  # avg_pool2d has no dilation
        new = replace(config, mode=mode, kernel=kernel, padding=padding, dilation=dilation, bias=())
    else:
        o = len(kernel[0]) if mode == "transposed" else len(kernel)
        bias = config.bias if len(config.bias) == o else (0,) * o
        new = replace(config, mode=mode, kernel=kernel, bias=bias)
    validate(new)
    return new
