"""The house rules of the package: which room may use what (README, "Layout").

- only ``indice_kiosk/paper/`` imports reportlab; only ``indice_kiosk/cups/`` imports pycups;
- ``indice_kiosk/core/`` imports none of reportlab, pycups, Textual or Rich, nor any other room;
- ``paper/`` and ``cups/`` use only the core; ``widgets/`` only the core (and Textual);
- nothing installed imports ``devtools/`` (the demo and test CUPS);
- the old top-level packages (kiosk, screens, styles) are gone: installed, they would collide.

Checked on the source (every import statement, also those inside functions) and, for the core, by
importing it in a fresh interpreter.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "indice_kiosk"
ROOMS = ("core", "paper", "cups", "walkup", "console", "widgets")


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, absolute names."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def room_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else path.stem


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def uses(names: set[str], top: str) -> bool:
    return any(name == top or name.startswith(top + ".") for name in names)


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_each_module_keeps_to_its_room(path: Path) -> None:
    names = imports(path)
    room = room_of(path)
    if uses(names, "reportlab"):
        assert room == "paper", "only indice_kiosk/paper/ draws PDFs (reportlab)"
    if uses(names, "cups"):
        assert room == "cups", "only indice_kiosk/cups/ talks to CUPS (pycups)"
    assert not uses(names, "devtools"), "the product never imports devtools/"
    ours = {name.split(".")[1] for name in names if name.startswith("indice_kiosk.") and name.count(".") >= 1}
    if room == "core":
        assert not any(uses(names, lib) for lib in ("textual", "rich")), "the core has no UI"
        assert ours <= {"core"}, f"the core uses only the core, not {sorted(ours - {'core'})}"
    elif room in ("paper", "cups"):
        assert ours <= {"core", room}, f"{room}/ uses only the core, not {sorted(ours - {'core', room})}"
    elif room == "widgets":
        extra = sorted(ours - {"core", "widgets"})
        assert not extra, f"widgets/ use only the core, not {extra}"


def test_the_rooms_are_there_and_the_old_packages_are_gone() -> None:
    for room in ROOMS:
        assert (PACKAGE / room / "__init__.py").is_file(), room
    assert (PACKAGE / "privacy.py").is_file() and (PACKAGE / "cli.py").is_file()
    for old in ("kiosk", "screens", "styles", "indice_kiosk.py"):
        assert not (ROOT / old).exists(), f"{old} is back"


def test_the_core_loads_alone() -> None:
    """Importing every core module pulls in none of reportlab, pycups, Textual or Rich."""
    modules = [f"indice_kiosk.core.{p.stem}" for p in (PACKAGE / "core").glob("*.py") if p.stem != "__init__"]
    code = (f"import sys, {', '.join(modules)}; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'reportlab', 'cups', 'textual', 'rich'}))"
            )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


# Methods that change a Session, and container methods that change what it holds.
SESSION_WRITES = {"agree", "check_answers", "make_application", "keep_document", "forget_document", "wipe",
                  "job_submitted", "job_settled", "add", "setdefault", "update", "clear", "append", "pop",
                  "remove", "discard", "__setitem__"}


def names_in(node: ast.AST) -> set[str]:
    found: set[str] = set()
    for part in ast.walk(node):
        if isinstance(part, ast.Name):
            found.add(part.id)
        elif isinstance(part, ast.Attribute):
            found.add(part.attr)
    return found


@pytest.mark.parametrize("path", sorted((PACKAGE / "walkup" / "steps").glob("*.py")), ids=lambda p: p.name)
def test_no_step_writes_the_session(path: Path) -> None:
    """Steps post messages (indice_kiosk/walkup/messages.py); the app decides what they mean."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if not isinstance(target, ast.Name):  # rebinding a local name changes nothing
                assert "session" not in names_in(target), f"line {node.lineno}: writes the session"
        call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        if call and node.func.attr in SESSION_WRITES:  # type: ignore[attr-defined]
            assert "session" not in names_in(node.func.value), (  # type: ignore[attr-defined]
                f"line {node.lineno}: changes the session")
