"""The walk-up kiosk as a site runs it, end to end, headless.

deploy/systemd/indice-kiosk-cage.service's ExecStart (deploy/bin/indice-kiosk-walkup: cage + foot + the
kiosk), with that unit's environment, as an unprivileged user, on wlroots' headless backend and software
renderer. Keys reach the kiosk's terminal as a keyboard's would: TIOCSTI on its tty (the kernel's "type
this"), or, where the kernel forbids that, written to foot's side of the pty -- the write foot itself
makes for a key press. Screens are read back from grim screenshots with tesseract (jpn+eng).

The person types the romaji "yamada", picks 山田 from the candidate list, then "tarou" -> 太郎, fills the
form and reaches the review, which must show 山田太郎. After the session ends, nothing of its mozc is
left on disk.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "systemd" / "indice-kiosk-cage.service"
FOOT_INI = ROOT / "deploy" / "walkup" / "foot.ini"
PACKAGES = ROOT / "deploy" / "walkup" / "packages.txt"
USER = "indice-walkup-test"  # scripts/test creates it: no password, no shell, no home
PROGRAM = ROOT / ".venv" / "bin" / "indice-kiosk"

# What foot sends for these keys (xterm's sequences).
KEYS = {"enter": "\r", "tab": "\t", "space": " ", "end": "\x1b[F", "right": "\x1b[C", "f2": "\x1bOQ",
        "f9": "\x1b[20~", "f10": "\x1b[21~"}
SYS_PIDFD_GETFD = 438


def unit_settings() -> tuple[str, dict[str, str]]:
    """The unit's ExecStart (first word) and Environment= lines."""
    exec_start, environment = "", {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        if line.startswith("ExecStart="):
            exec_start = line.removeprefix("ExecStart=").split()[0]
        elif line.startswith("Environment="):
            key, _, value = line.removeprefix("Environment=").partition("=")
            environment[key] = value
    return exec_start, environment


class Walkup:
    """One walk-up kiosk: cage + foot + indice-kiosk, headless, as USER."""

    def __init__(self, cups: object) -> None:
        self.user = pwd.getpwnam(USER)
        self.base = Path(tempfile.mkdtemp(prefix="walkup-"))
        self.base.chmod(0o755)
        self.runtime = self._own_dir("runtime", 0o700)  # XDG_RUNTIME_DIR, as logind gives it
        self.tmp = self._own_dir("tmp", 0o700)  # the unit's RuntimeDirectory (TMPDIR): mozc profiles
        self.cache = self._own_dir("cache", 0o700)  # the unit's CacheDirectory
        self.shots = self._own_dir("shots", 0o755)
        self.settings = self.base / "kiosk.toml"
        self.settings.write_text(f'[cups]\nserver = "{cups.server}"\nqueue = "{cups.queue}"\n',  # type: ignore[attr-defined]
                                 encoding="utf-8")
        self.settings.chmod(0o644)
        self.cage: subprocess.Popen[bytes] | None = None
        self.count = 0

    def _own_dir(self, name: str, mode: int) -> Path:
        path = self.base / name
        path.mkdir(mode=mode)
        os.chown(path, self.user.pw_uid, self.user.pw_gid)
        path.chmod(mode)
        return path

    def _as_user(self) -> list[str]:
        return ["setpriv", f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}", "--init-groups"]

    def start(self) -> None:
        exec_start, unit_env = unit_settings()
        launcher = Path(exec_start.replace("/opt/indice-kiosk", str(ROOT)))
        assert launcher == ROOT / "deploy" / "bin" / "indice-kiosk-walkup"
        env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "USER": USER, "LOGNAME": USER,
               **{k: v for k, v in unit_env.items() if k in ("LANG", "TZ", "XDG_SESSION_TYPE")},
               "TMPDIR": str(self.tmp), "XDG_RUNTIME_DIR": str(self.runtime),
               "CACHE_DIRECTORY": str(self.cache),
               # wlroots without a GPU, a seat or input devices: a headless output, software rendering.
               "WLR_BACKENDS": "headless", "WLR_RENDERER": "pixman", "WLR_LIBINPUT_NO_DEVICES": "1",
               # The launcher as the unit runs it, with the repository's files; no -d, for screenshots.
               "INDICE_KIOSK_CAGE_OPTIONS": "", "INDICE_KIOSK_FOOT_INI": str(FOOT_INI),
               "INDICE_KIOSK_PROGRAM": str(PROGRAM)}
        assert env["LANG"] == "ja_JP.UTF-8"
        log = open(self.base / "cage.log", "wb")
        self.cage = subprocess.Popen([*self._as_user(), "env", "-i", *(f"{k}={v}" for k, v in env.items()),
                                      str(launcher), "--config", str(self.settings)],
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 20
        while not (self.runtime / "wayland-0").exists():
            assert self.cage.poll() is None, f"cage exited: {self.log()}"
            assert time.monotonic() < deadline, f"no Wayland socket: {self.log()}"
            time.sleep(0.05)

    def log(self) -> str:
        return (self.base / "cage.log").read_text(errors="replace")[-3000:]

    def shot(self) -> Path:
        self.count += 1
        path = self.shots / f"{self.count:03d}.png"
        subprocess.run([*self._as_user(), "env", f"XDG_RUNTIME_DIR={self.runtime}",
                        "WAYLAND_DISPLAY=wayland-0",
                        "grim", str(path)], check=True, capture_output=True, timeout=20)
        return path

    def stable_shot(self, timeout: float = 20) -> Path:
        """A screenshot of a screen that has stopped changing (two alike, a quarter of a second apart)."""
        deadline, previous = time.monotonic() + timeout, b""
        while time.monotonic() < deadline:
            assert self.cage is not None and self.cage.poll() is None, f"cage exited: {self.log()}"
            path = self.shot()
            data = path.read_bytes()
            if data == previous and len(Image.open(path).getcolors(1 << 16) or []) > 8:
                return path
            previous = data
            time.sleep(0.25)
        raise AssertionError("the screen never settled")

    def read(self, path: Path) -> str:
        """The screen's text, whitespace removed (light text on the dark theme made black on white)."""
        image = Image.open(path).convert("L").point(lambda v: 0 if v > 110 else 255)
        image = ImageOps.expand(image.resize((image.width * 2, image.height * 2), Image.NEAREST), border=40,
                                fill=255)
        work = path.with_suffix(".ocr.png")
        image.save(work)
        text = subprocess.run(["tesseract", str(work), "-", "-l", "jpn+eng", "--psm", "11"],
                              capture_output=True,
                              text=True, check=True, timeout=60).stdout
        return "".join(text.split())

    def wait_for(self, *texts: str, timeout: float = 40) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.read(self.stable_shot())
            if all(t in text for t in texts):
                return text
            assert time.monotonic() < deadline, f"{texts} not on the screen; read: {text}"
            time.sleep(0.3)

    def kiosk_pid(self) -> int:
        """The kiosk itself (cage's and foot's command lines name it too)."""
        for pid in subprocess.run(["pgrep", "-u", USER], capture_output=True, text=True).stdout.split():
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/comm").read_text().strip() == "indice-kiosk":
                    return int(pid)
        raise AssertionError("no kiosk process")

    def type(self, *keys: str) -> None:
        """Each key (a name in KEYS, or text) as a keyboard would send it to the kiosk's terminal, a
        quarter of a second apart, as a person presses them."""
        pid = self.kiosk_pid()
        for key in keys:
            data = KEYS.get(key, key).encode()
            try:
                with open(os.readlink(f"/proc/{pid}/fd/0"), "rb", buffering=0) as tty:
                    for byte in data:
                        fcntl.ioctl(tty, termios.TIOCSTI, bytes([byte]))
            except OSError:
                self._write_to_foot(pid, data)  # dev.tty.legacy_tiocsti = 0: foot's side of the pty instead
            time.sleep(0.25)

    @staticmethod
    def _write_to_foot(kiosk: int, data: bytes) -> None:
        foot = int(Path(f"/proc/{kiosk}/stat").read_text().rsplit(")", 1)[1].split()[1])
        fd_dir = Path(f"/proc/{foot}/fd")
        master = next(int(fd.name) for fd in fd_dir.iterdir() if os.readlink(fd) == "/dev/ptmx")
        pidfd = os.pidfd_open(foot)
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.syscall(SYS_PIDFD_GETFD, pidfd, master, 0)
        try:
            if fd < 0:
                raise OSError(ctypes.get_errno(), "pidfd_getfd")
            os.write(fd, data)
        finally:
            if fd >= 0:
                os.close(fd)
            os.close(pidfd)

    def stop(self) -> None:
        """End foot (cage then ends by itself; cage 0.1.4 aborts on SIGTERM), then whatever is left."""
        if self.cage is not None and self.cage.poll() is None:
            for pid in subprocess.run(["pgrep", "-P", str(self.cage.pid), "-x", "foot"], capture_output=True,
                                      text=True).stdout.split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGTERM)
            try:
                self.cage.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.cage.pid, signal.SIGKILL)
                self.cage.wait(timeout=5)
        subprocess.run(["pkill", "-KILL", "-u", USER], check=False)
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def walkup(private_cups) -> Iterator[Walkup]:
    for tool in ("cage", "foot", "grim", "tesseract", "setpriv"):
        assert shutil.which(tool), f"{tool} is not installed (scripts/test installs it)"
    kiosk = Walkup(private_cups)
    try:
        yield kiosk
    finally:
        kiosk.stop()


