"""A step whose body may run past the bottom of the terminal (guidance, review, done).

Not in base.py: the welcome screen, the one every start shows, does not scroll, and a Screen subclass costs
its definition at import (bench/RESULTS.md, row 1).
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding
from textual.containers import VerticalScroll

from indice_kiosk.walkup.steps.base import KioskScreen
from indice_kiosk.widgets.prose import Prose


class ScrolledStep(KioskScreen):
    """A step whose body (a VerticalScroll ``#body``) may run past the bottom of a small terminal while the
    focus is already on its buttons: the arrow and page keys scroll it, and the line under it says when
    there is more below (``compose_more_below``)."""

    BINDINGS: ClassVar = [
        *KioskScreen.BINDINGS,
        Binding("down", "scroll_body(1)", show=False),
        Binding("up", "scroll_body(-1)", show=False),
        Binding("pagedown", "scroll_body(10)", show=False),
        Binding("pageup", "scroll_body(-10)", show=False),
    ]

    def compose_more_below(self) -> Prose:
        # Always laid out, shown or hidden in place: a line that came and went would move the rows above
        # it and have every row of the screen sent again (bench row 9).
        return Prose(self.t("review.more_below"), id="more-below", classes="more-below")

    def on_mount(self) -> None:
        self.focus_first()
        self.watch(self.query_one("#body", VerticalScroll), "scroll_y", self._update_more, init=False)
        self.call_after_refresh(self._update_more)

    def on_resize(self, _event: events.Resize) -> None:
        # A terminal made smaller (or larger) moves the bottom edge without scrolling.
        self.call_after_refresh(self._update_more)

    def _update_more(self, _value: float | None = None) -> None:
        body = self.query_one("#body", VerticalScroll)
        self.query_one("#more-below").set_class(body.scroll_y < body.max_scroll_y - 0.5, "-shown")

    def action_scroll_body(self, lines: int) -> None:
        body = self.query_one("#body", VerticalScroll)
        body.scroll_to(y=body.scroll_y + lines, animate=False)
