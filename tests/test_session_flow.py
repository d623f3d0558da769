"""Whole sessions, driven like a person, printing to the private CUPS and reading back what arrived."""

from __future__ import annotations

import dataclasses

import pytest
from textual.widgets import Button, Checkbox, Input

from indice_kiosk.core.application import HANDWRITE_BOX, Route
from indice_kiosk.core.config import Config, UminSettings
from indice_kiosk.core.text import t
from tests.pilot import (
    PERSON,
    SIZE,
    ManualClock,
    agree,
    choose,
    compact,
    fill,
    new_app,
    pdf_text,
    print_and_wait,
    screen_text,
    shown,
    start,
    start_over,
    submit_form,
    to_review,
    wait_for,
)


def received_with(private_cups, needle: str) -> bytes:
    for path in reversed(private_cups.received()):
        data = path.read_bytes()
        if needle in pdf_text(data):
            return data
    raise AssertionError(f"no PDF holding {needle!r} reached the printer")


async def test_walk_up_session_prints_every_answer(config: Config, private_cups) -> None:
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await agree(pilot)
        await choose(pilot, "indice-only")
        assert app.screen.query_one("#general-password-note")  # says where the general password goes
        await fill(pilot, PERSON)
        await submit_form(pilot)
        review = " ".join(shown(s) for s in app.screen.query(".review-value"))
        assert "スズキ　イチロウ" in review  # hiragana became katakana, as printed
        assert "075-751-3111" in review  # full-width digits became ASCII
        await print_and_wait(pilot)
        assert app.screen.outcome.kind == "completed"
        status = shown(app.screen.query_one("#send-status"))
        assert "印刷が終わりました" in status
        await pilot.click("#next")
        await wait_for(pilot, lambda: app.screen.id == "done")
        assert "03-5689-0726" in str(app.screen.query_one("#check-faxed", Checkbox).label)
        await pilot.press("space")  # signed (the first box has the focus)
        await pilot.press("tab", "space")  # faxed
        await pilot.click("#finish")
        await wait_for(pilot, lambda: app.screen.id == "welcome")
        assert app.session.answers == {} and app.session.application is None and not app.session.agreed
        assert len(app.screen_stack) == 1  # only a fresh welcome remains

    printed = pdf_text(received_with(private_cups, "鈴木一郎"))
    expected = {**PERSON, "name_kana": "スズキ　イチロウ", "phone": "075-751-3111"}
    for key, value in expected.items():
        assert compact(value) in printed, key
    assert "症例登録(INDICE)用パスワード更新申請書" in printed
    assert "INDICE用のみパスワード更新" in printed


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_done_screen_and_form_say_what_happens_after_the_fax_and_where_the_password_is_set(
    config: Config, private_cups, lang: str
) -> None:
    """#14.3: UMIN's rules say the password is the string the person sets in the renewal application,
    and the completion mail carries none. The last screen and the printed form say so plainly, with
    UMIN's page (the [umin] page setting) as text; the form carries its QR code too."""
    page = "https://www.umin.ac.jp/id/idc_passwd/passwd_indice.htm?site=test"
    config = dataclasses.replace(config, umin=UminSettings(page=page),
                                 kiosk=dataclasses.replace(config.kiosk, language=lang))
    app = new_app(config)
    name = {"ja": "案内 一郎", "en": "案内 二郎"}[lang]
    async with app.run_test(size=SIZE) as pilot:
        await agree(pilot)
        await choose(pilot, "indice-only")
        await fill(pilot, PERSON | {"name_kanji": name})
        await submit_form(pilot)
        await print_and_wait(pilot)
        await pilot.click("#next")
        await wait_for(pilot, lambda: app.screen.id == "done")
        assert shown(app.screen.query_one("#after-heading")) == t(lang, "after.heading")
        for key in ("wait", "mail", "password"):
            assert t(lang, f"after.{key}") in shown(app.screen.query_one(f"#after-{key}")), key
        assert shown(app.screen.query_one("#after-page")) == t(lang, "after.page", url=page)
        words = screen_text(app)
        if lang == "ja":
            assert "メールにパスワードは書かれていません" in words and "この端末では設定しません" in words
        else:
            assert "does not contain your password" in words and "never set at this kiosk" in words
    printed = pdf_text(received_with(private_cups, compact(name)))
    assert compact(t("ja", "doc.after")) in printed and compact(t("en", "doc.after")) in printed
    assert page in printed


