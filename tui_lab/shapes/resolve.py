"""Turn a model spec into a model: a zoo name, `torchvision:NAME`, a user's `module:callable`, or a demo.

Importing this module is cheap: torch, torchvision, the zoo and the user's module load on resolving.
"""

from __future__ import annotations

import difflib
import importlib
import os
import sys
from dataclasses import dataclass
from typing import Any

from tui_lab.errors import ConfigError, choice_error
from tui_lab.shapes.demos import DEMOS

TORCHVISION_DEFAULT_INPUT = (3, 224, 224)


@dataclass(frozen=True)
class ResolvedModel:
    model: Any  # nn.Module
    default_input: tuple[int, ...]
    label: str
    kind: str  # "zoo" | "torchvision" | "user" | "demo"


def _allowed_specs() -> list[str]:
    from tui_lab.models import MODELS

    return [*MODELS, *DEMOS, "torchvision:NAME", "module:callable"]


def resolve_model(spec: str, dataset: str = "digits") -> ResolvedModel:
    """Build the model a spec names; raises ConfigError('model', ...) when it cannot."""
    text = (spec or "").strip()
    if not text:
        raise ConfigError("model", "missing; give a zoo name (lenet, resnet, ...), torchvision:NAME or module:callable")
    key = text.lower()
    if key in DEMOS:
        demo = DEMOS[key]
        return ResolvedModel(demo.build(), demo.input_shape, key, "demo")
    if key.startswith("torchvision:"):
        return _resolve_torchvision(text.split(":", 1)[1].strip())
    if ":" in text:
        return _resolve_user(text)
    from tui_lab.data import dataset_info
    from tui_lab.models import MODELS, build_model

    if key not in MODELS:
        raise choice_error("model", text, _allowed_specs())
    info = dataset_info(dataset)
    return ResolvedModel(build_model(key, info), tuple(info.input_shape), key, "zoo")


def _resolve_torchvision(name: str) -> ResolvedModel:
    import torchvision.models as tvm

    names = sorted(tvm.list_models(module=tvm))
    if name not in names:
        close = difflib.get_close_matches(name, names, n=5)
        hint = f"did you mean {', '.join(close)}?" if close else f"e.g. {', '.join(names[:6])}, ..."
        raise ConfigError("model", f"unknown torchvision classification model {name!r}; {hint} "
                                   "(all: torchvision.models.list_models())")
    kwargs: dict[str, Any] = {"weights": None}
    if name in ("googlenet", "inception_v3"):
        kwargs["aux_logits"] = False
        kwargs["init_weights"] = False
    model = tvm.get_model(name, **kwargs)
    default = (3, 299, 299) if name == "inception_v3" else TORCHVISION_DEFAULT_INPUT
    return ResolvedModel(model, default, f"torchvision:{name}", "torchvision")


def _resolve_user(text: str) -> ResolvedModel:
    from torch import nn

    module_name, _, attr = text.partition(":")
    module_name, attr = module_name.strip(), attr.strip()
    if not module_name or not attr:
        raise ConfigError("model", f"expected module:callable or module:Class, got {text!r}")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = sys.modules.get(module_name)
        if module is not None and _is_local(module, cwd):
            module = importlib.reload(module)  # the learner edited their file: trace the new version
        else:
            module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError("model", f"cannot import {module_name!r} from the current directory or PYTHONPATH ({exc})") from None
    except (Exception, SystemExit) as exc:  # the user's module raised (or called sys.exit) while importing
        raise ConfigError("model", f"importing {module_name!r} failed: {type(exc).__name__}: {exc}") from None
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigError("model", f"{module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not isinstance(obj, nn.Module):
        if not callable(obj):
            raise ConfigError("model", f"{text!r} is neither an nn.Module nor callable")
        try:
            obj = obj()
        except (Exception, SystemExit) as exc:  # sys.exit in the user's code is an error, not an exit
            raise ConfigError("model", f"building {text!r} with no arguments failed: {type(exc).__name__}: {exc}") from None
        if not isinstance(obj, nn.Module):
            raise ConfigError("model", f"{text!r} returned {type(obj).__name__}, not an nn.Module")
    return ResolvedModel(obj, (1, 28, 28), text, "user")


def _is_local(module, cwd: str) -> bool:
    path = getattr(module, "__file__", None) or ""
    return bool(path) and os.path.abspath(path).startswith(os.path.abspath(cwd) + os.sep) and "site-packages" not in path
