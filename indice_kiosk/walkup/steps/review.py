"""Step 6: everything exactly as it will be printed; edit goes back with every answer kept."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Grid, VerticalScroll
from textual.widgets import Button

from indice_kiosk.core.flow import Step
from indice_kiosk.walkup.steps.base import leaving_button
from indice_kiosk.walkup.steps.scrolled import ScrolledStep
from indice_kiosk.widgets.prose import Prose


class ReviewScreen(ScrolledStep):
    FIRST_FOCUS = "#confirm"
    KEYS: ClassVar = [("escape", "back", "review.edit"), ("f10", "confirm", "review.confirm.print")]

    @classmethod
    def step_id(cls) -> str:
        return Step.REVIEW

    @property
    def mode(self) -> str:
        """How this application leaves: "print", "fax" or "print+fax" (the catalogue has words for each)."""
        return "+".join(self.kiosk.session.channels)

    def keys(self) -> list[tuple[str, str, str]]:
        # The key line and the button must promise the same thing: "send" when it is faxed.
        return [(key, action, f"review.confirm.{self.mode}" if action == "confirm" else text)
                for key, action, text in self.KEYS]

    def compose(self) -> ComposeResult:
        application = self.kiosk.session.application
        assert application is not None  # the flow rule only lets a checked application in
        yield from self.compose_header()
        with VerticalScroll(id="body"):
            yield Prose(self.t("review.heading"), classes="heading")
            yield Prose(self.t(f"review.intro.{self.mode}"), id="review-intro", classes="note")
            if application.unprintable:
                yield Prose(self.t("applicant.unprintable_note"), classes="problem -shown -warning")
            with Grid(id="review-table"):
                for label, value in self.kiosk.review_rows(application):
                    yield Prose(label, classes="review-label")
                    yield Prose(value or self.t("review.empty"), classes="review-value")
        # On a small terminal the last rows are below the edge while the focus is already on Print.
        yield self.compose_more_below()
        yield self.nav_buttons(
            leaving_button(self.t("review.edit"), id="edit"),
            leaving_button(self.t(f"review.confirm.{self.mode}"), id="confirm", variant="primary"),
        )
        yield from self.compose_footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm":
            self.action_confirm()
        elif event.button.id == "edit":
            self.action_back()

    def action_confirm(self) -> None:
        self.kiosk.goto(Step.SEND)
