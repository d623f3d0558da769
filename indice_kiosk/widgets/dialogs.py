"""Small screens over a step: a yes/no question, a notice, and the idle countdown."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button

from indice_kiosk.core.text import t
from indice_kiosk.widgets.keybar import KeyBar
from indice_kiosk.widgets.prose import Prose

MOVE_BINDINGS: list[BindingType] = [
    Binding("tab", "app.focus_next", show=False),
    Binding("shift+tab", "app.focus_previous", show=False),
    Binding("left", "app.focus_previous", show=False),
    Binding("right", "app.focus_next", show=False),
]


# The dialogs look the same over either app (the walk-up kiosk, the operator console).
DIALOG_CSS = """
ConfirmScreen, NoticeScreen, IdleScreen {
    align: center middle;
    background: $background 70%;
}

.dialog-box {
    width: 64;
    max-width: 100%;
    height: auto;
    border: thick $warning;
    background: $surface;
    padding: 1 2;
}

.dialog-buttons {
    height: auto;
    margin: 1 0 0 0;
}

.dialog-buttons Button {
    margin: 0 1 0 0;
}
"""


class ConfirmScreen(ModalScreen[bool], inherit_bindings=False):
    """A yes/no question; "no" has the focus, so a stray Enter changes nothing."""
    DEFAULT_CSS = DIALOG_CSS
    SCOPED_CSS = False  # the rules name the dialogs themselves, as the stylesheet they came from did

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "answer(False)", show=False), *MOVE_BINDINGS]

    def __init__(self, question: str, lang: str, yes_key: str = "confirm.yes",
                 no_key: str = "confirm.no") -> None:
        super().__init__(id="confirm")
        self.question = question
        self.lang = lang
        self.yes_key = yes_key
        self.no_key = no_key

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Prose(self.question, id="confirm-question")
            with Horizontal(classes="dialog-buttons"):
                yield Button(t(self.lang, self.no_key), id="confirm-no", variant="primary")
                yield Button(t(self.lang, self.yes_key), id="confirm-yes", variant="error")
        # Its own (empty) key line covers the step's keys, which do not apply while the question is open.
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class NoticeScreen(ModalScreen[None], inherit_bindings=False):
    """A sentence and OK; any key or click closes it."""
    DEFAULT_CSS = DIALOG_CSS
    SCOPED_CSS = False  # the rules name the dialogs themselves, as the stylesheet they came from did

    def __init__(self, text: str, lang: str) -> None:
        super().__init__(id="notice")
        self.text = text
        self.lang = lang

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Prose(self.text, id="notice-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button(t(self.lang, "notice.ok"), id="notice-ok", variant="primary")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#notice-ok", Button).focus()

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        self.dismiss()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss()


class IdleScreen(ModalScreen[None], inherit_bindings=False):
    """"Still there?" with a live countdown. The key or click that answers it does nothing else."""
    DEFAULT_CSS = DIALOG_CSS
    SCOPED_CSS = False  # the rules name the dialogs themselves, as the stylesheet they came from did

    def __init__(self, lang: str, remaining: Callable[[], int]) -> None:
        super().__init__(id="idle")
        self.lang = lang
        self.remaining = remaining

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Prose(t(self.lang, "idle.heading"), classes="heading")
            yield Prose(self._text(), id="idle-countdown")
            with Horizontal(classes="dialog-buttons"):
                yield Button(t(self.lang, "idle.continue"), id="idle-continue", variant="primary")
        yield KeyBar()

    def _text(self) -> str:
        return t(self.lang, "idle.warning", seconds=max(self.remaining(), 0))

    def on_mount(self) -> None:
        self.query_one("#idle-continue", Button).focus()
        self.set_interval(0.5, self._tick)

    def _tick(self) -> None:
        self.query_one("#idle-countdown", Prose).update(self._text())

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        self.dismiss()

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.dismiss()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss()
