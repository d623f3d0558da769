"""The FAX transmission (cover sheet + application) and the FAX reminder slip: real PDFs, read back with
pypdf and poppler, rasterised the way a FAX machine sees them (ghostscript, 204x196 dpi, 1 bit), read with
tesseract and, for the QR code, decoded with zbarimg.

Debian packages: poppler-utils, ghostscript, tesseract-ocr, tesseract-ocr-jpn, zbar-tools. The OCR and QR
tests skip when their tool is missing; everything else needs only poppler.
"""

from __future__ import annotations

import inspect
import io
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar

import pytest
from pypdf import PdfReader, PdfWriter

from indice_kiosk.core.application import FIELDS, HANDWRITE_BOX, Application, IdType, Route
from indice_kiosk.core.config import UminSettings
from indice_kiosk.core.text import t
from indice_kiosk.paper.document import (
    FAX_PDF_TITLE,
    render_application,
    render_fax,
    render_reminder,
    sample_application,
)
from indice_kiosk.paper.fonts import DEFAULT_FONT_PATH
from tests.pdfcheck import page_count, sized_runs, squash, text_at_least

UMIN_PAGE_URL = UminSettings().page  # the umin.page default
FONT = DEFAULT_FONT_PATH
FAX = "03-5689-0726"
FAX_DIGITS = "0356890726"
NOW = datetime(2025, 1, 15, 10, 30, tzinfo=timezone(timedelta(hours=9), "JST"))
AGREEMENT = "UMIN 合意 2026-03（署名原本は郵送）"
MM = 72 / 25.4
SENDER_KEYS = ("institution", "department", "phone")



# ------------------------------------------------------------------------------------------- helpers


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def only_page(pdf: bytes, index: int) -> bytes:
    writer = PdfWriter()
    writer.add_page(PdfReader(io.BytesIO(pdf)).pages[index])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def fax_pdf_for(application: Application) -> bytes:
    return render_fax(application, font_path=FONT, fax_number=FAX, page_url=UMIN_PAGE_URL,
                      agreement=AGREEMENT, invariant=True)


def application_pdf(application: Application) -> bytes:
    return render_application(application, font_path=FONT, fax_number=FAX, page_url=UMIN_PAGE_URL,
                              invariant=True)


def reminder(lang: str) -> bytes:
    return render_reminder(lang=lang, fax_number=FAX, page_url=UMIN_PAGE_URL, font_path=FONT, invariant=True)


def assert_only_embedded_ipaexgothic(pdf: bytes) -> None:
    out = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    rows = out.splitlines()[2:]
    assert rows, out
    for row in rows:
        assert row.split()[0].split("+")[-1] == "IPAexGothic", row
        assert re.search(r"\s(yes)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+\s*$", row), row
    assert b"Helvetica" not in pdf


def colour_operands(pdf: bytes) -> tuple[list[str], list[str]]:
    """(colour operands, content streams) of every page."""
    colours: list[str] = []
    streams: list[str] = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        stream = page.get_contents()
        assert stream is not None
        data = stream.get_data().decode("latin-1")
        streams.append(data)
        found = re.findall(r"((?:[\d.]+\s+){1,4})(rg|RG|g|G|k|K|sc|SC|scn|SCN)\b", data)
        colours += [ops for ops, _ in found]
    return colours, streams


def rasterise(pdf: bytes, tmp_path: Path, name: str, *, device: str = "pngmono") -> Path:
    """Ghostscript at FAX fine resolution (204x196 dpi), page 1 .. n as <name>-<n>.<ext>."""
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(pdf)
    ext = "tif" if device.startswith("tiff") else "png"
    pattern = tmp_path / f"{name}-%d.{ext}"
    subprocess.run(
        ["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", f"-sDEVICE={device}", "-r204x196",
         f"-sOutputFile={pattern}", str(source)],
        check=True, capture_output=True,
    )
    return tmp_path / f"{name}-1.{ext}"


def ocr(png: Path) -> str:
    langs = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True).stdout.split()
    lang = "jpn+eng" if "jpn" in langs else "eng"
    # --psm 4 (one column of text of variable sizes): with --psm 6 the table rules of the form garble
    # the short Latin values next to them.
    out = subprocess.run(["tesseract", str(png), "-", "-l", lang, "--psm", "4"],
                         capture_output=True, text=True, check=True)
    return out.stdout




T = TypeVar("T")


def _require(tool: str, package: str) -> Callable[[T], T]:
    # scripts/test installs these; a missing tool is a broken setup, not a reason to skip.
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is not installed (Debian package {package}; scripts/test installs it)")
    return lambda test: test


