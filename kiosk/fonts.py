"""The Japanese font: loading it once, and knowing which characters it can print.

A character the font lacks would otherwise come out as an empty box that nobody notices; the kiosk
draws 〓 instead and tells the applicant to write that character by hand.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import marshal
import os
import tempfile
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.application import GETA

if TYPE_CHECKING:
    from reportlab.pdfbase.ttfonts import TTFont

FONT_NAME = "IPAexGothic"
DEFAULT_FONT_PATH = Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf")

_lock = threading.Lock()
log = logging.getLogger(__name__)


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
    with _lock:
        font = _font_from_cache(path)
        if font is None:
            font = TTFont(FONT_NAME, str(path))
            _write_cache(path, font)
        pdfmetrics.registerFont(font)
    return font


# --- the parsed-font cache ---------------------------------------------------------------------------
# reportlab parses the whole 6 MB IPAexGothic file in Python (~35 ms, half of the first PDF of a process).
# What the parse yields (character map, widths, table directory) is kept in a cache file and read back
# with marshal (~10 ms with the file itself). It holds nothing but the public font's metrics. It is keyed
# by the font file (path, size, mtime) and the reportlab version, written atomically, and any problem
# with it just means parsing again.

_CACHE_FORMAT = 1
_NAME_ATTRS = ("name", "familyName", "styleName", "fullName", "uniqueFontID")  # reportlab's TTFNameBytes
_NOT_CACHED = ("_ttf_data", "_pdfScale", *_NAME_ATTRS)


def cache_dir() -> Path:
    """Where the parsed font is kept: systemd's CacheDirectory=, else the XDG cache directory."""
    if os.environ.get("INDICE_KIOSK_CACHE"):
        return Path(os.environ["INDICE_KIOSK_CACHE"])
    if os.environ.get("CACHE_DIRECTORY"):
        return Path(os.environ["CACHE_DIRECTORY"].split(":")[0])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "indice-kiosk"


def _cache_file(path: Path) -> Path:
    import reportlab

    stat = path.stat()
    key = f"{_CACHE_FORMAT}|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{reportlab.Version}"
    return cache_dir() / f"font-{hashlib.sha256(key.encode()).hexdigest()[:20]}.marshal"


def _write_cache(path: Path, font: TTFont) -> None:
    face = vars(font.face)
    state = {
        "attrs": {k: v for k, v in face.items() if k not in _NOT_CACHED},
        "names": {k: bytes(face[k]) for k in _NAME_ATTRS},
    }
    try:
        target = _cache_file(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".font-", delete=False) as out:
            out.write(marshal.dumps(state))
        os.replace(out.name, target)
    except (OSError, ValueError) as error:
        log.info("font cache not written (%s); the font will be parsed at each start", error)
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(out.name)


def _font_from_cache(path: Path) -> TTFont | None:
    from reportlab.pdfbase import ttfonts

    try:
        state = marshal.loads(_cache_file(path).read_bytes())
        attrs, names = dict(state["attrs"]), state["names"]
        attrs.update({k: ttfonts.TTFNameBytes(names[k]) for k in _NAME_ATTRS})
        attrs["_ttf_data"] = path.read_bytes()
        units = attrs["unitsPerEm"]
        # As reportlab's own parse defines it (TTFontFile.extractInfo).
        attrs["_pdfScale"] = (lambda x: x) if units == 1000 else (lambda x, m=1000 / units: x * m)
    except (OSError, EOFError, ValueError, TypeError, KeyError):
        return None
    face = ttfonts.TTFontFace.__new__(ttfonts.TTFontFace)
    face.__dict__.update(attrs)
    # TTFont.__init__ stays reportlab's own (encoding, subset state, shaping); only the parse is skipped,
    # by handing it the face built above.
    parse = ttfonts.TTFontFace
    ttfonts.TTFontFace = lambda *args, **kwargs: face  # type: ignore[assignment,misc]
    try:
        return ttfonts.TTFont(FONT_NAME, str(path))
    finally:
        ttfonts.TTFontFace = parse  # type: ignore[misc]


@lru_cache(maxsize=4)
def _coverage(path: Path) -> frozenset[int]:
    return frozenset(load_font(path).face.charToGlyph)


def split_printable(text: str, path: Path) -> tuple[str, str]:
    """Return (text with 〓 for each character the font cannot print, the characters replaced).

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
            out.append(GETA)
            missing.append(cluster)
    return "".join(out), "".join(dict.fromkeys(missing))


def missing_chars(text: str, path: Path) -> str:
    """The characters of ``text`` that the font cannot print (empty when all can be)."""
    return split_printable(text, path)[1]
