"""The private parts of Textual and reportlab the product relies on are named in one module each
(indice_kiosk/widgets/textual_private.py, indice_kiosk/paper/reportlab_private.py). These tests fail on
the upgrade that moves one, and say which; and no other module reaches for them."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from xml.sax.saxutils import escape

import reportlab
import textual
from reportlab.pdfbase import ttfonts
from reportlab.pdfgen.canvas import Canvas
from rich.console import Console
from rich.segment import Segment
from textual import messages
from textual._compositor import ChopsUpdate, LayoutUpdate
from textual.app import App
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip
from textual.widgets import Button

from indice_kiosk.widgets import textual_private

ROOT = Path(__file__).resolve().parent.parent / "indice_kiosk"


def test_textual_is_the_version_the_private_parts_were_checked_on() -> None:
    assert textual.__version__ == textual_private.TEXTUAL_VERSION


def test_textual_still_has_the_private_parts_we_use() -> None:
    for cls, names in textual_private.OVERRIDDEN.items():
        for name in names:
            assert callable(getattr(cls, name, None)), f"{cls.__name__}.{name} is gone"
    app = App()
    assert isinstance(app._exit_renderables, list)
    assert callable(app._close_messages_no_wait)
    # _fatal_error appends its report and closes down: the replacement does the same two things.
    source = inspect.getsource(App._fatal_error)
    assert "_exit_renderables.append" in source and "_close_messages_no_wait" in source
    screen = Screen()
    assert callable(screen._bindings.bind) and callable(screen._merge_bindings)
    textual_private.bind_key(screen, "f2", "noop", "description")
    assert "f2" in screen._bindings.key_to_bindings


def test_textual_still_paints_the_way_the_one_paint_switch_relies_on() -> None:
    # paint_in_full_once: a screen among its own dirty widgets is painted whole by the layout's paint.
    source = inspect.getsource(Screen._on_timer_update)
    assert source.index("_refresh_layout") < source.index("_repaint_required = False")
    assert "self._dirty_widgets.add(widget)" in inspect.getsource(Screen._on_update)
    assert "_compositor.update_widgets(self._dirty_widgets)" in inspect.getsource(Screen._refresh_layout)
    assert messages.Update(Screen()).widget is not None
    # paints_are_held: _display drops what it is given inside a batch.
    app = App()
    assert app._batch_count == 0 and "if self._batch_count:" in inspect.getsource(App._display)
    # end_press_effects: the press effect is the -active class, taken off by a timer.
    assert '"-active"' in inspect.getsource(Button._start_active_affect)
    # DrawnRows: the two kinds of paint and what it reads of them.
    assert {"strips", "region"} <= set(inspect.signature(LayoutUpdate).parameters)
    assert "spans" in inspect.signature(ChopsUpdate).parameters


def _full(rows: list[str], width: int = 10) -> LayoutUpdate:
    strips = [[Strip([Segment(row.ljust(width))])] for row in rows]
    return LayoutUpdate(strips, Region(0, 0, width, len(rows)))


def test_drawn_rows_sends_only_the_rows_that_changed() -> None:
    console = Console(color_system="truecolor")
    rows = textual_private.DrawnRows()
    first = rows.changed(_full(["title", "name", "keys"]), console, (10, 3))
    assert [y for y, _ in first.rows] == [0, 1, 2]  # type: ignore[attr-defined]
    same = rows.changed(_full(["title", "name", "keys"]), console, (10, 3))
    assert same.rows == []  # type: ignore[attr-defined]
    assert same.render_segments(console) == ""  # type: ignore[attr-defined]
    one = rows.changed(_full(["title", "other", "keys"]), console, (10, 3))
    assert one.render_segments(console) == "\x1b[2;1Hother     "  # type: ignore[attr-defined]
    # A partial paint on row 2 leaves it unknown: the next full paint draws it again.
    chops = ChopsUpdate([{}, {}, {0: Strip([Segment("k")])}], [(2, 0, 1)], [[], [], [1]])
    assert rows.changed(chops, console, (10, 3)) is chops
    assert [y for y, _ in rows.changed(_full(["title", "other", "keys"]), console, (10, 3)).rows] == [2]
    # A new terminal size, or forgetting, draws every row again.
    assert len(rows.changed(_full(["title", "other", "keys"]), console, (10, 4)).rows) == 3
    rows.forget()
    assert len(rows.changed(_full(["title", "other", "keys"]), console, (10, 4)).rows) == 3


def test_drawn_rows_keep_no_text() -> None:
    rows = textual_private.DrawnRows()
    rows.changed(_full(["Suzuki"]), Console(), (10, 1))
    # Hashes (ints), never the text drawn.
    assert rows._rows and all(type(digest) is int for digest in rows._rows.values())


def test_reportlab_still_has_the_private_parts_we_use() -> None:
    assert reportlab.Version.split(".")[0] in ("4", "5")  # pyproject: reportlab>=4.2,<6
    assert callable(Canvas._startPage)
    assert "TTFontFace(" in inspect.getsource(ttfonts.TTFont.__init__)  # the parse font_face_given skips



def test_reportlab_still_compresses_every_stream_through_the_one_filter_we_speed_up() -> None:
    """deflate_fast replaces the encode of reportlab's PDFZCompress object: the page streams and the
    embedded font subsets must still go through that object, and come out as Flate streams."""
    import io
    import zlib

    from pypdf import PdfReader
    from reportlab.pdfbase import pdfdoc

    from indice_kiosk.paper import document, reportlab_private
    from indice_kiosk.paper.fonts import DEFAULT_FONT_PATH

    assert isinstance(pdfdoc.PDFZCompress, pdfdoc.PDFStreamFilterZCompress)
    assert pdfdoc.PDFZCompress.pdfname == "FlateDecode"
    assert "pdfdoc.PDFZCompress" in inspect.getsource(ttfonts.TTFontFace.addSubsetObjects)
    assert "PDFZCompress" in inspect.getsource(pdfdoc.PDFPage.check_format)
    assert pdfdoc.PDFZCompress.encode is reportlab_private._deflate  # document.py has switched it on
    data = b"BT /F1 12 Tf (kiosk) Tj ET\n" * 200
    assert pdfdoc.PDFZCompress.encode(data) == zlib.compress(data, reportlab_private.DEFLATE_LEVEL)
    pdf = document.render_application(document.sample_application(), font_path=DEFAULT_FONT_PATH,
                                      fax_number="03-5689-0726", page_url="http://www.umin.ac.jp/")
    assert pdf.count(b"/FlateDecode") >= 2  # the page and the font subset, compressed
    assert "UMIN" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()  # and read back


def test_a_character_beyond_the_bmp_reads_back_from_the_pdf() -> None:
    """to_unicode_for_every_plane: reportlab still builds ToUnicode through its module-level function,
    and a name with 𡈽 (U+2123D, in the font) is found in the PDF's text (before: pypdf rejected the map)."""
    import dataclasses
    import io

    from pypdf import PdfReader

    from indice_kiosk.paper import document, reportlab_private
    from indice_kiosk.paper.fonts import DEFAULT_FONT_PATH

    assert "makeToUnicodeCMap(" in inspect.getsource(ttfonts.TTFont.addObjects)
    assert ttfonts.makeToUnicodeCMap is reportlab_private._to_unicode_cmap  # document.py has switched it on
    sample = document.sample_application()
    application = dataclasses.replace(sample, answers={**sample.answers, "name_kanji": "𡈽田 太郎"})
    pdf = document.render_application(application, font_path=DEFAULT_FONT_PATH, fax_number="03-5689-0726",
                                      page_url="http://www.umin.ac.jp/")
    assert "𡈽田" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


