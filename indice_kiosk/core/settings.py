"""Editing kiosk.toml from the operator console: checked, atomic, and never over someone else's change.

- ``load`` remembers the sha256 of the bytes it read. ``save`` takes an exclusive ``flock`` on the sibling
  ``kiosk.toml.lock``, reads the file again and refuses (``ConcurrentEditError``) if it is not what the
  editor loaded: a second operator cannot silently overwrite the first.
- The comments of kiosk.toml are its documentation, and tomli-w cannot write comments. So the new text is
  the old text with the edited ``key = value`` lines rewritten in place (values rendered by tomli-w, so the
  quoting is right) and missing keys appended to their section. The result is parsed back and must give
  exactly the intended settings; if it does not (a multi-line value, an odd layout), the file is written
  whole by tomli-w under a header that points to the ``.bak``.
- The new file is written to a temporary file in the same directory, fsync'ed, and moved over the old one
  with ``os.replace``; the old file is kept as ``kiosk.toml.bak``. A reader sees the old file or the new
  one, never half of one. So whoever saves must be able to write in the directory: before anything is
  written, a directory or a file they may not write is refused with its owner, group and mode named
  (``config.dir_not_writable``, ``config.file_not_writable``). The file's mode and group are kept (the
  group as long as the saver belongs to it); its owner only when root saves: after an operator's save the
  file is theirs (docs/deployment.md, section 3: a setgid directory ``root:kiosk-console`` 2775).
- Values arrive as the operator typed them and are checked by ``indice_kiosk.core.config`` itself, so every
  problem is
  a ``ConfigError`` naming the file and the key.
"""

from __future__ import annotations

import contextlib
import fcntl
import grp
import hashlib
import os
import pwd
import re
import stat
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from indice_kiosk.core.config import Config, ConfigError, from_dict, loads, value_from_text

# The keys the operator console edits, in the order the form shows them.
EDITABLE: tuple[str, ...] = (
    "cups.queue",
    "delivery.mode",
    "fax.queue",
    "fax.number",
    "fax.dial_prefix",
    "fax.agreement",
    "kiosk.idle_timeout",
    "kiosk.language",
    "project.name",
    "project.contact",
    "document.font",
)

FALLBACK_HEADER = (
    "# indice-kiosk site settings, written whole by the operator console: the previous file (with its\n"
    "# comments on every key) is kiosk.toml.bak next to this one.\n\n"
)


class ConcurrentEditError(Exception):
    """The file changed after the editor loaded it: nothing was written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"{path}: changed by someone else since it was loaded; nothing was written, "
                         "reload it and make the change again")


@dataclass(frozen=True)
class Snapshot:
    """What the editor loaded: the settings, the sha256 of the file's bytes, and its text."""

    config: Config
    digest: str
    text: str


def text_value(config: Config, key: str) -> str:
    """The value of ``key`` ("section.name") as the form shows it."""
    section, _, name = key.partition(".")
    value = getattr(getattr(config, section), name)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


class SettingsStore:
    def load(self, path: Path) -> Snapshot:
        data = _read(path)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError(path, "-", "not_utf8") from None
        return Snapshot(loads(text, path), _digest(data), text)

    def check(self, path: Path, snapshot: Snapshot, changes: Mapping[str, object]) -> dict[str, ConfigError]:
        """Every problem with ``changes``, by key (empty: they can be saved). Nothing is written."""
        problems: dict[str, ConfigError] = {}
        pending = dict(changes)
        while True:
            try:
                self._intended(path, snapshot, pending)
                return problems
            except ConfigError as error:
                problems[error.key] = error
                if error.key not in pending:
                    return problems
                del pending[error.key]  # look for the next problem without this one

    def preview(self, path: Path, snapshot: Snapshot, changes: Mapping[str, object]) -> Config:
        """The settings ``changes`` would give (``ConfigError`` as ``save`` would). Nothing is written."""
        return self._intended(path, snapshot, changes)[1]

    def save(self, path: Path, snapshot: Snapshot, changes: Mapping[str, object]) -> Config:
        return self.save_snapshot(path, snapshot, changes).config

    def save_snapshot(self, path: Path, snapshot: Snapshot, changes: Mapping[str, object]) -> Snapshot:
        """Write ``changes`` into the file ``snapshot`` was loaded from; the snapshot of what is now there.

        Raises ``ConfigError`` (a value is wrong; nothing written) or ``ConcurrentEditError``.
        """
        data, config = self._intended(path, snapshot, changes)
        values = {key: data[key.partition(".")[0]][key.partition(".")[2]] for key in changes}
        text = render(snapshot.text, values, data, path)
        real = path.resolve()
        _check_writable(path, real)
        with _locked(lock_path(real)):
            current = _read(real)
            if _digest(current) != snapshot.digest:
                raise ConcurrentEditError(path)
            new = text.encode("utf-8")
            if new == current:
                return snapshot
            info = os.stat(real)
            _write_atomically(backup_path(real), current, info)
            _write_atomically(real, new, info)
        return Snapshot(config, _digest(new), text)

    @staticmethod
    def _intended(path: Path, snapshot: Snapshot,
                  changes: Mapping[str, object]) -> tuple[dict[str, Any], Config]:
        """The file's tables with ``changes`` applied, and the settings they give (checked)."""
        data = tomllib.loads(snapshot.text)
        for key, raw in changes.items():
            value = value_from_text(key, raw, path) if isinstance(raw, str) else raw
            section, _, name = key.partition(".")
            data.setdefault(section, {})[name] = value
        return data, from_dict(data, path)


