"""The steps of a session and the rule of which step may be entered when.

The consent rule lives here and nowhere else: every navigation in the app goes through ``may_enter``.
"""

from __future__ import annotations

from enum import StrEnum

from indice_kiosk.core.choices import Route
from indice_kiosk.core.session import Session


class Step(StrEnum):
    WELCOME = "welcome"
    CONSENT = "consent"
    ROUTE = "route"
    GUIDANCE = "guidance"
    APPLICANT = "applicant"
    REVIEW = "review"
    SEND = "send"
    DONE = "done"


BEFORE_CONSENT: frozenset[Step] = frozenset({Step.WELCOME, Step.CONSENT})


def may_enter(step: Step, session: Session) -> bool:
    """True when ``step`` can be shown now. No step after consent without consent, by any path."""
    if step in BEFORE_CONSENT:
        return True
    if not session.agreed:
        return False
    if step is Step.ROUTE:
        return True
    if session.route is None:
        return False
    if step is Step.GUIDANCE:
        return session.route is Route.NOT_ISSUED
    if session.route is Route.NOT_ISSUED:
        return False
    if step is Step.APPLICANT:
        return True
    if step is Step.REVIEW:
        return session.application is not None
    if step is Step.SEND:
        return session.application is not None
    if step is Step.DONE:
        return session.fully_delivered
    return False
