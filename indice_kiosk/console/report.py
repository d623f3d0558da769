"""The operator console's core: how the CUPS server and the kiosk's queues are doing, a test page, the
kiosk's recent jobs, and the few fixes a help-desk operator may make.  No Textual here.

Every CUPS call goes through indice_kiosk.cups.client (own connection, own thread, timeout).  Nothing here
reads,
shows or keeps anything about a person: jobs are listed by id, queue, state and time only (the kiosk's
job titles are generic), and document data is never fetched.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from indice_kiosk.core import jobs
from indice_kiosk.core.config import Config
from indice_kiosk.cups import client as printing
from indice_kiosk.cups import delivery
from indice_kiosk.cups.client import JobState, PrintError, PrintTarget
from indice_kiosk.cups.delivery import Outcome, Progress
from indice_kiosk.paper.test_page import test_page_pdf

log = logging.getLogger("indice_kiosk.console.report")

TEST_PAGE_TITLE = jobs.TEST_PAGE
KIOSK_JOB_NAMES = jobs.KIOSK_TITLES  # how the console tells the kiosk's jobs from others
PRINTER, FAX = "printer", "fax"
_STATES = {3: "idle", 4: "processing", 5: "stopped"}


@dataclass(frozen=True)
class QueueReport:
    name: str
    role: str  # "printer" | "fax"
    exists: bool
    state: str  # "idle" | "processing" | "stopped" ("" when the queue does not exist or is unknown)
    accepting: bool
    reasons: tuple[str, ...]
    jobs_waiting: int
    message: str


@dataclass(frozen=True)
class JobRow:
    job_id: int
    queue: str
    state: str  # pending | held | processing | stopped | canceled | aborted | completed
    created: str  # local HH:MM:SS, "" if unknown
    completed: str  # local HH:MM:SS, "" while not finished
    title: str = ""  # one of the kiosk's generic titles (jobs.KIOSK_TITLES): never a person's data

    @property
    def finished(self) -> bool:
        return self.state in ("canceled", "aborted", "completed")


def target_for(config: Config, queue: str) -> PrintTarget:
    return PrintTarget(server=jobs.cups_server(config.cups.server), queue=queue,
                       timeout=config.cups.timeout)


def configured_queues(config: Config) -> list[tuple[str, str]]:
    """(queue, role) for every queue the kiosk uses: the printer always, the FAX queue when it faxes."""
    queues = [(config.cups.queue, PRINTER)]
    if config.delivery.mode != "print":
        queues.append((config.fax.queue, FAX))
    return queues


def server_report(config: Config) -> tuple[bool, list[QueueReport], PrintError | None]:
    """(server reachable?, one report per configured queue, why it was not reached or None)."""
    reports: list[QueueReport] = []
    for queue, role in configured_queues(config):
        try:
            info = printing.queue_info(target_for(config, queue))
        except PrintError as error:
            if error.kind == "unreachable":
                log.info("server unreachable: %s", error.detail)
                return False, [QueueReport(q, r, False, "", False, (), 0, "")
                               for q, r in configured_queues(config)], error
            missing = error.kind == "no-queue"
            reports.append(QueueReport(queue, role, False if missing else True, "", False, (), 0,
                                       "" if missing else error.detail))
            continue
        reports.append(QueueReport(
            name=queue,
            role=role,
            exists=True,
            state=_STATES.get(info["state"], ""),
            accepting=info["accepting"],
            reasons=tuple(r for r in info["reasons"] if r != "none"),
            jobs_waiting=info["queued_jobs"],
            message=info["message"],
        ))
    return True, reports, None


def missing_queues(server: str | None, queues: Iterable[str], *, timeout: float) -> list[str]:
    """Which of ``queues`` the CUPS server ``server`` does not have.

    Raises PrintError when CUPS cannot say (unreachable, or it refused to answer)."""
    missing: list[str] = []
    for queue in queues:
        try:
            printing.queue_info(PrintTarget(server=server, queue=queue, timeout=timeout))
        except PrintError as error:
            if error.kind != "no-queue":
                raise
            missing.append(queue)
    return missing


def print_test_page(
    target: PrintTarget,
    pdf: bytes,
    max_wait: float,
    on_progress: Callable[[Progress], None],
    *,
    purge: bool = True,
    stop: threading.Event | None = None,
) -> Outcome:
    """Send the test page and follow it to its end (runs in a worker thread)."""
    return delivery.deliver(target, pdf, max_wait=max_wait, purge=purge, on_progress=on_progress,
                            stop=stop, title=TEST_PAGE_TITLE)


def _clock(seconds: int, tz: tzinfo | None) -> str:
    if seconds <= 0:
        return ""
    return datetime.fromtimestamp(seconds, tz).strftime("%H:%M:%S")


def recent_jobs(
    target_server: PrintTarget | str | None,
    queues: Iterable[str],
    limit: int = 20,
    *,
    timeout: float = 10.0,
    tz: tzinfo | None = None,
) -> list[JobRow]:
    """The kiosk's own jobs on ``queues`` (recognised by their generic titles), newest first.

    Raises PrintError when CUPS cannot be asked.
    """
    if isinstance(target_server, PrintTarget):
        target = target_server
    else:
        target = PrintTarget(server=target_server, queue="", timeout=timeout)
    wanted = set(queues)
    rows: list[JobRow] = []
    for job in sorted(printing.list_jobs(target), key=lambda j: j["job_id"], reverse=True):
        title = jobs.split_job_name(job["name"])[0]
        if title not in KIOSK_JOB_NAMES or job["queue"] not in wanted:
            continue
        try:
            state = JobState(job["state"]).name.lower()
        except ValueError:
            state = "unknown"
        rows.append(JobRow(job["job_id"], job["queue"], state, _clock(job["created"], tz),
                           _clock(job["completed"], tz), title))
        if len(rows) >= limit:
            break
    return rows


def _action(what: str, fn: Callable[[], None]) -> tuple[bool, str]:
    """Run an operator action; (True, "done") or (False, kind) where kind is "not-permitted" when CUPS
    did not allow it, else a PrintError kind (unreachable, no-queue, ...)."""
    try:
        fn()
    except PrintError as error:
        kind = "not-permitted" if printing.not_permitted(error) else error.kind
        log.warning("%s failed: %s (%s)", what, kind, error.detail)
        return False, kind
    return True, "done"


def _target(server: PrintTarget | str | None, queue: str = "", timeout: float = 10.0) -> PrintTarget:
    if isinstance(server, PrintTarget):
        return PrintTarget(server=server.server, queue=queue or server.queue, timeout=server.timeout)
    return PrintTarget(server=server, queue=queue, timeout=timeout)


def cancel_job(server: PrintTarget | str | None, job_id: int, *, purge: bool = True,
               timeout: float = 10.0) -> tuple[bool, str]:
    return _action("cancel-job", lambda: printing.cancel_job(_target(server, timeout=timeout), job_id,
                                                             purge_job=purge))


def release_job(server: PrintTarget | str | None, job_id: int, *, timeout: float = 10.0) -> tuple[bool, str]:
    return _action("release-job", lambda: printing.release_job(_target(server, timeout=timeout), job_id))


def enable_queue(server: PrintTarget | str | None, queue: str, *, timeout: float = 10.0) -> tuple[bool, str]:
    return _action("enable-queue", lambda: printing.enable_queue(_target(server, queue, timeout)))


def accept_queue(server: PrintTarget | str | None, queue: str, *, timeout: float = 10.0) -> tuple[bool, str]:
    return _action("accept-queue", lambda: printing.accept_queue(_target(server, queue, timeout)))


test_page_pdf.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, whatever its name
