"""Nothing of a session survives it.

For each way a session can end, a session whose fields hold a unique canary prints to the private CUPS
and ends; the canary must have reached the virtual printer (so nothing can pass by printing nothing), and
must then be nowhere else: not in CUPS's job history or attributes, and — checked once for all endings,
by the last test in this file — not in any file under /tmp, /var/tmp, $HOME, the project directory or the
private CUPS's spool/cache/state/log directories, in UTF-8 or UTF-16 (PDFs are also searched as text,
since their streams are compressed). The virtual printer's own spool is the paper, and is left out.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
import re
import shutil
import signal
import sys
import time
from pathlib import Path

import cups as pycups
import pytest

from indice_kiosk.core import jobs
from indice_kiosk.core.config import Config
from indice_kiosk.core.text import t
from indice_kiosk.walkup.ending import NOTICE_VARIABLE, NextSession
from tests.pilot import (
    PERSON,
    SIZE,
    ManualClock,
    agree,
    choose,
    fill,
    new_app,
    pdf_text,
    print_and_wait,
    start_over,
    submit_form,
    to_review,
    wait_for,
)
from tests.terminal import LogSocket, Terminal, drive_to_send, start_real_process, wait_dead

ROOT = Path(__file__).resolve().parent.parent
STARTED = time.time()
CANARIES: dict[str, str] = {}  # ending -> canary


def canary_for(ending: str) -> str:
    # Letters only, so one canary fits the ID, the names, the e-mail and the free-text fields alike.
    token = "cn" + "".join(random.choices("bcdfghjkmnpqrstvwxz", k=10))
    CANARIES[ending] = token
    return token


def canary_answers(token: str) -> dict[str, str]:
    return PERSON | {
        "umin_id": f"{token}-cn",
        "name_kanji": f"山田{token}",
        "name_roman": f"Taro {token}",
        "institution": f"{token}病院",
        "department": token,
        "position": token,
        "email": f"{token}@example.ac.jp",
    }


def reached_printer(private_cups, token: str) -> bool:
    return any(token in pdf_text(p.read_bytes()) for p in private_cups.received())


def assert_cups_history_clean(private_cups, token: str) -> None:
    connection = pycups.Connection(host=private_cups.host, port=private_cups.port)
    jobs = connection.getJobs(which_jobs="all", requested_attributes=["all"])
    for job_id in jobs:
        attributes = connection.getJobAttributes(job_id)
        assert token not in repr(attributes), f"job {job_id} attributes hold the canary"


async def session_until_done(pilot, token: str) -> None:
    await agree(pilot)
    await choose(pilot, "indice-only")
    await fill(pilot, canary_answers(token))
    await submit_form(pilot)
    await print_and_wait(pilot)
    assert pilot.app.screen.outcome.kind == "completed"
    await pilot.click("#next")
    await wait_for(pilot, lambda: pilot.app.screen.id == "done")


async def fill_then_disagree(pilot, token: str) -> None:
    """Agree, fill the form with the canary, go back to the consent screen and press "I do not agree"."""
    await agree(pilot)
    await choose(pilot, "indice-only")
    await fill(pilot, canary_answers(token))
    await pilot.press("escape")
    await wait_for(pilot, lambda: pilot.app.screen.id == "route")
    await pilot.press("escape")
    await wait_for(pilot, lambda: pilot.app.screen.id == "consent")
    await pilot.click("#disagree")


def assert_wiped(app) -> None:
    assert app.session.is_empty and app.session.answers == {} and app.session.document is None
    assert len(app.screen_stack) <= 2  # welcome and at most a notice: the step screens are gone


async def test_ending_finish(config: Config, private_cups) -> None:
    token = canary_for("finish")
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await session_until_done(pilot, token)
        await pilot.click("#check-signed")
        await pilot.click("#check-faxed")
        await pilot.click("#finish")
        await wait_for(pilot, lambda: app.screen.id == "welcome")
        assert_wiped(app)
    assert reached_printer(private_cups, token)
    assert_cups_history_clean(private_cups, token)


async def test_ending_start_over(config: Config, private_cups) -> None:
    token = canary_for("start over")
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await agree(pilot)
        await choose(pilot, "indice-only")
        await fill(pilot, canary_answers(token))
        await submit_form(pilot)
        await print_and_wait(pilot)
        assert app.screen.outcome.kind == "completed"
        await start_over(pilot)  # printed, and then: start over
        assert_wiped(app)
        await pilot.pause(0.3)
        assert not in_memory(token), "the canary is still held by a live object after the wipe"
    assert reached_printer(private_cups, token)
    assert_cups_history_clean(private_cups, token)


async def test_start_over_leaves_no_drawn_text(config: Config) -> None:
    """What was drawn on the screen (rendered lines in Rich's and Textual's caches) goes with the wipe."""
    token = canary_for("drawn")
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await agree(pilot)
        await choose(pilot, "indice-only")
        await fill(pilot, canary_answers(token))
        await submit_form(pilot)  # the review screen draws every answer
        assert in_memory(token), "the check cannot see the answers even while they are shown"
        await start_over(pilot)
        await pilot.pause(0.3)
        assert not in_memory(token), "the canary is still held by a live object after the wipe"


async def test_the_wipe_finds_every_render_cache(config: Config) -> None:
    """render_caches() walks the modules (fast); the whole heap is the slow, sure way to find them all."""
    import functools
    import gc

    from indice_kiosk.paper import fonts
    from indice_kiosk.privacy import RENDER_CACHE_PACKAGES, render_caches

    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await to_review(pilot)
        def drawing(module: str) -> bool:
            return any(module == package or module.startswith(package + ".")
                       for package in RENDER_CACHE_PACKAGES)

        on_heap = {id(obj) for obj in gc.get_objects() if isinstance(obj, functools._lru_cache_wrapper)
                   and drawing(obj.__module__ or "")}
        assert len(on_heap) > 20
        assert {id(cache) for cache in render_caches()} == on_heap
        # Not the parsed font: public data, parsed once per process (reloading it every session cost
        # ~15 MB of fragmented heap and the first PDF's speed).
        assert id(fonts.load_font) not in on_heap
        assert fonts.load_font.cache_info().currsize == 1
        await start_over(pilot)
        await app.wipe_finished()
        assert fonts.load_font.cache_info().currsize == 1


def in_memory(token: str) -> list[str]:
    """Every live object that still holds ``token``: strings, bytes (UTF-8 or UTF-16) and bytearrays are
    found through whatever refers to them -- dict keys and values, list, tuple and set items, instance
    attributes and __slots__ (Rich's Segment and Text, Textual's Content and Strip), closures, and the
    dicts behind functools caches (their keys too) -- by walking every object the collector tracks.

    The test's own frames (which hold the token to look for) are left out.
    """
    import gc
    import types

    ours = set()
    frame = sys._getframe()
    while frame is not None:
        ours.add(id(frame))
        frame = frame.f_back
    gc.collect()
    raw, wide = token.encode(), token.encode("utf-16-le")
    held = []
    for obj in gc.get_objects():
        if id(obj) in ours or (isinstance(obj, types.FrameType) and "/tests/" in obj.f_code.co_filename):
            continue
        for ref in gc.get_referents(obj):
            if ref is token:
                continue
            if (isinstance(ref, str) and token in ref) or (
                    isinstance(ref, bytes | bytearray) and (raw in ref or wide in ref)):
                held.append(f"{type(obj).__module__}.{type(obj).__qualname__}: {str(ref)[:60]!r}")
                break
    return held


async def test_ending_disagree(config: Config, private_cups) -> None:
    token = canary_for("disagree")
    # A session cannot print and then disagree, so the canary is printed in one session and typed again
    # in a second one that ends at "I do not agree" (after going back to the consent screen).
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await session_until_done(pilot, token)
        await pilot.click("#check-signed")
        await pilot.click("#check-faxed")
        await pilot.click("#finish")
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await fill_then_disagree(pilot, token)
        await wait_for(pilot, lambda: app.screen.id == "notice")
        assert_wiped(app)
    assert reached_printer(private_cups, token)
    assert_cups_history_clean(private_cups, token)


async def test_a_session_that_held_a_person_ends_the_program_for_a_fresh_start(config: Config) -> None:
    """As the command runs it, the kiosk ends after each person (cli.run then starts it again, fresh memory:
    tests/test_process_memory.py): the wipe has happened first, and what to say next travels with it."""
    token = canary_for("fresh start")
    app = new_app(config, fresh_process_per_session=True)
    async with app.run_test(size=SIZE) as pilot:
        await fill_then_disagree(pilot, token)
        await wait_for(pilot, lambda: app.return_value is not None)
        assert app.session.is_empty and app.session.answers == {}
        await pilot.pause(0.3)
        assert not in_memory(token), "the canary is still held by a live object after the wipe"
    assert app.return_value == NextSession("consent.disagreed", "ja", {})


async def test_a_session_that_held_nothing_goes_back_to_welcome_in_the_same_program(config: Config) -> None:
    """Nobody agreed to anything: no one's data came in, so no fresh start (and no blank screen) is needed."""
    app = new_app(config, fresh_process_per_session=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.screen.id == "welcome")
        await pilot.click("#start")
        await wait_for(pilot, lambda: app.screen.id == "consent")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen.id == "welcome")
        await pilot.pause(0.2)
        assert app.return_value is None and app.is_running


