"""The operator console's test page: the program's name, date and time, the queue, a millimetre scale --
no personal data. Drawn with the kiosk's embedded font, so a printer or FAX that shows it right will show
the form right."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from indice_kiosk.core import jobs
from indice_kiosk.core.text import t
from indice_kiosk.paper.fonts import FONT_NAME, load_font


def test_page_pdf(font_path: Path, lang: str, *, queue: str = "", when: datetime | None = None) -> bytes:
    """A one-page test page: the program's name, the date and time (``when``, default now in the local
    zone), the queue -- no personal data.  Only the kiosk's embedded font is used."""
    load_font(Path(font_path))
    when = when or datetime.now().astimezone()
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4, initialFontName=FONT_NAME, initialFontSize=14, pageCompression=1)
    canvas.setTitle(jobs.TEST_PAGE)
    canvas.setAuthor("indice-kiosk")
    canvas.setCreator("indice-kiosk")
    canvas.setSubject("")
    width, height = A4
    canvas.setFillColorRGB(0, 0, 0)
    canvas.setStrokeColorRGB(0, 0, 0)
    canvas.setLineWidth(1.0)
    canvas.rect(15 * mm, 15 * mm, width - 30 * mm, height - 30 * mm)
    y = height - 40 * mm
    canvas.setFont(FONT_NAME, 28)
    canvas.drawString(25 * mm, y, jobs.TEST_PAGE)
    lines = [
        t(lang, "console.page.heading"),
        t(lang, "console.page.when", when=when.strftime("%Y-%m-%d %H:%M:%S %Z").strip()),
        t(lang, "console.page.queue", queue=queue or "-"),
        t(lang, "console.page.no_personal"),
    ]
    room = width - 50 * mm
    for line in lines:
        y -= 14 * mm
        size = 14.0
        while size > 8 and stringWidth(line, FONT_NAME, size) > room:  # one line each, inside the frame
            size -= 0.5
        canvas.setFont(FONT_NAME, size)
        canvas.drawString(25 * mm, y, line)
    # A scale a technician can read off the paper (FAX and printer alike): 0-100 mm in 10 mm steps.
    y -= 25 * mm
    canvas.line(25 * mm, y, 125 * mm, y)
    canvas.setFont(FONT_NAME, 9)
    for step in range(11):
        x = (25 + 10 * step) * mm
        canvas.line(x, y, x, y + (4 if step % 5 else 7) * mm)
        canvas.drawCentredString(x, y - 5 * mm, str(step * 10))
    canvas.drawString(130 * mm, y, "mm")
    canvas.showPage()
    canvas.save()
    return buf.getvalue()
