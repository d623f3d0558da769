"""FAX through CUPS, the print-instead fallback, and the forgotten FAX — on the private CUPS, for real.

The private CUPS has a fax queue ("kiosk-fax", PPD with *cupsFax: True) in front of the virtual printer;
the printer's job script records every IPP attribute it received, so the number CUPS dialled is read back.
Jobs are matched by title (the virtual printer's job ids differ from CUPS's).
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import time
from pathlib import Path

import cups as pycups
import pytest
from pypdf import PdfReader
from textual.widgets import Button, Checkbox

from indice_kiosk.core.config import Config, UminSettings
from indice_kiosk.core.jobs import PrintTarget
from indice_kiosk.core.text import t
from indice_kiosk.cups import delivery
from indice_kiosk.paper import document
from indice_kiosk.paper.fonts import DEFAULT_FONT_PATH
from tests.conftest import FAX_AGREEMENT
from tests.pilot import (
    PERSON,
    SIZE,
    agree,
    choose,
    compact,
    fill,
    new_app,
    pdf_text,
    print_and_wait,
    sent_title,
    shown,
    start,
    start_over,
    submit_form,
    to_review,
    wait_for,
)
from tests.terminal import Terminal, drive_to_send, start_real_process


def with_mode(config: Config, mode: str, **fax: object) -> Config:
    return dataclasses.replace(config, delivery=dataclasses.replace(config.delivery, mode=mode),
                               fax=dataclasses.replace(config.fax, **fax))


def fax_jobs(private_cups, needle: str) -> list[tuple[dict[str, str], bytes]]:
    """(attributes, document) of every FAX job that reached the virtual printer holding ``needle``."""
    found = []
    for path in private_cups.received():
        env = private_cups.received_env(path)
        if sent_title(env) == "INDICE fax" and needle in pdf_text(path.read_bytes()):
            found.append((env, path.read_bytes()))
    return found


async def send_session(pilot, name: str, id_type: str = "personal") -> None:
    await agree(pilot)
    await choose(pilot, "indice-only", id_type)
    answers = PERSON | {"name_kanji": name}
    if id_type == "group":
        answers["representative_name"] = "代表 太郎"
    await fill(pilot, answers)
    await submit_form(pilot)
    await print_and_wait(pilot)


async def test_fax_mode_sends_cover_and_form_with_the_exact_number(config: Config, private_cups) -> None:
    app = new_app(with_mode(config, "fax"))
    async with app.run_test(size=SIZE) as pilot:
        await send_session(pilot, "電送 一郎")
        assert app.screen.outcome.kind == "completed"
        status = shown(app.screen.query_one("#send-status"))
        assert "FAX を UMIN センター（03-5689-0726）へ送信しました" in status
        await pilot.click("#next")
        await wait_for(pilot, lambda: app.screen.id == "done")
        # Shown as sent only because CUPS reported the job completed.
        assert "送信しました" in shown(app.screen.query_one("#fax-sent"))
        assert not app.screen.query("#check-faxed")
        await pilot.click("#finish")
        await wait_for(pilot, lambda: app.screen.id == "welcome")
    [(env, pdf)] = fax_jobs(private_cups, "電送一郎")
    assert env["IPP_DESTINATION_URIS"] == "{destination-uri=tel:0356890726}"
    pages = PdfReader(io.BytesIO(pdf)).pages
    cover = compact(pages[0].extract_text())
    assert "FAX送信票" in cover and "UMIN" in cover
    assert compact(PERSON["institution"]) in cover and "電送一郎" not in cover  # no name on the cover
    assert compact(PERSON["umin_id"]) in compact("".join(p.extract_text() for p in pages[1:]))


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_fax_mode_says_the_fax_went_unsigned_and_under_which_arrangement(
    config: Config, private_cups, lang: str
) -> None:
    """#14.4: the FAX leaves unsigned. The review's key line and button both say "send"; the last screen
    says the form went unsigned under the site's arrangement with UMIN and what to do if UMIN asks for a
    signed one; the faxed form's signature boxes say 「署名なし」 with that arrangement."""
    from indice_kiosk.widgets.keybar import KeyBar

    app = new_app(dataclasses.replace(with_mode(config, "fax"),
                                      kiosk=dataclasses.replace(config.kiosk, language=lang)))
    async with app.run_test(size=SIZE) as pilot:
        await agree(pilot)
        await choose(pilot, "indice-only", "group")
        name = {"ja": "無署 七郎", "en": "無署 八郎"}[lang]
        await fill(pilot, PERSON | {"name_kanji": name, "representative_name": "代表 太郎"})
        await submit_form(pilot)
        send_words = t(lang, "review.confirm.fax")
        assert str(app.screen.query_one("#confirm", Button).label) == send_words
        keys = {key: text for key, _shown, text, _enabled in app.screen.query_one(KeyBar).keys()}
        assert keys["f10"] == send_words and t(lang, "review.confirm.print") not in keys.values()
        assert shown(app.screen.query_one("#review-intro")) == t(lang, "review.intro.fax")
        await print_and_wait(pilot)
        assert app.screen.outcome.kind == "completed"
        await pilot.click("#next")
        await wait_for(pilot, lambda: app.screen.id == "done")
        unsigned = shown(app.screen.query_one("#fax-unsigned"))
        assert unsigned == t(lang, "done.fax_unsigned", agreement=FAX_AGREEMENT)
        assert FAX_AGREEMENT in unsigned
        assert shown(app.screen.query_one("#fax-signed-requested")) == t(lang, "done.fax_signed_requested")
    [(_env, pdf)] = fax_jobs(private_cups, compact(name))
    pages = [compact(page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]
    assert compact(t("ja", "cover.unsigned", agreement=FAX_AGREEMENT)) in pages[0]
    form = "".join(pages[1:])
    assert form.count(compact(t("ja", "doc.unsigned"))) == 2  # the applicant's box and the representative's
    assert form.count(compact(FAX_AGREEMENT)) == 4  # in Japanese and in English under each


async def test_dial_prefix_is_dialled_first(config: Config, private_cups) -> None:
    app = new_app(with_mode(config, "fax", dial_prefix="0"))
    async with app.run_test(size=SIZE) as pilot:
        await send_session(pilot, "外線 二郎")
        assert app.screen.outcome.kind == "completed"
    [(env, _pdf)] = fax_jobs(private_cups, "外線二郎")
    assert env["IPP_DESTINATION_URIS"] == "{destination-uri=tel:00356890726}"


async def test_print_and_fax_both_arrive(config: Config, private_cups) -> None:
    app = new_app(with_mode(config, "print+fax"))
    async with app.run_test(size=SIZE) as pilot:
        await send_session(pilot, "両方 三郎")
        assert app.session.delivered == {"print", "fax"}
        assert "✓ 印刷：完了" in shown(app.screen.query_one("#send-log"))
        await pilot.click("#next")
        await wait_for(pilot, lambda: app.screen.id == "done")
        assert app.screen.query("#fax-sent") and app.screen.query("#check-signed")
    assert fax_jobs(private_cups, "両方三郎")
    printed = [p for p in private_cups.received()
               if sent_title(private_cups.received_env(p)) == "INDICE application"
               and "両方三郎" in pdf_text(p.read_bytes())]
    assert printed


async def test_print_and_fax_of_a_group_id_asks_the_representative_to_sign_the_copy(
        config: Config, private_cups) -> None:
    """Found walking it: print+fax with a group-representative ID listed only the applicant's signature
    for the printed copy; UMIN's rule 5 wants the representative's too."""
    app = new_app(with_mode(config, "print+fax"))
    async with app.run_test(size=SIZE) as pilot:
        await agree(pilot)
        await choose(pilot, "indice-only", "group")
        await fill(pilot, PERSON | {"name_kanji": "団体 九郎", "representative_name": "代表 太郎"})
        await submit_form(pilot)
        await print_and_wait(pilot)
        assert app.screen.outcome.kind == "completed"
        await pilot.click("#next")
        await wait_for(pilot, lambda: app.screen.id == "done")
        representative = app.screen.query_one("#check-representative", Checkbox)
        assert str(representative.label) == t("ja", "done.step_sign_group")


async def test_fax_queue_rejecting_then_print_instead(config: Config, private_cups) -> None:
    app = new_app(with_mode(config, "fax"))
    async with app.run_test(size=SIZE) as pilot:
        private_cups.lp_command("cupsreject", private_cups.fax_queue)
        try:
            await send_session(pilot, "代替 四郎")
            assert app.screen.outcome.kind == "rejecting"
            assert shown(app.screen.query_one("#send-status")).startswith("FAX：")
            assert app.screen.query_one("#print-instead", Button).display
            await pilot.press("f6")  # print instead
            await wait_for(pilot, lambda: app.screen.outcome is not None, timeout=40)
            assert app.screen.outcome.kind == "completed" and app.session.delivered == {"print"}
            await pilot.click("#next")
            await wait_for(pilot, lambda: app.screen.id == "done")
            assert app.screen.query("#check-faxed")  # now the applicant faxes it: the checklist says so
        finally:
            private_cups.lp_command("cupsaccept", private_cups.fax_queue)


async def test_device_unreachable_is_a_bounded_wait_then_retry(config: Config, private_cups) -> None:
    app = new_app(with_mode(config, "fax", max_wait=4.0))
    async with app.run_test(size=SIZE) as pilot:
        private_cups.stop_printer()
        try:
            await send_session(pilot, "不通 五郎")
            assert app.screen.outcome.kind == "timeout"
            assert "4 秒待ちましたが、FAX の送信が終わりません" in shown(app.screen.query_one("#send-status"))
        finally:
            private_cups.start_printer()
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.screen.outcome is not None, timeout=60)
        assert app.screen.outcome.kind == "completed"
        assert app.session.answers["name_kanji"] == "不通 五郎"


