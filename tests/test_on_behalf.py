"""The help desk enters an application for a caller on the phone (an operator's SSH session)."""

from __future__ import annotations

from textual.widgets import Button, Input

from indice_kiosk.core.config import Config
from tests.pilot import (
    PERSON,
    SIZE,
    choose,
    compact,
    fill,
    new_app,
    pdf_text,
    print_and_wait,
    screen_text,
    shown,
    start,
    submit_form,
    wait_for,
)

OPERATOR = "helpdesk-sato"


async def test_on_behalf_session_records_operator_and_identity_check(config: Config, private_cups) -> None:
    app = new_app(config, operator=OPERATOR)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        # The operator reads the rules out and confirms that the caller agreed.
        assert "読み上げてください" in screen_text(app)
        assert OPERATOR in shown(app.screen.query_one("#operator-note"))
        assert "発信者が同意しました" in str(app.screen.query_one("#agree", Button).label)
        await pilot.press("end")
        await wait_for(pilot, lambda: not app.screen.query_one("#agree", Button).disabled)
        await pilot.click("#agree")
        await wait_for(pilot, lambda: app.screen.id == "route")
        await choose(pilot, "indice-only")
        # The identity-check block, with the operator as the default checker; how is required.
        assert app.screen.query_one("#identity_checked_by", Input).value == OPERATOR
        await fill(pilot, PERSON | {"name_kanji": "電話 花子"})
        await pilot.click("#next")
        await pilot.pause()
        assert app.screen.id == "applicant"
        assert "入力してください" in shown(app.screen.query_one("#problem-identity_method"))
        await fill(pilot, {"identity_method": "職員証番号を確認し登録番号へ折り返し"})
        await submit_form(pilot)
        review = screen_text(app, ".review-value")
        assert OPERATOR in review and "職員証番号を確認" in review
        await print_and_wait(pilot)
        assert app.screen.outcome.kind == "completed"
    printed = next(pdf_text(p.read_bytes()) for p in reversed(private_cups.received())
                   if "電話花子" in pdf_text(p.read_bytes()))
    assert "ヘルプデスク代理入力" in printed and compact(OPERATOR) in printed
    assert "職員証番号を確認し登録番号へ折り返し" in printed
    assert "本人確認をした担当者" in printed


async def test_walk_up_kiosk_has_no_identity_block(config: Config) -> None:
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot)
        assert not app.screen.query("#operator-note")
        await pilot.press("end")
        await wait_for(pilot, lambda: not app.screen.query_one("#agree", Button).disabled)
        await pilot.click("#agree")
        await wait_for(pilot, lambda: app.screen.id == "route")
        await choose(pilot, "indice-only")
        assert not app.screen.query("#identity_method")
