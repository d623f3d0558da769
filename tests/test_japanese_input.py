"""Japanese input inside the kiosk: a real mozc (mozc-server + mozc_emacs_helper), as an unprivileged user.

The suite runs as root and mozc refuses root, so mozc runs as kiosk.toml's ``input.mozc_user``
("indice-ime", created by scripts/setup.sh) -- as a kiosk started as root does.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.widgets import Input, OptionList

from indice_kiosk.core import application as model
from indice_kiosk.core.config import Config, InputSettings
from indice_kiosk.core.ime import ImeUnavailable, Mozc, available, parse
from indice_kiosk.widgets.form_input import KanaInput
from tests.pilot import SIZE, agree, choose, new_app, start_over, wait_for
from tests.terminal import Terminal

MOZC_USER = InputSettings().mozc_user
COMMAND = Path(sys.executable).parent / "indice-kiosk"


@pytest.fixture
def mozc() -> Mozc:
    assert available(), "mozc is not installed (scripts/setup.sh installs mozc-server and emacs-mozc-bin)"
    ime = Mozc(run_as=MOZC_USER)
    ime.start()
    yield ime
    ime.close()


def convert(mozc: Mozc, romaji: str) -> object:
    for char in romaji:
        mozc.key(char, char)
    return mozc.key("space")


def mozc_servers() -> set[int]:
    found = subprocess.run(["pgrep", "-x", "mozc_server"], capture_output=True, text=True).stdout.split()
    return {int(pid) for pid in found}


# --- the core: indice_kiosk/core/ime.py ---------------------------------------------------------------


def test_romaji_becomes_kana_then_the_chosen_kanji(mozc: Mozc) -> None:
    state = None
    for char in "yamada":
        state = mozc.key(char, char)
    assert state is not None and state.preedit_text == "やまだ" and not state.candidates
    state = mozc.key("space")
    texts = [candidate.text for candidate in state.candidates]
    assert "山田" in texts and "ヤマダ" in texts and state.focused == 0
    index = texts.index("ヤマダ")
    state = mozc.choose(index, state)
    assert state.committed == "ヤマダ" and not state.composing


def test_keys_with_nothing_composed_are_left_to_the_field(mozc: Mozc) -> None:
    for key in ("enter", "backspace", "left"):
        assert mozc.key(key).consumed is False
    assert mozc.key("f1") .consumed is False  # not a key mozc is given


def test_escape_goes_back_to_kana_then_clears(mozc: Mozc) -> None:
    state = convert(mozc, "tarou")
    assert state.candidates
    state = mozc.key("escape")
    assert state.preedit_text == "たろう" and not state.candidates
    state = mozc.key("escape")
    assert not state.composing and not state.committed


def test_nothing_is_learned_and_nothing_stays(mozc: Mozc) -> None:
    """One person picks an unusual reading; the next person's mozc does not offer it first, and the first
    person's profile directory and server are gone."""
    state = convert(mozc, "yamada")
    first = state.candidates[0].text
    unusual = next(c for c in state.candidates if c.text != first and c.index > 2)
    for _ in range(3):  # a choice made three times would surely be learned if learning were on
        state = mozc.choose(unusual.index, state)
        assert state.committed == unusual.text
        state = convert(mozc, "yamada")
    mozc.key("escape")
    mozc.key("escape")
    profile, server = mozc._root, mozc._server
    assert profile is not None and server is not None
    mozc.close()
    assert not profile.exists()
    assert server.poll() is not None and server.pid not in mozc_servers()
    nxt = Mozc(run_as=MOZC_USER)
    nxt.start()
    try:
        assert convert(nxt, "yamada").candidates[0].text == first
    finally:
        nxt.close()


def test_profile_is_private_and_learning_off(mozc: Mozc) -> None:
    profile = mozc._root
    assert profile is not None
    assert profile.stat().st_mode & 0o777 == 0o700
    config = profile / "home" / ".config" / "mozc"
    assert (config / "config1.db").read_bytes() == bytes([0xA0, 0x01, 0x01])  # incognito_mode: true
    convert(mozc, "yamada")
    mozc.key("enter")
    assert not (config / ".history.db").exists()  # mozc keeps no history in incognito mode


def test_no_user_to_run_as_is_a_clear_refusal() -> None:
    if os.geteuid() != 0:
        pytest.skip("only a kiosk running as root needs a user to run mozc as")
    with pytest.raises(ImeUnavailable, match="does not exist"):
        Mozc(run_as="no-such-user-indice")
    with pytest.raises(ImeUnavailable, match="root"):
        Mozc(run_as="root")


def test_the_helpers_answers_parse() -> None:
    answer = parse('((emacs-event-id . 2)(output . ((consumed . t)(preedit . ((segment ((value . "山\\"田")'
                   '(annotation . highlight)))))(mode . hiragana))))')
    assert isinstance(answer, list)
    with pytest.raises(ValueError):
        parse("((a . b)")


# --- the kana field: romaji and hiragana become katakana -------------------------------------------------


