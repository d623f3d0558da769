"""What a dead kiosk left in CUPS, removed by the next one.

A kiosk cancels and purges its jobs at every ending it lives through (KioskApp.wipe). One that dies hard
-- SIGKILL, out of memory, a power cut -- cannot: a job waiting on a paused FAX queue would go out when the
queue resumes, with no one there, and its PDF would stay in the spool. CUPS has no setting that ends a
*pending* job by itself (job-cancel-after counts only while a job is processing; measured on CUPS 2.4),
and holding every job until the kiosk confirms would only move the same wait. So each job is named with
its kiosk's tag (core/jobs.py: machine, boot, process) and this module cancels and purges every job of
this machine whose kiosk no longer runs: at every kiosk start (a walk-up unit restarts at once; an SSH
kiosk at the next operator's login), every minute while a kiosk runs, and from systemd's ExecStopPost
(`indice-kiosk cleanup`).

Only this machine's jobs are touched: many kiosks may share one CUPS server, and another machine's jobs
are never judged from here. CUPS itself lets an account cancel only its own jobs (unless the site's
policy says otherwise), so a leftover of another account is reported, not forced.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from indice_kiosk.core import jobs
from indice_kiosk.cups import client
from indice_kiosk.cups.client import PrintError, PrintTarget

log = logging.getLogger("indice_kiosk.cups.leftovers")

SWEEP_EVERY = 60.0  # seconds between looks while the kiosk runs
RETRY_AFTER = 5.0  # seconds before looking again when CUPS did not answer


@dataclass(frozen=True)
class Sweep:
    """What one sweep found: the ids it removed, and those CUPS would not remove (logged)."""

    removed: tuple[int, ...]
    kept: tuple[int, ...]


def sweep(server: str | None, *, timeout: float = 10.0) -> Sweep:
    """Cancel and purge every job a dead kiosk of this machine left on ``server``. Raises PrintError when
    CUPS cannot be asked."""
    target = PrintTarget(server=server, queue="", timeout=timeout)
    here = jobs.this_kiosk()
    removed: list[int] = []
    kept: list[int] = []
    for job in client.list_jobs(target):
        if not jobs.is_leftover(job["name"], here):
            continue
        (removed if client.purge(target, job["job_id"]) else kept).append(job["job_id"])
    if removed:
        log.warning("removed %d job(s) left by a kiosk that died: %s", len(removed),
                    ", ".join(map(str, removed)))
    if kept:
        log.error("could not remove %d job(s) left by a kiosk that died: %s", len(kept),
                  ", ".join(map(str, kept)))
    return Sweep(tuple(removed), tuple(kept))


def sweep_soon(server: str | None, *, timeout: float = 10.0, delay: float = 1.0,
               every: float = SWEEP_EVERY, stop: threading.Event | None = None) -> threading.Thread:
    """``sweep`` in a background thread: after ``delay`` seconds (a starting kiosk draws its first screen
    first, and a CUPS server that does not answer never holds the start up), then every ``every`` seconds
    while the kiosk runs -- another kiosk of this machine (an operator's, over SSH) can die at any time --
    and again soon after a sweep CUPS did not answer."""
    halt = stop or threading.Event()

    def work() -> None:
        wait = delay
        failing = False
        while not halt.wait(wait):
            try:
                sweep(server, timeout=timeout)
            except PrintError as error:
                # Said once while CUPS stays away, not every RETRY_AFTER seconds.
                (log.debug if failing else log.warning)(
                    "could not look for a dead kiosk's jobs: %s (%s)", error.kind, error.detail)
                failing, wait = True, RETRY_AFTER
            else:
                if failing:
                    log.info("looking for a dead kiosk's jobs again")
                failing, wait = False, every

    thread = threading.Thread(target=work, name="leftover-sweep", daemon=True)
    thread.start()
    return thread
