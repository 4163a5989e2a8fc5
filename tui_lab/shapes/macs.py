"""Multiply-accumulates of one layer, and the lines that show how its parameters and MACs add up.

The convention (`MAC_NOTE`) is the seeds' Inception table's: weight multiply-accumulates for one
example; norm layers one per element; bias, activations and pooling 0. Torch loads on the first count.
"""

from __future__ import annotations

import math

from tui_lab.shapes.parsing import format_shape

MAC_NOTE = (
    "MACs: weight multiply-accumulates for one example (conv, linear, RNN/GRU/LSTM);\n"
    "norm layers 1 per element; bias, activations and pooling 0"
)


def layer_macs(module, inp, out) -> int:
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


def counting_lines(module, inp, out, macs: int) -> tuple[str, ...]:
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