needs_gs = _require("gs", "ghostscript")
needs_tesseract = _require("tesseract", "tesseract-ocr")
needs_zbar = _require("zbarimg", "zbar-tools")


@pytest.fixture(scope="module")
def sample() -> Application:
    return sample_application(NOW)


@pytest.fixture(scope="module")
def fax_pdf(sample: Application) -> bytes:
    return fax_pdf_for(sample)


def longest(sample: Application) -> Application:
    """Every answer at its maximum length, group ID, find-ID answers: the application takes two pages."""
    wide = {"text": "漢", "kana": "ア"}
    answers = {spec.key: wide.get(spec.kind, "W") * spec.max_len for spec in FIELDS}
    return replace(sample, route=Route.INDICE_AND_GENERAL, id_type=IdType.GROUP, answers=answers)


def cover_counts(cover_text: str) -> tuple[int, int]:
    """(total pages, application pages) as printed on the cover."""
    text = squash(cover_text)
    total = re.search(r"(\d+)" + re.escape(squash(t("ja", "cover.pages", pages=0))[1:]), text)
    enclosed = re.search(re.escape(squash(t("ja", "doc.title"))) + r"(\d+)枚", text)
    assert total and enclosed, text
    return int(total.group(1)), int(enclosed.group(1))


# ------------------------------------------------------------------------------------- the cover sheet


def test_cover_sheet_says_what_a_cover_sheet_says(sample: Application, fax_pdf: bytes) -> None:
    cover = squash(pages_text(fax_pdf)[0])
    assert "FAX送信票" in cover and squash(t("en", "cover.title")) in cover
    assert "UMINセンター" in cover and squash(t("ja", "cover.to")) in cover
    assert FAX in cover or FAX_DIGITS in cover
    for key in SENDER_KEYS:
        assert squash(sample.answers[key]) in cover, key
    assert "2025年01月15日" in cover
    assert squash(t("ja", "cover.pages", pages=2)) in cover
    assert squash(t("ja", "cover.enclosed", title=t("ja", "doc.title"), pages=1)) in cover
    assert squash(t("ja", "cover.kiosk")) in cover
    assert squash(t("ja", "cover.from_label")) in cover


def test_cover_sheet_holds_no_other_personal_data(sample: Application, fax_pdf: bytes) -> None:
    cover = squash(pages_text(fax_pdf)[0])
    for key in ("name_kanji", "name_kana", "name_roman", "umin_id", "email", "position"):
        assert squash(sample.answers[key]) not in cover, key
    assert "yamada" not in cover.lower()  # not even part of the ID or the address
    assert squash(sample.project) not in cover
    # the same with poppler, page 1 only
    out = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", "-", "-"], input=fax_pdf,
                         capture_output=True, check=True)
    assert "yamada" not in out.stdout.decode().lower()


def test_application_follows_exactly_as_printed(sample: Application, fax_pdf: bytes) -> None:
    pages = pages_text(fax_pdf)
    assert len(pages) == 2
    body = squash("".join(pages[1:]))
    for key, value in sample.answers.items():
        assert squash(value) in body, key
    assert squash(t("ja", "doc.title")) in body
    assert squash(t("ja", "doc.signature")) in body
    # The same drawing as render_application up to the signatures, apart from the page footer; the
    # signature boxes of the faxed form say it was not signed, and the note after them is the same.
    alone = pages_text(application_pdf(sample))

    def without_footer(text: str, page: int, total: int) -> str:
        return squash(text).replace(squash(t("ja", "doc.page", page=page, pages=total)), "").replace(
            squash(t("en", "doc.page", page=page, pages=total)), "")

    faxed = "".join(without_footer(p, i + 2, 2) for i, p in enumerate(pages[1:]))
    printed = "".join(without_footer(p, i + 1, 1) for i, p in enumerate(alone))
    signatures = squash(t("ja", "doc.signature") + t("en", "doc.signature"))
    assert faxed.split(signatures)[0] == printed.split(signatures)[0]
    after = squash(t("ja", "doc.no_password"))
    assert faxed[faxed.index(after):] == printed[printed.index(after):]


@pytest.mark.parametrize("case", ["sample", "group", "longest"])
def test_printed_page_count_is_the_real_one(sample: Application, case: str) -> None:
    app = {
        "sample": sample,
        "group": replace(sample, id_type=IdType.GROUP,
                         answers=dict(sample.answers, representative_name="佐藤 花子")),
        "longest": longest(sample),
    }[case]
    pdf = fax_pdf_for(app)
    pages = pages_text(pdf)
    application_pages = page_count(application_pdf(app))
    total, enclosed = cover_counts(pages[0])
    assert total == len(pages) == application_pages + 1
    assert enclosed == application_pages
    if case == "longest":
        assert total == 3
    assert squash(t("ja", "doc.page", page=total, pages=total)) in squash(pages[-1])


