"""Fine-tuning: start from another run's weights, re-initialise some modules, train only some.

Module names are those `dllab shapes MODEL` prints (`torch.nn.Module.named_modules`: `0`, `3`, `11`
for LeNet's layers, `features.0` in nested models). A name also selects everything under it (`features`
selects `features.0`, `features.1.conv`, ...), so a prefix names a whole block; `1` never selects `11`.

    --init-from RUN   the run's final weights (or its last complete epoch's, for a run that stopped);
                      every tensor must fit this run's model except those under --reset
    --reset NAMES     these modules keep a fresh initialisation (a new head for a new task)
    --trainable NAMES only these modules' parameters train: the rest get requires_grad False, and
                      the optimizer is given the trainable parameters only (so weight decay and
                      momentum never move a frozen weight)
"""

from __future__ import annotations

from typing import Any

from tui_lab.errors import ConfigError


def parse_names(field: str, value: Any) -> tuple[str, ...]:
    """`"0,3 11"` or a list -> ("0", "3", "11"); ConfigError naming the field for an empty name."""
    if value is None:
        return ()
    items = value if isinstance(value, (list, tuple)) else str(value).replace(",", " ").split()
    names = tuple(str(v).strip().strip(".") for v in items)
    if any(not n for n in names):
        raise ConfigError(field, f"module names are separated by commas, e.g. 0,3; got {value!r}")
    return names


def selects(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def module_names(model: Any) -> list[str]:
    return [name for name, _ in model.named_modules() if name]


def check_names(model: Any, names: tuple[str, ...], field: str, model_name: str = "the model") -> None:
    """Every name must select at least one module; ConfigError listing the top-level ones otherwise."""
    all_names = module_names(model)
    for prefix in names:
        if not any(selects(n, prefix) for n in all_names):
            top = [n for n in all_names if "." not in n]
            raise ConfigError(field, f"no module {prefix!r} in {model_name}; its modules (as `dllab shapes` prints "
                                     f"them): {', '.join(top[:30])}")


def load_init(model: Any, weights: dict[str, Any], reset: tuple[str, ...], source: str) -> None:
    """Copy `weights` into `model`, skipping the tensors of modules under `reset`; ConfigError("init_from")
    naming the first tensor that is missing or has another shape."""
    own = model.state_dict()
    keep = {k: v for k, v in weights.items() if not any(selects(k.rsplit(".", 1)[0], r) for r in reset)}
    for key, tensor in own.items():
        if any(selects(key.rsplit(".", 1)[0], r) for r in reset):
            continue
        if key not in keep:
            raise ConfigError("init_from", f"{source} has no {key!r}: it is another model (same --model and options needed)")
        if tuple(keep[key].shape) != tuple(tensor.shape):
            have = "x".join(map(str, keep[key].shape)) or "scalar"
            want = "x".join(map(str, tensor.shape)) or "scalar"
            module = key.rsplit(".", 1)[0]
            raise ConfigError("init_from", f"{source}'s {key} is {have}, this model's is {want}; "
                                           f"re-initialise it with --reset {module}")
    extra = sorted(set(keep) - set(own))
    if extra:
        raise ConfigError("init_from", f"{source} has {extra[0]!r}, which this model lacks: it is another model")
    model.load_state_dict({**own, **keep})


def freeze(model: Any, trainable: tuple[str, ...]) -> None:
    """requires_grad True exactly for the parameters under `trainable` (all of them when it is empty)."""
    for name, p in model.named_parameters():
        p.requires_grad_(not trainable or any(selects(name.rsplit(".", 1)[0], t) for t in trainable))


def trainable_parameters(model: Any) -> list[Any]:
    return [p for p in model.parameters() if p.requires_grad]


def count_all(model: Any) -> int:
    """Every parameter, frozen or not (count_parameters counts only those that train)."""
    return sum(p.numel() for p in model.parameters())


def count_trainable(model: Any) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def source_weights(run_id: int, store: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(state_dict, config) of run `run_id`: its final weights, or its last saved epoch's."""
    import torch

    from tui_lab.checkpoints import load_state
    from tui_lab.runs import RunStore

    store = store or RunStore()
    summary = store.get_run(int(run_id)).summary
    final = store.checkpoint_path(summary.id)
    if final.is_file():
        try:
            weights = torch.load(str(final), map_location="cpu", weights_only=True)
        except Exception as exc:
            raise ConfigError("init_from", f"cannot read run {summary.id}'s weights {final}: {type(exc).__name__}") from None
        return weights, summary.config
    state_file = store.state_path(summary.id)
    if state_file.is_file():
        return load_state(state_file, "init_from")["model"], summary.config
    raise ConfigError("init_from", f"run {summary.id} has no saved weights (it stopped before its first epoch ended)")
