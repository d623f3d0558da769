"""The bottom line: the keys that work on this screen, in the person's language.

It shows what Textual's Footer shows (the screen's active bindings; a key whose action is unavailable is
dimmed, a hidden one is left out), but as one widget that only repaints its line. Footer re-mounts one
widget per key whenever the bindings change, i.e. on every focus change: that was most of the cost of
moving between fields, and part of every screen's start-up (bench/RESULTS.md, rows 1 and 5).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget


class KeyBar(Widget):
    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {"keybar--key", "keybar--description", "keybar--disabled"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
        .keybar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .keybar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .keybar--disabled {
            text-style: dim;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        # (first cell, last cell + 1, key) of each key drawn, so a click runs that key.
        self._spans: list[tuple[int, int, str]] = []
        self._drawn: list[tuple[str, str, str, bool]] | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        # Bindings are "updated" after every focus change, mostly to the same keys: a repaint that changes
        # nothing is still a line sent to an operator's SSH link.
        if screen is self.screen and self.keys() != self._drawn:
            self.refresh()

    def keys(self) -> list[tuple[str, str, str, bool]]:
        """(key, shown key, description, enabled) for each shown action, first key per action."""
        seen: set[str] = set()
        out: list[tuple[str, str, str, bool]] = []
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            out.append((binding.key, self.app.get_key_display(binding), binding.description, enabled))
        return out

    def render(self) -> Text:
        key_style = self.get_component_rich_style("keybar--key")
        description_style = self.get_component_rich_style("keybar--description")
        dim = self.get_component_rich_style("keybar--disabled", partial=True)
        line = Text(no_wrap=True, overflow="ellipsis")
        spans: list[tuple[int, int, str]] = []
        self._drawn = self.keys()
        for key, shown, description, enabled in self._drawn:
            start = line.cell_len
            line.append(f" {shown} ", key_style + dim if not enabled else key_style)
            line.append(f"{description} ", description_style + dim if not enabled else description_style)
            if enabled:
                spans.append((start, line.cell_len, key))
        self._spans = spans
        return line

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                event.stop()
                self.app.simulate_key(key)
                return
