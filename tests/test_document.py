"""The printed application and guidance: real PDFs, read back with pypdf and poppler."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from indice_kiosk.core.application import FIELDS, HANDWRITE_BOX, Application, IdType, Route, check
from indice_kiosk.core.config import UminSettings
from indice_kiosk.core.text import t
from indice_kiosk.paper.document import (
    PDF_TITLE,
    pdf_text_for_review,
    render_application,
    render_guidance,
    sample_application,
)
from indice_kiosk.paper.fonts import DEFAULT_FONT_PATH, load_font
from tests.pdfcheck import page_count, sized_runs, squash, text_at_least

UMIN_PAGE_URL = UminSettings().page  # the umin.page default
FONT = DEFAULT_FONT_PATH
FAX = "03-5689-0726"
JST = timezone(timedelta(hours=9), "JST")
NOW = datetime(2025, 1, 15, 10, 30, tzinfo=JST)

pytestmark = pytest.mark.skipif(not FONT.is_file(), reason="IPAexGothic is not installed")


# ------------------------------------------------------------------------------------------- helpers


def render(application: Application) -> bytes:
    return render_application(application, font_path=FONT, fax_number=FAX, page_url=UMIN_PAGE_URL,
                              invariant=True)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(scope="module")
def sample() -> Application:
    return sample_application(NOW)


@pytest.fixture(scope="module")
def sample_pdf(sample: Application) -> bytes:
    return render(sample)


def group_application(sample: Application) -> Application:
    answers = dict(sample.answers)
    answers["representative_name"] = "佐藤 花子"
    return replace(sample, id_type=IdType.GROUP, answers=answers)


# ------------------------------------------------------------------------------------------- content


def test_sample_is_valid_and_fictional(sample: Application) -> None:
    checked = check(sample.route, sample.id_type, sample.answers)
    assert checked.ok, checked.problems
    assert sample.route is Route.INDICE_ONLY
    assert sample.id_type is IdType.PERSONAL
    assert sample.answers["email"].endswith("@example.ac.jp")
    assert sample.consent.agreed_at <= sample.applied_on


def test_every_answer_is_printed(sample: Application, sample_pdf: bytes) -> None:
    assert sample_pdf.startswith(b"%PDF")
    text = squash(pdf_text(sample_pdf))
    for key, value in sample.answers.items():
        assert squash(value) in text, key
    assert squash(t("ja", "doc.title")) in text
    assert squash(t("en", "doc.title")) in text
    assert squash(t("ja", "doc.to")) in text
    assert "2025年01月15日" in text
    assert squash(t("ja", "doc.route.indice-only")) in text
    assert squash(t("ja", "doc.id_type.personal")) in text
    assert squash(sample.project) in text
    assert squash(t("ja", "doc.consent")) in text
    assert t("ja", "doc.signature") in text and t("ja", "doc.seal") in text
    assert squash(f"{t('ja', 'doc.fax_to')} {t('en', 'doc.fax_to')} {FAX}") in text
    assert squash(t("ja", "doc.no_password")) in text
    assert squash(t("ja", "doc.page", page=1, pages=1)) in text
    assert squash(t("ja", "doc.unprintable")) not in text  # nothing was replaced
    assert squash(t("ja", "doc.find_id")) not in text  # no find-ID answers on this route


def test_sample_is_one_page_with_poppler_too(sample_pdf: bytes) -> None:
    assert page_count(sample_pdf) == 1
    out = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=sample_pdf, capture_output=True, check=True
    )
    text = squash(out.stdout.decode())
    assert "yamada-tky" in text and "山田太郎" in text and "架空大学病院" in text


def test_review_rows_are_what_is_printed(sample: Application, sample_pdf: bytes) -> None:
    rows = pdf_text_for_review(sample)
    labels = [label for label, _ in rows]
    answer_labels = [t("ja", f"field.{spec.key}") for spec in FIELDS if spec.key in sample.answers]
    assert labels[-len(answer_labels):] == answer_labels  # FIELDS order, at the end
    assert labels[0] == t("ja", "doc.applied_on")
    text = squash(pdf_text(sample_pdf))
    for label, value in rows:
        assert squash(label) in text
        assert squash(value) in text
    assert [label for label, _ in pdf_text_for_review(sample, lang="en")][-1] == t("en", "field.email")


def test_find_id_heading_only_with_find_id_answers(sample: Application) -> None:
    answers = dict(sample.answers, umin_id="", past_affiliations="架空市立病院（2015〜2020年）",
                   alma_mater="架空大学 2010年卒", societies="日本架空学会", license="医師 第000000号")
    pdf = render(replace(sample, route=Route.INDICE_AND_GENERAL, answers=answers))
    text = squash(pdf_text(pdf))
    assert squash(t("ja", "doc.find_id")) in text
    assert squash(t("ja", "doc.route.indice-and-general")) in text
    assert text.index(squash(t("ja", "doc.find_id"))) < text.index("架空市立病院")
    assert text.index("yamada@example.ac.jp") < text.index(squash(t("ja", "doc.find_id")))


def test_group_id_has_representative(sample: Application, sample_pdf: bytes) -> None:
    group_pdf = render(group_application(sample))
    text = squash(pdf_text(group_pdf))
    assert "佐藤花子" in text
    assert squash(t("ja", "doc.representative_signature")) in text
    assert squash(t("ja", "doc.id_type.group")) in text
    assert page_count(group_pdf) == 1

    personal = squash(pdf_text(sample_pdf))
    assert squash(t("ja", "doc.representative_signature")) not in personal
    assert "佐藤花子" not in personal


def test_markup_prints_literally(sample: Application) -> None:
    value = "<b>x</b> & y &amp; <font size=1>z</font>"
    pdf = render(replace(sample, answers=dict(sample.answers, institution=value)))
    assert squash(value) in squash(pdf_text(pdf))
    assert dict(pdf_text_for_review(replace(sample, answers=dict(sample.answers, institution=value))))[
        t("ja", "field.institution")
    ] == value


# --------------------------------------------------------------------------------------- unprintables


def test_unprintable_characters_become_geta(sample: Application) -> None:
    name = "\U00020bb7野 葛\U000e0100飾 😀"
    app = replace(sample, answers=dict(sample.answers, name_kanji=name))
    pdf = render(app)
    text = pdf_text(pdf)
    assert squash(f"{HANDWRITE_BOX}野 {HANDWRITE_BOX}飾 {HANDWRITE_BOX}") in squash(text)
    for original in ("\U00020bb7", "😀", "\U000e0100", "葛"):
        assert original not in text
    assert squash(t("ja", "doc.unprintable")) in squash(text)
    review = dict(pdf_text_for_review(app))[t("ja", "field.name_kanji")]
    assert review == f"{HANDWRITE_BOX}野 {HANDWRITE_BOX}飾 {HANDWRITE_BOX}"
    assert not set(review) & {"\U00020bb7", "😀", "\U000e0100", "葛"}


def test_compatibility_ideograph_is_kept(sample: Application) -> None:
    has_it = 0xFA19 in load_font(FONT).face.charToGlyph
    app = replace(sample, answers=dict(sample.answers, name_kanji="\ufa19田 太郎"))
    text = pdf_text(render(app))
    review = dict(pdf_text_for_review(app))[t("ja", "field.name_kanji")]
    if has_it:
        assert "\ufa19田" in text  # not NFKC'd to U+795E
        assert "\u795e" not in text
        assert review == "\ufa19田 太郎"
    else:
        assert f"{HANDWRITE_BOX}田" in text
        assert review.startswith(HANDWRITE_BOX)


# ------------------------------------------------------------------------------------ fonts and sizes


def test_only_embedded_ipaexgothic(sample: Application, sample_pdf: bytes) -> None:
    group_pdf = render(group_application(sample))
    guidance = render_guidance(lang="ja", project="架空プロジェクト", contact="事務局",
                               page_url=UMIN_PAGE_URL, font_path=FONT)
    for pdf in (sample_pdf, group_pdf, guidance):
        out = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
        rows = out.splitlines()[2:]
        assert rows, out
        for row in rows:
            name = row.split()[0]
            assert name.split("+")[-1] == "IPAexGothic", row
            # columns: name type encoding emb sub uni object ID
            assert re.search(r"\s(yes)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+\s*$", row), row
        assert b"Helvetica" not in pdf


def test_values_at_least_12pt_labels_at_least_10pt(sample: Application) -> None:
    answers = dict(sample.answers, umin_id="", past_affiliations="架空市立病院",
                   alma_mater="架空大学 2010年卒", representative_name="佐藤 花子")
    app = replace(sample, route=Route.INDICE_AND_GENERAL, id_type=IdType.GROUP, answers=answers)
    pdf = render(app)
    big = text_at_least(pdf, 12)
    for label, value in pdf_text_for_review(app):
        if value:
            assert squash(value) in big, (label, value)
    labels = text_at_least(pdf, 10)
    for label, _ in pdf_text_for_review(app):
        assert squash(label) in labels, label
    assert squash(f"{t('ja', 'doc.fax_to')} {FAX}") in text_at_least(pdf, 16)  # the caption is smaller


def test_black_on_white_only(sample_pdf: bytes) -> None:
    for page in PdfReader(io.BytesIO(sample_pdf)).pages:
        stream = page.get_contents()
        assert stream is not None
        data = stream.get_data().decode("latin-1")
        colours = re.findall(r"((?:[\d.]+\s+){1,4})(rg|RG|g|G|k|K|sc|SC|scn|SCN)\b", data)
        assert colours
        for operands, _ in colours:
            values = [float(v) for v in operands.split()]
            assert all(v == 0 for v in values), operands  # pure black
        # Nothing is filled but the black squares of the QR code: no grey boxes for the FAX to smear.
        fills = re.findall(r"(?m)^(.*)\s(f\*?|F|B\*?|b\*?)\s*$", data)
        assert len(fills) > 100
        for path, _ in fills:
            assert re.fullmatch(r"n( [-\d.]+){4} re", path.strip()), path


# ------------------------------------------------------------------------------- determinism, metadata


def test_invariant_bytes(sample: Application, sample_pdf: bytes) -> None:
    other = render(replace(sample, answers=dict(sample.answers, position="教授")))
    assert render(sample) == sample_pdf
    assert other != sample_pdf
    assert render(sample) == sample_pdf  # still the same after rendering something else


def test_metadata_holds_no_personal_data(sample: Application, sample_pdf: bytes) -> None:
    meta = PdfReader(io.BytesIO(sample_pdf)).metadata
    assert meta is not None
    assert meta.title == PDF_TITLE
    everything = " ".join(str(v) for v in meta.values())
    for value in sample.answers.values():
        assert value not in everything
    assert not meta.subject


# ----------------------------------------------------------------------------------------- robustness


def wide(kind: str, length: int) -> str:
    return {"text": "漢", "kana": "ア"}.get(kind, "W") * length


def test_longest_values_render_completely(sample: Application) -> None:
    answers = {spec.key: wide(spec.kind, spec.max_len) for spec in FIELDS}
    app = replace(sample, route=Route.INDICE_AND_GENERAL, id_type=IdType.GROUP, answers=answers)
    pdf = render(app)
    assert pdf.startswith(b"%PDF")
    big = text_at_least(pdf, 12)
    pages = page_count(pdf)
    assert pages <= 2
    position = 0
    for spec in FIELDS:  # in order, each whole
        found = big.find(answers[spec.key], position)
        assert found >= 0, spec.key
        position = found + len(answers[spec.key])
    text = squash(pdf_text(pdf))
    assert squash(t("ja", "doc.page", page=pages, pages=pages)) in text


def test_120_char_value_stays_on_the_page(sample: Application) -> None:
    value = "W" * 120
    pdf = render(replace(sample, answers=dict(sample.answers, email=value)))
    out = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True, check=True)
    words = re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"', out.stdout.decode())
    assert words
    assert max(float(x_max) for _, x_max in words) < 595.27 - 30  # inside the right margin


_ODD = st.sampled_from([
    "\u202e", "\u202d", "\u2066", "\u200f", "\u200b", "\x00", "\n", "\t", "\x7f", "\ufeff",
    "\U00020bb7", "\U0002a6b2", "\ufa19", "\U000e0100", "\ufe0f", "😀", "<", ">", "&", "&amp;", "<br/>", "〓",
])
_TEXT = st.lists(st.one_of(st.characters(exclude_categories=["Cs"]), _ODD), max_size=160).map("".join)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.fixed_dictionaries({spec.key: _TEXT for spec in FIELDS}),
    group=st.booleans(),
    fax=_TEXT,
)
def test_any_text_renders(sample: Application, values: dict[str, str], group: bool, fax: str) -> None:
    app = replace(sample, answers=values, id_type=IdType.GROUP if group else IdType.PERSONAL,
                  route=Route.INDICE_AND_GENERAL)
    pdf = render_application(app, font_path=FONT, fax_number=fax or FAX, page_url=UMIN_PAGE_URL,
                             invariant=True)
    assert pdf.startswith(b"%PDF")
    for _, value in pdf_text_for_review(app):
        assert not any(0xD800 <= ord(c) <= 0xDFFF for c in value)


# ------------------------------------------------------------------------------------------ guidance


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_guidance_handout(sample: Application, lang: str) -> None:
    project = "架空研究プロジェクト"
    contact = "架空研究事務局 office@example.jp"
    pdf = render_guidance(lang=lang, project=project, contact=contact, page_url=UMIN_PAGE_URL, font_path=FONT,
                          invariant=True)
    assert pdf.startswith(b"%PDF")
    assert page_count(pdf) == 1
    text = squash(pdf_text(pdf))
    assert squash(project) in text
    assert text.count(squash(contact)) == 1  # #14.9: once, not again on the other language's line
    assert UMIN_PAGE_URL in text
    for key in ("guidance.doc_title", "guidance.ncd.heading", "guidance.indice.heading"):
        assert squash(t("ja", key)) in text and squash(t("en", key)) in text
    for spec in FIELDS:  # no personal data and no form labels
        if spec.key != "umin_id":
            assert squash(t("ja", f"field.{spec.key}")) not in text
    for value in sample.answers.values():
        assert squash(value) not in text
    again = render_guidance(lang=lang, project=project, contact=contact, page_url=UMIN_PAGE_URL,
                            font_path=FONT, invariant=True)
    assert again == pdf


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_guidance_without_a_contact_says_whom_to_ask_not_a_placeholder(lang: str) -> None:
    """#14.9: a site that set no secretariat contact gets no placeholder on paper, but where to ask."""
    pdf = render_guidance(lang=lang, project="架空研究プロジェクト", contact="", page_url=UMIN_PAGE_URL,
                          font_path=FONT, invariant=True)
    text = squash(pdf_text(pdf))
    assert squash(t(lang, "guidance.contact_ask")) in text
    assert squash(t("ja", "guidance.contact_label")) not in text
    assert "研究支援室でご確認ください" not in text


