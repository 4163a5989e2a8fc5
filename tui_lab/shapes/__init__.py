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

Modules, each importing only those above it (none imports torch at import time: `dllab --help` lists
the demos without loading torch; torch loads on the first trace):
  results          LayerRow, Mismatch, ShapeTrace (frozen), Call (the hooks' mutable record)
  parsing          parse_input_shape; format_shape/count/bytes, seed_count/macs
  demos            DEMOS: the seeds' demo models
  resolve          resolve_model: zoo name, torchvision:NAME, module:callable, demo
  macs             layer_macs, counting_lines, MAC_NOTE
  receptive_field  geometry, output-size formulas, record_receptive_field
  mismatch         diagnose: a failing layer in the learner's terms
  tracing          trace, trace_model: the forward pass with hooks
  comparisons      COMPARISONS, compare: several models side by side
  conv_handoff     conv_preset: a conv/pool row replayed in the conv screen (the screen sizes it)
"""

from __future__ import annotations

from tui_lab.shapes.comparisons import COMPARISONS, CompareRow, compare, comparison_group
from tui_lab.shapes.conv_handoff import conv_preset
from tui_lab.shapes.demos import DEMOS, Demo
from tui_lab.shapes.macs import MAC_NOTE
from tui_lab.shapes.parsing import (
    MAX_INPUT_ELEMENTS,
    format_bytes,
    format_count,
    format_shape,
    parse_input_shape,
    seed_count,
    seed_macs,
)
from tui_lab.shapes.resolve import TORCHVISION_DEFAULT_INPUT, ResolvedModel, resolve_model
from tui_lab.shapes.results import LayerRow, Mismatch, ShapeTrace, row_to_dict
from tui_lab.shapes.tracing import trace, trace_model

__all__ = [
    "COMPARISONS", "CompareRow", "DEMOS", "Demo", "LayerRow", "MAC_NOTE", "MAX_INPUT_ELEMENTS", "Mismatch",
    "ResolvedModel", "ShapeTrace", "TORCHVISION_DEFAULT_INPUT", "compare", "comparison_group", "conv_preset",
    "format_bytes", "format_count", "format_shape", "parse_input_shape", "resolve_model", "row_to_dict",
    "seed_count", "seed_macs", "trace", "trace_model",
]