async def test_job_cancelled_in_cups_is_reported(config: Config, private_cups) -> None:
    app = new_app(with_mode(config, "print"))
    async with app.run_test(size=SIZE) as pilot:
        private_cups.lp_command("cupsdisable", private_cups.queue)
        try:
            await to_review(pilot)
            await pilot.click("#confirm")
            connection = pycups.Connection(host=private_cups.host, port=private_cups.port)
            deadline = time.monotonic() + 20
            jobs: dict = {}
            while not jobs and time.monotonic() < deadline:
                jobs = connection.getJobs(which_jobs="not-completed")
                await pilot.pause(0.1)
            for job_id in jobs:
                private_cups.lp_command("cancel", str(job_id))  # someone at the CUPS console cancels it
            await wait_for(pilot, lambda: app.screen.outcome is not None, timeout=30)
            assert app.screen.outcome.kind == "canceled"
            assert "印刷が取り消されました" in shown(app.screen.query_one("#send-status"))
        finally:
            private_cups.lp_command("cupsenable", private_cups.queue)
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.screen.outcome is not None, timeout=40)
        assert app.screen.outcome.kind == "completed"


def test_job_aborted_by_a_failing_filter(private_cups) -> None:
    """A document CUPS cannot convert aborts the job (queue policy abort-job); the kiosk says "aborted"."""
    policy = ("lpadmin", "-p", private_cups.queue, "-o")
    private_cups.lp_command(*policy, "printer-error-policy=abort-job")
    target = PrintTarget(server=private_cups.server, queue=private_cups.queue, timeout=5.0)
    try:
        outcome = delivery.deliver(target, b"%PDF-1.4\nthis is not a PDF at all\n", max_wait=20, purge=True,
                                   on_progress=lambda _p: None)
    finally:
        private_cups.lp_command(*policy, "printer-error-policy=stop-printer")
        private_cups.lp_command("cupsenable", private_cups.queue)
    assert outcome.kind in ("aborted", "stopped"), outcome


