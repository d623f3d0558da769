"""The operator console: what the CUPS server and the kiosk's queues are doing, and the few fixes a
help-desk operator makes over SSH (resume a queue, accept jobs, test page, cancel or release a job).

Every CUPS call runs in a thread worker (indice_kiosk.console.report -> indice_kiosk.cups.client, each with a
timeout); results
come back with call_from_thread, so the screen never freezes on a silent server.  Nothing here shows
anything about a person: jobs are listed by number, queue, state and time only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Label, Static

from indice_kiosk.console import report as operator
from indice_kiosk.console.report import JobRow, QueueReport
from indice_kiosk.core import jobs
from indice_kiosk.core.config import Config
from indice_kiosk.core.text import CATALOGUES, t
from indice_kiosk.cups.client import PrintError
from indice_kiosk.cups.delivery import Outcome, Progress
from indice_kiosk.widgets.dialogs import ConfirmScreen
from indice_kiosk.widgets.prose import Prose
from indice_kiosk.widgets.textual_private import bind_key

log = logging.getLogger("kiosk.console")

REFRESH_SECONDS = 5.0


class ConsoleScreen(Screen[None], inherit_bindings=False):
    """The one screen of the console (id "console")."""

    def __init__(self, config: Config, lang: str) -> None:
        super().__init__(id="console")
        self.config = config
        self.lang = lang
        self.add_class(f"-lang-{lang}")
        self.reachable: bool | None = None
        self.reports: list[QueueReport] = []
        self.jobs: list[JobRow] = []
        self.test_outcome: Outcome | None = None
        self.last_result: tuple[str, bool, str] | None = None  # (action, ok, kind)
        self.refreshes = 0  # how many refreshes have been shown (tests wait on it)
        self._stop = threading.Event()
        self._refreshing = False
        self._again = False

    def t(self, key: str, **params: object) -> str:
        return t(self.lang, key, **params)

    @property
    def server_name(self) -> str:
        return jobs.cups_server(self.config.cups.server) or self.t("console.server.default")

    def compose(self) -> ComposeResult:
        yield Static(self.t("console.title"), id="title-bar")
        with Vertical(id="console-body"):
            yield Static(self.t("console.server.checking", server=self.server_name), id="server-line")
            yield Label(self.t("console.queues"), classes="console-heading")
            queues: DataTable[str] = DataTable(id="queues", cursor_type="row", zebra_stripes=False)
            yield queues
            with Horizontal(classes="console-buttons"):
                yield Button(self.t("console.button.test_page"), id="test-page", compact=True)
                yield Button(self.t("console.button.enable"), id="enable", compact=True)
                yield Button(self.t("console.button.accept"), id="accept", compact=True)
            yield Label(self.t("console.jobs"), classes="console-heading")
            jobs: DataTable[str] = DataTable(id="jobs", cursor_type="row")
            yield jobs
            with Horizontal(classes="console-buttons"):
                yield Button(self.t("console.button.cancel_job"), id="cancel-job", compact=True)
                yield Button(self.t("console.button.release_job"), id="release-job", compact=True)
                yield Button(self.t("console.button.refresh"), id="refresh", compact=True)
                yield Button(self.t("console.button.settings"), id="settings", compact=True)
            yield Prose(self.t("console.status.ready"), id="console-status")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        queues = self.query_one("#queues", DataTable)
        for key in ("queue", "role", "state", "accepting", "reasons", "waiting"):
            queues.add_column(self.t(f"console.col.{key}"), key=key)
        jobs = self.query_one("#jobs", DataTable)
        for key in ("job", "queue", "state", "created", "completed"):
            jobs.add_column(self.t(f"console.col.{key}"), key=key)
        queues.focus()
        self.refresh_now()
        self.set_interval(REFRESH_SECONDS, self.refresh_now)

    def on_unmount(self) -> None:
        self._stop.set()  # a test page being followed stops waiting

    # --- reading the server -----------------------------------------------------------------

    def refresh_now(self) -> None:
        """Ask CUPS again.  One refresh at a time: a silent server can take ``cups.timeout`` seconds
        per call, longer than the refresh period, so a request made meanwhile runs once it is done."""
        if self._refreshing:
            self._again = True
            return
        self._refreshing, self._again = True, False
        self._refresh_worker()

    def _refresh_finished(self) -> None:
        self._refreshing = False
        if self._again:
            self.refresh_now()

    @work(thread=True, group="refresh")
    def _refresh_worker(self) -> None:
        try:
            reachable, reports, why = operator.server_report(self.config)
            jobs: list[JobRow] = []
            if reachable:
                try:
                    jobs = operator.recent_jobs(
                        operator.target_for(self.config, ""), [r.name for r in reports],
                        tz=ZoneInfo(self.config.kiosk.timezone))
                except PrintError as error:
                    log.warning("listing jobs failed: %s (%s)", error.kind, error.detail)
                    if error.kind == "unreachable":
                        reachable, why = False, error
            self._post(self._show, reachable, reports, jobs, why)
        finally:
            self._post(self._refresh_finished)

    def _post(self, callback: Callable[..., None], *args: object) -> None:
        """From a worker thread: run ``callback`` on the UI thread, unless the console has closed."""
        if self._stop.is_set():
            return
        try:
            self.app.call_from_thread(callback, *args)
        except RuntimeError:  # the app stopped meanwhile
            log.debug("console closed before a result arrived")

    def _show(self, reachable: bool, reports: list[QueueReport], jobs: list[JobRow],
              why: PrintError | None) -> None:
        self.reachable, self.reports, self.jobs = reachable, reports, jobs
        line = self.query_one("#server-line", Static)
        if reachable:
            line.update(self.t("console.server.reachable", server=self.server_name))
        else:
            # In the operator's words: libcups's own detail is English (it goes to the log).
            silent = why is not None and why.silent
            reason = (self.t("console.server.silent", timeout=self.config.cups.timeout) if silent
                      else self.t("console.server.no_connection"))
            line.update(self.t("console.server.unreachable", server=self.server_name, why=reason))
        line.set_class(not reachable, "-unreachable")
        queues = self.query_one("#queues", DataTable)
        _fill(queues, [(report.name, self._queue_cells(report)) for report in reports])
        table = self.query_one("#jobs", DataTable)
        _fill(table, [(str(job.job_id), self._job_cells(job)) for job in jobs])
        self.refreshes += 1

    def _queue_cells(self, report: QueueReport) -> list[str]:
        if not self.reachable:
            state = self.t("console.state.unknown")
        elif not report.exists:
            state = self.t("console.state.missing")
        else:
            state = self.t(f"console.state.{report.state or 'unknown'}")
        known = self.reachable and report.exists
        return [
            report.name,
            self.t(f"console.role.{report.role}"),
            state,
            self.t("console.yes" if report.accepting else "console.no") if known else "",
            "、".join(self._reason(r) for r in report.reasons) or (report.message if known else ""),
            str(report.jobs_waiting) if known else "",
        ]

    def _reason(self, reason: str) -> str:
        """A CUPS printer-state reason in words ("paused" -> 一時停止); its -error/-warning/-report suffix
        dropped; one the catalogue does not know is shown as CUPS says it."""
        base = reason.removesuffix("-error").removesuffix("-warning").removesuffix("-report")
        key = f"console.reason.{base}"
        return self.t(key) if key in CATALOGUES[self.lang] else reason

    def _job_cells(self, job: JobRow) -> list[str]:
        return [str(job.job_id), job.queue, self.t(f"console.job.{job.state}"), job.created, job.completed]

    # --- what is picked ---------------------------------------------------------------------

    def picked_queue(self) -> str | None:
        return _picked(self.query_one("#queues", DataTable))

    def picked_job(self) -> int | None:
        key = _picked(self.query_one("#jobs", DataTable))
        return int(key) if key is not None else None

    def say(self, text: str) -> None:
        self.query_one("#console-status", Prose).update(text)

    # --- actions ----------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button = event.button.id
        if button == "refresh":
            self.refresh_now()
        elif button == "settings":
            self.open_settings()
        elif button in ("test-page", "enable", "accept"):
            queue = self.picked_queue()
            if queue is None:
                self.say(self.t("console.status.no_queue"))
            elif button == "test-page":
                self.start_test_page(queue)
            else:
                self._queue_action(button, queue)
        elif button in ("cancel-job", "release-job"):
            job = self.picked_job()
            if job is None:
                self.say(self.t("console.status.no_job"))
            else:
                self._job_action(button, job)

    def _queue_action(self, button: str, queue: str) -> None:
        server, timeout = jobs.cups_server(self.config.cups.server), self.config.cups.timeout
        if button == "enable":
            self._run_action("console.action.enable", queue,
                             lambda: operator.enable_queue(server, queue, timeout=timeout))
        else:
            self._run_action("console.action.accept", queue,
                             lambda: operator.accept_queue(server, queue, timeout=timeout))

    def _job_action(self, button: str, job_id: int) -> None:
        server, timeout = jobs.cups_server(self.config.cups.server), self.config.cups.timeout
        if button == "cancel-job":
            purge = self.config.cups.purge_jobs
            self._confirm_cancel(job_id, lambda: self._run_action(
                "console.action.cancel", str(job_id),
                lambda: operator.cancel_job(server, job_id, purge=purge, timeout=timeout)))
        else:
            self._run_action("console.action.release", str(job_id),
                             lambda: operator.release_job(server, job_id, timeout=timeout))

    def _confirm_cancel(self, job_id: int, cancel: Callable[[], None]) -> None:
        """A cancelled job cannot be brought back: ask first, naming the job by number, title and queue
        (the kiosk's titles are generic, so the question shows nothing about a person)."""
        row = next((job for job in self.jobs if job.job_id == job_id), None)
        title, queue = (row.title, row.queue) if row else ("?", "?")

        def answered(yes: bool | None) -> None:
            if yes:
                cancel()

        question = self.t("console.confirm.cancel", job=job_id, title=title, queue=queue)
        self.app.push_screen(ConfirmScreen(question, self.lang, yes_key="console.confirm.cancel_yes",
                                           no_key="console.confirm.cancel_no"), answered)

    def _run_action(self, action_key: str, target: str, fn: Callable[[], tuple[bool, str]]) -> None:
        action = self.t(action_key, target=target)
        self.say(self.t("console.status.working", action=action))
        self._action_worker(action_key, action, fn)

    @work(thread=True, group="action")
    def _action_worker(self, action_key: str, action: str, fn: Callable[[], tuple[bool, str]]) -> None:
        ok, kind = fn()
        self._post(self._action_done, action_key, action, ok, kind)

    def _action_done(self, action_key: str, action: str, ok: bool, kind: str) -> None:
        self.last_result = (action_key, ok, kind)
        result_key = f"console.result.{kind}"
        if result_key not in _keys(self.lang):
            result_key = "console.result.other"
        self.say(self.t(result_key, action=action))
        self.refresh_now()

    # --- test page --------------------------------------------------------------------------

    def start_test_page(self, queue: str) -> None:
        config = self.config
        if config.delivery.mode != "print" and queue == config.fax.queue:
            # A page sent to the FAX queue is dialled: to the UMIN Center, the only number the kiosk has.
            self.say(self.t("console.test.not_to_fax", queue=queue))
            return
        self.test_outcome = None
        self.query_one("#test-page", Button).disabled = True
        self.say(self.t("console.test.submitting", queue=queue))
        self._test_page_worker(queue)

    @work(thread=True, exclusive=True, group="test-page")
    def _test_page_worker(self, queue: str) -> None:
        config = self.config
        max_wait = config.cups.max_wait
        try:
            now = datetime.now(ZoneInfo(config.kiosk.timezone))
            pdf = operator.test_page_pdf(config.document.font, self.lang, queue=queue, when=now)
        except (OSError, ValueError) as error:
            log.error("test page not rendered: %s", type(error).__name__)
            outcome = Outcome("other")
        else:
            def progress(step: Progress) -> None:
                self._post(self._test_progress, queue, step)

            outcome = operator.print_test_page(operator.target_for(config, queue), pdf, max_wait, progress,
                                               purge=config.cups.purge_jobs, stop=self._stop)
        self._post(self._test_done, queue, outcome)

    def _test_progress(self, queue: str, step: Progress) -> None:
        self.say(self.t(f"console.test.{step.phase}", queue=queue, job=step.job_id or "-",
                        seconds=step.seconds))

    def _test_done(self, queue: str, outcome: Outcome) -> None:
        self.test_outcome = outcome
        self.query_one("#test-page", Button).disabled = False
        key = f"console.outcome.{outcome.kind}"
        if key not in _keys(self.lang):
            key = "console.outcome.other"
        self.say(self.t(key, queue=queue, job=outcome.job_id or "-", seconds=outcome.seconds))
        self.refresh_now()

    # --- settings ---------------------------------------------------------------------------

    def open_settings(self) -> None:
        app = self.app
        settings_path = app.settings_path if isinstance(app, ConsoleApp) else None
        settings_path = settings_path or self.config.path
        if settings_path is None:
            self.say(self.t("console.settings.no_file"))
            return
        try:
            from indice_kiosk.console.settings import (
                SettingsScreen,  # a separate module; an installation may lack it
            )
        except ImportError:
            log.warning("settings screen not available")
            self.say(self.t("console.settings.missing"))
            return
        self.app.push_screen(SettingsScreen(settings_path, lang=self.lang))


def _keys(lang: str) -> dict[str, str]:
    from indice_kiosk.core.text import CATALOGUES

    return CATALOGUES[lang]


def _picked(table: DataTable[str]) -> str | None:
    if table.row_count == 0:
        return None
    try:
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
    except Exception:  # no valid cursor
        return None
    return key


def _fill(table: DataTable[str], rows: list[tuple[str, list[str]]]) -> None:
    """Replace the rows, keeping the cursor on the same key when that row is still there."""
    previous = _picked(table)
    table.clear()
    for key, cells in rows:
        table.add_row(*cells, key=key)
    keys = [key for key, _ in rows]
    if previous in keys:
        table.move_cursor(row=keys.index(previous), animate=False)


class ConsoleApp(App[None], inherit_bindings=False):
    """``indice-kiosk operator``: the help desk's view of the kiosk's CUPS."""

    CSS_PATH = "console.tcss"
    TITLE = "indice-kiosk operator"
    ENABLE_COMMAND_PALETTE = False
    ALLOW_SELECT = False
    DEFAULT_CSS = """
    #console-body {
        padding: 0 1;
        height: 1fr;
    }
    #server-line {
        height: auto;
        text-style: bold;
    }
    #server-line.-unreachable {
        color: $error;
    }
    .console-heading {
        text-style: bold;
        color: $accent;
        margin: 1 0 0 0;
    }
    #queues {
        height: auto;
        max-height: 6;
    }
    #jobs {
        height: 1fr;
        min-height: 3;
    }
    .console-buttons {
        height: 1;
        margin: 1 0 0 0;
    }
    .console-buttons Button {
        margin: 0 2 0 0;
    }
    #console-status {
        margin: 1 0 0 0;
        min-height: 2;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "app.focus_next", show=False),
        Binding("shift+tab", "app.focus_previous", show=False),
    ]

    def __init__(self, config: Config, *, lang: str | None = None, settings_path: Path | None = None) -> None:
        super().__init__()
        self.animation_level = "none"  # every frame is a repaint over SSH
        self.config = config
        self.lang = lang or config.kiosk.language
        self.settings_path = settings_path
        bind_key(self, "f5", "refresh_console", t(self.lang, "console.key.refresh"))
        bind_key(self, "ctrl+q", "request_quit", t(self.lang, "console.key.quit"), priority=True)

    def copy_to_clipboard(self, text: str) -> None:
        del text  # no OSC 52 copies, as in the kiosk

    def bell(self) -> None:
        return

    def on_mount(self) -> None:
        self.push_screen(ConsoleScreen(self.config, self.lang))

    @property
    def console_screen(self) -> ConsoleScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, ConsoleScreen):
                return screen
        return None

    def action_refresh_console(self) -> None:
        console = self.console_screen
        if console is not None:
            console.refresh_now()

    def action_request_quit(self) -> None:
        if isinstance(self.screen, ConfirmScreen):
            return
        unless_unsaved = getattr(self.screen, "unless_unsaved", None)  # the settings form is open
        if callable(unless_unsaved) and self.screen.unsaved():  # type: ignore[attr-defined]
            # Quitting would lose what was typed there: the question says so (and quits, if yes).
            unless_unsaved("settings.confirm.discard_quit", "settings.confirm.discard_quit_yes", self.exit)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(ConfirmScreen(t(self.lang, "console.confirm.quit"), self.lang,
                                       yes_key="console.confirm.quit_yes"), answered)