async def test_unknown_id_group_route_keyboard_only(config: Config, private_cups) -> None:
    """Route indice-and-general, UMIN ID left empty, a group ID: the find-ID and representative fields."""
    app = new_app(config)
    answers = {k: v for k, v in PERSON.items() if k != "umin_id"} | {
        "name_kanji": "高橋 花子",
        "past_affiliations": "架空市民病院（2010〜2015年）",
        "alma_mater": "架空医科大学 2009年卒",
        "societies": "日本産科婦人科学会",
        "license": "医師 第999999号",
        "representative_name": "田中 次郎",
    }
    async with app.run_test(size=SIZE) as pilot:
        await agree(pilot)
        # Keyboard only: the route RadioSet has focus; down arrow then enter chooses, and focus moves on
        # to the ID type, then to Next, so Enter keeps a keyboard user going.
        await pilot.press("down", "enter")
        assert app.focused.id == "id-type"
        await pilot.press("down", "enter")  # ID type: group
        assert app.screen.route == "indice-and-general" and app.screen.id_type == "group"
        assert app.focused.id == "next"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.id == "applicant")
        assert app.session.route == "indice-and-general" and app.session.id_type == "group"  # taken at Next
        assert app.screen.query_one("#find-id").display
        assert app.screen.query_one("#group").display
        await fill(pilot, answers)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.id == "review")
        await pilot.press("enter")  # confirm has focus
        await wait_for(pilot, lambda: app.screen.id == "send")
        await wait_for(pilot, lambda: app.screen.outcome is not None, timeout=40)
        assert app.screen.outcome.kind == "completed"
    printed = pdf_text(received_with(private_cups, "高橋花子"))
    for key in ("past_affiliations", "alma_mater", "societies", "license", "representative_name"):
        assert compact(answers[key]) in printed, key
    assert "団体代表者署名" in printed


async def test_bad_input_is_explained_in_place_and_nothing_is_lost(config: Config) -> None:
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await agree(pilot)
        await choose(pilot, "indice-only")
        await fill(pilot, PERSON | {"umin_id": "Yamada_tky", "phone": "03-12", "email": "no-at-sign"})
        await pilot.click("#next")
        await pilot.pause()
        assert app.screen.id == "applicant"
        expected = (("umin_id", "yamada-tky"), ("phone", "数字とハイフン"), ("email", "メールアドレス"))
        for key, words in expected:
            line = app.screen.query_one(f"#problem-{key}")
            assert line.display and words in shown(line), key
        assert "UMIN" in shown(app.screen.query_one("#form-problem"))
        # Everything typed is still there, including the fields that were fine.
        assert app.screen.query_one("#name_kanji", Input).value == PERSON["name_kanji"]
        assert app.screen.query_one("#email", Input).value == "no-at-sign"
        # Fixing one field clears its message at once.
        app.screen.query_one("#email", Input).value = "suzuki@example.ac.jp"
        await pilot.pause()
        assert not app.screen.query_one("#problem-email").display


async def test_english_session_messages(config: Config) -> None:
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.screen.id == "welcome")
        await pilot.click("#lang-en")
        await pilot.pause()
        assert "Start" in str(app.screen.query_one("#start", Button).label)
        await start(pilot)
        await pilot.press("end")
        await wait_for(pilot, lambda: not app.screen.query_one("#agree", Button).disabled)
        await pilot.click("#agree")
        await wait_for(pilot, lambda: app.screen.id == "route")
        await pilot.click("#next")  # nothing chosen yet
        assert "choose" in shown(app.screen.query_one("#route-problem"))
        await choose(pilot, "indice-only")
        await pilot.click("#next")
        line = app.screen.query_one("#problem-umin_id")
        assert "Please fill this in" in shown(line)


async def test_review_says_more_below_until_the_end_is_shown_and_nothing_moves(config: Config) -> None:
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await to_review(pilot)
        await pilot.resize_terminal(80, 18)  # a short terminal: the answers run past its bottom
        await pilot.pause()
        more = app.screen.query_one("#more-below")
        body = app.screen.query_one("#body")
        assert body.max_scroll_y > 0
        assert more.visible and "下に続きがあります" in shown(more)
        height = body.size.height
        await pilot.press("pagedown", "pagedown", "pagedown")
        await wait_for(pilot, lambda: not more.visible)
        # The line keeps its place when hidden: the rows above it stay put (a slow link resends moved rows).
        assert body.size.height == height
        await pilot.press("up")
        await wait_for(pilot, lambda: more.visible)


