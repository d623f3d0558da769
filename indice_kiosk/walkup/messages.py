"""What the walk-up steps say happened. The app (``KioskApp``) decides what it means for the session and
where to go next: no step writes the session itself (tests/test_layout.py checks that)."""

from __future__ import annotations

from textual.message import Message

from indice_kiosk.core.choices import IdType, Route


class LanguageChosen(Message):
    """The person picked the language of their session (welcome)."""

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang


class Agreed(Message):
    """The person agreed to UMIN's rules and the kiosk's data note, having been shown all of it."""


class RouteChosen(Message):
    """Which application, and the kind of UMIN ID, confirmed with Next."""

    def __init__(self, route: Route, id_type: IdType) -> None:
        super().__init__()
        self.route = route
        self.id_type = id_type


class AnswerChanged(Message):
    """One field of the form now holds ``value`` (kept so that going back and forth loses nothing)."""

    def __init__(self, key: str, value: str) -> None:
        super().__init__()
        self.key = key
        self.value = value


class FormCompleted(Message):
    """The form was checked without problems and the person pressed Next."""


class Delivering(Message):
    """The send step started (``True``) or stopped (``False``) following a job: no idle wipe meanwhile."""

    def __init__(self, running: bool) -> None:
        super().__init__()
        self.running = running


class ChannelDelivered(Message):
    """CUPS reported the job of ``channel`` ("print" or "fax") completed."""

    def __init__(self, channel: str) -> None:
        super().__init__()
        self.channel = channel


class PrintInstead(Message):
    """The FAX did not go; the person asked to print the form and fax it themselves."""
