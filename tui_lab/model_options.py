"""Which model takes which option (hidden sizes, activation, dropout, batch norm), and the form's text
turned into `TrainConfig.model_options`, with a one-line error naming the field otherwise.

No torch here: the train form greys out the options a model does not take before torch has loaded.
`ACTIVATION_NAMES` matches `tui_lab.models.ACTIVATIONS` (a test checks it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tui_lab.errors import ConfigError, choice_error

# option -> the models it applies to (the others ignore it)
OPTION_MODELS: dict[str, tuple[str, ...]] = {
    "hidden": ("mlp", "rnn", "gru", "lstm", "autoencoder"),
    "activation": ("mlp", "autoencoder"),
    "dropout": ("mlp", "alexnet", "vgg", "nin"),
    "batch_norm": ("lenet", "lenet-relu"),
}
OPTIONS = tuple(OPTION_MODELS)
ACTIVATION_NAMES = ("sigmoid", "tanh", "relu", "leakyrelu", "elu", "none")
RECURRENT = ("rnn", "gru", "lstm")
# what the model uses when the field is left empty (shown as the field's placeholder)
DEFAULTS: dict[str, dict[str, Any]] = {
    "mlp": {"hidden": "256", "activation": "relu", "dropout": "0"},
    "autoencoder": {"hidden": "128", "activation": "relu"},  # latent: 2 (dllab train --latent, a preset)
    "rnn": {"hidden": "64"}, "gru": {"hidden": "64"}, "lstm": {"hidden": "64"},
    "alexnet": {"dropout": "0.5"}, "vgg": {"dropout": "0.5"}, "nin": {"dropout": "0.5"},
}


def applies(option: str, model: str | None) -> bool:
    return (model or "").strip().lower() in OPTION_MODELS.get(option, ())


def _hidden(model: str, text: str) -> list[int] | int:
    parts = [p.strip() for p in text.replace(" ", ",").split(",") if p.strip()]
    try:
        sizes = [int(p) for p in parts]
    except ValueError:
        sizes = []
    if not sizes or any(s < 1 for s in sizes):
        raise ConfigError("hidden", f"integers >= 1 separated by commas, e.g. 256,128; got {text!r}")
    if model in RECURRENT:
        if len(sizes) != 1:
            raise ConfigError("hidden", f"{model} takes one hidden size, e.g. 64; got {text!r}")
        return sizes[0]
    return sizes


def _dropout(text: str) -> float:
    try:
        p = float(text)
    except ValueError:
        p = -1.0
    if not 0.0 <= p < 1.0:
        raise ConfigError("dropout", f"a probability in [0, 1), e.g. 0.5; got {text!r}")
    return p


def parse_model_options(model: str, hidden: str = "", activation: str | None = None, dropout: str = "",
                        batch_norm: bool | str | None = False) -> dict[str, Any]:
    """The options the model takes, from the form's text; empty fields keep the model's defaults."""
    model = (model or "").strip().lower()
    out: dict[str, Any] = {}
    hidden, dropout = str(hidden or "").strip(), str(dropout or "").strip()
    if applies("hidden", model) and hidden:
        out["hidden"] = _hidden(model, hidden)
    if applies("activation", model) and activation:
        name = str(activation).strip().lower()
        if name not in ACTIVATION_NAMES:
            raise choice_error("activation", activation, ACTIVATION_NAMES)
        out["activation"] = name
    if applies("dropout", model) and dropout:
        out["dropout"] = _dropout(dropout)
    if applies("batch_norm", model) and str(batch_norm).lower() in ("true", "on", "1", "yes"):
        out["batch_norm"] = True
    return out


def form_values(preset: Mapping[str, Any]) -> dict[str, str]:
    """A preset's model options as the form shows them (flat keys or a `model_options` table)."""
    options = {**dict(preset.get("model_options") or {}), **{k: preset[k] for k in OPTIONS if k in preset}}
    out: dict[str, str] = {}
    if "hidden" in options:
        hidden = options["hidden"]
        out["hidden"] = ",".join(str(h) for h in hidden) if isinstance(hidden, (list, tuple)) else str(hidden)
    if "activation" in options:
        out["activation"] = str(options["activation"]).lower()
    if "dropout" in options:
        out["dropout"] = f"{float(options['dropout']):g}"
    if "batch_norm" in options:
        out["batch_norm"] = "on" if options["batch_norm"] else "off"
    return out