async def test_forgotten_fax_asks_once_more_then_prints_a_reminder(config: Config, private_cups) -> None:
    app = new_app(with_mode(config, "print"))
    before = len(private_cups.received())
    async with app.run_test(size=SIZE) as pilot:
        await send_session(pilot, "忘却 六郎", id_type="group")
        await pilot.click("#next")
        await wait_for(pilot, lambda: app.screen.id == "done")
        assert app.screen.query("#check-representative")  # a group ID needs the representative's signature
        await pilot.click("#finish")
        await wait_for(pilot, lambda: app.screen.id == "confirm")
        await pilot.click("#confirm-no")  # "no, continue": back to the checklist, nothing lost
        await wait_for(pilot, lambda: app.screen.id == "done")
        assert app.session.answers["name_kanji"] == "忘却 六郎"
        assert not app.screen.query_one("#check-faxed", Checkbox).value
        await pilot.click("#finish")
        await wait_for(pilot, lambda: app.screen.id == "confirm")
        await pilot.click("#confirm-yes")
        await wait_for(pilot, lambda: app.screen.id == "notice", timeout=30)
        assert "メモを印刷しました" in shown(app.screen.query_one("#notice-text"))
        assert app.session.is_empty
    reminders = [p for p in private_cups.received()[before:]
                 if sent_title(private_cups.received_env(p)) == "INDICE reminder"]
    assert len(reminders) == 1
    text = pdf_text(reminders[0].read_bytes())
    assert "0356890726" in text.replace("-", "") and "umin.ac.jp" in text
    # #14.3: the slip says where the new password comes from, too (no password in the completion mail).
    assert compact(t("ja", "after.password")) in text and compact(t("en", "after.password")) in text
    assert compact(t("ja", "after.mail")) in text
    assert "忘却" not in text and compact(PERSON["institution"]) not in text  # no personal data on the slip


