"""The one place the kiosk talks to CUPS (pycups).  No UI code here.

Facts this module is built on (pycups 2.0.4, CUPS 2.4):

* One ``cups.Connection`` per thread: sharing one across threads crashed the
  process.  A single call opens its own connection inside its own worker; following
  a job uses one connection in one worker for all its polls (``_Line``): a poll every
  10 ms was a thread and a TCP connection each, ~100 a second per kiosk (bench/).
* ``cups.setServer`` only affects the calling thread, so host/port are passed
  to ``cups.Connection(host=..., port=...)`` explicitly.
* A server that accepts the TCP connection but never answers blocks a call for
  about 60 s.  Every CUPS call therefore runs in a fresh *daemon* thread that
  is abandoned after ``target.timeout`` seconds (``PrintError("unreachable")``).
  A ThreadPoolExecutor is deliberately not used: its threads are joined at
  interpreter exit, so a stuck call would delay shutdown by a minute.
* ``job-state`` >= 7 means finished (7 canceled, 8 aborted, 9 completed).

Logging (logger ``indice_kiosk.cups.client``) records events and job ids only -- never
document content, titles or option values.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from queue import SimpleQueue
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from indice_kiosk.core import jobs as titles
from indice_kiosk.core.jobs import PrintTarget, check_option

if TYPE_CHECKING:
    import cups
else:

    class _LazyCups:
        """pycups, imported on first use: it costs ~20 ms, and the welcome screen needs no CUPS (bench/)."""

        def __getattr__(self, name: str) -> Any:
            if name.startswith("__"):  # introspection (the wipe's cache search, copy, pickle) loads nothing
                raise AttributeError(name)
            import cups as module

            globals()["cups"] = module  # later look-ups go straight to the module
            return getattr(module, name)

    cups: ModuleType | _LazyCups = _LazyCups()

__all__ = [
    "JobState",
    "JobStatus",
    "PrintError",
    "PrintTarget",
    "follow",
    "is_fax_queue",
    "job_status",
    "parse_server",
    "purge",
    "queue_info",
    "submit",
]

log = logging.getLogger("indice_kiosk.cups.client")

T = TypeVar("T")

_HTTP_CONTINUE = 100  # pycups 2.0.4 has no HTTP_CONTINUE constant
_PRINTER_FAX = 0x40000  # printer-type bit (cups.CUPS_PRINTER_FAX)
_JOB_ATTRS = ["job-state", "job-state-reasons", "job-printer-state-message"]
_PRINTER_ATTRS = [
    "printer-state",
    "printer-state-reasons",
    "printer-state-message",
    "printer-is-accepting-jobs",
    "printer-is-shared",
    "queued-job-count",
    "printer-make-and-model",
]


class JobState(enum.IntEnum):
    PENDING = 3
    HELD = 4
    PROCESSING = 5
    STOPPED = 6
    CANCELED = 7
    ABORTED = 8
    COMPLETED = 9


@dataclass(frozen=True)
class JobStatus:
    """One look at a job in CUPS: its state, the reasons CUPS gives, and the printer's message."""

    job_id: int
    state: JobState
    reasons: tuple[str, ...]
    message: str  # job-printer-state-message or ""
    # Whether the job's queue is paused (printer-state stopped), when the follower was asked to look: a
    # pending job on a paused queue waits for a person, and CUPS says so only in the queue's state.
    queue_stopped: bool | None = None

    @property
    def finished(self) -> bool:
        return self.state >= JobState.CANCELED


class PrintError(Exception):
    """A CUPS failure, classified for the UI.

    kind: "unreachable" | "no-queue" | "rejecting" | "refused" | "other"
    detail: technical detail for logs (never personal data; libcups's own words, in English)
    silent: unreachable because the server took the connection but did not answer in time (not refused)
    """

    KINDS = ("unreachable", "no-queue", "rejecting", "refused", "other")

    def __init__(self, kind: str, detail: str = "", *, silent: bool = False) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"unknown PrintError kind {kind!r}")
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail
        self.silent = silent


