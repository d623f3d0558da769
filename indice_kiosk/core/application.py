"""The application: which answers a route needs, how they are cleaned, and what makes them valid.

Validation returns problem *codes* (see ``Problem``); the words a person reads come from the
text catalogues, so the same rules serve the form, the review and ``indice-kiosk render``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from indice_kiosk.core.choices import IdType, Route

# Printed in place of a character the font lacks: an empty box wide enough for the applicant to write the
# character in by hand. (〓, the JIS convention, read as a bold ＝ on paper and left no room to write.)
HANDWRITE_BOX = "［\u3000\u3000］"


@dataclass(frozen=True)
class FieldSpec:
    """One answer of the form: its key, how it is cleaned and checked, and its longest accepted length."""

    key: str
    kind: str  # id | text | kana | roman | phone | email
    max_len: int


# The order here is the order of the form, the review and the PDF.
FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("umin_id", "id", 32),
    FieldSpec("name_kanji", "text", 40),
    FieldSpec("name_kana", "kana", 60),
    FieldSpec("name_roman", "roman", 60),
    FieldSpec("institution", "text", 80),
    FieldSpec("department", "text", 80),
    FieldSpec("position", "text", 40),
    FieldSpec("phone", "phone", 24),
    FieldSpec("email", "email", 120),
    FieldSpec("past_affiliations", "text", 120),
    FieldSpec("alma_mater", "text", 80),
    FieldSpec("societies", "text", 120),
    FieldSpec("license", "text", 80),
    FieldSpec("representative_name", "text", 40),
    FieldSpec("identity_method", "text", 60),
    FieldSpec("identity_checked_by", "text", 40),
)
FIELD_BY_KEY: dict[str, FieldSpec] = {f.key: f for f in FIELDS}
ANSWER_KEYS: tuple[str, ...] = tuple(f.key for f in FIELDS)

# UMIN uses these to find an ID its holder has forgotten (route indice-and-general, UMIN ID empty).
FIND_ID_KEYS: tuple[str, ...] = ("past_affiliations", "alma_mater", "societies", "license")
FIND_ID_REQUIRED: frozenset[str] = frozenset({"past_affiliations", "alma_mater"})
ALWAYS_REQUIRED: frozenset[str] = frozenset(
    {"name_kanji", "name_kana", "institution", "department", "position", "phone", "email"}
)

# The patterns here are strings, compiled by ``re`` when first used (and cached there): the kiosk's start
# matches none of them (bench/RESULTS.md, row 1). Used with fullmatch: ``$`` alone would also accept a
# trailing newline.
UMIN_ID = r"[a-z0-9]+-[a-z0-9]+"
KANA = r"[\u30a1-\u30fa\u30fc\u30fb\u3000 ]+"
ROMAN = r"[A-Za-z][A-Za-z .,'\-]*"
PHONE = r"[0-9][0-9-]*[0-9]"

# Characters that hide or reorder text: they are how a value can look different on screen and on paper.
_INVISIBLE = frozenset(
    [chr(c) for c in range(0x200B, 0x2010)]  # zero-width space/joiners, LRM, RLM
    + [chr(c) for c in range(0x202A, 0x202F)]  # bidi embeddings and overrides
    + [chr(c) for c in range(0x2060, 0x2065)]  # word joiner, invisible operators
    + [chr(c) for c in range(0x2066, 0x206A)]  # bidi isolates
    + ["\ufeff", "\u00ad", "\u180e"]
    # Letters and marks that draw nothing: Hangul fillers, Khmer inherent vowels, the grapheme joiner,
    # the blank braille pattern, and U+FFFD (what ``normalize`` leaves where such a character was).
    + ["\u034f", "\u115f", "\u1160", "\u17b4", "\u17b5", "\u2800", "\u3164", "\uffa0", "\ufffd"]
)
# What stands in for a character that must not be echoed, printed or kept: visible, so the applicant
# can see where it was, and itself refused by ``check_value``.
REPLACEMENT = "\ufffd"
# A paste keeps its words: a run of line breaks and tabs (CRLF, blank lines, indentation, with the
# spaces around them) becomes one space.
_BREAKS = " *(?:[\t\n\v\f\r\x85\u2028\u2029] *)+"
# Terminal escape sequences (7- and 8-bit): CSI, then OSC/DCS/SOS/PM/APC strings up to their
# terminator (BEL or ST) or the end of the value, then two-character ESC sequences. Each becomes one
# REPLACEMENT, so an OSC 52 clipboard write or an OSC 8 link leaves no payload behind.
_ESCAPES = (
    "(?:\x1b\\[|\x9b)[0-?]*[ -/]*[@-~]?"
    "|(?:\x1b[\\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\\\|\x9c)?"
    "|\x1b[!-/]*[0-~]?"
)
_KANA_VOICED = "[\u3041-\u30ff][\u3099\u309a]"  # decomposed ガ (macOS pastes)
_DASHES = dict.fromkeys(map(ord, "－ー‐‑‒–—―−ｰ"), "-")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one answer. ``code`` is a catalogue key under ``problem.``."""

    key: str
    code: str
    # The offending characters, for messages that name them (bad_chars: by code point, "U+001B U+202E",
    # so that a control character is never shown raw).
    chars: str = ""


