"""Shared fixtures: a private CUPS for the whole run, and an app wired to it."""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from indice_kiosk.core.config import Config, CupsSettings, FaxSettings
from indice_kiosk.core.jobs import PrintTarget
from tests.cups_fixture import print_target, private_cups  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent
# A FAX mode needs the site's arrangement with UMIN on the unsigned form (kiosk.toml fax.agreement).
FAX_AGREEMENT = "試験施設：UMIN と合意済み（署名原本は後日郵送）"

# What a test needs, so a run can be chosen by it (pytest -m unit, -m "not system", ...):
#   system - real processes in real terminals or stacks (tmux, script, cage + foot)
#   cups   - the private cupsd (real printing)
#   ui     - the Textual app driven by Pilot
#   unit   - none of these
SYSTEM_MODULES = {"test_deployment", "test_terminal", "test_walkup_stack"}
CUPS_FIXTURES = {"private_cups", "print_target", "config", "own_cups", "private_fax_cups", "walkup"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = item.module.__name__.rpartition(".")[2] if item.module else ""  # type: ignore[attr-defined]
        fixtures = set(getattr(item, "fixturenames", ()))
        source = getattr(item, "function", None)
        kinds = {kind for kind in ("system", "cups", "ui") if item.get_closest_marker(kind)}
        if module in SYSTEM_MODULES or "terminal" in fixtures or "terminals" in fixtures:
            kinds.add("system")
        if fixtures & CUPS_FIXTURES:
            kinds.add("cups")
        if source is not None and inspect.iscoroutinefunction(source):
            kinds.add("ui")
        for kind in kinds or {"unit"}:
            item.add_marker(getattr(pytest.mark, kind))


@pytest.fixture(autouse=True)
def _no_machine_cups(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test may reach the machine's own CUPS by accident."""
    monkeypatch.setenv("CUPS_SERVER", "127.0.0.1:9")  # discard port: refuses at once
    yield


@pytest.fixture(autouse=True, scope="session")
def _private_font_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The parsed-font cache (indice_kiosk/paper/fontcache.py) of this run lives in a temporary directory."""
    os.environ["INDICE_KIOSK_CACHE"] = str(tmp_path_factory.mktemp("font-cache"))
    yield


@pytest.fixture
def config(private_cups) -> Config:  # noqa: F811
    return Config(cups=CupsSettings(server=private_cups.server, queue=private_cups.queue, timeout=5.0,
                                    max_wait=20.0),
                  fax=FaxSettings(queue=private_cups.fax_queue, max_wait=20.0, agreement=FAX_AGREEMENT))


@pytest.fixture(autouse=True, scope="session")
def _freeze_cursor_blink() -> Iterator[None]:
    # Snapshots must not depend on where the cursor blink was when the screen was captured.
    os.environ["TEXTUAL_ANIMATIONS"] = "none"
    from textual.widgets import Input

    original = Input._toggle_cursor
    Input._toggle_cursor = lambda self: None  # type: ignore[method-assign]
    yield
    Input._toggle_cursor = original  # type: ignore[method-assign]


def target_for(cups: object) -> PrintTarget:
    return PrintTarget(server=cups.server, queue=cups.queue, timeout=5.0)  # type: ignore[attr-defined]
