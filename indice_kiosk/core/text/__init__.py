"""The text catalogues: one module per language, the same keys in each."""

from __future__ import annotations

import errno

from indice_kiosk.core.text import en, ja

LANGS: tuple[str, ...] = ("ja", "en")
CATALOGUES: dict[str, dict[str, str]] = {"ja": ja.TEXT, "en": en.TEXT}


def t(lang: str, key: str, **params: object) -> str:
    """The text for ``key`` in ``lang``; a missing key is a bug, so it fails loudly in tests."""
    text = CATALOGUES[lang][key]
    return text.format(**params) if params else text


def os_error(lang: str, error: OSError) -> str:
    """What the system refused, in ``lang``: ``strerror`` is always English (C locale)."""
    name = errno.errorcode.get(error.errno or 0, "")
    key = f"oserror.{name}"
    if name and key in CATALOGUES[lang]:
        return t(lang, key)
    return t(lang, "oserror.other", name=name or "?", number=error.errno,
             strerror=error.strerror or str(error))
