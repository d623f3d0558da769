"""The operator console against the real private CUPS: queue states, the fixes, the test page, jobs.

Every queue state a test changes is put back in a finally: the CUPS is shared by the whole run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import getpass
import io
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from devtools.democups import PrivateCups
from indice_kiosk.console import report as operator
from indice_kiosk.console.app import ConsoleApp, ConsoleScreen
from indice_kiosk.core.config import Config, CupsSettings, DeliverySettings, FaxSettings
from indice_kiosk.core.jobs import PrintTarget
from indice_kiosk.core.text import t
from indice_kiosk.cups import client as printing
from indice_kiosk.cups.client import JobState, PrintError
from tests.pilot import PERSON, pdf_text, sent_title, shown, wait_for

SIZE = (100, 30)


def both_queues(config: Config) -> Config:
    return dataclasses.replace(config, delivery=DeliverySettings(mode="print+fax"))


def console(pilot: Pilot) -> ConsoleScreen:
    screen = pilot.app.screen
    assert isinstance(screen, ConsoleScreen)
    return screen


def row(pilot: Pilot, table: str, key: str) -> list[str]:
    return [str(cell) for cell in console(pilot).query_one(table, DataTable).get_row(key)]


def has_row(pilot: Pilot, table: str, key: str) -> bool:
    return key in console(pilot).query_one(table, DataTable).rows


def server_line(pilot: Pilot) -> str:
    return str(console(pilot).query_one("#server-line", Static).render())


async def refresh_until(pilot: Pilot, condition: object, timeout: float = 20.0) -> None:
    """F5, then wait for what CUPS now says to be on screen."""
    await pilot.press("f5")
    await wait_for(pilot, condition, timeout=timeout)


async def ready(pilot: Pilot) -> None:
    def shown_once() -> bool:
        return isinstance(pilot.app.screen, ConsoleScreen) and console(pilot).refreshes > 0

    await wait_for(pilot, shown_once)


async def pick(pilot: Pilot, table: str, key: str) -> None:
    widget = console(pilot).query_one(table, DataTable)
    widget.focus()
    widget.move_cursor(row=widget.get_row_index(key), animate=False)
    await pilot.pause()


async def act(pilot: Pilot, button: str) -> tuple[str, bool, str]:
    screen = pilot.app.console_screen  # type: ignore[attr-defined]  # the button may be on a question over it
    screen.last_result = None
    await pilot.click(button)
    await wait_for(pilot, lambda: screen.last_result is not None)
    assert screen.last_result is not None
    return screen.last_result


def queue_state(pc: PrivateCups, queue: str) -> dict[str, object]:
    return printing.queue_info(PrintTarget(server=pc.server, queue=queue, timeout=5.0))


def status_text(pilot: Pilot) -> str:
    return shown(console(pilot).query_one("#console-status"))


async def test_shows_both_queues_idle_and_accepting(config: Config, private_cups) -> None:
    app = ConsoleApp(both_queues(config), lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert server_line(pilot) == f"CUPS {private_cups.server}: reachable"
        printer = row(pilot, "#queues", private_cups.queue)
        fax = row(pilot, "#queues", private_cups.fax_queue)
        assert printer[:4] == [private_cups.queue, "printer", "idle", "yes"]
        assert fax[:4] == [private_cups.fax_queue, "FAX", "idle", "yes"]
        assert [r.name for r in console(pilot).reports] == [private_cups.queue, private_cups.fax_queue]


async def test_print_mode_shows_only_the_printer(config: Config, private_cups) -> None:
    app = ConsoleApp(config, lang="ja")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert "接続できます" in server_line(pilot)
        assert console(pilot).query_one("#queues", DataTable).row_count == 1
        assert row(pilot, "#queues", private_cups.queue)[2] == "待機中"


async def test_stopped_queue_is_shown_and_resumed(config: Config, private_cups) -> None:
    queue = private_cups.queue
    app = ConsoleApp(both_queues(config), lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        private_cups.lp_command("cupsdisable", queue)
        try:
            await refresh_until(pilot, lambda: row(pilot, "#queues", queue)[2] == "stopped")
            await pick(pilot, "#queues", queue)
            assert await act(pilot, "#enable") == ("console.action.enable", True, "done")
            assert queue_state(private_cups, queue)["state"] == 3  # idle, says CUPS
            assert "done" in status_text(pilot)
            await wait_for(pilot, lambda: row(pilot, "#queues", queue)[2] == "idle")
        finally:
            private_cups.lp_command("cupsenable", queue)


async def test_rejecting_queue_is_shown_and_accepts_again(config: Config, private_cups) -> None:
    queue = private_cups.fax_queue
    app = ConsoleApp(both_queues(config), lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        private_cups.lp_command("cupsreject", queue)
        try:
            await refresh_until(pilot, lambda: row(pilot, "#queues", queue)[3] == "no")
            await pick(pilot, "#queues", queue)
            assert await act(pilot, "#accept") == ("console.action.accept", True, "done")
            assert queue_state(private_cups, queue)["accepting"] is True
            await wait_for(pilot, lambda: row(pilot, "#queues", queue)[3] == "yes")
        finally:
            private_cups.lp_command("cupsaccept", queue)


def received_titled(pc: PrivateCups, title: str, after: int) -> list[Path]:
    return [p for p in pc.wait_received(after + 1, timeout=15)[after:]
            if sent_title(pc.received_env(p)) == title]


async def test_test_page_prints_and_completes(config: Config, private_cups) -> None:
    before = len(private_cups.received())
    app = ConsoleApp(config, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pick(pilot, "#queues", private_cups.queue)
        await pilot.click("#test-page")
        screen = console(pilot)
        await wait_for(pilot, lambda: screen.test_outcome is not None, timeout=40)
        assert screen.test_outcome is not None and screen.test_outcome.kind == "completed"
        assert "printed" in status_text(pilot)
    pages = received_titled(private_cups, operator.TEST_PAGE_TITLE, before)
    assert len(pages) == 1
    data = pages[0].read_bytes()
    text = pdf_text(data)
    assert "indice-kiosk" in text and private_cups.queue in text
    for value in PERSON.values():
        assert value.replace(" ", "") not in text


def test_test_page_pdf_embeds_only_the_kiosk_font(config: Config) -> None:
    data = operator.test_page_pdf(config.document.font, "ja", queue="q")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    assert reader.metadata is not None and reader.metadata.title == operator.TEST_PAGE_TITLE
    fonts = reader.pages[0]["/Resources"]["/Font"]
    names = [str(fonts[key].get_object()["/BaseFont"]) for key in fonts]
    assert names and all("Helvetica" not in name for name in names), names
    assert "テストページ" in pdf_text(data)


async def test_held_job_is_listed_and_released(config: Config, private_cups) -> None:
    target = PrintTarget(server=private_cups.server, queue=private_cups.queue, timeout=5.0)
    pdf = operator.test_page_pdf(config.document.font, "en", queue=private_cups.queue)
    job_id = await asyncio.to_thread(printing.submit, target, pdf, title="INDICE application",
                                     options={"job-hold-until": "indefinite"})
    try:
        app = ConsoleApp(config, lang="en")
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            key = str(job_id)
            await refresh_until(pilot, lambda: has_row(pilot, "#jobs", key))
            cells = row(pilot, "#jobs", key)
            assert cells[:3] == [key, private_cups.queue, "held"]
            await pick(pilot, "#jobs", key)
            assert await act(pilot, "#release-job") == ("console.action.release", True, "done")
            for _ in range(200):
                status = await asyncio.to_thread(printing.job_status, target, job_id)
                if status.finished:
                    break
                await asyncio.sleep(0.1)
            assert status.state is JobState.COMPLETED
            await wait_for(pilot, lambda: has_row(pilot, "#jobs", key)
                           and row(pilot, "#jobs", key)[2] == "completed", timeout=15)
            assert row(pilot, "#jobs", key)[4]  # a completion time
    finally:
        await asyncio.to_thread(printing.purge, target, job_id)


async def test_pending_job_on_a_paused_queue_is_cancelled(config: Config, private_cups) -> None:
    target = PrintTarget(server=private_cups.server, queue=private_cups.queue, timeout=5.0)
    pdf = operator.test_page_pdf(config.document.font, "en", queue=private_cups.queue)
    before = len(private_cups.received())
    private_cups.lp_command("cupsdisable", private_cups.queue)
    job_id = None
    try:
        job_id = await asyncio.to_thread(printing.submit, target, pdf, title="INDICE application")
        app = ConsoleApp(config, lang="en")
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            key = str(job_id)
            await refresh_until(pilot, lambda: has_row(pilot, "#jobs", key))
            assert row(pilot, "#jobs", key)[2] == "pending"
            await pick(pilot, "#jobs", key)
            await pilot.click("#cancel-job")
            await wait_for(pilot, lambda: app.screen.id == "confirm")
            assert await act(pilot, "#confirm-yes") == ("console.action.cancel", True, "done")
            # Purged (cups.purge_jobs): CUPS no longer knows it, and it is gone from the list.
            with pytest.raises(PrintError):
                await asyncio.to_thread(printing.job_status, target, job_id)
            await wait_for(pilot, lambda: not has_row(pilot, "#jobs", key))
    finally:
        private_cups.lp_command("cupsenable", private_cups.queue)
        if job_id is not None:
            await asyncio.to_thread(printing.purge, target, job_id)
    await asyncio.sleep(1.0)
    assert not [p for p in private_cups.received()[before:]
                if sent_title(private_cups.received_env(p)) == "INDICE application"]


async def test_cancel_asks_first_naming_the_job(config: Config, private_cups) -> None:
    """#14.9: ジョブ取消 cancelled the picked job at once; now it asks, naming the job by its title."""
    target = PrintTarget(server=private_cups.server, queue=private_cups.queue, timeout=5.0)
    pdf = operator.test_page_pdf(config.document.font, "ja", queue=private_cups.queue)
    private_cups.lp_command("cupsdisable", private_cups.queue)
    job_id = None
    try:
        job_id = await asyncio.to_thread(printing.submit, target, pdf, title="INDICE reminder")
        app = ConsoleApp(config, lang="ja")
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            key = str(job_id)
            await refresh_until(pilot, lambda: has_row(pilot, "#jobs", key))
            await pick(pilot, "#jobs", key)
            await pilot.click("#cancel-job")
            await wait_for(pilot, lambda: app.screen.id == "confirm")
            question = shown(app.screen.query_one("#confirm-question"))
            assert question == t("ja", "console.confirm.cancel", job=job_id, title="INDICE reminder",
                                 queue=private_cups.queue)
            assert "INDICE reminder" in question and key in question
            # "No" (Esc) changes nothing: the job is still waiting in CUPS.
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen.id == "console")
            await pilot.pause(0.5)
            assert console(pilot).last_result is None
            status = await asyncio.to_thread(printing.job_status, target, job_id)
            assert status.state is JobState.PENDING
            await pilot.click("#cancel-job")
            await wait_for(pilot, lambda: app.screen.id == "confirm")
            assert await act(pilot, "#confirm-yes") == ("console.action.cancel", True, "done")
            await wait_for(pilot, lambda: not has_row(pilot, "#jobs", key))
    finally:
        private_cups.lp_command("cupsenable", private_cups.queue)
        if job_id is not None:
            await asyncio.to_thread(printing.purge, target, job_id)


