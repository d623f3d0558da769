"""Step 8: what happens next — sign, FAX to the UMIN Center, wait — and finish (wipe)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Button

from kiosk.application import IdType
from kiosk.flow import Step
from screens.base import KioskScreen
from screens.prose import Prose


class DoneScreen(KioskScreen):
    KEYS: ClassVar = [("f10", "finish", "done.finish")]
    HAS_START_OVER = False

    @classmethod
    def step_id(cls) -> str:
        return Step.DONE

    def compose(self) -> ComposeResult:
        session = self.kiosk.session
        application = session.application
        assert application is not None
        # Things to do get a box to tick; things to know get a bullet.
        todo = [self.t("done.step_sign")]
        if application.id_type is IdType.GROUP:
            todo.append(self.t("done.step_sign_group"))
        todo.append(self.t("done.step_fax", fax=self.kiosk.config.fax.number))
        know = [self.t("done.step_wait"), self.t("done.step_mail")]
        yield from self.compose_header()
        with VerticalScroll(id="body"):
            yield Prose(self.t("done.heading"), classes="heading")
            yield Prose(self.t("done.intro"), classes="note")
            for number, text in enumerate(todo, 1):
                yield Prose(f"☐ {number}. {text}", classes="checklist-item")
            for text in know:
                yield Prose(f"・ {text}", classes="checklist-item -info")
            if application.unprintable:
                chars = " ".join(dict.fromkeys("".join(application.unprintable.values())))
                yield Prose(self.t("done.handwrite", chars=chars), classes="problem -shown -warning")
        yield self.nav_buttons(Button(self.t("done.finish"), id="finish", variant="primary"))
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self.query_one("#finish", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "finish":
            self.action_finish()

    def action_finish(self) -> None:
        self.kiosk.wipe("finish")
