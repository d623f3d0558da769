"""Faxing through a CUPS fax queue, against a real private cupsd + ippeveprinter (no mocks).

The fax queue (PrivateCups(fax_queue=...)) has the printer queue's PPD plus
``*cupsFax: True`` and a virtual device of its own (a site's fax line is not its
printer; one device behind both made a print wait ~10 s on a FAX).  CUPS 2.4's ipp
backend turns the job option ``phone=N`` into the job attribute
``destination-uris`` = ``{destination-uri=tel:N}``; the virtual printer's job
script records it as ``IPP_DESTINATION_URIS`` in the job's ``.env`` sidecar.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devtools.democups import PrivateCups, missing_tools
from indice_kiosk.core.config import ConfigError, from_dict
from indice_kiosk.core.jobs import PrintTarget, check_option, fax_options
from indice_kiosk.cups.client import JobState, PrintError, follow, is_fax_queue, list_jobs, submit
from tests.pdfcheck import make_pdf
from tests.pilot import sent_title

FAX_QUEUE = "kiosk-fax"
PRINTER_QUEUE = "kiosk-printer"
UMIN_FAX = "03-5689-0726"


@pytest.fixture(scope="module")
def private_fax_cups() -> Iterator[PrivateCups]:
    """A private CUPS of this module's own, with a printer queue and a fax queue."""
    missing = missing_tools()
    if missing:
        pytest.fail(f"CUPS test tools not installed: {', '.join(missing)}")
    pc = PrivateCups(keep_jobs=True, fax_queue=FAX_QUEUE, queue=PRINTER_QUEUE)
    pc.start()
    try:
        yield pc
    finally:
        pc.stop()


def fax_target(pc: PrivateCups) -> PrintTarget:
    assert pc.fax_queue is not None
    return PrintTarget(server=pc.server, queue=pc.fax_queue, timeout=5.0)


def printer_target(pc: PrivateCups) -> PrintTarget:
    return PrintTarget(server=pc.server, queue=pc.queue, timeout=5.0)


def received_env_by_title(pc: PrivateCups, title: str, timeout: float = 10.0) -> dict[str, str]:
    """The IPP_* environment of the job the virtual printer got with job-name ``title``
    (the printer's job id differs from CUPS's, so the title is the key)."""
    deadline = time.monotonic() + timeout
    while True:
        for path in reversed(pc.received()):
            if not Path(str(path) + ".env").exists():
                continue
            env = pc.received_env(path)
            if sent_title(env) == title:
                return env
        if time.monotonic() > deadline:
            raise AssertionError(f"printer never received a job named {title!r}")
        time.sleep(0.05)


def jobs_on(pc: PrivateCups) -> int:
    """How many jobs the server knows (active and history): "none was created" is an unchanged count."""
    return len(list_jobs(PrintTarget(server=pc.server, queue="", timeout=5.0)))


def fax_and_receive(pc: PrivateCups, target: PrintTarget, options: dict[str, str]) -> dict[str, str]:
    """Submit a one-page PDF with ``options``, follow it to COMPLETED, return the .env."""
    title = f"INDICE fax test-{uuid.uuid4()}"
    job_id = submit(target, make_pdf(title), title=title, options=options)
    statuses = list(follow(target, job_id, interval=0.1, max_wait=30.0))
    assert statuses and statuses[-1].state == JobState.COMPLETED, statuses[-1:]
    return received_env_by_title(pc, title)


# ----------------------------------------------------------------- fax_options


def test_fax_options_umin_number() -> None:
    assert fax_options(UMIN_FAX) == {"phone": "0356890726"}
    assert fax_options(UMIN_FAX, dial_prefix="0") == {"phone": "00356890726"}


def test_fax_options_keeps_digits_only() -> None:
    assert fax_options("03 5689 0726") == {"phone": "0356890726"}
    assert fax_options("(03) 5689-0726") == {"phone": "0356890726"}
    assert fax_options("03.5689.0726\n") == {"phone": "0356890726"}
    assert fax_options("+81-3-5689-0726") == {"phone": "81356890726"}
    assert fax_options("0356890726", dial_prefix="0-") == {"phone": "00356890726"}
    assert fax_options("0356890726", option="faxnumber") == {"faxnumber": "0356890726"}


def test_fax_options_keeps_leading_zeros_as_text() -> None:
    value = fax_options("000123")["phone"]
    assert value == "000123"
    assert isinstance(value, str)


@pytest.mark.parametrize("number", ["", "   ", "---", "abc", "ＦＡＸ"])
def test_fax_options_no_digits(number: str) -> None:
    with pytest.raises(ValueError):
        fax_options(number)


