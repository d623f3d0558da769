"""The ways an application leaves the kiosk: printed for signing, or faxed to the UMIN Center.

Each is a ``Channel``: it makes the document for its way (``render``) and sends it, following the job to
its end (``deliver``). ``[delivery] mode`` in kiosk.toml lists the channels a session uses, in order
(``cups.delivery.channels_for``). A third way -- a site's e-mail relay, say -- is one more class here, its
name in ``CHANNELS`` and in the modes, and its words in the catalogues.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from indice_kiosk.core import jobs
from indice_kiosk.core.application import Application
from indice_kiosk.core.config import Config
from indice_kiosk.core.jobs import PrintTarget
from indice_kiosk.cups import delivery
from indice_kiosk.cups.delivery import Outcome, Progress


class Channel(Protocol):
    name: str  # "print" | "fax": the catalogue's words for it are send.channel.<name>, send.<name>.*
    target: PrintTarget

    def render(self, application: Application) -> bytes:
        """The document for this way (raises OSError or ValueError when it cannot be made)."""
        ...

    def deliver(self, document: bytes, *, on_progress: Callable[[Progress], None], stop: threading.Event,
                on_submitted: Callable[[int], None]) -> Outcome:
        """Send ``document`` and follow it until it is done, or says how it failed."""
        ...


@dataclass(frozen=True)
class PrintChannel:
    """The form on the office's printer, for the applicant to sign (and fax)."""

    config: Config
    target: PrintTarget
    name: str = delivery.PRINT

    def render(self, application: Application) -> bytes:
        from indice_kiosk.paper import document  # reportlab stays out of start-up

        return document.render_application(application, font_path=self.config.document.font,
                                           fax_number=self.config.fax.number, page_url=self.config.umin.page)

    def deliver(self, document: bytes, *, on_progress: Callable[[Progress], None], stop: threading.Event,
                on_submitted: Callable[[int], None]) -> Outcome:
        return delivery.deliver(self.target, document, max_wait=self.config.cups.max_wait,
                                purge=self.config.cups.purge_jobs, on_progress=on_progress, stop=stop,
                                title=jobs.APPLICATION, on_submitted=on_submitted)


@dataclass(frozen=True)
class FaxChannel:
    """A cover sheet and the form, through the CUPS fax queue, dialled to the configured number."""

    config: Config
    target: PrintTarget
    name: str = delivery.FAX

    def render(self, application: Application) -> bytes:
        from indice_kiosk.paper import document

        return document.render_fax(application, font_path=self.config.document.font,
                                   fax_number=self.config.fax.number, page_url=self.config.umin.page,
                                   agreement=self.config.fax.agreement)

    def deliver(self, document: bytes, *, on_progress: Callable[[Progress], None], stop: threading.Event,
                on_submitted: Callable[[int], None]) -> Outcome:
        fax = self.config.fax
        return delivery.deliver(self.target, document, max_wait=fax.max_wait,
                                purge=self.config.cups.purge_jobs, on_progress=on_progress, stop=stop,
                                title=jobs.FAX,
                                options=jobs.fax_options(fax.number, fax.dial_prefix, fax.number_option),
                                on_submitted=on_submitted)


CHANNELS: dict[str, type[PrintChannel] | type[FaxChannel]] = {delivery.PRINT: PrintChannel,
                                                              delivery.FAX: FaxChannel}


def make_channels(config: Config, targets: dict[str, PrintTarget]) -> dict[str, Channel]:
    """Every channel the kiosk can use, by name, each with its CUPS queue."""
    return {name: cls(config, targets[name]) for name, cls in CHANNELS.items()}
