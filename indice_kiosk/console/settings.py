"""The operator's form for kiosk.toml's site settings: checked, saved atomically, never over a colleague's.

Works pushed from any app (the operator console) or alone; it needs nothing from ``KioskApp``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Select

from indice_kiosk.console import report
from indice_kiosk.core import jobs
from indice_kiosk.core.config import DELIVERY_MODES, Config, ConfigError
from indice_kiosk.core.settings import (
    EDITABLE,
    ConcurrentEditError,
    SettingsStore,
    Snapshot,
    backup_path,
    text_value,
)
from indice_kiosk.core.text import LANGS, os_error, t
from indice_kiosk.cups.client import PrintError
from indice_kiosk.widgets.dialogs import ConfirmScreen
from indice_kiosk.widgets.prose import Prose
from indice_kiosk.widgets.textual_private import bind_key

log = logging.getLogger("kiosk.console.settings")

# key -> the choices of a Select (value, catalogue key of its label); every other key is an Input.
CHOICES: dict[str, tuple[tuple[str, str], ...]] = {
    "delivery.mode": tuple((mode, f"settings.mode.{mode}") for mode in DELIVERY_MODES),
    "kiosk.language": tuple((lang, f"settings.lang.{lang}") for lang in LANGS),
}


def queues_to_check(config: Config, changes: Mapping[str, str]) -> dict[str, str]:
    """The queues a save puts into use, by key: one typed in, or the FAX queue a FAX mode starts using.
    A queue already in use is not asked about again: an unrelated edit is not held up by it."""
    queues: dict[str, str] = {}
    if "cups.queue" in changes:
        queues["cups.queue"] = config.cups.queue
    if config.delivery.mode != "print" and ("fax.queue" in changes or "delivery.mode" in changes):
        queues["fax.queue"] = config.fax.queue
    return queues


def field_id(key: str) -> str:
    """"fax.dial_prefix" -> "set-fax-dial_prefix"."""
    return "set-" + key.replace(".", "-")


class SettingsScreen(Screen[None]):
    DEFAULT_CSS = """
    SettingsScreen #settings-title {
        height: 1;
        background: $primary;
        text-style: bold;
        padding: 0 1;
    }
    SettingsScreen #settings-form {
        height: 1fr;
        padding: 0 2;
    }
    SettingsScreen .settings-field {
        height: auto;
    }
    SettingsScreen .settings-label {
        margin: 1 0 0 0;
        text-style: bold;
    }
    SettingsScreen .settings-hint {
        color: $text-muted;
    }
    SettingsScreen .settings-error {
        color: $error;
        text-style: bold;
    }
    SettingsScreen Input.-invalid-setting, SettingsScreen Select.-invalid-setting {
        border: tall $error;
    }
    SettingsScreen #settings-status {
        padding: 0 2;
        text-style: bold;
    }
    SettingsScreen #settings-buttons {
        height: auto;
        padding: 0 2;
    }
    SettingsScreen #settings-buttons Button {
        margin: 0 2 0 0;
    }
    """

    def __init__(self, path: Path, lang: str = "ja") -> None:
        super().__init__(id="settings")
        self.path = Path(path)
        self.lang = lang if lang in LANGS else "ja"
        self.store = SettingsStore()
        self.snapshot: Snapshot | None = None
        self._empty_form: dict[str, str] = {}
        self._checking = False  # CUPS is being asked whether the queues exist; its answer decides the save
        bind_key(self, "ctrl+s", "save", self.t("settings.save"))
        bind_key(self, "escape", "close", self.t("settings.close"))

    def t(self, key: str, **params: object) -> str:
        return t(self.lang, key, **params)

    def label(self, key: str) -> str:
        return self.t(f"settings.label.{key}")

    # --- layout ---

    def compose(self) -> ComposeResult:
        yield Prose(self.t("settings.title"), id="settings-title")
        with VerticalScroll(id="settings-form"):
            yield Prose(self.t("settings.file", path=str(self.path)), id="settings-file")
            yield Prose(self.t("settings.note"), classes="settings-hint")
            for key in EDITABLE:
                yield from self._compose_field(key)
        yield Prose("", id="settings-status")
        with Horizontal(id="settings-buttons"):
            yield Button(self.t("settings.save"), id="save", variant="primary")
            yield Button(self.t("settings.reload"), id="reload")
            yield Button(self.t("settings.close"), id="close")
        yield Footer(show_command_palette=False)

    def _compose_field(self, key: str) -> ComposeResult:
        with Vertical(classes="settings-field"):
            yield Prose(self.label(key), classes="settings-label")
            yield Prose(self.t(f"settings.hint.{key}"), classes="settings-hint")
            if key in CHOICES:
                options = [(self.t(label), value) for value, label in CHOICES[key]]
                yield Select(options, allow_blank=False, id=field_id(key))
            else:
                # Typing adds to the value where the cursor is: a value selected on focus was replaced by the
                # first key an operator typed.
                yield Input(id=field_id(key), select_on_focus=False)
            yield Prose("", id=field_id(key) + "-error", classes="settings-error")

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = False  # steady: a blink is a repaint to send over SSH twice a second
        self._empty_form = self.form_values()
        self.reload()

    # --- values in and out of the form ---

    def _fill(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        for key in EDITABLE:
            value = text_value(snapshot.config, key)
            if key in CHOICES:
                self.query_one(f"#{field_id(key)}", Select).value = value
            else:
                self.query_one(f"#{field_id(key)}", Input).value = value
        self._show_errors({})

    def form_values(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for key in EDITABLE:
            if key in CHOICES:
                values[key] = str(self.query_one(f"#{field_id(key)}", Select).value)
            else:
                values[key] = self.query_one(f"#{field_id(key)}", Input).value
        return values

    def changes(self) -> dict[str, str]:
        """The fields the operator changed since the file was loaded."""
        if self.snapshot is None:
            return {}
        config = self.snapshot.config
        return {key: value for key, value in self.form_values().items() if value != text_value(config, key)}

    def unsaved(self) -> bool:
        """Whether leaving now would lose something typed (also when the file could not be loaded)."""
        if self.snapshot is None:
            return self.form_values() != self._empty_form
        return bool(self.changes())

    def _show_errors(self, problems: dict[str, ConfigError]) -> None:
        for key in EDITABLE:
            problem = problems.get(key)
            text = (self.t("settings.error", label=self.label(key), problem=problem.problem_in(self.lang))
                    if problem else "")
            self.query_one(f"#{field_id(key)}-error", Prose).update(text)
            self.query_one(f"#{field_id(key)}").set_class(problem is not None, "-invalid-setting")

    def _status(self, text: str) -> None:
        self.query_one("#settings-status", Prose).update(text)

    # --- actions ---

    def reload(self) -> bool:
        try:
            snapshot = self.store.load(self.path)
        except ConfigError as error:
            self.snapshot = None
            self._status(self.t("settings.load_error", problem=error.text(self.lang)))
            return False
        self._fill(snapshot)
        return True

    def action_reload(self) -> None:
        def reload() -> None:
            if self.reload():
                self._status(self.t("settings.reloaded"))

        # Reading the file again replaces every field: what was typed and not saved is asked about first.
        self.unless_unsaved("settings.confirm.discard_reload", "settings.confirm.discard_reload_yes", reload)

    def action_save(self) -> None:
        if self._checking:
            return
        if self.snapshot is None:
            if not self.reload():
                return
        assert self.snapshot is not None
        changes = self.changes()
        if not changes:
            self._show_errors({})
            self._status(self.t("settings.unchanged"))
            return
        problems = self.store.check(self.path, self.snapshot, changes)
        if problems:
            self._refuse(problems, self.t("settings.invalid"))
            return
        config = self.store.preview(self.path, self.snapshot, changes)
        queues = queues_to_check(config, changes)
        if not queues:
            self._write(changes)
            return
        # The kiosk's own rule for the server, from the settings being saved.
        server = jobs.cups_server(config.cups.server)
        self._checking = True
        self.query_one("#save", Button).disabled = True
        self._status(self.t("settings.checking", server=self._server_name(server),
                            queues=", ".join(dict.fromkeys(queues.values()))))
        self._check_queues(changes, queues, server, config.cups.timeout)

    def _server_name(self, server: str | None) -> str:
        return server or self.t("console.server.default")

    @work(thread=True, exclusive=True, group="queue-check")
    def _check_queues(self, changes: dict[str, str], queues: dict[str, str], server: str | None,
                      timeout: float) -> None:
        """In a thread: a silent server takes ``cups.timeout`` to give up, and the form must not freeze."""
        missing: list[str] = []
        failure = ""
        try:
            missing = report.missing_queues(server, dict.fromkeys(queues.values()), timeout=timeout)
        except PrintError as error:
            log.warning("queues not checked: %s (%s)", error.kind, error.detail)
            failure = error.kind
        try:
            self.app.call_from_thread(self._queues_checked, changes, queues, server, missing, failure)
        except RuntimeError:  # the app stopped meanwhile
            log.debug("settings closed before CUPS answered")

    def _queues_checked(self, changes: dict[str, str], queues: dict[str, str], server: str | None,
                        missing: list[str], failure: str) -> None:
        self._checking = False
        if not self.is_attached:
            return  # the operator left the form meanwhile
        self.query_one("#save", Button).disabled = False
        if self.changes() != changes:
            self._status(self.t("settings.changed_while_checking"))
            return
        name = self._server_name(server)
        if missing:
            problems = {key: ConfigError(self.path, key, "no_such_queue", queue=queue, server=name)
                        for key, queue in queues.items() if queue in missing}
            self._refuse(problems, self.t("settings.no_such_queue", queues=", ".join(missing)))
            return
        if not failure:
            self._write(changes)
            return

        def answered(save: bool | None) -> None:
            if save:
                self._write(changes)
            else:
                self._status(self.t("settings.not_saved"))

        question = "settings.confirm.unchecked" if failure == "unreachable" else "settings.confirm.unanswered"
        self.app.push_screen(ConfirmScreen(
            self.t(question, server=name, queues=", ".join(dict.fromkeys(queues.values()))), self.lang,
            yes_key="settings.confirm.save_unchecked", no_key="settings.confirm.dont_save"), answered)

    def _refuse(self, problems: dict[str, ConfigError], status: str) -> None:
        """Nothing saved: each problem under its field, the first field focused."""
        self._show_errors(problems)
        others = [error for key, error in problems.items() if key not in EDITABLE]
        if others:
            status += "\n" + "\n".join(error.text(self.lang) for error in others)
        self._status(status)
        first = next((key for key in EDITABLE if key in problems), None)
        if first:
            self.query_one(f"#{field_id(first)}").focus()

    def _write(self, changes: dict[str, str]) -> None:
        assert self.snapshot is not None
        try:
            snapshot = self.store.save_snapshot(self.path, self.snapshot, changes)
        except ConcurrentEditError:
            self._show_errors({})
            self._status(self.t("settings.conflict"))
            self.query_one("#reload", Button).focus()
            return
        except ConfigError as error:  # checked above; only a file that went away or turned unreadable
            self._status(self.t("settings.write_error", problem=error.text(self.lang)))
            return
        except OSError as error:
            # The file the OS refused, not only its words ("No such file or directory" alone misleads); of
            # a rename, the file it was to replace (the source is only a temporary file).
            refused = error.filename2 or error.filename
            where = f"{refused}: " if refused else ""
            self._status(self.t("settings.write_error", problem=where + os_error(self.lang, error)))
            return
        self._fill(snapshot)
        self._status(self.t("settings.saved", bak=backup_path(self.path).name))

    def action_close(self) -> None:
        self.unless_unsaved("settings.confirm.discard", "settings.confirm.discard_yes", self._leave)

    def unless_unsaved(self, question: str, yes: str, then: Callable[[], None]) -> None:
        """``then`` at once when nothing typed would be lost by it; otherwise only if the operator says so."""
        if self.app.screen is not self:
            return  # a question is already open over the form
        if not self.unsaved():
            then()
            return

        def answered(discard: bool | None) -> None:
            # Keeping on editing changes nothing: the fields still hold what was typed.
            if discard:
                then()

        self.app.push_screen(ConfirmScreen(self.t(question), self.lang, yes_key=yes,
                                           no_key="settings.confirm.keep"), answered)

    def _leave(self) -> None:
        if len(self.app.screen_stack) > 1 and self.app.screen is self:
            self.dismiss(None)
        else:
            self.app.exit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        elif event.button.id == "reload":
            self.action_reload()
        elif event.button.id == "close":
            self.action_close()
