"""CLI command modules, one per area; each exposes `register(app)` adding its commands.

Adding an area means adding a module here and its name to `MODULES`; `cli.py` stays unchanged.
"""

from __future__ import annotations

import importlib

import typer

MODULES = (
    "train",  # dllab train
    "info",  # dllab models / datasets / devices / doctor
    "runs",  # dllab runs [show|export]
    "conv",  # dllab conv / pool / transposed
    "shapes",  # dllab shapes
    "compare",  # dllab compare / landscape
    "lessons",  # dllab lessons [--check]
    "playground",  # dllab playground
    "serve",  # dllab serve (the app in a browser)
    "features",  # dllab features
    "glossary",  # dllab glossary
    "gan",  # dllab gan
    "attention",  # dllab attention
    "latent",  # dllab latent
)


def register_all(app: typer.Typer) -> None:
    for name in MODULES:
        module = importlib.import_module(f"tui_lab.commands.{name}")
        module.register(app)
