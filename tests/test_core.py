"""The core on its own: answers, the consent rule, the session wipe, settings, and the render command."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from indice_kiosk.cli import main as cli_main
from indice_kiosk.core import config as config_module
from indice_kiosk.core.application import IdType, Route, check, normalize, visible_keys
from indice_kiosk.core.config import ConfigError
from indice_kiosk.core.flow import Step, may_enter
from indice_kiosk.core.session import Session
from indice_kiosk.core.text import CATALOGUES
from indice_kiosk.cups import client as printing
from tests.pilot import PERSON, compact, pdf_text

ROOT = Path(__file__).resolve().parent.parent


# --- answers --------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("key", "typed", "cleaned"),
    [
        ("name_kana", "やまだ たろう", "ヤマダ\u3000タロウ"),
        ("name_kana", "ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ\u3000タロウ"),  # half-width katakana
        ("phone", "０３－１２３４－５６７８", "03-1234-5678"),
        ("phone", "03 (1234) 5678", "03-1234-5678"),
        ("umin_id", "ＹＡＭＡＤＡ－ＴＫＹ", "yamada-tky"),
        ("email", "ｙａｍａｄａ＠ｅｘａｍｐｌｅ．ａｃ．ｊｐ", "yamada@example.ac.jp"),
        ("name_kanji", " 神田 太郎 ", "神田 太郎"),
        ("name_kanji", "\ufa19田", "\ufa19田"),  # never NFKC: U+FA19 stays U+FA19
    ],
)
def test_answers_are_cleaned_without_changing_meaning(key: str, typed: str, cleaned: str) -> None:
    assert normalize(key, typed) == cleaned


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("umin_id", "yamada", "umin_id_shape"),
        ("umin_id", "yamada-tky-x", "umin_id_shape"),
        ("umin_id", "-tky", "umin_id_shape"),
        ("umin_id", "yamada_tky", "umin_id_shape"),
        ("name_kana", "山田", "kana_only"),
        ("name_kana", "smith", "kana_only"),  # not romaji: left for the person to write in katakana
        ("phone", "03-12", "phone_shape"),
        ("phone", "03-1234-567", "phone_shape"),  # a digit short: a possible length, no such number
        ("phone", "abc", "phone_shape"),
        ("email", "yamada@", "email_shape"),
        ("email", "yamada example.ac.jp", "email_shape"),
        ("name_kanji", "山田\x1b[31m太郎", "bad_chars"),
        ("name_kanji", "山田\u202e太郎", "bad_chars"),
        ("name_kanji", "山田\u200b太郎", "bad_chars"),
        ("name_kanji", "山" * 41, "too_long"),
        ("institution", "", "required"),
    ],
)
def test_bad_answers_get_a_named_problem(key: str, value: str, code: str) -> None:
    checked = check(Route.INDICE_ONLY, IdType.PERSONAL, PERSON | {key: value})
    problem = checked.problem_for(key)
    assert problem is not None and problem.code == code
    assert not checked.ok


def test_a_good_application_checks_clean() -> None:
    checked = check(Route.INDICE_ONLY, IdType.PERSONAL, PERSON)
    assert checked.ok, checked.problems
    assert checked.answers["name_kana"] == "スズキ\u3000イチロウ"


def test_umin_id_required_only_on_indice_only() -> None:
    without_id = {k: v for k, v in PERSON.items() if k != "umin_id"}
    assert check(Route.INDICE_ONLY, IdType.PERSONAL, without_id).problem_for("umin_id").code == "required"
    checked = check(Route.INDICE_AND_GENERAL, IdType.PERSONAL, without_id)
    assert checked.problem_for("umin_id") is None
    # ...but then UMIN needs something to find the ID by.
    assert checked.problem_for("past_affiliations").code == "required"
    assert checked.problem_for("alma_mater").code == "required"
    assert checked.problem_for("societies") is None  # optional


def test_find_id_fields_only_when_id_unknown() -> None:
    assert "alma_mater" not in visible_keys(Route.INDICE_AND_GENERAL, IdType.PERSONAL, {"umin_id": "a-b"})
    assert "alma_mater" in visible_keys(Route.INDICE_AND_GENERAL, IdType.PERSONAL, {"umin_id": ""})
    assert "alma_mater" not in visible_keys(Route.INDICE_ONLY, IdType.PERSONAL, {"umin_id": ""})
    assert "representative_name" in visible_keys(Route.INDICE_ONLY, IdType.GROUP, {})


def test_no_field_asks_for_a_password() -> None:
    from indice_kiosk.core.application import ANSWER_KEYS

    assert not any("pass" in key for key in ANSWER_KEYS)
    for lang, catalogue in CATALOGUES.items():
        for key, text in catalogue.items():
            if key.startswith(("field.", "placeholder.")):
                assert "パスワード" not in text and "password" not in text.lower(), (lang, key)


def test_catalogues_have_the_same_keys() -> None:
    assert set(CATALOGUES["ja"]) == set(CATALOGUES["en"])


# --- the consent rule and the wipe ----------------------------------------------------------------

def test_no_step_after_consent_without_consent() -> None:
    session = Session(route=Route.INDICE_ONLY)
    for step in Step:
        assert may_enter(step, session) == (step in (Step.WELCOME, Step.CONSENT)), step
    session.agree()
    assert may_enter(Step.ROUTE, session) and may_enter(Step.APPLICANT, session)
    assert not may_enter(Step.REVIEW, session)  # no checked application yet
    assert not may_enter(Step.GUIDANCE, session)  # wrong route


def test_application_needs_consent_and_valid_answers() -> None:
    session = Session(route=Route.INDICE_ONLY, answers=dict(PERSON))
    session.check_answers()
    with pytest.raises(PermissionError):
        session.make_application("P")
    session.agree()
    application = session.make_application("P", now=datetime(2026, 1, 2).astimezone())
    assert application.answers["umin_id"] == "suzuki-kyt"
    assert application.consent is session.consent


def test_wipe_forgets_everything() -> None:
    session = Session(route=Route.INDICE_ONLY, answers=dict(PERSON))
    session.agree()
    session.check_answers()
    session.make_application("P")
    session.keep_document(b"%PDF-secret")
    buffer = session.document
    session.jobs.append(7)
    session.delivered.add("print")
    session.wipe("test")
    assert session.answers == {} and session.application is None and session.checked is None
    assert session.consent is None and session.route is None and session.jobs == []
    assert not session.delivered and not session.fully_delivered
    assert buffer == bytearray(len(b"%PDF-secret"))  # the buffer itself was overwritten, not just dropped


# --- settings ---------------------------------------------------------------------------------------

def test_shipped_kiosk_toml_loads_with_defaults() -> None:
    config = config_module.load(ROOT / "kiosk.toml")
    assert config.fax.number == "03-5689-0726"
    assert config.delivery.mode == "print"
    assert config.project.name == "JSOG・DB GO システム"
    assert config.kiosk.language == "ja"
    # The shipped file documents every key it sets.
    assert config_module.to_dict(config) == config_module.to_dict(config_module.Config())


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("[cups]\nqueu = 'x'\n", "cups.queu", "unknown key"),
        ("[printer]\nqueue = 'x'\n", "printer", "unknown section"),
        ("[kiosk]\nidle_timeout = 'soon'\n", "kiosk.idle_timeout", "whole number"),
        ("[kiosk]\nlanguage = 'fr'\n", "kiosk.language", "one of"),
        ("[cups]\nqueue = 'two words'\n", "cups.queue", "queue name"),
        ("[fax]\nnumber = 'call me'\n", "fax.number", "digits"),
        ("[fax]\ndial_prefix = 'zero'\n", "fax.dial_prefix", "digits"),
        ("[delivery]\nmode = 'pigeon'\n", "delivery.mode", "one of"),
        ("[kiosk\n", "-", "not valid TOML"),
    ],
)
def test_settings_errors_name_file_key_and_problem(tmp_path: Path, text: str, key: str, words: str) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        config_module.load(path)
    message = str(caught.value)
    assert str(path) in message and key in message and words in message


def test_settings_round_trip_through_tomli_w(tmp_path: Path) -> None:
    config = config_module.load(ROOT / "kiosk.toml")
    path = tmp_path / "again.toml"
    path.write_text(config_module.dumps(config), encoding="utf-8")
    assert config_module.to_dict(config_module.load(path)) == config_module.to_dict(config)


# --- the render command -------------------------------------------------------------------------------

def test_render_sample(tmp_path: Path) -> None:
    out = tmp_path / "sample.pdf"
    assert cli_main(["render", "--sample", "--out", str(out)]) == 0
    assert "症例登録(INDICE)用パスワード更新申請書" in pdf_text(out.read_bytes())


def test_render_answers_file(tmp_path: Path) -> None:
    answers = tmp_path / "me.toml"
    lines = [f'{k} = "{v}"' for k, v in PERSON.items()] + ['route = "indice-only"', 'id_type = "personal"']
    answers.write_text("\n".join(lines), encoding="utf-8")
    out = tmp_path / "me.pdf"
    assert cli_main(["render", "--answers", str(answers), "--out", str(out)]) == 0
    text = pdf_text(out.read_bytes())
    for value in ("suzuki-kyt", "鈴木一郎", "スズキイチロウ", "075-751-3111"):
        assert compact(value) in text


def test_render_answers_file_with_problems_gives_the_form_messages(tmp_path: Path, capsys) -> None:
    answers = tmp_path / "bad.toml"
    answers.write_text('route = "indice-only"\nname_kanji = "山田"\numin_id = "Bad_ID"\n', encoding="utf-8")
    out = tmp_path / "bad.pdf"
    assert cli_main(["render", "--answers", str(answers), "--out", str(out), "--lang", "en"]) == 1
    err = capsys.readouterr().err
    assert "umin_id (UMIN ID): A UMIN ID looks like" in err
    assert "name_kana (Name (katakana)): Please fill this in." in err
    assert not out.exists()


def test_launcher_hardens_the_process(monkeypatch) -> None:
    import resource

    from indice_kiosk.cli import UNSAFE_ENV, harden_process

    for name in UNSAFE_ENV:
        monkeypatch.setenv(name, "devtools")  # e.g. TEXTUAL=devtools would stream the screen to a socket
    harden_process()  # (this test process keeps no core dumps afterwards either: harmless)
    assert resource.getrlimit(resource.RLIMIT_CORE) == (0, 0)
    assert not any(name in os.environ for name in UNSAFE_ENV)


def test_written_out_ipp_codes_match_pycups() -> None:
    import cups


    for name in ("IPP_FORBIDDEN", "IPP_NOT_AUTHENTICATED", "IPP_NOT_AUTHORIZED", "IPP_NOT_FOUND",
                 "IPP_DOCUMENT_FORMAT", "IPP_DOCUMENT_FORMAT_ERROR", "IPP_SERVICE_UNAVAILABLE",
                 "IPP_NOT_ACCEPTING", "IPP_AUTHENTICATION_CANCELED", "IPP_ERROR"):
        assert getattr(printing, name) == getattr(cups, name), name
    assert printing._PRINTER_FAX == cups.CUPS_PRINTER_FAX
@pytest.mark.parametrize(("text", "width", "lines"), [
    # Japanese breaks between any two characters; a closing mark never starts a line.
    ("申請書を印刷しました。", 10, ("申請書を印", "刷しまし", "た。")),
    # English breaks at spaces only, never inside a word -- with an apostrophe in it either.
    ("Please check: Group representative's name", 35, ("Please check: Group", "representative's name")),
    ("an address yamada@example.ac.jp here", 20, ("an address", "yamada@example.ac.jp", "here")),
])
def test_prose_wraps_as_japanese_and_english_are_set(text: str, width: int, lines: tuple[str, ...]) -> None:
    from indice_kiosk.widgets.prose import wrap

    assert wrap(text, width) == lines
