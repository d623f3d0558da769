"""The printed papers: the application form that is signed and FAXed to UMIN, and the guidance handout.

The form is Japanese, with English captions. It is meant to survive a FAX machine: Gothic type only,
values at 12 pt or more, labels and captions at 10 pt or more, pure black on white, thin black rules and
no grey fills (the only filled shapes are the modules of the QR code).

Every value goes through ``split_printable`` so a character the font lacks is drawn as an empty box to
write in (``HANDWRITE_BOX``, and a note tells the applicant to write it by hand) instead of a glyph box
nobody notices. The PDF is built in memory and returned as bytes; nothing is written to disk here.

This module imports reportlab (≈ 100 ms), so only what makes or reads PDFs imports it: the app imports it
when the form is first shown, in a background thread (``warm_up``), never at start-up.
"""

from __future__ import annotations

import copy
import functools
import io
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.colors import black
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.rl_accel import fp_str
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import getFont, stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from indice_kiosk.core.application import (
    FIELDS,
    FIND_ID_KEYS,
    Application,
    ConsentRecord,
    IdType,
    Route,
    check,
)
from indice_kiosk.core.text import t
from indice_kiosk.paper.fonts import DEFAULT_FONT_PATH, FONT_NAME, load_font, split_printable
from indice_kiosk.paper.reportlab_private import (
    deflate_fast,
    japanese_line_breaks,
    start_page,
    to_unicode_for_every_plane,
)

deflate_fast()  # every PDF's streams at zlib level 1 (see there)
to_unicode_for_every_plane()  # a name's rare kanji (beyond the BMP) can be searched and copied
japanese_line_breaks()  # no line starts with "：" (or another closing mark reportlab's list lacks)

PDF_TITLE = "INDICE password renewal application"
GUIDANCE_PDF_TITLE = "INDICE password guidance"
FAX_PDF_TITLE = "INDICE password renewal application (FAX)"
REMINDER_PDF_TITLE = "INDICE password FAX reminder"
PDF_AUTHOR = "indice-kiosk"

# Sizes in points. The FAX is the weakest link: values never below 12, labels and English captions never
# below 10 (7 pt captions blurred at FAX resolution).
TITLE_SIZE = 17.0
VALUE_SIZE = 13.0
LABEL_SIZE = 10.0
SUBLABEL_SIZE = 10.0
FAX_SIZE = 18.0
SIGNATURE_HEIGHT = 16.0  # mm
SEAL_SIZE = 18.0  # mm wide; a seal impression is about 10-15 mm
NOTE_SIZE = 11.0
FOOTER_SIZE = 10.0
FORM_QR_SIZE = 24.0  # mm: on the form it only has to be scanned from the applicant's own copy
COVER_TITLE_SIZE = 28.0
COVER_FAX_SIZE = 32.0  # the number the receiving clerk checks first: large on the cover and the reminder
REMINDER_TITLE_SIZE = 28.0
QR_SIZE = 40.0  # mm, quiet zone included; comfortably scannable from paper
RULE = 0.6  # thin black rules
BOX_RULE = 1.0


def warm_up(font_path: Path) -> None:
    """Parse and register the font now (importing this module already loaded reportlab), so that the
    first PDF does not pay for it. The app calls this in a background thread while the form is filled.
    """
    load_font(font_path)


def _text(lang: str, key: str, **params: object) -> str:
    return t(lang, key, **params)


def _other(lang: str) -> str:
    return "en" if lang == "ja" else "ja"


def _date(when: datetime, lang: str = "ja") -> str:
    return _text(lang, "doc.date", year=when.year, month=when.month, day=when.day)


def _clock(when: datetime) -> str:
    """Date and time with its zone ("2026-11-25 10:26 JST"): a time without one cannot be checked later."""
    zone = when.tzname() if when.tzinfo is not None else None
    if not zone:
        raise ValueError("a time printed on the form must carry its time zone")
    return f"{when:%Y-%m-%d %H:%M} {zone}"


@dataclass(frozen=True)
class _Row:
    """One labelled line of the form, with its value exactly as printed."""

    key: str
    label_ja: str
    label_en: str
    value: str  # after HANDWRITE_BOX substitution
    missing: str  # the characters that became HANDWRITE_BOX


def _printable(value: str, font_path: Path) -> tuple[str, str]:
    return split_printable(value, font_path)


