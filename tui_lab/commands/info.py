"""`dllab models`, `dllab datasets`, `dllab devices`, `dllab doctor`: what this lab and machine offer."""

from __future__ import annotations

import typer

from tui_lab.commands._common import fail, print_json


def register(app: typer.Typer) -> None:
    app.command("models")(models_command)
    app.command("datasets")(datasets_command)
    app.command("devices")(devices_command)
    app.command("doctor")(doctor_command)


def _table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*r)
    Console().print(table)


def models_command(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """List the model zoo."""
    from tui_lab.models import MODELS

    if as_json:
        print_json({"models": [{"name": m.name, "description": m.description, "data": list(m.kinds)} for m in MODELS.values()]})
        return
    _table("models", ["name", "data", "description"], [[m.name, ", ".join(m.kinds), m.description] for m in MODELS.values()])


def datasets_command(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """List the data sets (embedded ones need no network)."""
    from tui_lab.data import DATASETS

    items = [{"name": d.name, "kind": d.kind, "task": d.task, "input_shape": list(d.input_shape),
              "classes": d.num_classes, "embedded": d.embedded, "description": d.description} for d in DATASETS.values()]
    if as_json:
        print_json({"datasets": items})
        return
    _table("data sets", ["name", "input", "classes", "embedded", "description"],
           [[i["name"], "x".join(map(str, i["input_shape"])), str(i["classes"] or "regression"),
             "yes" if i["embedded"] else "download", i["description"]] for i in items])


def devices_command(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """List compute devices (cpu, cuda:N with name and memory, mps)."""
    from dataclasses import asdict

    from tui_lab.devices import list_devices, resolve_device

    devices = list_devices()
    if as_json:
        print_json({"devices": [asdict(d) for d in devices], "auto": resolve_device("auto")})
        return
    _table(f"devices (auto = {resolve_device('auto')})", ["device", "description"],
           [[d.name, d.label().split("  ", 1)[1]] for d in devices])


def doctor_command(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Check the set-up: versions, devices, terminal, data cache and run store."""
    import os
    import platform
    import shutil
    import sys

    import torch

    from tui_lab import __version__
    from tui_lab.data import default_data_dir
    from tui_lab.devices import list_devices
    from tui_lab.runs import check_store, default_store_path
    from tui_lab.threads import choose_threads

    size = shutil.get_terminal_size((0, 0))
    colors = os.environ.get("COLORTERM") or os.environ.get("TERM", "unknown")
    info = {
        "dllab": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda_available": torch.cuda.is_available(),
        "cuda_version": torch.version.cuda,
        "devices": [d.label() for d in list_devices()],
        "threads": {**choose_threads(None).to_json(), "torch_default": torch.get_num_threads()},
        "terminal": {"columns": size.columns, "lines": size.lines, "colors": colors,
                     "fits_app": size.columns >= 80 and size.lines >= 24},
        "data_dir": str(default_data_dir()),
        "run_store": str(default_store_path()),
        "run_store_check": check_store(),
        "executable": sys.executable,
    }
    try:
        import textual

        info["textual"] = textual.__version__
    except Exception as exc:  # report, do not crash: that is the point of doctor
        info["textual"] = f"missing ({exc})"
    store = info["run_store_check"]
    if as_json:
        print_json(info)
    else:
        _doctor_table(info)
    if not store["usable"]:
        raise fail(f"run store {store['path']} is not usable: {store['problem']}", 1)


def _doctor_table(info: dict) -> None:
    rows = []
    for k, v in info.items():
        if k == "threads":
            v = f"{v['threads']} for training (--threads auto; torch's default {v['torch_default']}): {v['reason']}"
        elif isinstance(v, list):
            v = "; ".join(v)
        elif isinstance(v, dict):
            v = ", ".join(f"{a}={b}" for a, b in v.items() if b is not None)
        rows.append([k, str(v)])
    if not info["terminal"]["fits_app"]:
        rows.append(["warning", "the app needs a terminal of at least 80x24"])
    _table("dllab doctor", ["check", "value"], rows)