def test_reminder_and_fax_documents_render_without_the_app() -> None:
    application = document.sample_application()
    fax_pdf = document.render_fax(application, font_path=DEFAULT_FONT_PATH, fax_number="03-5689-0726",
                                  page_url=UminSettings().page, agreement="test arrangement")
    assert len(PdfReader(io.BytesIO(fax_pdf)).pages) >= 2


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("mode", ["print", "fax", "print+fax"])
async def test_consent_names_where_the_application_goes(config: Config, mode: str, lang: str) -> None:
    """Informed consent: in the FAX modes the data note names the FAX destination (UMIN Center and its
    number); in print mode it says the form is only printed here. Welcome already says which (it said
    "prints" in FAX-only mode)."""
    config = dataclasses.replace(with_mode(config, mode, number="03-5689-0726"),
                                 kiosk=dataclasses.replace(config.kiosk, language=lang))
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.screen.id == "welcome")
        welcome = shown(app.screen.query_one("#welcome-body"))
        assert ("FAX" in welcome) == (mode != "print"), welcome
        assert ({"ja": "印刷", "en": "prints"}[lang] in welcome) == (mode != "fax"), welcome
        await start(pilot)
        notes = " ".join(shown(p) for p in app.screen.query("Prose.rule") if shown(p).startswith("・"))
    destination = {"ja": "FAX で UMIN センター（03-5689-0726）",
                   "en": "by FAX from this kiosk to the UMIN Center (03-5689-0726)"}
    printed_here = {"ja": "この施設のプリンターで印刷", "en": "printed here, on this office's printer"}
    assert (destination[lang] in notes) == (mode != "print"), notes
    assert (printed_here[lang] in notes) == (mode != "fax"), notes
    assert config.cups.queue not in notes  # a queue name means nothing to the applicant