async def test_edit_from_review_keeps_every_answer(config: Config) -> None:
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await to_review(pilot)
        await pilot.click("#edit")
        await wait_for(pilot, lambda: app.screen.id == "applicant")
        for key in PERSON:
            assert app.screen.query_one(f"#{key}", Input).value, key
        assert app.screen.query_one("#name_kana", Input).value == "スズキ　イチロウ"
        await pilot.press("escape")  # back to route, then forward again: still kept
        await wait_for(pilot, lambda: app.screen.id == "route")
        await pilot.click("#next")
        await wait_for(pilot, lambda: app.screen.id == "applicant")
        assert app.screen.query_one("#name_kanji", Input).value == PERSON["name_kanji"]


async def test_disagree_wipes_and_returns_to_welcome(config: Config) -> None:
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.screen.id == "welcome")
        await pilot.click("#lang-en")
        await start(pilot)
        await pilot.click("#disagree")
        # Wiped at once; then told why, in the person's language, before the kiosk starts over.
        await wait_for(pilot, lambda: app.screen.id == "notice")
        assert app.session.is_empty
        assert "Without agreeing" in shown(app.screen.query_one("#notice-text"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.id == "welcome")
        assert app.session.lang == "ja"  # back to the kiosk's own language for the next person


async def test_agree_needs_the_whole_text_shown(config: Config) -> None:
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        agree_button = app.screen.query_one("#agree", Button)
        assert agree_button.disabled
        await pilot.click("#agree")
        assert app.screen.id == "consent" and not app.session.agreed
        for _ in range(40):
            await pilot.press("down")
        await pilot.pause()
        assert not agree_button.disabled


@pytest.mark.parametrize("step", ["route", "guidance", "applicant", "review", "send", "done"])
async def test_no_step_after_consent_without_consent(config: Config, step: str) -> None:
    from indice_kiosk.core.flow import Step

    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        assert app.goto(Step(step)) is False
        await pilot.pause()
        assert app.screen.id == "consent"
        for key in ("f10", "enter", "f5", "escape"):
            await pilot.press(key)
            assert app.screen.id in ("consent", "welcome"), key


# What UMIN's page says to someone whose INDICE password lapsed (the seed: time has passed since the last
# registration); the seed sends them to the combined application, not to the secretariat/NCD guidance.
NOT_ISSUED_MESSAGE = {"ja": "発行されておられません", "en": "no INDICE password has been issued"}


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_route_choices_land_each_person_on_the_seeds_branch(config: Config, lang: str) -> None:
    """#14.2: whoever saw UMIN's "no INDICE password has been issued" finds it under the combined application
    and lands on its form; "never joined a project" leads to the guidance, which sends the first kind back."""
    config = dataclasses.replace(config, kiosk=dataclasses.replace(config.kiosk, language=lang))
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await agree(pilot)
        message = NOT_ISSUED_MESSAGE[lang]
        assert compact(message) in compact(shown(app.screen.query_one("#route-indice-and-general")))
        assert compact(message) not in compact(shown(app.screen.query_one("#route-not-issued")))
        await choose(pilot, "indice-and-general")
        assert app.session.route is Route.INDICE_AND_GENERAL  # the application UMIN is faxed
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen.id == "route")
        await pilot.click("#route-not-issued")
        await pilot.click("#next")
        await wait_for(pilot, lambda: app.screen.id == "guidance")
        back_to = t(lang, "route.indice-and-general.title")
        assert compact(back_to) in compact(screen_text(app))


