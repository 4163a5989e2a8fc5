"""What a trace returns: one frozen row per module call, the diagnosis of a failure, the whole trace.

`Call` is the mutable record the hooks fill while the forward pass runs; `trace.trace_model` freezes
the calls into `LayerRow`s. Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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


@dataclass
class Call:
    """One module call while the forward pass runs, filled in by the hooks (mutable; internal)."""

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