async def test_buttons_need_a_pick(config: Config) -> None:
    config = dataclasses.replace(config, cups=dataclasses.replace(config.cups, server="127.0.0.1:9"))
    app = ConsoleApp(config, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert "unreachable" in server_line(pilot)
        await pilot.click("#cancel-job")
        assert status_text(pilot) == "Pick a job first."


async def test_an_unreachable_server_is_explained_in_the_operators_words(config: Config) -> None:
    """The line said libcups's own English ("failed to connect to server") to a Japanese operator."""
    config = dataclasses.replace(config, cups=dataclasses.replace(config.cups, server="127.0.0.1:9"))
    app = ConsoleApp(config, lang="ja")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        line = server_line(pilot)
    assert line == t("ja", "console.server.unreachable", server="127.0.0.1:9",
                     why=t("ja", "console.server.no_connection"))
    assert "failed" not in line and "connect" not in line


async def test_cups_stopped_then_back(config: Config, private_cups) -> None:
    app = ConsoleApp(both_queues(config), lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        private_cups.stop_cups()
        try:
            await refresh_until(pilot, lambda: "unreachable" in server_line(pilot))
            assert console(pilot).reachable is False
            assert row(pilot, "#queues", private_cups.queue)[2] == "?"
            # Still alive and answering keys.
            await pick(pilot, "#queues", private_cups.queue)
            assert await act(pilot, "#enable") == ("console.action.enable", False, "unreachable")
        finally:
            private_cups.start_cups()
        await refresh_until(pilot, lambda: server_line(pilot).endswith(": reachable"))
        assert row(pilot, "#queues", private_cups.queue)[2] == "idle"


async def test_quit_asks_first(config: Config) -> None:
    app = ConsoleApp(config, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: app.screen.id == "confirm")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen.id == "console")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: app.screen.id == "confirm")
        await pilot.click("#confirm-yes")
        await wait_for(pilot, lambda: not app.is_running)