def test_walkup_packages_are_what_the_unit_needs() -> None:
    """deploy/walkup/packages.txt is the recipe: each is installed here (the suite runs on them)."""
    packages = [line.strip() for line in PACKAGES.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")]
    needed = {"cage", "xwayland", "foot", "fonts-noto-cjk", "locales", "mozc-server", "emacs-mozc-bin"}
    assert needed <= set(packages)
    for package in packages:
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
        assert status.stdout == "install ok installed", package
    assert "ja_JP.utf8" in subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.split()


def test_a_japanese_name_typed_at_the_walkup_kiosk(walkup: Walkup, private_cups) -> None:
    # Each screen is waited for by a line of plain text (tesseract does not read the focused button's
    # inverted colours).
    walkup.start()
    walkup.wait_for("ことはありません")  # welcome: "you will never type a password"
    walkup.type("enter")
    walkup.wait_for("取扱い")
    walkup.type("end")
    walkup.wait_for("最後まで表示しました")
    walkup.type("enter")
    walkup.wait_for("どれに当てはまりますか")
    walkup.type("enter", "enter", "enter")
    walkup.wait_for("申請者の情報")
    walkup.type("suzuki-kyt", "enter", "yamada", "space")
    walkup.wait_for("変換中", "ヤマダ")  # the candidate list, drawn by the kiosk itself: 山田, ヤマダ, ...
    walkup.type("1", "tarou", "space", "enter")  # 1: 山田; then 太郎, the first candidate after 山田
    walkup.wait_for("山田太郎")
    walkup.type("enter", "yamada tarou", "enter", "Taro Yamada", "enter", "f2")
    for answer in ("Kakuu University Hospital", "Obstetrics", "Lecturer", "03-1234-5678",
                   "yamada@example.ac.jp"):
        walkup.type(answer, "enter")
    walkup.type("enter")
    review = walkup.wait_for("内容の確認", "TaroYamada")
    assert "山田太郎" in review and "ヤマダ" in review, review  # what was chosen, on the screen
    profiles = list(walkup.tmp.glob("indice-ime-*"))
    assert len(profiles) == 1  # this person's mozc, in the unit's runtime directory
    before = len(private_cups.received())
    walkup.type("f10")
    walkup.wait_for("印刷が終わりました", timeout=60)
    [printed] = private_cups.wait_received(before + 1)[before:]
    text = "".join("".join(page.extract_text().split()) for page in pypdf.PdfReader(printed).pages)
    assert "山田太郎" in text and "ヤマダタロウ" in text, text  # and on paper
    walkup.type("f9")
    walkup.wait_for("最初に戻りますか")
    walkup.type("right", "enter")  # "yes, erase and start again"
    walkup.wait_for("ことはありません")
    deadline = time.monotonic() + 10
    while list(walkup.tmp.iterdir()):
        assert time.monotonic() < deadline, list(walkup.tmp.rglob("*"))
        time.sleep(0.2)
    servers = subprocess.run(["pgrep", "-u", USER, "-x", "mozc_server"], capture_output=True,
                             text=True).stdout
    assert servers.split() == []  # the session's mozc is gone with it
