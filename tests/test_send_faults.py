"""Real faults on the private CUPS: each gets a plain sentence, and one key retries with the answers kept."""

from __future__ import annotations

import dataclasses
import getpass
import time
from collections.abc import Iterator

import cups as pycups
import pytest
from textual.widgets import Button

from devtools.democups import PrivateCups
from indice_kiosk.core.config import Config
from tests.pilot import (
    PERSON,
    SIZE,
    new_app,
    print_and_wait,
    shown,
    to_review,
    wait_for,
)


async def reach_send(pilot) -> None:
    await to_review(pilot)
    await print_and_wait(pilot)


async def retry_until_printed(pilot) -> None:
    app = pilot.app
    assert app.screen.query_one("#retry", Button).display
    await pilot.press("f5")
    await wait_for(pilot, lambda: app.screen.outcome is not None, timeout=40)
    assert app.screen.outcome.kind == "completed", app.screen.outcome
    assert app.session.answers["name_kanji"] == PERSON["name_kanji"]


async def test_queue_rejecting_jobs(config: Config, private_cups) -> None:
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        private_cups.lp_command("cupsreject", private_cups.queue)
        try:
            await reach_send(pilot)
            assert app.screen.outcome.kind == "rejecting"
            status = shown(app.screen.query_one("#send-status"))
            assert "受付を停止" in status
            assert "入力した内容は残っています" in shown(app.screen.query_one("#send-hint"))
        finally:
            private_cups.lp_command("cupsaccept", private_cups.queue)
        await retry_until_printed(pilot)


async def test_cups_server_down(config: Config, private_cups) -> None:
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        private_cups.stop_cups()
        try:
            await reach_send(pilot)
            assert app.screen.outcome.kind == "unreachable"
            assert "印刷サーバーにつながりません" in shown(app.screen.query_one("#send-status"))
        finally:
            private_cups.start_cups()
        await retry_until_printed(pilot)


async def test_queue_does_not_exist(config: Config) -> None:
    config = dataclasses.replace(config, cups=dataclasses.replace(config.cups, queue="no-such-queue"))
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await reach_send(pilot)
        assert app.screen.outcome.kind == "no-queue"
        assert "no-such-queue" in shown(app.screen.query_one("#send-status"))
        # Back to the review, answers intact.
        await pilot.click("#back")
        await wait_for(pilot, lambda: app.screen.id == "review")


async def test_paused_queue_waits_boundedly_then_retry_prints(config: Config, private_cups) -> None:
    config = dataclasses.replace(config, cups=dataclasses.replace(config.cups, max_wait=3.0))
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        private_cups.lp_command("cupsdisable", private_cups.queue)
        try:
            await to_review(pilot)
            await pilot.click("#confirm")
            await wait_for(pilot, lambda: app.screen.id == "send")
            # While the job waits, the screen says so and the idle timeout is held off.
            await wait_for(pilot, lambda: "一時停止" in shown(app.screen.query_one("#send-status")))
            assert app.session.following_job
            await wait_for(pilot, lambda: app.screen.outcome is not None, timeout=30)
            # #14.5: the cause is named -- the queue stayed paused -- not the printer or the line.
            assert app.screen.outcome.kind == "paused"
            assert "一時停止したまま 3 秒" in shown(app.screen.query_one("#send-status"))
            # The unfinished job was cancelled, so it cannot print by surprise later.
            import cups as pycups

            connection = pycups.Connection(host=private_cups.host, port=private_cups.port)
            assert app.screen.outcome.job_id not in connection.getJobs(which_jobs="not-completed")
        finally:
            private_cups.lp_command("cupsenable", private_cups.queue)
        await retry_until_printed(pilot)


async def test_document_refused(config: Config, private_cups) -> None:
    """The queue refuses the job (a CUPS access list denying this user: IPP 0x0403), for real."""
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        private_cups.lp_command("lpadmin", "-p", private_cups.queue, "-u", f"deny:{getpass.getuser()}")
        try:
            await reach_send(pilot)
            assert app.screen.outcome.kind == "refused"
            assert "受け付けませんでした" in shown(app.screen.query_one("#send-status"))
        finally:
            private_cups.lp_command("lpadmin", "-p", private_cups.queue, "-u", "allow:all")
        await retry_until_printed(pilot)


@pytest.fixture
def own_cups() -> Iterator[PrivateCups]:
    """A cupsd of this test's own: the test kills it, and no other test may lose its server."""
    cups = PrivateCups(keep_jobs=True, fax_queue="kiosk-fax")
    cups.start()
    try:
        yield cups
    finally:
        cups.stop()


def job_ids(cups: PrivateCups, which: str) -> set[int]:
    return set(pycups.Connection(host=cups.host, port=cups.port).getJobs(which_jobs=which))


@pytest.mark.parametrize("mode", ["print", "fax"])
async def test_cupsd_dying_mid_job_is_a_fault_and_the_retry_is_the_only_copy(config: Config, own_cups,
                                                                             mode: str) -> None:
    """cupsd is killed (a crash, SIGKILL) while the job waits on a paused queue. The person gets a plain
    sentence, their answers and a one-key retry. A restarted cupsd brings the old job back from its spool;
    the retry cancels it first, so exactly one copy goes out."""
    queue = own_cups.queue if mode == "print" else own_cups.fax_queue
    assert queue is not None
    config = dataclasses.replace(
        config, cups=dataclasses.replace(config.cups, server=own_cups.server, queue=own_cups.queue),
        fax=dataclasses.replace(config.fax, queue=own_cups.fax_queue),
        delivery=dataclasses.replace(config.delivery, mode=mode))
    own_cups.lp_command("cupsdisable", queue)
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await to_review(pilot)
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: app.screen.id == "send")
        await wait_for(pilot, lambda: "一時停止" in shown(app.screen.query_one("#send-status")))
        [(_, first_job)] = app.session.unsettled()

        own_cups.kill_cups()
        await wait_for(pilot, lambda: app.screen.outcome is not None, timeout=30)
        assert app.screen.outcome.kind == "lost"
        assert "印刷サーバーが応答しなくなりました" in shown(app.screen.query_one("#send-status"))
        assert "入力した内容は残っています" in shown(app.screen.query_one("#send-hint"))
        assert app.screen.query_one("#retry", Button).display and app.focused.id == "retry"
        assert app.session.answers["name_kanji"] == PERSON["name_kanji"]

        own_cups.start_cups()
        assert first_job in job_ids(own_cups, "not-completed")  # back from the spool: it would go out
        await pilot.press("f5")
        await wait_for(pilot, lambda: "一時停止" in shown(app.screen.query_one("#send-status")))
        assert first_job not in job_ids(own_cups, "all")  # cancelled and purged before the retry
        own_cups.lp_command("cupsenable", queue)
        await wait_for(pilot, lambda: app.screen.outcome is not None, timeout=40)
        assert app.screen.outcome.kind == "completed"
    time.sleep(1.0)  # anything else queued would have reached the virtual printer by now
    assert len(own_cups.wait_received(1)) == 1
    assert not app.session.unsettled()
