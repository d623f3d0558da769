"""Step 8: what happens next. The FAX must not be forgotten: a checklist, and a reminder slip if unticked.
Then what happens after the FAX and where the new password comes from, in UMIN's own terms."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Button, Checkbox

from indice_kiosk.core.application import IdType
from indice_kiosk.core.flow import Step
from indice_kiosk.cups.delivery import FAX, PRINT, Outcome
from indice_kiosk.walkup.steps.scrolled import ScrolledStep
from indice_kiosk.widgets.dialogs import ConfirmScreen
from indice_kiosk.widgets.prose import Prose


class Tick(Checkbox):
    """A checkbox whose box is empty until ticked: Textual draws "X" in both states, told apart only by
    colour, and an unticked "X" reads as done to a person (and is invisible on a monochrome terminal)."""

    BUTTON_INNER = " "

    def watch_value(self) -> None:
        self.BUTTON_INNER = "✓" if self.value else " "
        super().watch_value()
        self.refresh()


class DoneScreen(ScrolledStep):
    FIRST_FOCUS = "Checkbox, #finish"
    KEYS: ClassVar = [("f10", "finish", "done.finish")]
    HAS_START_OVER = False

    @classmethod
    def step_id(cls) -> str:
        return Step.DONE

    @property
    def faxed_by_kiosk(self) -> bool:
        return FAX in self.kiosk.session.delivered

    def compose(self) -> ComposeResult:
        session = self.kiosk.session
        application = session.application
        assert application is not None
        config = self.kiosk.config
        fax_number = config.fax.number
        group = application.id_type is IdType.GROUP
        yield from self.compose_header()
        with VerticalScroll(id="body"):
            if self.faxed_by_kiosk:
                yield Prose(self.t("done.heading_faxed"), classes="heading")
                # Shown only because CUPS reported the FAX job completed (the flow lets no one here before).
                yield Prose(self.t("done.fax_sent", fax=fax_number), id="fax-sent", classes="success")
                # UMIN requires a signature and the FAX carried none: say so, and under which arrangement.
                yield Prose(self.t("done.fax_unsigned", agreement=config.fax.agreement), id="fax-unsigned",
                            classes="problem -warning")
                yield Prose(self.t("done.fax_signed_requested"), id="fax-signed-requested", classes="note")
                if PRINT in session.delivered:
                    yield Tick(self.t("done.sign_copy"), id="check-signed")
                    if group:  # UMIN's rule 5: the representative signs a group ID's form too
                        yield Tick(self.t("done.step_sign_group"), id="check-representative")
            else:
                yield Prose(self.t("done.heading"), classes="heading")
                yield Prose(self.t("done.intro"), classes="note")
                yield Prose(self.t("done.check_hint"), classes="note")
                yield Tick(self.t("done.step_sign"), id="check-signed")
                if group:
                    yield Tick(self.t("done.step_sign_group"), id="check-representative")
                yield Tick(self.t("done.step_fax", fax=fax_number), id="check-faxed")
            if application.unprintable:
                chars = " ".join(dict.fromkeys("".join(application.unprintable.values())))
                yield Prose(self.t("done.handwrite", chars=chars), classes="problem -shown -warning")
            # The rules at consent say the password is the string the person sets; nothing here said where.
            yield Prose(self.t("after.heading"), id="after-heading", classes="heading")
            for key in ("wait", "mail", "password"):
                yield Prose(f"・ {self.t(f'after.{key}')}", id=f"after-{key}", classes="checklist-item -info")
            yield Prose(self.t("after.page", url=config.umin.page), id="after-page", classes="checklist-item")
        # At 80x24 the note on the new password is below the checklist, where Tab never scrolls to.
        yield self.compose_more_below()
        yield self.nav_buttons(Button(self.t("done.finish"), id="finish", variant="primary"))
        yield from self.compose_footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "finish":
            self.action_finish()

    def action_finish(self) -> None:
        faxed = self.faxed_by_kiosk or self.query_one("#check-faxed", Checkbox).value
        if faxed:
            self.kiosk.wipe("finish")
            return

        # The manual's own warning: people apply, forget the FAX, and nothing happens. Ask once more.
        def answered(print_slip: bool | None) -> None:
            if print_slip:
                self.query_one("#finish", Button).disabled = True
                self._print_reminder()

        self.kiosk.push_screen(
            ConfirmScreen(self.t("done.fax_unconfirmed"), self.lang, yes_key="done.print_reminder"), answered)

    @work(thread=True, exclusive=True, group="reminder")
    def _print_reminder(self) -> None:
        outcome = self.kiosk.print_reminder()
        self.app.call_from_thread(self._reminded, outcome)

    def _reminded(self, outcome: Outcome) -> None:
        notice = "done.reminder_printed" if outcome.ok else "done.reminder_failed"
        self.kiosk.wipe("finish, FAX unconfirmed", notice=notice,
                        notice_params={"fax": self.kiosk.config.fax.number})
