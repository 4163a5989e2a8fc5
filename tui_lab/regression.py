"""Linear regression runs: the weights and bias a run learned next to the true ones of the data.

`linear_fit(config, checkpoint)` loads the run's saved weights when it has a checkpoint; a run saved
without one is trained again on the CPU with the same config and seed (the engine is deterministic
there; the `linear` data set is 800 points, so this takes a fraction of a second). The result also
holds validation targets and predictions, sorted by target, for a fit plot.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

FIT_MODELS = ("linear",)
FIT_DATASETS = ("linear",)


@dataclass(frozen=True)
class LinearFit:
    true_w: tuple[float, ...]
    true_b: float
    fitted_w: tuple[float, ...]
    fitted_b: float
    targets: tuple[float, ...]  # validation y, ascending
    predictions: tuple[float, ...]  # the model's y-hat for the same examples
    refit: bool  # True: weights from training again on the CPU (the run kept no checkpoint)

    def lines(self) -> list[str]:
        """`w1  2.0000  fitted 1.9996` ... one line per parameter."""
        rows = [(f"w{i + 1}", t, f) for i, (t, f) in enumerate(zip(self.true_w, self.fitted_w))]
        rows.append(("b", self.true_b, self.fitted_b))
        return [f"{name:<3} true {t:8.4f}  fitted {f:8.4f}" for name, t, f in rows]


def fits(config) -> bool:
    return config.model in FIT_MODELS and config.dataset in FIT_DATASETS


def linear_fit(config, checkpoint: str | None = None) -> LinearFit | None:
    """The learned parameters of a linear model on the `linear` data set, or None for other runs."""
    import torch

    from tui_lab.data import LINEAR_B, LINEAR_W, load_dataset
    from tui_lab.training import Finished, load_checkpoint, train

    config = config.validated()
    if not fits(config):
        return None
    refit = checkpoint is None or not Path(checkpoint).exists()
    if refit:
        cpu = replace(config, device="cpu", amp="off")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "fit.pt"
            finished = [e for e in train(cpu, checkpoint_path=path) if isinstance(e, Finished)]
            if not finished:
                return None
            model = load_checkpoint(path, cpu)
    else:
        assert checkpoint is not None  # refit covers a missing one
        model = load_checkpoint(checkpoint, config)
    linear = next(m for m in model.modules() if isinstance(m, torch.nn.Linear))
    data = load_dataset(config.dataset)
    with torch.no_grad():
        pred = model(data.val_x.float()).reshape(-1)
    target = data.val_y.reshape(-1)
    order = torch.argsort(target)
    return LinearFit(tuple(float(v) for v in LINEAR_W), float(LINEAR_B),
                     tuple(float(v) for v in linear.weight.detach().reshape(-1)), float(linear.bias.detach()[0]),
                     tuple(target[order].tolist()), tuple(pred[order].tolist()), refit)