def _rows(application: Application, font_path: Path) -> list[_Row]:
    """The data rows of the form in print order (the header's date first). Values are as printed."""
    rows: list[_Row] = []

    def add(key: str, label_key: str, raw: str) -> None:
        value, missing = _printable(raw, font_path)
        rows.append(_Row(key, t("ja", label_key), t("en", label_key), value, missing))

    # An empty box under "UMIN ID" reads as forgotten; UMIN must see that the applicant does not know it.
    unknown = f"{t('ja', 'doc.unknown')} ({t('en', 'doc.unknown')})"

    add("applied_on", "doc.applied_on", _date(application.applied_on))
    add("route", "doc.route", t("ja", f"doc.route.{application.route.value}"))
    add("id_type", "doc.id_type", t("ja", f"doc.id_type.{application.id_type.value}"))
    add("project", "doc.project", application.project)
    for spec in FIELDS:
        if spec.key in application.answers:
            value = application.answers[spec.key]
            if spec.key == "umin_id" and not value:
                value = unknown
            add(spec.key, f"field.{spec.key}", value)
    if application.on_behalf is not None:
        record = application.on_behalf
        when = _clock(record.entered_at)
        add("on_behalf", "doc.on_behalf", t("ja", "doc.on_behalf_value", operator=record.operator, when=when))
    return rows


def pdf_text_for_review(
    application: Application, *, font_path: Path = DEFAULT_FONT_PATH, lang: str = "ja"
) -> list[tuple[str, str]]:
    """(label, value as printed) in print order; the review screen shows exactly this.

    Values are the printed ones, after HANDWRITE_BOX substitution. Labels are the printed Japanese ones unless
    ``lang`` asks for the English sub-labels.
    """
    rows = _rows(application, Path(font_path))
    return [(r.label_ja if lang == "ja" else r.label_en, r.value) for r in rows]


# --------------------------------------------------------------------------------------------- drawing


class _Paragraph(Paragraph):
    """A Paragraph that lays out its lines once per width. A table wraps every cell to measure its row
    heights and wraps it again, at the same width, when it draws the cell; breaking CJK text into lines
    (a width lookup per character) was the largest cost of a form (bench/RESULTS.md, row 2). For this
    font and ``wordWrap="CJK"`` the lines depend on the width alone (reportlab's ``Paragraph.wrap``
    does not read the available height), so the second wrap returns what the first one laid out."""

    _wrapped: tuple[float, tuple[float, float]] | None = None

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        if self._wrapped is not None and self._wrapped[0] == avail_width:
            return self._wrapped[1]
        size = super().wrap(avail_width, avail_height)
        self._wrapped = (avail_width, size)
        return size

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        # reportlab's split may drop the lines it laid out (a paragraph pushed whole to the next page is
        # wrapped again there): the next wrap must lay them out anew.
        self._wrapped = None
        return super().split(avail_width, avail_height)


class _FixedParagraph(_Paragraph):
    """Wording that is the same on every form (labels, captions, notes, the cover's text, site settings
    such as the FAX number), never a person's data. One template per text and style is parsed once per
    process and laid out once per width; each form gets a copy that shares the template's lines (the
    XML parse and the line breaking were half of a FAX's rendering time, bench/RESULTS.md row 2). A copy
    is a flowable of its own: drawing sets its canvas on it, not on the template. The lines are only
    read when a paragraph is drawn, so copies drawn in different documents share them safely."""

    _template: _FixedParagraph | None = None

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        template = self._template
        if template is None:  # the template itself, or a piece reportlab split off a copy
            return super().wrap(avail_width, avail_height)
        with _FIXED_LOCK:  # two renders in two threads: one lays the template out, the other waits
            size = template.wrap(avail_width, avail_height)
            laid_out = dict(template.__dict__)
        self.__dict__.update(laid_out)
        return size

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        # Splitting edits the lines being split (reportlab appends spaces to their words): this copy
        # lays itself out on its own first, at the width it was given, so the template's lines stay as
        # they are. Only a fixed text at the foot of a full page comes here.
        if self._template is not None:
            width = self._wrapped[0] if self._wrapped is not None else avail_width
            self._template = None
            self._wrapped = None
            self.wrap(width, avail_height)
        return super().split(avail_width, avail_height)


_FIXED_LOCK = threading.Lock()


@functools.lru_cache(maxsize=512)
def _fixed_template(markup: str, style: ParagraphStyle, font: object) -> _FixedParagraph:
    """The parsed template of a fixed text; ``font`` (the registered font object) is in the key so that a
    font registered anew under the same name is measured anew. No personal data: see _FixedParagraph."""
    return _FixedParagraph(markup, style)


def _fixed(markup: str, style: ParagraphStyle) -> Flowable:
    """A copy of the fixed text's template, to put in one story."""
    template = _fixed_template(markup, style, getFont(FONT_NAME))
    paragraph = copy.copy(template)  # what it copies of the lines is replaced at its first wrap
    paragraph._template = template
    return paragraph


def _markup(text: str) -> str:
    """``text`` for a Paragraph, printed literally. reportlab collapses every run of white space, U+3000
    included, which shrank the box to write in (HANDWRITE_BOX) and the blanks of the date line to
    nothing: a full-width space becomes four no-break spaces (0.27 em each in IPAexGothic)."""
    return escape(text).replace("\u3000", "\u00a0" * 4)


