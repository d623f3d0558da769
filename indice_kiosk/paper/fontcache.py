"""The parsed-font cache.

reportlab parses the whole 6 MB IPAexGothic file in Python (~35 ms, half of the first PDF of a process).
What the parse yields (character map, widths, table directory) is kept in a cache file and read back
with marshal (~10 ms with the file itself). It holds nothing but the public font's metrics. It is keyed
by the font file (path, size, mtime) and the reportlab version, written atomically, and any problem
with it just means parsing again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import marshal
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reportlab.pdfbase.ttfonts import TTFont

log = logging.getLogger(__name__)

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


def write(path: Path, font: TTFont) -> None:
    """Keep what parsing ``path`` yielded; a failure only means parsing again next time."""
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


def read(path: Path, name: str) -> TTFont | None:
    """The font ``path`` as reportlab would parse it, from the cache; None when there is no usable entry."""
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
    from indice_kiosk.paper.reportlab_private import face_from_state, font_face_given

    # TTFont.__init__ stays reportlab's own (encoding, subset state, shaping); only the parse is skipped,
    # by handing it a face made from the cached state.
    with font_face_given(face_from_state(attrs)):
        return ttfonts.TTFont(name, str(path))