# --------------------------------------------------------------------- server


def parse_server(server: str | None) -> tuple[str | None, int | None]:
    """Split "host:port" / "[v6]:port" / "host" / "/socket" into (host, port).

    None (or "") => (None, None): the libcups default (client.conf / local socket).  Which server
    to name is decided once, by ``cups_server``.
    """
    server = (server or "").strip()
    if not server:
        return None, None
    if server.startswith("/"):  # domain socket
        return server, None
    if server.startswith("["):  # [v6]:port or [v6]
        host, _, rest = server[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif server.count(":") == 1:
        host, _, port = server.partition(":")
    else:  # bare host, or a bare IPv6 address
        host, port = server, ""
    if port:
        try:
            return host, int(port)
        except ValueError:
            raise PrintError("other", f"bad CUPS server port in {server!r}") from None
    return host, None


def _connect(target: PrintTarget) -> cups.Connection:
    """Open a connection for the *current* (worker) thread.

    Pitfall: passing host/port to cups.Connection is not enough.  libcups 2.4's
    cupsCreateJob -> cupsCopyDestInfo2 compares the connection with the
    thread's cupsServer()/ippPort(); if they differ it treats the connection
    as a direct *device* connection, sends Get-Printer-Attributes to the
    queue's device-uri path and Create-Job fails with client-error-not-found.
    So the thread-local server and port are set too (safe: each call runs in
    its own fresh thread).
    """
    host, port = parse_server(target.server)
    kwargs: dict[str, Any] = {}
    if host is not None:
        cups.setServer(host)
        kwargs["host"] = host
    if port is not None:
        cups.setPort(port)
        kwargs["port"] = port
    return cups.Connection(**kwargs)


# ------------------------------------------------------------ error mapping

# IPP status codes (RFC 8011 and CUPS's own), written out so importing this module does not load pycups;
# tests/test_core.py checks them against pycups's constants.
IPP_FORBIDDEN = 0x0401
IPP_NOT_AUTHENTICATED = 0x0402
IPP_NOT_AUTHORIZED = 0x0403
IPP_NOT_FOUND = 0x0406
IPP_DOCUMENT_FORMAT = 0x040A
IPP_DOCUMENT_FORMAT_ERROR = 0x0411
IPP_DOCUMENT_UNPRINTABLE = 0x0425
IPP_SERVICE_UNAVAILABLE = 0x0502
IPP_NOT_ACCEPTING = 0x0506
IPP_AUTHENTICATION_CANCELED = 0x1000
IPP_ERROR = -1

_NO_QUEUE = {IPP_NOT_FOUND}
_REJECTING = {IPP_NOT_ACCEPTING}
_REFUSED = {
    IPP_DOCUMENT_FORMAT,
    IPP_DOCUMENT_FORMAT_ERROR,
    IPP_DOCUMENT_UNPRINTABLE,
    IPP_FORBIDDEN,
    IPP_NOT_AUTHENTICATED,
    IPP_NOT_AUTHORIZED,
    IPP_AUTHENTICATION_CANCELED,
}
_UNREACHABLE = {IPP_SERVICE_UNAVAILABLE, IPP_ERROR, -1}


def _classify(exc: BaseException, what: str) -> PrintError:
    if isinstance(exc, PrintError):
        return exc
    if isinstance(exc, cups.IPPError):
        status = exc.args[0] if exc.args else -1
        message = exc.args[1] if len(exc.args) > 1 else ""
        detail = f"{what}: IPP status 0x{int(status) & 0xFFFF:04x} {message}".strip()
        if status in _NO_QUEUE:
            kind = "no-queue"
        elif status in _REJECTING:
            kind = "rejecting"
        elif status in _REFUSED:
            kind = "refused"
        elif status in _UNREACHABLE:
            kind = "unreachable"
        else:
            kind = "other"
        return PrintError(kind, detail)
    if isinstance(exc, cups.HTTPError):
        status = exc.args[0] if exc.args else -1
        detail = f"{what}: HTTP status {status}"
        if status in (401, 403):
            return PrintError("refused", detail)
        if status in (-1, 503, 504):
            return PrintError("unreachable", detail)
        return PrintError("other", detail)
    if isinstance(exc, RuntimeError | OSError):
        # cups.Connection raises RuntimeError("failed to connect to server")
        return PrintError("unreachable", f"{what}: {exc}")
    return PrintError("other", f"{what}: {type(exc).__name__}: {exc}")


def _call(target: PrintTarget, what: str, fn: Callable[[cups.Connection], T]) -> T:
    """Run ``fn(connection)`` in a fresh daemon thread with its own connection;
    give up after ``target.timeout`` seconds with PrintError("unreachable")."""
    result: list[T] = []
    error: list[BaseException] = []

    def work() -> None:
        try:
            result.append(fn(_connect(target)))
        except BaseException as exc:  # re-raised in the caller
            error.append(exc)

    worker = threading.Thread(target=work, name=f"cups-{what}", daemon=True)
    worker.start()
    worker.join(target.timeout)
    if worker.is_alive():
        log.warning("CUPS %s: no answer within %.1f s", what, target.timeout)
        raise PrintError("unreachable", f"{what}: no answer within {target.timeout:g} s", silent=True)
    if error:
        raise _classify(error[0], what) from error[0]
    return result[0]


# ---------------------------------------------------------------- public API


def submit(
    target: PrintTarget,
    document: bytes,
    *,
    title: str = titles.APPLICATION,
    options: dict[str, str] | None = None,
) -> int:
    """Send a PDF (bytes, no temp file) to ``target.queue``; return the job id. The job is named
    ``title`` and this kiosk's tag (core/jobs.py: job identity).

    Every option is checked first (``check_option``): one that is not safe to send raises
    PrintError("other") before CUPS is contacted.
    """
    queue = target.queue
    name = titles.job_name(title, titles.this_kiosk())
    opts = dict(options or {})
    for option, value in opts.items():
        try:
            check_option(option, value)
        except ValueError as error:
            log.error("submit refused: %s", error)
            raise PrintError("other", str(error)) from None

    def work(conn: cups.Connection) -> int:
        # Pre-check: for an unknown queue libcups' cupsCreateJob fails inside
        # cupsGetNamedDest with a meaningless 0x0500 "No such file or
        # directory"; Get-Printer-Attributes gives a clean client-error-not-found.
        conn.getPrinterAttributes(queue, requested_attributes=["printer-state"])
        job_id = int(conn.createJob(queue, name, opts))
        try:
            conn.startDocument(queue, job_id, "application.pdf", "application/pdf", 1)
            status = conn.writeRequestData(document, len(document))
            if status != _HTTP_CONTINUE:
                raise cups.HTTPError(status)
            conn.finishDocument(queue)
        except BaseException:
            # Do not leave a half-created job held at the server.
            try:
                conn.cancelJob(job_id, purge_job=True)
            except Exception:
                log.warning("could not cancel incomplete job %d", job_id)
            raise
        return job_id

    try:
        job_id = _call(target, "submit", work)
    except PrintError as exc:
        log.warning("submit failed: %s (%s)", exc.kind, exc.detail)
        raise
    log.info("job %d submitted (%d bytes)", job_id, len(document))
    return job_id


class _Line:
    """One connection in one daemon thread for a series of calls (following a job). A call that gets no
    answer within ``target.timeout`` abandons the line -- the thread is a daemon, as in ``_call`` -- and
    raises PrintError("unreachable"); so does every later call."""

    def __init__(self, target: PrintTarget) -> None:
        self.target = target
        self._requests: SimpleQueue[tuple[Callable[[cups.Connection], Any], _Answer] | None] = SimpleQueue()
        self._thread: threading.Thread | None = None
        self._abandoned = False

    def call(self, what: str, fn: Callable[[cups.Connection], T]) -> T:
        if self._abandoned:
            raise PrintError("unreachable", f"{what}: the connection was given up")
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name=f"cups-line-{what}", daemon=True)
            self._thread.start()
        answer = _Answer()
        self._requests.put((fn, answer))
        if not answer.done.wait(self.target.timeout):
            self._abandoned = True
            log.warning("CUPS %s: no answer within %.1f s", what, self.target.timeout)
            raise PrintError("unreachable", f"{what}: no answer within {self.target.timeout:g} s",
                             silent=True)
        if answer.error is not None:
            raise _classify(answer.error, what) from answer.error
        return answer.value

    def close(self) -> None:
        if self._thread is not None:
            self._requests.put(None)

    def _serve(self) -> None:
        conn: cups.Connection | None = None
        while (request := self._requests.get()) is not None:
            fn, answer = request
            try:
                if conn is None:
                    conn = _connect(self.target)
                answer.value = fn(conn)
            except BaseException as exc:  # handed to the caller
                answer.error = exc
                if not isinstance(exc, cups.IPPError):
                    conn = None  # the link itself failed: the next call opens a new connection
            answer.done.set()


