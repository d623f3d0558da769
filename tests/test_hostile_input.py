"""Hostile input, field by field: each gets a clear message in place, or a stated harmless conversion.

The table is generated: every answer field × every hostile pattern, each case named by what it is
(``name_kanji-osc52-clipboard``, ``phone-fullwidth-digits``...). Every case is checked against the
answer model; a representative slice is also typed into the real form.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import pytest
from textual.widgets import Button, Input

from indice_kiosk.core.application import (
    ANSWER_KEYS,
    FIELD_BY_KEY,
    FIELDS,
    FIND_ID_KEYS,
    HANDWRITE_BOX,
    IDENTITY_KEYS,
    IdType,
    Route,
    check,
    defuse,
    normalize,
)
from indice_kiosk.core.config import Config
from indice_kiosk.core.text import CATALOGUES, LANGS, t
from indice_kiosk.paper.fonts import DEFAULT_FONT_PATH, missing_chars, split_printable
from tests.pilot import SIZE, agree, choose, fill, new_app, shown, wait_for

# A clean applicant: every field filled with a value that is already in its cleaned form.
BASE: dict[str, str] = {
    "umin_id": "yamada-tky",
    "name_kanji": "山田 太郎",
    "name_kana": "ヤマダ\u3000タロウ",
    "name_roman": "Taro Yamada",
    "institution": "架空大学病院",
    "department": "産婦人科",
    "position": "助教",
    "phone": "03-1234-5678",
    "email": "yamada@example.ac.jp",
    "past_affiliations": "架空医療センター",
    "alma_mater": "架空大学",
    "societies": "日本架空学会",
    "license": "医師免許 第000000号",
    "representative_name": "佐藤 花子",
    "identity_method": "職員証を確認",
    "identity_checked_by": "ヘルプデスク 鈴木",
}
OPTIONAL = frozenset({"name_roman", "societies", "license"})  # in the context each field is checked in

# Where a value can be split to put something in the middle of it.
MIDDLE: dict[str, tuple[str, str]] = {
    "umin_id": ("yamada", "-tky"),
    "name_kanji": ("山田", " 太郎"),
    "name_kana": ("ヤマダ", "\u3000タロウ"),
    "name_roman": ("Taro", " Yamada"),
    "phone": ("03-1234", "-5678"),
    "email": ("yamada", "@example.ac.jp"),
}


def middle(key: str) -> tuple[str, str]:
    if key in MIDDLE:
        return MIDDLE[key]
    value = BASE[key]
    cut = max(1, len(value) // 2)
    return value[:cut], value[cut:]


def context(key: str) -> tuple[Route, IdType]:
    """A route and ID type on which the form shows (and so checks) this field."""
    if key in FIND_ID_KEYS:
        return Route.INDICE_AND_GENERAL, IdType.PERSONAL
    if key == "representative_name":
        return Route.INDICE_ONLY, IdType.GROUP
    return Route.INDICE_ONLY, IdType.PERSONAL


def others(key: str) -> dict[str, str]:
    answers = dict(BASE)
    if key in FIND_ID_KEYS:
        answers["umin_id"] = ""  # the find-ID fields are asked only when the UMIN ID is not known
    return answers


SHAPE_CODE = {
    "id": "umin_id_shape",
    "kana": "kana_only",
    "roman": "roman_only",
    "phone": "phone_shape",
    "email": "email_shape",
    "text": None,  # free text: accepted as typed
}


@dataclass(frozen=True)
class Example:
    name: str
    value: str
    code: str | None  # the expected problem, or None when the value is fine
    cleaned: str | None = None  # when fine: the expected cleaned value
    warns: bool | None = None  # when fine: whether an "unprintable" warning is expected (None: either)


@dataclass(frozen=True)
class Case:
    """One behaviour, on one field: every example of the same class of input, expected to take the same
    path through the answer model."""

    id: str
    key: str
    examples: tuple[Example, ...]

    def __str__(self) -> str:
        return self.id


def one(case_id: str, key: str, value: str, code: str | None, cleaned: str | None = None,
        warns: bool | None = None) -> Case:
    return Case(case_id, key, (Example(case_id, value, code, cleaned, warns),))


# --- hostile patterns that must always be refused with bad_chars ------------------------------------

# Inserted into the middle of a clean value: each must be refused, whatever the field. By class: each class
# is one behaviour (refused, named by code point), checked on one field of each kind, and every member of
# every class is checked.
HIDDEN_CLASSES: dict[str, dict[str, str]] = {
    "c0-controls": {"nul-middle": "\x00", "c0-soh": "\x01", "c0-unit-separator": "\x1f", "del": "\x7f",
                    "bell": "\x07", "backspace": "\x08\x08"},
    "c1-controls": {"c1-padding": "\x80", "c1-csi-8bit": "\x9b31m", "c1-osc-8bit": "\x9d0;title\x9c"},
    "escape-sequences": {
        "esc-alone": "\x1b",
        "ansi-sgr-red": "\x1b[31m",
        "ansi-sgr-reset": "\x1b[0m",
        "osc52-clipboard": "\x1b]52;c;ZWNobyBwd25lZA==\x07",
        "osc52-clipboard-st": "\x1b]52;c;ZWNobyBwd25lZA==\x1b\\",
        "osc8-hyperlink": "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",
        "osc0-window-title": "\x1b]0;pwned\x07",
        "dcs-request": "\x1bP+q544e\x1b\\",
        "csi-clear-home": "\x1b[2J\x1b[H",
        "csi-cursor-up": "\x1b[5A",
    },
    "bidi-controls": {"rlo-override": "\u202e", "lro-override": "\u202d", "pdf-pop": "\u202c",
                      "rli-isolate": "\u2067", "fsi-pdi-isolate": "\u2068x\u2069", "rlm-mark": "\u200f",
                      "arabic-letter-mark": "\u061c"},
    "invisible-format": {"zwsp": "\u200b", "zwj": "\u200d", "zwnj": "\u200c", "bom": "\ufeff",
                         "soft-hyphen": "\u00ad", "word-joiner": "\u2060", "hangul-filler": "\u3164",
                         "tag-chars": "\U000e0041\U000e007f"},
    "surrogates": {"lone-surrogate-high": "\ud800", "lone-surrogate-low": "\udfff",
                   "split-surrogate-pair": "\ud842\udfb7"},
    "not-characters": {"private-use": "\ue000", "unassigned": "\u0378", "replacement-char": "\ufffd"},
}
HIDDEN: dict[str, str] = {name: chars for members in HIDDEN_CLASSES.values()
                          for name, chars in members.items()}

# --- pastes: line breaks and tabs become spaces, and the words are kept --------------------------------

EDGE_BREAKS: dict[str, tuple[str, str]] = {
    "paste-trailing-lf": ("", "\n"),
    "paste-trailing-crlf": ("", "\r\n"),
    "paste-leading-tab": ("\t", ""),
    "paste-surrounded-nbsp": ("\u00a0", "\u2003"),
}
INNER_BREAKS: dict[str, str] = {
    "paste-tab": "\t",
    "paste-lf": "\n",
    "paste-cr": "\r",
    "paste-crlf": "\r\n",
    "paste-vt-ff": "\v\f",
    "paste-line-separator": "\u2028",
    "paste-nel": "\x85",
}

WHITESPACE_ONLY: dict[str, str] = {
    "blank-space": "   ",
    "blank-ideographic-space": "\u3000\u3000",
    "blank-tabs-newlines": "\t\r\n\t",
    "blank-nbsp-emspace": "\u00a0\u2003",
}

# Printable but odd: free-text fields keep them as typed (the PDF escapes them); shaped fields refuse them.
ODD_TEXT: dict[str, str] = {
    "rich-markup": "[bold red]x[/]",
    "textual-click-markup": "[@click=app.quit]x[/]",
    "html-entity": "<b>&amp;</b>",
    "xml-cdata": "<![CDATA[x]]>",
    "sql-injection": "'; DROP TABLE applicants;--",
    "path-traversal": "../../etc/passwd",
    "format-string": "{0}{name}%s%n",
    "emoji": "\U0001f600",
    "emoji-flag-vs16": "\u2764\ufe0f",
    "tsuchiyoshi": "\U00020bb7",
    "ivs-kuzu": "\u845b\U000e0100",
    "cjk-compat-kami": "\ufa19",
}
COMBINING_ONLY = "\u0301\u0308"


# One field per kind of answer: each kind is a code path of its own (tests/test_hostile_input.py checks
# every class of input on each; test_every_field_refuses_every_class sweeps all the fields).
BY_KIND: dict[str, str] = {"id": "umin_id", "text": "name_kanji", "kana": "name_kana", "roman": "name_roman",
                           "phone": "phone", "email": "email"}


def _cases() -> list[Case]:
    cases: list[Case] = []
    for kind, key in BY_KIND.items():
        head, tail = middle(key)
        for class_name, members in HIDDEN_CLASSES.items():
            cases.append(Case(f"{kind}-{class_name}", key, tuple(
                Example(name, head + chars + tail, "bad_chars") for name, chars in members.items())))
        cases.append(Case(f"{kind}-degenerate", key, (
            Example("nul-only", "\x00", "bad_chars"),
            Example("combining-marks-only", COMBINING_ONLY, "bad_chars"),
            Example("variation-selector-alone", "\ufe0f", "bad_chars"),
        )))
        cases.append(Case(f"{kind}-paste-edges", key, tuple(
            Example(name, before + BASE[key] + after, None, BASE[key])
            for name, (before, after) in EDGE_BREAKS.items())))
        inner: list[Example] = []
        for name, breaks in INNER_BREAKS.items():
            value = head + breaks + tail.lstrip(" \u3000")
            if kind == "text":
                inner.append(Example(name, value, None, head + " " + tail.lstrip(" ")))
            elif kind in ("kana", "roman"):
                inner.append(Example(name, value, None, BASE[key]))
            elif kind == "phone":
                inner.append(Example(name, "03" + breaks + "1234" + breaks + "5678", None, "0312345678"))
            else:  # a break inside an ID or an address is a break in the shape
                inner.append(Example(name, value, SHAPE_CODE[kind]))
        cases.append(Case(f"{kind}-paste-breaks-inside", key, tuple(inner)))
        odd: list[Example] = []
        for name, text in ODD_TEXT.items():
            if kind == "text":
                unprintable = name in ("emoji", "emoji-flag-vs16", "tsuchiyoshi", "ivs-kuzu")
                odd.append(Example(name, text, None, text, warns=unprintable))
            else:
                odd.append(Example(name, text, SHAPE_CODE[kind]))
        cases.append(Case(f"{kind}-odd-printable-text", key, tuple(odd)))
    for spec in FIELDS:  # what depends on the field itself: required or not, and its length
        key, kind = spec.key, spec.kind
        blank_code, blank_cleaned = (None, "") if key in OPTIONAL else ("required", None)
        cases.append(Case(f"{key}-blank", key, tuple(
            Example(name, blank, blank_code, blank_cleaned) for name, blank in WHITESPACE_ONLY.items())))
        filler = {"id": "a", "kana": "ア", "roman": "A", "phone": "0", "email": "a", "text": "山"}[kind]

        def sized(n: int, kind: str = kind, filler: str = filler) -> str:
            if kind == "id":
                return "a" * (n - 2) + "-b"
            if kind == "email":
                return "a" * (n - len("@example.jp")) + "@example.jp"
            return filler * n

        at_limit = sized(spec.max_len)
        limit_ok = kind != "phone"  # 24 zeros is not a possible number: a shape problem, not a length one
        cases.append(Case(f"{key}-length", key, (
            Example("exactly-max-len", at_limit, None if limit_ok else "phone_shape",
                    at_limit if limit_ok else None),
            Example("overlong-max-plus-1", sized(spec.max_len + 1), "too_long"),
            Example("overlong-10x", sized(spec.max_len * 10), "too_long"),
            Example("long-single-word", "x" * 5000, "too_long"),
            Example("overlong-with-nul", sized(spec.max_len * 2) + "\x00", "bad_chars"),
        )))
    cases += _conversions()
    return cases


def _conversions() -> list[Case]:
    """Benign conversions, with the value they must become (each its own behaviour)."""
    z = one
    return [
        z("umin_id-fullwidth-ascii", "umin_id", "ＹＡＭＡＤＡ－ＴＫＹ", None, "yamada-tky"),
        z("umin_id-uppercase-spaces", "umin_id", "  Yamada-TKY ", None, "yamada-tky"),
        z("umin_id-ideographic-space-around", "umin_id", "\u3000yamada-tky\u3000", None, "yamada-tky"),
        z("phone-fullwidth-digits", "phone", "０３－１２３４－５６７８", None, "03-1234-5678"),
        z("phone-fullwidth-parens", "phone", "０３（１２３４）５６７８", None, "03-1234-5678"),
        z("phone-katakana-long-vowel-dashes", "phone", "03ー1234ー5678", None, "03-1234-5678"),
        z("phone-halfwidth-long-vowel", "phone", "03ｰ1234ｰ5678", None, "03-1234-5678"),
        z("phone-en-dashes", "phone", "03–1234–5678", None, "03-1234-5678"),
        z("phone-ideographic-spaces", "phone", "03\u30001234\u30005678", None, "0312345678"),
        z("phone-plus-country-code", "phone", "+81-3-1234-5678", "phone_shape"),
        z("phone-letters", "phone", "03-CALL-NOW", "phone_shape"),
        z("email-fullwidth", "email", "ｙａｍａｄａ＠ｅｘａｍｐｌｅ．ａｃ．ｊｐ", None,
          "yamada@example.ac.jp"),
        z("email-fullwidth-at-only", "email", "yamada＠example.ac.jp", None, "yamada@example.ac.jp"),
        z("email-japanese-local-part", "email", "山田@example.ac.jp", "email_shape"),
        z("email-two-ats", "email", "a@b@example.jp", "email_shape"),
        z("email-quoted-local", "email", '"a b"@example.jp', "email_shape"),
        z("email-domain-literal", "email", "a@[127.0.0.1]", "email_shape"),
        z("name_kana-hiragana", "name_kana", "やまだ たろう", None, "ヤマダ\u3000タロウ"),
        z("name_kana-halfwidth", "name_kana", "ﾔﾏﾀﾞ ﾀﾛｳ", None, "ヤマダ\u3000タロウ"),
        z("name_kana-halfwidth-dakuten", "name_kana", "ｶﾞｯｺｳ", None, "ガッコウ"),
        z("name_kana-halfwidth-handakuten", "name_kana", "ﾊﾟﾝ", None, "パン"),
        z("name_kana-halfwidth-vu", "name_kana", "ｳﾞｨｰ", None, "ヴィー"),
        z("name_kana-nfd-dakuten", "name_kana", "ガッコウ", None, "ガッコウ"),
        z("name_kana-many-spaces", "name_kana", "ヤマダ \u3000  タロウ", None, "ヤマダ\u3000タロウ"),
        z("name_kana-kanji", "name_kana", "山田", "kana_only"),
        z("name_kana-latin", "name_kana", "smith", "kana_only"),  # romaji ("yamada") is converted
        z("name_roman-fullwidth", "name_roman", "Ｔａｒｏ Ｙａｍａｄａ", None, "Taro Yamada"),
        z("name_roman-apostrophe-hyphen", "name_roman", "O'Brien-Smith", None, "O'Brien-Smith"),
        z("name_roman-digits", "name_roman", "Taro 2", "roman_only"),
        z("name_kanji-cjk-compat-stays", "name_kanji", "\ufa19田", None, "\ufa19田"),
        z("name_kanji-tsuchiyoshi-family-name", "name_kanji", "\U00020bb7田 一郎", None,
          "\U00020bb7田 一郎", True),
        z("name_kanji-nfd-kana-composed", "name_kanji", "カ\u3099ク", None, "ガク"),
        z("name_kanji-halfwidth-kana-kept", "name_kanji", "ﾔﾏﾀﾞ", None, "ﾔﾏﾀﾞ"),
        z("name_kanji-fullwidth-ascii-kept", "name_kanji", "ＡＢＣ", None, "ＡＢＣ"),
        z("name_kanji-ideographic-space-inside", "name_kanji", "山田\u3000太郎", None, "山田\u3000太郎"),
        z("name_kanji-combining-accent-on-base", "name_kanji", "Jose\u0301", None, "Jose\u0301"),
        z("institution-paste-crlf-lines", "institution", "架空大学\r\n医学部\r\n附属病院\r\n", None,
          "架空大学 医学部 附属病院"),
        z("institution-emoji-zwj-family", "institution", "\U0001f468\u200d\U0001f469\u200d\U0001f467",
          "bad_chars"),
        z("department-nbsp-inside", "department", "産婦人科\u00a0外来", None, "産婦人科 外来"),
    ]


CASES = _cases()
CASE_IDS = [c.id for c in CASES]

# What must never be in a cleaned answer: controls, format characters (bidi, zero-width, BOM...),
# surrogates, line and paragraph separators.
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def forbidden_in(text: str) -> list[str]:
    return [f"U+{ord(c):04X}" for c in text if unicodedata.category(c) in FORBIDDEN_CATEGORIES]


@cache
def printable() -> Callable[[str], str]:
    return lambda text: missing_chars(text, DEFAULT_FONT_PATH)


def test_the_table_covers_every_field_and_every_pattern() -> None:
    assert len(set(CASE_IDS)) == len(CASE_IDS), "case names must be unique"
    assert {c.key for c in CASES} == set(ANSWER_KEYS)
    examples = {e.name for c in CASES for e in c.examples}
    assert set(HIDDEN) <= examples and set(ODD_TEXT) <= examples and set(INNER_BREAKS) <= examples
    assert sum(len(c.examples) for c in CASES) >= 400  # the patterns; the cases are the behaviours


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_hostile_answer(case: Case) -> None:
    for example in case.examples:
        try:
            check_example(case.key, example)
        except AssertionError as error:
            raise AssertionError(f"{case.id} / {example.name}: {error}") from None


def check_example(key: str, example: Example) -> None:
    route, id_type = context(key)
    raw = others(key) | {key: example.value}
    # The identity-check fields are on the form only when the help desk enters it for a caller.
    checked = check(route, id_type, raw, printable=printable(), on_behalf=key in IDENTITY_KEYS)

    # Nothing dangerous is ever handed back, whatever the verdict, and cleaning it again changes nothing.
    for answer_key, value in checked.answers.items():
        assert not forbidden_in(value), (answer_key, forbidden_in(value))
    once = normalize(key, example.value)
    assert not forbidden_in(once)
    assert normalize(key, once) == once

    # Everything else is kept as it was and is fine.
    for answer_key, value in checked.answers.items():
        if answer_key != key:
            assert value == raw[answer_key], answer_key
    assert {p.key for p in checked.problems} <= {key}, checked.problems

    problem = checked.problem_for(key)
    if example.code is None:
        assert problem is None, problem
        assert checked.ok
        assert checked.answers[key] == example.cleaned
        assert len(once) <= FIELD_BY_KEY[key].max_len
        warning = checked.warning_for(key)
        if example.warns is not None:
            assert (warning is not None) == example.warns, warning
        if warning is not None:
            assert warning.code == "unprintable" and warning.chars
            _assert_message(warning.code, warning.chars)
        printed, _ = split_printable(checked.answers[key], DEFAULT_FONT_PATH)
        assert not forbidden_in(printed)
    else:
        assert problem is not None and problem.code == example.code, problem
        assert not checked.ok
        _assert_message(problem.code, problem.chars)
        if problem.code == "bad_chars":
            assert problem.chars and all(part.startswith("U+") for part in problem.chars.split())


def test_every_field_refuses_every_class() -> None:
    """No field of the same kind takes another path: one member of each class, in every field."""
    for spec in FIELDS:
        head, tail = middle(spec.key)
        for class_name, members in HIDDEN_CLASSES.items():
            name, chars = next(iter(members.items()))
            try:
                check_example(spec.key, Example(name, head + chars + tail, "bad_chars"))
            except AssertionError as error:
                raise AssertionError(f"{spec.key} / {class_name}: {error}") from None


def _assert_message(code: str, chars: str) -> None:
    for lang in LANGS:
        assert f"problem.{code}" in CATALOGUES[lang], (lang, code)
        message = t(lang, f"problem.{code}", chars=chars)
        assert message.strip()
        assert not forbidden_in(message), (lang, code, forbidden_in(message))
        assert "\x1b" not in message


def test_refused_characters_are_named_by_code_point() -> None:
    checked = check(Route.INDICE_ONLY, IdType.PERSONAL, BASE | {"name_kanji": "山\x1b[31m田\u202e\x00"})
    problem = checked.problem_for("name_kanji")
    assert problem is not None and problem.code == "bad_chars"
    assert problem.chars == "U+001B U+202E U+0000"
    # The answer keeps the words, with a visible mark where each escape or invisible character was.
    assert checked.answers["name_kanji"] == "山\ufffd田\ufffd\ufffd"


def test_unprintable_characters_become_geta_on_paper() -> None:
    checked = check(Route.INDICE_ONLY, IdType.PERSONAL, BASE | {"name_kanji": "\U00020bb7田 一郎"},
                    printable=printable())
    assert checked.ok
    warning = checked.warning_for("name_kanji")
    assert warning is not None and warning.chars == "\U00020bb7"
    assert split_printable(checked.answers["name_kanji"], DEFAULT_FONT_PATH)[0] == HANDWRITE_BOX + "田 一郎"


@pytest.mark.parametrize("class_name", list(HIDDEN_CLASSES))
def test_defuse_makes_any_value_safe_to_show_and_changes_nothing_else(class_name: str) -> None:
    for name, chars in HIDDEN_CLASSES[class_name].items():
        safe = defuse("山田" + chars + " 太郎")
        assert not forbidden_in(safe), name
        assert safe.startswith("山田") and safe.endswith(" 太郎"), name
        assert defuse(safe) == safe, name
    assert defuse("  ＡＢＣ ｶﾅ　") == "  ＡＢＣ ｶﾅ　"  # no cleaning beyond safety


def test_answers_that_are_not_text_are_treated_as_empty() -> None:
    raw: dict[str, object] = dict(BASE) | {"name_roman": None, "societies": 42}
    checked = check(Route.INDICE_ONLY, IdType.PERSONAL, raw)  # type: ignore[arg-type]
    assert checked.ok and checked.answers["name_roman"] == ""


# --- the real form ------------------------------------------------------------------------------------

UI_PERSON = {k: BASE[k] for k in ("umin_id", "name_kanji", "name_kana", "name_roman", "institution",
                                  "department", "position", "phone", "email")}


@dataclass(frozen=True)
class UiCase:
    id: str
    key: str
    value: str
    words: str | None  # words of the Japanese message under the field; None: no problem expected
    lang: str = "ja"


UI_CASES = [
    UiCase("name_kanji-ansi-sgr-red", "name_kanji", "山田\x1b[31m太郎", "使えない文字"),
    UiCase("institution-osc52-clipboard", "institution", "架空\x1b]52;c;ZWNobyBwd25lZA==\x07病院",
           "使えない文字"),
    UiCase("department-osc8-hyperlink", "department", "\x1b]8;;https://evil.example/\x1b\\産科\x1b]8;;\x1b\\",
           "使えない文字"),
    UiCase("umin_id-nul-middle", "umin_id", "yamada\x00-tky", "使えない文字"),
    UiCase("email-rtl-override", "email", "yamada\u202e@example.ac.jp", "使えない文字"),
    UiCase("position-zwsp", "position", "助\u200b教", "使えない文字"),
    UiCase("name_roman-lone-surrogate", "name_roman", "Taro\ud800", "使えない文字"),
    UiCase("institution-overlong-10x", "institution", "病" * 800, "長すぎます"),
    UiCase("name_kanji-rich-markup", "name_kanji", "[bold red]山田[/] [@click=app.quit]x[/]", None),
    UiCase("institution-paste-crlf", "institution", "架空大学\r\n附属病院\r\n", None),
    UiCase("phone-fullwidth-digits", "phone", "０７５－７５１－３１１１", None),
    UiCase("name_kana-halfwidth-dakuten", "name_kana", "ｽｽﾞｷ ｲﾁﾛｳ", None),
    UiCase("name_kanji-csi-clear-en", "name_kanji", "\x1b[2J\x1b[H鈴木", "cannot be used", "en"),
]
CLEANED_UI = {
    "institution-paste-crlf": "架空大学 附属病院",
    "phone-fullwidth-digits": "075-751-3111",
    "name_kana-halfwidth-dakuten": "スズキ\u3000イチロウ",
    "name_kanji-rich-markup": "[bold red]山田[/] [@click=app.quit]x[/]",
}
HOSTILE_MARKERS = ("\x1b[31m", "\x1b]52", "\x1b]8;;https://evil", "\x1b[2J", "ZWNobyBwd25lZA")


def screen_output(app: object) -> tuple[str, str]:
    """(the text of every segment the screen would draw, the terminal sequence the driver would get)."""
    screen = app.screen  # type: ignore[attr-defined]
    compositor = screen._compositor
    strips = compositor.render_strips()
    text = "".join(segment.text for strip in strips for segment in strip)
    update = compositor.render_update(full=True)
    sequence = update.render_segments(app.console) if update is not None else ""  # type: ignore[attr-defined]
    return text, sequence


def assert_nothing_raw_on_screen(app: object) -> None:
    text, sequence = screen_output(app)
    assert not [c for c in text if unicodedata.category(c) in ("Cc", "Cs")], repr(text[:200])
    for marker in HOSTILE_MARKERS:
        assert marker not in sequence, marker


@pytest.mark.parametrize("case", UI_CASES, ids=[c.id for c in UI_CASES])
async def test_hostile_input_in_the_form(config: Config, case: UiCase) -> None:
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        if case.lang == "en":
            await wait_for(pilot, lambda: app.screen.id == "welcome")
            await pilot.click("#lang-en")
            await pilot.pause()
        await agree(pilot)
        await choose(pilot, "indice-only")
        await fill(pilot, UI_PERSON | {case.key: case.value})  # focus leaves each field after it is set
        assert_nothing_raw_on_screen(app)
        app.screen.query_one("#next", Button).focus()
        await pilot.press("enter")
        await pilot.pause()
        if case.words is not None:
            assert app.screen.id == "applicant"
            line = app.screen.query_one(f"#problem-{case.key}")
            assert line.display and case.words in shown(line), shown(line)
            for key, value in UI_PERSON.items():  # everything else is still there, as cleaned
                if key != case.key:
                    assert app.screen.query_one(f"#{key}", Input).value == normalize(key, value), key
            field = app.screen.query_one(f"#{case.key}", Input)
            assert not forbidden_in(field.value), forbidden_in(field.value)
            assert_nothing_raw_on_screen(app)
        else:
            await wait_for(pilot, lambda: app.screen.id == "review")
            values = [shown(w) for w in app.screen.query(".review-value")]
            assert not any(forbidden_in(v) for v in values)
            assert "".join(CLEANED_UI[case.id].split()) in "".join("".join(values).split())
            assert app.session.application is None or not any(
                forbidden_in(v) for v in app.session.application.answers.values())
            assert_nothing_raw_on_screen(app)
        assert app.return_code is None and app._exception is None  # no crash



async def test_escape_sequence_is_not_echoed_even_before_the_field_is_left(config: Config) -> None:
    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await agree(pilot)
        await choose(pilot, "indice-only")
        field = app.screen.query_one("#name_kanji", Input)
        field.focus()
        field.value = "山田\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[31m太郎"  # still focused: no Blurred yet
        await pilot.pause()
        assert_nothing_raw_on_screen(app)


async def test_a_pasted_multiline_value_keeps_every_line(config: Config) -> None:
    from textual import events

    app = new_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await agree(pilot)
        await choose(pilot, "indice-only")
        field = app.screen.query_one("#institution", Input)
        field.focus()
        await pilot.pause()
        field.post_message(events.Paste("架空大学\r\n附属病院\r\n"))
        await pilot.pause()
        app.screen.query_one("#next", Button).focus()
        await pilot.pause()
        assert field.value == "架空大学 附属病院"
