"""Job identity and a dead kiosk's leftovers (core/jobs.py, cups/leftovers.py).

Which jobs a kiosk removes is decided by the tag in the job's name; these tests put jobs of every kind of
sender on a real CUPS (named as that sender's kiosk would name them) and check that `indice-kiosk cleanup`
removes exactly the dead ones of this machine. The real SIGKILL of a kiosk process is in test_privacy.py.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import cups as pycups
import pytest
from hypothesis import given
from hypothesis import strategies as st

from devtools.democups import PrivateCups
from indice_kiosk.core import jobs
from indice_kiosk.core.jobs import KioskTag
from tests.pdfcheck import make_pdf

COMMAND = Path(sys.executable).parent / "indice-kiosk"
HERE = jobs.this_kiosk()


def a_dead_process() -> KioskTag:
    """The tag a kiosk in a process that has ended would have put on its jobs."""
    child = subprocess.Popen(["sleep", "30"])
    started = jobs.process_start(child.pid)
    child.kill()
    child.wait()
    assert started is not None
    return dataclasses.replace(HERE, pid=child.pid, started=started)


# --- the rule -------------------------------------------------------------------------------------

@pytest.mark.unit
def test_this_process_is_alive_and_named_once() -> None:
    assert HERE.pid == os.getpid()
    assert jobs.is_alive(HERE)
    assert HERE.started == jobs.process_start(os.getpid())
    assert jobs.split_job_name(jobs.job_name(jobs.FAX, HERE)) == (jobs.FAX, HERE)


@pytest.mark.unit
def test_which_jobs_are_a_dead_kiosks_leftovers() -> None:
    dead = a_dead_process()
    assert not jobs.is_alive(dead)
    reused = dataclasses.replace(HERE, started=HERE.started + 1)  # this pid, but another process's start
    other_machine = dataclasses.replace(dead, machine="0123456789ab")
    earlier_boot = dataclasses.replace(HERE, boot="00000000")
    cases = {
        jobs.job_name(jobs.APPLICATION, dead): True,
        jobs.job_name(jobs.FAX, dead): True,
        jobs.job_name(jobs.REMINDER, dead): True,
        jobs.job_name(jobs.GUIDANCE, dead): True,
        jobs.job_name(jobs.FAX, reused): True,
        jobs.job_name(jobs.FAX, earlier_boot): True,  # every process of an earlier boot is gone
        jobs.job_name(jobs.FAX, HERE): False,  # this kiosk, running
        jobs.job_name(jobs.FAX, other_machine): False,  # another kiosk's business (one shared CUPS)
        jobs.job_name(jobs.TEST_PAGE, dead): False,  # an operator's test page holds nobody's data
        "INDICE fax": False,  # no tag: not sent by a tagged kiosk
        "INDICE fax (not/a/tag)": False,
        f"someone else's job ({dead})": False,
    }
    assert {name: jobs.is_leftover(name, HERE) for name in cases} == cases


@pytest.mark.unit
def test_a_killed_kiosk_not_yet_collected_by_its_parent_is_dead() -> None:
    """SIGKILL leaves a zombie until the parent waits for it (tmux, a shell: the restart can come first).
    Before: its /proc entry, start time and all, made it look alive, and its job stayed queued."""
    import subprocess
    import time

    child = subprocess.Popen(["sleep", "60"])
    try:
        tag = dataclasses.replace(HERE, pid=child.pid, started=jobs.process_start(child.pid) or 0)
        assert jobs.is_alive(tag)
        child.kill()
        deadline = time.monotonic() + 5
        # Killed, not yet collected: state Z in /proc/PID/stat (the field after the command's ")").
        while open(f"/proc/{child.pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert jobs.process_start(child.pid) == tag.started  # /proc still shows it, as before
        assert not jobs.is_alive(tag)
        assert jobs.is_leftover(jobs.job_name(jobs.FAX, tag), HERE)
    finally:
        child.kill()
        child.wait()


@pytest.mark.unit
def test_unsure_is_alive() -> None:
    """A process /proc does not show (another account's, hidepid) but that exists is taken as running."""
    init = KioskTag(HERE.machine, HERE.boot, 1, 0)
    assert jobs.is_alive(init)


@pytest.mark.unit
@given(title=st.text(min_size=1).filter(lambda s: not s.endswith(")")),
       pid=st.integers(1, 2**22), started=st.integers(0, 2**40))
def test_a_name_gives_back_its_title_and_tag(title: str, pid: int, started: int) -> None:
    tag = dataclasses.replace(HERE, pid=pid, started=started)
    assert jobs.split_job_name(jobs.job_name(title, tag)) == (title, tag)


# --- on a real CUPS ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def leftover_cups() -> Iterator[PrivateCups]:
    """A CUPS of this module's own: its queue stays paused while jobs of every kind of sender wait."""
    pc = PrivateCups(keep_jobs=True)
    pc.start()
    try:
        yield pc
    finally:
        pc.stop()


def put_job(pc: PrivateCups, name: str) -> int:
    """A job on the (paused) queue named as its sender would name it."""
    found: list[int] = []

    def work() -> None:
        # libcups takes a connection to another server than its thread's for a direct device connection
        # (indice_kiosk/cups/client.py, _connect): the server is named for this thread, as the kiosk does.
        pycups.setServer(pc.host)
        pycups.setPort(pc.port)
        connection = pycups.Connection(host=pc.host, port=pc.port)
        job_id = connection.createJob(pc.queue, name, {})
        document = make_pdf(name)
        connection.startDocument(pc.queue, job_id, "doc.pdf", "application/pdf", 1)
        connection.writeRequestData(document, len(document))
        connection.finishDocument(pc.queue)
        found.append(int(job_id))

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(30)
    assert found, f"CUPS did not take a job named {name!r}"
    return found[0]


def names_on(pc: PrivateCups) -> dict[int, str]:
    connection = pycups.Connection(host=pc.host, port=pc.port)
    return {job_id: attrs["job-name"] for job_id, attrs in connection.getJobs(
        which_jobs="all", requested_attributes=["job-id", "job-name"]).items()}


@pytest.mark.cups
def test_cleanup_removes_exactly_the_dead_kiosks_jobs(leftover_cups: PrivateCups, tmp_path: Path) -> None:
    pc = leftover_cups
    settings = tmp_path / "kiosk.toml"
    settings.write_text(f'[cups]\nserver = "{pc.server}"\nqueue = "{pc.queue}"\n', encoding="utf-8")
    dead = a_dead_process()
    pc.lp_command("cupsdisable", pc.queue)
    try:
        removed = {put_job(pc, jobs.job_name(jobs.FAX, dead)),
                   put_job(pc, jobs.job_name(jobs.APPLICATION, dataclasses.replace(HERE, boot="00000000")))}
        kept = {put_job(pc, jobs.job_name(jobs.FAX, HERE)),
                put_job(pc, jobs.job_name(jobs.FAX, dataclasses.replace(dead, machine="0123456789ab"))),
                put_job(pc, jobs.job_name(jobs.TEST_PAGE, dead)),
                put_job(pc, "a colleague's report")}
        before = names_on(pc)
        assert set(before) == removed | kept

        env = {k: v for k, v in os.environ.items() if k != "CUPS_SERVER"} | {"LANG": "C.UTF-8"}
        result = subprocess.run([str(COMMAND), "--config", str(settings), "cleanup"], env=env,
                                capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        assert "2 removed, 0 could not be removed" in result.stdout
        # Gone from the queue and from the history (purged), the others untouched.
        assert names_on(pc) == {job_id: before[job_id] for job_id in kept}
        spool = pc.root / "spool"
        for job_id in removed:
            assert not [p for p in spool.iterdir() if p.name.startswith(f"d{job_id:05d}")]
    finally:
        connection = pycups.Connection(host=pc.host, port=pc.port)
        for job_id in names_on(pc):
            connection.cancelJob(job_id, purge_job=True)
        pc.lp_command("cupsenable", pc.queue)


@pytest.mark.cups
def test_cleanup_says_when_cups_cannot_be_asked(tmp_path: Path) -> None:
    settings = tmp_path / "kiosk.toml"
    settings.write_text('[cups]\nserver = "127.0.0.1:9"\ntimeout = 2.0\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CUPS_SERVER"} | {"LANG": "ja_JP.UTF-8"}
    result = subprocess.run([str(COMMAND), "--config", str(settings), "cleanup"], env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert "CUPS に問い合わせできませんでした（unreachable）" in result.stderr