class _Answer:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


def _job_attributes(job_id: int) -> Callable[[cups.Connection], dict[str, Any]]:
    return lambda conn: dict(conn.getJobAttributes(job_id, requested_attributes=_JOB_ATTRS))


def _job_not_found(exc: PrintError, job_id: int) -> PrintError:
    if exc.kind == "no-queue":  # IPP not-found here means: no such job
        return PrintError("other", f"job {job_id} not found ({exc.detail})")
    return exc


def job_status(target: PrintTarget, job_id: int) -> JobStatus:
    try:
        attrs = _call(target, "job-status", _job_attributes(job_id))
    except PrintError as exc:
        error = _job_not_found(exc, job_id)
        if error is exc:
            raise
        raise error from exc
    return _status(job_id, attrs)


def _status(job_id: int, attrs: dict[str, Any]) -> JobStatus:
    raw_state = int(attrs.get("job-state", JobState.PENDING))
    try:
        state = JobState(raw_state)
    except ValueError:
        raise PrintError("other", f"job {job_id}: unknown job-state {raw_state}") from None
    return JobStatus(
        job_id=job_id,
        state=state,
        reasons=_as_tuple(attrs.get("job-state-reasons")),
        message=str(attrs.get("job-printer-state-message") or ""),
    )


FAST_POLL = 0.01  # seconds between polls at first
FAST_POLL_FOR = 0.5  # seconds of fast polling before backing off
QUEUE_LOOK_EVERY = 1.0  # seconds between looks at a pending job's queue (is it paused?)
PRINTER_STOPPED = 5  # IPP printer-state


