"""indice_kiosk.cups.client against a real private cupsd + ippeveprinter (no mocks)."""

# The fixtures are imported so this file also runs without tests/conftest.py;
# pytest injects them by parameter name, which ruff reads as a redefinition.


from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import cups
import pypdf
import pytest

from devtools.democups import PrivateCups
from indice_kiosk.core.jobs import PrintTarget, cups_server, job_name, this_kiosk
from indice_kiosk.cups.client import (
    JobState,
    JobStatus,
    PrintError,
    follow,
    job_status,
    parse_server,
    purge,
    queue_info,
    submit,
)
from tests.pdfcheck import make_pdf


def pdf_text(path: Path) -> str:
    return "".join(page.extract_text() or "" for page in pypdf.PdfReader(path).pages)


def find_received(pc: PrivateCups, marker: str, timeout: float = 10.0) -> Path:
    """The document (with its .env sidecar) the virtual printer got that contains marker."""
    deadline = time.monotonic() + timeout
    while True:
        for path in reversed(pc.received()):
            if not Path(str(path) + ".env").exists():
                continue
            try:
                if marker in pdf_text(path):
                    return path
            except pypdf.errors.PdfReadError:
                continue
        if time.monotonic() > deadline:
            raise AssertionError(f"printer never received a document with {marker!r}")
        time.sleep(0.1)


def run_to_end(target: PrintTarget, job_id: int, max_wait: float = 30.0) -> JobStatus:
    statuses = list(follow(target, job_id, interval=0.1, max_wait=max_wait))
    assert statuses, "follow yielded nothing"
    return statuses[-1]


def all_job_ids(pc: PrivateCups) -> set[int]:
    """getJobs(which_jobs='all') in a thread of its own (one connection per thread)."""
    out: list[set[int]] = []

    def work() -> None:
        cups.setServer(pc.server)
        conn = cups.Connection(host=pc.host, port=pc.port)
        out.append(set(conn.getJobs(which_jobs="all")))

    t = threading.Thread(target=work, daemon=True)
    t.start()
    t.join(10)
    assert out, "getJobs did not answer"
    return out[0]


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A real fault: a loopback socket that accepts TCP connections (backlog) but
    never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


# ----------------------------------------------------------------- pure helpers


def test_parse_server() -> None:
    assert parse_server("127.0.0.1:6310") == ("127.0.0.1", 6310)
    assert parse_server("printhost") == ("printhost", None)
    assert parse_server("[::1]:631") == ("::1", 631)
    assert parse_server("/run/cups/cups.sock") == ("/run/cups/cups.sock", None)
    with pytest.raises(PrintError) as err:
        parse_server("host:notaport")
    assert err.value.kind == "other"


def test_server_rule_is_the_readmes_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """README, "Settings": ``cups.server``, else ``$CUPS_SERVER``, else nothing named (None: libcups'
    default; ./scripts/kiosk then starts its demo)."""
    readme_file = Path(__file__).resolve().parent.parent / "README.md"
    readme = " ".join(readme_file.read_text(encoding="utf-8").split())
    assert "The CUPS server is `cups.server`, else `$CUPS_SERVER`, else this machine's own CUPS" in readme
    monkeypatch.setenv("CUPS_SERVER", "envhost:7000")
    assert cups_server("cfg:631") == "cfg:631"  # kiosk.toml wins over the environment
    assert cups_server("  cfg:631 ") == "cfg:631"
    assert cups_server("") == "envhost:7000"
    assert cups_server("   ") == "envhost:7000"
    monkeypatch.delenv("CUPS_SERVER")
    assert cups_server("") is None
    assert cups_server("", {"CUPS_SERVER": " e:1 "}) == "e:1"
    # No second rule below it: PrintTarget(server=None) means libcups' own default, not a second look at
    # the environment.
    monkeypatch.setenv("CUPS_SERVER", "envhost:7000")
    assert parse_server(None) == (None, None)


def test_kiosk_and_console_use_the_one_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    from indice_kiosk.console import report as operator
    from indice_kiosk.core.config import Config, CupsSettings
    from indice_kiosk.walkup.app import KioskApp

    monkeypatch.setenv("CUPS_SERVER", "envhost:7000")
    configured = Config(cups=CupsSettings(server="cfg:631"))
    assert KioskApp(configured).target.server == "cfg:631"
    assert KioskApp(configured).fax_target.server == "cfg:631"
    assert operator.target_for(configured, "q").server == "cfg:631"
    assert KioskApp(Config()).target.server == "envhost:7000"
    assert operator.target_for(Config(), "q").server == "envhost:7000"
    # Nothing else reads the variable: one rule, in one place.
    root = Path(__file__).resolve().parent.parent
    sources = [*(root / "indice_kiosk").rglob("*.py")]
    readers = sorted(str(path.relative_to(root)) for path in sources
                     if "CUPS_SERVER" in path.read_text(encoding="utf-8"))
    assert readers == ["indice_kiosk/core/jobs.py"]


