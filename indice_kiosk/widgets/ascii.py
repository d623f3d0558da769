"""Everything the kiosk draws, as ASCII, for a terminal that cannot draw more
(``indice_kiosk.core.terminal``).

A line filter (Textual's hook for output filters such as NO_COLOR's monochrome) replaces each character
outside ASCII by one that keeps its width: borders and blocks by lines or spaces, the radio dot by "*",
quotes and arrows by their ASCII look-alikes, and anything else by "?" per cell, so nothing the console
cannot show reaches it and the layout stays where it was.
"""

from __future__ import annotations

from functools import lru_cache

from rich.cells import cell_len
from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

LOOK_ALIKES = {
    "“": '"', "”": '"', "‘": "'", "’": "'", "…": ".", "・": "-", "•": "*", "●": "*", "○": "o",
    "✓": "v", "✔": "v", "×": "x", "→": ">", "←": "<", "↑": "^", "↓": "v", "⇄": "~", "—": "-", "–": "-",
    "▐": "[", "▌": "]",  # a radio button's ends: "▐●▌" is drawn "[*]"
    "\u00a0": " ",
}


@lru_cache(maxsize=4096)
def ascii_text(text: str) -> str:
    """``text`` with every character outside ASCII replaced, cell for cell."""
    if text.isascii():
        return text
    out = []
    for char in text:
        if char.isascii():
            out.append(char)
        elif char in LOOK_ALIKES:
            out.append(LOOK_ALIKES[char])
        elif "\u2500" <= char <= "\u257f":  # box drawing
            out.append("-" if char in "─━═┄┅┈┉╌╍" else "|" if char in "│┃║┆┇┊┋╎╏" else "+")
        elif "\u2580" <= char <= "\u259f":  # block elements: borders, scroll bars (their colour stays)
            out.append(" ")
        else:
            out.append("?" * cell_len(char))  # a wide character is "??", a combining mark nothing
    return "".join(out)


class AsciiFilter(LineFilter):
    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [Segment(ascii_text(text), style, control) if not control else Segment(text, style, control)
                for text, style, control in segments]