def follow(
    target: PrintTarget,
    job_id: int,
    *,
    interval: float = 0.25,
    max_wait: float | None = None,
    stop: threading.Event | None = None,
    queue_state: bool = False,
) -> Iterator[JobStatus]:
    """Yield the job's status until it is finished, ``stop`` is set, or ``max_wait``
    seconds have passed (the last status is yielded first).  PrintError from a poll
    propagates to the caller.

    Polls every 10 ms for the first half second, then backs off (doubling) to
    ``interval``: a local printer finishes in tens of milliseconds (measured in bench/:
    a fixed 0.25 s poll made the kiosk 9x slower than `lp`), while a FAX takes minutes
    and needs no faster polling. A poll is one small IPP request to CUPS, all of them on
    one connection (``_Line``). With ``queue_state``, a pending job's status also says
    whether its queue is paused (looked at once, then every QUEUE_LOOK_EVERY seconds).
    """
    line = _Line(target)
    try:
        yield from _follow(line, job_id, interval=interval, max_wait=max_wait, stop=stop,
                           queue_state=queue_state)
    finally:
        line.close()


def _follow(line: _Line, job_id: int, *, interval: float, max_wait: float | None,
            stop: threading.Event | None, queue_state: bool) -> Iterator[JobStatus]:
    queue_name = line.target.queue
    started = time.monotonic()
    last_state: JobState | None = None
    stopped: bool | None = None
    looked_at: float | None = None
    wait = min(FAST_POLL, interval)
    while True:
        try:
            status = _status(job_id, line.call("job-status", _job_attributes(job_id)))
        except PrintError as exc:
            error = _job_not_found(exc, job_id)
            if error is exc:
                raise
            raise error from exc
        if queue_state and status.state is JobState.PENDING:
            now = time.monotonic()
            if looked_at is None or now - looked_at >= QUEUE_LOOK_EVERY:
                looked_at = now
                try:
                    attrs = line.call("queue-state", lambda conn: conn.getPrinterAttributes(
                        queue_name, requested_attributes=["printer-state"]))
                    stopped = int(attrs.get("printer-state", 0)) == PRINTER_STOPPED
                except PrintError:
                    stopped = None
            status = dataclasses.replace(status, queue_stopped=stopped)
        if status.state != last_state:
            log.info("job %d: %s", job_id, status.state.name.lower())
            last_state = status.state
        yield status
        if status.finished or (stop is not None and stop.is_set()):
            return
        remaining = None if max_wait is None else max_wait - (time.monotonic() - started)
        if remaining is not None and remaining <= 0:
            log.info("job %d: still %s after %.1f s", job_id, status.state.name.lower(),
                     time.monotonic() - started)
            return
        pause = wait if remaining is None else min(wait, remaining)
        if time.monotonic() - started >= FAST_POLL_FOR:
            wait = min(wait * 2, interval)
        if stop is not None:
            if stop.wait(pause):
                return
        else:
            time.sleep(pause)


