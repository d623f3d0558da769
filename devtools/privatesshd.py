"""A private sshd on loopback that includes the project's deploy/sshd/indice-kiosk.conf, for real SSH tests.

Nothing here touches the machine's sshd or /etc/ssh:

* host key, client key and authorized_keys are generated into a temporary directory;
* ``sshd -D -e -f <dir>/sshd_config -p <port>`` listens on 127.0.0.1 only, logs to its stderr;
* its main file Includes a copy of deploy/sshd/indice-kiosk.conf in which only the installed paths are
  replaced by this checkout's (``PATHS``; each must be found exactly once, so a changed snippet fails
  loudly) plus ``INDICE_KIOSK_BIN`` for the wrapper. Every directive is the project's own.

Runs as root (sshd needs it); logs in as an unprivileged account of kiosk-operators or kiosk-console that
scripts/test creates. Stdlib only. ``python -m devtools.privatesshd`` runs one until ctrl+c.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
SNIPPET = ROOT / "deploy" / "sshd" / "indice-kiosk.conf"
WRAPPER = ROOT / "deploy" / "bin" / "indice-kiosk-ssh"
INSTALLED_KIOSK = "/opt/indice-kiosk/.venv/bin/indice-kiosk"
INSTALLED_WRAPPER = "/usr/local/bin/indice-kiosk-ssh"
INSTALLED_CONFIG = "/etc/indice-kiosk/kiosk.toml"
# The accounts scripts/test creates (shell /bin/sh, no password, not locked).
OPERATOR = "indice-ssh-test"   # kiosk-operators: the kiosk and nothing else
CONSOLE = "indice-console-test"  # kiosk-console: the wrapper's menu
STARTUP_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def adapted_snippet(text: str, *, kiosk: Path, wrapper: Path, settings: Path, log_socket: Path) -> str:
    """deploy/sshd/indice-kiosk.conf with this checkout's paths instead of the installed ones."""
    for old, count in ((INSTALLED_KIOSK, 1), (INSTALLED_WRAPPER, 1), (INSTALLED_CONFIG, 1)):
        found = text.count(old)
        if found != count:
            raise ValueError(f"{SNIPPET}: expected {old} {count} time(s), found {found}")
    text = text.replace(INSTALLED_KIOSK, str(kiosk)).replace(INSTALLED_WRAPPER, str(wrapper))
    # The wrapper finds the kiosk through INDICE_KIOSK_BIN (its default is the installed path); the kiosk's
    # log goes to this harness's socket instead of /dev/log. (sshd keeps the first SetEnv it meets: these
    # must be on the snippet's own line.)
    return text.replace(f"SetEnv INDICE_KIOSK_CONFIG={INSTALLED_CONFIG}",
                        f"SetEnv INDICE_KIOSK_CONFIG={settings} INDICE_KIOSK_BIN={kiosk} "
                        f"INDICE_KIOSK_LOG_SOCKET={log_socket}")


class PrivateSshd:
    """``with PrivateSshd(settings_text) as sshd: subprocess.run(sshd.ssh_command(OPERATOR, "-tt"))``.

    The kiosk.toml the sessions use is ``settings_text``; what the kiosks log arrives on a socket here
    (``kiosk_log``).
    """

    def __init__(self, settings_text: str, *, kiosk: Path | None = None, snippet: str | None = None) -> None:
        # snippet: another text instead of deploy/sshd/indice-kiosk.conf's (to measure other settings)
        self.snippet = SNIPPET.read_text() if snippet is None else snippet
        self.kiosk = kiosk or Path(sys.executable).parent / "indice-kiosk"
        self.dir = Path(tempfile.mkdtemp(prefix="indice-sshd-"))
        self.settings = self.dir / "kiosk.toml"
        self.settings.write_text(settings_text, encoding="utf-8")
        self.settings.chmod(0o644)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.dir / "sshd.log"
        self.log_socket_path = self.dir / "log.sock"
        self._log_socket: socket.socket | None = None
        self._kiosk_log: list[str] = []

    def __enter__(self) -> PrivateSshd:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    @property
    def client_key(self) -> Path:
        return self.dir / "client_key"

    def start(self) -> None:
        os.chmod(self.dir, 0o755)  # the accounts read their authorized keys from here
        for name in ("host_key", "client_key"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.dir / name)],
                           check=True, capture_output=True)
        keys = self.dir / "authorized_keys"
        keys.mkdir(mode=0o755)
        public = (self.dir / "client_key.pub").read_text()
        for account in (OPERATOR, CONSOLE):
            (keys / account).write_text(public)
            (keys / account).chmod(0o644)
        self._log_socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._log_socket.bind(str(self.log_socket_path))
        self.log_socket_path.chmod(0o666)
        snippet = adapted_snippet(self.snippet, kiosk=self.kiosk, wrapper=WRAPPER,
                                  settings=self.settings, log_socket=self.log_socket_path)
        (self.dir / "indice-kiosk.conf").write_text(snippet)
        # Debian's sshd_config starts with the Include, as here; the global settings come first only because
        # Port/ListenAddress/HostKey may not follow a Match block. StrictModes no: the directory is under /tmp
        # (world-writable), which StrictModes refuses for key files.
        (self.dir / "sshd_config").write_text(
            f"ListenAddress 127.0.0.1\nHostKey {self.dir / 'host_key'}\nPidFile none\n"
            f"AuthorizedKeysFile {keys}/%u\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nLogLevel VERBOSE\nSubsystem sftp internal-sftp\n"
            f"Include {self.dir / 'indice-kiosk.conf'}\n")
        # sshd's privilege separation directory (Debian's unit creates it; a container may not have it).
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        sshd = shutil.which("sshd") or "/usr/sbin/sshd"
        subprocess.run([sshd, "-t", "-f", str(self.dir / "sshd_config")], check=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen([sshd, "-D", "-e", "-f", str(self.dir / "sshd_config"),
                                         "-p", str(self.port)], stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd exited: {self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"sshd did not listen on {self.port}: {self.log()}")

    def kiosk_log(self) -> str:
        """Every line the kiosks sent to their log socket so far (syslog frames, one a line)."""
        assert self._log_socket is not None
        self._log_socket.setblocking(False)
        while True:
            try:
                self._kiosk_log.append(self._log_socket.recv(65536).decode("utf-8", "replace"))
            except BlockingIOError:
                return "\n".join(self._kiosk_log)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def effective(self, user: str) -> str:
        """``sshd -T`` for ``user`` (what deployment.md's check shows)."""
        return subprocess.run(["sshd", "-T", "-f", str(self.dir / "sshd_config"), "-C",
                               f"user={user},host=x,addr=127.0.0.1"],
                              capture_output=True, text=True, check=True).stdout

    def ssh_command(self, user: str, *options: str, command: tuple[str, ...] = ()) -> list[str]:
        """The ssh client's command line: ``options`` before the destination, ``command`` after it."""
        return ["ssh", "-F", "/dev/null", "-i", str(self.client_key), "-p", str(self.port),
                "-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={self.dir / 'known_hosts'}",
                "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", *options, f"{user}@127.0.0.1", *command]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log_socket is not None:
            self._log_socket.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def main() -> int:
    settings = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "kiosk.toml"
    with PrivateSshd(settings.read_text(encoding="utf-8")) as sshd:
        print(" ".join(sshd.ssh_command(OPERATOR, "-t")), flush=True)
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    return 0


if __name__ == "__main__":
    sys.exit(main())