# -------------------------------------------------------------------- #14.8: what a person sees on paper


def worst_normal(sample: Application) -> Application:
    """Group ID, unknown UMIN ID, every find-ID answer, an unprintable character: ordinary lengths."""
    answers = dict(sample.answers, umin_id="", past_affiliations="架空市立病院（2015〜2020年）",
                   alma_mater="架空大学 2010年卒", societies="日本架空学会", license="医師 第000000号",
                   representative_name="佐藤 花子", name_kanji="\U00020bb7田 太郎")
    return replace(sample, route=Route.INDICE_AND_GENERAL, id_type=IdType.GROUP, answers=answers)


@pytest.mark.parametrize("case", ["personal", "group", "worst"])
def test_captions_at_least_10pt_and_still_one_page(sample: Application, case: str) -> None:
    """#14.8: the English captions were 7 pt and blurred at FAX resolution; at 10 pt the form must still
    be one page, for both ID types and for the longest ordinary application."""
    app = {"personal": sample, "group": group_application(sample), "worst": worst_normal(sample)}[case]
    pdf = render(app)
    assert page_count(pdf) == 1
    smallest = min(sized_runs(pdf), key=lambda run: run[1])
    assert smallest[1] >= 10 - 0.01, smallest
    captions = text_at_least(pdf, 10)
    for caption, _ in pdf_text_for_review(app, lang="en"):
        assert squash(caption) in captions, caption


