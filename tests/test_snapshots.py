"""What each step looks like at 80×24, in Japanese and in English (pytest-textual-snapshot).

Regenerate after an intended change with `pytest tests/test_snapshots.py --snapshot-update`, then look at
the SVGs (a failing run writes an HTML report showing old and new side by side).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone

import pytest
from textual.pilot import Pilot
from textual.widgets import Button

from indice_kiosk.core.config import Config, CupsSettings, KioskSettings
from tests.pilot import PERSON, agree, choose, fill, new_app, print_and_wait, start, submit_form, wait_for

JST = timezone(timedelta(hours=9))
FIXED = datetime(2026, 11, 25, 10, 30, tzinfo=JST)


def snapshot_config(lang: str, server: str) -> Config:
    # The queue name is shown on the consent screen: fix it so the picture does not depend on the run.
    return Config(kiosk=KioskSettings(language=lang),
                  cups=CupsSettings(server=server, queue="kiosk-printer", timeout=5.0, max_wait=20.0))


async def at_welcome(pilot: Pilot) -> None:
    await wait_for(pilot, lambda: pilot.app.screen.id == "welcome")


async def at_consent(pilot: Pilot) -> None:
    await start(pilot)


async def at_consent_read(pilot: Pilot) -> None:
    await start(pilot)
    await pilot.press("end")
    await wait_for(pilot, lambda: not pilot.app.screen.query_one("#agree", Button).disabled)


async def at_route(pilot: Pilot) -> None:
    await agree(pilot)
    await pilot.click("#route-indice-and-general")


async def at_guidance(pilot: Pilot) -> None:
    await agree(pilot)
    await choose(pilot, "not-issued")


async def at_applicant_problems(pilot: Pilot) -> None:
    await agree(pilot)
    await choose(pilot, "indice-only")
    await fill(pilot, {"umin_id": "Yamada_TKY", "name_kanji": "山田 太郎"})
    await pilot.click("#next")
    await pilot.pause()


async def at_review(pilot: Pilot) -> None:
    await agree(pilot)
    await choose(pilot, "indice-only", "group")
    await fill(pilot, PERSON | {"representative_name": "田中 次郎"})
    await submit_form(pilot)


async def at_send(pilot: Pilot) -> None:
    await at_review(pilot)
    await print_and_wait(pilot)


async def at_done(pilot: Pilot) -> None:
    await at_send(pilot)
    await pilot.click("#next")
    await wait_for(pilot, lambda: pilot.app.screen.id == "done")


STEPS: dict[str, Callable[[Pilot], Awaitable[None]]] = {
    "welcome": at_welcome,
    "consent": at_consent,
    "consent-read": at_consent_read,
    "route": at_route,
    "guidance": at_guidance,
    "applicant-problems": at_applicant_problems,
    "review": at_review,
    "send": at_send,
    "done": at_done,
}


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("step", list(STEPS))
def test_step_looks_right(snap_compare, private_cups, step: str, lang: str) -> None:
    app = new_app(snapshot_config(lang, private_cups.server), clock=lambda: FIXED)
    assert snap_compare(app, terminal_size=(80, 24), run_before=STEPS[step])
