"""What a print job is, whatever sends it: where it goes, what it is called, and which options may go with
it. Policy only -- no pycups here (indice_kiosk/cups/ sends the jobs); kiosk.toml is checked with the same
rules (indice_kiosk/core/config.py).
"""

from __future__ import annotations

import functools
import os
import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# --- job identity ------------------------------------------------------------------------------------
# A kiosk job's name is one of these titles (generic: never a person's name) followed by the tag of the
# kiosk process that sent it: "INDICE fax (3f2a9c01d4e5/8b1c2d3e/4242/918273)". The operator console
# recognises the kiosk's jobs by the title; a kiosk that starts finds by the tag the jobs that a dead
# kiosk of this machine left in CUPS (killed, out of memory, power cut: no wipe ran) and removes them,
# so nothing goes out later with no one there (indice_kiosk/cups/leftovers.py). The job's owner is the
# account the kiosk runs as (CUPS records it; the kiosk sets nothing).
APPLICATION = "INDICE application"
FAX = "INDICE fax"
REMINDER = "INDICE reminder"
GUIDANCE = "INDICE guidance"
TEST_PAGE = "indice-kiosk test page"
KIOSK_TITLES = frozenset({APPLICATION, FAX, REMINDER, GUIDANCE, TEST_PAGE})
# What a dead kiosk's leftovers may hold: everything it sent for a person (not an operator's test page).
SESSION_TITLES = KIOSK_TITLES - {TEST_PAGE}



@dataclass(frozen=True)
class KioskTag:
    """Which kiosk process sent a job: this machine (/etc/machine-id), this boot
    (/proc/sys/kernel/random/boot_id), the process id and the process's start time in clock ticks since
    boot (so a reused pid is not taken for the same process)."""

    machine: str
    boot: str
    pid: int
    started: int

    def __str__(self) -> str:
        return f"{self.machine}/{self.boot}/{self.pid}/{self.started}"

    @classmethod
    def parse(cls, text: str) -> KioskTag | None:
        parts = text.split("/")
        if len(parts) != 4 or not all(parts) or not (parts[2].isdecimal() and parts[3].isdecimal()):
            return None
        return cls(parts[0], parts[1], int(parts[2]), int(parts[3]))


# In parentheses: CUPS's own attribute printing escapes "[" (the virtual printer got "fax \[...]").
_TAG = re.compile(r"(?P<title>.+) \((?P<tag>[^()]+)\)", re.DOTALL)


def job_name(title: str, tag: KioskTag) -> str:
    """The name a job is sent with: its generic title and the sending kiosk's tag."""
    return f"{title} ({tag})"


def split_job_name(name: str) -> tuple[str, KioskTag | None]:
    """(title, tag) of a job name; a name with no kiosk tag is (name, None)."""
    found = _TAG.fullmatch(name)
    if found is None:
        return name, None
    tag = KioskTag.parse(found["tag"])
    return (found["title"], tag) if tag is not None else (name, None)


def _first_line(path: str) -> str:
    try:
        with open(path, encoding="ascii") as file:
            return file.readline().strip()
    except (OSError, UnicodeDecodeError):
        return ""


def _process_stat(pid: int) -> tuple[str, int] | None:
    """The process's state letter and start time in clock ticks since boot (/proc/PID/stat, fields 3 and
    22), or None when they cannot be read (gone, or hidden from this account)."""
    stat = _first_line(f"/proc/{pid}/stat")
    if not stat:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: count fields after the last ")".
    fields = stat.rsplit(")", 1)[-1].split()
    try:
        return fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None


