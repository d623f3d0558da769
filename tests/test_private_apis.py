"""The private parts of Textual and reportlab the product relies on are named in one module each
(indice_kiosk/widgets/textual_private.py, indice_kiosk/paper/reportlab_private.py). These tests fail on
the upgrade that moves one, and say which; and no other module reaches for them."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import reportlab
import textual
from reportlab.pdfbase import ttfonts
from reportlab.pdfgen.canvas import Canvas
from textual.app import App
from textual.screen import Screen

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


def test_reportlab_still_has_the_private_parts_we_use() -> None:
    assert reportlab.Version.split(".")[0] in ("4", "5")  # pyproject: reportlab>=4.2,<6
    assert callable(Canvas._startPage)
    assert "TTFontFace(" in inspect.getsource(ttfonts.TTFont.__init__)  # the parse font_face_given skips


PRIVATE_NAMES = re.compile(r"\._bindings\b|_merge_bindings|_exit_renderables|_close_messages_no_wait"
                           r"|_startPage|TTFontFace")


def test_no_other_module_reaches_for_them() -> None:
    allowed = {"widgets/textual_private.py", "paper/reportlab_private.py"}
    offenders = [str(path.relative_to(ROOT)) for path in ROOT.rglob("*.py")
                 if str(path.relative_to(ROOT)) not in allowed and PRIVATE_NAMES.search(path.read_text())]
    assert offenders == []
