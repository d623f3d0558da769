"""Step 6: everything exactly as it will be printed; edit goes back with every answer kept."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Grid, VerticalScroll
from textual.widgets import Button

from kiosk.flow import Step
from screens.base import KioskScreen
from screens.prose import Prose


class ReviewScreen(KioskScreen):
    KEYS: ClassVar = [("escape", "back", "review.edit"), ("f10", "confirm", "review.confirm")]

    @classmethod
    def step_id(cls) -> str:
        return Step.REVIEW

    def compose(self) -> ComposeResult:
        application = self.kiosk.session.application
        assert application is not None  # the flow rule only lets a checked application in
        yield from self.compose_header()
        with VerticalScroll(id="body"):
            yield Prose(self.t("review.heading"), classes="heading")
            yield Prose(self.t("review.intro"), classes="note")
            with Grid(id="review-table"):
                for label, value in self.kiosk.review_rows(application):
                    yield Prose(label, classes="review-label")
                    yield Prose(value or self.t("review.empty"), classes="review-value")
            if application.unprintable:
                yield Prose(self.t("applicant.unprintable_note"), classes="problem -shown -warning")
        yield self.nav_buttons(
            Button(self.t("review.edit"), id="edit"),
            Button(self.t("review.confirm"), id="confirm", variant="primary"),
        )
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self.query_one("#confirm", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm":
            self.action_confirm()
        elif event.button.id == "edit":
            self.action_back()

    def action_confirm(self) -> None:
        self.kiosk.goto(Step.SEND)
