"""What every step shares: the header line, the key line in the person's language, back and start over."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button
from textual.widgets.button import ButtonVariant

from indice_kiosk.core.text import t
from indice_kiosk.widgets.keybar import KeyBar
from indice_kiosk.widgets.prose import Prose
from indice_kiosk.widgets.textual_private import bind_key

if TYPE_CHECKING:
    from indice_kiosk.walkup.app import KioskApp


def leaving_button(label: str, *, id: str, variant: ButtonVariant = "default",
                   disabled: bool = False) -> Button:
    """A button whose press always leaves the step. It has no press effect: the next screen, drawn at
    once, is the sign the key was taken, and the effect would be one more paint sent just before it
    (bench row 8). Buttons that may keep the person on the step keep theirs."""
    button = Button(label, id=id, variant=variant, disabled=disabled)
    button.active_effect_duration = 0
    return button


class KioskScreen(Screen[None], inherit_bindings=False):
    """A step of the session. Subclasses list their keys in KEYS as (keys, action, catalogue key)."""

    # Priority: the app moves the focus as the key arrives. Otherwise the Tab waits in the focused field's
    # queue behind the characters typed before it, while the characters typed after it are already handed
    # to the same field -- a burst of keys over a laggy SSH link ended up in one field (#14.6).
    BINDINGS: ClassVar = [
        Binding("tab", "app.focus_next", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", show=False, priority=True),
    ]
    KEYS: ClassVar[list[tuple[str, str, str]]] = []
    HAS_START_OVER: ClassVar[bool] = True
    # The step's natural first control (a selector): focused when the step is shown, and again when one
    # comes back to it from a later step -- not the button that led on (one Enter would go forward again).
    FIRST_FOCUS: ClassVar[str | None] = None

    def __init__(self) -> None:
        super().__init__(id=str(self.step_id()))
        # Label widths differ by language (English labels are longer): styles key on this class.
        self.add_class(f"-lang-{self.lang}")
        keys = self.keys()
        if self.HAS_START_OVER:
            keys.append(("f9", "app.start_over", "key.start_over"))
        for key, action, text_key in keys:
            bind_key(self, key, action, self.t(text_key))

    @classmethod
    def step_id(cls) -> str:
        raise NotImplementedError

    def keys(self) -> list[tuple[str, str, str]]:
        """This screen's keys (KEYS); a screen whose words depend on the session says so here."""
        return list(self.KEYS)

    @property
    def kiosk(self) -> KioskApp:
        return cast("KioskApp", self.app)

    @property
    def lang(self) -> str:
        return self.kiosk.session.lang

    def t(self, key: str, **params: object) -> str:
        return t(self.lang, key, **params)

    def compose_header(self) -> ComposeResult:
        parts = [Prose(self.t("app.title"), id="title-bar")]
        if self.kiosk.demo:
            parts.append(Prose(self.t("demo.banner", server=self.kiosk.target.server), id="demo-banner"))
        yield Vertical(*parts, id="header")

    def compose_footer(self) -> ComposeResult:
        yield KeyBar()

    def nav_buttons(self, *buttons: Button) -> Horizontal:
        return Horizontal(*buttons, classes="nav")

    def focus_first(self) -> None:
        """Focus the first control matching FIRST_FOCUS that can take the focus now. Immediate (not
        ``Widget.focus``, which waits): a key arriving next goes to it."""
        if self.FIRST_FOCUS is None:
            return
        wanted = set(self.query(self.FIRST_FOCUS))
        for widget in self.focus_chain:
            if widget in wanted:
                # Not scrolled to: a step's first control is near its top, under the heading that says what
                # it is for (scrolling it to the centre hid the heading on a short terminal).
                self.set_focus(widget, scroll_visible=False)
                return

    def action_back(self) -> None:
        self.kiosk.back()

