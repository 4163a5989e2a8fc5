"""Shared test set-up: every test gets its own DLLAB_HOME, and the network is off."""

from __future__ import annotations

import socket

import pytest
from hypothesis import settings

# The same examples on every run, so CI never fails by chance; explore new ones locally with
# `pytest --hypothesis-profile=explore`.
settings.register_profile("dllab", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("dllab")


@pytest.fixture(autouse=True)
def _dllab_home(tmp_path, monkeypatch):
    home = tmp_path / "dllab-home"
    monkeypatch.setenv("DLLAB_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def _english(monkeypatch):
    """Every test starts in English whatever the machine's locale (tests of the language choice set
    DLLAB_LANG / LANG themselves), and the language a test chose does not leak into the next one."""
    from tui_lab.i18n import set_lang

    for var in ("DLLAB_LANG", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    set_lang("en")
    yield
    set_lang("en")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Tests never touch the network: any connection outside this machine fails loudly."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost") and not host.startswith("/"):
            raise OSError(f"tests must not use the network (tried {address!r})")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def one_torch_thread():
    """Tiny models train fastest on one torch thread, and stay fast on a busy 2-core machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