async def test_not_issued_guidance_prints_a_handout_and_ends(config: Config, private_cups) -> None:
    # The handout prints UMIN's page from the umin.page setting (a site may point at a newer page).
    page = "https://www.umin.ac.jp/kiosk-test/indice-page.htm"
    app = new_app(dataclasses.replace(config, umin=UminSettings(page=page)))
    async with app.run_test(size=SIZE) as pilot:
        await agree(pilot)
        await choose(pilot, "not-issued")
        text = screen_text(app)
        assert "JSOG・DB GO システム" in text and "NCD" in text
        await pilot.click("#print-guidance")
        status = app.screen.query_one("#guidance-status")
        await wait_for(pilot, lambda: "印刷しました" in shown(status), timeout=30)
        # Seen where it is said: at 80x24 the guidance runs past the bottom (the line under it says so),
        # and a status at the end of the text was below the edge -- "print" seemed to do nothing.
        assert app.screen.query_one("#more-below").visible
        assert status.region.height and app.screen.region.contains_region(status.region)
        await pilot.click("#finish")
        await wait_for(pilot, lambda: app.screen.id == "welcome")
        assert not app.session.agreed
    handout = pdf_text(private_cups.received()[-1].read_bytes())
    assert "JSOG" in handout
    assert page in handout and UminSettings().page not in handout


async def test_start_over_asks_then_wipes(config: Config) -> None:
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await agree(pilot)
        await choose(pilot, "indice-only")
        await fill(pilot, {"name_kanji": "消える 名前"})
        await pilot.press("f9")
        await wait_for(pilot, lambda: app.screen.id == "confirm")
        await pilot.click("#confirm-no")
        await wait_for(pilot, lambda: app.screen.id == "applicant")
        assert app.session.answers["name_kanji"] == "消える 名前"
        await start_over(pilot)
        assert app.session.answers == {}


async def test_mouse_alone_session(config: Config, private_cups) -> None:
    """Every step by clicks and the scroll wheel (typing aside: the form needs a keyboard by nature)."""
    from textual import events

    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.screen.id == "welcome")
        await pilot.click("#lang-en")
        await pilot.click("#start")
        await wait_for(pilot, lambda: app.screen.id == "consent")
        agree_button = app.screen.query_one("#agree", Button)
        for _ in range(30):
            if not agree_button.disabled:
                break
            # Pilot has no public wheel helper; this posts the same event the driver posts for a wheel turn.
            await pilot._post_mouse_events([events.MouseScrollDown], "#consent-text")
        assert not agree_button.disabled
        await pilot.click("#agree")
        await wait_for(pilot, lambda: app.screen.id == "route")
        await pilot.click("#route-indice-only")
        await pilot.click("#next")
        await wait_for(pilot, lambda: app.screen.id == "applicant")
        await fill(pilot, PERSON | {"name_kanji": "渡辺 三郎"})
        await pilot.click("#next")
        await wait_for(pilot, lambda: app.screen.id == "review")
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: app.screen.id == "send")
        await wait_for(pilot, lambda: app.screen.outcome is not None, timeout=40)
        await pilot.click("#next")
        await wait_for(pilot, lambda: app.screen.id == "done")
        await pilot.click("#check-signed")
        await pilot.click("#check-faxed")
        await pilot.click("#finish")
        await wait_for(pilot, lambda: app.screen.id == "welcome")
    assert "渡辺三郎" in pdf_text(received_with(private_cups, "渡辺三郎"))


async def test_idle_timeout_wipes_the_session(config: Config) -> None:
    # The kiosk's own timeout (180 s), on a clock the test moves: the warning 30 s before, then the wipe.
    clock = ManualClock()
    timeout = config.kiosk.idle_timeout
    app = new_app(config, monotonic=clock)
    async with app.run_test(size=SIZE) as pilot:
        await agree(pilot)
        await choose(pilot, "indice-only")
        await fill(pilot, {"name_kanji": "放置 太郎"})
        clock.advance(timeout - 40)
        await pilot.pause(1.5)
        assert app.screen.id == "applicant"  # not yet: no warning before the last 30 s
        clock.advance(15)
        await wait_for(pilot, lambda: app.screen.id == "idle", timeout=5)
        assert "あと 25 秒で入力内容を消して" in shown(app.screen.query_one("#idle-countdown"))
        # Any key keeps the session, and that key does nothing else.
        await pilot.press("f9")
        await wait_for(pilot, lambda: app.screen.id == "applicant")
        assert app.session.answers["name_kanji"] == "放置 太郎"
        # Left alone again: the warning, then the wipe.
        clock.advance(timeout - 10)
        await wait_for(pilot, lambda: app.screen.id == "idle", timeout=5)
        clock.advance(20)
        await wait_for(pilot, lambda: app.screen.id == "welcome", timeout=5)
        assert app.session.answers == {} and not app.session.agreed


