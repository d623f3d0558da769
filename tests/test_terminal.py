"""The real `indice-kiosk` command (and ./scripts/kiosk with its demo CUPS) in a real terminal (tmux): keys,
quitting, a clean screen."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pilot import PERSON, compact, new_app, start
from tests.terminal import FORM_KEYS, PtyProcess, Terminal, start_real_process

ROOT = Path(__file__).resolve().parent.parent
COMMAND = Path(sys.executable).parent / "indice-kiosk"


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    if not shutil.which("tmux"):
        pytest.fail("tmux is not installed (scripts/test installs it)")
    term = Terminal("kiosk")
    yield term
    term.close()


def cupsd_pids() -> set[int]:
    """Every cupsd on the machine (other tests' private ones come and go: compare sets, not counts)."""
    return {int(pid) for pid in
            subprocess.run(["pgrep", "-x", "cupsd"], capture_output=True, text=True).stdout.split()}


def wait_gone(pids: set[int], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while pids & cupsd_pids() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not pids & cupsd_pids(), "the demo CUPS outlived the kiosk"


def kiosk_on_a_pty(tmp_path: Path, lang: str, size: tuple[int, int] = (80, 24)) -> PtyProcess:
    """The real command on a pty of the test's own, in ``lang``, with no print server."""
    settings = tmp_path / "kiosk.toml"
    settings.write_text(f'[kiosk]\nlanguage = "{lang}"\n[cups]\nserver = "127.0.0.1:9"\n', encoding="utf-8")
    env = {**os.environ, "TERM": "xterm-256color", "CUPS_SERVER": "127.0.0.1:9"}
    return PtyProcess([str(COMMAND), "--config", str(settings)], env, controlling=False, size=size)


def test_scripts_kiosk_with_demo_cups_runs_quits_and_clears(terminal: Terminal, tmp_path: Path) -> None:
    settings = tmp_path / "kiosk.toml"
    settings.write_text('[kiosk]\nlanguage = "ja"\n', encoding="utf-8")  # no CUPS server: the demo starts
    before = cupsd_pids()
    terminal.start(f"env -u CUPS_SERVER TERM=xterm-256color {ROOT / 'scripts' / 'kiosk'} --config {settings} "
                   "--allow-quit; echo KIOSK-EXITED; sleep 30")
    screen = terminal.wait_for("はじめる")
    assert "デモ用プリンターに送信します" in screen  # the person sees it is the demo printer
    demo = cupsd_pids() - before
    assert len(demo) == 1
    terminal.keys("Enter")
    terminal.wait_for("パスワードの取扱いについて")
    terminal.keys("End", "F10")
    terminal.wait_for("どれに当てはまりますか")
    terminal.keys("Enter", "F10")
    terminal.wait_for("申請者の情報")
    terminal.keys("canary-zq7")
    terminal.wait_for("canary-zq7")
    # While nobody types nothing is redrawn: the cursor is steady (a blinking one is a repaint to send over
    # SSH twice a second), and it is drawn, right after what was typed.
    time.sleep(0.3)
    frames = []
    for _ in range(6):
        frames.append(terminal.styled_screen())
        time.sleep(0.25)
    assert len(set(frames)) == 1
    line = next(row for row in frames[0].splitlines() if "canary-zq7" in row)
    typed_left, typed_right = line.split("canary-zq7", 1)
    field_background = re.findall(r"48;5;(\d+)m", typed_left)[-1]
    cursor_style = re.match(r"(?:\x1b\[[0-9;]*m)+", typed_right)
    assert cursor_style and "48;5;" in cursor_style.group(0)
    assert f"48;5;{field_background}m" not in cursor_style.group(0)  # the next cell is the cursor
    terminal.keys("C-q")
    terminal.wait_for("はい、終了する")
    terminal.keys("Right", "Enter")
    terminal.wait_for("KIOSK-EXITED")
    # The screen and the scrollback were cleared on the way out, and the demo CUPS is gone.
    assert "canary-zq7" not in terminal.screen(history=True)
    wait_gone(demo)


def test_bad_settings_file_stops_with_a_clear_message(tmp_path: Path) -> None:
    settings = tmp_path / "kiosk.toml"
    settings.write_text('[cups]\nqueue_name = "x"\n', encoding="utf-8")
    result = subprocess.run([str(COMMAND), "--config", str(settings)], capture_output=True, text=True,
                            timeout=30, check=False)
    assert result.returncode == 2
    assert f"{settings}: cups.queue_name: unknown key" in result.stderr


def test_bad_settings_file_is_explained_in_japanese_under_a_japanese_locale(tmp_path: Path) -> None:
    settings = tmp_path / "kiosk.toml"
    settings.write_text('[cups]\nqueue_name = "x"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))} | {"LANG": "ja_JP.UTF-8"}
    result = subprocess.run([str(COMMAND), "--config", str(settings)], capture_output=True, text=True,
                            timeout=30, check=False, env=env)
    assert result.returncode == 2
    assert f"{settings}: cups.queue_name: 知らない項目です" in result.stderr


def test_scripts_kiosk_starts_its_demo_cups_under_a_japanese_locale(terminal: Terminal,
                                                                   tmp_path: Path) -> None:
    """`LANG=ja_JP.UTF-8 ./scripts/kiosk`: the demo CUPS must not wait for lpstat's English words."""
    settings = tmp_path / "kiosk.toml"
    settings.write_text('[kiosk]\nlanguage = "ja"\n', encoding="utf-8")  # no CUPS server: the demo starts
    # CUPS's own tools do answer in Japanese here (even where the locale is not generated).
    probe = subprocess.run(["lpstat", "-h", "127.0.0.1:9", "-r"], capture_output=True, text=True, check=False,
                           env={"PATH": os.environ["PATH"], "LANG": "ja_JP.UTF-8"})
    assert "スケジューラー" in probe.stdout + probe.stderr
    before = cupsd_pids()
    terminal.start(f"env -u CUPS_SERVER -u LC_ALL -u LC_MESSAGES LANG=ja_JP.UTF-8 TERM=xterm-256color "
                   f"{ROOT / 'scripts' / 'kiosk'} --config {settings} --allow-quit; "
                   "echo KIOSK-EXITED; sleep 30")
    screen = terminal.wait_for("はじめる", timeout=60)
    assert "デモ用プリンターに送信します" in screen
    demo = cupsd_pids() - before
    assert len(demo) == 1
    terminal.keys("C-q")
    terminal.wait_for("はい、終了する")
    terminal.keys("Right", "Enter")
    terminal.wait_for("KIOSK-EXITED")
    wait_gone(demo)


def test_ascii_filter_keeps_every_cell_where_it_was() -> None:
    from rich.cells import cell_len

    from indice_kiosk.widgets.ascii import ascii_text

    for text in ("▊▔▔▔▎ “I agree” →", "▐●▌ 個人用 ID", "山田 太郎 ✓", "e\u0301", "━━━", "ｱｲｳ"):
        converted = ascii_text(text)
        assert converted.isascii(), converted
        assert cell_len(converted) == cell_len(text), (text, converted)
    assert ascii_text("▐●▌") == "[*]" and ascii_text("“I agree”") == '"I agree"'


def test_screen_changes_sent_by_rows_leave_the_terminal_as_a_full_redraw_would(terminal: Terminal,
                                                                              tmp_path: Path) -> None:
    # A full-screen paint sends only the rows that changed (KioskApp._display): whatever the terminal shows
    # after the steps must be what drawing every row again shows. A resize makes the kiosk draw all of it.
    settings = tmp_path / "kiosk.toml"
    settings.write_text('[kiosk]\nlanguage = "ja"\n[cups]\nserver = "127.0.0.1:9"\n', encoding="utf-8")
    terminal.start(f"env TERM=xterm-256color {COMMAND} --config {settings}")
    terminal.wait_for("はじめる")
    seen = []
    for keys, text in ((("Enter",), "パスワードの取扱いについて"), (("End", "F10"), "どれに当てはまりますか"),
                       (("Enter", "Enter"), "UMIN ID の種類"), (("Escape",), "パスワードの取扱いについて"),
                       (("F10",), "どれに当てはまりますか"), (("Enter", "Enter", "F10"), "申請者の情報")):
        terminal.keys(*keys)
        terminal.wait_for(text)
        time.sleep(0.5)
        shown = terminal.styled_screen()
        terminal.tmux("resize-window", "-t", terminal.name, "-x", "81", "-y", "24")
        time.sleep(0.6)
        terminal.tmux("resize-window", "-t", terminal.name, "-x", "80", "-y", "24")
        time.sleep(0.8)
        assert terminal.styled_screen() == shown, f"after {keys}"
        seen.append(text)
    assert len(seen) == 6


@pytest.mark.system
def test_reading_the_rules_to_the_end_is_sent_as_one_paint(tmp_path: Path) -> None:
    """End on consent scrolls, enables and focuses "agree" and changes the hint. Over an operator's slow
    link every paint is a screenful of seconds: it must cost no more than the screen change that showed
    consent (one frame). Before: three paints, 2.35 frames (bench row 8)."""
    kiosk = kiosk_on_a_pty(tmp_path, "ja")
    try:
        kiosk.read_until("はじめる")
        kiosk.read_until_quiet()
        kiosk.write("\r")
        frame = kiosk.read_until_quiet()
        assert "パスワードの取扱いについて".encode() in frame
        kiosk.write("\x1b[F")  # End, as xterm sends it
        read = kiosk.read_until_quiet()
    finally:
        kiosk.close()
    assert "最後まで表示しました".encode() in read  # the hint changed: the whole text was shown
    assert len(read) <= len(frame), f"End sent {len(read)} B, the screen itself {len(frame)} B"


@pytest.mark.system
def test_the_first_screen_is_sent_as_one_paint_and_so_is_the_next_persons(tmp_path: Path) -> None:
    """The program starts again after every person (indice_kiosk/walkup/ending.py), so its first screen is
    paid for once per person over an operator's slow link. It settled over four paints (16 kB where one is
    5 kB); it must cost no more than an ordinary screen change (welcome -> consent, one frame)."""
    kiosk = kiosk_on_a_pty(tmp_path, "ja")
    try:
        kiosk.read_until("はじめる")
        first = kiosk.output + kiosk.read_until_quiet()
        kiosk.write("\r")
        change = kiosk.read_until_quiet()
        assert "パスワードの取扱いについて".encode() in change
        kiosk.write("\x1b[F")  # End
        kiosk.read_until_quiet()
        kiosk.write("\x1b[21~")  # F10: agree -- from now on the session holds something of a person
        assert "どれに当てはまりますか".encode() in kiosk.read_until_quiet()
        kiosk.write("\x1b[20~")  # F9: start over, asks first
        kiosk.read_until_quiet()
        kiosk.write("\t")
        kiosk.read_until_quiet()
        kiosk.output = b""
        kiosk.write("\r")  # yes
        kiosk.read_until("はじめる")
        next_person = kiosk.output + kiosk.read_until_quiet()
        assert kiosk.process.poll() is None  # the same process, started again
    finally:
        kiosk.close()
    assert len(first) <= len(change), f"the first screen took {len(first)} B, a screen change {len(change)} B"
    assert len(next_person) <= len(change), f"the next person's took {len(next_person)} B"


@pytest.mark.system
async def test_a_paint_held_as_the_app_closes_is_dropped(config) -> None:
    """A step's end holds the terminal 50 ms (paint_when_settled); when the app closes meanwhile -- bench
    row 5's scripted sessions end right after the send -- the release finds no screen and must do nothing
    (before: ScreenStackError, the internal-error report). The close takes a few ms, so it is started at
    every millisecond of the hold's last 15."""
    delay = 0.05
    for before in range(35, 51):
        app = new_app(config)
        async with app.run_test(size=(80, 24)) as pilot:
            await start(pilot)
            app.paint_when_settled(delay)
            await asyncio.sleep(before / 1000)
        assert not app.screen_stack
        app._paint_whole_screen()  # and once more, for certain, with nothing on the stack


def test_a_terminal_that_reports_no_size_still_gets_the_kiosk(tmp_path: Path) -> None:
    """`ssh -tt` from a pipe gives the kiosk a pty of 0 x 0. Holding the first paint there (above) made
    Textual resize the screen between its two guesses for ever: a core spun, nothing was drawn."""
    kiosk = kiosk_on_a_pty(tmp_path, "en", size=(0, 0))
    try:
        kiosk.read_until("Start", timeout=15)
        kiosk.read_until_quiet()
        stat = Path(f"/proc/{kiosk.process.pid}/stat")
        before = sum(int(x) for x in stat.read_text().rsplit(")", 1)[1].split()[11:13])
        time.sleep(2.0)
        spent = sum(int(x) for x in stat.read_text().rsplit(")", 1)[1].split()[11:13]) - before
    finally:
        kiosk.close()
    assert spent / os.sysconf("SC_CLK_TCK") < 0.5, f"{spent} ticks of CPU in 2 s at rest"


@pytest.mark.system
@pytest.mark.parametrize("burst", ["one send", "one send per field"])
def test_typed_ahead_keys_land_in_their_fields(private_cups, tmp_path: Path, burst: str) -> None:
    """#14.6: over a laggy SSH link keys arrive in bursts. Text and Tabs sent at once must fill the fields in
    order -- not all in the first field with the Tabs applied afterwards."""
    settings = tmp_path / "kiosk.toml"
    settings.write_text(f'[cups]\nserver = "{private_cups.server}"\nqueue = "{private_cups.queue}"\n',
                        encoding="utf-8")
    term = Terminal(f"burst-{burst.count(' ')}")
    answers = PERSON | {"umin_id": "yamada-tky", "name_kanji": "山田 太郎", "name_kana": "ヤマダ タロウ",
                        "name_roman": "Taro Yamada"}
    try:
        start_real_process(term, settings)
        term.keys("Enter")
        term.wait_for("パスワードの取扱い")
        term.keys("End", "Enter", "Enter", "Enter", "Enter")
        term.wait_for("申請者の情報")
        term.keys("F2")  # letters as typed (the kana switch is the person's own choice)
        values = [answers[key] for key in FORM_KEYS]
        if burst == "one send":
            term.tmux("send-keys", "-t", term.name, "-l", "\t".join(values))
        else:
            for i, value in enumerate(values):  # as fast as tmux takes them, no waiting between
                term.tmux("send-keys", "-t", term.name, "-l", ("\t" if i else "") + value)
        term.keys("F10")
        screen = term.wait_for("内容の確認", timeout=20)
        for value in values[:4]:
            assert compact(value) in compact(screen), (value, screen)
    finally:
        term.close()
