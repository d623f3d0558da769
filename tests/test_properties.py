"""Properties of the answer model and the renderer, over generated input (hypothesis).

Whatever is typed or pasted, ``check`` answers with cleaned text or a named problem; it never raises,
and nothing it hands back can move the cursor, reorder text or hide characters. What passes ``check``
renders, and the PDF says what the applicant typed (with an empty box to write in where the font has no
glyph).
"""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from indice_kiosk.core.application import (
    ANSWER_KEYS,
    FIELD_BY_KEY,
    Application,
    ConsentRecord,
    IdType,
    Route,
    check,
    normalize,
)
from indice_kiosk.core.text import CATALOGUES, LANGS, t
from indice_kiosk.paper.document import render_application
from indice_kiosk.paper.fonts import DEFAULT_FONT_PATH, missing_chars, split_printable

MODEL = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RENDER = settings(max_examples=25, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
APPLYING_ROUTES = (Route.INDICE_ONLY, Route.INDICE_AND_GENERAL)

SNIPPETS = (
    "\x00", "\x1b[31m", "\x1b]52;c;ZWNobw==\x07", "\x1b]8;;http://x/\x1b\\", "\x1bP+q\x1b\\", "\x9b2J",
    "\x07", "\x08", "\x7f", "\u202e", "\u2066", "\u200b", "\u200d", "\ufeff", "\u00ad", "\u2060",
    "\r\n", "\n", "\t", "\u2028", "\x85", "\u3000", "\u00a0", "\ufe0f", "\U000e0100", "\u0301",
    "\U00020bb7", "\U0001f600", "ｶﾞ", "ﾟ", "０", "－", "＠", "[bold]", "[/]", "<b>", "&amp;", "{0}", "%s",
)
any_char = st.one_of(
    st.characters(),  # every category hypothesis knows, surrogates excluded
    st.integers(0, 0x10FFFF).map(chr),  # every code point, lone surrogates included
    st.integers(0xD800, 0xDFFF).map(chr),
    st.integers(0, 0x9F).map(chr),  # C0, DEL and C1 controls
)
hostile_text = st.one_of(
    st.text(),
    st.lists(st.one_of(any_char, st.sampled_from(SNIPPETS)), max_size=40).map("".join),
    st.lists(st.one_of(any_char, st.sampled_from(SNIPPETS)), min_size=100, max_size=300).map("".join),
)
keys = st.sampled_from(ANSWER_KEYS)
routes = st.sampled_from(APPLYING_ROUTES)
id_types = st.sampled_from(list(IdType))

JST = timezone(timedelta(hours=9), "JST")


def forbidden_in(text: str) -> list[str]:
    return [f"U+{ord(c):04X}" for c in text if unicodedata.category(c) in FORBIDDEN_CATEGORIES]


def printable(text: str) -> str:
    return missing_chars(text, DEFAULT_FONT_PATH)


# --- the answer model ---------------------------------------------------------------------------------


@MODEL
@given(route=routes, id_type=id_types, raw=st.dictionaries(keys, hostile_text, max_size=len(ANSWER_KEYS)))
def test_check_never_raises_and_hands_back_nothing_dangerous(
    route: Route, id_type: IdType, raw: dict[str, str]
) -> None:
    checked = check(route, id_type, raw, printable=printable)
    for key, value in checked.answers.items():
        assert not forbidden_in(value), (key, forbidden_in(value))
        assert "\n" not in value and "\x1b" not in value
        if checked.problem_for(key) is None:
            assert len(value) <= FIELD_BY_KEY[key].max_len, key
    for problem in (*checked.problems, *checked.warnings):
        assert problem.key in checked.answers
        for lang in LANGS:
            assert f"problem.{problem.code}" in CATALOGUES[lang]
            message = t(lang, f"problem.{problem.code}", chars=problem.chars)
            assert not forbidden_in(message) and "\x1b" not in message
    assert checked.ok == (not checked.problems)


@MODEL
@given(key=keys, value=hostile_text)
def test_normalize_is_idempotent(key: str, value: str) -> None:
    once = normalize(key, value)
    assert normalize(key, once) == once
    assert not forbidden_in(once)


@MODEL
@given(key=keys, value=hostile_text)
def test_max_len_is_enforced(key: str, value: str) -> None:
    route = Route.INDICE_AND_GENERAL
    raw = {key: value, "umin_id": ""} if key != "umin_id" else {key: value}
    checked = check(route, IdType.GROUP, raw)
    if key in checked.answers and checked.problem_for(key) is None:
        assert len(checked.answers[key]) <= FIELD_BY_KEY[key].max_len
    if len(normalize(key, value)) > FIELD_BY_KEY[key].max_len and key in checked.answers:
        problem = checked.problem_for(key)
        assert problem is not None and problem.code in ("too_long", "bad_chars")


# --- valid answers --------------------------------------------------------------------------------------

KATAKANA = [chr(c) for c in range(0x30A1, 0x30F7)] + ["ー"]
JAPANESE = st.one_of(
    st.integers(0x3041, 0x3096).map(chr),  # hiragana
    st.sampled_from(KATAKANA),
    st.integers(0x4E00, 0x9FFF).map(chr),  # CJK unified ideographs
    st.sampled_from("々〆ヶ・（）「」、。"),
)
free_char = st.one_of(
    JAPANESE,
    st.characters(min_codepoint=0x21, max_codepoint=0x7E),  # printable ASCII, markup-ish included
    st.characters(categories=("L", "N", "P", "S")),  # anything visible, font or not
    st.sampled_from(" \u3000"),
    st.sampled_from(["\U00020bb7", "\u845b\U000e0100", "\ufa19", "\U0001f600", "&", "<", ">", "[b]"]),
)


def free_text(max_len: int) -> st.SearchStrategy[str]:
    return st.lists(free_char, min_size=1, max_size=max_len).map("".join)


umin_ids = st.from_regex(r"[a-z0-9]{1,12}-[a-z0-9]{1,12}", fullmatch=True)
kana = st.lists(st.lists(st.sampled_from(KATAKANA), min_size=1, max_size=12).map("".join),
                min_size=1, max_size=3).map("\u3000".join)
romans = st.from_regex(r"[A-Z][a-z]{1,12}( [A-Z][a-z'\-]{1,12}){0,2}", fullmatch=True)
# Numbers in Japan's plan (the form takes valid numbers only): Tokyo, Osaka, a mobile, an IP phone.
phones = st.builds(
    lambda start, a, b, sep: f"{start[0]}{sep}{start[1]}{a}{sep}{b}",
    st.sampled_from([("03", "5"), ("06", "6"), ("090", "1"), ("080", "2"), ("050", "3")]),
    st.from_regex(r"[0-9]{3}", fullmatch=True),
    st.from_regex(r"[0-9]{4}", fullmatch=True),
    st.sampled_from(["-", ""]),
)
emails = st.from_regex(r"[a-z][a-z0-9]{0,15}(\.[a-z0-9]{1,8})?@[a-z][a-z0-9]{0,10}\.(ac\.jp|co\.jp|jp|com)",
                       fullmatch=True)


@st.composite
def valid_applications(draw: st.DrawFn) -> tuple[Route, IdType, dict[str, str]]:
    route = draw(routes)
    id_type = draw(id_types)
    answers: dict[str, str] = {}
    for key in ANSWER_KEYS:
        kind = FIELD_BY_KEY[key].kind
        strategy = {"id": umin_ids, "kana": kana, "roman": romans, "phone": phones, "email": emails}.get(
            kind, free_text(FIELD_BY_KEY[key].max_len))
        answers[key] = draw(strategy)
    if route is Route.INDICE_AND_GENERAL and draw(st.booleans()):
        answers["umin_id"] = ""  # forgotten: the find-ID fields are asked instead
    if draw(st.booleans()):
        answers["name_roman"] = ""  # optional
    return route, id_type, answers


@MODEL
@given(application=valid_applications())
def test_a_valid_application_stays_valid_after_normalize(
    application: tuple[Route, IdType, dict[str, str]],
) -> None:
    route, id_type, answers = application
    checked = check(route, id_type, answers)
    assume(checked.ok)
    renormalized = {key: normalize(key, value) for key, value in checked.answers.items()}
    assert renormalized == checked.answers
    again = check(route, id_type, renormalized)
    assert again.ok, again.problems
    assert again.answers == checked.answers


def test_the_valid_strategy_mostly_makes_valid_applications() -> None:
    """The renderer property below means little if most generated applications are refused."""
    examples: list[bool] = []

    @settings(max_examples=40, deadline=None, database=None)
    @given(application=valid_applications())
    def collect(application: tuple[Route, IdType, dict[str, str]]) -> None:
        route, id_type, answers = application
        examples.append(check(route, id_type, answers).ok)

    collect()
    assert sum(examples) >= len(examples) * 0.6, f"{sum(examples)} of {len(examples)} valid"


# --- the renderer --------------------------------------------------------------------------------------


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def pdf_reader() -> type:
    pypdf = pytest.importorskip("pypdf")
    return pypdf.PdfReader


@RENDER
@given(application=valid_applications())
def test_what_passes_check_renders_and_reads_back(
    pdf_reader: type, application: tuple[Route, IdType, dict[str, str]]
) -> None:
    route, id_type, answers = application
    checked = check(route, id_type, answers, printable=printable)
    assume(checked.ok)
    when = datetime(2025, 4, 1, 9, 30, tzinfo=JST)
    app = Application(
        route=route,
        id_type=id_type,
        answers=dict(checked.answers),
        consent=ConsentRecord("test-1", when, "ja"),
        project="JSOG・DB GO システム",
        applied_on=when,
        unprintable={w.key: w.chars for w in checked.warnings if w.code == "unprintable"},
    )
    pdf = render_application(app, font_path=DEFAULT_FONT_PATH, fax_number="03-0000-0000",
                             page_url="http://www.umin.ac.jp/", invariant=True)
    assert pdf.startswith(b"%PDF")
    reader = pdf_reader(io.BytesIO(pdf))
    text = _squash("".join(page.extract_text() or "" for page in reader.pages))
    for key, value in checked.answers.items():
        printed, _missing = split_printable(value, DEFAULT_FONT_PATH)
        assert not forbidden_in(printed)
        assert _squash(printed) in text, (key, value, printed)
