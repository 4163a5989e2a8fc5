"""Device enumeration and choice."""

from __future__ import annotations

import pytest

from tui_lab.devices import list_devices, resolve_device
from tui_lab.errors import ConfigError


def test_cpu_is_always_listed_and_auto_resolves_to_an_existing_device():
    names = [d.name for d in list_devices()]
    assert names[0] == "cpu"
    assert resolve_device("auto") in names
    assert resolve_device("CPU") == "cpu"


def test_missing_device_lists_the_available_ones():
    with pytest.raises(ConfigError) as info:
        resolve_device("cuda:42")
    assert info.value.field == "device" and "available: auto, cpu" in str(info.value)


def test_cuda_devices_report_memory(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: "Fake GPU")
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda i: (2 * 1024**3, 8 * 1024**3))
    devices = list_devices()
    gpu = devices[1]
    assert gpu.name == "cuda:0" and gpu.total_memory == 8 * 1024**3
    assert "2.0 GiB free of 8.0 GiB" in gpu.label()
    assert resolve_device("auto") == "cuda:0" and resolve_device("cuda") == "cuda:0"
