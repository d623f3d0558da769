"""What a session leaves in the kiosk's process memory once it is wiped (issue #15, item 5).

The in-process checks (tests/test_privacy.py, ``in_memory``) look at live objects only. Freed memory is
not cleared by Python or by malloc: a freed string's bytes stay where they were until that memory is used
again. Here a real kiosk runs on a pty of the test's own (the test is its parent, so it may read
/proc/PID/mem even where ptrace is restricted to parents), a person's answers are typed as a terminal
sends them (UTF-8), the review shows them, "start over" wipes them, and then every readable and writable
mapping of the process is searched for each answer as Python and the terminal hold text: UTF-8 (also
Python's own form of an ASCII string), UTF-16-LE (Python's form of a string with Japanese in it) and
UCS-4 (a string with a character beyond the BMP).

With only the in-process wipe: 3 to 14 copies of each answer (76-85 in all), in memory Python and malloc
had freed but not cleared. Since each person's session ends with the program starting itself again
(indice_kiosk/walkup/ending.py): none, and the test checks it was started again (same process, none of the
threads it ran before).
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.terminal import COMMAND, FORM_KEYS, PtyProcess

pytestmark = pytest.mark.system

# Keys as a terminal sends them.
ENTER, TAB, END, F2, F9 = "\r", "\t", "\x1b[F", "\x1bOQ", "\x1b[20~"
ENCODINGS = {"UTF-8": "utf-8", "UTF-16-LE": "utf-16-le", "UCS-4": "utf-32-le"}
# How many copies of an answer may stay in the process after the wipe.
ALLOWED = 0

KANJI = "山川田中村本松井上木林森石原野高橋藤佐伊加清水竹内吉岡島谷長浜坂池"
KATAKANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワ"


def canary_answers() -> dict[str, str]:
    """A person no other test or run types: random enough that any copy found is this session's."""
    def pick(chars: str, k: int) -> str:
        return "".join(random.choices(chars, k=k))

    token = "cm" + pick("bcdfghjkmnpqrstvwxz", 10)
    return {
        "umin_id": f"{token}-id",
        "name_kanji": f"{pick(KANJI, 3)} {pick(KANJI, 3)}",
        "name_kana": pick(KATAKANA, 8),
        "name_roman": f"Taro {token}x",
        "institution": pick(KANJI, 4) + "大学病院",
        "department": pick(KANJI, 4) + "科",
        "position": "講師",  # common words: not a canary
        "phone": f"03-5{pick('0123456789', 3)}-{pick('0123456789', 4)}",  # a valid Tokyo number (03-5…)
        "email": f"{token}@example.ac.jp",
    }


def copies_in_memory(pid: int, canaries: dict[str, str]) -> dict[str, dict[str, int]]:
    """field -> encoding -> how many times the field's value is in the process's writable memory."""
    patterns = {(key, name): value.encode(codec) for key, value in canaries.items()
                for name, codec in ENCODINGS.items()}
    counts = {key: dict.fromkeys(ENCODINGS, 0) for key in canaries}
    with open(f"/proc/{pid}/maps", encoding="ascii") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            if not fields[1].startswith("rw"):  # code and read-only data hold nothing typed
                continue
            start, end = (int(address, 16) for address in fields[0].split("-"))
            try:
                mem.seek(start)
                data = mem.read(end - start)
            except OSError:  # [vvar] and the like cannot be read
                continue
            for (key, name), pattern in patterns.items():
                counts[key][name] += data.count(pattern)
    return counts


def total(counts: dict[str, dict[str, int]]) -> int:
    return sum(sum(by_encoding.values()) for by_encoding in counts.values())


def report(counts: dict[str, dict[str, int]]) -> str:
    return "; ".join(f"{key} " + " ".join(f"{name}={n}" for name, n in by_encoding.items())
                     for key, by_encoding in counts.items())


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[PtyProcess]:
    # No print server: the session is wiped from the review, before anything is sent.
    (tmp_path / "kiosk.toml").write_text('[cups]\nserver = "127.0.0.1:9"\ntimeout = 1.0\n', encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "TERM": "xterm-256color", "LANG": "C.UTF-8", "HOME": str(tmp_path),
           "TMPDIR": str(tmp_path), "INDICE_KIOSK_CONFIG": str(tmp_path / "kiosk.toml"),
           "INDICE_KIOSK_CACHE": str(tmp_path / "cache")}
    process = PtyProcess([str(COMMAND)], env, controlling=True, size=(100, 40))
    yield process
    process.close()


def threads(pid: int) -> set[int]:
    """The process's threads other than its first (the ids the kernel gave them)."""
    return {int(name) for name in os.listdir(f"/proc/{pid}/task")} - {pid}


def press(kiosk: PtyProcess, *keys: str) -> None:
    for key in keys:
        kiosk.write(key)
        kiosk.drain(0.3)


def test_no_copy_of_the_answers_is_left_in_process_memory_after_the_wipe(kiosk: PtyProcess) -> None:
    answers = canary_answers()
    canaries = {key: value for key, value in answers.items() if key != "position"}
    kiosk.read_until("はじめる")
    pid = kiosk.process.pid
    press(kiosk, ENTER)
    kiosk.read_until("パスワードの取扱い")
    press(kiosk, END, ENTER, ENTER, ENTER, ENTER)
    kiosk.read_until("申請者の情報")
    press(kiosk, F2)  # letters as typed: each answer arrives whole, as an IME's commit or a paste does
    for key in FORM_KEYS:
        press(kiosk, answers[key], ENTER)
    kiosk.output = b""
    press(kiosk, ENTER)
    kiosk.read_until("内容の確認")
    kiosk.drain(1.0)
    shown = copies_in_memory(kiosk.process.pid, canaries)
    # The search must see the answers while the review shows them, or finding none afterwards means nothing.
    assert all(sum(by_encoding.values()) for by_encoding in shown.values()), report(shown)
    threads_of_the_session = threads(pid)
    assert threads_of_the_session  # Textual's input and output threads at least

    kiosk.output = b""
    press(kiosk, F9, TAB, ENTER)  # start over; "yes" is the second button
    kiosk.read_until("はじめる")
    kiosk.drain(2.0)
    # The same process (the terminal's, pid kept), started again: none of the session's threads is left,
    # and it is the command itself, which keeps its name for ps and pgrep (through python3 it would not).
    assert kiosk.process.poll() is None
    assert not threads(pid) & threads_of_the_session
    assert Path(f"/proc/{pid}/comm").read_text().strip() == "indice-kiosk"
    left = copies_in_memory(pid, canaries)
    print(f"\nshown on the review: {total(shown)} copies: {report(shown)}"
          f"\nafter the wipe: {total(left)} copies: {report(left)}")
    assert total(left) <= ALLOWED, f"{total(left)} copies after the wipe: {report(left)}"
    assert re.search(rb"\S", kiosk.output)  # the kiosk is still running, showing welcome