@pytest.mark.parametrize(("typed", "shown"), [
    ("yamada tarou", "ヤマダ　タロウ"), ("Sakamoto Ryouma", "サカモト　リョウマ"),
    ("やまだ はなこ", "ヤマダ　ハナコ"), ("ＹＡＭＡＤＡ", "ヤマダ"), ("ohno", "オオノ"),
])
def test_kana_field_takes_romaji_and_hiragana(typed: str, shown: str) -> None:
    assert model.normalize("name_kana", typed) == shown
    assert model.check_value("name_kana", model.normalize("name_kana", typed), required=True) is None


@pytest.mark.parametrize("typed", ["smith", "Jones", "qqq"])
def test_kana_field_leaves_what_is_not_romaji_for_the_person(typed: str) -> None:
    """No nonsense katakana ("smith" is not スミス by any rule): the field asks for katakana instead."""
    assert model.normalize("name_kana", typed) == typed
    problem = model.check_value("name_kana", typed, required=True)
    assert problem is not None and problem.code == "kana_only"


# --- the form, driven like a person ------------------------------------------------------------------


def kana_app(config: Config, **settings: object) -> object:
    return new_app(dataclasses.replace(config, input=dataclasses.replace(config.input, **settings)))


async def to_form(pilot) -> KanaInput:
    await agree(pilot)
    await choose(pilot, "indice-only")
    field = pilot.app.screen.query_one("#name_kanji", KanaInput)
    field.focus()
    await pilot.pause()
    return field


async def test_typing_yamada_and_choosing_by_number_and_by_click(config: Config) -> None:
    app = kana_app(config)
    async with app.run_test(size=SIZE) as pilot:
        field = await to_form(pilot)
        assert field.kana  # on by default in a Japanese session
        await pilot.press(*"yamada")
        await wait_for(pilot, lambda: field.composing)
        preedit = app.screen.query_one("#preedit-name_kanji")
        assert "やまだ" in str(preedit.render())
        await pilot.press("space")
        candidates = app.screen.query_one("#candidates-name_kanji", OptionList)
        await wait_for(pilot, lambda: candidates.option_count > 0 and candidates.display)
        labels = [str(candidates.get_option_at_index(i).prompt) for i in range(candidates.option_count)]
        number = next(label for label in labels if label.split(". ", 1)[1].split()[0] == "山田").split(".")[0]
        await pilot.press(number)  # a number picks from the window
        await wait_for(pilot, lambda: field.value == "山田")
        assert not field.composing and not app.screen.query_one(".composition").display
        # The mouse: "tarou", Space, then a click on 太郎 in the list.
        await pilot.press(*"tarou", "space")
        await wait_for(pilot, lambda: candidates.option_count > 0)
        row = next(i for i in range(candidates.option_count)
                   if str(candidates.get_option_at_index(i).prompt).split(". ", 1)[1].split()[0] == "太郎")
        candidates.scroll_to(y=row, animate=False, immediate=True)
        await pilot.pause()
        assert await pilot.click(candidates, offset=(4, row - int(candidates.scroll_y)))
        await wait_for(pilot, lambda: field.value == "山田太郎")
        assert app.focused is field  # the click did not take the focus away
    assert app.session.answers == {} or app.session.answers.get("name_kanji") == "山田太郎"


async def test_leaving_the_field_keeps_what_was_typed(config: Config) -> None:
    app = kana_app(config)
    async with app.run_test(size=SIZE) as pilot:
        field = await to_form(pilot)
        await pilot.press(*"suzuki")
        await wait_for(pilot, lambda: field.composing)
        await pilot.press("tab")
        await wait_for(pilot, lambda: field.value == "すずき")
        assert app.session.answers["name_kanji"] == "すずき"


async def test_escape_while_composing_does_not_leave_the_form(config: Config) -> None:
    app = kana_app(config)
    async with app.run_test(size=SIZE) as pilot:
        field = await to_form(pilot)
        await pilot.press(*"tanaka", "space")
        await wait_for(pilot, lambda: field.state is not None and field.state.candidates)
        await pilot.press("escape")
        await wait_for(pilot, lambda: field.state is not None and not field.state.candidates)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not field.composing)
        assert app.screen.id == "applicant" and field.value == ""
        await pilot.press("escape")  # nothing composed: Esc is "back" again
        await wait_for(pilot, lambda: app.screen.id == "route")


async def test_f2_and_the_switch_turn_kana_off_and_on(config: Config) -> None:
    app = kana_app(config)
    async with app.run_test(size=SIZE) as pilot:
        field = await to_form(pilot)
        await pilot.press("f2")
        assert not field.kana
        assert str(app.screen.query_one("#kana-name_kanji").label) == "ABC"
        await pilot.press(*"Yamada")
        assert field.value == "Yamada" and not field.composing
        await pilot.click("#kana-name_kanji")
        await pilot.pause()
        assert field.kana and app.focused is field
        assert str(app.screen.query_one("#kana-name_kanji").label) == "かな"
        # Every Japanese field switches together, as an input method's key would.
        assert all(f.kana for f in app.screen.query(KanaInput))