# --- a real refusal ------------------------------------------------------------------------------
#
# The shared test CUPS allows everything from 127.0.0.1, and cupsd always lets loopback clients past
# host rules ("Deny from all" does nothing there), so a refusal needs a policy that demands a user.
# A separate private CUPS gets one, so the shared server's configuration is never touched.

LOCKED_POLICY = """
<Policy locked>
  <Limit Resume-Printer Pause-Printer CUPS-Accept-Jobs CUPS-Reject-Jobs Cancel-Job Release-Job Restart-Job>
    AuthType Basic
    Require user no-such-operator
    Order deny,allow
  </Limit>
  <Limit All>
    Order deny,allow
    Deny from all
    Allow from 127.0.0.1
  </Limit>
</Policy>
"""


@pytest.fixture
def locked_cups() -> Iterator[PrivateCups]:
    pc = PrivateCups(queue="locked-printer")
    pc.start()
    try:
        # Stopped and rejecting before the lock, so the console has something it may not fix.
        pc.lp_command("cupsdisable", pc.queue)
        pc.lp_command("cupsreject", pc.queue)
        conf = pc.root / "cupsd.conf"
        conf.write_text(conf.read_text() + LOCKED_POLICY)
        pc.stop_cups()
        pc.start_cups()
        pc.lp_command("lpadmin", "-p", pc.queue, "-o", "printer-op-policy=locked")
        yield pc
    finally:
        pc.stop()


