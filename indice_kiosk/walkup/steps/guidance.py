"""Step 4 (never issued): whom to contact instead; a handout without personal data; then the session ends."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Button

from indice_kiosk.core.flow import Step
from indice_kiosk.cups.delivery import Outcome
from indice_kiosk.walkup.steps.base import leaving_button
from indice_kiosk.walkup.steps.scrolled import ScrolledStep
from indice_kiosk.widgets.prose import Prose


class GuidanceScreen(ScrolledStep):
    FIRST_FOCUS = "#print-guidance"
    KEYS: ClassVar = [("escape", "back", "key.back"), ("f10", "finish", "guidance.finish")]

    @classmethod
    def step_id(cls) -> str:
        return Step.GUIDANCE

    def compose(self) -> ComposeResult:
        project = self.kiosk.config.project
        yield from self.compose_header()
        with VerticalScroll(id="body"):
            yield Prose(self.t("guidance.heading"), classes="heading")
            yield Prose(self.t("guidance.intro"), classes="note")
            yield Prose(self.t("guidance.indice.heading"), classes="subheading")
            yield Prose(self.t("guidance.indice.body", project=project.name))
            yield Prose(self.t("guidance.contact", contact=project.contact) if project.contact
                        else self.t("guidance.contact_ask"))
            yield Prose(self.t("guidance.ncd.heading"), classes="subheading")
            yield Prose(self.t("guidance.ncd.body"))
        yield self.compose_more_below()
        # Under the text, not at its end: at 80x24 the end is below the edge, and "print" seemed to do
        # nothing.
        yield Prose("", id="guidance-status")
        yield self.nav_buttons(
            leaving_button(self.t("button.back"), id="back"),
            Button(self.t("guidance.print"), id="print-guidance"),
            Button(self.t("guidance.finish"), id="finish", variant="primary"),
        )
        yield from self.compose_footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "print-guidance":
            event.button.disabled = True
            self.query_one("#guidance-status", Prose).update(
                self.t("send.submitting", queue=self.kiosk.target.queue))
            self._print()
        elif event.button.id == "finish":
            self.action_finish()
        elif event.button.id == "back":
            self.action_back()

    @work(thread=True, exclusive=True, group="guidance")
    def _print(self) -> None:
        outcome = self.kiosk.print_guidance()
        self.app.call_from_thread(self._printed, outcome)

    def _printed(self, outcome: Outcome) -> None:
        text = self.t("guidance.printed") if outcome.ok else self.t(
            f"send.{outcome.kind}", queue=self.kiosk.target.queue, seconds=outcome.seconds)
        self.query_one("#guidance-status", Prose).update(text)
        self.query_one("#print-guidance", Button).disabled = False
        # Focus left the button while it was disabled; put it on what comes next.
        following = self.query_one("#finish" if outcome.ok else "#print-guidance", Button)
        self.set_focus(following, scroll_visible=False)

    def action_finish(self) -> None:
        self.kiosk.wipe("guidance finished")
