"""Why a forward pass failed, said in the learner's terms: the layer, the shape it got, what it expected
and the fix (Linear in_features, conv channels, a kernel larger than the shrunken image, RNN input size).

Torch loads on the first diagnosis.
"""

from __future__ import annotations

import math

from tui_lab.shapes.parsing import format_shape
from tui_lab.shapes.receptive_field import geometry
from tui_lab.shapes.results import Call, Mismatch


def diagnose(call: Call | None, exc: Exception, calls: list[Call]) -> Mismatch:
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
    g = geometry(module)
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
    g = geometry(module)
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


def _previous_output(call: Call, calls: list[Call]) -> tuple[int, ...] | None:
    """Output shape of the last layer that finished before `call` failed (a child of it, or before it)."""
    for c in reversed(calls):
        if c.done and c.output_shape is not None and c.index != call.index:
            return c.output_shape
    return None


def _at(name: str) -> str:
    return f" at {name!r}" if name else ""


def _flattened_source(n: int, calls: list[Call]) -> tuple[int, ...] | None:
    """The last multi-dimensional output whose flattened size is n (what a Flatten turned into n)."""
    for c in reversed(calls):
        if c.done and c.output_shape is not None and len(c.output_shape) >= 3 and math.prod(c.output_shape[1:]) == n:
            return c.output_shape
    return None
