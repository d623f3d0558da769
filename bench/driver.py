"""A keyboard-only session for the benchmark, fed to the app the way the terminal driver feeds it.

Pilot's own helpers are built for tests, not for timing: every ``press`` waits for the process to look idle
(at least 2 × 20 ms) and every ``click`` five times, so a session driven by them measures mostly those
sleeps. Here each key or paste is posted as the event the terminal driver would post (``events.Key``,
``events.Paste``) and the driver only waits, in 1 ms steps, until the app shows the expected result.
The app still runs under ``App.run_test`` (headless, Pilot), so nothing of the app itself is bypassed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from textual import events
from textual.app import App
from textual.widgets import Button, Input


class KeyDriver:
    def __init__(self, app: App[None], timeout: float = 20.0) -> None:
        self.app = app
        self.timeout = timeout

    async def until(self, condition: Callable[[], object], what: str, every: float = 0.001) -> None:
        """Wait for ``condition``, looking every ``every`` seconds (the looking is the harness's CPU, not
        the kiosk's: keep it coarse where the wait is long and its end is timed by the kiosk itself)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while not condition():
            if loop.time() > deadline:
                raise AssertionError(f"timed out waiting for {what}; screen is {self.app.screen.id}")
            await asyncio.sleep(every)

    def key(self, key: str, character: str | None = None) -> None:
        self.app.post_message(events.Key(key, character))

    def paste(self, text: str) -> None:
        self.app.post_message(events.Paste(text))

    def on(self, step: str) -> Callable[[], bool]:
        """The step's screen is up: pushed and mounted with what it composed."""
        return lambda: self.app.screen.id == step and self.app.screen.is_mounted

    async def painted(self) -> None:
        """Wait for the next screen refresh (what the person would see is drawn)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.app.call_after_refresh(lambda: done.set_result(None))
        await done

    def focused(self, widget_id: str) -> Callable[[], bool]:
        return lambda: self.app.focused is not None and self.app.focused.id == widget_id

    async def to_consent(self) -> None:
        await self.until(self.on("welcome"), "welcome")
        await self.until(self.focused("start"), "the start button")
        self.key("enter")
        await self.until(self.on("consent"), "consent")

    async def agree(self) -> None:
        await self.to_consent()
        await self.until(self.focused("consent-text"), "the consent text")
        self.key("end")  # the agree key works once the whole text has been shown
        agree = self.app.screen.query_one("#agree", Button)
        await self.until(lambda: not agree.disabled, "agree enabled")
        self.key("f10")
        await self.until(self.on("route"), "route")

    async def choose_indice_only(self) -> None:
        screen = self.app.screen
        await self.until(self.focused("route"), "the route choices")
        self.key("enter")  # the first choice, "INDICE password only"; focus moves to the ID type
        await self.until(lambda: getattr(screen, "route", None) is not None, "route chosen")
        await self.until(self.focused("id-type"), "the ID-type choices")
        self.key("enter")  # personal ID
        await self.until(self.focused("next"), "next")
        self.key("f10")
        await self.until(self.on("applicant"), "applicant")

    async def fill(self, answers: Mapping[str, str]) -> None:
        """Each answer pasted into its field (as a paste or an IME commit arrives), Tab to the next."""
        screen = self.app.screen
        for i, (key, value) in enumerate(answers.items()):
            if i:
                self.key("tab")
            await self.until(self.focused(key), f"field {key}")
            field = screen.query_one(f"#{key}", Input)
            self.paste(value)
            await self.until(lambda field=field: field.value != "", f"{key} filled")

    async def submit(self) -> None:
        self.key("f10")
        await self.until(self.on("review"), "review")

    async def send_and_wait(self, every: float = 0.001) -> str:
        self.key("f10")
        await self.until(self.on("send"), "send")
        screen = self.app.screen
        await self.until(lambda: getattr(screen, "outcome", None) is not None, "the job's outcome", every)
        return str(screen.outcome.kind)  # type: ignore[attr-defined]

    async def finish(self) -> None:
        self.key("f10")
        await self.until(self.on("done"), "done")
        await self.painted()

    async def start_over(self) -> None:
        self.key("f9")
        await self.until(lambda: bool(self.app.screen.query("#confirm-yes")), "the start-over question")
        await self.until(self.focused("confirm-no"), "the question's focus")
        self.key("tab")
        await self.until(self.focused("confirm-yes"), "yes")
        self.key("enter")
        await self.until(self.on("welcome"), "welcome")