class _Kit:
    """Paragraph styles and small builders, all in the one embedded Gothic font."""

    def __init__(self) -> None:

        def style(
            name: str, size: float, leading: float, align: int = TA_LEFT, **kw: float
        ) -> ParagraphStyle:
            return ParagraphStyle(
                name, fontName=FONT_NAME, fontSize=size, leading=leading, alignment=align,
                wordWrap="CJK", textColor=black, **kw,
            )

        self.title = style("title", TITLE_SIZE, TITLE_SIZE * 1.3, TA_CENTER)
        self.title_en = style("title_en", SUBLABEL_SIZE, 12, TA_CENTER)
        self.to = style("to", 14, 18)
        self.to_en = style("to_en", SUBLABEL_SIZE, 12)
        self.right = style("right", 12, 15, TA_RIGHT)
        self.right_en = style("right_en", SUBLABEL_SIZE, 12, TA_RIGHT)
        self.label = style("label", LABEL_SIZE, 11.5)
        self.sublabel = style("sublabel", SUBLABEL_SIZE, 11)
        self.value = style("value", VALUE_SIZE, 16)
        self.date = style("date", 12, 14)
        self.heading = style("heading", 11, 14)
        self.note = style("note", NOTE_SIZE, 14)
        self.fax = style("fax", FAX_SIZE, 22)
        self.center_label = style("center_label", LABEL_SIZE, 12.5, TA_CENTER)
        self.center_sub = style("center_sub", SUBLABEL_SIZE, 11, TA_CENTER)
        self.small_note = style("small_note", SUBLABEL_SIZE, 12)
        self.body = style("body", 11, 16)
        self.body_small = style("body_small", 8.5, 11.5)
        self.section = style("section", 13, 17, spaceBefore=8)

    @staticmethod
    def para(text: str, style: ParagraphStyle) -> Flowable:
        """A paragraph of someone's data (a value, a date): parsed and laid out for this form only."""
        return _Paragraph(_markup(text), style)

    @staticmethod
    def fixed(text: str, style: ParagraphStyle) -> Flowable:
        """A paragraph of wording that is the same on every form (see _FixedParagraph): never a value."""
        return _fixed(_markup(text), style)

    @staticmethod
    def mixed(ja: str, en: str, style: ParagraphStyle, en_size: float = SUBLABEL_SIZE) -> Flowable:
        """Japanese in ``style``, then the English in small type on the same paragraph (fixed wording:
        labels and notes only)."""
        return _fixed(f'{_markup(ja)}　<font size="{en_size}">{_markup(en)}</font>', style)

    def label_cell(self, ja: str, en: str, *, center: bool = False, width: float = 0) -> list[Flowable]:
        """The Japanese label and its English caption: on one line when both fit in ``width`` (the
        table rows stay low enough for the form to keep to one page), else the caption under it."""
        if center:
            return [self.fixed(ja, self.center_label), self.fixed(en, self.center_sub)]
        if ja == en:  # "UMIN ID": a caption repeating the label only adds noise
            return [self.fixed(ja, self.label)]
        one_line = (stringWidth(f"{ja}　", FONT_NAME, LABEL_SIZE) + stringWidth(en, FONT_NAME, SUBLABEL_SIZE)
                    <= width - 10)  # the cell's padding
        if one_line:
            return [self.mixed(ja, en, self.label)]
        return [self.fixed(ja, self.label), self.fixed(en, self.sublabel)]


@functools.cache
def _kit() -> _Kit:
    """The one set of styles: they are constants, and a fixed paragraph's template is kept per style."""
    return _Kit()


def _grid_style(extra: list[tuple[Any, ...]] | None = None, *, lines: bool = True) -> TableStyle:

    commands: list[tuple[Any, ...]] = [("FONTNAME", (0, 0), (-1, -1), FONT_NAME)]
    if lines:
        commands += [("GRID", (0, 0), (-1, -1), RULE, black), ("BOX", (0, 0), (-1, -1), BOX_RULE, black)]
    commands += [
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 5),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    return TableStyle(commands + (extra or []))