@dataclass(frozen=True)
class Checked:
    """The cleaned answers and what is wrong with them."""

    answers: dict[str, str]
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem_for(self, key: str) -> Problem | None:
        return next((p for p in self.problems if p.key == key), None)

    def warning_for(self, key: str) -> Problem | None:
        return next((p for p in self.warnings if p.key == key), None)


# When the help desk enters an application for a caller: how the caller's identity was checked, and by
# whom (the MHLW guideline on password resets asks offices to record this).
IDENTITY_KEYS: tuple[str, ...] = ("identity_method", "identity_checked_by")


def visible_keys(
    route: Route, id_type: IdType, answers: Mapping[str, str], on_behalf: bool = False
) -> list[str]:
    """The answer keys the form shows for this route and ID type, in form order."""
    keys = ["umin_id", "name_kanji", "name_kana", "name_roman", "institution", "department",
            "position", "phone", "email"]
    if route is Route.INDICE_AND_GENERAL and not answers.get("umin_id", "").strip():
        keys += list(FIND_ID_KEYS)
    if id_type is IdType.GROUP:
        keys.append("representative_name")
    if on_behalf:
        keys += list(IDENTITY_KEYS)
    return keys


def required_keys(
    route: Route, id_type: IdType, answers: Mapping[str, str], on_behalf: bool = False
) -> set[str]:
    required = set(ALWAYS_REQUIRED) | (set(IDENTITY_KEYS) if on_behalf else set())
    if route is Route.INDICE_ONLY:
        required.add("umin_id")
    if route is Route.INDICE_AND_GENERAL and not answers.get("umin_id", "").strip():
        required |= FIND_ID_REQUIRED
    if id_type is IdType.GROUP:
        required.add("representative_name")
    return required


def required_when_shown(key: str, route: Route) -> bool:
    """Whether a field is marked required on the form (find-ID and group fields only show when they apply)."""
    if key == "umin_id":
        return route is Route.INDICE_ONLY
    return (key in ALWAYS_REQUIRED or key in FIND_ID_REQUIRED or key in IDENTITY_KEYS
            or key == "representative_name")


# A word that reads as romaji (Hepburn, with kunrei variants): syllables, syllabic n, doubled consonants,
# and "h" after o for a long vowel (ohno, satoh). Anything else ("smith") is left for the person to write
# in katakana rather than turned into nonsense.
_ROMAJI = (
    r"(?:[aiueo]|(?:ch|sh|ts|[kgszjtdnhbpmrwfvcy])y?[aiueo]|n'?|([kgsztdhbpmrfjcv])(?=\1)|t(?=ch)|(?<=o)h)+")