async def test_the_program_started_again_says_the_last_sessions_notice(config: Config) -> None:
    """The notice the ending chose (here: the person did not agree, in English) is said by the next program,
    from its environment, once."""
    environ = NextSession("consent.disagreed", "en", {}).environment({"TERM": "xterm"})
    notice = NextSession.notice_from(environ)
    assert notice == NextSession("consent.disagreed", "en", {}) and NOTICE_VARIABLE not in environ
    assert NextSession.notice_from(environ) is None  # said once
    app = new_app(config, notice=notice)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.screen.id == "notice")
        assert app.screen.query_one("#notice-text").text == t("en", "consent.disagreed")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.id == "welcome")
    # A notice that cannot be read (or names no text) is left unsaid rather than stopping the start.
    assert NextSession.notice_from({NOTICE_VARIABLE: "{not json"}) is None
    app = new_app(config, notice=NextSession("no.such.key", "en", {}))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.screen.id == "welcome")
        await pilot.pause(0.2)
        assert app.screen.id == "welcome"


async def test_ending_idle(config: Config, private_cups) -> None:
    token = canary_for("idle")
    clock = ManualClock()
    app = new_app(config, monotonic=clock)
    async with app.run_test(size=SIZE) as pilot:
        await session_until_done(pilot, token)
        clock.advance(config.kiosk.idle_timeout + 1)  # the person walked away
        await wait_for(pilot, lambda: app.screen.id == "welcome", timeout=5)
        assert_wiped(app)
        await pilot.pause(0.3)
        assert not in_memory(token), "the canary is still held by a live object after the idle wipe"
    assert reached_printer(private_cups, token)
    assert_cups_history_clean(private_cups, token)


