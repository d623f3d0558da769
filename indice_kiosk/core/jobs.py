"""What a print job is, whatever sends it: where it goes, what it is called, and which options may go with
it. Policy only -- no pycups here (indice_kiosk/cups/ sends the jobs); kiosk.toml is checked with the same
rules (indice_kiosk/core/config.py).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

# --- job identity: the kiosk's jobs carry one of these titles (generic: never a name), and the operator
# console recognises the kiosk's jobs by them.
APPLICATION = "INDICE application"
FAX = "INDICE fax"
REMINDER = "INDICE reminder"
GUIDANCE = "INDICE guidance"
TEST_PAGE = "indice-kiosk test page"
KIOSK_TITLES = frozenset({APPLICATION, FAX, REMINDER, GUIDANCE, TEST_PAGE})

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