def normalize(key: str, value: str) -> str:
    """Clean one answer the way a careful clerk would, without changing what it says.

    Names are deliberately *not* NFKC-normalised: that would turn U+FA19 神 into U+795E 神.

    Line breaks and tabs become spaces. Characters that must never be echoed to the terminal or
    printed (controls, escape sequences, bidi and zero-width characters, lone surrogates) are each
    replaced by a visible U+FFFD, which ``check_value`` refuses: the applicant sees where it was.
    """
    import jaconv  # here, not at the top: the kiosk's start cleans no answer (bench/RESULTS.md, row 1)

    kind = FIELD_BY_KEY[key].kind
    value = defuse(value)
    value = re.sub(_KANA_VOICED, lambda m: unicodedata.normalize("NFC", m.group()), value)
    if kind in ("id", "phone", "email"):
        # Full-width ASCII is what a Japanese IME types by default; it means the same thing.
        value = jaconv.z2h(value, kana=False, ascii=True, digit=True)
        value = value.replace("\u3000", " ")
    if kind == "id":
        value = value.strip().lower()
    elif kind == "phone":
        value = value.translate(_DASHES).replace(" ", "").replace("(", "-").replace(")", "-")
        value = re.sub("-{2,}", "-", value).strip("-")
    elif kind == "email":
        value = value.strip()
    elif kind == "kana":
        # Romaji (what a keyboard without an input method types) and hiragana become katakana, as UMIN's
        # forms want the reading; jaconv knows Hepburn with its variants (ohno -> オオノ, satoh -> サトウ).
        ascii_value = jaconv.z2h(value, kana=False, ascii=True, digit=False).lower()
        words = re.findall("[a-z']+", ascii_value)
        if words and all(re.fullmatch(_ROMAJI, word) for word in words):
            value = jaconv.alphabet2kana(ascii_value)
        value = jaconv.h2z(value, kana=True, ascii=False, digit=False)
        value = jaconv.hira2kata(value).replace(" ", "\u3000").strip("\u3000 ")
        value = re.sub("\u3000{2,}", "\u3000", value)
    elif kind == "roman":
        value = jaconv.z2h(value, kana=False, ascii=True, digit=True).replace("\u3000", " ")
        value = " ".join(value.split())
    else:
        value = value.strip()
    return value


def defuse(value: str) -> str:
    """Only what makes a value safe to show: line breaks and tabs to a space, and each escape sequence,
    control, bidi, zero-width or surrogate character to a visible U+FFFD. Nothing else changes, so a
    field can apply it on every keystroke or paste (``normalize`` does more, and does this first).
    """
    value = re.sub(_BREAKS, " ", _text(value))
    value = re.sub(_ESCAPES, REPLACEMENT, value)
    return "".join(_clean_char(ch) for ch in value)


def _hidden(ch: str) -> bool:
    """A character that is invisible, reorders text, or is a control: never shown, kept or printed."""
    return ch in _INVISIBLE or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp")


def _clean_char(ch: str) -> str:
    if ch == REPLACEMENT or not _hidden(ch):
        # Other spaces (no-break, en, thin...) are a plain space to a reader, and to the font.
        return " " if ch != "\u3000" and unicodedata.category(ch) == "Zs" else ch
    return REPLACEMENT


def _bad_chars(value: str) -> str:
    bad = []
    previous = " "
    for ch in value:
        cat = unicodedata.category(ch)
        if cat in ("Co", "Cn") or _hidden(ch):
            bad.append(ch)
        elif cat in ("Mn", "Mc", "Me") and (previous.isspace() or _hidden(previous)):
            bad.append(ch)  # a mark with nothing to sit on (a variation selector included)
        previous = ch if cat not in ("Mn", "Mc", "Me") else previous
    return "".join(dict.fromkeys(bad))


def describe_chars(chars: str) -> str:
    """Characters named by code point ("U+001B U+202E"): safe to show whatever they are."""
    return " ".join(f"U+{ord(ch):04X}" for ch in dict.fromkeys(chars))