async def test_unprintable_character_is_named_marked_and_handwritten(config: Config, private_cups) -> None:
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await agree(pilot)
        await choose(pilot, "indice-only")
        # 𠮷 (tsuchi-yoshi) is not in the font.
        await fill(pilot, PERSON | {"name_kanji": "\U00020bb7田 一郎"})
        line = app.screen.query_one("#problem-name_kanji")
        marked = f"「\U00020bb7」は印刷できないため{HANDWRITE_BOX}（空欄）になります"
        assert line.display and marked in shown(line)
        await pilot.click("#next")  # a warning, not an error: the form still goes on
        await wait_for(pilot, lambda: app.screen.id == "review")
        assert f"{HANDWRITE_BOX}田 一郎" in screen_text(app, ".review-value")
        await print_and_wait(pilot)
        await pilot.click("#next")
        await wait_for(pilot, lambda: app.screen.id == "done")
        handwrite = f"{HANDWRITE_BOX}の箇所は印刷できなかった文字です。手書きで記入してください：\U00020bb7"
        assert handwrite in screen_text(app)
    printed = pdf_text(received_with(private_cups, "［］田一郎"))  # the box's blanks are white space
    assert "\U00020bb7" not in printed and "〓" not in printed


async def test_backing_out_to_welcome_wipes(config: Config) -> None:
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await agree(pilot)
        await choose(pilot, "indice-only")
        await fill(pilot, {"name_kanji": "戻る 太郎"})
        for expected in ("route", "consent", "welcome"):
            await pilot.press("escape")
            await wait_for(pilot, lambda expected=expected: app.screen.id == expected)
        assert app.session.is_empty and app.session.answers == {}
        assert len(app.screen_stack) == 1


async def test_nothing_reaches_the_clipboard(config: Config) -> None:
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await agree(pilot)
        await choose(pilot, "indice-only")
        await pilot.press(*"secret-abc")
        await pilot.press("shift+home", "ctrl+c", "ctrl+x")
        assert app.clipboard == ""
        assert app.screen.query_one("#umin_id", Input).value in ("secret-abc", "")


async def test_enter_walks_the_form_and_consent_focuses_agree(config: Config) -> None:
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        await pilot.press("end")
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "agree")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.id == "route")
        await pilot.press("enter")  # the first choice
        await pilot.press("enter")  # personal ID (already chosen) moves focus on...
        await pilot.press("f10")
        await wait_for(pilot, lambda: app.screen.id == "applicant")
        assert app.focused.id == "umin_id"
        await pilot.press(*"tanaka-ab", "enter")
        assert app.focused.id == "name_kanji"
        for _ in range(8):
            await pilot.press("enter")
        assert app.focused.id == "next"  # after the last field shown, Enter lands on Next
        await pilot.press("enter")
        summary = shown(app.screen.query_one("#form-problem"))
        assert summary.startswith("次の項目を確認してください") and "、" in summary


KEYS_TO_TRY = [f"f{n}" for n in range(1, 13)] + [
    "enter", "escape", "tab", "shift+tab", "space", "up", "down", "pageup", "pagedown", "home", "end",
    "ctrl+c", "ctrl+q", "ctrl+p", "ctrl+z", "ctrl+backslash", "ctrl+s", "ctrl+d", "ctrl+r", "ctrl+l",
    "ctrl+n", "ctrl+x", "ctrl+v", "ctrl+a", "ctrl+e", "ctrl+t",
]


async def test_no_key_gets_past_consent_without_agreeing(config: Config) -> None:
    """Every key, alone, on the consent screen before the text was read: no later step, no exit."""
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        for key in KEYS_TO_TRY:
            if app.screen.id != "consent":
                if app.screen.id in ("confirm", "notice"):
                    await pilot.press("escape")
                await wait_for(pilot, lambda: app.screen.id in ("welcome", "consent"))
                if app.screen.id == "welcome":
                    await start(pilot)
            await pilot.press(key)
            await pilot.pause()
            assert app.is_running, key
            assert app.screen.id in ("welcome", "consent", "confirm", "notice"), key
            assert not app.session.agreed, key