def test_unprintable_sender_characters_become_geta(sample: Application) -> None:
    app = replace(sample, answers=dict(sample.answers, institution="\U00020bb7野 <b>&amp;</b> 病院"))
    cover = squash(pages_text(fax_pdf_for(app))[0])
    assert squash(f"{HANDWRITE_BOX}野 <b>&amp;</b> 病院") in cover  # markup printed literally, too
    assert "\U00020bb7" not in cover


@pytest.mark.parametrize("group", [False, True])
def test_faxed_form_never_looks_signed(sample: Application, group: bool) -> None:
    """#14.4: the FAX leaves unsigned. The cover says so and names the site's arrangement with UMIN; each
    signature box of the faxed form says it was not signed; the printed form keeps boxes to sign in."""
    app = sample
    if group:
        answers = dict(sample.answers, representative_name="佐藤 花子")
        app = replace(sample, id_type=IdType.GROUP, answers=answers)
    pages = pages_text(fax_pdf_for(app))
    cover, form = squash(pages[0]), squash("".join(pages[1:]))
    for lang in ("ja", "en"):
        assert squash(t(lang, "cover.unsigned", agreement=AGREEMENT)) in cover, lang
        assert form.count(squash(t(lang, "doc.unsigned"))) == (2 if group else 1), lang
        assert form.count(squash(t(lang, "doc.unsigned_under", agreement=AGREEMENT))) == (2 if group else 1)
    assert "日付Date" not in form and "印Seal" not in form  # no empty boxes waiting for a hand
    printed = squash("".join(pages_text(application_pdf(app))))
    assert squash(t("ja", "doc.unsigned")) not in printed and squash(AGREEMENT) not in printed
    assert printed.count("日付Date") == printed.count("印Seal") == (2 if group else 1)


def test_no_fax_without_an_arrangement(sample: Application) -> None:
    with pytest.raises(ValueError, match=r"fax\.agreement"):
        render_fax(sample, font_path=FONT, fax_number=FAX, page_url=UMIN_PAGE_URL, agreement=" ")


def test_fonts_embedded(sample: Application, fax_pdf: bytes) -> None:
    assert_only_embedded_ipaexgothic(fax_pdf)
    assert_only_embedded_ipaexgothic(fax_pdf_for(longest(sample)))


def test_cover_type_sizes(sample: Application, fax_pdf: bytes) -> None:
    cover = only_page(fax_pdf, 0)
    assert FAX in text_at_least(cover, 28)
    values = text_at_least(cover, 12)
    for key in SENDER_KEYS:
        assert squash(sample.answers[key]) in values, key
    assert "2025年01月15日" in values
    assert squash(t("ja", "cover.pages", pages=2)) in values
    labels = text_at_least(cover, 10)
    for key in ("cover.to_label", "cover.fax_label", "cover.date_label", "cover.pages_label",
                "cover.from_label", "cover.enclosed_label"):
        assert squash(t("ja", key)) in labels, key
    for key in SENDER_KEYS:
        assert squash(t("ja", f"field.{key}")) in labels, key
    assert min(size for _, size in sized_runs(cover)) >= 10 - 0.01  # #14.8: English captions too


def test_black_on_white_only(fax_pdf: bytes) -> None:
    colours, streams = colour_operands(fax_pdf)
    assert colours
    for operands in colours:
        assert all(float(v) == 0 for v in operands.split()), operands
    cover, *application = streams
    assert not re.search(r"(?m)(^|\s)(f\*?|F|B\*?|b\*?)\s*$", cover)  # nothing is filled
    for data in application:  # nothing but the black squares of the QR code on the form
        for path in re.findall(r"(?m)^(.*)\s(?:f\*?|F|B\*?|b\*?)\s*$", data):
            assert re.fullmatch(r"n( [-\d.]+){4} re", path.strip()), path


def test_invariant_and_metadata(sample: Application, fax_pdf: bytes) -> None:
    assert fax_pdf_for(sample) == fax_pdf
    assert fax_pdf_for(replace(sample, answers=dict(sample.answers, phone="03-1111-2222"))) != fax_pdf
    meta = PdfReader(io.BytesIO(fax_pdf)).metadata
    assert meta is not None and meta.title == FAX_PDF_TITLE
    everything = " ".join(str(v) for v in meta.values())
    for value in sample.answers.values():
        assert value not in everything


