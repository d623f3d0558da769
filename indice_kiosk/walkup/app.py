"""KioskApp: holds the session, moves between steps through the consent rule, and wipes."""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import ExitStack
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar
from zoneinfo import ZoneInfo

from rich.console import RenderableType
from rich.text import Text
from textual import events
from textual.app import App
from textual.await_complete import AwaitComplete
from textual.binding import Binding, BindingType
from textual.filter import LineFilter
from textual.screen import Screen

from indice_kiosk.core import flow, jobs
from indice_kiosk.core.choices import IdType, Route
from indice_kiosk.core.config import Config
from indice_kiosk.core.flow import Step
from indice_kiosk.core.jobs import PrintTarget, cups_server
from indice_kiosk.core.session import Session
from indice_kiosk.core.text import CATALOGUES, t
from indice_kiosk.privacy import forget_drawn_text, scrub
from indice_kiosk.walkup import ending, messages
from indice_kiosk.walkup.steps.base import KioskScreen
from indice_kiosk.walkup.steps.welcome import WelcomeScreen
from indice_kiosk.widgets.textual_private import (
    DrawnRows,
    end_press_effects,
    paint_in_full_once,
    paints_are_held,
    replace_crash_report,
)

if TYPE_CHECKING:
    # The ways out (channels, CUPS) are imported where first used, after the welcome screen: the cold start
    # (bench/RESULTS.md, row 1) needs none of them.
    from indice_kiosk.channels import Channel
    from indice_kiosk.core.application import Application
    from indice_kiosk.core.ime import Mozc  # loaded when the form first needs it (bench/: cold start)
    from indice_kiosk.cups.delivery import Outcome, Progress

# The dialogs (indice_kiosk.widgets.dialogs) are imported where they are used -- at the latest by the
# first idle check, a second after start: the welcome screen comes up without them (bench/RESULTS.md,
# row 1: 1 ms of every start).

log = logging.getLogger("kiosk.app")

# Each step's module is imported when the step is first entered: the welcome screen must come up fast
# (bench/ measures the cold start against a minimal Textual app).
SCREENS_BY_STEP: dict[Step, str] = {
    Step.WELCOME: "indice_kiosk.walkup.steps.welcome:WelcomeScreen",
    Step.CONSENT: "indice_kiosk.walkup.steps.consent:ConsentScreen",
    Step.ROUTE: "indice_kiosk.walkup.steps.route:RouteScreen",
    Step.GUIDANCE: "indice_kiosk.walkup.steps.guidance:GuidanceScreen",
    Step.APPLICANT: "indice_kiosk.walkup.steps.applicant:ApplicantScreen",
    Step.REVIEW: "indice_kiosk.walkup.steps.review:ReviewScreen",
    Step.SEND: "indice_kiosk.walkup.steps.send:SendScreen",
    Step.DONE: "indice_kiosk.walkup.steps.done:DoneScreen",
}


def screen_class(step: Step) -> type[KioskScreen]:
    module, name = SCREENS_BY_STEP[step].split(":")
    cls = getattr(importlib.import_module(module), name)
    assert issubclass(cls, KioskScreen)
    return cls

IDLE_WARNING_SECONDS = 30


def cancel_jobs(jobs: list[tuple[PrintTarget, int]]) -> list[int]:
    """Cancel and purge each job; returns the ids CUPS no longer has (the others may still go out)."""
    from indice_kiosk.cups.client import purge

    gone = []
    for target, job_id in jobs:
        if purge(target, job_id):
            gone.append(job_id)
        else:
            log.warning("job %d may still go out: CUPS did not cancel it", job_id)
    return gone