def test_no_terms_version_tag_and_the_consent_time_has_its_zone(
    sample: Application, sample_pdf: bytes
) -> None:
    text = squash(pdf_text(sample_pdf))
    assert sample.consent.terms_version not in text and "版：" not in text  # an internal tag, not for UMIN
    assert "2025-01-1510:26JST" in text  # agreed four minutes before the application, in Japan's time
    naive = replace(sample, consent=replace(sample.consent, agreed_at=datetime(2025, 1, 15, 10, 26)))
    with pytest.raises(ValueError, match="time zone"):
        render(naive)


def test_unknown_umin_id_is_marked_unknown(sample: Application) -> None:
    app = replace(sample, route=Route.INDICE_AND_GENERAL, answers=dict(sample.answers, umin_id=""))
    assert dict(pdf_text_for_review(app))["UMIN ID"] == "不明 (unknown)"  # the review shows it too
    text = squash(pdf_text(render(app)))
    assert "UMINID不明(unknown)" in text


@pytest.mark.parametrize("group", [False, True])
def test_every_signature_has_a_date_line_and_a_seal_box(sample: Application, group: bool) -> None:
    app = group_application(sample) if group else sample
    text = squash(pdf_text(render(app)))
    signatures = 2 if group else 1
    assert text.count("日付Date") == signatures
    assert text.count("年月日") == signatures  # the blanks between them are for the handwritten date
    assert text.count("印Seal") == signatures


