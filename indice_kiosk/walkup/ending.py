"""What ends a kiosk process: after each person, and when nobody is there any more, even if its event loop
is stuck.

After each person the process starts itself again (``NextSession``, ``start_again``). The wipe empties
everything live that held them (indice_kiosk/privacy.py), but neither Python nor malloc clears what is
freed: a dropped string's bytes stay in place until that memory is used again (tests/test_process_memory.py
found 76-85 copies of a session's answers after the wipe). A program started again (exec: same process,
same terminal) gets fresh memory from the kernel, so the next person meets none of the last one's bytes,
whatever held them -- Python, libcups, reportlab's C code, the terminal's input buffers.

Two threads of their own, started by the running kiosk (``KioskApp.on_mount`` with ``handle_signals``):

- ``watch_for_hangup``: the terminal hung up or the input was closed. Textual's input thread treats an
  empty read as "nothing yet" and loops on it (a CPU spun, the session held, the process orphaned when
  the SSH client went away without a pty); and when the kiosk is not the terminal's session leader (sshd
  runs it under ``sh -c``) the hang-up's SIGHUP may never reach it. ``poll()`` asking for no events at all
  still reports POLLHUP, and reads nothing, so Textual's reader is not disturbed.
- ``Watchdog``: the event loop writes the screen through Textual's output queue; a terminal that nobody
  reads (a frozen client, a stopped terminal) fills it and the loop blocks for good. SIGTERM, SIGHUP and
  the idle wipe all run on that loop, so they would wait forever with the person's data in memory. The
  watchdog ends the process itself: after an ending was asked for and did not finish in time, or when the
  loop has stopped beating and the session has been idle past its timeout. It cancels the session's jobs
  that could still go out, then leaves with ``os._exit`` (the memory goes with the process: nothing of
  the person outlives it).
"""

from __future__ import annotations

import logging
import os
import select
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

log = logging.getLogger("kiosk.ending")

# How often the hang-up watch wakes to see whether it should stop.
HANGUP_POLL_MS = 1000
# The loop beats every second (the idle check); this long without a beat, it is stuck.
STALL_SECONDS = 3.0
# After a signal or a hang-up, the time an ordinary ending gets (screens, jobs cancelled, terminal
# cleared) before the watchdog takes over; CUPS's own timeout is added (cancelling waits for it).
END_GRACE_SECONDS = 3.0
# Exit status of a process the watchdog ended (deployment.md, section 6).
FORCED_EXIT_STATUS = 4
# What the program started again says first (a catalogue key, its language and parameters: never anything
# a person typed), passed in its environment.
NOTICE_VARIABLE = "INDICE_KIOSK_NOTICE"


@dataclass(frozen=True)
class NextSession:
    """The kiosk's result when a person's session ended and the program is to start again for the next
    one; ``notice`` (a catalogue key, in ``lang``, with ``params`` from the site's settings) is said first."""

    notice: str | None = None
    lang: str = "ja"
    params: Mapping[str, str] = field(default_factory=dict)

    def environment(self, environ: Mapping[str, str]) -> dict[str, str]:
        """``environ`` for the program started again."""
        import json  # here and below: a start with no notice to say never needs it (bench row 1)

        environment = {k: v for k, v in environ.items() if k != NOTICE_VARIABLE}
        if self.notice:
            environment[NOTICE_VARIABLE] = json.dumps({"key": self.notice, "lang": self.lang,
                                                       "params": dict(self.params)})
        return environment

    @classmethod
    def notice_from(cls, environ: dict[str, str]) -> NextSession | None:
        """The notice the program before this one left (and remove it: said once), or None."""
        raw = environ.pop(NOTICE_VARIABLE, None)
        if not raw:
            return None
        import json

        try:
            data = json.loads(raw)
            params = {str(k): str(v) for k, v in data["params"].items()}
            return cls(str(data["key"]), str(data["lang"]), params)
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("ignored a notice that could not be read")
            return None


def start_again(next_session: NextSession) -> None:
    """Replace this program with a fresh start of itself (exec: the same process, terminal and arguments),
    for the next person. Called once the terminal has been given back (screen cleared, settings restored)."""
    sys.stdout.flush()
    sys.stderr.flush()
    environment = next_session.environment(os.environ)
    script = sys.argv[0]
    if os.path.basename(script) == "indice-kiosk" and os.access(script, os.X_OK):
        # The command itself, not the interpreter: the process keeps its name ("indice-kiosk" in ps, pgrep
        # and /proc/PID/comm; started through python it would be named "python3").
        os.execve(script, sys.argv, environment)
    os.execve(sys.executable, sys.orig_argv, environment)


def watch_for_hangup(fd: int, on_hangup: Callable[[], None], stop: threading.Event) -> threading.Thread:
    """A daemon thread that calls ``on_hangup`` once when ``fd`` hangs up (or errs, or is closed)."""

    def watch() -> None:
        poller = select.poll()
        poller.register(fd, 0)  # no events asked: only POLLHUP, POLLERR and POLLNVAL can come back
        while not stop.is_set():
            if poller.poll(HANGUP_POLL_MS):
                on_hangup()
                return

    thread = threading.Thread(target=watch, name="hangup-watch", daemon=True)
    thread.start()
    return thread


class Watchdog:
    """Ends the process when the event loop cannot. ``beat`` from the loop every second; ``ending`` when a
    signal or a hang-up asked the kiosk to end (any thread, or a signal handler)."""

    def __init__(self, *, idle_expired: Callable[[], bool], leftovers: Callable[[], None],
                 grace: float) -> None:
        self._idle_expired = idle_expired
        self._leftovers = leftovers
        self._grace = grace
        self._beat = time.monotonic()
        self._ending: tuple[str, float] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def beat(self) -> None:
        self._beat = time.monotonic()

    def ending(self, reason: str) -> None:
        if self._ending is None:
            self._ending = (reason, time.monotonic())

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            now = time.monotonic()
            if self._ending is not None and now - self._ending[1] > self._grace:
                self._force(self._ending[0])
            if now - self._beat > STALL_SECONDS and self._idle_expired():
                self._force("idle")

    def _force(self, reason: str) -> None:
        log.warning("session wiped (%s): the screen could not be written, the process is ended", reason)
        try:
            self._leftovers()
        finally:
            os._exit(FORCED_EXIT_STATUS)
