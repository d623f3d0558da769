"""The private parts of Textual the kiosk relies on, all named here (Textual 8.2.8, pinned in pyproject).

Each has no public equivalent; tests/test_private_apis.py fails on the upgrade that moves one, and says
which. Nothing else in the product reaches into Textual's underscore names, except the handler overrides
listed at the end (the methods must carry Textual's names to be called at all).
"""

from __future__ import annotations

from rich.console import Console
from rich.control import Control
from textual import messages
from textual._compositor import ChopsUpdate, CompositorUpdate, LayoutUpdate
from textual.app import App
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Button, Input

TEXTUAL_VERSION = "8.2.8"


def bind_key(node: DOMNode, key: str, action: str, description: str, *, priority: bool = False) -> None:
    """Bind ``key`` on this node only, with a description in the person's language. BINDINGS is a class
    attribute, fixed before the language is known; Textual has no public per-instance bind."""
    node._bindings.bind(key, action, description, priority=priority)


def reset_bindings(node: DOMNode) -> None:
    """Back to the class's own BINDINGS (before binding the keys again in another language)."""
    node._bindings = node._merge_bindings()


def replace_crash_report(app: App[object], renderable: object) -> None:
    """Instead of Textual's crash report (every local variable, answers included), leave ``renderable`` on
    the terminal and close down as Textual's own ``_fatal_error`` does."""
    app._exit_renderables.append(renderable)  # type: ignore[arg-type]
    app._close_messages_no_wait()


def paint_in_full_once(screen: Screen[object]) -> None:
    """Have the screen's next update paint all of it, once, after the layout it may still need.

    When a layout and a whole-screen repaint are both pending, Textual paints twice in the same update
    (``Screen._on_timer_update``): the regions the layout moved, then the whole screen. With the screen
    itself among the dirty widgets, the layout's paint is already the whole screen and the repaint that
    follows finds nothing left to draw.
    """
    screen.refresh()
    screen.post_message(messages.Update(screen))


def end_press_effects(screen: Screen[object]) -> None:
    """End at once the press effect (Textual's ``-active`` class, 0.2 s) of every button on ``screen``.

    A key that pressed a button to change the step starts it; its end, 0.2 s later, repaints that button
    on the screen now covered, and Textual repaints the whole screen on top for any change beneath it.
    """
    for button in screen.query(Button):
        button.remove_class("-active")


def paints_are_held(app: App[object]) -> bool:
    """Inside ``App.batch_update`` nothing reaches the terminal: ``_display`` drops what it is given."""
    return bool(app._batch_count)


class RowsUpdate(CompositorUpdate):
    """The rows of a full-screen paint that differ from what the terminal already shows."""

    def __init__(self, rows: list[tuple[int, str]]) -> None:
        self.rows = rows

    def render_segments(self, console: Console) -> str:
        move_to = Control.move_to
        return "".join(move_to(0, y).segment.text + text for y, text in self.rows)


class DrawnRows:
    """What each terminal row shows, as a hash of the row Textual last drew there in full.

    Textual draws a whole screen (``LayoutUpdate``) row by row, each row complete and its styles closed
    (every styled run ends in a reset), so a row written again with the same text changes nothing on the
    terminal. ``changed`` keeps of such a paint only the rows that differ. A partial paint
    (``ChopsUpdate``) passes as it is and makes the rows it touches unknown; anything else, or a new
    terminal size, makes every row unknown. Hashes, not text: the rows show what a person typed.

    The hash is Python's own ``hash`` of the row's text (no hashlib: its import, OpenSSL's, was 1.5 ms of
    every start, bench row 1). It is SipHash, 64 bits, keyed at random per process: a changed row goes
    unsent only if its hash equals the old one at the same row, 1 in 2**64, and nobody typing can aim at
    that without the key. Even then one row would lag within the same session: ``forget`` runs at every
    wipe. An int keeps no text, and without the process's key it cannot be checked against guesses.
    """

    def __init__(self) -> None:
        self._rows: dict[int, int] = {}
        self._size: tuple[int, int] | None = None

    def forget(self) -> None:
        self._rows.clear()

    def changed(self, renderable: object, console: Console, size: tuple[int, int]) -> object:
        if size != self._size:
            self._size = size
            self._rows.clear()
        if isinstance(renderable, ChopsUpdate):
            for y, _x1, _x2 in renderable.spans:
                self._rows.pop(y, None)
            return renderable
        if not isinstance(renderable, LayoutUpdate) or renderable.region.x != 0 or \
                renderable.region.width != size[0]:
            self._rows.clear()
            return renderable
        rows: list[tuple[int, str]] = []
        for y, line in enumerate(renderable.strips, renderable.region.y):
            text = "".join(strip.render(console) for strip in line)
            digest = hash(text)
            if self._rows.get(y) != digest:
                self._rows[y] = digest
                rows.append((y, text))
        return RowsUpdate(rows)


# Handler methods the product overrides, which must keep Textual's names:
#   App._handle_exception, App._fatal_error   (indice_kiosk/walkup/app.py: the session is wiped first,
#                                             the report replaced, see replace_crash_report)
#   App._display                              (indice_kiosk/walkup/app.py: a full-screen paint sends only
#                                             the rows that changed, see DrawnRows)
#   Input._on_key, Input._on_blur, Input._on_paste (indice_kiosk/widgets/form_input.py: kana input sees
#                                             keys before the Input does; a paste keeps every line)
OVERRIDDEN: dict[type, tuple[str, ...]] = {
    App: ("_handle_exception", "_fatal_error", "_display"),
    Input: ("_on_key", "_on_blur", "_on_paste"),
}
