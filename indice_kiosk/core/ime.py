"""Japanese input inside the kiosk: Debian's mozc, driven through ``mozc_emacs_helper``.

Why inside the app: the kiosk runs at a walk-up terminal whose compositor has no input-method support
(cage), over SSH, and in tests; a conversion the app does itself works the same in all of them. The
helper (package emacs-mozc-bin) is emacs-mozc's bridge: one S-expression request per line on stdin, one
answer per line on stdout (docs/research/mozc-emacs-helper.md has the protocol as measured here).

Privacy: every ``Mozc`` has a profile directory of its own with learning switched off (mozc's incognito
mode, written into ``config1.db`` before its server starts) and a ``mozc_server`` of its own; ``close``
stops both and deletes the directory. One person's choices can never be offered to the next.

mozc_server will not run as root: a kiosk running as root (the demo, the tests) runs mozc as the
unprivileged ``run_as`` user through setpriv.

Nothing here imports Textual; the form's input widget calls ``key`` and draws what it returns.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import select
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("indice_kiosk.core.ime")

MOZC_SERVER = Path("/usr/lib/mozc/mozc_server")
MOZC_HELPER = Path("/usr/bin/mozc_emacs_helper")
SETPRIV = Path("/usr/bin/setpriv")
# mozc's config1.db is a protobuf of mozc.config.Config: field 20 (incognito_mode), varint, true.
INCOGNITO_CONFIG = bytes([0xA0, 0x01, 0x01])
# The server exits by itself this long after its last session, should the kiosk die without closing it.
SERVER_IDLE_EXIT = ("--timeout=60", "--watch_dog_interval=10")
ANSWER_TIMEOUT = 2.0  # seconds; a helper whose server never came up waits 30-40 s before saying so
SERVER_START_TIMEOUT = 5.0

# Keys the kiosk passes to mozc by name while something is being composed (Textual's names, which are
# also the helper's, except where mapped).
NAMED_KEYS = {
    "space": "space", "enter": "enter", "escape": "escape", "backspace": "backspace", "delete": "delete",
    "up": "up", "down": "down", "left": "left", "right": "right", "home": "home", "end": "end",
    "f6": "f6", "f7": "f7", "f8": "f8",
}


class ImeUnavailable(Exception):
    """mozc cannot be used here (not installed, no user to run it as, or it did not answer)."""


@dataclass(frozen=True)
class Segment:
    """One part of what is being composed; ``focused`` is the part the candidates are for."""

    text: str
    focused: bool


@dataclass(frozen=True)
class Candidate:
    index: int
    text: str
    note: str  # mozc's description, e.g. "[全] カタカナ"; "" when none


@dataclass(frozen=True)
class ImeState:
    """What one key did: text to insert, what is being composed, and the candidates to choose from."""

    consumed: bool  # False: mozc did not use the key, the field handles it (e.g. Enter with nothing typed)
    committed: str = ""
    preedit: tuple[Segment, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    focused: int | None = None  # index of the highlighted candidate

    @property
    def composing(self) -> bool:
        return bool(self.preedit)

    @property
    def preedit_text(self) -> str:
        return "".join(segment.text for segment in self.preedit)


def available() -> bool:
    """mozc and its helper are installed (Debian: mozc-server, emacs-mozc-bin)."""
    return MOZC_SERVER.is_file() and MOZC_HELPER.is_file()


class Mozc:
    """One person's conversion: a private mozc (profile, server, helper, session) until ``close``."""

    def __init__(self, *, run_as: str = "", timeout: float = ANSWER_TIMEOUT) -> None:
        self.timeout = timeout
        self._user = _account(run_as) if os.geteuid() == 0 else None
        self._root: Path | None = None
        self._server: subprocess.Popen[bytes] | None = None
        self._helper: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self._event = 0
        self._session: int | None = None

    # --- life -----------------------------------------------------------------------------------

    def start(self) -> None:
        """Profile, server, helper and session; raises ImeUnavailable (and leaves nothing behind)."""
        if not available():
            raise ImeUnavailable("mozc is not installed (mozc-server, emacs-mozc-bin)")
        try:
            self._make_profile()
            self._start_server()
            self._start_helper()
            answer = self._request("CreateSession")
            self._session = int(answer["emacs-session-id"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            self.close()
            raise ImeUnavailable(f"mozc did not start: {type(error).__name__}: {error}") from None
        except ImeUnavailable:
            self.close()
            raise
        log.info("mozc started")

    @property
    def running(self) -> bool:
        return self._session is not None

    def close(self) -> None:
        """Stop the helper and the server and delete the profile: nothing of the session stays."""
        helper, server, root = self._helper, self._server, self._root
        self._helper = self._server = self._root = None
        self._session = None
        self._buffer = b""
        if helper is not None:
            with contextlib.suppress(OSError):
                assert helper.stdin is not None
                helper.stdin.close()
            _stop(helper)
        if server is not None:
            _stop(server)
        if root is not None:
            # A server the helper started by itself (ours had died) is named in the profile: stop it too,
            # or it would write into the directory being deleted.
            stray = _profile_server_pid(root / "home" / ".config" / "mozc" / ".session.ipc")
            if stray is not None and (server is None or stray != server.pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(stray, signal.SIGKILL)
            shutil.rmtree(root, ignore_errors=True)
            log.info("mozc stopped, profile deleted")

    # --- keys -----------------------------------------------------------------------------------

    def key(self, key: str, character: str | None = None) -> ImeState:
        """Send one key: a Textual key name (``NAMED_KEYS``) or, with ``character``, the character typed.

        Raises ImeUnavailable when mozc stops answering (the caller then turns conversion off).
        """
        token = self._token(key, character)
        if token is None or self._session is None:
            return ImeState(consumed=False)
        answer = self._request("SendKey", str(self._session), token)
        return _state(answer.get("output") or {})

    def choose(self, index: int, current: ImeState) -> ImeState:
        """Highlight candidate ``index`` and commit it (a click, or a number key)."""
        state = current
        for _ in range(len(current.candidates) + 1):
            if state.focused is None or state.focused == index:
                break
            state = self.key("down" if state.focused < index else "up")
        return self.key("enter")

    @staticmethod
    def _token(key: str, character: str | None) -> str | None:
        if key in NAMED_KEYS:
            return NAMED_KEYS[key]
        if character is None or len(character) != 1 or not character.isprintable():
            return None
        code = ord(character)
        if 0x21 <= code <= 0x7E:
            return str(code)  # ASCII goes as its code (the helper reads a bare digit as a code)
        return '"' + character.replace("\\", "\\\\").replace('"', '\\"') + '"'  # kana typed as kana

    # --- the helper's protocol ------------------------------------------------------------------

    def _request(self, *words: str) -> dict[str, object]:
        helper = self._helper
        if helper is None or helper.stdin is None:
            raise ImeUnavailable("mozc is not running")
        self._event += 1
        try:
            helper.stdin.write(f"({self._event} {' '.join(words)})\n".encode())
            helper.stdin.flush()
            while True:
                answer = _as_python(parse(self._read_line()))
                if not isinstance(answer, dict):
                    raise ImeUnavailable("mozc gave an answer that is not an alist")
                if "error" in answer:
                    raise ImeUnavailable(f"mozc refused a request: {answer.get('error')}")
                if answer.get("emacs-event-id") == self._event:
                    return answer
        except (OSError, ValueError) as error:
            raise ImeUnavailable(f"mozc stopped answering: {type(error).__name__}") from None

    def _read_line(self) -> str:
        helper = self._helper
        assert helper is not None and helper.stdout is not None
        fd = helper.stdout.fileno()
        deadline = time.monotonic() + self.timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise ImeUnavailable(f"mozc did not answer within {self.timeout:g} s")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise ImeUnavailable("mozc's helper exited")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode("utf-8")

    # --- processes ------------------------------------------------------------------------------

    def _make_profile(self) -> None:
        self._root = Path(tempfile.mkdtemp(prefix="indice-ime-"))
        config = self._root / "home" / ".config" / "mozc"
        config.mkdir(parents=True, mode=0o700)
        (config / "config1.db").write_bytes(INCOGNITO_CONFIG)  # read once, when the server starts
        if self._user is not None:
            for path in (self._root, self._root / "home", self._root / "home" / ".config", config,
                         config / "config1.db"):
                os.chown(path, self._user.pw_uid, self._user.pw_gid)

    def _command(self, program: Path, *args: str) -> list[str]:
        assert self._root is not None
        env = ["env", "-i", "PATH=/usr/bin:/bin", f"HOME={self._root / 'home'}", "LANG=C.UTF-8"]
        if self._user is None:
            return [*env, str(program), *args]
        return [str(SETPRIV), f"--reuid={self._user.pw_uid}", f"--regid={self._user.pw_gid}",
                "--init-groups", "--", *env, str(program), *args]

    def _start_server(self) -> None:
        # Started here, not by the helper: a server the helper starts inherits its pipes (the helper's
        # output then never ends) and is nobody's child.
        assert self._root is not None
        self._server = subprocess.Popen(self._command(MOZC_SERVER, *SERVER_IDLE_EXIT),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        ipc = self._root / "home" / ".config" / "mozc" / ".session.ipc"
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not ipc.exists():
            if self._server.poll() is not None:
                raise ImeUnavailable(f"mozc_server exited at start ({self._server.returncode})")
            if time.monotonic() > deadline:
                raise ImeUnavailable("mozc_server did not start in time")
            time.sleep(0.005)

    def _start_helper(self) -> None:
        self._helper = subprocess.Popen(self._command(MOZC_HELPER, "--suppress_stderr"),
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, bufsize=0, start_new_session=True)
        greeting = _as_python(parse(self._read_line()))
        if not isinstance(greeting, dict) or greeting.get("mozc-emacs-helper") is not True:
            raise ImeUnavailable("mozc_emacs_helper did not greet")


def _account(name: str) -> pwd.struct_passwd:
    if not name:
        raise ImeUnavailable("mozc cannot run as root and no user is set to run it as (input.mozc_user)")
    try:
        user = pwd.getpwnam(name)
    except KeyError:
        raise ImeUnavailable(f"the user {name!r} to run mozc as does not exist") from None
    if user.pw_uid == 0:
        raise ImeUnavailable("mozc cannot run as root")
    return user


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=2)
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _profile_server_pid(ipc: Path) -> int | None:
    """The server pid recorded in mozc's ``.session.ipc`` (protobuf field 2, a varint), if any."""
    try:
        data = ipc.read_bytes()
    except OSError:
        return None
    position = 0
    while position < len(data):
        tag = data[position]
        position += 1
        field, kind = tag >> 3, tag & 7
        if kind == 0:
            value, shift = 0, 0
            while position < len(data):
                byte = data[position]
                position += 1
                value |= (byte & 0x7F) << shift
                shift += 7
                if not byte & 0x80:
                    break
            if field == 2:
                return value
        elif kind == 2 and position < len(data):
            length = data[position]
            position += 1 + length
        else:
            return None
    return None


# --- the helper's S-expressions ----------------------------------------------------------------------


class Symbol(str):
    """A Lisp symbol in an answer (``hiragana``, ``t``), as opposed to a string."""


@dataclass(frozen=True)
class Pair:
    """A dotted pair ``(key . value)``."""

    key: object
    value: object


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position, end = 0, len(text)
    while position < end:
        char = text[position]
        if char.isspace():
            position += 1
        elif char in "()":
            tokens.append((char, char))
            position += 1
        elif char == '"':
            chars: list[str] = []
            position += 1
            while True:
                if position >= end:
                    raise ValueError("unterminated string")
                char = text[position]
                if char == "\\" and position + 1 < end:
                    chars.append(text[position + 1])
                    position += 2
                elif char == '"':
                    position += 1
                    break
                else:
                    chars.append(char)
                    position += 1
            tokens.append(("string", "".join(chars)))
        else:
            start = position
            while position < end and not text[position].isspace() and text[position] not in '()"':
                position += 1
            tokens.append(("atom", text[start:position]))
    return tokens


def parse(text: str) -> object:
    """One S-expression as the helper prints it: lists, dotted pairs, strings, integers, symbols."""
    tokens = _tokens(text)
    position = 0

    def read() -> object:
        nonlocal position
        if position >= len(tokens):
            raise ValueError("unexpected end")
        kind, value = tokens[position]
        position += 1
        if kind == "(":
            items: list[object] = []
            while True:
                if position >= len(tokens):
                    raise ValueError("unclosed list")
                if tokens[position][0] == ")":
                    position += 1
                    return items
                if tokens[position] == ("atom", ".") and len(items) == 1:
                    position += 1
                    pair = Pair(items[0], read())
                    if position >= len(tokens) or tokens[position][0] != ")":
                        raise ValueError("bad dotted pair")
                    position += 1
                    return pair
                items.append(read())
        if kind == ")":
            raise ValueError("unexpected )")
        if kind == "string":
            return value
        try:
            return int(value)
        except ValueError:
            return Symbol(value)

    result = read()
    if position != len(tokens):
        raise ValueError("trailing text")
    return result


def _as_python(value: object) -> object:
    """Alists and repeated fields ``(name item...)`` as dicts, lists as lists, t/nil as True/None."""
    if isinstance(value, Pair):
        return {str(value.key): _as_python(value.value)}
    if isinstance(value, list):
        if not value:
            return {}
        if all(isinstance(item, Pair) or (isinstance(item, list) and item and isinstance(item[0], Symbol))
               for item in value):
            fields: dict[str, object] = {}
            for item in value:
                if isinstance(item, Pair):
                    fields[str(item.key)] = _as_python(item.value)
                else:
                    assert isinstance(item, list)
                    fields[str(item[0])] = [_as_python(element) for element in item[1:]]
            return fields
        return [_as_python(item) for item in value]
    if isinstance(value, Symbol):
        return {"t": True, "nil": None}.get(value, str(value))
    return value


def _state(output: object) -> ImeState:
    fields = output if isinstance(output, dict) else {}
    committed = ""
    result = fields.get("result")
    if isinstance(result, dict) and isinstance(result.get("value"), str):
        committed = result["value"]
    segments: list[Segment] = []
    preedit = fields.get("preedit")
    if isinstance(preedit, dict):
        for segment in _items(preedit.get("segment")):
            if isinstance(segment, dict) and isinstance(segment.get("value"), str):
                segments.append(Segment(segment["value"], segment.get("annotation") == "highlight"))
    candidates: list[Candidate] = []
    focused: int | None = None
    words = fields.get("all-candidate-words")
    if isinstance(words, dict):
        for word in _items(words.get("candidates")):
            if isinstance(word, dict) and isinstance(word.get("value"), str):
                annotation = word.get("annotation")
                note = annotation.get("description", "") if isinstance(annotation, dict) else ""
                candidates.append(Candidate(int(str(word.get("index", len(candidates)))), word["value"],
                                            str(note or "")))
        focus = words.get("focused-index")
        focused = int(focus) if isinstance(focus, int) else None
    if not segments:
        candidates, focused = [], None  # suggestions while typing are not offered: one list, on Space
    elif not any(segment.focused for segment in segments):
        candidates, focused = [], None
    return ImeState(consumed=fields.get("consumed") is True, committed=committed, preedit=tuple(segments),
                    candidates=tuple(candidates), focused=focused)


def _items(value: object) -> list[object]:
    """A repeated field parses as a list, one element as a dict."""
    if isinstance(value, list):
        return value
    return [value] if value is not None else []
