"""The real `indice-kiosk` command in a real terminal (tmux): demo CUPS, keys, quitting, a clean screen."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMMAND = Path(sys.executable).parent / "indice-kiosk"


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


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    if not shutil.which("tmux"):
        pytest.fail("tmux is not installed (scripts/test installs it)")
    term = Terminal("kiosk")
    yield term
    term.close()


def cupsd_count() -> int:
    return len(subprocess.run(["pgrep", "-x", "cupsd"], capture_output=True, text=True).stdout.split())


def test_kiosk_command_with_demo_cups_runs_quits_and_clears(terminal: Terminal, tmp_path: Path) -> None:
    settings = tmp_path / "kiosk.toml"
    settings.write_text('[kiosk]\nlanguage = "ja"\n', encoding="utf-8")  # no CUPS server: the demo starts
    before = cupsd_count()
    terminal.start(f"env -u CUPS_SERVER TERM=xterm-256color {COMMAND} --config {settings} --allow-quit; "
                   "echo KIOSK-EXITED; sleep 30")
    screen = terminal.wait_for("はじめる")
    assert "デモ用プリンターに送信します" in screen  # the person sees it is the demo printer
    assert cupsd_count() == before + 1
    terminal.keys("Enter")
    terminal.wait_for("パスワードの取扱いについて")
    terminal.keys("End", "F10")
    terminal.wait_for("どれに当てはまりますか")
    terminal.keys("Enter", "F10")
    terminal.wait_for("申請者の情報")
    terminal.keys("canary-zq7")
    terminal.wait_for("canary-zq7")
    terminal.keys("C-q")
    terminal.wait_for("はい、終了する")
    terminal.keys("Right", "Enter")
    terminal.wait_for("KIOSK-EXITED")
    # The screen and the scrollback were cleared on the way out, and the demo CUPS is gone.
    assert "canary-zq7" not in terminal.screen(history=True)
    deadline = time.monotonic() + 10
    while cupsd_count() != before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert cupsd_count() == before


def test_bad_settings_file_stops_with_a_clear_message(tmp_path: Path) -> None:
    settings = tmp_path / "kiosk.toml"
    settings.write_text('[cups]\nqueue_name = "x"\n', encoding="utf-8")
    result = subprocess.run([str(COMMAND), "--config", str(settings)], capture_output=True, text=True,
                            timeout=30, check=False)
    assert result.returncode == 2
    assert f"{settings}: cups.queue_name: unknown key" in result.stderr