def _build(
    story: list[Flowable],
    *,
    title: str,
    font_path: Path,
    invariant: bool,
    footer: Callable[[int, int], str] | None,
    pages_out: list[int] | None = None,
) -> bytes:
    """Lay the story out on A4 in memory; ``footer(page, pages)`` is drawn at the foot of every page.

    When ``pages_out`` is given, the number of pages laid out is appended to it.
    """

    load_font(font_path)

    class _NumberedCanvas(Canvas):
        """Holds the pages back until the end, so each can say "page X of Y"."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # reportlab's name
            self._pages.append(dict(self.__dict__))
            start_page(self)

        def current_page(self) -> int:
            """The number of the page being drawn (``_PageMark`` reads it)."""
            return len(self._pages) + 1

        def save(self) -> None:
            total = len(self._pages)
            if pages_out is not None:
                pages_out.append(total)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                if footer is not None:
                    self.setFont(FONT_NAME, FOOTER_SIZE)
                    self.setFillColorRGB(0, 0, 0)
                    self.drawCentredString(A4[0] / 2, 7 * mm, footer(number, total))
                super().showPage()
            super().save()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=9 * mm,
        bottomMargin=13 * mm,
        title=title,
        author=PDF_AUTHOR,
        subject="",
        creator=PDF_AUTHOR,
        keywords="",
        invariant=1 if invariant else 0,
        initialFontName=FONT_NAME,
        initialFontSize=VALUE_SIZE,
        initialLeading=VALUE_SIZE * 1.2,
        lang="ja",
    )
    doc.build(story, canvasmaker=_NumberedCanvas)
    return buf.getvalue()


def _page_footer(page: int, pages: int) -> str:
    ja, en = (t(lang, "doc.page", page=page, pages=pages) for lang in ("ja", "en"))
    return f"{ja}　({en})"


def render_application(
    application: Application, *, font_path: Path, fax_number: str, page_url: str, invariant: bool = False
) -> bytes:
    """The 症例登録(INDICE)用パスワード更新申請書 as PDF bytes, ready to print, sign and FAX.

    ``page_url`` is UMIN's page (the ``umin.page`` setting), printed with a QR code in the note on what
    happens after the FAX.
    """
    font_path = Path(font_path)
    load_font(font_path)
    story = _application_story(application, _kit(), font_path=font_path, fax_number=fax_number,
                               page_url=page_url)
    return _build(story, title=PDF_TITLE, font_path=font_path, invariant=invariant, footer=_page_footer)


def _application_story(
    application: Application, kit: _Kit, *, font_path: Path, fax_number: str, page_url: str,
    unsigned: str | None = None,
) -> list[Flowable]:
    """The flowables of the application form; render_application and render_fax both lay out these.

    ``unsigned`` (the site's arrangement with UMIN) is for the faxed form: it leaves the kiosk unsigned,
    so its signature boxes say so instead of staying empty like a form someone forgot to sign.
    """

    width = 180 * mm - 12  # the frame keeps 6 pt of padding on each side
    label_w = 64 * mm  # wide enough for most captions to sit beside their label, the rest under it
    value_w = width - label_w
    rows = _rows(application, font_path)
    by_key = {r.key: r for r in rows}
    any_missing = any(r.missing for r in rows)

    story: list[Flowable] = [
        kit.fixed(t("ja", "doc.title"), kit.title),
        kit.fixed(t("en", "doc.title"), kit.title_en),
        Spacer(1, 2 * mm),
    ]

    # To UMIN and where to FAX it (left), the date of application (right).
    applied = by_key["applied_on"]
    fax, fax_missing = _printable(fax_number, font_path)
    any_missing = any_missing or bool(fax_missing)
    header = Table(
        [[
            [
                kit.mixed(t("ja", "doc.to"), t("en", "doc.to"), kit.to),
                _fixed(f'{_markup(t("ja", "doc.fax_to"))} <font size="{SUBLABEL_SIZE}">'
                       f'{_markup(t("en", "doc.fax_to"))}</font> {_markup(fax)}', kit.fax),
            ],
            [
                kit.para(f"{applied.label_ja}　{applied.value}", kit.right),
                kit.para(f"{applied.label_en}: {_date(application.applied_on, 'en')}", kit.right_en),
            ],
        ]],
        colWidths=[width * 0.6, width * 0.4],
        style=_grid_style([("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                           ("VALIGN", (0, 0), (-1, -1), "TOP")], lines=False),
    )
    story += [header, Spacer(1, 2 * mm)]

    # The answers, then when UMIN's rules were agreed to.
    data: list[list[Any]] = []
    spans: list[tuple[Any, ...]] = []
    seen_find_id = False
    for row in rows:
        if row.key == "applied_on":
            continue
        if row.key in FIND_ID_KEYS and not seen_find_id:
            seen_find_id = True
            spans.append(("SPAN", (0, len(data)), (1, len(data))))
            data.append([kit.mixed(t("ja", "doc.find_id"), t("en", "doc.find_id"), kit.heading), ""])
        label = kit.label_cell(row.label_ja, row.label_en, width=label_w)
        data.append([label, kit.para(row.value, kit.value)])
    data.append([
        kit.label_cell(t("ja", "doc.consent_at"), t("en", "doc.consent_at"), width=label_w),
        [
            kit.para(_clock(application.consent.agreed_at), kit.value),
            kit.fixed(t("ja", "doc.consent"), kit.label),
            kit.fixed(t("en", "doc.consent"), kit.sublabel),
        ],
    ])
    story.append(Table(data, colWidths=[label_w, value_w], style=_grid_style(spans), splitInRow=1))
    story.append(Spacer(1, 1.5 * mm))

    # Signature, the date it was signed, and seal; for a group-representative ID the representative too.
    sig_label_w = 48 * mm
    seal_w = SEAL_SIZE * mm
    date_w = 52 * mm
    sign_w = width - sig_label_w - date_w - seal_w

    def signature_row(label: list[Flowable]) -> list[Any]:
        if unsigned is not None:
            words = [kit.fixed(t("ja", "doc.unsigned"), kit.value),
                     kit.fixed(t("en", "doc.unsigned"), kit.sublabel),
                     kit.fixed(t("ja", "doc.unsigned_under", agreement=unsigned), kit.label),
                     kit.fixed(t("en", "doc.unsigned_under", agreement=unsigned), kit.sublabel)]
            return [label, words, "", ""]
        date = [kit.mixed(t("ja", "doc.sign_date"), t("en", "doc.sign_date"), kit.label),
                Spacer(1, 3 * mm),
                kit.fixed(t("ja", "doc.date_blank"), kit.date)]
        # 印 is printed where the seal goes, as Japanese forms do; the impression may cover it.
        return [label, "", date, kit.label_cell(t("ja", "doc.seal"), t("en", "doc.seal"), center=True)]

    sig_rows = [signature_row(kit.label_cell(t("ja", "doc.signature"), t("en", "doc.signature")))]
    if application.id_type is IdType.GROUP:
        rep, rep_missing = _printable(application.answers.get("representative_name", ""), font_path)
        any_missing = any_missing or bool(rep_missing)
        # The representative's name beside their box, so the right person signs it.
        key = "doc.representative_signature"
        label = [*kit.label_cell(t("ja", key), t("en", key)), kit.para(rep, kit.value)]
        sig_rows.append(signature_row(label))
    sig_style: list[tuple[Any, ...]] = [("VALIGN", (0, 0), (-1, -1), "TOP")]
    if unsigned is not None:
        sig_style = [("SPAN", (1, row), (3, row)) for row in range(len(sig_rows))]
    story.append(Table(
        sig_rows,
        colWidths=[sig_label_w, sign_w, date_w, seal_w],
        # An unsigned row is as tall as its words; a row to sign in has room for a signature.
        rowHeights=[SIGNATURE_HEIGHT * mm if unsigned is None else None] * len(sig_rows),
        style=_grid_style(sig_style),
        splitInRow=1,
    ))
    story.append(Spacer(1, 1.5 * mm))
    if any_missing:
        story.append(kit.mixed(t("ja", "doc.unprintable"), t("en", "doc.unprintable"), kit.note))
        story.append(Spacer(1, 1.5 * mm))
    story.append(_after_fax_note(kit, page_url=page_url, font_path=font_path, width=width))
    return story


def _after_fax_note(kit: _Kit, *, page_url: str, font_path: Path, width: float) -> Flowable:
    """For the applicant's own copy: no password on the form, what happens after the FAX, and where the
    new password is set (UMIN's page, as text and QR code)."""
    qr_w = FORM_QR_SIZE * mm + 6
    url = _printable(page_url, font_path)[0]
    text = [
        kit.mixed(t("ja", "doc.no_password"), t("en", "doc.no_password"), kit.label),
        Spacer(1, 1 * mm),
        kit.fixed(t("ja", "doc.after"), kit.label),
        kit.fixed(t("en", "doc.after"), kit.small_note),
        kit.fixed(url, kit.label),
    ]
    return Table(
        [[_qr_drawing(page_url, FORM_QR_SIZE), text]],
        colWidths=[qr_w, width - qr_w],
        style=_grid_style([("LEFTPADDING", (0, 0), (0, 0), 3), ("TOPPADDING", (0, 0), (-1, -1), 3),
                           ("BOTTOMPADDING", (0, 0), (-1, -1), 3), ("BOX", (0, 0), (-1, -1), RULE, black)],
                          lines=False),
    )


def render_guidance(
    *, lang: str, project: str, contact: str, page_url: str, font_path: Path, invariant: bool = False
) -> bytes:
    """A one-page handout for someone who was never issued an INDICE password (``page_url``: UMIN's page,
    the ``umin.page`` setting). No personal data."""

    font_path = Path(font_path)
    load_font(font_path)
    kit = _kit()
    other = _other(lang)
    project_p = _printable(project, font_path)[0]
    contact_p = _printable(contact, font_path)[0]

    def both(key: str, style: ParagraphStyle, small: ParagraphStyle, **params: object) -> list[Flowable]:
        out: list[Flowable] = []
        for line in _text(lang, key, **params).split("\n"):
            out.append(kit.para(line, style))
        for line in _text(other, key, **params).split("\n"):
            out.append(kit.para(line, small))
        return out

    story: list[Flowable] = [
        kit.para(_text(lang, "guidance.doc_title"), kit.title),
        kit.para(_text(other, "guidance.doc_title"), kit.title_en),
        Spacer(1, 6 * mm),
        *both("guidance.intro", kit.body, kit.body_small),
        Spacer(1, 3 * mm),
        kit.para(_text(lang, "guidance.indice.heading"), kit.section),
        kit.para(_text(other, "guidance.indice.heading"), kit.body_small),
        Spacer(1, 1 * mm),
        *both("guidance.indice.body", kit.body, kit.body_small, project=project_p),
        Spacer(1, 1 * mm),
        # The site's contact once, under a label in both languages (its text is the site's, in one language);
        # with none set, where to ask instead -- never a placeholder.
        *([kit.para(f"{_text(lang, 'guidance.contact_label')} / {_text(other, 'guidance.contact_label')}："
                    f"{contact_p}", kit.body)] if contact.strip()
          else both("guidance.contact_ask", kit.body, kit.body_small)),
        Spacer(1, 3 * mm),
        kit.para(_text(lang, "guidance.ncd.heading"), kit.section),
        kit.para(_text(other, "guidance.ncd.heading"), kit.body_small),
        Spacer(1, 1 * mm),
        *both("guidance.ncd.body", kit.body, kit.body_small),
        Spacer(1, 5 * mm),
    ]
    story.append(Table(
        [[[
            kit.para(_text(lang, "guidance.umin_page"), kit.body),
            kit.para(_text(other, "guidance.umin_page"), kit.body_small),
            kit.para(escape(page_url), kit.value),
        ]]],
        colWidths=[180 * mm - 12],
        style=_grid_style(),
    ))
    return _build(story, title=GUIDANCE_PDF_TITLE, font_path=font_path, invariant=invariant, footer=None)


# ------------------------------------------------------------------------------------------------ FAX


def _page_mark(seen: list[int]) -> Flowable:
    """A zero-size flowable that records the page it lands on (needs ``_build``'s canvas)."""

    class _PageMark(Flowable):
        def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
            return 0, 0

        def draw(self) -> None:
            seen.append(self.canv.current_page())

    return _PageMark()


@functools.cache
def _cover_styles() -> tuple[ParagraphStyle, ...]:
    """The cover's styles (title, English title, addressee, FAX number, value, caption, label, note):
    constants, made once, as a fixed paragraph's template is kept per style."""

    def style(name: str, size: float, leading: float, align: int = 0) -> ParagraphStyle:
        return ParagraphStyle(name, fontName=FONT_NAME, fontSize=size, leading=leading, alignment=align,
                              wordWrap="CJK", textColor=black)

    return (
        style("cover_title", COVER_TITLE_SIZE, COVER_TITLE_SIZE * 1.25, TA_CENTER),
        style("cover_title_en", 11, 14, TA_CENTER),
        style("cover_big", 18, 23),
        style("cover_fax", COVER_FAX_SIZE, COVER_FAX_SIZE * 1.2),
        style("cover_value", 14, 18),
        style("cover_sub", SUBLABEL_SIZE, 12),
        style("cover_label", 12, 15),
        style("cover_note", 12, 16),
    )


def _cover_story(
    application: Application, kit: _Kit, *, font_path: Path, fax_number: str, agreement: str, total: int,
    enclosed: int,
) -> list[Flowable]:
    """The FAX cover sheet: to whom, from where (institution, department, phone only), how many pages,
    and that the form comes unsigned under the site's arrangement with UMIN (``agreement``)."""

    title, title_en, big, fax_style, value, sub, label_style, note = _cover_styles()

    def printed(text: str) -> str:
        return _printable(text, font_path)[0]

    def label(key: str) -> list[Flowable]:
        return [kit.fixed(t("ja", key), label_style), kit.fixed(t("en", key), sub)]

    fax = printed(fax_number)
    answers = application.answers
    width = 180 * mm - 12
    label_w = 45 * mm
    value_w = width - label_w
    date_ja, date_en = _date(application.applied_on), _date(application.applied_on, "en")

    def sender(key: str) -> list[Flowable]:
        return [
            kit.mixed(t("ja", f"field.{key}"), t("en", f"field.{key}"), kit.label),
            kit.para(printed(answers.get(key, "")), value),
        ]

    rows: list[list[Any]] = [
        [label("cover.to_label"), [kit.fixed(t("ja", "cover.to"), big), kit.fixed(t("en", "cover.to"), sub)]],
        [label("cover.fax_label"), kit.fixed(fax, fax_style)],
        [label("cover.date_label"), [kit.para(date_ja, value), kit.para(date_en, sub)]],
        [label("cover.pages_label"), [
            kit.fixed(t("ja", "cover.pages", pages=total), value),
            kit.fixed(t("en", "cover.pages", pages=total), sub),
        ]],
        [label("cover.from_label"), sender("institution")],
        ["", sender("department")],
        ["", sender("phone")],
        [label("cover.enclosed_label"), [
            kit.fixed(t("ja", "cover.enclosed", title=t("ja", "doc.title"), pages=enclosed), value),
            kit.fixed(t("en", "cover.enclosed", title=t("en", "doc.title"), pages=enclosed), sub),
        ]],
        [label("cover.signature_label"), [
            kit.fixed(t("ja", "cover.unsigned", agreement=printed(agreement)), value),
            kit.fixed(t("en", "cover.unsigned", agreement=printed(agreement)), sub),
        ]],
    ]
    table = Table(
        rows,
        colWidths=[label_w, value_w],
        style=_grid_style([
            ("SPAN", (0, 4), (0, 6)),
            ("TOPPADDING", (0, 0), (-1, -1), 5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ("LEFTPADDING", (0, 0), (-1, -1), 7),
        ]),
    )
    return [
        Spacer(1, 6 * mm),
        kit.fixed(t("ja", "cover.title"), title),
        kit.fixed(t("en", "cover.title"), title_en),
        Spacer(1, 8 * mm),
        table,
        Spacer(1, 8 * mm),
        kit.fixed(t("ja", "cover.kiosk"), note),
        kit.fixed(t("en", "cover.kiosk"), sub),
        Spacer(1, 3 * mm),
        kit.fixed(t("ja", "cover.incomplete"), note),
        kit.fixed(t("en", "cover.incomplete"), sub),
    ]


def render_fax(
    application: Application, *, font_path: Path, fax_number: str, page_url: str, agreement: str,
    invariant: bool = False,
) -> bytes:
    """What goes to the FAX queue: a cover sheet, then the application as ``render_application`` lays it
    out, except that its signature boxes say it was not signed and under which arrangement with UMIN
    (``agreement``, the ``fax.agreement`` setting) it was sent. The pages are numbered across the whole
    transmission, and the cover states the real total (itself included), so the receiver can tell
    whether every page arrived.
    """
    if not agreement.strip():
        raise ValueError("an unsigned form is faxed only under an arrangement with UMIN (fax.agreement)")

    font_path = Path(font_path)
    load_font(font_path)
    kit = _kit()
    total, enclosed = 2, 1  # a guess; corrected below if the layout says otherwise
    pdf = b""
    for _ in range(4):
        starts: list[int] = []
        pages: list[int] = []
        story = _cover_story(application, kit, font_path=font_path, fax_number=fax_number,
                             agreement=agreement, total=total, enclosed=enclosed)
        story += [PageBreak(), _page_mark(starts)]
        story += _application_story(application, kit, font_path=font_path, fax_number=fax_number,
                                    page_url=page_url, unsigned=_printable(agreement, font_path)[0])
        pdf = _build(story, title=FAX_PDF_TITLE, font_path=font_path, invariant=invariant,
                     footer=_page_footer, pages_out=pages)
        real_total, real_enclosed = pages[0], pages[0] - starts[0] + 1
        if (real_total, real_enclosed) == (total, enclosed):
            return pdf
        total, enclosed = real_total, real_enclosed
    raise RuntimeError("the FAX page count did not settle")  # pragma: no cover - layout cannot oscillate


@functools.lru_cache(maxsize=8)
def _qr_modules(value: str) -> tuple[tuple[int, int, int], ...]:
    """The dark modules of ``value``'s QR code (error correction M), as (row, first column, run length):
    reportlab's own encoder, run once per value (the value is a site setting, the same on every form)."""
    from reportlab.graphics.barcode import qrencoder

    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(value)
    code.make()
    count = code.getModuleCount()
    runs: list[tuple[int, int, int]] = []
    for row in range(count):
        column = 0
        while column < count:
            if code.isDark(row, column):
                first = column
                while column < count and code.isDark(row, column):
                    column += 1
                runs.append((row, first, column - first))
            else:
                column += 1
    return tuple(runs)


class _QrCode(Flowable):
    """A QR code drawn as one filled rectangle per run of dark modules, with a 4-module quiet zone.
    reportlab's QrCodeWidget draws the same modules as a graphics tree of ~3,000 nodes, which was most of
    a form's rendering time (bench/RESULTS.md, row 2)."""

    QUIET = 4

    def __init__(self, value: str, size: float) -> None:
        super().__init__()
        self.value = value
        self.size = size

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        canvas = self.canv
        canvas.saveState()
        canvas.setFillColor(black)
        canvas.addLiteral(_qr_operators(self.value, self.size))
        canvas.restoreState()


@functools.lru_cache(maxsize=8)
def _qr_operators(value: str, size: float) -> str:
    """The PDF operators that fill ``value``'s QR code, ``size`` points square: exactly what
    ``canvas.rect(x, y, w, h, stroke=0, fill=1)`` writes for each run of dark modules (the canvas's fill
    rule is even-odd), made once per value and size. Drawing ~300 rectangles one call at a time was ~0.5 ms
    of every form; the value is a site setting, the same on every form."""
    runs = _qr_modules(value)
    count = max((row for row, _c, _n in runs), default=0) + 1
    unit = size / (count + 2 * _QrCode.QUIET)
    top = size - _QrCode.QUIET * unit
    return "\n".join(
        f"n {fp_str((_QrCode.QUIET + first) * unit, top - (row + 1) * unit, length * unit, unit)} re f*"
        for row, first, length in runs
    )


def _qr_drawing(value: str, size_mm: float) -> Flowable:
    """``value`` as a QR code, ``size_mm`` square with its quiet zone."""
    return _QrCode(value, size_mm * mm)


def render_reminder(
    *, lang: str, fax_number: str, page_url: str, font_path: Path, invariant: bool = False
) -> bytes:
    """A one-page slip for someone who printed the form but has not FAXed it yet. No personal data.

    The requested language comes first, the other language follows in smaller type.
    """

    font_path = Path(font_path)
    load_font(font_path)
    kit = _kit()
    other = _other(lang)

    def style(name: str, size: float, leading: float, align: int = 0, **kw: float) -> ParagraphStyle:
        return ParagraphStyle(name, fontName=FONT_NAME, fontSize=size, leading=leading, alignment=align,
                              wordWrap="CJK", textColor=black, **kw)

    title = style("reminder_title", REMINDER_TITLE_SIZE, REMINDER_TITLE_SIZE * 1.25, TA_CENTER)
    title_other = style("reminder_title_other", 13, 17, TA_CENTER)
    section = style("reminder_section", 15, 19, spaceBefore=4)
    body = style("reminder_body", 13, 17)
    small = style("reminder_small", 9, 12)
    where = style("reminder_where", 18, 23)
    fax_style = style("reminder_fax", COVER_FAX_SIZE, COVER_FAX_SIZE * 1.2)
    url_style = style("reminder_url", 12, 15)
    item_body = style("reminder_item", 13, 17, leftIndent=20, bulletIndent=0, bulletFontName=FONT_NAME,
                      bulletFontSize=13)
    item_small = style("reminder_item_small", 9, 12, leftIndent=20)
    fax = _printable(fax_number, font_path)[0]
    url = _printable(page_url, font_path)[0]

    def both(key: str, first: ParagraphStyle, second: ParagraphStyle) -> list[Flowable]:
        return [kit.para(_text(lang, key), first), kit.para(_text(other, key), second)]

    def item(key: str) -> list[Flowable]:
        """A bulleted point; the other language's line sits under the text, not under the bullet."""
        return [
            _Paragraph(escape(_text(lang, key)), item_body, bulletText="・"),
            kit.para(_text(other, key), item_small),
        ]

    def heading(key: str) -> list[Flowable]:
        return [Spacer(1, 3 * mm), *both(key, section, small), Spacer(1, 1.5 * mm)]

    width = 180 * mm - 12
    qr_w = QR_SIZE * mm + 10
    link = Table(
        [[
            _qr_drawing(page_url, QR_SIZE),
            [*both("reminder.page", body, small), Spacer(1, 2 * mm), kit.para(url, url_style)],
        ]],
        colWidths=[qr_w, width - qr_w],
        style=_grid_style([("LEFTPADDING", (0, 0), (0, 0), 5), ("TOPPADDING", (0, 0), (-1, -1), 5),
                           ("BOTTOMPADDING", (0, 0), (-1, -1), 5)]),
    )
    story: list[Flowable] = [
        kit.para(_text(lang, "reminder.title"), title),
        kit.para(_text(other, "reminder.title"), title_other),
        Spacer(1, 3 * mm),
        *both("reminder.intro", body, small),
        *heading("reminder.what_heading"),
        *item("reminder.what"),
        *item("reminder.what_group"),
        *heading("reminder.where_heading"),
        *both("reminder.where", where, small),
        kit.para(f"FAX　{fax}", fax_style),
        *heading("after.heading"),
        *item("after.wait"),
        *item("after.mail"),
        *item("after.password"),
        Spacer(1, 4 * mm),
        link,
        Spacer(1, 3 * mm),
        *both("reminder.no_personal", small, small),
    ]
    return _build(story, title=REMINDER_PDF_TITLE, font_path=font_path, invariant=invariant, footer=None)


# ---------------------------------------------------------------------------------------------- sample


def sample_application(now: datetime | None = None, *, project: str = "JSOG・DB GO システム") -> Application:
    """A clearly fictional applicant, for demos, ``render --sample`` and tests."""
    when = now or datetime.now().astimezone()
    raw = {
        "umin_id": "yamada-tky",
        "name_kanji": "山田 太郎",
        "name_kana": "やまだ たろう",
        "name_roman": "Taro Yamada",
        "institution": "架空大学病院",
        "department": "産婦人科",
        "position": "助教",
        "phone": "03-1234-5678",
        "email": "yamada@example.ac.jp",
    }
    checked = check(Route.INDICE_ONLY, IdType.PERSONAL, raw)
    if not checked.ok:  # pragma: no cover - the sample is fixed; this guards edits to the rules
        raise ValueError(f"the sample application no longer passes the checks: {checked.problems}")
    return Application(
        route=Route.INDICE_ONLY,
        id_type=IdType.PERSONAL,
        answers=checked.answers,
        consent=ConsentRecord(terms_version="sample-1", agreed_at=when - timedelta(minutes=4), lang="ja"),
        project=project,
        applied_on=when,
    )