async def test_refused_operations_say_not_permitted(locked_cups: PrivateCups) -> None:
    config = Config(cups=CupsSettings(server=locked_cups.server, queue=locked_cups.queue, timeout=5.0),
                    fax=FaxSettings(queue="unused"))
    app = ConsoleApp(config, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert row(pilot, "#queues", locked_cups.queue)[2:4] == ["stopped", "no"]
        await pick(pilot, "#queues", locked_cups.queue)
        assert await act(pilot, "#enable") == ("console.action.enable", False, "not-permitted")
        assert "CUPS did not allow it" in status_text(pilot)
        assert await act(pilot, "#accept") == ("console.action.accept", False, "not-permitted")
        assert "CUPS did not allow it" in status_text(pilot)
    state = queue_state(locked_cups, locked_cups.queue)
    assert state["state"] == 5 and state["accepting"] is False  # CUPS really refused


async def test_refused_print_submission_is_not_permitted(locked_cups: PrivateCups, config: Config) -> None:
    """A user denied on the queue (lpadmin -u deny:USER): CUPS answers "Not allowed to print"."""
    pc = locked_cups
    pc.lp_command("lpadmin", "-p", pc.queue, "-o", "printer-op-policy=default")  # unlocked: may accept
    pc.lp_command("cupsaccept", pc.queue)
    pc.lp_command("lpadmin", "-p", pc.queue, "-u", f"deny:{getpass.getuser()}")
    target = PrintTarget(server=pc.server, queue=pc.queue, timeout=5.0)
    pdf = operator.test_page_pdf(config.document.font, "en", queue=pc.queue)
    with pytest.raises(PrintError) as caught:
        await asyncio.to_thread(printing.submit, target, pdf, title=operator.TEST_PAGE_TITLE)
    assert printing.not_permitted(caught.value)
    assert not printing.not_permitted(PrintError("unreachable", "x"))


async def test_settings_opens_the_settings_screen(config: Config, tmp_path: Path) -> None:
    app = ConsoleApp(config, lang="en", settings_path=tmp_path / "kiosk.toml")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.click("#settings")
        await wait_for(pilot, lambda: app.screen.id == "settings")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen.id == "console")