async def test_ending_unexpected_exception(config: Config, private_cups) -> None:
    token = canary_for("exception")
    app = new_app(config)
    with pytest.raises(ZeroDivisionError):
        async with app.run_test(size=SIZE) as pilot:
            await session_until_done(pilot, token)
            app.call_later(lambda: 1 / 0)  # an error nobody planned for, inside the app
            await pilot.pause(0.5)
    assert app.session.is_empty and app.session.answers == {}
    assert not in_memory(token), "the screens still hold the canary after the error"  # the one wipe ran
    assert reached_printer(private_cups, token)
    assert_cups_history_clean(private_cups, token)


async def test_ending_quit(config: Config, private_cups) -> None:
    """ctrl+q (over SSH, or --allow-quit): the same wipe as every other ending, then the program closes."""
    token = canary_for("quit")
    app = new_app(config, allow_quit=True)
    async with app.run_test(size=SIZE) as pilot:
        await session_until_done(pilot, token)
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: app.screen.id == "confirm")
        await pilot.click("#confirm-yes")
        await pilot.pause(0.3)
    assert app.session.is_empty and app.session.answers == {}
    assert not in_memory(token), "the screens still hold the canary after quitting"
    assert reached_printer(private_cups, token)
    assert_cups_history_clean(private_cups, token)


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_an_unexpected_error_is_reported_in_the_persons_language(
        config: Config, lang: str, capsys: pytest.CaptureFixture[str]) -> None:
    """What is left on the terminal after a crash is one sentence from the catalogue, in the language the
    person was using -- not Textual's report (it prints every local variable, answers included)."""
    app = new_app(dataclasses.replace(config, kiosk=dataclasses.replace(config.kiosk, language=lang)))
    with pytest.raises(ZeroDivisionError):
        async with app.run_test(size=SIZE) as pilot:
            await agree(pilot)
            app.call_later(lambda: 1 / 0)
            await pilot.pause(0.5)
    left = "".join(capsys.readouterr().err.split())  # compared without the line breaks of its wrapping
    assert left == "".join(t(lang, "app.crashed").split())


