"""Receptive field, jump and the output-size formula of each layer, followed from the input.

rf += (dilation*(k-1)) * jump, jump *= stride through conv/pool layers; transposed convs and upsampling
make the grid finer; where branches meet (concatenation, residual sum) the larger field is kept.
Torch loads on the first layer looked at.
"""

from __future__ import annotations

import math

from tui_lab.shapes.results import Call


def geometry(module):
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


def _ntuple(value, n: int) -> tuple:
    if isinstance(value, (tuple, list)):
        return tuple(value) if len(value) == n else tuple(value) * n if len(value) == 1 else tuple(value)
    return (value,) * n


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


def record_receptive_field(call: Call, module, out, lookup_rf, rf_map, calls) -> None:
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

    g = geometry(module)
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
            mixed = 0 if module.mode == "nearest" else 1  # (bi/tri)linear mixes two neighbours
            call.rf = tuple(r + mixed * j for r, j in zip(rf, jump))
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