def test_fax_options_prefix_alone_is_not_a_number() -> None:
    with pytest.raises(ValueError):
        fax_options("", dial_prefix="000000")


@pytest.mark.parametrize("number", ["12345", "1-2-3", "03"])
def test_fax_options_too_short(number: str) -> None:
    with pytest.raises(ValueError):
        fax_options(number)
    assert fax_options(number.replace("-", ""), dial_prefix="0" * 6)  # long enough with the prefix


def test_fax_options_refuses_full_width_digits() -> None:
    # Dropping them would dial a different number ("03-５６８９-0726" -> "030726").
    with pytest.raises(ValueError):
        fax_options("03-５６８９-0726")
    with pytest.raises(ValueError):
        fax_options("０３５６８９０７２６")
    with pytest.raises(ValueError):
        fax_options(UMIN_FAX, dial_prefix="０")


def test_fax_queue_must_differ_from_printer_queue() -> None:
    with pytest.raises(ValueError):
        PrivateCups(queue="same", fax_queue="same")


# ------------------------------------------------------------ real CUPS tests


def test_is_fax_queue(private_fax_cups: PrivateCups) -> None:
    assert private_fax_cups.fax_queue == FAX_QUEUE
    assert private_fax_cups.queue == PRINTER_QUEUE
    assert is_fax_queue(fax_target(private_fax_cups)) is True
    assert is_fax_queue(printer_target(private_fax_cups)) is False


def test_is_fax_queue_unknown_queue(private_fax_cups: PrivateCups) -> None:
    target = PrintTarget(server=private_fax_cups.server, queue="no-such-fax", timeout=5.0)
    with pytest.raises(PrintError) as err:
        is_fax_queue(target)
    assert err.value.kind == "no-queue"


def test_fax_queue_ppd_has_cups_fax(private_fax_cups: PrivateCups) -> None:
    ppd = private_fax_cups.root / "ppd" / f"{FAX_QUEUE}.ppd"
    lines = ppd.read_text().splitlines()
    assert lines[0].startswith("*PPD-Adobe:")
    assert "*cupsFax: True" in lines


def test_umin_number_arrives_exactly(private_fax_cups: PrivateCups) -> None:
    env = fax_and_receive(private_fax_cups, fax_target(private_fax_cups), fax_options(UMIN_FAX))
    assert env["IPP_DESTINATION_URIS"] == "{destination-uri=tel:0356890726}"


def test_dial_prefix_arrives_exactly(private_fax_cups: PrivateCups) -> None:
    options = fax_options(UMIN_FAX, dial_prefix="0")
    assert options == {"phone": "00356890726"}
    env = fax_and_receive(private_fax_cups, fax_target(private_fax_cups), options)
    # Both leading zeros survive: no octal or integer conversion on the way.
    assert env["IPP_DESTINATION_URIS"] == "{destination-uri=tel:00356890726}"


# What the kiosk relies on is that it never *sends* an unsafe value; what CUPS does with one is CUPS's
# business and changes between updates (Debian 12's cups-daemon 2.4.2-3+deb12u10 segfaults on a job whose
# option value holds a space; earlier updates cut the value at the space, so "03 5689 0726" dialled "03").
# So no test here sends one to a cupsd: they check that submit refuses it before CUPS is contacted.

UNSAFE_VALUES = ["03 5689 0726", "0356890726 ", "03\t5689", "0356890726\n", "03\x005689", "03\u30005689",
                 '"0356890726"', "'0356890726'", "03\\5689", "{0356890726}", "０３５６８９０７２６", ""]


@pytest.mark.parametrize("value", UNSAFE_VALUES)
def test_submit_refuses_an_unsafe_option_value_before_cups_sees_it(private_fax_cups: PrivateCups,
                                                                   value: str) -> None:
    target = fax_target(private_fax_cups)
    before = jobs_on(private_fax_cups)
    with pytest.raises(PrintError) as err:
        submit(target, make_pdf("never sent"), options={"phone": value})
    assert err.value.kind == "other"
    if value.strip():
        assert value.strip() not in str(err.value)  # the value may be a person's data: never quoted
    assert jobs_on(private_fax_cups) == before  # no job was created
    assert is_fax_queue(target)  # and the server still answers


@pytest.mark.parametrize("name", ["ph one", "phone\n", "", "電話", "phone=1"])
def test_submit_refuses_an_unsafe_option_name(private_fax_cups: PrivateCups, name: str) -> None:
    before = jobs_on(private_fax_cups)
    with pytest.raises(PrintError):
        submit(fax_target(private_fax_cups), make_pdf("never sent"), options={name: "0356890726"})
    assert jobs_on(private_fax_cups) == before