def test_an_unprintable_character_leaves_room_to_write_it(sample: Application) -> None:
    app = replace(sample, answers=dict(sample.answers, name_kanji="\U00020bb7田 太郎"))
    assert dict(pdf_text_for_review(app))[t("ja", "field.name_kanji")] == f"{HANDWRITE_BOX}田 太郎"
    pdf = render(app)
    assert "〓" not in pdf_text(pdf)
    out = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True, check=True)
    words = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>',
                       out.stdout.decode())
    opening = next(w for w in words if w[3] == "［")
    closing = next(w for w in words if w[3].startswith("］田") and w[1] == opening[1])
    gap_mm = (float(closing[0]) - float(opening[2])) / 72 * 25.4
    assert gap_mm >= 8, gap_mm  # room for one handwritten kanji between the brackets


# ------------------------------------------------------------------------------ #14.3: after the FAX


def test_form_says_what_happens_after_the_fax_and_where_the_password_is_set(
    sample_pdf: bytes, tmp_path: Path
) -> None:
    text = squash(pdf_text(sample_pdf))
    for lang in ("ja", "en"):
        assert squash(t(lang, "doc.after")) in text, lang
    assert "パスワードは書かれていません" in text and "ご自身が設定する文字列" in text
    assert "completione-mailhasnopassword" in text and "neveratthiskiosk" in text
    assert UMIN_PAGE_URL in text
    (tmp_path / "form.pdf").write_bytes(sample_pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(tmp_path / "form.pdf"),
                    str(tmp_path / "form")], check=True)
    out = subprocess.run(["zbarimg", "--raw", "-q", str(tmp_path / "form.png")], capture_output=True,
                         text=True)
    assert out.stdout.strip().splitlines() == [UMIN_PAGE_URL], out.stderr