async def test_start_over_during_a_fax_wait_cancels_it_after_a_retry(config: Config, private_cups) -> None:
    """#14.1: an earlier session's FAX timed out and was retried; the next person's FAX waits on a paused
    queue, F6, then F9 and yes: nothing of theirs may stay queued."""
    app = new_app(with_mode(config, "fax", max_wait=6.0))
    connection = pycups.Connection(host=private_cups.host, port=private_cups.port)
    async with app.run_test(size=SIZE) as pilot:
        private_cups.lp_command("cupsdisable", private_cups.fax_queue)
        try:
            await send_session(pilot, "先客 一郎")
            assert app.screen.outcome.kind == "paused"
            await pilot.press("f5")
            await wait_for(pilot, lambda: app.screen.outcome is not None, timeout=30)
            await start_over(pilot)
            await agree(pilot)
            await choose(pilot, "indice-only")
            await fill(pilot, PERSON | {"name_kanji": "後客 二郎"})
            await submit_form(pilot)
            await pilot.click("#confirm")
            await wait_for(pilot, lambda: app.screen.id == "send")
            await wait_for(pilot, lambda: "一時停止" in shown(app.screen.query_one("#send-status")))
            waiting = connection.getJobs(which_jobs="not-completed")
            assert len(waiting) == 1, waiting
            await pilot.press("f6")
            await start_over(pilot)
            await asyncio.sleep(1.5)  # well inside max_wait: only the ending can have cancelled it
            assert connection.getJobs(which_jobs="not-completed") == {}
        finally:
            private_cups.lp_command("cupsenable", private_cups.fax_queue)
    await asyncio.sleep(1.0)
    assert not fax_jobs(private_cups, "後客二郎")


@pytest.mark.system
def test_start_over_during_a_fax_wait_in_a_real_process(private_cups, tmp_path: Path) -> None:
    """#14.1 as it was met: one kiosk process; a first person's FAX times out and is retried, then ends;
    the next person's FAX waits on the paused queue; F6, F9, 「はい、消して最初に戻る」. Nothing stays queued,
    and after the queue resumes nothing of the second person is dialled."""
    settings = tmp_path / "kiosk.toml"
    settings.write_text(f'[cups]\nserver = "{private_cups.server}"\nqueue = "{private_cups.queue}"\n'
                        f'[delivery]\nmode = "fax"\n'
                        f'[fax]\nqueue = "{private_cups.fax_queue}"\nmax_wait = 8.0\n'
                        f'agreement = "{FAX_AGREEMENT}"\n', encoding="utf-8")
    connection = pycups.Connection(host=private_cups.host, port=private_cups.port)
    term = Terminal("fax-start-over")
    private_cups.lp_command("cupsdisable", private_cups.fax_queue)
    try:
        start_real_process(term, settings)
        drive_to_send(term, PERSON | {"name_kanji": "Senkyaku Ichiro"})
        term.wait_for("一時停止したまま", timeout=30)
        term.keys("F5")
        term.wait_for("一時停止")
        term.wait_for("一時停止したまま", timeout=30)
        term.keys("F9")
        term.wait_for("最初に戻りますか")
        term.keys("Tab", "Enter")  # from "no" (focused first) to yes
        term.wait_for("はじめる")
        drive_to_send(term, PERSON | {"name_kanji": "Atokyaku Jiro"})
        term.wait_for("一時停止")
        assert len(connection.getJobs(which_jobs="not-completed")) == 1
        term.keys("F6", "F9")
        term.wait_for("最初に戻りますか")
        term.keys("Tab", "Enter")
        term.wait_for("はじめる")
        time.sleep(1.5)  # well inside max_wait: only the ending can have cancelled the job
        assert connection.getJobs(which_jobs="not-completed") == {}
    finally:
        private_cups.lp_command("cupsenable", private_cups.fax_queue)
        term.close()
    time.sleep(1.5)
    assert not fax_jobs(private_cups, "AtokyakuJiro")


async def fax_waiting_on_a_paused_queue(pilot, app, private_cups, name: str) -> None:
    await agree(pilot)
    await choose(pilot, "indice-only")
    await fill(pilot, PERSON | {"name_kanji": name})
    await submit_form(pilot)
    await pilot.click("#confirm")
    await wait_for(pilot, lambda: app.screen.id == "send")
    await wait_for(pilot, lambda: "一時停止" in shown(app.screen.query_one("#send-status")))


def fax_jobs_waiting(private_cups) -> dict:
    connection = pycups.Connection(host=private_cups.host, port=private_cups.port)
    return connection.getJobs(which_jobs="not-completed")


