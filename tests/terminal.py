"""A real terminal for tests: the kiosk runs in tmux (its own server socket), driven by keys, read by eye."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import socket
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Mapping
from pathlib import Path


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


class LogSocket:
    """A syslog socket of the test's own (INDICE_KIOSK_LOG_SOCKET): what the kiosk logs arrives here."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "log.sock"
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(str(self.path))
        self.socket.setblocking(False)
        self.lines: list[str] = []

    def text(self) -> str:
        while True:
            try:
                self.lines.append(self.socket.recv(65536).decode("utf-8", "replace"))
            except BlockingIOError:
                return "\n".join(self.lines)


# --- the installed kiosk as a person meets it -------------------------------------------------------

COMMAND = Path(sys.executable).parent / "indice-kiosk"
FORM_KEYS = ("umin_id", "name_kanji", "name_kana", "name_roman", "institution", "department", "position",
             "phone", "email")


def start_real_process(term: Terminal, settings: Path, log: LogSocket | None = None) -> int:
    """The installed command in a tmux pane (kept when it dies, to read its last screen); its pid. With
    ``log``, what the kiosk logs arrives there."""
    logging = f"INDICE_KIOSK_LOG_SOCKET={log.path} " if log is not None else ""
    term.start(f"exec env -u CUPS_SERVER TERM=xterm-256color {logging}{COMMAND} --config {settings}")
    term.tmux("set-option", "-t", term.name, "remain-on-exit", "on")
    pid = term.pane_pid()
    term.wait_for("はじめる")
    return pid


def drive_to_send(term: Terminal, answers: Mapping[str, str]) -> None:
    """From welcome to the send step in Japanese: agree, the first route, the form (typed as letters:
    F2 turns kana conversion off), review, F10."""
    term.keys("Enter")
    term.wait_for("パスワードの取扱い")
    term.keys("End", "Enter", "Enter", "Enter", "Enter")
    term.wait_for("申請者の情報")
    term.keys("F2")
    for key in FORM_KEYS:
        term.keys(answers[key], "Enter")
    term.keys("Enter")
    term.wait_for("内容の確認")
    term.keys("F10")


def wait_dead(term: Terminal, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    # tmux keeps the dead pane (remain-on-exit) and says when its process has gone.
    while term.tmux("display-message", "-p", "-t", term.name, "#{pane_dead}").strip() != "1":
        if time.monotonic() > deadline:
            raise AssertionError(f"the kiosk did not exit on {what}")
        time.sleep(0.1)


class PtyProcess:
    """A program on a real pty of its own (no tmux in between): the test holds the master side, so it decides
    whether the output is read, and when the terminal hangs up (closing the master)."""

    def __init__(self, argv: list[str], env: dict[str, str], *, controlling: bool,
                 size: tuple[int, int] = (80, 24)) -> None:
        self.master, slave = pty.openpty()
        self.resize(size)
        # controlling: the pty is the process's controlling terminal (it is the session leader), so a
        # hang-up sends it SIGHUP; otherwise nothing but the input itself says the terminal is gone.
        self.process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                        start_new_session=True,
                                        preexec_fn=_take_terminal if controlling else None)
        os.close(slave)
        self.output = b""

    def resize(self, size: tuple[int, int]) -> None:
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))

    def read_until(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while text.encode() not in self.output:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared: {self.output[-2000:]!r}")
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.output += os.read(self.master, 65536)
                except OSError:
                    raise AssertionError(f"the terminal closed before {text!r} appeared") from None

    def read_until_quiet(self, quiet: float = 0.5, timeout: float = 15.0) -> bytes:
        """What arrives from now until nothing has for ``quiet`` seconds (counted from now at the earliest:
        the answer to a key may start later than a short wait)."""
        start = len(self.output)
        last = time.monotonic()
        deadline = last + timeout
        while time.monotonic() - last < quiet and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                self.output += os.read(self.master, 65536)
                last = time.monotonic()
        return self.output[start:]

    def write(self, data: str) -> None:
        os.write(self.master, data.encode())

    def drain(self, seconds: float) -> None:
        """Read what the program writes for ``seconds`` (a terminal nobody reads blocks it)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    self.output += os.read(self.master, 65536)
                except OSError:
                    return

    def pending(self) -> int:
        """Bytes the program wrote that nobody has read."""
        return struct.unpack("i", fcntl.ioctl(self.master, termios.FIONREAD, b"\0\0\0\0"))[0]

    def hang_up(self) -> None:
        os.close(self.master)
        self.master = -1

    def wait(self, timeout: float) -> int | None:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.master >= 0:
            os.close(self.master)


def _take_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