# ------------------------------------------------------------------------------------------- imports


START_UP_THEN_FORM = """
import asyncio, sys
from indice_kiosk.paper import fonts
from indice_kiosk.core.config import Config
from indice_kiosk.walkup.app import KioskApp
from tests.pilot import agree, choose, wait_for

def loaded():
    return (any(m.split('.')[0] == 'reportlab' for m in sys.modules),
            'indice_kiosk.paper.document' in sys.modules, fonts.load_font.cache_info().currsize)

async def main():
    app = KioskApp(Config())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.screen.id == 'welcome')
        print('welcome', *loaded())
        await agree(pilot)
        await choose(pilot, 'indice-only')
        await wait_for(pilot, lambda: loaded()[2] == 1, timeout=10)
        print('applicant', *loaded())

asyncio.run(main())
"""


def test_pdf_engine_is_loaded_while_the_form_is_filled_not_at_start_up() -> None:
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "CUPS_SERVER": "127.0.0.1:9"}
    out = subprocess.run([sys.executable, "-c", START_UP_THEN_FORM], capture_output=True, text=True, cwd=root,
                         env=env, check=True, timeout=120)
    assert out.stdout.split("\n")[:2] == ["welcome False False 0", "applicant True True 1"]


WELCOME_ONLY = """
import asyncio, sys
from indice_kiosk import cli
from indice_kiosk.core.config import Config
from indice_kiosk.walkup.app import KioskApp
from tests.pilot import wait_for

async def main():
    app = KioskApp(Config())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.screen.id == 'welcome')
        print(sorted(m for m in sys.argv[1:] if m in sys.modules))

asyncio.run(main())
"""
# What the welcome screen comes up without (bench/RESULTS.md, row 1): the ways out and their CUPS client,
# made when an application is first sent, and what cleans answers (jaconv), loaded with the first answer.
NOT_AT_START_UP = ("indice_kiosk.channels", "indice_kiosk.cups.delivery", "indice_kiosk.cups.client",
                   "jaconv")