def test_printer_queue_still_prints(private_fax_cups: PrivateCups) -> None:
    env = fax_and_receive(private_fax_cups, printer_target(private_fax_cups), {})
    assert "IPP_DESTINATION_URIS" not in env


def test_the_fax_line_is_a_device_of_its_own(private_fax_cups: PrivateCups) -> None:
    # ippeveprinter takes one job at a time and answers the next "busy"; CUPS's ipp backend then sleeps
    # 10 s. With one device behind both queues a print waited on a FAX (bench/load.py measured 11-31 s).
    pc = private_fax_cups
    for target, spool, other in ((fax_target(pc), pc.fax_spool, pc.spool),
                                 (printer_target(pc), pc.spool, pc.fax_spool)):
        title = f"device check {uuid.uuid4()}"
        job_id = submit(target, make_pdf(title), title=title,
                        options=fax_options(UMIN_FAX) if spool == pc.fax_spool else None)
        assert list(follow(target, job_id, interval=0.1, max_wait=30.0))[-1].state == JobState.COMPLETED
        received_env_by_title(pc, title)
        arrived = [p for p in pc.received() if Path(str(p) + ".env").exists()
                   and sent_title(pc.received_env(p)) == title]
        assert [p.parent for p in arrived] == [spool], (arrived, other)
    assert pc.fax_device_uri != pc.printer_uri


def test_stop_cleans_fax_setup() -> None:
    pc = PrivateCups(fax_queue=FAX_QUEUE)
    pc.start()
    try:
        root = pc.root
        pids = [p.pid for p in (pc._dbus, pc._cupsd, pc._printer) if p is not None]
        assert len(pids) == 3
        assert is_fax_queue(fax_target(pc)) is True
    finally:
        pc.stop()
    assert not root.exists()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


# ------------------------------------------- what kiosk.toml lets through is safe to send

FAX_SETTING_CHARS = "0123456789０１２-－ ()+#*\t\n\u3000\"'\\{}=ab電話_"


@settings(max_examples=400, deadline=None)
@given(number=st.one_of(st.from_regex(r"\A[0-9-]{9,14}\Z"), st.text(FAX_SETTING_CHARS, max_size=16)),
       prefix=st.one_of(st.from_regex(r"\A[0-9]{0,4}\Z"), st.text(FAX_SETTING_CHARS, max_size=5)),
       option=st.one_of(st.just("phone"), st.from_regex(r"\A[A-Za-z0-9_-]{1,8}\Z"),
                        st.text(FAX_SETTING_CHARS, min_size=1, max_size=8)))
def test_every_fax_setting_kiosk_toml_accepts_gives_digits_only(number: str, prefix: str,
                                                                 option: str) -> None:
    try:
        config = from_dict({"delivery": {"mode": "fax"},
                            "fax": {"number": number, "dial_prefix": prefix, "number_option": option,
                                    "agreement": "agreed with UMIN"}})
    except ConfigError:
        return
    options = fax_options(config.fax.number, config.fax.dial_prefix, config.fax.number_option)
    for name, value in options.items():
        check_option(name, value)  # submit would send it
        assert value.isascii() and value.isdigit()


@pytest.mark.parametrize(("key", "value"), [
    ("fax.number_option", "pho ne"), ("fax.number_option", "phone\n"), ("fax.number_option", "電話"),
    ("fax.number", "03 5689 0726"), ("fax.number", "03-5689-0726\n"), ("fax.dial_prefix", "0 "),
    ("fax.dial_prefix", "０"), ("fax.queue", "indice fax"), ("fax.queue", "fax\x07"), ("cups.queue", "a\tb"),
    ("cups.queue", "printer\u3000a"), ("cups.queue", "printer#1"),
])
def test_kiosk_toml_refuses_a_space_or_control_character_in_what_reaches_cups(key: str, value: str) -> None:
    section, _, name = key.partition(".")
    with pytest.raises(ConfigError) as err:
        from_dict({"delivery": {"mode": "fax"}, section: {name: value}})
    assert err.value.key == key


@settings(max_examples=300, deadline=None)
@given(queue=st.text(max_size=12))
def test_every_queue_name_kiosk_toml_accepts_is_printable_without_spaces(queue: str) -> None:
    try:
        config = from_dict({"delivery": {"mode": "print+fax"}, "cups": {"queue": queue},
                            "fax": {"queue": queue + "-fax", "agreement": "agreed with UMIN"}})
    except ConfigError:
        return
    for name in (config.cups.queue, config.fax.queue):
        assert name and all(ch.isprintable() and not ch.isspace() for ch in name)