def _terminal_reports_a_size() -> bool:
    try:
        columns, lines = os.get_terminal_size(sys.__stdout__.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return columns > 0 and lines > 0


class KioskApp(App[ending.NextSession | None], inherit_bindings=False):
    CSS_PATH = "walkup.tcss"
    TITLE = "indice-kiosk"
    # A kiosk offers no way out, no screenshots and no copying: the palette has Quit and Screenshot,
    # and selecting text would copy it to the terminal's clipboard with OSC 52.
    ENABLE_COMMAND_PALETTE = False
    ALLOW_SELECT = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "request_quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        config: Config,
        *,
        target: PrintTarget | None = None,
        fax_target: PrintTarget | None = None,
        demo: bool = False,
        allow_quit: bool = False,
        handle_signals: bool = False,
        clock: Callable[[], datetime] | None = None,
        operator: str | None = None,
        ascii_only: bool = False,
        monotonic: Callable[[], float] = time.monotonic,
        fresh_process_per_session: bool = False,
        notice: ending.NextSession | None = None,
    ) -> None:
        super().__init__()
        # No smooth scrolling: over a slow SSH link every animation frame is a repaint to send.
        self.animation_level = "none"
        self.config = config
        self.target = target or PrintTarget(server=cups_server(config.cups.server), queue=config.cups.queue,
                                            timeout=config.cups.timeout)
        self.fax_target = fax_target or PrintTarget(server=self.target.server, queue=config.fax.queue,
                                                    timeout=config.cups.timeout)
        self.demo = demo
        self.allow_quit = allow_quit
        self.handle_signals = handle_signals
        # The date printed on the form and the consent time come from here (tests fix it).
        zone = ZoneInfo(config.kiosk.timezone)
        self.clock = clock or (lambda: datetime.now(zone))
        # A terminal that cannot draw Japanese (indice_kiosk.core.terminal) gets English and ASCII only.
        self.ascii_only = ascii_only
        self.default_lang = "en" if ascii_only else config.kiosk.language
        self._ascii_filter: LineFilter | None = None
        if ascii_only:
            from indice_kiosk.widgets.ascii import AsciiFilter

            self._ascii_filter = AsciiFilter()
        self.session = Session(lang=self.default_lang, operator=operator)
        # Idleness is measured on this clock (tests pass one they can move forward).
        self.monotonic = monotonic
        self.last_activity = monotonic()
        self._pdf_engine_warming = False
        self._wipe_done = asyncio.Event()
        self._wipe_done.set()
        self._cancellers: list[threading.Thread] = []
        # The session's own mozc (kana-kanji conversion), started on first use, stopped at every ending.
        self._mozc: Mozc | None = None
        self._mozc_failed = False
        self._mozc_lock = threading.Lock()
        # What the terminal shows, row by row (hashes): a full-screen paint sends only the rows that changed.
        self._drawn_rows = DrawnRows()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ended = False
        self._stop_watching = threading.Event()
        # The command (cli.run) starts the program again after each person (walkup/ending.py says why);
        # tests drive many sessions through one app.
        self.fresh_process_per_session = fresh_process_per_session
        self._notice = notice
        self._watchdog = ending.Watchdog(idle_expired=self._idle_expired, leftovers=self._cancel_leftovers,
                                         grace=ending.END_GRACE_SECONDS + config.cups.timeout)

    def get_line_filters(self) -> Sequence[LineFilter]:
        # Textual's hook for output filters (NO_COLOR's monochrome is one): on an ASCII-only terminal
        # every line drawn goes through indice_kiosk/widgets/ascii.py last.
        filters = super().get_line_filters()
        return [*filters, self._ascii_filter] if self._ascii_filter is not None else filters

    def copy_to_clipboard(self, text: str) -> None:
        # Inputs copy with ctrl+c, and Textual sends copies to the terminal's clipboard (OSC 52), where
        # the next person at the kiosk, or the operator's own machine, would find them. Never.
        del text

    def bell(self) -> None:
        # A shared office: no beeps.
        return

    # --- output: over an operator's SSH link every byte is time (bench/RESULTS.md, rows 8 and 9) ---------

    def _display(self, screen: Screen[object], renderable: RenderableType | None) -> None:
        # Textual often paints the whole screen when little of it changed (a focus move, a choice made, a
        # change on the screen beneath); the rows the terminal already shows are left out. A paint held by
        # a batch never reaches the terminal, so it must not count as drawn.
        if renderable is not None and not self.is_headless and not paints_are_held(self):
            size = (self.size.width, self.size.height)
            renderable = self._drawn_rows.changed(renderable, self.console, size)
        super()._display(screen, renderable)

    def on_resize(self, _event: events.Resize) -> None:
        # The terminal may have dropped or moved what it showed: every row is drawn again.
        self._drawn_rows.forget()

    def paint_when_settled(self, delay: float = 0.05) -> None:
        """Hold the terminal for ``delay`` seconds while a change settles over a few refreshes (a scroll,
        then the focus's move and its styles), then paint the screen once: only the rows that changed go
        out. Textual's own ``delay_update`` ends with a partial paint and a full one, both sent."""
        held = ExitStack()
        held.enter_context(self.batch_update())

        def release() -> None:
            held.close()
            self._paint_whole_screen()

        self.set_timer(delay, release)

    def _paint_whole_screen(self) -> None:
        # A held paint may be released as the app closes (quit, a signal): no screen is left to paint then.
        if self.screen_stack:
            paint_in_full_once(self.screen)

    def _paint_once(self, change: Callable[[], Awaitable[object]]) -> None:
        """Run ``change`` (a push or a pop) with the terminal held until the screen it shows is mounted; that
        screen is then painted once, in full.

        Left to itself Textual paints a new screen three or four times while it settles: when it resumes,
        on the resize it sends every new screen, after its widgets have their sizes, and again when the
        screen beneath changes (docs/research/screen-change-bytes.md).
        """
        end_press_effects(self.screen)
        held = ExitStack()
        held.enter_context(self.batch_update())
        try:
            shown = change()
        except BaseException:
            held.close()
            raise

        async def release() -> None:
            try:
                await shown
            finally:
                held.close()
                self._paint_whole_screen()

        self.call_next(release)

    # --- navigation: every step change goes through here ---------------------------------------

    def get_default_screen(self) -> Screen[object]:
        # Welcome is the bottom of the stack, never popped: an empty default screen under it would be laid
        # out and painted for nothing at every start (bench/RESULTS.md, row 1).
        return WelcomeScreen()

    def on_mount(self) -> None:
        # The first screen settles over four paints (its mount, the terminal's size, the focus), 16 kB in
        # all where one paint is 5 kB: it is drawn once, whole, after a short hold -- the program starts
        # again after every person, and an operator's slow link pays each byte (bench rows 1b and 8).
        # Not on a terminal that reports no size (`ssh -tt` from a pipe): Textual then starts from two
        # different guesses (80x25 and 80x24), and under a hold they resize the screen back and forth
        # for ever, a core spun and nothing drawn (tests/test_terminal.py).
        if not self.is_headless and _terminal_reports_a_size():
            self.paint_when_settled()
        self.set_interval(1.0, self._check_idle)
        notice = self._notice
        if notice is not None and notice.notice and notice.lang in CATALOGUES \
                and notice.notice in CATALOGUES[notice.lang]:
            # Said by the program before this one, as the last person's session ended.
            from indice_kiosk.widgets.dialogs import NoticeScreen

            self.push_screen(NoticeScreen(t(notice.lang, notice.notice, **notice.params), notice.lang))
        if self.handle_signals:
            self._loop = asyncio.get_running_loop()
            # Plain handlers, not the loop's add_signal_handler: they run in the main thread even while the
            # loop is blocked writing to a terminal nobody reads, so the watchdog learns of the signal.
            for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, self._signal_received)
            # A kiosk is never suspended (ctrl+z is a key in raw mode anyway), and Textual's SIGCONT
            # handler must not run: when the terminal hangs up, the kernel sends the session leader SIGHUP
            # *and* SIGCONT, and that handler restarts application mode on the dead terminal -- a second
            # output thread that dies on EIO, so the exit then blocks forever writing to a full queue
            # while holding the person's data (seen: `kill -9` of the SSH client's pty, 1 in 2 runs).
            signal.signal(signal.SIGTSTP, signal.SIG_IGN)
            signal.signal(signal.SIGCONT, signal.SIG_DFL)
            ending.watch_for_hangup(0, lambda: self.request_end("hangup"), self._stop_watching)
            self._watchdog.start()

    @property
    def step(self) -> str | None:
        return self.screen.id

    def goto(self, step: Step) -> bool:
        """Show ``step`` if the session may enter it. Returns False (and stays put) when it may not."""
        if not flow.may_enter(step, self.session):
            log.warning("refused to enter %s", step)
            return False
        self._paint_once(lambda: self.push_screen(screen_class(step)()))
        return True

    def back(self) -> None:
        """Go to the previous step, never below welcome."""
        if len(self.screen_stack) > 1 and isinstance(self.screen_stack[-2], KioskScreen):
            self.screen_stack[-2].focus_first()  # shown again: its first control, not where the person left
            self._paint_once(self.pop_screen)

    def wipe(self, reason: str, notice: str | None = None,
             notice_params: dict[str, str] | None = None, *, leaving: bool = False) -> None:
        """The one ending of a session, whatever ended it: forget the person (session, mozc, jobs), empty
        every screen that showed them, and the render caches; then show welcome again -- or, ``leaving``
        (quit, a signal, an unexpected error, the process's end), nothing more, the program is closing.
        With ``fresh_process_per_session``, a session that held anything of a person ends the app instead
        (``NextSession``): the command then starts the program again, with fresh memory, for the next one.

        ``notice`` is a catalogue key said once, in the person's language, over the welcome screen.
        """
        lang = self.session.lang
        held_person = not self.session.is_empty
        self.end_session(reason)
        self.session.lang = self.default_lang
        # Hashes of what the terminal showed (they summarise rows that showed the person's answers).
        self._drawn_rows.forget()
        # Every step screen above welcome is discarded with what it held. Welcome itself never holds
        # personal data. Textual may keep a popped screen object alive a little longer (timers, caches), so
        # its fields are emptied first.
        for screen in list(self.screen_stack[1:]):
            scrub(screen)
        if leaving:
            forget_drawn_text()
            return
        if held_person and self.fresh_process_per_session:
            forget_drawn_text()
            self.exit(result=ending.NextSession(notice, lang, dict(notice_params or {})))
            return
        removals: list[AwaitComplete] = []
        while len(self.screen_stack) > 1:
            removals.append(self.pop_screen())
        self._wipe_done.clear()
        self.run_worker(self._finish_wipe(removals), group="wipe", exit_on_error=False)
        self.clear_notifications()
        welcome = self.screen_stack[-1]
        if isinstance(welcome, WelcomeScreen):
            self.call_later(welcome.reset)
        if notice:
            from indice_kiosk.widgets.dialogs import NoticeScreen

            self.push_screen(NoticeScreen(t(lang, notice, **(notice_params or {})), lang))

    async def _finish_wipe(self, removals: list[AwaitComplete]) -> None:
        # Textual removes popped screens asynchronously, widget by widget. Until that is done the next
        # session waits (``wipe_finished``): its screens are not built beside the old ones. The render
        # caches are emptied after the removal, so they also lose what the old screens drew on their way out.
        try:
            for removal in removals:
                await removal
            forget_drawn_text()
            # The removed widgets are reference cycles: collected now, their memory is what the next
            # session reuses, instead of sitting beside it until the collector would next run.
            gc.collect()
        finally:
            self._wipe_done.set()

    async def wipe_finished(self) -> None:
        """Return once the last wipe has removed every screen it discarded (at once when there was none)."""
        await self._wipe_done.wait()

    # --- what the steps say happened: the app decides (no step writes the session) ------------------

    async def on_language_chosen(self, message: messages.LanguageChosen) -> None:
        self.session.lang = message.lang
        if isinstance(self.screen, WelcomeScreen):
            await self.screen.show_language()

    def on_agreed(self, _message: messages.Agreed) -> None:
        if self.screen.id == Step.CONSENT:
            self.session.agree(self.clock())
            self.goto(Step.ROUTE)

    def on_route_chosen(self, message: messages.RouteChosen) -> None:
        self.session.route, self.session.id_type = message.route, message.id_type
        self.goto(Step.GUIDANCE if message.route is Route.NOT_ISSUED else Step.APPLICANT)

    def on_answer_changed(self, message: messages.AnswerChanged) -> None:
        if self.session.agreed:  # never into a session that has ended (a late message after a wipe)
            self.session.answers[message.key] = message.value

    def on_form_completed(self, _message: messages.FormCompleted) -> None:
        from indice_kiosk.cups import delivery

        checked = self.session.check_answers(self.printable)
        if not checked.ok:
            log.warning("form completed with problems; staying on it")
            return
        self.session.make_application(self.config.project.name, now=self.clock(),
                                      channels=delivery.channels_for(self.config.delivery.mode))
        self.goto(Step.REVIEW)

    def on_delivering(self, message: messages.Delivering) -> None:
        self.session.following_job = message.running

    def on_channel_delivered(self, message: messages.ChannelDelivered) -> None:
        self.session.delivered.add(message.channel)

    def on_print_instead(self, _message: messages.PrintInstead) -> None:
        from indice_kiosk.cups import delivery

        # The FAX did not go: the applicant leaves with the printed form and faxes it themselves.
        self.session.channels = (delivery.PRINT,)
        restart = getattr(self.screen, "restart", None)
        if self.screen.id == Step.SEND and callable(restart):
            restart()

    # --- the core, on the screens' behalf -----------------------------------------------------

    def warm_pdf_engine(self) -> None:
        """Import the PDF engine and parse the font in a thread while the person types, once per process:
        the first PDF of the day then costs no import or font parsing (bench/RESULTS.md, row 3).

        Called through ``call_later`` so the worker belongs to the app: a worker started from a screen
        keeps that screen (and so what it showed) alive after the screen is gone.
        """
        if self._pdf_engine_warming:
            return
        self._pdf_engine_warming = True
        font = self.config.document.font
        self.run_worker(lambda: self._warm(font), thread=True, group="pdf-engine")

    @staticmethod
    def _warm(font: Path) -> None:
        try:
            from indice_kiosk.paper import document

            document.warm_up(font)
        except (OSError, ValueError) as error:
            log.error("font not loaded: %s", error)

    def printable(self, value: str) -> str:
        """The characters of ``value`` the configured font cannot print."""
        from indice_kiosk.paper import fonts  # with the application model: not needed before the form

        try:
            return fonts.missing_chars(value, self.config.document.font)
        except (OSError, ValueError):
            return ""  # the PDF step will report the missing font; the form stays usable

    def review_rows(self, application: Application) -> list[tuple[str, str]]:
        from indice_kiosk.paper import document  # reportlab stays out of start-up

        lang = self.session.lang
        rows = document.pdf_text_for_review(application, font_path=self.config.document.font, lang=lang)
        if lang == "ja":
            return rows
        # The form is Japanese; an English reader gets the fixed words glossed (the answers are their own).
        when = application.applied_on
        routes = [r for r in Route if r is not Route.NOT_ISSUED]
        glosses = {t("ja", f"doc.route.{r}"): t(lang, f"doc.route.{r}") for r in routes}
        glosses |= {t("ja", f"doc.id_type.{i}"): t(lang, f"doc.id_type.{i}") for i in IdType}
        glosses[t("ja", "doc.date", year=when.year, month=when.month, day=when.day)] = t(
            lang, "doc.date", year=when.year, month=when.month, day=when.day)
        return [(label, f"{value} ({glosses[value]})" if value in glosses else value)
                for label, value in rows]

    @cached_property
    def channels(self) -> dict[str, Channel]:
        """The ways an application leaves (indice_kiosk/channels.py), by name; made on first use."""
        from indice_kiosk.channels import make_channels
        from indice_kiosk.cups import delivery

        return make_channels(self.config, {delivery.PRINT: self.target, delivery.FAX: self.fax_target})

    def queue_for(self, channel: str) -> str:
        return self.channels[channel].target.queue

    def send_channel(self, name: str, on_progress: Callable[[Progress], None],
                     stop: threading.Event) -> Outcome:
        """Make the session's application for channel ``name`` and send it (runs in a worker thread)."""
        from indice_kiosk.cups.delivery import Outcome

        channel = self.channels[name]
        application = self.session.application
        if application is None:
            return Outcome("other")
        try:
            pdf = channel.render(application)
        except (OSError, ValueError) as error:
            log.error("rendering for %s failed: %s", name, type(error).__name__)
            return Outcome("other")
        self.session.keep_document(pdf)
        del pdf
        # A job an earlier attempt left with CUPS (the server was lost mid-job, or would not cancel it)
        # could still go out: cancel it before sending again, so the applicant's retry is the only copy.
        self.cancel_jobs(self.session.unsettled())
        session, target = self.session, channel.target
        try:
            outcome = channel.deliver(bytes(session.document or b""), on_progress=on_progress, stop=stop,
                                      on_submitted=lambda job_id: session.job_submitted(target, job_id))
        except ValueError as error:  # a FAX number kiosk.toml should not have let through
            log.error("sending by %s refused: %s", name, type(error).__name__)
            return Outcome("other")
        if outcome.settled and outcome.job_id is not None:
            session.job_settled(outcome.job_id)
        return outcome

    def cancel_jobs(self, jobs: list[tuple[PrintTarget, int]]) -> None:
        """Cancel and purge ``jobs`` (blocking: for a worker thread); those CUPS no longer has are dropped
        from the session."""
        for job_id in cancel_jobs(jobs):
            self.session.job_settled(job_id)

    def end_session(self, reason: str) -> None:
        """Forget the person (``Session.wipe``), stop their mozc (its profile is deleted), and cancel, in
        the background, every job of theirs that could still go out. The screens are ``wipe``'s business."""
        leftovers = self.session.unsettled()
        self.session.wipe(reason)
        with self._mozc_lock:
            mozc, self._mozc, self._mozc_failed = self._mozc, None, False
        if leftovers or mozc is not None:
            worker = threading.Thread(target=self._close_after, args=(leftovers, mozc),
                                      name="end-session", daemon=True)
            self._cancellers.append(worker)
            worker.start()

    @staticmethod
    def _close_after(leftovers: list[tuple[PrintTarget, int]], mozc: Mozc | None) -> None:
        if mozc is not None:
            mozc.close()
        cancel_jobs(leftovers)

    # --- Japanese input ----------------------------------------------------------------------

    def mozc(self) -> Mozc | None:
        """The session's running mozc, started on first use; None when conversion is off or unavailable
        (the fields then take letters as typed)."""
        settings = self.config.input
        if not settings.kana:
            return None
        from indice_kiosk.core.ime import ImeUnavailable, Mozc
        from indice_kiosk.core.ime import available as ime_available

        with self._mozc_lock:
            if self._mozc is None and not self._mozc_failed:
                try:
                    if not ime_available():
                        raise ImeUnavailable("mozc is not installed (mozc-server, emacs-mozc-bin)")
                    mozc = Mozc(run_as=settings.mozc_user)
                    mozc.start()
                except ImeUnavailable as error:
                    log.warning("kana input unavailable: %s", error)
                    self._mozc_failed = True
                else:
                    self._mozc = mozc
            return self._mozc

    def warm_mozc(self) -> None:
        """Start the session's mozc in a thread while the form is read (the first key then does not wait)."""
        if self.config.input.kana and self._mozc is None and not self._mozc_failed:
            self.run_worker(self.mozc, thread=True, group="mozc")

    def finish_cancelling(self, timeout: float) -> None:
        """Wait (at most ``timeout`` seconds in all) for the cancellations ``end_session`` started: the
        process is about to exit and would take the daemon threads with it."""
        deadline = time.monotonic() + timeout
        for worker in self._cancellers:
            worker.join(max(0.0, deadline - time.monotonic()))
        self._cancellers = [worker for worker in self._cancellers if worker.is_alive()]

    def print_reminder(self) -> Outcome:
        from indice_kiosk.cups import delivery
        from indice_kiosk.paper import document

        pdf = document.render_reminder(lang=self.session.lang, fax_number=self.config.fax.number,
                                       page_url=self.config.umin.page, font_path=self.config.document.font)
        return delivery.deliver(self.target, pdf, max_wait=self.config.cups.max_wait,
                                purge=self.config.cups.purge_jobs, on_progress=lambda _p: None,
                                title=jobs.REMINDER)

    def print_guidance(self) -> Outcome:
        from indice_kiosk.cups import delivery
        from indice_kiosk.paper import document

        project = self.config.project
        pdf = document.render_guidance(lang=self.session.lang, project=project.name, contact=project.contact,
                                       page_url=self.config.umin.page, font_path=self.config.document.font)
        return delivery.deliver(self.target, pdf, max_wait=self.config.cups.max_wait,
                                purge=self.config.cups.purge_jobs, on_progress=lambda _p: None,
                                title=jobs.GUIDANCE)

    # --- start over, quit --------------------------------------------------------------------

    def action_start_over(self) -> None:
        if self.screen.id == Step.WELCOME:
            return
        lang = self.session.lang

        def answered(yes: bool | None) -> None:
            if yes:
                self.wipe("start over")

        from indice_kiosk.widgets.dialogs import ConfirmScreen

        self.push_screen(ConfirmScreen(t(lang, "confirm.start_over"), lang), answered)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "request_quit":
            return self.allow_quit
        return True

    def action_request_quit(self) -> None:
        if not self.allow_quit:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.wipe("quit", leaving=True)
                self.exit()

        from indice_kiosk.widgets.dialogs import ConfirmScreen

        lang = self.session.lang
        self.push_screen(ConfirmScreen(t(lang, "confirm.quit"), lang, yes_key="confirm.quit_yes"), answered)

    # --- endings that nobody chose ----------------------------------------------------------------

    def _handle_exception(self, error: Exception) -> None:
        # An unexpected error ends the session like any other ending: wiped first.
        try:
            self.wipe("unexpected error", leaving=True)
        except Exception as wipe_error:  # the screens may be half built; the session is forgotten first
            log.error("screens not emptied after the error: %s", type(wipe_error).__name__)
        frame = error.__traceback__
        while frame is not None and frame.tb_next is not None:
            frame = frame.tb_next
        where = f"{frame.tb_frame.f_code.co_filename}:{frame.tb_lineno}" if frame else "?"
        # The type and the place only: an exception's message can quote what a person typed.
        log.error("unexpected %s at %s; session wiped", type(error).__name__, where)
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        # Textual's report prints every local variable — the person's answers among them — to the
        # terminal, where the next person (or the scrollback) would see it. Say only what happened.
        replace_crash_report(self, Text(t(self.session.lang, "app.crashed")))

    def _signal_received(self, signum: int, _frame: object) -> None:
        # SSH hang-up or a stop from the service manager: nothing of the person may outlive us.
        self.request_end(signal.Signals(signum).name)

    def request_end(self, reason: str) -> None:
        """Wipe and exit, from any thread or a signal handler; the watchdog ends the process if the loop
        cannot do it in time."""
        self._watchdog.ending(reason)
        if self._loop is not None:
            try:
                self._loop.call_soon_threadsafe(self._end, reason)
            except RuntimeError:
                pass  # the loop has closed: the process is already on its way out, wiped

    def _end(self, reason: str) -> None:
        if self._ended:
            return
        self._ended = True
        self._stop_watching.set()
        self.wipe(reason, leaving=True)
        self.exit()

    def _idle_expired(self) -> bool:
        """The idle wipe is due (read by the watchdog, from its thread)."""
        session = self.session
        return not session.is_empty and not session.following_job and self.idle_remaining() <= 0

    def _cancel_leftovers(self) -> None:
        # The watchdog's last act: the jobs that could still go out are cancelled; the rest of the
        # person leaves with the process's memory.
        cancel_jobs(self.session.unsettled())
        self.finish_cancelling(self.config.cups.timeout + 1)

    # --- idleness ----------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown | events.MouseScrollDown | events.MouseScrollUp
                      | events.Paste):
            self.last_activity = self.monotonic()
        await super().on_event(event)

    def idle_remaining(self) -> int:
        return int(self.config.kiosk.idle_timeout - (self.monotonic() - self.last_activity) + 0.999)

    def _check_idle(self) -> None:
        # Idleness is measured from the last key, click, wheel or paste (a timestamp read here), not by a
        # resettable timer: Timer.reset only takes effect when its pending sleep ends, so it drifts.
        from indice_kiosk.widgets.dialogs import IdleScreen

        self._watchdog.beat()
        if not self.screen_stack:
            return  # shutting down
        warning_open = isinstance(self.screen_stack[-1], IdleScreen)
        if self.session.is_empty or self.session.following_job:
            self.last_activity = self.monotonic()
            if warning_open:
                self.pop_screen()
            return
        remaining = self.idle_remaining()
        if remaining <= 0:
            self.wipe("idle")
        elif remaining <= min(IDLE_WARNING_SECONDS, self.config.kiosk.idle_timeout // 2) and not warning_open:
            self.push_screen(IdleScreen(self.session.lang, self.idle_remaining))
