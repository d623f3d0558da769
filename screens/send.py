"""Step 7: render the PDF, send it to the CUPS queue, follow the job to its end, and say how it ended."""

from __future__ import annotations

import threading
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button

from kiosk.delivery import Outcome, Progress
from kiosk.flow import Step
from screens.base import KioskScreen
from screens.prose import Prose


class SendScreen(KioskScreen):
    KEYS: ClassVar = [
        ("escape", "back", "key.back"),
        ("f5", "retry", "send.retry"),
        ("f10", "next", "key.next"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._stop = threading.Event()
        self.outcome: Outcome | None = None

    @classmethod
    def step_id(cls) -> str:
        return Step.SEND

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with Vertical(id="body"):
            yield Prose(self.t("send.heading"), id="send-heading", classes="heading")
            yield Prose(self.t("send.rendering"), id="send-status")
            yield Prose("", id="send-hint", classes="note")
        yield self.nav_buttons(
            Button(self.t("button.back"), id="back"),
            Button(self.t("send.retry"), id="retry", variant="warning"),
            Button(self.t("send.next"), id="next", variant="success"),
        )
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self._start()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Retry and back only make sense once a try has failed; hide them from the footer until then.
        if action in ("retry", "back"):
            return self.outcome is not None and not self.outcome.ok
        if action == "next":
            return self.outcome is not None and self.outcome.ok
        return True

    def on_unmount(self) -> None:
        self._stop.set()

    def _start(self) -> None:
        self.outcome = None
        self.refresh_bindings()
        for button_id in ("#retry", "#next", "#back"):
            self.query_one(button_id).display = False
        self.query_one("#send-hint", Prose).update("")
        self.query_one("#send-heading", Prose).update(self.t("send.heading"))
        self.query_one("#send-status", Prose).update(self.t("send.rendering"))
        self.kiosk.session.following_job = True
        self._send()

    @work(thread=True, exclusive=True, group="send")
    def _send(self) -> None:
        outcome = self.kiosk.print_application(
            on_progress=lambda p: self.app.call_from_thread(self._progress, p), stop=self._stop
        )
        if not self._stop.is_set():
            self.app.call_from_thread(self._finished, outcome)

    def _progress(self, progress: Progress) -> None:
        status = self.query_one("#send-status", Prose)
        if progress.phase == "submitting":
            status.update(self.t("send.submitting", queue=self.kiosk.target.queue))
        else:
            status.update(self.t(f"send.{progress.phase}", seconds=progress.seconds))

    def _finished(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.refresh_bindings()
        self.kiosk.session.following_job = False
        status = self.query_one("#send-status", Prose)
        status.update(self.t(f"send.{outcome.kind}", queue=self.kiosk.target.queue, seconds=outcome.seconds))
        status.set_class(not outcome.ok, "problem")
        heading = "send.heading_done" if outcome.ok else "send.heading_failed"
        self.query_one("#send-heading", Prose).update(self.t(heading))
        if outcome.ok:
            self.kiosk.session.printed = True
            self.query_one("#next", Button).display = True
            self.query_one("#next", Button).focus()
        else:
            self.query_one("#send-hint", Prose).update(self.t("send.answers_kept"))
            self.query_one("#retry", Button).display = True
            self.query_one("#back", Button).display = True
            self.query_one("#retry", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "retry":
            self.action_retry()
        elif event.button.id == "next":
            self.action_next()
        elif event.button.id == "back":
            self.action_back()

    def action_next(self) -> None:
        if self.outcome is not None and self.outcome.ok:
            self.kiosk.goto(Step.DONE)

    def action_retry(self) -> None:
        if self.outcome is not None and not self.outcome.ok:
            self._start()

    def action_back(self) -> None:
        # While CUPS has the job, going back would leave it unfollowed; after success there is no going back.
        if self.outcome is not None and not self.outcome.ok:
            self.kiosk.back()