# --- the text ---------------------------------------------------------------------------------------

_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_-]+)\s*\]\s*(#.*)?$")
_ANY_HEADER = re.compile(r"^\s*\[")
_KEY = re.compile(r"^(\s*)([A-Za-z0-9_-]+)(\s*=\s*)(.*?)(\r?\n)?$", re.S)


def render(old: str, values: Mapping[str, Any], data: dict[str, Any], path: Path | None = None) -> str:
    """``old`` with ``values`` ("section.name" -> TOML value) written in, checked to parse back to ``data``.

    Falls back to the whole of ``data`` dumped by tomli-w under a header when the text cannot be edited.
    """
    edited = edit_in_place(old, values)
    if edited is not None:
        try:
            if tomllib.loads(edited) == data:
                from_dict(data, path)
                return edited
        except tomllib.TOMLDecodeError:
            pass
    return FALLBACK_HEADER + tomli_w.dumps(data)


def _toml(value: Any) -> str:
    return tomli_w.dumps({"v": value}).strip()[len("v = "):]


def _split_value(rest: str) -> tuple[str, str] | None:
    """``rest`` (after "key =") split into the value and a trailing comment; None if not one-line TOML."""
    try:
        tomllib.loads("v = " + rest)
    except tomllib.TOMLDecodeError:
        return None
    for i, ch in enumerate(rest):
        if ch == "#":
            with contextlib.suppress(tomllib.TOMLDecodeError):
                tomllib.loads("v = " + rest[:i])
                return rest[:i], rest[i:]
    return rest, ""


def edit_in_place(old: str, values: Mapping[str, Any]) -> str | None:
    """Rewrite the ``key = value`` lines of ``values`` inside their [section]; append missing keys.

    None when the text cannot be edited line by line safely (then the caller writes it whole).
    """
    lines = old.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    pending = {key: value for key, value in values.items()}
    out: list[str] = []
    section: str | None = None
    ends: dict[str, int] = {}  # section -> index in out after its last non-blank line
    for line in lines:
        header = _HEADER.match(line.rstrip("\r\n"))
        if header is None and _ANY_HEADER.match(line):
            return None  # [[arrays]], dotted or quoted tables: not ours to edit
        if header:
            section = header.group(1)
            if section in ends:
                return None  # a table defined twice
            out.append(line)
            ends[section] = len(out)
            continue
        match = _KEY.match(line)
        key = f"{section}.{match.group(2)}" if match and section else None
        if match and key in pending:
            indent, name, eq, rest, end = match.groups()
            split = _split_value(rest)
            if split is None:
                return None  # a multi-line value
            value_text, comment = split
            gap = value_text[len(value_text.rstrip()):]
            out.append(f"{indent}{name}{eq}{_toml(pending.pop(key))}{gap}{comment}{end or ''}")
        else:
            out.append(line)
        if section and line.strip():
            ends[section] = len(out)
    # Keys the file does not have yet: at the end of their section, or in a new section at the end.
    for key in [k for k in values if k in pending]:
        section_name, _, name = key.partition(".")
        line = f"{name} = {_toml(pending.pop(key))}{newline}"
        if section_name in ends:
            at = ends[section_name]
            if at > 0 and not out[at - 1].endswith(("\n", "\r")):
                out[at - 1] += newline
            out.insert(at, line)
            ends = {s: (i + 1 if i >= at else i) for s, i in ends.items()}
        else:
            if out and not out[-1].endswith(("\n", "\r")):
                out[-1] += newline
            out.extend([newline, f"[{section_name}]{newline}", line])
            ends[section_name] = len(out)
    return "".join(out)


# --- the file ---------------------------------------------------------------------------------------


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, "-", "not_found") from None
    except OSError as error:
        raise ConfigError(path, "-", "unreadable", detail=error) from None


def _check_writable(path: Path, real: Path) -> None:
    """Refuse, naming the real reason, a save that could not create the lock and the temporary file
    beside the file (the OS would only say "No such file or directory"), or that would replace a file the
    saver may not write."""
    for target, code in ((real.parent, "dir_not_writable"), (real, "file_not_writable")):
        if os.access(target, os.W_OK | (os.X_OK if target == real.parent else 0)):
            continue
        info = os.stat(target)
        raise ConfigError(path, "-", code, dir=str(real.parent), user=_user_name(os.getuid()),
                          owner=_user_name(info.st_uid), group=_group_name(info.st_gid),
                          mode=f"{stat.S_IMODE(info.st_mode):04o}")


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive flock on ``path`` (created if need be; never deleted, or the lock would not hold)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o664)
    except PermissionError:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)  # flock works on a read-only descriptor too
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _write_atomically(path: Path, data: bytes, like: os.stat_result) -> None:
    """``path`` holds ``data`` afterwards, or is untouched: temp file, fsync, os.replace, fsync the dir."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if os.geteuid() == 0:
                os.fchown(handle.fileno(), like.st_uid, like.st_gid)
            elif like.st_gid in os.getgroups() or like.st_gid == os.getegid():
                # Another user's file (root's): its owner cannot be given back, its group can -- it is
                # how the kiosk-console group keeps writing it (a directory without setgid gives the new
                # file the saver's own group).
                os.fchown(handle.fileno(), -1, like.st_gid)
            # After the chown, which clears setgid bits.
            os.fchmod(handle.fileno(), like.st_mode & 0o7777)
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
