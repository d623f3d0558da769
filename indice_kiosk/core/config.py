"""Site settings from kiosk.toml: read with tomllib, checked key by key, written with tomli-w.

Every error names the file, the key and what is wrong, and unknown keys are errors too: a typo in a
hospital's settings file should stop the kiosk at start-up, not silently print to the wrong queue.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from indice_kiosk.core.jobs import OPTION_NAME_CHARS, is_queue_name
from indice_kiosk.core.text import LANGS, os_error, t

CONFIG_ENV = "INDICE_KIOSK_CONFIG"
# Debian's fonts-ipaexfont-gothic: Japanese, embeddable, and the glyphs UMIN's form needs.
DEFAULT_FONT_PATH = Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf")
MIN_IDLE_TIMEOUT = 30
SEARCH_PATHS: tuple[Path, ...] = (Path("kiosk.toml"), Path("/etc/indice-kiosk/kiosk.toml"))


class ConfigError(Exception):
    """A problem with kiosk.toml: the file, the key ("section.name", or "-" for the whole file) and what
    is wrong, as a catalogue code (``config.<code>``) with its parameters, so the operator's settings
    screen says it in the operator's language. ``str()`` and ``problem`` are English (logs, the CLI)."""

    def __init__(self, path: Path | None, key: str, code: str, **params: object) -> None:
        self.path, self.key, self.code, self.params = path, key, code, params
        t("en", f"config.{code}", **params)  # an unknown code is a bug: fail here, not when shown
        super().__init__(self.text("en"))

    @property
    def problem(self) -> str:
        return self.problem_in("en")

    def problem_in(self, lang: str) -> str:
        """What is wrong, in ``lang``; an OS error among the parameters is said in ``lang`` too."""
        params = {name: os_error(lang, value) if isinstance(value, OSError) else value
                  for name, value in self.params.items()}
        return t(lang, f"config.{self.code}", **params)

    def text(self, lang: str) -> str:
        """File, key and problem, in ``lang``."""
        where = str(self.path) if self.path else "<settings>"
        return f"{where}: {self.key}: {self.problem_in(lang)}"


@dataclass(frozen=True)
class KioskSettings:
    """[kiosk]: the language a session starts in, the idle wipe (seconds), the time zone printed dates use."""

    language: str = "ja"
    idle_timeout: int = 180
    timezone: str = "Asia/Tokyo"


@dataclass(frozen=True)
class CupsSettings:
    """[cups]: the print server and queue, the per-call timeout, how long a job is followed, history purge."""

    server: str = ""
    queue: str = "indice-printer"
    timeout: float = 10.0
    max_wait: float = 120.0
    purge_jobs: bool = True


DELIVERY_MODES: tuple[str, ...] = ("print", "fax", "print+fax")


@dataclass(frozen=True)
class DeliverySettings:
    """[delivery]: print for signing, FAX it from here, or both (one of DELIVERY_MODES)."""

    mode: str = "print"


@dataclass(frozen=True)
class FaxSettings:
    """[fax]: the FAX queue, UMIN's number, an outside-line prefix, the job option that carries the number,
    and the site's arrangement with UMIN under which an unsigned form may be faxed."""

    queue: str = "indice-fax"
    number: str = "03-5689-0726"
    dial_prefix: str = ""
    number_option: str = "phone"
    max_wait: float = 600.0
    agreement: str = ""


# UMIN requires the applicant's signature, and a faxed form leaves the kiosk unsigned: a FAX mode is only
# for a site that has agreed with UMIN how the signature is given. This short reference to that
# arrangement is printed on the cover sheet and in the form's signature boxes.
MAX_AGREEMENT = 80


@dataclass(frozen=True)
class UminSettings:
    """[umin]: the UMIN page printed on the guidance and the reminder (also as a QR code)."""

    page: str = "http://www.umin.ac.jp/id/idc_passwd/passwd_indice.htm"


