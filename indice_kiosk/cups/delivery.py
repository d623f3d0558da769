"""From a rendered application to paper: submit, follow, and one plain outcome.

This is what a delivery channel (indice_kiosk/channels.py) runs in the send step's worker thread; it never
touches the UI, it reports progress through a callback. The session's data stays in the session whatever
happens here, so a retry is the same call again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from indice_kiosk.core import jobs
from indice_kiosk.cups import client as printing
from indice_kiosk.cups.client import JobState, PrintError, PrintTarget

log = logging.getLogger("indice_kiosk.cups.delivery")

PRINT = "print"
FAX = "fax"


def channels_for(mode: str) -> tuple[str, ...]:
    """The ways an application leaves the kiosk, in the order they are done: "print+fax" -> print, fax."""
    channels = tuple(part for part in mode.split("+") if part in (PRINT, FAX))
    if not channels or len(set(channels)) != len(channels):
        raise ValueError(f"unknown delivery mode {mode!r}")
    return channels


FINISHED_OUTCOME = {
    JobState.COMPLETED: "completed",
    JobState.CANCELED: "canceled",
    JobState.ABORTED: "aborted",
}


@dataclass(frozen=True)
class Progress:
    """What the person should see while CUPS works: a catalogue key under ``send.`` and seconds waited."""

    phase: str  # submitting | pending | held | waiting
    seconds: int
    job_id: int | None = None


@dataclass(frozen=True)
class Outcome:
    """How a delivery ended, in words the screens translate; ``seconds`` is how long the kiosk waited."""

    # completed|canceled|aborted|stopped|paused|timeout|lost|unreachable|no-queue|rejecting|refused|other
    # ("lost": CUPS took the job, then stopped answering while it was followed -- e.g. cupsd died)
    kind: str
    job_id: int | None = None
    seconds: int = 0
    # False while the job may still go out later: CUPS was lost before it finished, or cancelling it
    # failed. The session keeps such jobs and cancels them before a retry and at its end.
    settled: bool = True

    @property
    def ok(self) -> bool:
        return self.kind == "completed"


RETRY_AFTER = 0.3  # seconds before the second look at a job whose first look failed


def _phase(status: printing.JobStatus) -> str:
    if status.state is JobState.HELD:
        return "held"
    if status.state is JobState.PENDING:
        # A pending job on a paused queue waits for a person, not for its turn (the follower looks).
        return "held" if status.queue_stopped else "pending"
    return "waiting"


def deliver(
    target: PrintTarget,
    document: bytes,
    *,
    max_wait: float,
    purge: bool,
    on_progress: Callable[[Progress], None],
    stop: threading.Event | None = None,
    title: str = jobs.APPLICATION,
    options: dict[str, str] | None = None,
    on_submitted: Callable[[int], None] | None = None,
) -> Outcome:
    """Send ``document`` to ``target`` and follow the job until CUPS says how it ended.

    ``on_submitted`` hears the job id as soon as CUPS has taken the job, before it is followed: whoever
    holds the session can then cancel it whatever happens next.
    """
    started = time.monotonic()

    def waited() -> int:
        return int(time.monotonic() - started)

    on_progress(Progress("submitting", 0))
    try:
        job_id = printing.submit(target, document, title=title, options=options)
    except PrintError as error:
        log.warning("submit failed: %s (%s)", error.kind, error.detail)
        return Outcome(error.kind, None, waited())
    log.info("job %s submitted to %s", job_id, target.queue)
    if on_submitted is not None:
        on_submitted(job_id)
    last: printing.JobStatus | None = None
    shown: Progress | None = None
    failures = 0
    while True:
        try:
            for status in printing.follow(target, job_id, max_wait=max(max_wait - waited(), 0.0), stop=stop,
                                          queue_state=True):
                last = status
                progress = Progress(_phase(status), waited(), job_id)
                # Said only when it changes: the job is polled every 10 ms at first, and each word said is a
                # repaint (30 kiosks at once spent their CPU redrawing the same line, bench/load.py).
                if not status.finished and progress != shown:
                    on_progress(progress)
                    shown = progress
            break
        except PrintError as error:
            failures += 1
            log.warning("following job %s failed: %s (%s)", job_id, error.kind, error.detail)
            if failures == 1:
                # One more look: a server going down can answer garbage once (IPP 0x0500) before it is
                # gone, and a link can drop one request.
                time.sleep(RETRY_AFTER)
                continue
            # CUPS had the job and then went away (cupsd died, the link dropped): whether it printed is
            # unknown, and a restarted cupsd resumes it from its spool -- so it is not settled.
            kind = "lost" if error.kind == "unreachable" else error.kind
            return Outcome(kind, job_id, waited(), settled=False)
    if last is None or not last.finished:
        log.warning("job %s not finished after %ss; cancelling it", job_id, waited())
        # A job left behind would print by surprise after the person has gone, or after their retry.
        settled = printing.purge(target, job_id)
        if last is not None and last.state is JobState.STOPPED:
            return Outcome("stopped", job_id, waited(), settled=settled)
        if last is not None and last.state is JobState.PENDING and last.queue_stopped:
            return Outcome("paused", job_id, waited(), settled=settled)  # waited on a person, not the line
        return Outcome("timeout", job_id, waited(), settled=settled)
    log.info("job %s finished: %s", job_id, last.state.name)
    if purge:
        printing.purge(target, job_id)  # history only: a finished job cannot go out again
    return Outcome(FINISHED_OUTCOME.get(last.state, "stopped"), job_id, waited())