def check_value(key: str, value: str, *, required: bool) -> Problem | None:
    """The first problem with one cleaned answer, or None."""
    spec = FIELD_BY_KEY[key]
    if not value:
        return Problem(key, "required") if required else None
    bad = _bad_chars(value)
    if bad:
        return Problem(key, "bad_chars", describe_chars(bad))
    if len(value) > spec.max_len:
        return Problem(key, "too_long")
    if spec.kind == "id" and not re.fullmatch(UMIN_ID, value):
        return Problem(key, "umin_id_shape")
    if spec.kind == "kana" and not re.fullmatch(KANA, value):
        return Problem(key, "kana_only")
    if spec.kind == "roman" and not re.fullmatch(ROMAN, value):
        return Problem(key, "roman_only")
    if spec.kind == "phone":
        return _check_phone(key, value)
    if spec.kind == "email":
        return _check_email(key, value)
    return None


def _check_phone(key: str, value: str) -> Problem | None:
    if not re.fullmatch(PHONE, value):
        return Problem(key, "phone_shape")
    import phonenumbers  # imported here: it is large and only the form needs it

    try:
        number = phonenumbers.parse(value, "JP")
    except phonenumbers.NumberParseException:
        return Problem(key, "phone_shape")
    # Valid, not merely possible: a Tokyo number one digit short ("03-1234-567") is a possible length in
    # Japan's plan but no number, and UMIN could not call back.
    if not phonenumbers.is_valid_number(number):
        return Problem(key, "phone_shape")
    return None


def _check_email(key: str, value: str) -> Problem | None:
    import email_validator  # syntax only: the kiosk has no business on the network

    try:
        # ASCII only: an address printed with an empty box in it cannot be typed back in at UMIN.
        email_validator.validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except ValueError:  # EmailNotValidError, and any codec error on odd input, are ValueErrors
        return Problem(key, "email_shape")
    return None


def _text(value: object) -> str:
    """An answer as text: a missing one is empty (``raw`` comes from a form, but never trust it)."""
    return value if isinstance(value, str) else ""


def check(
    route: Route,
    id_type: IdType,
    raw: Mapping[str, str],
    *,
    printable: Callable[[str], str] | None = None,
    on_behalf: bool = False,
) -> Checked:
    """Clean and check every answer the form shows. ``printable`` returns the characters the font lacks."""
    cleaned = {key: normalize(key, _text(raw.get(key))) for key in ANSWER_KEYS}
    keys = visible_keys(route, id_type, cleaned, on_behalf)
    required = required_keys(route, id_type, cleaned, on_behalf)
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for key in keys:
        problem = check_value(key, cleaned[key], required=key in required)
        if problem and problem.code == "bad_chars":
            # Name what was typed, not the U+FFFD that normalize() put in its place.
            typed = _bad_chars(re.sub(_BREAKS, " ", _text(raw.get(key))))
            problem = Problem(key, "bad_chars", describe_chars(typed) or problem.chars)
        if problem:
            problems.append(problem)
        elif printable and cleaned[key]:
            missing = printable(cleaned[key])
            if missing:
                warnings.append(Problem(key, "unprintable", missing))
    # Answers the route does not show are not sent anywhere.
    answers = {key: cleaned[key] for key in keys}
    return Checked(answers=answers, problems=tuple(problems), warnings=tuple(warnings))


@dataclass(frozen=True)
class ConsentRecord:
    """Which version of the rules was agreed to, when, and in which language they were shown."""

    terms_version: str
    agreed_at: datetime
    lang: str


@dataclass(frozen=True)
class OnBehalfRecord:
    """The help desk entered this application for a caller: who, and when. Never a password."""

    operator: str
    entered_at: datetime


@dataclass(frozen=True)
class Application:
    """A checked application, ready to be drawn. Holds nothing that is not printed."""

    route: Route
    id_type: IdType
    answers: dict[str, str]
    consent: ConsentRecord
    project: str
    applied_on: datetime
    unprintable: dict[str, str] = field(default_factory=dict)  # key -> characters drawn as HANDWRITE_BOX
    on_behalf: OnBehalfRecord | None = None

    def __post_init__(self) -> None:
        if self.route is Route.NOT_ISSUED:
            raise ValueError("route not-issued has no application")