def drive_real_process_to_send(term: Terminal, settings: Path, token: str) -> int:
    pid = start_real_process(term, settings)
    drive_to_send(term, canary_answers(token))
    return pid


def drive_real_process_to_done(term: Terminal, settings: Path, token: str) -> int:
    pid = drive_real_process_to_send(term, settings, token)
    term.wait_for("印刷が終わりました", timeout=40)
    term.keys("Enter")
    term.wait_for("FAX を忘れずに")
    return pid


@pytest.mark.system
@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM, signal.SIGINT])
def test_ending_signal_to_a_real_process(private_cups, tmp_path: Path, sig: signal.Signals) -> None:
    """The SSH link drops (SIGHUP) or the service manager stops the kiosk (SIGTERM): wiped, then gone."""
    if not shutil.which("tmux"):
        pytest.fail("tmux is not installed (scripts/test installs it)")
    token = canary_for(sig.name)
    settings = tmp_path / "kiosk.toml"
    settings.write_text(f'[cups]\nserver = "{private_cups.server}"\nqueue = "{private_cups.queue}"\n',
                        encoding="utf-8")
    term = Terminal(f"privacy-{sig.name.lower()}")
    try:
        pid = drive_real_process_to_done(term, settings, token)
        # A crash must not leave a core file holding the answers.
        limits = Path(f"/proc/{pid}/limits").read_text()
        assert re.search(r"Max core file size\s+0\s+0", limits), limits
        os.kill(pid, sig)
        wait_dead(term, sig.name)
        assert token not in term.screen(history=True)
    finally:
        term.close()
    assert reached_printer(private_cups, token)
    assert_cups_history_clean(private_cups, token)


def kiosk_jobs_of(private_cups, pid: int) -> dict[int, int]:
    """job id -> job-state of every job on the private CUPS that the kiosk process ``pid`` sent."""
    connection = pycups.Connection(host=private_cups.host, port=private_cups.port)
    found = {}
    listed = connection.getJobs(which_jobs="all", requested_attributes=["job-id", "job-name", "job-state"])
    for job_id, attributes in listed.items():
        _title, tag = jobs.split_job_name(attributes.get("job-name", ""))
        if tag is not None and tag.pid == pid:
            found[job_id] = attributes["job-state"]
    return found


@pytest.mark.system
def test_a_killed_kiosks_waiting_job_never_goes_out(private_cups, tmp_path: Path) -> None:
    """SIGKILL (or the OOM killer, or a power cut) gives no wipe: the person's job waits on a paused queue
    and would print once the queue resumes, with no one there. The next kiosk on this machine removes it
    (indice_kiosk/cups/leftovers.py): after the restart and the resume nothing prints, and nothing of the
    person is left in CUPS's spool or history."""
    token = canary_for("SIGKILL")
    settings = tmp_path / "kiosk.toml"
    settings.write_text(f'[cups]\nserver = "{private_cups.server}"\nqueue = "{private_cups.queue}"\n'
                        "max_wait = 600.0\n", encoding="utf-8")
    first, second = Terminal("privacy-sigkill"), Terminal("privacy-restart")
    private_cups.lp_command("cupsdisable", private_cups.queue)
    try:
        pid = drive_real_process_to_send(first, settings, token)
        first.wait_for("一時停止", timeout=30)
        waiting = kiosk_jobs_of(private_cups, pid)
        assert list(waiting.values()) == [3], waiting  # one job, pending: CUPS has the person's PDF
        os.kill(pid, signal.SIGKILL)
        wait_dead(first, "SIGKILL")
        # The hazard is real: the dead kiosk's job still waits in CUPS, its document in the spool.
        assert kiosk_jobs_of(private_cups, pid) == waiting
        (job_id,) = waiting
        spooled = [p for p in (private_cups.root / "spool").iterdir() if p.name.startswith(f"d{job_id:05d}")]
        assert spooled, "the waiting job's document is not in CUPS's spool"

        log = LogSocket(tmp_path)
        start_real_process(second, settings, log)  # the unit's restart, or the next operator's login
        deadline = time.monotonic() + 20
        while kiosk_jobs_of(private_cups, pid):
            if time.monotonic() > deadline:
                raise AssertionError(f"the restarted kiosk left the dead kiosk's job {waiting}; its log:\n"
                                     f"{log.text()}")
            time.sleep(0.2)
    finally:
        private_cups.lp_command("cupsenable", private_cups.queue)
        first.close()
    try:
        # The queue runs again: what was waiting would go now. Wait until CUPS has nothing left to send.
        connection = pycups.Connection(host=private_cups.host, port=private_cups.port)
        deadline = time.monotonic() + 10
        while connection.getJobs(which_jobs="not-completed") and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)
        assert not reached_printer(private_cups, token)
        assert not [p for p in (private_cups.root / "spool").iterdir() if p.name.startswith(f"d{job_id:05d}")]
        assert not find_canaries([private_cups.root / "spool"], [], {"SIGKILL": token})
        assert_cups_history_clean(private_cups, token)
        assert "はじめる" in second.screen()  # the new kiosk runs on, untouched
    finally:
        second.close()


