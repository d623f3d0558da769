"""The Japanese font: loading it once, and knowing which characters it can print.

A character the font lacks would otherwise come out as an empty box that nobody notices; the kiosk
draws an empty box to write in (``HANDWRITE_BOX``) instead and tells the applicant to write that
character by hand.
"""

from __future__ import annotations

import threading
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from indice_kiosk.core.application import HANDWRITE_BOX
from indice_kiosk.core.config import DEFAULT_FONT_PATH  # noqa: F401  (the default, for callers)

if TYPE_CHECKING:
    from reportlab.pdfbase.ttfonts import TTFont

FONT_NAME = "IPAexGothic"

_lock = threading.Lock()


def _is_variation_selector(ch: str) -> bool:
    code = ord(ch)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


@lru_cache(maxsize=4)
def load_font(path: Path) -> TTFont:
    """Parse and register the TrueType font with reportlab (once per process and path)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if not path.is_file():
        raise FileNotFoundError(f"font file not found: {path} (set document.font)")
    from indice_kiosk.paper import fontcache

    with _lock:
        font = fontcache.read(path, FONT_NAME)
        if font is None:
            font = TTFont(FONT_NAME, str(path))
            fontcache.write(path, font)
        pdfmetrics.registerFont(font)
    return font


@lru_cache(maxsize=4)
def _coverage(path: Path) -> frozenset[int]:
    return frozenset(load_font(path).face.charToGlyph)


def split_printable(text: str, path: Path) -> tuple[str, str]:
    """Return (text with HANDWRITE_BOX for each character the font cannot print, the characters replaced).

    A base character followed by a variation selector is one character to the reader, so the pair is
    replaced as a whole: the font has no variant forms, and printing the plain form would be wrong.
    """
    covered = _coverage(path)
    out: list[str] = []
    missing: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        cluster = ch
        while i + 1 < len(text) and _is_variation_selector(text[i + 1]):
            i += 1
            cluster += text[i]
        i += 1
        printable = len(cluster) == 1 and (ord(ch) in covered or ch in " \u3000")
        if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn"):
            printable = False
        if printable:
            out.append(cluster)
        else:
            out.append(HANDWRITE_BOX)
            missing.append(cluster)
    return "".join(out), "".join(dict.fromkeys(missing))


def missing_chars(text: str, path: Path) -> str:
    """The characters of ``text`` that the font cannot print (empty when all can be)."""
    return split_printable(text, path)[1]