def purge(target: PrintTarget, job_id: int) -> bool:
    """Cancel the job and remove it (and its history) from the server. True when CUPS no longer has it
    (purged now, or already gone); errors are logged, and False means it may still be there."""
    try:
        _call(target, "purge", lambda conn: conn.cancelJob(job_id, purge_job=True))
    except PrintError as exc:
        if exc.kind == "no-queue":  # IPP not-found: CUPS has no such job (any more)
            log.info("job %d: already gone", job_id)
            return True
        log.warning("purge of job %d failed: %s (%s)", job_id, exc.kind, exc.detail)
        return False
    log.info("job %d purged", job_id)
    return True


def queue_info(target: PrintTarget) -> dict[str, Any]:
    """Queue state for an operator console.

    Keys: state (3 idle, 4 processing, 5 stopped), accepting, reasons (list),
    is_shared, message, queued_jobs, make_and_model.
    """
    queue = target.queue

    def work(conn: cups.Connection) -> dict[str, Any]:
        return dict(conn.getPrinterAttributes(queue, requested_attributes=_PRINTER_ATTRS))

    attrs = _call(target, "queue-info", work)
    return {
        "state": int(attrs.get("printer-state", 0)),
        "accepting": bool(attrs.get("printer-is-accepting-jobs", False)),
        "reasons": list(_as_tuple(attrs.get("printer-state-reasons"))),
        "is_shared": bool(attrs.get("printer-is-shared", False)),
        "message": str(attrs.get("printer-state-message") or ""),
        "queued_jobs": int(attrs.get("queued-job-count", 0)),
        "make_and_model": str(attrs.get("printer-make-and-model") or ""),
    }


def _as_tuple(value: object) -> tuple[str, ...]:
    """pycups gives a str for one value and a list for several."""
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return (str(value),)


# ------------------------------------------------------------------------ fax


def is_fax_queue(target: PrintTarget) -> bool:
    """True if ``target.queue`` is a fax queue: the CUPS_PRINTER_FAX bit (0x40000)
    of its printer-type, which CUPS sets for a PPD with ``*cupsFax: True``."""
    queue = target.queue

    def work(conn: cups.Connection) -> int:
        attrs = conn.getPrinterAttributes(queue, requested_attributes=["printer-type"])
        return int(attrs.get("printer-type", 0))

    return bool(_call(target, "printer-type", work) & _PRINTER_FAX)


# ------------------------------------------------------------ operator console