async def test_an_english_session_starts_with_kana_off(config: Config) -> None:
    config = dataclasses.replace(config, kiosk=dataclasses.replace(config.kiosk, language="en"))
    app = kana_app(config)
    async with app.run_test(size=SIZE) as pilot:
        field = await to_form(pilot)
        assert not field.kana
        await pilot.press(*"Tanaka")
        assert field.value == "Tanaka"


async def test_without_mozc_the_fields_take_letters_as_typed(config: Config) -> None:
    app = kana_app(config, mozc_user="no-such-user-indice")
    async with app.run_test(size=SIZE) as pilot:
        field = await to_form(pilot)
        await pilot.press(*"yamada")
        await pilot.pause()
        assert field.value == "yamada" and not field.composing


async def test_kana_off_in_kiosk_toml_means_plain_fields(config: Config) -> None:
    app = kana_app(config, kana=False)
    async with app.run_test(size=SIZE) as pilot:
        await agree(pilot)
        await choose(pilot, "indice-only")
        assert not app.screen.query(KanaInput) and not app.screen.query("#kana-hint")
        assert isinstance(app.screen.query_one("#name_kanji"), Input)


async def test_every_ending_stops_the_sessions_mozc(config: Config) -> None:
    app = kana_app(config)
    async with app.run_test(size=SIZE) as pilot:
        field = await to_form(pilot)
        await pilot.press(*"yamada", "space")
        await wait_for(pilot, lambda: field.state is not None and field.state.candidates)
        mozc = app._mozc
        assert mozc is not None and mozc._root is not None and mozc._server is not None
        profile, server = mozc._root, mozc._server
        await start_over(pilot)
        await app.wipe_finished()
        app.finish_cancelling(10)
        assert app._mozc is None
        assert not Path(profile).exists()
        assert server.poll() is not None
        # The next person gets a fresh one.
        field = await to_form(pilot)
        await pilot.press(*"yamada")
        await wait_for(pilot, lambda: field.composing)
        assert app._mozc is not None and app._mozc is not mozc


# --- the real program in a real terminal (tmux): keys as a keyboard sends them, a click as a mouse does ---


def cell_column(line: str, text: str) -> int:
    """The terminal column (0-based, in cells) where ``text`` starts in ``line``."""
    return cell_len(line[:line.index(text)])


def click_candidate(term: Terminal, screen: str, text: str) -> None:
    """A left click on candidate ``text`` in the list (an SGR mouse report, as xterm and foot send it)."""
    lines = screen.splitlines()
    row = next(number for number, line in enumerate(lines) if re.search(rf"\d\. {text}(\s|$)", line))
    column = cell_column(lines[row], f". {text}") + 2
    for end in "Mm":  # press, release
        term.tmux("send-keys", "-t", term.name, "-l", f"\x1b[<0;{column + 1};{row + 1}{end}")
        time.sleep(0.1)


@pytest.mark.system
def test_a_real_kiosk_converts_by_keyboard_and_by_mouse(private_cups, tmp_path: Path) -> None:
    settings = tmp_path / "kiosk.toml"
    settings.write_text(f'[cups]\nserver = "{private_cups.server}"\nqueue = "{private_cups.queue}"\n',
                        encoding="utf-8")
    term = Terminal("ime")
    try:
        term.start(f"exec env -u CUPS_SERVER -u COLUMNS -u LINES TERM=xterm-256color {COMMAND} "
                   f"--config {settings}")
        term.wait_for("はじめる")
        term.keys("Enter")
        term.wait_for("パスワードの取扱い")
        term.keys("End", "Enter", "Enter", "Enter", "Enter")
        term.wait_for("申請者の情報")
        term.keys("suzuki-kyt", "Enter")  # to the kanji name, where kana input is on
        term.keys("yamada", "Space")
        screen = term.wait_for("変換中")
        assert "1. 山田" in screen and "2. " in screen  # the candidates, numbered, under the field
        term.keys("1")
        screen = term.wait_for("山田")
        assert "変換中" not in term.screen()
        term.keys("tarou", "Space")
        screen = term.wait_for("太郎")
        click_candidate(term, screen, "太郎")
        deadline = time.monotonic() + 10
        while "山田太郎" not in term.screen():
            assert time.monotonic() < deadline, term.screen()
            time.sleep(0.2)
        assert "変換中" not in term.screen()
        term.keys("Enter")  # nothing composed: on to the kana field, which takes romaji
        term.keys("yamada tarou", "Enter", "Taro Yamada", "Enter", "F2")  # F2: plain letters from here
        for answer in ("Kakuu University Hospital", "Obstetrics", "Lecturer", "03-1234-5678",
                       "yamada@example.ac.jp"):
            term.keys(answer, "Enter")
        term.keys("Enter")
        term.wait_for("内容の確認")
        screen = term.wait_for("Taro Yamada")
        assert "山田太郎" in screen
        assert "ヤマダタロウ" in "".join(screen.split())  # the romaji typed in the kana field, as katakana
    finally:
        term.close()
