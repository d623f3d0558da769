"""The private parts of reportlab the kiosk relies on, all named here (reportlab 4 and 5).

Each has no public equivalent; tests/test_private_apis.py fails on the upgrade that moves one.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from reportlab.lib import textsplit
from reportlab.pdfbase import pdfdoc, ttfonts
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import paragraph


def start_page(canvas: Canvas) -> None:
    """Begin a new page without emitting the one drawn so far: how a canvas that holds its pages back
    (to print "page X of Y" on each) starts the next one. ``showPage`` would emit it."""
    canvas._startPage()


def face_from_state(attrs: dict[str, Any]) -> ttfonts.TTFontFace:
    """A parsed font face made from the attributes a parse left on one (the font cache keeps those)."""
    face = ttfonts.TTFontFace.__new__(ttfonts.TTFontFace)
    face.__dict__.update(attrs)
    return face


@contextmanager
def font_face_given(face: Any) -> Iterator[None]:
    """While inside, ``TTFont(name, path)`` takes ``face`` instead of parsing the file: TTFont's own
    initialisation (encoding, subsets, shaping) stays reportlab's, only the ~35 ms parse is skipped
    (indice_kiosk/paper/fontcache.py). TTFont has no parameter for an already parsed face."""
    parse = ttfonts.TTFontFace
    ttfonts.TTFontFace = lambda *args, **kwargs: face  # type: ignore[assignment,misc]
    try:
        yield
    finally:
        ttfonts.TTFontFace = parse  # type: ignore[misc]


DEFLATE_LEVEL = 1


def _deflate(text: str | bytes) -> bytes:
    if isinstance(text, str):
        text = text.encode("utf8")  # as reportlab's own filter does
    return zlib.compress(text, DEFLATE_LEVEL)


def deflate_fast() -> None:
    """Compress the PDFs' streams at zlib level 1 instead of the default 6. Nearly all of it is the
    embedded font subset (~66 kB of glyphs): level 6 took ~2.5 ms of every FAX document and saved ~3 kB
    (5 %) over level 1 (bench/RESULTS.md, row 2); what the PDF shows is the same. reportlab compresses
    every stream (pages, font subsets) through its one ``PDFZCompress`` filter object and has no setting
    for the level: the object's ``encode`` is replaced, for the process (the kiosk is its only user)."""
    pdfdoc.PDFZCompress.encode = _deflate  # type: ignore[method-assign]



_reportlab_cmap = ttfonts.makeToUnicodeCMap


def _utf16_hex(code_point: int) -> str:
    return chr(code_point).encode("utf-16-be", "surrogatepass").hex().upper()


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's own ToUnicode CMap, with each character written as UTF-16BE as the PDF format asks:
    reportlab writes the code point itself, e.g. <24629>, which readers reject, so a character beyond the
    BMP (a rare kanji in a name, such as 𡈽 in 𡈽田) read back as nothing when the PDF was searched or
    copied."""
    lines = _reportlab_cmap(fontname, subset).split("\n")
    start = lines.index(f"{len(subset)} beginbfchar") + 1
    lines[start:start + len(subset)] = [f"<{i:02X}> <{_utf16_hex(v)}>" for i, v in enumerate(subset)]
    return "\n".join(lines)


def to_unicode_for_every_plane() -> None:
    """Have reportlab write the embedded fonts' ToUnicode maps with ``_to_unicode_cmap``: it calls its
    module-level ``makeToUnicodeCMap`` by name as it writes a font subset; there is no setting."""
    ttfonts.makeToUnicodeCMap = _to_unicode_cmap  # type: ignore[assignment]


# Closing marks JIS X 4051 keeps from a line's start that reportlab's list (reportlab.lib.textsplit) lacks:
# the full-width forms of : ; ? ! , . and a few closing brackets and quotes.
CANNOT_START_TOO = "，．：；？！｝〉》〙〗〟’”｠»゠–〜"


def japanese_line_breaks() -> None:
    """Keep the full-width ：；？！，． and friends from starting a line of Japanese ("氏名" at a line's
    end, "：山田" opening the next). reportlab's two CJK line breakers (``textsplit.dumbSplit`` for a
    paragraph in one style, ``paragraph.cjkFragSplit`` for mixed styles) hang a character of their
    module-level ``ALL_CANNOT_START`` on the line before; the list has no setting."""
    for module in (textsplit, paragraph):
        missing = "".join(c for c in CANNOT_START_TOO if c not in module.ALL_CANNOT_START)
        module.ALL_CANNOT_START += missing  # type: ignore[attr-defined]
