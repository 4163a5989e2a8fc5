"""Every screen runs its core jobs through tui_lab.ui.jobs: a job that raises is shown on that screen,
and the app stays alive. Also the runner itself: coalescing, order, superseding."""

from __future__ import annotations

import threading

import pytest
from textual.app import App
from textual.widgets import Static

from tests.ui_support import ScreenApp, sync, wait_until


def screen_text(screen) -> str:
    return "\n".join(str(widget.render()) for widget in screen.query(Static))


def _raise(*args, **kwargs):
    raise RuntimeError("boom from the core")


def _patch_conv(mp):
    mp.setattr("tui_lab.conv_steps.compute", _raise)


def _patch_landscape(mp):
    mp.setattr("tui_lab.landscapes.run_landscape", _raise)


def _patch_shapes(mp):
    mp.setattr("tui_lab.shapes.trace", _raise)


def _patch_playground(mp):
    mp.setattr("tui_lab.playground.Playground", _raise)


def _patch_snippets(mp):
    mp.setattr("tui_lab.ui.screens.snippets._run_safely", _raise)


def _patch_devices(mp):
    mp.setattr("tui_lab.devices.list_devices", _raise)


def _patch_compare(mp):
    mp.setattr("tui_lab.compare.compare", _raise)


# (screen module, class, preset, how to make its job raise, keys that start the job)
SCREENS = {
    "conv": ("conv", "ConvScreen", {"preset": "corr2d"}, _patch_conv, ()),
    "landscape": ("landscape", "LandscapeScreen", {}, _patch_landscape, ()),
    "shapes": ("shapes", "ShapesScreen", {"model": "lenet"}, _patch_shapes, ()),
    "playground": ("playground", "PlaygroundScreen", {}, _patch_playground, ()),
    "snippets": ("snippets", "SnippetsScreen", {"cells": ["print(1)"]}, _patch_snippets, ("ctrl+r",)),
    "devices": ("devices", "DevicesScreen", {}, _patch_devices, ()),
    "train": ("train", "TrainScreen", {}, _patch_devices, ()),  # its first job lists the devices
    "compare": ("compare", "CompareScreen", {"start": True}, _patch_compare, ()),
}


@pytest.mark.parametrize("name", list(SCREENS))
@sync
async def test_a_job_that_raises_is_shown_on_its_screen(name, monkeypatch):
    import importlib

    module, cls_name, preset, patch, keys = SCREENS[name]
    screen_cls = getattr(importlib.import_module(f"tui_lab.ui.screens.{module}"), cls_name)
    patch(monkeypatch)
    app = ScreenApp(screen_cls, preset)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, screen_cls) and app.screen.is_mounted)
        for key in keys:
            await pilot.press(key)

        def failed_job():
            holders = [app.screen, *app.screen.query("*")]
            return next((h.last_job_error for h in holders if getattr(h, "last_job_error", None)), None)

        await wait_until(pilot, lambda: failed_job() is not None)
        await pilot.pause()
        message = failed_job()
        assert message == "RuntimeError: boom from the core"
        assert "boom from the core" in screen_text(app.screen)  # said in place, on this screen
        assert app.is_running and isinstance(app.screen, screen_cls)  # the app is alive



def _runner_app():
    from textual.widget import Widget

    from tui_lab.ui.jobs import JobRunner

    class Host(JobRunner, Widget):
        def __init__(self) -> None:
            super().__init__()
            self.events: list = []
            self.failures: list = []
            self.done: list = []

        def job_event(self, job, event):
            self.events.append((job, event))

        def job_failed(self, job, message):
            self.failures.append((job, message))

        def job_done(self, job):
            self.done.append(job)

    class HostApp(App):
        def compose(self):
            yield Host()

    return HostApp(), Host


@sync
async def test_job_events_arrive_in_order_and_a_burst_coalesces():
    app, Host = _runner_app()
    async with app.run_test() as pilot:
        host = app.query_one(Host)
        host.run_job("count", lambda: iter(range(2000)))
        await wait_until(pilot, lambda: host.done == ["count"])
        assert [e for _, e in host.events] == list(range(2000))
        assert host.failures == []


@sync
async def test_a_newer_job_of_the_same_name_supersedes_the_older():
    app, Host = _runner_app()
    async with app.run_test() as pilot:
        host = app.query_one(Host)
        release = threading.Event()
        closed = threading.Event()

        def old():
            try:
                yield "old-1"
                release.wait(5)
                yield "old-2"
                yield "old-3"
            finally:
                closed.set()

        host.run_job("job", old)
        await wait_until(pilot, lambda: ("job", "old-1") in host.events)
        host.run_job("job", lambda: "new")
        release.set()
        await wait_until(pilot, lambda: closed.is_set() and ("job", "new") in host.events)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert ("job", "old-2") not in host.events and ("job", "old-3") not in host.events
        assert host.done == ["job"]  # only the live job's end is reported


@sync
async def test_a_config_error_is_one_line_and_a_crash_names_its_type():
    from tui_lab.errors import ConfigError

    app, Host = _runner_app()
    async with app.run_test() as pilot:
        host = app.query_one(Host)

        def bad():
            raise ConfigError("lr", "must be > 0")

        host.run_job("a", bad)
        host.run_job("b", lambda: {}["missing"])
        await wait_until(pilot, lambda: len(host.failures) == 2)
        assert dict(host.failures) == {"a": "lr: must be > 0", "b": "KeyError: 'missing'"}