@dataclass(frozen=True)
class ProjectSettings:
    """[project]: the research project named on the form, and its secretariat for the never-issued case."""

    name: str = "JSOG・DB GO システム"
    contact: str = ""  # empty: the guidance tells people to ask the staff (no placeholder is printed)


@dataclass(frozen=True)
class InputSettings:
    """[input]: kana-kanji conversion in the form's Japanese fields (the kiosk's own mozc), and the user
    mozc runs as when the kiosk itself runs as root (mozc refuses root)."""

    kana: bool = True
    mozc_user: str = "indice-ime"


@dataclass(frozen=True)
class DocumentSettings:
    """[document]: the TrueType font embedded in every PDF."""

    font: Path = DEFAULT_FONT_PATH


@dataclass(frozen=True)
class Config:
    """The whole kiosk.toml; ``path`` is the file it came from (None for the built-in defaults)."""

    kiosk: KioskSettings = field(default_factory=KioskSettings)
    cups: CupsSettings = field(default_factory=CupsSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    fax: FaxSettings = field(default_factory=FaxSettings)
    umin: UminSettings = field(default_factory=UminSettings)
    project: ProjectSettings = field(default_factory=ProjectSettings)
    document: DocumentSettings = field(default_factory=DocumentSettings)
    input: InputSettings = field(default_factory=InputSettings)
    path: Path | None = None


_SECTIONS: dict[str, type] = {
    "kiosk": KioskSettings,
    "cups": CupsSettings,
    "delivery": DeliverySettings,
    "fax": FaxSettings,
    "umin": UminSettings,
    "project": ProjectSettings,
    "document": DocumentSettings,
    "input": InputSettings,
}


def _coerce(path: Path | None, key: str, value: Any, default: Any) -> Any:
    """Check one value against the type of its default."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(path, key, "bool", value=value)
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(path, key, "number", value=value)
        return float(value)
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(path, key, "integer", value=value)
        return value
    if isinstance(default, Path):
        if not isinstance(value, str) or not value:
            raise ConfigError(path, key, "file_path")
        return Path(value)
    if not isinstance(value, str):
        raise ConfigError(path, key, "string", value=value)
    return value


def _check(config: Config) -> None:
    path = config.path
    if config.kiosk.language not in LANGS:
        raise ConfigError(path, "kiosk.language", "one_of", choices=", ".join(LANGS))
    try:
        ZoneInfo(config.kiosk.timezone)
    except (ValueError, ZoneInfoNotFoundError):
        raise ConfigError(path, "kiosk.timezone", "timezone") from None
    if config.kiosk.idle_timeout < MIN_IDLE_TIMEOUT:
        raise ConfigError(path, "kiosk.idle_timeout", "at_least_seconds", seconds=MIN_IDLE_TIMEOUT)
    if not is_queue_name(config.cups.queue):
        raise ConfigError(path, "cups.queue", "queue_name")
    for key, value in (("cups.timeout", config.cups.timeout), ("cups.max_wait", config.cups.max_wait),
                       ("fax.max_wait", config.fax.max_wait)):
        if value <= 0:
            raise ConfigError(path, key, "positive")
    if config.delivery.mode not in DELIVERY_MODES:
        raise ConfigError(path, "delivery.mode", "one_of", choices=", ".join(DELIVERY_MODES))
    digits = config.fax.number.replace("-", "")
    if not digits.isascii() or not digits.isdigit() or not 9 <= len(digits) <= 11:
        raise ConfigError(path, "fax.number", "fax_number")
    prefix = config.fax.dial_prefix
    if prefix and (not prefix.isascii() or not prefix.isdigit() or len(prefix) > 4):
        raise ConfigError(path, "fax.dial_prefix", "dial_prefix")
    if not config.fax.number_option or not set(config.fax.number_option) <= OPTION_NAME_CHARS:
        raise ConfigError(path, "fax.number_option", "option_name")
    if (config.fax.queue or config.delivery.mode != "print") and not is_queue_name(config.fax.queue):
        raise ConfigError(path, "fax.queue", "fax_queue_name")
    agreement = config.fax.agreement
    if config.delivery.mode != "print" and not is_agreement(agreement):
        raise ConfigError(path, "fax.agreement", "fax_agreement")


def is_agreement(text: str) -> bool:
    """A usable ``fax.agreement``: some visible text, on one line, short enough for the signature box."""
    return (bool(text.strip()) and len(text) <= MAX_AGREEMENT
            and all(ch.isprintable() or ch == "\u3000" for ch in text))


def from_dict(data: dict[str, Any], path: Path | None = None) -> Config:
    sections: dict[str, Any] = {}
    for name, value in data.items():
        if name not in _SECTIONS:
            raise ConfigError(path, name, "unknown_section", known=", ".join(_SECTIONS))
        if not isinstance(value, dict):
            raise ConfigError(path, name, "not_section")
        cls = _SECTIONS[name]
        defaults = cls()
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, item in value.items():
            if key not in known:
                raise ConfigError(path, f"{name}.{key}", "unknown_key_known", known=", ".join(sorted(known)))
            values[key] = _coerce(path, f"{name}.{key}", item, getattr(defaults, key))
        sections[name] = cls(**values)
    config = Config(**sections, path=path)
    _check(config)
    return config


def load(path: Path | None = None) -> Config:
    """Load settings from ``path``, else $INDICE_KIOSK_CONFIG, ./kiosk.toml, /etc/indice-kiosk/kiosk.toml."""
    if path is None:
        env = os.environ.get(CONFIG_ENV)
        candidates = [Path(env)] if env else list(SEARCH_PATHS)
        path = next((p for p in candidates if p.is_file()), None)
        if path is None and env:
            raise ConfigError(Path(env), "-", "not_found")
    if path is None:
        return Config()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, "-", "not_found") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(path, "-", "not_utf8") from None
    return loads(text, path)


def loads(text: str, path: Path | None = None) -> Config:
    """Settings from the text of a kiosk.toml; ``path`` only names the file in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line, column = _toml_position(error, text)
        raise ConfigError(path, "-", "not_toml", detail=str(error), line=line, column=column) from None
    return from_dict(data, path)


_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def _toml_position(error: tomllib.TOMLDecodeError, text: str) -> tuple[int, int]:
    """(line, column) of a TOML error: tomllib says it only inside its English message (Python 3.11),
    and the operator's language needs the numbers alone."""
    found = _AT.search(str(error))
    if found:
        return int(found[1]), int(found[2])
    lines = text.split("\n")  # "at end of document"
    return len(lines), len(lines[-1]) + 1


def value_from_text(key: str, text: str, path: Path | None = None) -> Any:
    """What an operator typed for ``key`` ("section.name") as the TOML value it stands for, type-checked."""
    section, _, name = key.partition(".")
    cls = _SECTIONS.get(section)
    if cls is None or name not in {f.name for f in fields(cls)}:
        raise ConfigError(path, key, "unknown_key")
    default, text = getattr(cls(), name), text.strip()
    value: Any = text
    if isinstance(default, bool):
        value = {"true": True, "false": False}.get(text.lower(), text)
    elif isinstance(default, int | float):
        try:
            value = int(text) if isinstance(default, int) else float(text)
        except ValueError:
            pass
        if (isinstance(value, float) and value != value) or value in (float("inf"), float("-inf")):
            raise ConfigError(path, key, "number", value=text)
    _coerce(path, key, value, default)
    return value


def to_dict(config: Config) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _SECTIONS:
        section = asdict(getattr(config, name))
        out[name] = {k: str(v) if isinstance(v, Path) else v for k, v in section.items()}
    return out


def dumps(config: Config) -> str:
    import tomli_w

    return tomli_w.dumps(to_dict(config))