def test_the_welcome_screen_comes_up_without_the_ways_out_or_answer_cleaning() -> None:
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "CUPS_SERVER": "127.0.0.1:9"}
    out = subprocess.run([sys.executable, "-c", WELCOME_ONLY, *NOT_AT_START_UP], capture_output=True,
                         text=True, cwd=root, env=env, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


FONT_PROBE = """
import hashlib
from datetime import datetime, timedelta, timezone
from reportlab.pdfbase import ttfonts
parses = []
extract = ttfonts.TTFontFile.extractInfo
ttfonts.TTFontFile.extractInfo = lambda self, *a: parses.append(1) or extract(self, *a)
from indice_kiosk.paper import fonts
from indice_kiosk.paper.document import render_fax, sample_application
font = fonts.load_font(fonts.DEFAULT_FONT_PATH)
face = vars(font.face)
print('parsed' if parses else 'from cache')
print(sorted(vars(font)), sorted(face), font.face.__class__.__name__, font.encoding.__class__.__name__)
metrics = repr({k: v for k, v in sorted(face.items()) if k not in ('_ttf_data', '_pdfScale')})
print(hashlib.sha256(metrics.encode()).hexdigest(), face['_pdfScale'](2048), len(face['_ttf_data']))
when = datetime(2026, 11, 25, 10, 30, tzinfo=timezone(timedelta(hours=9), 'JST'))
pdf = render_fax(sample_application(when), font_path=fonts.DEFAULT_FONT_PATH, fax_number='03-5689-0726',
                 page_url='http://www.umin.ac.jp/id/idc_passwd/passwd_indice.htm', agreement='test',
                 invariant=True)
print(hashlib.sha256(pdf).hexdigest())
"""


def font_probe(cache: Path) -> list[str]:
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "INDICE_KIOSK_CACHE": str(cache)}
    out = subprocess.run([sys.executable, "-c", FONT_PROBE], capture_output=True, text=True, cwd=root,
                         env=env, check=True, timeout=120)
    return out.stdout.splitlines()


def test_font_from_the_cache_is_the_parsed_font(tmp_path: Path) -> None:
    parsed = font_probe(tmp_path)  # no cache yet: parses, then writes the cache
    cached_files = list(tmp_path.glob("font-*.marshal"))
    assert len(cached_files) == 1
    from_cache = font_probe(tmp_path)
    assert list(tmp_path.glob("font-*.marshal")) == cached_files
    assert (parsed[0], from_cache[0]) == ("parsed", "from cache")
    # Same attributes, same values, same scale, same PDF bytes, whether parsed or read back.
    assert from_cache[1:] == parsed[1:]


def test_bad_or_unwritable_font_cache_means_parsing_again(tmp_path: Path) -> None:
    reference = font_probe(tmp_path / "first")
    (cache_file,) = (tmp_path / "first").glob("font-*.marshal")
    cache_file.write_bytes(b"\x00not marshal")
    assert font_probe(tmp_path / "first") == reference  # parsed again, and the cache written anew
    assert font_probe(tmp_path / "first")[0] == "from cache"
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache directory would be")
    assert font_probe(blocked) == reference


def test_reportlab_uses_its_c_accelerator() -> None:
    # rl_accel (a dependency) replaces reportlab's pure-Python string widths and number formatting;
    # without it the same PDFs take ~15 % longer (bench/RESULTS.md, row 2).
    from reportlab.lib import rl_accel

    assert type(rl_accel.instanceStringWidthTTF).__name__ == "builtin_function_or_method"
    assert type(rl_accel.fp_str).__name__ == "builtin_function_or_method"


