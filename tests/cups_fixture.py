"""Pytest fixtures: a private CUPS with a virtual printer (see devtools.democups).

Import from tests/conftest.py:  from tests.cups_fixture import private_cups, print_target
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.democups import PrivateCups, missing_tools
from indice_kiosk.core.jobs import PrintTarget


@pytest.fixture(scope="session")
def private_cups() -> Iterator[PrivateCups]:
    """One private cupsd + ippeveprinter (keep_jobs=True) for the whole session."""
    missing = missing_tools()
    if missing:
        pytest.fail(f"CUPS test tools not installed (scripts/test installs them): {', '.join(missing)}")
    cups = PrivateCups(keep_jobs=True, fax_queue="kiosk-fax")
    cups.start()
    try:
        yield cups
    finally:
        cups.stop()


@pytest.fixture
def print_target(private_cups: PrivateCups) -> PrintTarget:
    return PrintTarget(server=private_cups.server, queue=private_cups.queue)
