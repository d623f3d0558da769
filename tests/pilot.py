"""Helpers that drive the kiosk the way a person does: keys and clicks, by the contract's ids."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Mapping

from pypdf import PdfReader
from textual.pilot import Pilot
from textual.widgets import Button, Input

from indice_kiosk.core import jobs
from indice_kiosk.walkup.app import KioskApp

SIZE = (80, 24)

PERSON = {
    "umin_id": "suzuki-kyt",
    "name_kanji": "鈴木 一郎",
    "name_kana": "すずき いちろう",  # hiragana on purpose: the form converts it
    "name_roman": "Ichiro Suzuki",
    "institution": "架空大学医学部附属病院",
    "department": "産婦人科",
    "position": "講師",
    "phone": "０７５－７５１－３１１１",  # full-width on purpose
    "email": "suzuki@example.ac.jp",
}


async def wait_for(pilot: Pilot, condition: object, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():  # type: ignore[operator]
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting; screen is {pilot.app.screen.id}")
        await pilot.pause(0.05)
    # Let the layout catch up: Pilot.click aims at where a widget was when the click was computed, so a
    # button shown a moment ago could otherwise be missed.
    await pilot.pause(0.05)


async def start(pilot: Pilot) -> None:
    await wait_for(pilot, lambda: pilot.app.screen.id == "welcome")
    await pilot.click("#start")
    await wait_for(pilot, lambda: pilot.app.screen.id == "consent")


async def agree(pilot: Pilot) -> None:
    """Read to the end with the keyboard, then agree."""
    await start(pilot)
    await pilot.press("end")
    await wait_for(pilot, lambda: not pilot.app.screen.query_one("#agree", Button).disabled)
    await pilot.click("#agree")
    await wait_for(pilot, lambda: pilot.app.screen.id == "route")


async def choose(pilot: Pilot, route: str, id_type: str = "personal") -> None:
    await pilot.click(f"#route-{route}")
    await pilot.click(f"#id-{id_type}")
    await pilot.click("#next")
    expected = "guidance" if route == "not-issued" else "applicant"
    await wait_for(pilot, lambda: pilot.app.screen.id == expected)


async def fill(pilot: Pilot, answers: Mapping[str, str]) -> None:
    screen = pilot.app.screen
    for key, value in answers.items():
        field = screen.query_one(f"#{key}", Input)
        field.focus()
        field.value = value  # as a paste or an IME commit would
        await pilot.pause()
    screen.query_one("#next", Button).focus()
    await pilot.pause()


async def submit_form(pilot: Pilot) -> None:
    await pilot.click("#next")
    await wait_for(pilot, lambda: pilot.app.screen.id == "review")


async def to_review(pilot: Pilot) -> None:
    """The usual way to the review: agree, INDICE only with a personal ID, PERSON's answers, the form sent."""
    await agree(pilot)
    await choose(pilot, "indice-only")
    await fill(pilot, PERSON)
    await submit_form(pilot)


async def print_and_wait(pilot: Pilot) -> None:
    await pilot.click("#confirm")
    await wait_for(pilot, lambda: pilot.app.screen.id == "send")
    await wait_for(pilot, lambda: pilot.app.screen.outcome is not None, timeout=40)  # type: ignore[attr-defined]


async def start_over(pilot: Pilot) -> None:
    """F9, then "yes" to the question: the session ends and welcome is shown."""
    await pilot.press("f9")
    await wait_for(pilot, lambda: pilot.app.screen.id == "confirm")
    await pilot.click("#confirm-yes")
    await wait_for(pilot, lambda: pilot.app.screen.id == "welcome")


def sent_title(env: Mapping[str, str]) -> str:
    """The title of a job the virtual printer received (its job-name without the sending kiosk's tag)."""
    return jobs.split_job_name(env.get("IPP_JOB_NAME", ""))[0]


def pdf_text(data: bytes) -> str:
    text = "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"\s+", "", text)


def compact(value: str) -> str:
    return re.sub(r"\s+", "", value)


class ManualClock:
    """A monotonic clock a test moves forward (the idle timer reads it; nobody waits minutes)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def new_app(config: object, **kwargs: object) -> KioskApp:
    return KioskApp(config, **kwargs)  # type: ignore[arg-type]


def shown(widget: object) -> str:
    """The text a widget shows (for wrapped prose: before wrapping, so phrases can be searched)."""
    text = getattr(widget, "text", None)
    return text if isinstance(text, str) else str(widget.render())  # type: ignore[attr-defined]


def screen_text(app: KioskApp, selector: str = "Prose") -> str:
    return " ".join(shown(w) for w in app.screen.query(selector))