# ---------------------------------------------------------------------------- what the FAX machine sees


@needs_gs
def test_ghostscript_makes_a_g4_fax_image(fax_pdf: bytes, tmp_path: Path) -> None:
    first = rasterise(fax_pdf, tmp_path, "fax", device="tiffg4")
    assert first.read_bytes()[:4] in (b"II*\x00", b"MM\x00*")
    assert (tmp_path / "fax-2.tif").is_file()


@needs_gs
@needs_tesseract
def test_cover_is_legible_at_fax_resolution(sample: Application, fax_pdf: bytes, tmp_path: Path) -> None:
    text = ocr(rasterise(fax_pdf, tmp_path, "fax"))  # 1-bit, 204x196 dpi: what a G3/G4 FAX sends
    assert FAX_DIGITS in re.sub(r"\D", "", text), text
    assert "UMIN" in text, text
    assert "FAX cover sheet" in text, text
    assert re.sub(r"\D", "", sample.answers["phone"]) in re.sub(r"\D", "", text), text


@needs_gs
@needs_tesseract
def test_application_is_legible_at_fax_resolution(
    sample: Application, fax_pdf: bytes, tmp_path: Path
) -> None:
    rasterise(fax_pdf, tmp_path, "fax")
    text = ocr(tmp_path / "fax-2.png")
    flat = squash(text)
    assert FAX_DIGITS in re.sub(r"\D", "", text), text
    assert sample.answers["umin_id"] in flat, text
    assert sample.answers["email"] in flat, text
    assert sample.answers["phone"] in flat, text


# ---------------------------------------------------------------------------------------- the reminder


def test_reminder_takes_no_application_input() -> None:
    parameters = inspect.signature(render_reminder).parameters
    assert set(parameters) == {"lang", "fax_number", "page_url", "font_path", "invariant"}
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_reminder_slip(sample: Application, lang: str) -> None:
    pdf = reminder(lang)
    assert pdf.startswith(b"%PDF")
    assert page_count(pdf) == 1
    text = squash(pages_text(pdf)[0])
    assert FAX in text
    assert UMIN_PAGE_URL in text
    for key in ("reminder.title", "reminder.what", "reminder.what_group", "reminder.where", "after.wait",
                "after.mail", "after.password"):
        assert squash(t("ja", key)) in text and squash(t("en", key)) in text, key
    assert FAX in text_at_least(pdf, 28)
    assert squash(t(lang, "reminder.title")) in text_at_least(pdf, 24)  # the requested language is big
    other = "en" if lang == "ja" else "ja"
    assert squash(t(other, "reminder.title")) not in text_at_least(pdf, 24)
    for value in sample.answers.values():  # nothing personal, no form labels
        assert squash(value) not in text
    for spec in FIELDS:
        assert squash(t("ja", f"field.{spec.key}")) not in text
    assert_only_embedded_ipaexgothic(pdf)
    colours, _ = colour_operands(pdf)
    assert colours and all(float(v) == 0 for ops in colours for v in ops.split())
    assert reminder(lang) == pdf


def test_reminder_qr_is_big_enough() -> None:
    """The QR modules are filled rectangles (the only fills on the page); they span at least 30 mm."""
    _, streams = colour_operands(reminder("ja"))
    rects = [tuple(map(float, m)) for m in re.findall(
        r"([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+) re\s+f\b", streams[0])]
    assert len(rects) > 100  # a QR code, not a frame
    xs = [x for x, _, w, _ in rects] + [x + w for x, _, w, _ in rects]
    ys = [y for _, y, _, h in rects] + [y + h for _, y, _, h in rects]
    assert (max(xs) - min(xs)) >= 30 * MM
    assert (max(ys) - min(ys)) >= 30 * MM


@needs_zbar
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_reminder_qr_decodes_to_the_url(lang: str, tmp_path: Path) -> None:
    pdf = tmp_path / "reminder.pdf"
    pdf.write_bytes(reminder(lang))
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf), str(tmp_path / "r150")],
                   check=True)
    images = [tmp_path / "r150.png"]
    if shutil.which("gs"):
        images.append(rasterise(reminder(lang), tmp_path, "fax"))  # it even survives being FAXed
    for image in images:
        out = subprocess.run(["zbarimg", "--raw", "-q", str(image)], capture_output=True, text=True)
        assert out.returncode == 0, (image, out.stderr)
        assert out.stdout.strip().splitlines() == [UMIN_PAGE_URL], image
