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


# Chinese editions of two sample lessons (the third stays English: the catalog marks it), their
# section names, and a small glossary (issue 18)
LESSONS_ZH = {
    "01-softmax.md": LESSONS["01-softmax.md"].replace(
        'title = "Softmax regression on digits"', 'title = "手写数字上的 softmax 回归"').replace(
        'section = "Linear neural networks"', 'section = "线性神经网络"').replace(
        'summary = "One linear layer and cross-entropy on handwritten digits."',
        'summary = "一个线性层加交叉熵损失，识别手写数字。"').split("+++\n# Softmax")[0]
    + "+++\n# softmax 回归\n\n线性层给出每个类别的**分数**；softmax 把分数变成概率，交叉熵（cross-entropy）衡量"
      "预测的概率离真实标签有多远。这一段故意写得很长，用来检查中文段落在窄终端里是否按字符换行，"
      "而不是只在空格处换行。\n",
    "02-conv.md": LESSONS["02-conv.md"].replace(
        'title = "Convolution step by step"', 'title = "逐步理解卷积"').replace(
        'section = "Convolutional networks"', 'section = "卷积神经网络"').replace(
        'summary = "A kernel slides over a padded input."', 'summary = "卷积核在填充后的输入上滑动。"').split(
        "+++\n# Convolution")[0]
    + "+++\n# 卷积\n\n滑动、相乘、求和：这就是互相关（cross-correlation）。\n",
}
SECTIONS_ZH = ('"Linear neural networks" = "线性神经网络"\n"Convolutional networks" = "卷积神经网络"\n'
               '"Multilayer perceptrons" = "多层感知机"\n')
GLOSSARY = """
[[term]]
zh = "互相关"
en = "cross-correlation"
definition_zh = "核在输入上滑动，对应元素相乘再求和。"
definition_en = "Slide a kernel over the input, multiply element-wise and sum."
lesson = "conv-basics"

[[term]]
zh = "交叉熵"
en = "cross-entropy"
definition_zh = "预测分布与真实标签之间的距离，分类任务的常用损失。"
definition_en = "How far the predicted distribution is from the true label; the usual classification loss."
lesson = "softmax-digits"

[[term]]
zh = "多层感知机"
en = "multilayer perceptron"
definition_zh = "在输入与输出之间加入带激活函数的隐藏层。"
definition_en = "Hidden layers with activations between the input and the output."
lesson = "mlp-digits"
"""


def write_lessons(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in LESSONS.items():
        (directory / name).write_text(text, encoding="utf-8")
    (directory / "zh").mkdir(exist_ok=True)
    for name, text in LESSONS_ZH.items():
        (directory / "zh" / name).write_text(text, encoding="utf-8")
    (directory / "zh" / "SECTIONS.toml").write_text(SECTIONS_ZH, encoding="utf-8")
    (directory / "glossary.toml").write_text(GLOSSARY, encoding="utf-8")
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