async def test_quitting_over_unsaved_settings_says_what_would_be_lost(config: Config, tmp_path: Path) -> None:
    """ctrl+q over the settings form with unsaved edits asked only "quit?": now it says the edits go."""
    from textual.widgets import Input

    path = tmp_path / "kiosk.toml"
    shutil.copy(Path(__file__).resolve().parent.parent / "kiosk.toml", path)  # the shipped file
    app = ConsoleApp(config, lang="en", settings_path=path)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.click("#settings")
        await wait_for(pilot, lambda: app.screen.id == "settings")
        app.screen.query_one("#set-project-contact", Input).value = "secretariat ext. 9"
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: app.screen.id == "confirm")
        question = app.screen.query_one("#confirm-question").text  # type: ignore[attr-defined]
        assert question == t("en", "settings.confirm.discard_quit")
        await pilot.click("#confirm-no")
        await wait_for(pilot, lambda: app.screen.id == "settings")
        assert app.screen.query_one("#set-project-contact", Input).value == "secretariat ext. 9"
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: app.screen.id == "confirm")
        await pilot.click("#confirm-yes")
        await wait_for(pilot, lambda: app.return_code is not None)


async def test_settings_without_a_file_says_so(config: Config) -> None:
    app = ConsoleApp(config, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.click("#settings")
        await pilot.pause(0.2)
        assert app.screen.id == "console"
        assert "No settings file" in status_text(pilot)


async def test_silent_server_does_not_freeze_the_console(config: Config) -> None:
    """A server that takes the connection and never answers: each call gives up after cups.timeout."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        server = f"127.0.0.1:{silent.getsockname()[1]}"
        cups = dataclasses.replace(config.cups, server=server, timeout=1.0)
        config = dataclasses.replace(config, cups=cups)
        app = ConsoleApp(config, lang="en")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(0.1)
            assert "checking" in server_line(pilot)
            await pilot.press("f5")  # while the first refresh waits: the keys still work
            await pilot.press("tab")
            await ready(pilot)
            assert "unreachable" in server_line(pilot) and "no answer" in server_line(pilot)


async def test_queue_problems_are_in_the_operators_words(config: Config, private_cups) -> None:
    """#14.9: the console showed CUPS's own reason ("paused") to a Japanese operator."""
    queue = private_cups.queue
    app = ConsoleApp(config, lang="ja")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        private_cups.lp_command("cupsdisable", queue)
        try:
            await refresh_until(pilot, lambda: row(pilot, "#queues", queue)[2] == "停止中")
            assert row(pilot, "#queues", queue)[4] == "一時停止"
        finally:
            private_cups.lp_command("cupsenable", queue)


async def test_no_test_page_is_faxed_to_umin(config: Config, private_cups) -> None:
    """#14.9: a test page to the FAX queue went out with no number and said 「印刷しました」; it would be
    dialled to the UMIN Center, so the console does not send one."""
    everything = PrintTarget(server=private_cups.server, queue="", timeout=5.0)
    jobs_before = len(printing.list_jobs(everything))
    app = ConsoleApp(both_queues(config), lang="ja")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pick(pilot, "#queues", private_cups.fax_queue)
        await pilot.click("#test-page")
        await wait_for(pilot, lambda: "送りません" in status_text(pilot))
        assert console(pilot).test_outcome is None
    assert len(printing.list_jobs(everything)) == jobs_before