def test_job_status_finished() -> None:
    assert JobStatus(1, JobState.COMPLETED, (), "").finished
    assert JobStatus(1, JobState.ABORTED, (), "").finished
    assert not JobStatus(1, JobState.PROCESSING, (), "").finished


# ------------------------------------------------------------ real CUPS tests


def test_queue_info(print_target: PrintTarget) -> None:
    info = queue_info(print_target)
    assert info["accepting"] is True
    assert info["state"] in (3, 4)
    assert info["is_shared"] is False
    assert isinstance(info["reasons"], list)


def test_submit_prints_pdf_that_arrives_as_pdf(
    private_cups: PrivateCups, print_target: PrintTarget
) -> None:
    marker = f"KIOSK-{uuid.uuid4().hex[:12]}"
    job_id = submit(print_target, make_pdf(marker))
    assert job_id > 0
    last = run_to_end(print_target, job_id)
    assert last.state == JobState.COMPLETED, last
    assert last.finished

    received = find_received(private_cups, marker)
    assert received.read_bytes().startswith(b"%PDF")
    env = private_cups.received_env(received)
    assert env["IPP_DOCUMENT_FORMAT_SUPPLIED"] == "application/pdf"
    # The name carries this process's tag: how a later kiosk tells a dead kiosk's leftovers (core/jobs.py).
    assert env["IPP_JOB_NAME"] == job_name("INDICE application", this_kiosk())
    # A4 (media-default set on the queue): 210 x 297 mm in hundredths of mm.
    assert "x-dimension=21000" in env["IPP_MEDIA_COL"]
    assert "y-dimension=29700" in env["IPP_MEDIA_COL"]
    purge(print_target, job_id)


def test_options_are_passed(private_cups: PrivateCups, print_target: PrintTarget) -> None:
    marker = f"KIOSK-{uuid.uuid4().hex[:12]}"
    job_id = submit(print_target, make_pdf(marker), options={"copies": "2"})
    assert run_to_end(print_target, job_id).state == JobState.COMPLETED
    env = private_cups.received_env(find_received(private_cups, marker))
    assert env.get("IPP_COPIES") == "2"
    purge(print_target, job_id)


def test_missing_queue_is_no_queue(private_cups: PrivateCups) -> None:
    target = PrintTarget(server=private_cups.server, queue="no-such-queue")
    with pytest.raises(PrintError) as err:
        submit(target, make_pdf("x"))
    assert err.value.kind == "no-queue"
    with pytest.raises(PrintError) as err:
        queue_info(target)
    assert err.value.kind == "no-queue"


def test_rejecting_queue(private_cups: PrivateCups, print_target: PrintTarget) -> None:
    private_cups.lp_command("cupsreject", private_cups.queue)
    try:
        assert queue_info(print_target)["accepting"] is False
        with pytest.raises(PrintError) as err:
            submit(print_target, make_pdf("rejected"))
        assert err.value.kind == "rejecting"
    finally:
        private_cups.lp_command("cupsaccept", private_cups.queue)
    assert queue_info(print_target)["accepting"] is True


def test_cupsd_down_is_unreachable(
    private_cups: PrivateCups, print_target: PrintTarget
) -> None:
    target = PrintTarget(server=print_target.server, queue=print_target.queue, timeout=3.0)
    private_cups.stop_cups()
    try:
        for call in (
            lambda: submit(target, make_pdf("down")),
            lambda: job_status(target, 1),
            lambda: queue_info(target),
        ):
            started = time.monotonic()
            with pytest.raises(PrintError) as err:
                call()
            assert err.value.kind == "unreachable"
            assert time.monotonic() - started < target.timeout + 1.0
    finally:
        private_cups.start_cups()
    assert queue_info(target)["accepting"] is True


def test_silent_server_times_out(silent_server: str) -> None:
    target = PrintTarget(server=silent_server, queue="kiosk-printer", timeout=1.5)
    started = time.monotonic()
    with pytest.raises(PrintError) as err:
        job_status(target, 1)
    elapsed = time.monotonic() - started
    assert err.value.kind == "unreachable"
    assert elapsed < target.timeout + 2.0
    started = time.monotonic()
    with pytest.raises(PrintError) as err:
        submit(target, make_pdf("silent"))
    assert err.value.kind == "unreachable"
    assert time.monotonic() - started < target.timeout + 2.0