async def test_clicks_where_later_steps_would_be_do_nothing(config: Config) -> None:
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        for x in range(0, 80, 7):
            for y in range(0, 24, 3):
                if app.screen.id != "consent":
                    break
                await pilot.click(offset=(x, y))
            assert not app.session.agreed
            if app.screen.id != "consent":  # a click may go back or to the notice: fine, never forward
                assert app.screen.id in ("welcome", "notice", "confirm")
                break


async def test_key_line_shows_the_keys_and_a_click_on_one_presses_it(config: Config) -> None:
    from rich.cells import cell_len

    from indice_kiosk.widgets.keybar import KeyBar

    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        bar = app.screen.query_one(KeyBar)
        # Agreeing is shown but not yet possible: the consent text has not been read to the end.
        assert [(shown, enabled) for _key, shown, _text, enabled in bar.keys()] == [
            ("esc", True), ("f10", False), ("f9", True)]
        assert "同意する" in str(bar.render())
        await pilot.click(KeyBar, offset=(cell_len(" esc 戻る  f10 同意する  ") + 1, 0))  # on "f9"
        await wait_for(pilot, lambda: app.screen.id == "confirm")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen.id == "consent")
        await pilot.click(KeyBar, offset=(cell_len(" esc 戻る  ") + 1, 0))  # on the dimmed "f10": nothing
        await pilot.pause(0.2)
        assert app.screen.id == "consent" and app.session.consent is None
        await pilot.click(KeyBar, offset=(1, 0))  # "esc": back
        await wait_for(pilot, lambda: app.screen.id == "welcome")


def focused_id(app) -> str | None:
    return getattr(app.focused, "id", None)


async def test_every_step_starts_on_its_natural_first_control(config: Config) -> None:
    """#14.7: each step's first control has the focus when the step is shown, and again when the person comes
    back to it -- never nothing (Enter then does nothing) and never the button that led on (one Enter would
    go forward again)."""
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        assert focused_id(app) == "consent-text"
        await pilot.press("end")
        await wait_for(pilot, lambda: not app.screen.query_one("#agree", Button).disabled)
        await pilot.click("#agree")
        await wait_for(pilot, lambda: app.screen.id == "route")
        assert focused_id(app) == "route"
        # The never-issued choice hides the ID-type question: Next takes the focus, so Enter goes on.
        await pilot.press("down", "down", "enter")
        await wait_for(pilot, lambda: focused_id(app) == "next")
        await pilot.click("#route-indice-only")  # a click chooses; the focus stays where the pointer is
        await wait_for(pilot, lambda: app.screen.route is Route.INDICE_ONLY and focused_id(app) == "route")
        await pilot.press("enter")
        await wait_for(pilot, lambda: focused_id(app) == "id-type")
        await pilot.press("enter")
        await wait_for(pilot, lambda: focused_id(app) == "next")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.id == "applicant")
        assert focused_id(app) == "umin_id"
        await pilot.press("escape")  # back to the route: its choices, not Next
        await wait_for(pilot, lambda: app.screen.id == "route")
        assert focused_id(app) == "route"
        await pilot.press("f10")
        await wait_for(pilot, lambda: app.screen.id == "applicant")
        await fill(pilot, PERSON)
        await submit_form(pilot)
        assert focused_id(app) == "confirm"
        await pilot.click("#edit")  # 修正する: back to the first field, not to 戻る or 次へ
        await wait_for(pilot, lambda: app.screen.id == "applicant")
        assert focused_id(app) == "umin_id"
        assert app.session.answers["name_kanji"] == PERSON["name_kanji"]


async def test_the_language_in_use_is_marked_not_only_highlighted(config: Config) -> None:
    """#14.9: on welcome the chosen language and the focused button looked alike (both bold reverse)."""
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.screen.id == "welcome")
        assert str(app.screen.query_one("#lang-ja", Button).label) == "✓ 日本語"
        assert str(app.screen.query_one("#lang-en", Button).label) == "English"
        await pilot.click("#lang-en")
        await wait_for(pilot, lambda: str(app.screen.query_one("#lang-en", Button).label) == "✓ English")
        assert str(app.screen.query_one("#lang-ja", Button).label) == "日本語"
        chosen = app.screen.query_one("#lang-en", Button).styles
        assert chosen.background != app.screen.query_one("#start", Button).styles.background
