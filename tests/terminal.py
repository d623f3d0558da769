"""A real terminal for tests: the kiosk runs in tmux (its own server socket), driven by keys, read by eye."""

from __future__ import annotations

import os
import subprocess
import time


class Terminal:
    def __init__(self, name: str) -> None:
        self.socket = f"kiosk-test-{os.getpid()}-{name}"
        self.name = name

    def tmux(self, *args: str) -> str:
        result = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                                capture_output=True, text=True, check=False, timeout=20)
        return result.stdout

    def start(self, command: str, size: tuple[int, int] = (80, 24)) -> None:
        self.tmux("new-session", "-d", "-s", self.name, "-x", str(size[0]), "-y", str(size[1]), command)

    def screen(self, history: bool = False) -> str:
        args = ["capture-pane", "-p", "-t", self.name] + (["-S", "-2000"] if history else [])
        return self.tmux(*args).replace("\u2800", " ")

    def styled_screen(self) -> str:
        """The screen with its colours and attributes (escape sequences), to tell a redraw from none."""
        return self.tmux("capture-pane", "-p", "-e", "-t", self.name)

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", self.name, key)
            time.sleep(0.4)

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; screen:\n{self.screen()}")

    def close(self) -> None:
        self.tmux("kill-server")

    def pane_pid(self) -> int:
        return int(self.tmux("display-message", "-p", "-t", self.name, "#{pane_pid}").strip())
