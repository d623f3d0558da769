"""Privacy: what must not outlive a person's session in the kiosk's memory, and how it is forgotten.

Freed memory is the third place: after each person the `indice-kiosk` command starts itself again, with
fresh memory (indice_kiosk/walkup/ending.py).

The session's data (answers, the PDF buffer, jobs) is forgotten by ``Session.wipe``
(indice_kiosk/core/session.py). What the screens drew of it lives on in widgets and in the render caches
of Rich, Textual and our own widgets: ``scrub`` empties a screen before it is discarded, and
``forget_drawn_text`` empties the caches. The app (indice_kiosk/walkup/app.py, ``KioskApp.wipe``) calls
them at every ending.
"""

from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from indice_kiosk.widgets.prose import Prose

if TYPE_CHECKING:
    from textual.screen import Screen


@runtime_checkable
class HoldsAnswers(Protocol):
    """A screen that keeps something of the person outside its widgets (the form: its copy of the answers)."""

    def forget_person(self) -> None: ...


def scrub(screen: Screen[object]) -> None:
    """Empty every field and every text a screen shows: what a person typed must not outlive the wipe."""
    # Textual can keep a removed screen alive for good (a repaint timer it made after the screen closed
    # holds it), and with it whatever the screen held: measured, the form's answers outlived the wipe so.
    if isinstance(screen, HoldsAnswers):
        screen.forget_person()
    # The form's widgets, imported when the form is first shown (not at start-up).
    from textual.widgets import Checkbox, Input, OptionList

    from indice_kiosk.widgets.form_input import KanaInput, Preedit

    for widget in screen.query("*"):
        if isinstance(widget, KanaInput):
            widget.state = None  # what was being composed, and its candidates
        if isinstance(widget, Input):
            widget.value = ""
        elif isinstance(widget, Prose):
            widget.update("")
        elif isinstance(widget, Checkbox):
            widget.value = False
        elif isinstance(widget, Preedit):
            widget.show(())
        elif isinstance(widget, OptionList):
            widget.clear_options()


# Rich, Textual and our Prose memoise what they draw in functools caches keyed by the text or by the
# widget's style cache (e.g. rich's Segment._split_cells, cached_cell_len, Textual's
# StylesCache.get_inner_outer, which also keeps every dead widget's rendered lines). A person's name would
# stay in memory in them until evicted, and they are most of the memory a session leaves behind.
# Our own drawing caches are in indice_kiosk.widgets (wrapped prose, ASCII text). Not the rest of the
# package: the parsed font (paper/fonts.py), the QR code of UMIN's page and the laid-out fixed wording of
# the papers (paper/document.py, _fixed_template: labels, notes, site settings, never a value typed;
# tests/test_document.py checks) are public data, kept for the life of the process.
RENDER_CACHE_PACKAGES = ("rich", "textual", "indice_kiosk.widgets")


def _drawing_module(name: str) -> bool:
    return any(name == package or name.startswith(package + ".") for package in RENDER_CACHE_PACKAGES)


# The type of what functools.lru_cache makes, found through the public API (its name is private).
LRU_CACHE = type(functools.lru_cache(maxsize=1)(lambda: None))


def render_caches() -> list[functools._lru_cache_wrapper[object]]:
    """Every functools cache of those packages: module functions, methods, class methods, properties."""
    found: dict[int, functools._lru_cache_wrapper[object]] = {}
    for name, module in list(sys.modules.items()):
        if module is None or not _drawing_module(name):
            continue
        for value in list(vars(module).values()):
            for candidate in list(vars(value).values()) if isinstance(value, type) else [value]:
                if isinstance(candidate, property):
                    candidate = candidate.fget
                if isinstance(candidate, classmethod | staticmethod):
                    candidate = candidate.__func__
                if isinstance(candidate, LRU_CACHE):
                    found[id(candidate)] = candidate
    return list(found.values())


def forget_drawn_text() -> int:
    """Empty the render caches of Rich, Textual and the screens; returns how many were emptied."""
    caches = render_caches()
    for cache in caches:
        cache.cache_clear()
    return len(caches)