# IPP statuses and HTTP codes that mean "CUPS did not allow this request" (policy, user lists, auth).
_NOT_PERMITTED_IPP = {
    IPP_FORBIDDEN,
    IPP_NOT_AUTHENTICATED,
    IPP_NOT_AUTHORIZED,
    IPP_AUTHENTICATION_CANCELED,
}
_NOT_PERMITTED_HTTP = {401, 403}
_LIST_JOB_ATTRS = ["job-id", "job-name", "job-state", "job-printer-uri", "time-at-creation",
                   "time-at-completed"]


def not_permitted(exc: BaseException) -> bool:
    """True if ``exc`` (a PrintError from ``_call``, or a raw pycups error) says CUPS refused the request
    for lack of permission: not authorized, forbidden, authentication needed or cancelled."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, cups.IPPError) and cause.args and cause.args[0] in _NOT_PERMITTED_IPP:
            return True
        if isinstance(cause, cups.HTTPError) and cause.args and cause.args[0] in _NOT_PERMITTED_HTTP:
            return True
        cause = cause.__cause__
    return False


def _admin_call(target: PrintTarget, what: str, fn: Callable[[cups.Connection], object]) -> None:
    """An operator action: like ``_call``, but CUPS asking for a password gets none (an empty answer
    cancels the authentication) instead of libcups prompting on the terminal."""

    def work(conn: cups.Connection) -> object:
        cups.setPasswordCB(lambda *_args: "")  # per thread in pycups
        return fn(conn)

    _call(target, what, work)


def cancel_job(target: PrintTarget, job_id: int, *, purge_job: bool = True) -> None:
    """Cancel job ``job_id`` (and by default remove it from the history).  Raises PrintError."""
    _admin_call(target, "cancel-job", lambda conn: conn.cancelJob(job_id, purge_job=purge_job))
    log.info("job %d cancelled by the operator", job_id)


def release_job(target: PrintTarget, job_id: int) -> None:
    """Let job ``job_id`` print: a held job is released (job-hold-until no-hold); a stopped, aborted or
    cancelled one is restarted (only possible while CUPS still has its document).  Raises PrintError."""

    def work(conn: cups.Connection) -> None:
        attrs = conn.getJobAttributes(job_id, requested_attributes=["job-state"])
        if int(attrs.get("job-state", 0)) == JobState.HELD:
            conn.setJobHoldUntil(job_id, "no-hold")
        else:
            conn.restartJob(job_id)

    _admin_call(target, "release-job", work)
    log.info("job %d released by the operator", job_id)


def enable_queue(target: PrintTarget) -> None:
    """Resume ``target.queue`` (cupsenable).  Raises PrintError."""
    queue = target.queue
    _admin_call(target, "enable-queue", lambda conn: conn.enablePrinter(queue))
    log.info("queue enabled by the operator")


def accept_queue(target: PrintTarget) -> None:
    """Make ``target.queue`` accept jobs again (cupsaccept).  Raises PrintError."""
    queue = target.queue
    _admin_call(target, "accept-queue", lambda conn: conn.acceptJobs(queue))
    log.info("queue accepting jobs again (operator)")


def list_jobs(target: PrintTarget) -> list[dict[str, Any]]:
    """Every job CUPS still knows (active and history), with only generic attributes: id, name (the
    kiosk's titles are generic), state, queue and times -- never the owner nor document data.
    ``target.queue`` is not used."""

    def work(conn: cups.Connection) -> dict[int, dict[str, Any]]:
        return dict(conn.getJobs(which_jobs="all", requested_attributes=_LIST_JOB_ATTRS))

    jobs = _call(target, "list-jobs", work)
    rows: list[dict[str, Any]] = []
    for job_id, attrs in jobs.items():
        uri = str(attrs.get("job-printer-uri") or "")
        rows.append({
            "job_id": int(job_id),
            "name": str(attrs.get("job-name") or ""),
            "state": int(attrs.get("job-state", 0)),
            "queue": uri.rstrip("/").rsplit("/", 1)[-1] if uri else "",
            "created": int(attrs.get("time-at-creation") or 0),
            "completed": int(attrs.get("time-at-completed") or 0),
        })
    return rows
