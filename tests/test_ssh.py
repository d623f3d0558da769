"""The kiosk as operators reach it: a real sshd (devtools/privatesshd.py) including
deploy/sshd/indice-kiosk.conf, real clients, real ptys. What happens without a terminal, when the terminal
hangs up, when nobody reads the screen, and what the kiosk logs about it (issue #15)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.privatesshd import OPERATOR, PrivateSshd
from tests.terminal import LogSocket, PtyProcess

pytestmark = pytest.mark.system

COMMAND = Path(sys.executable).parent / "indice-kiosk"
# No print server (the discard port refuses at once), a short CUPS timeout: the watchdog's grace is
# END_GRACE_SECONDS + this.
SETTINGS = '[cups]\nserver = "127.0.0.1:9"\ntimeout = 1.0\n\n[kiosk]\nlanguage = "en"\nidle_timeout = 30\n'
NEEDS_TERMINAL = "a terminal is needed"
# Keys as a terminal sends them.
ENTER, END, F10 = "\r", "\x1b[F", "\x1b[21~"


def account_processes(user: str) -> list[tuple[int, str]]:
    ps = subprocess.run(["ps", "-o", "pid=,args=", "-u", user], capture_output=True, text=True, check=False)
    rows = [line.strip().split(None, 1) for line in ps.stdout.splitlines() if line.strip()]
    return [(int(pid), args) for pid, args in rows]


def kiosks_of(user: str) -> list[tuple[int, str]]:
    return [(pid, args) for pid, args in account_processes(user) if "indice-kiosk" in args]


def wait_until_no_kiosk(user: str, timeout: float) -> float:
    """Seconds until no kiosk process of ``user`` is left; fails after ``timeout``."""
    start = time.monotonic()
    while kiosks_of(user):
        if time.monotonic() - start > timeout:
            raise AssertionError(f"still running after {timeout} s: {kiosks_of(user)}")
        time.sleep(0.1)
    return time.monotonic() - start


@pytest.fixture
def sshd() -> Iterator[PrivateSshd]:
    if not shutil.which("sshd"):
        pytest.fail("sshd is not installed (scripts/test installs openssh-server)")
    try:
        subprocess.run(["id", OPERATOR], check=True, capture_output=True)
    except subprocess.CalledProcessError:
        pytest.fail(f"the test account {OPERATOR} is missing (scripts/test creates it)")
    with PrivateSshd(SETTINGS) as server:
        yield server
    # What a failed test left behind: these are the test's own processes.
    for pid, _args in account_processes(OPERATOR):
        os.kill(pid, signal.SIGKILL)


@pytest.fixture
def local() -> Iterator[tuple[dict[str, str], LogSocket]]:
    """The environment of a kiosk started on a pty here (as over SSH), and its log socket."""
    directory = Path(tempfile.mkdtemp(prefix="indice-pty-"))
    (directory / "kiosk.toml").write_text(SETTINGS, encoding="utf-8")
    log = LogSocket(directory)
    env = {"PATH": "/usr/bin:/bin", "TERM": "xterm-256color", "SSH_CONNECTION": "127.0.0.1 1 127.0.0.1 22",
           "INDICE_KIOSK_CONFIG": str(directory / "kiosk.toml"), "INDICE_KIOSK_LOG_SOCKET": str(log.path),
           "INDICE_KIOSK_CACHE": str(directory / "cache")}
    yield env, log
    log.socket.close()
    shutil.rmtree(directory, ignore_errors=True)


def sftp_command(sshd: PrivateSshd) -> list[str]:
    ssh = sshd.ssh_command(OPERATOR)
    return ["sftp", "-b", "-", "-P", str(sshd.port), *[arg for arg in ssh[1:-1] if arg not in ("-p",
                                                                                              str(sshd.port))],
            ssh[-1]]


@pytest.mark.parametrize("client", ["command", "no-pty", "sftp", "scp"])
def test_without_a_terminal_the_forced_kiosk_starts_nothing(sshd: PrivateSshd, client: str,
                                                            tmp_path: Path) -> None:
    """`ssh host ls` (deployment.md's check), ssh -T, sftp, scp: the kiosk refuses at once and nothing stays
    behind. Before: it ran on the pipe, and when the client went away it spun, orphaned, holding the data."""
    if client == "command":
        argv = sshd.ssh_command(OPERATOR, command=("ls", "/"))
    elif client == "no-pty":
        argv = sshd.ssh_command(OPERATOR, "-T")
    elif client == "sftp":
        argv = sftp_command(sshd)
    else:
        target = sshd.ssh_command(OPERATOR)[-1]
        options = [arg for arg in sshd.ssh_command(OPERATOR)[1:-1] if arg not in ("-p", str(sshd.port))]
        argv = ["scp", "-P", str(sshd.port), *options, f"{target}:/etc/hostname", str(tmp_path / "copy")]
    # The client's input stays open (a person who typed nothing yet): the kiosk must not wait on it.
    started = time.monotonic()
    # A group of its own: sftp and scp run ssh as a child, which holds the pipes too.
    client_process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = client_process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(client_process.pid, signal.SIGKILL)
        client_process.communicate()
        raise AssertionError(f"{client}: the session did not end; running: {kiosks_of(OPERATOR)}") from None
    finally:
        if client_process.stdin:
            client_process.stdin.close()
    assert time.monotonic() - started < 10
    assert client_process.returncode != 0
    if client in ("command", "no-pty"):
        assert NEEDS_TERMINAL in err.decode()
        assert b"bin" not in out  # `ls /` did not run
    wait_until_no_kiosk(OPERATOR, timeout=5)


def test_client_killed_kiosk_wipes_exits_and_says_so_in_the_log(sshd: PrivateSshd) -> None:
    """A pty session whose client is killed: the kiosk is gone at once, and the system log says why (and
    nothing of what was typed). Before: nothing was logged anywhere."""
    client = subprocess.Popen(sshd.ssh_command(OPERATOR, "-tt"), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert client.stdout is not None
        seen = b""
        deadline = time.monotonic() + 30
        while b"Start" not in seen and time.monotonic() < deadline:
            seen += os.read(client.stdout.fileno(), 65536)
        assert b"Start" in seen, seen[-500:]
        client.kill()
        waited = wait_until_no_kiosk(OPERATOR, timeout=5)
    finally:
        client.kill()
        client.wait()
    assert waited < 3
    time.sleep(0.3)
    log = sshd.kiosk_log()
    assert "indice-kiosk[" in log and "kiosk started" in log
    assert "session wiped (" in log and "kiosk stopped" in log, log


Local = tuple[dict[str, str], LogSocket]


def test_a_terminal_that_hangs_up_without_sighup_ends_the_kiosk(local: Local) -> None:
    """The kiosk is not the terminal's session leader (sshd runs it under `sh -c`): the hang-up's SIGHUP goes
    elsewhere and only the input says the terminal is gone. Before: the input thread looped on empty reads,
    a CPU spun and the process stayed, session and all."""
    env, log = local
    kiosk = PtyProcess([str(COMMAND)], env, controlling=False)
    try:
        kiosk.read_until("Start")
        kiosk.hang_up()
        status = kiosk.wait(5)
    finally:
        kiosk.close()
    assert status == 0
    assert "session wiped (hangup)" in log.text()


def test_sighup_ends_with_status_0(local: Local) -> None:
    """The session leader of its terminal (as under the wrapper's exec): SIGHUP on hang-up, a wipe, exit 0
    (before: 120, the interpreter's last flush failed on the dead terminal)."""
    env, log = local
    kiosk = PtyProcess([str(COMMAND)], env, controlling=True)
    try:
        kiosk.read_until("Start")
        kiosk.hang_up()
        status = kiosk.wait(5)
    finally:
        kiosk.close()
    assert status == 0
    assert "session wiped (" in log.text()


def block_output(kiosk: PtyProcess) -> None:
    """Nobody reads the terminal any more; repaints (resizes) fill it until the kiosk's writes block."""
    for i in range(40):
        kiosk.resize((200 + i % 2 * 10, 60 + i % 2 * 3))
        os.kill(kiosk.process.pid, signal.SIGWINCH)
        time.sleep(0.05)
    time.sleep(1)
    before = kiosk.pending()
    kiosk.resize((150, 50))
    os.kill(kiosk.process.pid, signal.SIGWINCH)
    time.sleep(1)
    assert kiosk.pending() == before > 0  # the kiosk cannot write any more


def test_sigterm_ends_the_kiosk_while_its_output_is_blocked(local: Local) -> None:
    """Before: the event loop was blocked on the full output queue, SIGTERM waited for it forever."""
    env, log = local
    kiosk = PtyProcess([str(COMMAND)], env, controlling=False, size=(200, 60))
    try:
        kiosk.read_until("Start")
        block_output(kiosk)
        kiosk.process.terminate()
        started = time.monotonic()
        status = kiosk.wait(15)
        took = time.monotonic() - started
    finally:
        kiosk.close()
    assert status == 4, status  # ended by the watchdog (deployment.md, section 6)
    assert took < 8
    assert "session wiped (SIGTERM)" in log.text()


def test_idle_wipe_happens_while_the_output_is_blocked(local: Local) -> None:
    """A session with something of the person in it (consent given), then a terminal nobody reads: the idle
    timeout still ends it. Before: the idle check ran on the blocked loop and never came."""
    env, log = local
    kiosk = PtyProcess([str(COMMAND)], env, controlling=False, size=(200, 60))
    try:
        kiosk.read_until("Start")
        kiosk.write(ENTER)
        kiosk.read_until("I agree")
        kiosk.write(END)
        time.sleep(0.5)
        kiosk.write(F10)
        kiosk.read_until("Which of these")
        started = time.monotonic()
        block_output(kiosk)
        status = kiosk.wait(45)
        took = time.monotonic() - started
    finally:
        kiosk.close()
    assert status == 4, status
    assert 25 < took < 40  # idle_timeout = 30
    assert "session wiped (idle)" in log.text()


def test_a_frozen_client_is_dropped_within_45_s(sshd: PrivateSshd) -> None:
    """The snippet promises a dead link is noticed within ~45 s (ClientAliveInterval/CountMax). A client that
    stops answering (SIGSTOP: the TCP connection stays open, nothing is answered): sshd gives up, hangs up,
    the kiosk wipes and exits. Before (15/3): 114-120 s on this sshd."""
    effective = sshd.effective(OPERATOR)
    assert "clientaliveinterval 5" in effective and "clientalivecountmax 3" in effective
    client = subprocess.Popen(sshd.ssh_command(OPERATOR, "-tt"), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert client.stdout is not None
        seen = b""
        deadline = time.monotonic() + 30
        while b"Start" not in seen and time.monotonic() < deadline:
            seen += os.read(client.stdout.fileno(), 65536)
        assert kiosks_of(OPERATOR)
        client.send_signal(signal.SIGSTOP)
        took = wait_until_no_kiosk(OPERATOR, timeout=90)
    finally:
        client.kill()
        client.wait()
    assert "Timeout, client not responding" in sshd.log()
    assert 15 < took <= 50, took
    assert "session wiped (" in sshd.kiosk_log()
