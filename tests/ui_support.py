"""Helpers shared by the app's UI tests: sample lessons, an app on a temp store, waiting on Pilot."""

from __future__ import annotations

import asyncio
import functools
import time
from pathlib import Path

from textual.app import App

import sklearn.datasets  # noqa: F401  (the digits data set needs it; import once, not mid-test)

LESSONS = {
    "01-softmax.md": '''+++
id = "softmax-digits"
title = "Softmax regression on digits"
section = "Linear neural networks"
order = 1
tool = "train"
summary = "One linear layer and cross-entropy on handwritten digits."
[preset]
model = "softmax"
dataset = "digits"
optimizer = "sgd"
lr = 0.5
epochs = 2
batch_size = 32
+++
# Softmax regression

A linear layer gives **scores**; softmax turns them into probabilities.
''',
    "02-conv.md": '''+++
id = "conv-basics"
title = "Convolution step by step"
section = "Convolutional networks"
order = 2
tool = "conv"
summary = "A kernel slides over a padded input."
[preset]
preset = "corr2d"
+++
# Convolution

Slide, multiply, sum.
''',
    "03-mlp.md": '''+++
id = "mlp-digits"
title = "Multilayer perceptron"
section = "Multilayer perceptrons"
order = 3
tool = "train"
summary = "Hidden layers with a non-linearity."
[preset]
model = "mlp"
dataset = "digits"
+++
# MLP

Stack layers with activations between them.
''',
    "04-broken.md": '''+++
id = "broken-one"
title = "Broken"
section = "Linear neural networks"
+++
# missing fields
''',
}


def write_lessons(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in LESSONS.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def make_app(tmp_path: Path, **kwargs):
    from tui_lab.ui.app import DllabApp

    kwargs.setdefault("warm_torch", False)  # tests import torch up front; no background start-up
    return DllabApp(lessons_dir=write_lessons(tmp_path / "lessons"), **kwargs)


def sync(test):
    """Run an async Pilot test with asyncio (no pytest async plugin needed)."""

    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        asyncio.run(test(*args, **kwargs))

    return wrapper


async def wait_until(pilot, condition, timeout: float = 30.0, step: float = 0.05) -> float:
    """Pause the pilot until condition() is true; the seconds it took. Fails after `timeout`."""
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {condition}")
        await pilot.pause(step)
    return time.perf_counter() - start


def headless_run(store, **overrides):
    """A quick run recorded the way `dllab train` records it (no UI): its run id and events."""
    from tui_lab.recording import record
    from tui_lab.training import TrainConfig, train

    settings = dict(model="softmax", dataset="digits", optimizer="sgd", lr=0.5, epochs=1, batch_size=64,
                    device="cpu", report_every=5)
    settings.update(overrides)
    config = TrainConfig(**settings).validated()
    events = train(config)
    run_id = store.create_run(config.to_dict())
    return run_id, list(record(store, run_id, events))


class ScreenApp(App):
    """One tool screen alone in a tiny app, as a lesson opens it: `ScreenApp(ConvScreen, preset)`."""

    def __init__(self, screen_cls, preset: dict | None = None) -> None:
        super().__init__()
        self.screen_cls = screen_cls
        self.preset = preset
        # the title the per-file harness apps had (it appears in snapshot SVGs)
        self.title = screen_cls.__name__.removesuffix("Screen") + "App"

    def on_mount(self) -> None:
        self.push_screen(self.screen_cls(preset=self.preset))
