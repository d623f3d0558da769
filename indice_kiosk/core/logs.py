"""Where the kiosk's own log goes: why a session ended, which jobs went out -- never what a person typed
(every log call in the product passes events, reasons and job ids only; tests/test_privacy.py checks).

While the kiosk runs, its stderr is the terminal Textual draws on (the operator's SSH terminal, foot's
window): a line written there would be drawn over the screen, and after a hang-up there is nobody to read
it. So the log goes to the system log socket (/dev/log: the journal on Debian 12, tagged
``indice-kiosk``; ``journalctl -t indice-kiosk``). Without one, the lines are kept in memory and written
to stderr once the kiosk has left the terminal (``Deferred.write_out``).

``INDICE_KIOSK_LOG_SOCKET`` names another socket (a site's syslog elsewhere; the tests' own).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import socket
import stat
import sys

SOCKET_ENV = "INDICE_KIOSK_LOG_SOCKET"
DEFAULT_SOCKET = "/dev/log"
IDENT = "indice-kiosk"
# The product's two logger trees ("kiosk.app", "indice_kiosk.cups.client", ...).
LOGGERS = ("kiosk", "indice_kiosk")
# A kiosk without a system log keeps at most this many lines for stderr (older ones are dropped).
DEFERRED_LINES = 500


class Deferred(logging.handlers.BufferingHandler):
    """Lines kept until ``write_out``: written to stderr then, when the terminal is no longer Textual's."""

    def shouldFlush(self, record: logging.LogRecord) -> bool:
        if len(self.buffer) >= self.capacity:
            del self.buffer[0]
        return False

    def write_out(self) -> None:
        self.acquire()
        try:
            records, self.buffer = self.buffer, []
        finally:
            self.release()
        for record in records:
            try:
                sys.stderr.write(self.format(record) + "\n")
            except (OSError, ValueError):
                return  # the terminal hung up: nobody to read it


class SystemLog(logging.handlers.SysLogHandler):
    """The system log socket, never waited on: a line the socket cannot take at once is dropped. A blocking
    send froze the whole kiosk when nobody read the socket (the main thread stuck in ``emit`` holding the
    handler's lock, the watchdog stuck behind it, the person's data held: tests/test_ssh.py)."""

    dropped = 0

    def __init__(self, address: str) -> None:
        super().__init__(address=address, socktype=socket.SOCK_DGRAM)
        self.socket.setblocking(False)

    def handleError(self, record: logging.LogRecord) -> None:
        # SysLogHandler.emit reports its failures here -- a full socket (BlockingIOError) is one. Logging's
        # own handleError would print a traceback to stderr, which is the person's screen.
        self.dropped += 1


def setup(level: int = logging.INFO) -> logging.Handler:
    """Send the product's log to the system log (or keep it for stderr); the handler, once."""
    path = os.environ.get(SOCKET_ENV, DEFAULT_SOCKET)
    handler: logging.Handler
    try:
        if not stat.S_ISSOCK(os.stat(path).st_mode):
            raise FileNotFoundError(path)
        syslog = SystemLog(path)
        syslog.ident = f"{IDENT}[{os.getpid()}]: "
        syslog.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        handler = syslog
    except OSError:
        handler = Deferred(DEFERRED_LINES)
        handler.setFormatter(logging.Formatter(f"{IDENT}: %(levelname)s %(name)s: %(message)s"))
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.addHandler(handler)
    return handler


def release(handler: logging.Handler) -> None:
    """The kiosk has left the terminal: kept lines (no system log) go to stderr now."""
    if isinstance(handler, Deferred):
        handler.write_out()