def process_start(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, or None when it cannot be read."""
    stat = _process_stat(pid)
    return stat[1] if stat else None


@functools.cache
def this_kiosk() -> KioskTag:
    """This process's tag (read once: none of it changes while the process runs)."""
    machine = (_first_line("/etc/machine-id") or socket.gethostname()).replace("-", "")[:12] or "unknown"
    boot = _first_line("/proc/sys/kernel/random/boot_id").replace("-", "")[:8] or "unknown"
    pid = os.getpid()
    return KioskTag(machine, boot, pid, process_start(pid) or 0)


def is_alive(tag: KioskTag) -> bool:
    """Whether the process that ``tag`` names may still run (on this machine and boot). Unsure is alive:
    a process of another account that /proc hides but that exists (kill(pid, 0) says EPERM)."""
    stat = _process_stat(tag.pid)
    if stat is not None and tag.started:
        state, started = stat
        # A zombie has died; only its parent has not collected it yet (tmux, or a shell, can take a while).
        return started == tag.started and state not in ("Z", "X")
    try:
        os.kill(tag.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_leftover(name: str, here: KioskTag, alive: Callable[[KioskTag], bool] = is_alive) -> bool:
    """True for a job a dead kiosk of this machine sent for a person: its title is a session title, its tag
    names this machine, and it came from an earlier boot or from a process that no longer runs. Another
    machine's jobs (many kiosks share one CUPS) are never a leftover here, whatever their state."""
    title, tag = split_job_name(name)
    if tag is None or title not in SESSION_TITLES or tag.machine != here.machine:
        return False
    if tag.boot != here.boot:
        return True
    return tag != here and not alive(tag)


FAX_MIN_DIGITS = 6
_ASCII_DIGITS = "0123456789"


@dataclass(frozen=True)
class PrintTarget:
    """Where to print.  ``server``: "host:port", "host", "/path/to.sock" (as ``cups_server`` chose it)
    or None (the libcups default)."""

    server: str | None
    queue: str
    timeout: float = 10.0  # per CUPS call



# --------------------------------------------------------------------- server


def cups_server(configured: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The one rule for which CUPS server the kiosk and the console use (README, "Settings"):
    ``cups.server`` from kiosk.toml, else ``$CUPS_SERVER``, else None.

    None means no server was named: libcups' own default (client.conf or this machine's CUPS);
    ``./scripts/kiosk`` starts a private demo CUPS instead (devtools/demo.py).
    """
    if configured is not None and configured.strip():
        return configured.strip()
    env = (os.environ if environ is None else environ).get("CUPS_SERVER", "").strip()
    return env or None


# -------------------------------------------------------------------- job options

# What a job option may hold. CUPS hands job options on as one "name=value name=value" string that is
# split again at spaces, quotes and braces (a value "03 5689 0726" dialled "03"), and cupsd
# 2.4.2-3+deb12u10 (Debian 12, 2026) segfaults on a job whose option value holds a space. So the kiosk
# sends nothing else: a name of ASCII letters, digits, "-" and "_"; a value of ASCII letters, digits and
# a few separators -- never a space, a control character, a quote, a backslash or a brace.
OPTION_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
OPTION_VALUE_CHARS = OPTION_NAME_CHARS | frozenset(".:+@/,=#*")


# lpadmin's own rule for a queue name: printable, no space, and none of / \\ ? ' " # (they would end or
# escape the queue's URI).
_NOT_IN_QUEUE_NAMES = frozenset("/\\?'\"#")


def is_queue_name(name: str) -> bool:
    """True if ``name`` can be a CUPS queue name (lpadmin's rule); kiosk.toml's queues are checked with it."""
    return bool(name) and all(ch.isprintable() and not ch.isspace() and ch not in _NOT_IN_QUEUE_NAMES
                              for ch in name)


def check_option(name: str, value: str) -> None:
    """Raise ValueError unless ``name=value`` is safe to send to CUPS as a job option (see above).

    The message names the option but never quotes the value (it may be a person's data)."""
    if not name or not set(name) <= OPTION_NAME_CHARS:
        raise ValueError("job option name is not letters, digits, '-' or '_'")
    if not isinstance(value, str) or not value:
        raise ValueError(f"job option {name!r}: empty value")
    if not set(value) <= OPTION_VALUE_CHARS:
        raise ValueError(f"job option {name!r}: value holds a space, control or other unsafe character")


def fax_options(number: str, dial_prefix: str = "", option: str = "phone") -> dict[str, str]:
    """Job options that make a CUPS fax queue dial ``dial_prefix`` + ``number``.

    Only the ASCII digits 0-9 are kept ("03-5689-0726" -> "0356890726"; with
    dial_prefix "0" -> "00356890726").  Why digits only: CUPS hands job options
    to the backend as one string that the ipp backend splits at spaces, so
    "03 5689 0726" would dial "03"; hyphens, dots and parentheses would be
    passed on verbatim into the tel: URI.  Other digit characters (e.g.
    full-width "０３") are refused rather than silently dropped, since dropping
    them would dial a different number.  The value is a string, so a leading 0
    is kept (no int()/octal anywhere).

    Raises ValueError if the number has no digits, or prefix + number has
    fewer than FAX_MIN_DIGITS digits.
    """
    if not option or not set(option) <= OPTION_NAME_CHARS:
        raise ValueError("fax option name must be letters, digits, '-' or '_'")
    for part in (number, dial_prefix):
        for ch in part:
            if ch.isdigit() and ch not in _ASCII_DIGITS:
                raise ValueError("fax number contains non-ASCII digits; convert them to 0-9 first")
    number_digits = "".join(ch for ch in number if ch in _ASCII_DIGITS)
    if not number_digits:
        raise ValueError("fax number contains no digits")
    digits = "".join(ch for ch in dial_prefix if ch in _ASCII_DIGITS) + number_digits
    if len(digits) < FAX_MIN_DIGITS:
        raise ValueError(f"fax number too short: {len(digits)} digits (need {FAX_MIN_DIGITS})")
    return {option: digits}


