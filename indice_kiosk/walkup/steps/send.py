"""Step 7: render the PDF, send it to the printer and/or fax queue, and follow each job to its end."""

from __future__ import annotations

import threading
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button

from indice_kiosk.core.flow import Step
from indice_kiosk.cups.delivery import FAX, PRINT, Outcome, Progress
from indice_kiosk.walkup.messages import ChannelDelivered, Delivering, PrintInstead
from indice_kiosk.walkup.steps.base import KioskScreen, leaving_button
from indice_kiosk.widgets.prose import Prose

# Messages that have a FAX wording of their own; every fault reads the same for both, after the channel name.
FAX_WORDED = frozenset({"submitting", "pending", "waiting", "held", "completed", "timeout", "lost", "paused"})
# While a FAX waits in these phases the person may stop waiting: print instead, or go back.
FAX_WAITS = frozenset({"pending", "held", "waiting"})


class SendScreen(KioskScreen):
    KEYS: ClassVar = [
        ("escape", "back", "key.back"),
        ("f5", "retry", "send.retry"),
        ("f6", "print_instead", "send.print_instead"),
        ("f10", "next", "key.next"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._stop = threading.Event()
        self.outcome: Outcome | None = None  # None while sending; the failure, or the last success
        self.failed_channel: str | None = None
        self.fax_waiting = False  # a FAX job is with CUPS and not done: F6 and Esc stop waiting for it
        self.delivered: set[str] = set()  # what this step has seen CUPS complete (the app keeps the record)

    @classmethod
    def step_id(cls) -> str:
        return Step.SEND

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with Vertical(id="body"):
            yield Prose(self.t("send.heading"), id="send-heading", classes="heading")
            yield Prose("", id="send-log", classes="note")
            yield Prose(self.t("send.rendering"), id="send-status")
            yield Prose("", id="send-hint", classes="note")
        yield self.nav_buttons(
            leaving_button(self.t("button.back"), id="back"),
            Button(self.t("send.retry"), id="retry", variant="warning"),
            Button(self.t("send.print_instead"), id="print-instead"),
            Button(self.t("send.next"), id="next", variant="success"),
        )
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self.delivered = set(self.kiosk.session.delivered)
        self._start()

    def on_unmount(self) -> None:
        self._stop.set()

    @property
    def failed(self) -> bool:
        return self.outcome is not None and not self.outcome.ok

    @property
    def finished(self) -> bool:
        return (self.outcome is not None and self.outcome.ok
                and set(self.kiosk.session.channels) <= self.delivered)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Each key shows in the footer only when it can do something.
        if action == "retry":
            return self.failed
        if action == "back":
            return self.failed or self.fax_waiting
        if action == "print_instead":
            return (self.failed and self.failed_channel == FAX) or self.fax_waiting
        if action == "next":
            return self.finished
        return True

    # --- sending ---------------------------------------------------------------------------------

    def _start(self) -> None:
        # Each attempt has its own stop: one stopped (print instead) must not stop the attempt after it.
        self._stop = threading.Event()
        self.outcome = None
        self.failed_channel = None
        self.fax_waiting = False
        self.refresh_bindings()
        for button_id in ("#retry", "#next", "#back", "#print-instead"):
            self.query_one(button_id).display = False
        self.query_one("#send-hint", Prose).update("")
        self._update_log()
        status = self.query_one("#send-status", Prose)
        status.update(self.t("send.rendering"))
        status.remove_class("problem")
        self.post_message(Delivering(True))
        self._send()

    def restart(self) -> None:
        """Send again (the app calls this once it has switched a failed FAX to printing)."""
        self._start()

    @work(thread=True, group="send")
    def _send(self) -> None:
        stop = self._stop
        outcome = Outcome("completed")
        for channel in self.kiosk.session.channels:
            if channel in self.delivered:
                continue
            self.app.call_from_thread(self._begin, channel)

            def progress(said: Progress, channel: str = channel) -> None:
                if not stop.is_set():  # a stopped attempt says nothing more
                    self.app.call_from_thread(self._progress, channel, said)

            outcome = self.kiosk.send_channel(channel, on_progress=progress, stop=stop)
            if stop.is_set():
                return
            self.app.call_from_thread(self._channel_ended, channel, outcome)
            if not outcome.ok:
                break
        if not stop.is_set():
            self.app.call_from_thread(self._finished, outcome)

    def _label(self, channel: str) -> str:
        return self.t(f"send.channel.{channel}")

    def _message(self, channel: str, kind: str, seconds: int = 0) -> str:
        params = {"queue": self.kiosk.queue_for(channel), "seconds": seconds,
                  "fax": self.kiosk.config.fax.number}
        if channel == FAX and kind in FAX_WORDED:
            return self.t(f"send.fax.{kind}", **params)
        text = self.t(f"send.{kind}", **params)
        return f"{self._label(channel)}：{text}" if channel == FAX else text

    def _begin(self, channel: str) -> None:
        heading = "send.fax.heading" if channel == FAX else "send.heading"
        self.query_one("#send-heading", Prose).update(self.t(heading))

    def _progress(self, channel: str, progress: Progress) -> None:
        self.query_one("#send-status", Prose).update(self._message(channel, progress.phase, progress.seconds))
        waiting = channel == FAX and progress.phase in FAX_WAITS
        if waiting != self.fax_waiting:
            self._show_fax_waiting(waiting)
            self.refresh_bindings()

    def _show_fax_waiting(self, waiting: bool) -> None:
        # A FAX can wait for minutes (a paused queue, a busy line): the person need not wait with it.
        self.fax_waiting = waiting
        self.query_one("#send-hint", Prose).update(self.t("send.fax.waiting_hint") if waiting else "")
        self.query_one("#print-instead", Button).display = waiting
        back = self.query_one("#back", Button)
        back.label = self.t("send.cancel_wait") if waiting else self.t("button.back")
        back.display = waiting

    def _channel_ended(self, channel: str, outcome: Outcome) -> None:
        # The log line, the heading, the status and the buttons change in the next moments (``_finished``
        # follows at once): one paint for all of them, not one for each (bench row 9, print step).
        self.kiosk.paint_when_settled()
        if outcome.ok:
            self.delivered.add(channel)
            self.post_message(ChannelDelivered(channel))
        else:
            self.failed_channel = channel
        self._update_log()

    def _update_log(self) -> None:
        done = [c for c in self.kiosk.session.channels if c in self.delivered]
        lines = [f"✓ {self.t('send.line.done', channel=self._label(c))}" for c in done]
        self.query_one("#send-log", Prose).update("\n".join(lines))

    def _finished(self, outcome: Outcome) -> None:
        self.outcome = outcome
        # The wait is over, however it ended: its hint and its two ways out go (a completed FAX kept
        # saying "instead of waiting, print it (F6)" beside "Next").
        self._show_fax_waiting(False)
        self.post_message(Delivering(False))
        channel = self.failed_channel or self.kiosk.session.channels[-1]
        status = self.query_one("#send-status", Prose)
        status.update(self._message(channel, outcome.kind, outcome.seconds))
        status.set_class(not outcome.ok, "problem")
        done = "send.heading_done" if self.kiosk.session.channels == (PRINT,) else "send.heading_all_done"
        failed = "send.fax.heading_failed" if self.failed_channel == FAX else "send.heading_failed"
        heading = done if outcome.ok else failed
        self.query_one("#send-heading", Prose).update(self.t(heading))
        self.refresh_bindings()
        # Focused at once (Widget.focus waits a refresh, and its paint would come on its own).
        if outcome.ok:
            self.query_one("#next", Button).display = True
            self.set_focus(self.query_one("#next", Button), scroll_visible=False)
        else:
            self.query_one("#send-hint", Prose).update(self.t("send.answers_kept"))
            for button_id in ("#retry", "#back"):
                self.query_one(button_id, Button).display = True
            self.query_one("#print-instead", Button).display = self.failed_channel == FAX
            self.set_focus(self.query_one("#retry", Button), scroll_visible=False)

    # --- keys and buttons ------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        actions = {"retry": self.action_retry, "next": self.action_next, "back": self.action_back,
                   "print-instead": self.action_print_instead}
        if event.button.id in actions:
            actions[event.button.id]()

    def action_next(self) -> None:
        if self.finished:
            self.kiosk.goto(Step.DONE)

    def action_retry(self) -> None:
        if self.failed:
            self._start()

    def _stop_waiting(self) -> None:
        # The attempt's worker stops following; the FAX job is cancelled and purged on its way out (and, as
        # an unsettled job of the session, before any new attempt and at every ending).
        self._stop.set()
        self.fax_waiting = False

    def action_print_instead(self) -> None:
        # The FAX did not go, or is stuck waiting: the applicant can leave with the printed form and fax
        # it themselves.
        if self.fax_waiting:
            self._stop_waiting()
        elif not (self.failed and self.failed_channel == FAX):
            return
        self.post_message(PrintInstead())  # the app switches the session to printing, then restarts us

    def action_back(self) -> None:
        # While CUPS has the job, going back would leave it unfollowed -- unless the person stops waiting
        # for a FAX, which cancels it; after success there is no going back.
        if self.fax_waiting:
            self._stop_waiting()
            self.kiosk.back()
        elif self.failed:
            self.kiosk.back()