async def test_a_fax_wait_can_switch_to_printing_at_once(config: Config, private_cups) -> None:
    """#14.5: the FAX queue is paused and fax.max_wait is 10 minutes: F6 works while waiting -- the FAX
    is cancelled and the form printed, with no 10-minute wait first."""
    app = new_app(with_mode(config, "fax", max_wait=600.0))
    async with app.run_test(size=SIZE) as pilot:
        private_cups.lp_command("cupsdisable", private_cups.fax_queue)
        try:
            await fax_waiting_on_a_paused_queue(pilot, app, private_cups, "待機 六郎")
            assert app.screen.query_one("#print-instead", Button).display
            assert "F6" in shown(app.screen.query_one("#send-hint"))
            assert len(fax_jobs_waiting(private_cups)) == 1
            await pilot.press("f6")
            await wait_for(pilot, lambda: app.screen.outcome is not None, timeout=40)
            assert app.screen.outcome.kind == "completed" and app.session.delivered == {"print"}
            await wait_for(pilot, lambda: fax_jobs_waiting(private_cups) == {})
        finally:
            private_cups.lp_command("cupsenable", private_cups.fax_queue)
    time.sleep(1.0)
    assert not fax_jobs(private_cups, "待機六郎")


async def test_a_fax_that_waited_then_went_offers_no_way_out(config: Config, private_cups) -> None:
    """Found walking the kiosk: the FAX waited (paused queue), then went. The screen kept saying "instead
    of waiting, print it yourself (F6)" with that button and "cancel" beside "Next"."""
    app = new_app(with_mode(config, "fax", max_wait=600.0))
    async with app.run_test(size=SIZE) as pilot:
        private_cups.lp_command("cupsdisable", private_cups.fax_queue)
        try:
            await fax_waiting_on_a_paused_queue(pilot, app, private_cups, "再開 八郎")
            assert "F6" in shown(app.screen.query_one("#send-hint"))
        finally:
            private_cups.lp_command("cupsenable", private_cups.fax_queue)
        await wait_for(pilot, lambda: app.screen.outcome is not None, timeout=40)
        assert app.screen.outcome.kind == "completed"
        assert shown(app.screen.query_one("#send-hint")) == ""
        assert not app.screen.query_one("#print-instead", Button).display
        assert not app.screen.query_one("#back", Button).display
        assert app.screen.query_one("#next", Button).display


async def test_a_fax_wait_can_be_left_for_the_review(config: Config, private_cups) -> None:
    """#14.5: Esc while a FAX waits cancels it and goes back to the review, every answer kept."""
    app = new_app(with_mode(config, "fax", max_wait=600.0))
    async with app.run_test(size=SIZE) as pilot:
        private_cups.lp_command("cupsdisable", private_cups.fax_queue)
        try:
            await fax_waiting_on_a_paused_queue(pilot, app, private_cups, "取消 七郎")
            assert shown(app.screen.query_one("#back", Button)) == "送信をやめて確認画面に戻る"
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen.id == "review")
            assert app.session.answers["name_kanji"] == "取消 七郎"
            await wait_for(pilot, lambda: fax_jobs_waiting(private_cups) == {})
        finally:
            private_cups.lp_command("cupsenable", private_cups.fax_queue)
    time.sleep(1.0)
    assert not fax_jobs(private_cups, "取消七郎")


async def test_a_fax_left_paused_names_the_pause(config: Config, private_cups) -> None:
    """#14.5: a FAX that waited out fax.max_wait on a paused queue says so under a FAX heading -- not
    「印刷できませんでした」, and not the line."""
    app = new_app(with_mode(config, "fax", max_wait=3.0))
    async with app.run_test(size=SIZE) as pilot:
        private_cups.lp_command("cupsdisable", private_cups.fax_queue)
        try:
            await fax_waiting_on_a_paused_queue(pilot, app, private_cups, "停止 八郎")
            await wait_for(pilot, lambda: app.screen.outcome is not None, timeout=30)
        finally:
            private_cups.lp_command("cupsenable", private_cups.fax_queue)
        assert app.screen.outcome.kind == "paused"
        assert shown(app.screen.query_one("#send-heading")) == "FAX を送信できませんでした"
        status = shown(app.screen.query_one("#send-status"))
        assert "一時停止したまま" in status and "回線" not in status