# --- the one search for every canary, after all the endings above ------------------------------------

def _files(roots: list[Path], skip: list[Path]) -> list[Path]:
    found = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            here = Path(dirpath)
            dirnames[:] = [d for d in dirnames if not any((here / d) == s for s in skip)]
            for name in filenames:
                path = here / name
                try:
                    info = path.lstat()
                except OSError:
                    continue
                # Only what changed while these sessions ran can hold their data; big files are toolchains.
                recent = max(info.st_mtime, info.st_ctime) >= STARTED - 1
                if path.is_file() and recent and info.st_size < 64e6:
                    found.append(path)
    return found


def find_canaries(roots: list[Path], skip: list[Path], canaries: dict[str, str]) -> list[str]:
    needles = {ending: [token.encode("utf-8"), token.encode("utf-16-le"), token.encode("utf-16-be")]
               for ending, token in canaries.items()}
    hits = []
    for path in _files(roots, skip):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        for ending, patterns in needles.items():
            if any(p in data for p in patterns) or (
                    data.startswith(b"%PDF") and canaries[ending] in pdf_text(data)):
                hits.append(f"{ending}: {path}")
    return hits


def test_the_search_finds_what_is_there(tmp_path: Path) -> None:
    """The search below must be able to fail: plant canaries in UTF-16 and inside a compressed PDF."""
    from indice_kiosk.paper import document
    from indice_kiosk.paper.fonts import DEFAULT_FONT_PATH

    plain, pdf_only = "cnplantedutf", "cnplantedpdf"
    (tmp_path / "notes.txt").write_bytes(f"x {plain} y".encode("utf-16-le"))
    application = document.sample_application()
    application.answers["institution"] = pdf_only
    pdf = document.render_application(application, font_path=DEFAULT_FONT_PATH, fax_number="03-5689-0726",
                                      page_url="http://www.umin.ac.jp/")
    assert pdf_only.encode() not in pdf  # compressed: a byte search alone would miss it
    (tmp_path / "leak.pdf").write_bytes(pdf)
    hits = find_canaries([tmp_path], [], {"utf16": plain, "pdf": pdf_only})
    assert sorted(h.split(":")[0] for h in hits) == ["pdf", "utf16"]


def test_zz_no_canary_left_anywhere(private_cups) -> None:
    assert len(CANARIES) >= 8, f"the endings above did not all run: {sorted(CANARIES)}"
    roots = [Path("/tmp"), Path("/var/tmp"), Path.home(), ROOT, private_cups.root]
    skip = [private_cups.spool, Path("/proc"), Path("/sys")]
    hits = find_canaries(roots, skip, CANARIES)
    assert not hits, "session data left on disk:\n" + "\n".join(hits)
    for token in CANARIES.values():
        assert_cups_history_clean(private_cups, token)


async def test_no_field_value_reaches_a_log(config: Config, private_cups,
                                            caplog: pytest.LogCaptureFixture) -> None:
    """Every log line of a whole session, at every level: events and job ids, never what was typed."""
    token = canary_for("log")
    caplog.set_level(logging.DEBUG)
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await session_until_done(pilot, token)
        await pilot.click("#check-signed")
        await pilot.click("#check-faxed")
        await pilot.click("#finish")
        await wait_for(pilot, lambda: app.screen.id == "welcome")
    logged = "\n".join(f"{record.name} {record.getMessage()}" for record in caplog.records)
    assert "submitted" in logged and "session wiped" in logged  # the session was logged...
    for value in canary_answers(token).values():
        assert value not in logged  # ...and nothing a person typed
    assert token not in logged