def test_disabled_queue_keeps_job_pending(
    private_cups: PrivateCups, print_target: PrintTarget
) -> None:
    marker = f"KIOSK-{uuid.uuid4().hex[:12]}"
    private_cups.lp_command("cupsdisable", private_cups.queue)
    try:
        job_id = submit(print_target, make_pdf(marker))
        started = time.monotonic()
        statuses = list(follow(print_target, job_id, interval=0.2, max_wait=1.5))
        elapsed = time.monotonic() - started
        assert len(statuses) >= 2  # one per poll: the UI can show time waited
        assert 1.5 <= elapsed < 1.5 + print_target.timeout
        assert not statuses[-1].finished
        assert statuses[-1].state in (JobState.PENDING, JobState.HELD)
        assert queue_info(print_target)["state"] == 5  # stopped
    finally:
        private_cups.lp_command("cupsenable", private_cups.queue)
    assert run_to_end(print_target, job_id).state == JobState.COMPLETED
    find_received(private_cups, marker)
    purge(print_target, job_id)


def test_following_a_job_uses_one_connection(
    private_cups: PrivateCups, print_target: PrintTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    """#13: a second of following a waiting job on a paused queue -- ~70 polls and the queue's state looked
    at -- opens one connection to CUPS, not one per poll (one each was ~100 a second per kiosk)."""
    from indice_kiosk.cups import client

    opened: list[str] = []
    real_connect = client._connect
    monkeypatch.setattr(client, "_connect", lambda target: opened.append(threading.current_thread().name)
                        or real_connect(target))
    private_cups.lp_command("cupsdisable", private_cups.queue)
    try:
        job_id = submit(print_target, make_pdf("one-connection"))
        opened.clear()
        statuses = list(follow(print_target, job_id, interval=0.05, max_wait=1.2, queue_state=True))
        assert len(statuses) >= 20  # it did poll, many times
        assert statuses[-1].state is JobState.PENDING and statuses[-1].queue_stopped is True
        assert len(opened) == 1, opened
    finally:
        private_cups.lp_command("cupsenable", private_cups.queue)
    assert statuses[-1].queue_stopped is True
    assert run_to_end(print_target, job_id).state == JobState.COMPLETED
    purge(print_target, job_id)


def test_follow_stops_on_event(private_cups: PrivateCups, print_target: PrintTarget) -> None:
    private_cups.lp_command("cupsdisable", private_cups.queue)
    try:
        job_id = submit(print_target, make_pdf("stop-event"))
        stop = threading.Event()
        threading.Timer(0.5, stop.set).start()
        started = time.monotonic()
        statuses = list(follow(print_target, job_id, interval=0.2, stop=stop))
        assert time.monotonic() - started < 3.0
        assert statuses and not statuses[-1].finished
    finally:
        private_cups.lp_command("cupsenable", private_cups.queue)
    assert run_to_end(print_target, job_id).state == JobState.COMPLETED
    purge(print_target, job_id)


def test_printer_unreachable_then_back(
    private_cups: PrivateCups, print_target: PrintTarget
) -> None:
    marker = f"KIOSK-{uuid.uuid4().hex[:12]}"
    private_cups.stop_printer()
    try:
        job_id = submit(print_target, make_pdf(marker))
        statuses = list(follow(print_target, job_id, interval=0.25, max_wait=2.0))
        assert not statuses[-1].finished
    finally:
        private_cups.start_printer()
    assert run_to_end(print_target, job_id, max_wait=60).state == JobState.COMPLETED
    find_received(private_cups, marker)
    purge(print_target, job_id)


def test_purge_removes_job(private_cups: PrivateCups, print_target: PrintTarget) -> None:
    job_id = submit(print_target, make_pdf("purge-me"))
    assert run_to_end(print_target, job_id).finished
    assert job_id in all_job_ids(private_cups)
    purge(print_target, job_id)
    assert job_id not in all_job_ids(private_cups)
    with pytest.raises(PrintError) as err:
        job_status(print_target, job_id)
    assert err.value.kind == "other"
    purge(print_target, job_id)  # purging again only logs


def test_private_cups_never_uses_default_server(private_cups: PrivateCups) -> None:
    env = private_cups.env
    assert env["CUPS_SERVER"] == private_cups.server
    assert private_cups.server.startswith("127.0.0.1:")
    conf = (private_cups.root / "cupsd.conf").read_text()
    assert f"Listen 127.0.0.1:{private_cups.port}" in conf
    assert "/run/cups" not in conf
