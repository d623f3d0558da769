"""Step 1: what the kiosk does, the language, and start."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button

from indice_kiosk.core.flow import Step
from indice_kiosk.walkup.messages import LanguageChosen
from indice_kiosk.walkup.steps.base import KioskScreen
from indice_kiosk.widgets.prose import Prose
from indice_kiosk.widgets.textual_private import bind_key, reset_bindings


class WelcomeScreen(KioskScreen):
    FIRST_FOCUS = "#start"
    KEYS: ClassVar = [("enter", "start", "welcome.start"), ("f2", "toggle_lang", "welcome.language")]
    HAS_START_OVER = False

    @classmethod
    def step_id(cls) -> str:
        return Step.WELCOME

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with Vertical(id="body"):
            yield Prose(self.t("welcome.heading"), classes="heading")
            yield Prose(self.t(f"welcome.body.{self.kiosk.config.delivery.mode}"), id="welcome-body")
            yield Prose(self.t("welcome.no_password"), classes="note")
            if self.kiosk.ascii_only:
                # This terminal cannot draw Japanese: no choice of language, and a word for the staff.
                yield Prose(self.t("welcome.ascii_note"), id="ascii-note", classes="note")
            else:
                yield Prose(self.t("welcome.language"), classes="label")
                with Horizontal(classes="choices"):
                    for lang, name in (("ja", "日本語"), ("en", "English")):
                        # The language in use carries a mark, not only a colour: the focused button is
                        # highlighted too, and the two must not look alike.
                        chosen = self.lang == lang
                        yield Button(f"✓ {name}" if chosen else name, id=f"lang-{lang}",
                                     classes="lang -chosen" if chosen else "lang")
            yield Button(self.t("welcome.start"), id="start", variant="primary")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self.focus_first()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "start":
            await self.action_start()
        elif event.button.id in ("lang-ja", "lang-en"):
            await self.set_lang(event.button.id.removeprefix("lang-"))

    async def action_start(self) -> None:
        await self.kiosk.wipe_finished()  # a key pressed right after the last session ended waits for it
        self.kiosk.goto(Step.CONSENT)

    async def action_toggle_lang(self) -> None:
        if not self.kiosk.ascii_only:
            await self.set_lang("en" if self.lang == "ja" else "ja")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_lang":
            return not self.kiosk.ascii_only  # English only here: not on the key line either
        return True

    async def reset(self) -> None:
        await self.show_language()

    async def set_lang(self, lang: str) -> None:
        self.post_message(LanguageChosen(lang))  # the app sets it, then has this screen redrawn

    async def show_language(self) -> None:
        """Draw the screen again in the session's language."""
        reset_bindings(self)
        for key, action, text_key in self.KEYS:
            bind_key(self, key, action, self.t(text_key))
        await self.recompose()
        self.refresh_bindings()
        self.call_after_refresh(self._focus_start)

    def _focus_start(self) -> None:
        # Once a language is chosen the next thing is to start: Enter should do it.
        for button in self.query("#start"):
            button.focus()
