"""Running text that wraps the way Japanese is set, not only at spaces.

Textual breaks lines only at whitespace. Japanese has none between words, so one space inside a
Japanese sentence ("UMIN ID") makes the whole rest of it jump to the next line, and a long sentence
folds wherever the edge falls — a 「。」 alone at the start of a line. Here a line may break between
any two Japanese characters, never inside a Latin word (unless it is longer than the line), and a
closing mark (。、）」 …) never starts a line nor an opening one (（「 …) ends one (simple kinsoku).
"""

from __future__ import annotations

import re
from functools import lru_cache

from rich.cells import cell_len
from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget

NO_START = set("、。，．,.)）]］｝〕〉》」』】〙〗!?！？ー‐・:;：；")
NO_START |= set("ァィゥェォッャュョヮヵヶぁぃぅぇぉっゃゅょゎゝゞ々")  # small kana
NO_END = set("(（[［｛〔〈《「『【〘〖")
# A "word" never broken: a run of Latin letters, digits and the marks inside addresses, numbers and
# English words ("representative's" broke after its apostrophe).
_TOKEN = re.compile(r"[A-Za-z0-9@._:/\-+#=&?%~'’]+|\s+|.", re.S)


@lru_cache(maxsize=1024)
def wrap(text: str, width: int) -> tuple[str, ...]:
    """Split ``text`` into lines of at most ``width`` cells (explicit newlines are kept)."""
    width = max(width, 4)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_wrap_paragraph(paragraph, width))
    return tuple(lines)


def _wrap_paragraph(paragraph: str, width: int) -> list[str]:
    tokens = _TOKEN.findall(paragraph)
    lines: list[str] = []
    line = ""
    for token in tokens:
        if token.isspace():
            if line and cell_len(line) + 1 <= width:
                line += " "
            elif line:
                lines.append(line.rstrip())
                line = ""
            continue
        while cell_len(token) > width:  # a word longer than the line: fold it
            room = width - cell_len(line)
            head = _take_cells(token, room)
            if not head:
                lines.append(line.rstrip())
                line = ""
                continue
            lines.append(line + head)
            line, token = "", token[len(head):]
        if cell_len(line) + cell_len(token) <= width:
            line += token
            continue
        # The token goes to the next line; keep the kinsoku rules at the break.
        carry = ""
        if token[0] in NO_START:
            carry, line = line[-1:], line[:-1]
        while line and line[-1] in NO_END:
            carry, line = line[-1] + carry, line[:-1]
        lines.append(line.rstrip())
        line = carry + token
    lines.append(line.rstrip())
    return lines


def _take_cells(text: str, cells: int) -> str:
    taken = ""
    for ch in text:
        if cell_len(taken + ch) > cells:
            break
        taken += ch
    return taken


class Prose(Widget):
    """Plain text (never markup: it may hold what a person typed) wrapped by ``wrap``."""

    DEFAULT_CSS = """
    Prose {
        height: auto;
    }
    """

    def __init__(self, text: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._text = text

    @property
    def text(self) -> str:
        return self._text

    def update(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self.refresh(layout=True)

    def render(self) -> Content:
        width = self.content_region.width or self.size.width or 80
        return Content("\n".join(wrap(self._text, width)))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(wrap(self._text, width)) if self._text else 0

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return max((cell_len(line) for line in self._text.split("\n")), default=0)
