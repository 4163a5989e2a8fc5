"""The installed `dllab`, run in a real terminal (tmux) at 80x24: keys typed, the screen read back.

Skipped where tmux or the installed `dllab` script is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

DLLAB = Path(sys.executable).parent / "dllab"
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None or not DLLAB.exists(),
                                reason="needs tmux and the installed dllab")


class Terminal:
    def __init__(self, command: str, size=(80, 24)) -> None:
        self.name = f"dllab-test-{uuid.uuid4().hex[:8]}"
        self.tmux = ["tmux", "-L", self.name]  # a server of its own: never the user's, never another test's
        subprocess.run([*self.tmux, "new-session", "-d", "-s", self.name, "-x", str(size[0]), "-y", str(size[1]),
                        f"{command}; sleep 60"], check=True)

    def screen(self) -> str:
        return subprocess.run([*self.tmux, "capture-pane", "-p", "-t", self.name], capture_output=True, text=True).stdout

    def keys(self, *keys: str) -> None:
        for key in keys:
            subprocess.run([*self.tmux, "send-keys", "-t", self.name, key], check=True)
            time.sleep(0.1)

    def text(self, text: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.name, "-l", text], check=True)

    def wait_for(self, words: str, timeout: float = 30.0) -> str:
        deadline = time.time() + timeout
        while time.time() < deadline:
            screen = self.screen()
            if words in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{words!r} never showed up; the screen:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)


@pytest.fixture
def terminal(tmp_path):
    home = tmp_path / "home"
    env = f"DLLAB_HOME={home} TERM=xterm-256color"
    term = Terminal(f"cd {os.getcwd()} && env {env} {DLLAB}")
    yield term
    term.close()


def test_dllab_in_a_terminal_catalog_first_then_lesson_help_train_and_quit(terminal):
    first = terminal.wait_for("lessons")
    # the catalog painted while torch was still importing in the background
    assert "loading torch…" in first, first
    terminal.wait_for("torch ready", timeout=90)
    terminal.text("softmax")
    screen = terminal.wait_for("Linear neural networks  0/1")  # filtered down to one lesson
    assert "Softmax regression and cross-entropy" in screen and "Tensors" not in screen
    terminal.keys("Enter")
    terminal.wait_for("Open train")
    screen = terminal.wait_for("Open tool")  # the footer shows the bindings
    assert "Back" in screen and "Done" in screen
    terminal.keys("F1")
    screen = terminal.wait_for("Keys")
    assert "Ctrl+Q" in screen  # keys shown as typed
    terminal.keys("Escape", "F3")
    screen = terminal.wait_for("Ctrl+S starts")
    assert "model" in screen and "lenet" in screen
    terminal.keys("C-q")
    deadline = time.time() + 10
    while time.time() < deadline and "Ctrl+S starts" in terminal.screen():
        time.sleep(0.1)
    assert "Ctrl+S starts" not in terminal.screen()