# ------------------------------------------------------------------------------- laying out paragraphs


def drawn(paragraph: object, width: float) -> bytes:
    """``paragraph`` laid out at ``width`` and drawn alone on a page: the page's bytes."""
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    canvas = Canvas(buf, invariant=1, pageCompression=0)
    paragraph.wrapOn(canvas, width, 10_000)
    paragraph.drawOn(canvas, 20, 20)
    canvas.save()
    return buf.getvalue()


@pytest.mark.parametrize("mixed", [False, True])
def test_a_fixed_text_split_at_a_page_end_leaves_its_shared_lines_alone(mixed: bool) -> None:
    """Fixed wording shares its laid-out lines between forms (paper/document.py, _FixedParagraph);
    reportlab's split edits the lines it splits, so a split copy must lay itself out on its own first."""
    from reportlab.platypus import Paragraph

    from indice_kiosk.paper import document

    load_font(FONT)
    kit = document._kit()
    ja, en = "申請書はキオスク端末から送信されています。" * 12, "sent from the kiosk terminal " * 6

    def make() -> object:
        return kit.mixed(ja, en, kit.label) if mixed else kit.fixed(ja, kit.label)

    markup = (f'{document._markup(ja)}　<font size="{document.SUBLABEL_SIZE}">{document._markup(en)}</font>'
              if mixed else document._markup(ja))
    reference = drawn(Paragraph(markup, kit.label), 200)
    assert drawn(make(), 200) == reference
    first = make()
    _width, height = first.wrap(200, 10_000)
    assert len(first.split(200, height / 2)) == 2
    assert drawn(make(), 200) == reference  # the next form's copy draws as before the split


def test_a_paragraph_pushed_whole_to_the_next_page_is_laid_out_again() -> None:
    """A paragraph lays out its lines once per width (_Paragraph); when reportlab finds no room for it and
    drops its lines to move it on, the next wrap at the same width must lay them out anew."""
    from reportlab.platypus import Paragraph

    from indice_kiosk.paper import document

    load_font(FONT)
    kit = document._kit()
    text = "架空大学病院産婦人科" * 12
    reference = drawn(Paragraph(document._markup(text), kit.value), 200)
    for paragraph in (kit.para(text, kit.value), kit.fixed(text, kit.value)):
        paragraph.wrap(200, 10_000)
        assert paragraph.split(200, 5) == []  # not even one line fits
        assert drawn(paragraph, 200) == reference


def test_repeated_renders_are_byte_identical(sample: Application) -> None:
    """Fixed wording is laid out once per process and shared: later forms come out as the first did."""
    from indice_kiosk.paper.document import render_fax

    def fax(application: Application) -> bytes:
        return render_fax(application, font_path=FONT, fax_number=FAX, page_url=UMIN_PAGE_URL,
                          agreement="UMIN 合意", invariant=True)

    answers = dict(sample.answers, representative_name="佐藤 花子")
    group = replace(sample, id_type=IdType.GROUP, answers=answers)
    first = [render(sample), fax(sample), render(group), fax(group)]
    assert [render(sample), fax(sample), render(group), fax(group)] == first


def test_fixed_wording_cache_holds_no_personal_data(sample: Application) -> None:
    """The laid-out fixed wording outlives the session (it is public: labels, notes, site settings), so
    no value a person typed may reach it."""
    import gc

    from indice_kiosk.paper import document

    person = replace(sample, answers=dict(sample.answers, institution="カナリア病院", department="鳴禽科",
                                          phone="03-9999-1234", name_kanji="鳥 鳴子", umin_id="canary-tky"))
    document.render_fax(person, font_path=FONT, fax_number=FAX, page_url=UMIN_PAGE_URL, agreement="UMIN 合意")
    render(person)
    assert document._fixed_template.cache_info().currsize > 30
    gc.collect()
    texts = [obj.text for obj in gc.get_objects() if isinstance(obj, document._FixedParagraph)]
    assert len(texts) >= document._fixed_template.cache_info().currsize
    typed = [value for value in person.answers.values() if value]
    assert not [(value, text) for value in typed for text in texts if value in text]
