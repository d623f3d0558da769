"""One person's session: everything the kiosk knows about them, and the one place it is wiped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from indice_kiosk.core.choices import IdType, Route
from indice_kiosk.core.jobs import PrintTarget

if TYPE_CHECKING:
    # The rest of the model is imported where the session first needs it, once the person has agreed:
    # an empty session (the welcome screen's) needs none of it (bench/RESULTS.md, row 1).
    from indice_kiosk.core.application import Application, Checked, ConsentRecord

log = logging.getLogger("indice_kiosk.core.session")

_JOBS_LOCK = threading.Lock()

# Bumped whenever the consent text (UMIN's five rules or the kiosk's data note) changes.
TERMS_VERSION = "umin-5rules+kiosk-2"


@dataclass
class Session:
    """Everything the kiosk holds about the person at the terminal, until ``wipe``."""

    lang: str = "ja"
    consent: ConsentRecord | None = None
    route: Route | None = None
    id_type: IdType = IdType.PERSONAL
    answers: dict[str, str] = field(default_factory=dict)
    checked: Checked | None = None
    application: Application | None = None
    document: bytearray | None = None
    # Jobs CUPS took for this session that may still go out (see ``unsettled``), as (target, job id).
    jobs: list[tuple[PrintTarget, int]] = field(default_factory=list)
    following_job: bool = False
    # The ways this application must leave the kiosk ("print", "fax"), and those CUPS reported completed.
    channels: tuple[str, ...] = ("print",)
    delivered: set[str] = field(default_factory=set)
    # Set for a help-desk operator's session (the operator's login name); it outlives each caller's data.
    operator: str | None = None

    @property
    def is_empty(self) -> bool:
        """Nothing of a person is held (the language choice is not theirs to lose)."""
        return not (self.consent or self.answers or self.application or self.document or self.route)

    @property
    def fully_delivered(self) -> bool:
        return self.application is not None and set(self.channels) <= self.delivered

    @property
    def agreed(self) -> bool:
        return self.consent is not None

    def agree(self, now: datetime | None = None) -> None:
        from indice_kiosk.core.application import ConsentRecord

        self.consent = ConsentRecord(TERMS_VERSION, now or datetime.now().astimezone(), self.lang)
        log.info("consent given (terms %s)", TERMS_VERSION)

    def check_answers(self, printable: Callable[[str], str] | None = None) -> Checked:
        """Clean and check the answers typed so far; an application is made only from a clean check."""
        if self.route is None or self.route is Route.NOT_ISSUED:
            raise ValueError("no application on this route")
        from indice_kiosk.core.application import check

        self.checked = check(self.route, self.id_type, self.answers, printable=printable,
                             on_behalf=self.operator is not None)
        self.application = None
        return self.checked

    def make_application(
        self, project: str, now: datetime | None = None, channels: tuple[str, ...] = ("print",)
    ) -> Application:
        if self.consent is None:
            raise PermissionError("no application without consent")
        if self.checked is None or not self.checked.ok or self.route is None:
            raise ValueError("answers not checked or not valid")
        from indice_kiosk.core.application import Application, OnBehalfRecord

        when = now or datetime.now().astimezone()
        self.application = Application(
            route=self.route,
            id_type=self.id_type,
            answers=dict(self.checked.answers),
            consent=self.consent,
            project=project,
            applied_on=when,
            unprintable={w.key: w.chars for w in self.checked.warnings if w.code == "unprintable"},
            on_behalf=OnBehalfRecord(self.operator, when) if self.operator else None,
        )
        self.channels = channels
        self.delivered.clear()
        return self.application

    def keep_document(self, pdf: bytes) -> None:
        self.forget_document()
        self.document = bytearray(pdf)

    def forget_document(self) -> None:
        if self.document is not None:
            # Overwrite in place: the bytes object it came from is gone, this buffer is the one copy we hold.
            self.document[:] = b"\0" * len(self.document)
            self.document = None

    # --- jobs: a worker thread adds and settles them while the UI thread may wipe -------------------

    def job_submitted(self, target: PrintTarget, job_id: int) -> None:
        with _JOBS_LOCK:
            self.jobs.append((target, job_id))

    def job_settled(self, job_id: int) -> None:
        with _JOBS_LOCK:
            self.jobs[:] = [job for job in self.jobs if job[1] != job_id]

    def unsettled(self) -> list[tuple[PrintTarget, int]]:
        """The jobs that may still go out; every ending and every retry cancels them first."""
        with _JOBS_LOCK:
            return list(self.jobs)

    def wipe(self, reason: str) -> None:
        """Forget everything about the person. The language is kept only as the kiosk's next default."""
        for key in list(self.answers):
            self.answers[key] = ""
        self.answers.clear()
        self.forget_document()
        self.consent = None
        self.route = None
        self.id_type = IdType.PERSONAL
        self.checked = None
        self.application = None
        with _JOBS_LOCK:
            self.jobs.clear()
        self.following_job = False
        self.channels = ("print",)
        self.delivered.clear()
        log.info("session wiped (%s)", reason)
