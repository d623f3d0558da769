"""What the terminal the kiosk runs in can draw.

The Linux text console (TERM=linux, the indice-kiosk@ttyN unit) has a font of at most 512 glyphs:
Debian's console fonts hold Latin, Greek and Cyrillic and a few symbols, but no kana or kanji and few
of the block elements Textual draws its buttons and scroll bars with. Old serial terminals draw ASCII
only. On those the kiosk speaks English and draws ASCII (``indice_kiosk/widgets/ascii.py``).
"""

from __future__ import annotations

# TERM values (before any "-suffix", e.g. linux-16color) of terminals that cannot draw Japanese.
ASCII_TERMINALS = frozenset({"linux", "vt100", "vt102", "vt220", "ansi", "dumb", "cons25", "wsvt25"})


def draws_japanese(term: str) -> bool:
    """False for a terminal (by its TERM) whose font cannot hold Japanese nor Textual's block elements."""
    return term.strip().split("-")[0] not in ASCII_TERMINALS
