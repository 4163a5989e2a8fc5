"""One real forward pass with hooks on every module: `trace` (a spec) and `trace_model` (a module).

Rows are recorded as the modules are called (a module called twice gives two rows); a failing pass
still returns the rows up to the failure plus its `Mismatch`. Torch loads on the first trace.
"""

from __future__ import annotations

import sys
from typing import Any

from tui_lab.shapes.macs import counting_lines, layer_macs
from tui_lab.shapes.mismatch import diagnose
from tui_lab.shapes.parsing import parse_input_shape
from tui_lab.shapes.receptive_field import record_receptive_field
from tui_lab.shapes.resolve import resolve_model
from tui_lab.shapes.results import Call, LayerRow, Mismatch, ShapeTrace


def trace(spec: str, input_shape: str | tuple | None = None, dataset: str = "digits") -> ShapeTrace:
    """Resolve `spec`, then trace it for `input_shape` (default: the data set's or the demo's)."""
    shape = parse_input_shape(input_shape) if input_shape not in (None, "") else None
    resolved = resolve_model(spec, dataset)
    return trace_model(resolved.model, shape or resolved.default_input, name=resolved.label)


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


def trace_model(model, input_shape: tuple[int, ...], *, name: str = "", batch_size: int = 1) -> ShapeTrace:
    """Run one forward pass of `model` on zeros of shape (batch_size, *input_shape) and record it."""
    import torch

    shape = parse_input_shape(input_shape)
    _check_trace_memory(model, shape, batch_size, name)
    calls: list[Call] = []
    stack: list[Call] = []
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
        call = Call(
            index=len(calls), module=module, name=names.get(id(module), "?"), depth=len(stack),
            parent=parent.index if parent else None,
            input_shape=tuple(first.shape) if first is not None else None, input_tensor=first,
        )
        if parent is not None:
            parent.children.append(call.index)
        calls.append(call)
        stack.append(call)

    raised: list[Call] = []  # calls whose forward raised, innermost first

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
            call.own_macs = layer_macs(module, call.input_tensor, outs[0] if outs else None)
            call.counting = counting_lines(module, call.input_tensor, outs[0] if outs else None, call.own_macs)
        except Exception:  # counting must never break a trace
            call.own_macs = 0
        try:
            record_receptive_field(call, module, outs[0] if outs else None, lookup_rf, rf_map, calls)
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
    failing: Call | None = None
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
        error = diagnose(failing, exc, calls)
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


def _check_trace_memory(model, shape: tuple[int, ...], batch_size: int, name: str) -> None:
    """ConfigError('input', ...) before the trace when its activations (all kept: the receptive-field
    bookkeeping holds them) would not fit in free memory; estimated on the meta device."""
    from tui_lab import limits

    act = limits.activation_bytes(model, shape, batch_size)
    if act is None:
        return
    first = next((p for p in model.parameters() if p.is_floating_point() and _numel(p)), None)
    device = str(first.device) if first is not None else "cpu"
    size = "x".join(str(s) for s in shape)
    limits.check_memory("input", act, device, f"tracing {name or type(model).__name__} on input {size}",
                        "give a smaller --input")


def _numel(p) -> int:
    from torch.nn.parameter import UninitializedParameter

    return 0 if isinstance(p, UninitializedParameter) else p.numel()


def _rows(model, calls: list[Call], failing_index: int | None) -> list[LayerRow]:
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
