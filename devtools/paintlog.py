"""Run the real kiosk with every terminal write logged: which paint wrote it, how many bytes, and why.

    PAINTLOG=/tmp/paint.jsonl python -m devtools.paintlog --config kiosk.toml

A research tool (docs/research/screen-change-bytes.md), never part of the product: it wraps Textual's
``App._display`` (one call per paint the compositor sends) and ``LinuxDriver.write`` (every byte that
reaches the terminal) and appends one JSON line per paint to $PAINTLOG: the time, the screen, full or
partial update, the bytes, and the kiosk/Textual functions that asked for the paint.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback

from textual.app import App
from textual.drivers.linux_driver import LinuxDriver
from textual.screen import Screen
from textual.widget import Widget

from indice_kiosk import cli

LOG = open(os.environ.get("PAINTLOG", "/tmp/paintlog.jsonl"), "a", encoding="utf-8")
# What asked for work since the last paint: a whole-screen refresh (with its caller), a layout, a widget.
_asked: list[str] = []
_written = [0]

_original_display = App._display
_original_write = LinuxDriver.write


def _why() -> list[str]:
    """The textual/kiosk frames between the event loop and the paint, innermost last, short."""
    frames = traceback.extract_stack()[:-3]
    out = []
    for frame in frames:
        path = frame.filename
        if "/textual/" in path or "/indice_kiosk/" in path:
            short = path.rsplit("/textual/", 1)[-1] if "/textual/" in path else path.rsplit("/", 1)[-1]
            out.append(f"{short}:{frame.name}")
    return out[-8:]


def _display(self: App[object], screen: object, renderable: object) -> None:
    before = _written[0]
    _original_display(self, screen, renderable)
    if renderable is None:
        return
    kind = type(renderable).__name__
    LOG.write(json.dumps({"t": time.monotonic(), "screen": getattr(screen, "id", None), "kind": kind,
                          "bytes": _written[0] - before, "batch": self._batch_count,
                          "why": _why(), "asked": _asked[:40]}) + "\n")
    _asked.clear()
    LOG.flush()


def _write(self: LinuxDriver, data: str) -> None:
    _written[0] += len(data.encode("utf-8"))
    _original_write(self, data)


_original_refresh = Widget.refresh
_original_on_layout = Screen._on_layout
_original_on_update = Screen._on_update


def _refresh(self: Widget, *regions: object, **kwargs: object) -> Widget:
    if isinstance(self, Screen) and kwargs.get("repaint", True):
        _asked.append(f"screen.refresh({self.id}, {len(regions)} regions) from {' > '.join(_why()[-4:])}")
    elif kwargs.get("layout"):
        _asked.append(f"layout {type(self).__name__}#{self.id} from {' > '.join(_why()[-2:])}")
    return _original_refresh(self, *regions, **kwargs)  # type: ignore[arg-type]


async def _on_layout(self: Screen[object], message: object) -> None:
    _asked.append(f"Layout<{type(message.widget).__name__}#{message.widget.id}>")  # type: ignore[attr-defined]
    await _original_on_layout(self, message)  # type: ignore[arg-type]


async def _on_update(self: Screen[object], message: object) -> None:
    _asked.append(f"Update<{type(message.widget).__name__}#{message.widget.id}>")  # type: ignore[attr-defined]
    await _original_on_update(self, message)  # type: ignore[arg-type]


Widget.refresh = _refresh  # type: ignore[method-assign]
Screen._on_layout = _on_layout  # type: ignore[method-assign]
Screen._on_update = _on_update  # type: ignore[method-assign]
App._display = _display  # type: ignore[method-assign]
LinuxDriver.write = _write  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(cli.main())
