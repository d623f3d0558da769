"""Reading PDFs back in tests: their text, the size each run of text is drawn at, and a throw-away PDF."""

from __future__ import annotations

import io

from pypdf import PdfReader


def squash(text: str) -> str:
    """Drop all whitespace: pypdf and pdftotext space CJK and wrapped lines differently."""
    return "".join(text.split())


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def sized_runs(pdf: bytes) -> list[tuple[str, float]]:
    """Every shown text run with its effective font size in points (Tf size x text and CTM scale)."""
    runs: list[tuple[str, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip():
            runs.append((text, size * abs(tm[3]) * abs(cm[3])))

    for page in PdfReader(io.BytesIO(pdf)).pages:
        page.extract_text(visitor_text=visit)
    return runs


def text_at_least(pdf: bytes, points: float) -> str:
    """All text drawn at ``points`` or larger, in drawing order, whitespace removed."""
    return squash("".join(text for text, size in sized_runs(pdf) if size >= points - 0.01))


def make_pdf(text: str) -> bytes:
    """A one-line PDF for printing tests that are about CUPS, not about the kiosk's form."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont("Helvetica", 14)
    c.drawString(72, 760, text)
    c.showPage()
    c.save()
    return buf.getvalue()