PRIVATE_NAMES = re.compile(r"\._bindings\b|_merge_bindings|_exit_renderables|_close_messages_no_wait"
                           r"|_startPage|TTFontFace|_batch_count|textual\._compositor|messages\.Update")


def test_no_other_module_reaches_for_them() -> None:
    allowed = {"widgets/textual_private.py", "paper/reportlab_private.py"}
    offenders = [str(path.relative_to(ROOT)) for path in ROOT.rglob("*.py")
                 if str(path.relative_to(ROOT)) not in allowed and PRIVATE_NAMES.search(path.read_text())]
    assert offenders == []


def test_no_line_of_japanese_starts_with_a_mark_that_closes_the_one_before() -> None:
    """japanese_line_breaks: reportlab's two CJK line breakers still read their module-level lists of
    characters that may not start a line, and a "：" that falls at a line's start hangs on the line before
    (as 、 and 。 do) instead of opening the next -- reportlab's list lacks the full-width ：；？！，．."""
    from reportlab.lib import textsplit
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, paragraph

    from indice_kiosk.paper import document, reportlab_private  # noqa: F401  (document switches it on)
    from indice_kiosk.paper.fonts import DEFAULT_FONT_PATH, FONT_NAME, load_font

    assert "ALL_CANNOT_START" in inspect.getsource(paragraph.cjkFragSplit)
    assert "dumbSplit(" in inspect.getsource(textsplit.wordSplit)
    assert "ALL_CANNOT_START" in inspect.getsource(textsplit.dumbSplit)
    load_font(DEFAULT_FONT_PATH)
    style = ParagraphStyle("t", fontName=FONT_NAME, fontSize=10, leading=12, wordWrap="CJK")
    for mark in reportlab_private.CANNOT_START_TOO:
        text = "申請者" * 3 + "氏名" + mark + "山田太郎" * 4  # the mark is the 12th character
        one_style = Paragraph(escape(text), style)
        mixed = Paragraph(f'<font color="red">{escape(text[:5])}</font>{escape(text[5:])}', style)
        for para in (one_style, mixed):
            para.wrap(11 * 10.0 + 1, 1000)  # room for 11 characters a line
            lines = ["".join(line[1]) if isinstance(line, tuple) else "".join(w.text for w in line.words)
                     for line in para.blPara.lines]
            assert "".join(lines) == text
            assert not any(line.startswith(mark) for line in lines), (mark, lines)
