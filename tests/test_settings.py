"""Editing kiosk.toml from the operator console: comments kept, atomic, .bak, no lost update, the form."""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
import sys
import textwrap
import threading
import time
import tomllib
from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import Button, Input, Select

from indice_kiosk.console.settings import SettingsScreen, field_id
from indice_kiosk.core import config as kiosk_config
from indice_kiosk.core.config import ConfigError
from indice_kiosk.core.settings import (
    EDITABLE,
    ConcurrentEditError,
    SettingsStore,
    backup_path,
    edit_in_place,
)
from indice_kiosk.core.text import t
from indice_kiosk.widgets.prose import Prose
from tests.pilot import wait_for

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "kiosk.toml"


@pytest.fixture
def toml(tmp_path: Path) -> Path:
    path = tmp_path / "kiosk.toml"
    shutil.copy(SHIPPED, path)
    path.chmod(0o640)
    return path


def comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


def changed_lines(old: str, new: str) -> list[tuple[str, str]]:
    old_lines, new_lines = old.splitlines(), new.splitlines()
    assert len(old_lines) == len(new_lines)
    return [(a, b) for a, b in zip(old_lines, new_lines, strict=True) if a != b]


# --- the store ------------------------------------------------------------------------------------


def test_round_trip_keeps_every_comment_and_changes_only_the_edited_values(toml: Path) -> None:
    store = SettingsStore()
    before = toml.read_text(encoding="utf-8")
    snapshot = store.load(toml)
    config = store.save(toml, snapshot, {
        "fax.number": "03-1111-2222",
        "fax.dial_prefix": "0",
        "delivery.mode": "print+fax",
        "kiosk.idle_timeout": " 300 ",
        "kiosk.language": "en",
        "cups.queue": "ward-3",
        "fax.queue": "ward-fax",
        "fax.agreement": "UMIN 合意 2026-03：署名原本は郵送",
        "project.name": 'Trial "A" ＼ 試験',
        "project.contact": "事務局 内線 1234",
        "document.font": "/opt/fonts/ipaexg.ttf",
    })
    after = toml.read_text(encoding="utf-8")
    assert comments(after) == comments(before)
    assert changed_lines(before, after) == [
        ('language = "ja"', 'language = "en"'),
        ("idle_timeout = 180", "idle_timeout = 300"),
        ('queue = "indice-printer"', 'queue = "ward-3"'),
        ('mode = "print"', 'mode = "print+fax"'),
        ('agreement = ""', 'agreement = "UMIN 合意 2026-03：署名原本は郵送"'),
        ('queue = "indice-fax"', 'queue = "ward-fax"'),
        ('number = "03-5689-0726"', 'number = "03-1111-2222"'),
        ('dial_prefix = ""', 'dial_prefix = "0"'),
        ('name = "JSOG・DB GO システム"', 'name = "Trial \\"A\\" ＼ 試験"'),
        ('contact = ""', 'contact = "事務局 内線 1234"'),
        ('font = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"', 'font = "/opt/fonts/ipaexg.ttf"'),
    ]
    reread = kiosk_config.load(toml)
    assert reread == config
    assert reread.project.name == 'Trial "A" ＼ 試験'
    assert reread.kiosk.idle_timeout == 300 and reread.fax.dial_prefix == "0"
    # The .bak is exactly the previous file; the mode of the file is kept.
    assert backup_path(toml).read_text(encoding="utf-8") == before
    assert stat.S_IMODE(toml.stat().st_mode) == 0o640
    # No temporary file is left behind.
    left = sorted(p.name for p in toml.parent.iterdir())
    assert left == ["kiosk.toml", "kiosk.toml.bak", "kiosk.toml.lock"]


def test_bak_is_the_version_just_before_each_save(toml: Path) -> None:
    store = SettingsStore()
    first = toml.read_text(encoding="utf-8")
    store.save(toml, store.load(toml), {"fax.dial_prefix": "0"})
    second = toml.read_text(encoding="utf-8")
    assert backup_path(toml).read_text(encoding="utf-8") == first
    store.save(toml, store.load(toml), {"fax.dial_prefix": "9"})
    assert backup_path(toml).read_text(encoding="utf-8") == second
    assert kiosk_config.load(toml).fax.dial_prefix == "9"


def test_missing_keys_and_sections_are_added(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text('# our site\n[cups]\n# the printer\nqueue = "a"  # ward 3\n\n'
                    '[fax]\nnumber = "03-5689-0726"\n', encoding="utf-8")
    store = SettingsStore()
    store.save(path, store.load(path), {"cups.queue": "b", "fax.dial_prefix": "0", "project.name": "X"})
    text = path.read_text(encoding="utf-8")
    assert text == ('# our site\n[cups]\n# the printer\nqueue = "b"  # ward 3\n\n'
                    '[fax]\nnumber = "03-5689-0726"\ndial_prefix = "0"\n\n[project]\nname = "X"\n')
    config = kiosk_config.load(path)
    assert (config.cups.queue, config.fax.dial_prefix, config.project.name) == ("b", "0", "X")


def test_a_file_that_cannot_be_edited_line_by_line_is_written_whole(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text('[project]\n# multi-line\ncontact = """\nthe office\nroom 1"""\n', encoding="utf-8")
    assert edit_in_place(path.read_text(encoding="utf-8"), {"project.contact": "x"}) is None
    store = SettingsStore()
    store.save(path, store.load(path), {"project.contact": "room 2"})
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# ") and "kiosk.toml.bak" in text.splitlines()[1]
    assert kiosk_config.load(path).project.contact == "room 2"
    assert "multi-line" in backup_path(path).read_text(encoding="utf-8")


@pytest.mark.parametrize(("key", "value", "words"), [
    ("fax.number", "abc", "digits"),
    ("kiosk.idle_timeout", "three minutes", "whole number"),
    ("kiosk.idle_timeout", "10", "at least 30"),
    ("fax.dial_prefix", "0 0", "4 digits"),
    ("cups.queue", "ward 3", "queue name"),
    ("delivery.mode", "email", "one of"),
    ("kiosk.language", "fr", "one of"),
    ("document.font", "", "file path"),
])
def test_an_invalid_value_is_a_config_error_naming_the_key_and_nothing_is_written(
        toml: Path, key: str, value: str, words: str) -> None:
    store = SettingsStore()
    before = toml.read_bytes()
    snapshot = store.load(toml)
    with pytest.raises(ConfigError) as caught:
        store.save(toml, snapshot, {key: value})
    assert caught.value.key == key and caught.value.path == toml
    assert words in caught.value.problem
    assert str(toml) in str(caught.value) and key in str(caught.value)
    assert toml.read_bytes() == before
    assert not backup_path(toml).exists()
    assert set(store.check(toml, snapshot, {key: value})) == {key}


def test_check_reports_every_wrong_field(toml: Path) -> None:
    store = SettingsStore()
    problems = store.check(toml, store.load(toml), {"fax.number": "abc", "kiosk.idle_timeout": "x",
                                                    "cups.queue": "a/b", "project.name": "fine"})
    assert set(problems) == {"fax.number", "kiosk.idle_timeout", "cups.queue"}


def test_a_fax_mode_without_a_fax_queue_names_the_fax_queue(toml: Path) -> None:
    store = SettingsStore()
    problems = store.check(toml, store.load(toml), {"delivery.mode": "fax", "fax.queue": "",
                                                    "fax.agreement": "UMIN 合意 2026-03"})
    assert set(problems) == {"fax.queue"}


@pytest.mark.parametrize("mode", ["fax", "print+fax"])
@pytest.mark.parametrize("agreement", [None, "", "   ", "UMIN 合意\n署名は郵送", "合" * 81])
def test_a_fax_mode_needs_the_sites_arrangement_with_umin(
    tmp_path: Path, mode: str, agreement: str | None
) -> None:
    """#14.4: a FAX goes out unsigned, so a FAX mode is only for a site that agreed with UMIN how the
    signature is given; without that arrangement named, the settings do not load, in either language."""
    fax = "" if agreement is None else f"[fax]\nagreement = {json.dumps(agreement, ensure_ascii=False)}\n"
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[delivery]\nmode = "{mode}"\n{fax}', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        kiosk_config.load(path)
    assert caught.value.key == "fax.agreement"
    assert "UMIN センター" in caught.value.text("ja") and "署名" in caught.value.text("ja")
    assert "UMIN Center" in caught.value.text("en") and "signature" in caught.value.text("en")
    path.write_text(f'[delivery]\nmode = "{mode}"\n[fax]\nagreement = "UMIN 合意 2026-03：署名原本は郵送"\n',
                    encoding="utf-8")
    assert kiosk_config.load(path).fax.agreement == "UMIN 合意 2026-03：署名原本は郵送"
    path.write_text('[delivery]\nmode = "print"\n', encoding="utf-8")  # printing for signature needs none
    assert kiosk_config.load(path).fax.agreement == ""


def test_the_console_refuses_a_fax_mode_without_the_arrangement(toml: Path) -> None:
    store = SettingsStore()
    problems = store.check(toml, store.load(toml), {"delivery.mode": "fax"})
    assert set(problems) == {"fax.agreement"}
    changes = {"delivery.mode": "fax", "fax.agreement": "UMIN 合意 2026-03"}
    assert not store.check(toml, store.load(toml), changes)


def test_unknown_key_in_the_file_is_named_on_load(toml: Path) -> None:
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace('dial_prefix = ""', 'dial_prefix = ""\ndial_prefx = "0"'), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        SettingsStore().load(toml)
    assert caught.value.key == "fax.dial_prefx" and "unknown key" in caught.value.problem
    assert caught.value.path == toml


def test_wrong_type_in_the_file_is_named_on_load(toml: Path) -> None:
    toml.write_text(toml.read_text(encoding="utf-8").replace("idle_timeout = 180", 'idle_timeout = "180"'),
                    encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        SettingsStore().load(toml)
    assert caught.value.key == "kiosk.idle_timeout"


def test_second_editor_cannot_overwrite_the_first(toml: Path) -> None:
    store = SettingsStore()
    first, second = store.load(toml), store.load(toml)
    store.save(toml, first, {"fax.number": "03-1111-2222"})
    after_first = toml.read_bytes()
    with pytest.raises(ConcurrentEditError) as caught:
        store.save(toml, second, {"fax.dial_prefix": "0"})
    assert caught.value.path == toml
    assert toml.read_bytes() == after_first
    config = kiosk_config.load(toml)
    assert config.fax.number == "03-1111-2222" and config.fax.dial_prefix == ""
    # After reloading, the second editor's change goes in on top of the first's.
    store.save(toml, store.load(toml), {"fax.dial_prefix": "0"})
    config = kiosk_config.load(toml)
    assert config.fax.number == "03-1111-2222" and config.fax.dial_prefix == "0"


def test_a_change_by_hand_is_noticed_too(toml: Path) -> None:
    store = SettingsStore()
    snapshot = store.load(toml)
    toml.write_text(toml.read_text(encoding="utf-8") + "\n# a note added by hand\n", encoding="utf-8")
    with pytest.raises(ConcurrentEditError):
        store.save(toml, snapshot, {"fax.dial_prefix": "0"})
    assert toml.read_text(encoding="utf-8").endswith("# a note added by hand\n")


def test_a_symlinked_file_stays_a_symlink(tmp_path: Path, toml: Path) -> None:
    link = tmp_path / "link.toml"
    link.symlink_to(toml)
    store = SettingsStore()
    store.save(link, store.load(link), {"fax.dial_prefix": "0"})
    assert link.is_symlink() and kiosk_config.load(toml).fax.dial_prefix == "0"


RACER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from indice_kiosk.core.settings import ConcurrentEditError, SettingsStore
    path, me, go = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    store = SettingsStore()
    snapshot = store.load(path)
    Path(str(go) + "." + me).write_text("ready")
    while not go.exists():
        time.sleep(0.001)
    try:
        store.save(path, snapshot, {"project.name": "winner " + me, "fax.dial_prefix": me})
    except ConcurrentEditError:
        print("lost")
    else:
        print("won")
""")


def test_two_processes_racing_exactly_one_wins(toml: Path, tmp_path: Path) -> None:
    racers = ["1", "2", "3", "4"]
    for _ in range(3):
        shutil.copy(SHIPPED, toml)
        go = tmp_path / "go"
        go.unlink(missing_ok=True)
        procs = {me: subprocess.Popen([sys.executable, "-c", RACER, str(toml), me, str(go)], cwd=ROOT,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for me in racers}
        deadline = time.monotonic() + 30
        while not all(Path(f"{go}.{me}").exists() for me in racers):
            assert time.monotonic() < deadline, "racers did not start"
            time.sleep(0.01)
        go.write_text("go")
        results = {}
        for me, proc in procs.items():
            out, err = proc.communicate(timeout=30)
            assert proc.returncode == 0, err
            results[me] = out.strip()
        for me in racers:
            Path(f"{go}.{me}").unlink()
        winners = [me for me, result in results.items() if result == "won"]
        assert len(winners) == 1 and sorted(results.values()) == ["lost"] * 3 + ["won"], results
        text = toml.read_text(encoding="utf-8")
        tomllib.loads(text)
        config = kiosk_config.load(toml)
        assert config.project.name == f"winner {winners[0]}" and config.fax.dial_prefix == winners[0]
        assert comments(text) == comments(SHIPPED.read_text(encoding="utf-8"))
        assert backup_path(toml).read_bytes() == SHIPPED.read_bytes()


READER = textwrap.dedent("""
    import sys, tomllib
    from pathlib import Path
    from indice_kiosk.core.config import from_dict
    path, stop = Path(sys.argv[1]), Path(sys.argv[2])
    reads = bad = 0
    while not stop.exists():
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            bad += 1
            continue
        reads += 1
        try:
            from_dict(tomllib.loads(data.decode("utf-8")))
        except Exception:
            bad += 1
    print(reads, bad)
""")


def test_the_file_is_never_seen_half_written(toml: Path, tmp_path: Path) -> None:
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(toml), str(stop)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    thread_reads: list[int] = []
    thread_bad: list[str] = []

    def read_in_a_thread() -> None:
        while not stop.exists():
            try:
                kiosk_config.load(toml)
            except ConfigError as error:
                thread_bad.append(str(error))
            thread_reads.append(1)

    thread = threading.Thread(target=read_in_a_thread)
    thread.start()
    store = SettingsStore()
    try:
        time.sleep(0.2)
        for i in range(150):
            # Long values make a torn write likely to be caught if the write were not atomic.
            contact = f"事務局 {i} " + "内線 " * (50 + i % 40)
            store.save(toml, store.load(toml), {"project.contact": contact, "fax.dial_prefix": str(i % 10)})
    finally:
        stop.write_text("stop")
        thread.join(timeout=10)
    out, err = reader.communicate(timeout=30)
    assert reader.returncode == 0, err
    reads, bad = map(int, out.split())
    assert reads > 0 and bad == 0
    assert thread_reads and not thread_bad
    assert kiosk_config.load(toml).project.contact.startswith("事務局 149 ")
    assert comments(toml.read_text(encoding="utf-8")) == comments(SHIPPED.read_text(encoding="utf-8"))


def test_config_value_from_text() -> None:
    assert kiosk_config.value_from_text("kiosk.idle_timeout", " 240 ") == 240
    assert kiosk_config.value_from_text("cups.timeout", "5") == 5.0
    assert kiosk_config.value_from_text("cups.purge_jobs", "False") is False
    assert kiosk_config.value_from_text("document.font", "/x.ttf") == "/x.ttf"
    for key, text in (("cups.timeout", "nan"), ("cups.timeout", "inf"), ("cups.purge_jobs", "yes"),
                      ("kiosk.idle_timeout", "1.5"), ("fax.nope", "1")):
        with pytest.raises(ConfigError) as caught:
            kiosk_config.value_from_text(key, text)
        assert caught.value.key == key


# --- the screen -----------------------------------------------------------------------------------


class Host(App[None]):
    """A tiny app that pushes the settings form, as the operator console does."""

    def __init__(self, path: Path, lang: str = "ja") -> None:
        super().__init__()
        self.path, self.lang = path, lang
        self.settings_closed = False

    def on_mount(self) -> None:
        self.push_screen(SettingsScreen(self.path, self.lang), callback=self._settings_closed)

    def _settings_closed(self, _: None) -> None:
        self.settings_closed = True


def status(app: App[None]) -> str:
    return app.screen.query_one("#settings-status", Prose).text


def error_under(app: App[None], key: str) -> str:
    return app.screen.query_one(f"#{field_id(key)}-error", Prose).text


async def click(pilot, selector: str) -> None:
    """Click a button the way a person does (a button ignores clicks while it still shows the last press)."""
    button = pilot.app.screen.query_one(selector)
    while button.has_class("-active"):
        await pilot.pause(0.05)
    assert await pilot.click(selector)
    await pilot.pause()


async def type_into(pilot, widget_id: str, text: str) -> None:
    field = pilot.app.screen.query_one(f"#{widget_id}", Input)
    field.value = ""
    field.focus()
    await pilot.pause()
    await pilot.press(*text)


async def saved_or_refused(pilot, key: str = "") -> None:
    """Save, and wait for CUPS's answer about the queues to be on screen."""
    await click(pilot, "#save")
    await wait_for(pilot, lambda: pilot.app.screen.id == "confirm" or (key and error_under(pilot.app, key))
                   or status(pilot.app).startswith(("保存しました", "Saved")), timeout=20)


async def test_screen_shows_the_file_and_a_bad_fax_number_under_its_field(toml: Path) -> None:
    before = toml.read_bytes()
    app = Host(toml)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert screen.id == "settings"
        assert screen.query_one("#set-fax-number", Input).value == "03-5689-0726"
        assert screen.query_one("#set-cups-queue", Input).value == "indice-printer"
        assert screen.query_one("#set-delivery-mode", Select).value == "print"
        assert screen.query_one("#set-kiosk-language", Select).value == "ja"
        for key in EDITABLE:
            assert screen.query_one(f"#{field_id(key)}")
        await type_into(pilot, "set-fax-number", "abc")
        await click(pilot, "#save")
        error = error_under(app, "fax.number")
        # In the operator's language, label and problem alike.
        assert error == "UMIN センターの FAX 番号（fax.number）：" + t("ja", "config.fax_number")
        assert "digits" not in error
        # The error is right under the field it is about.
        field, shown = screen.query_one("#set-fax-number"), screen.query_one("#set-fax-number-error")
        assert list(field.parent.children).index(shown) == list(field.parent.children).index(field) + 1
        assert all(not error_under(app, key) for key in EDITABLE if key != "fax.number")
        assert "誤り" in status(app)
        assert toml.read_bytes() == before and not backup_path(toml).exists()


async def test_screen_saves_a_valid_edit(toml: Path) -> None:
    app = Host(toml)
    before = toml.read_text(encoding="utf-8")
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await type_into(pilot, "set-fax-number", "03-1234-5678")
        app.screen.query_one("#set-delivery-mode", Select).value = "print+fax"
        await click(pilot, "#save")
        # A FAX mode needs the site's arrangement with UMIN on the unsigned form: said under its field.
        assert error_under(app, "fax.agreement") == (t("ja", "settings.label.fax.agreement") + "："
                                                     + t("ja", "config.fax_agreement"))
        assert toml.read_text(encoding="utf-8") == before
        await type_into(pilot, "set-fax-agreement", "UMIN 合意 2026-03")
        # The FAX queue comes into use, and this file's CUPS ($CUPS_SERVER, the discard port) cannot be
        # asked whether it exists: saved because the operator says so.
        await saved_or_refused(pilot)
        await click(pilot, "#confirm-yes")
        await wait_for(pilot, lambda: status(app).startswith("保存しました"))
        assert status(app) == "保存しました（以前の内容は kiosk.toml.bak）"
        assert not error_under(app, "fax.number")
        config = kiosk_config.load(toml)
        assert config.fax.number == "03-1234-5678" and config.delivery.mode == "print+fax"
        assert backup_path(toml).read_text(encoding="utf-8") == before
        assert comments(toml.read_text(encoding="utf-8")) == comments(before)
        # Saving again with nothing changed writes nothing.
        saved = toml.read_bytes()
        await click(pilot, "#save")
        assert status(app) == "変更はありません。" and toml.read_bytes() == saved
        await pilot.press("escape")
        await pilot.pause()
        assert app.settings_closed and app.screen.id != "settings"


async def test_screen_refuses_to_overwrite_another_writer_and_reload_shows_their_values(toml: Path) -> None:
    app = Host(toml, lang="en")
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        # Another operator saves while this form is open.
        store = SettingsStore()
        store.save(toml, store.load(toml), {"fax.dial_prefix": "0", "project.name": "Other's project"})
        theirs = toml.read_bytes()
        await type_into(pilot, "set-fax-number", "03-1234-5678")
        await click(pilot, "#save")
        assert status(app) == "Someone else changed the settings first. Please reload them."
        assert toml.read_bytes() == theirs
        await click(pilot, "#reload")
        await pilot.pause()
        await click(pilot, "#confirm-yes")  # the refused edit is not saved: reloading asks before dropping it
        await pilot.pause()
        screen = app.screen
        assert screen.query_one("#set-fax-dial_prefix", Input).value == "0"
        assert screen.query_one("#set-project-name", Input).value == "Other's project"
        assert screen.query_one("#set-fax-number", Input).value == "03-5689-0726"
        # Now the edit goes in on top of theirs.
        await type_into(pilot, "set-fax-number", "03-1234-5678")
        await click(pilot, "#save")
        assert status(app).startswith("Saved")
        config = kiosk_config.load(toml)
        assert (config.fax.number, config.fax.dial_prefix, config.project.name) == (
            "03-1234-5678", "0", "Other's project")
        await click(pilot, "#close")
        assert app.settings_closed


async def test_screen_names_an_unknown_key_in_the_file(toml: Path) -> None:
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[printer]\nqueue = \"x\"\n", encoding="utf-8")
    app = Host(toml)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        text = status(app)
        assert "printer" in text and "知らないセクションです" in text and str(toml) in text
        assert "unknown section" not in text
        before = toml.read_bytes()
        await click(pilot, "#save")
        assert toml.read_bytes() == before


def test_every_settings_text_exists_in_both_languages() -> None:
    from indice_kiosk.core.text import CATALOGUES

    keys = {k for k in CATALOGUES["ja"] if k.startswith("settings.")}
    assert keys == {k for k in CATALOGUES["en"] if k.startswith("settings.")}
    for key in EDITABLE:
        assert f"settings.label.{key}" in keys and f"settings.hint.{key}" in keys


async def test_a_settings_field_keeps_its_value_when_typed_into(toml: Path) -> None:
    """#14.9: focusing a field selected its whole value, so the first key typed replaced it."""
    app = Host(toml)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        field = app.screen.query_one("#set-project-contact", Input)
        field.value = "事務局 内線 12"
        field.focus()
        await pilot.pause()
        await pilot.press("3")
        assert field.value == "事務局 内線 123"


async def test_leaving_with_unsaved_edits_asks_first_and_keeps_them(toml: Path) -> None:
    """#14.9: Esc left the form with unsaved (even invalid) edits and said nothing."""
    before = toml.read_bytes()
    app = Host(toml)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await type_into(pilot, "set-fax-number", "abc")  # invalid, never saved
        await type_into(pilot, "set-project-contact", "事務局 内線 9")
        for leave in ("escape", "#close"):
            if leave == "escape":
                await pilot.press("escape")
            else:
                await click(pilot, leave)
            await pilot.pause()
            dialog = app.screen
            assert dialog.id == "confirm"
            assert dialog.query_one("#confirm-question", Prose).text == t("ja", "settings.confirm.discard")
            assert str(dialog.query_one("#confirm-no", Button).label) == t("ja", "settings.confirm.keep")
            yes = dialog.query_one("#confirm-yes", Button)
            assert str(yes.label) == t("ja", "settings.confirm.discard_yes")
            # Keep editing: the click, or Esc on the question itself.
            if leave == "escape":
                await pilot.press("escape")
            else:
                await click(pilot, "#confirm-no")
            await pilot.pause()
            assert app.screen.id == "settings" and not app.settings_closed
            assert app.screen.query_one("#set-fax-number", Input).value == "abc"
            assert app.screen.query_one("#set-project-contact", Input).value == "事務局 内線 9"
        await pilot.press("escape")
        await pilot.pause()
        await click(pilot, "#confirm-yes")
        assert app.settings_closed and app.screen.id != "settings"
    assert toml.read_bytes() == before and not backup_path(toml).exists()


async def test_reloading_with_unsaved_edits_asks_first_and_keeps_them(toml: Path) -> None:
    """Reload read the file again over what was typed and not saved, without a word (found after #14.9)."""
    app = Host(toml)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await type_into(pilot, "set-project-contact", "事務局 内線 9")
        await click(pilot, "#reload")
        await pilot.pause()
        dialog = app.screen
        assert dialog.id == "confirm"
        assert dialog.query_one("#confirm-question", Prose).text == t("ja", "settings.confirm.discard_reload")
        await click(pilot, "#confirm-no")
        await pilot.pause()
        assert app.screen.query_one("#set-project-contact", Input).value == "事務局 内線 9"
        await click(pilot, "#reload")
        await pilot.pause()
        await click(pilot, "#confirm-yes")
        await pilot.pause()
        assert app.screen.id == "settings"
        # The file's value again.
        assert app.screen.query_one("#set-project-contact", Input).value != "事務局 内線 9"
        assert t("ja", "settings.reloaded") in status(app)


def english_words(text: str, *allowed: str) -> list[str]:
    """The English words in ``text`` (runs of 3+ ASCII letters) once ``allowed`` (paths) are cut out."""
    for part in allowed:
        text = text.replace(part, " ")
    names = ("TOML", "UTF", "CUPS", "FAX", "UMIN", "PDF")  # what the Japanese texts call them too
    return [word for word in re.findall(r"[A-Za-z]{3,}", text) if word not in names]


async def test_every_wrong_value_is_said_in_japanese(toml: Path) -> None:
    """A guard for #14.9: bad queue names, numbers and the rest, each under its field in the operator's
    language (label and problem), nothing in English but the key and the value typed."""
    bad = {"cups.queue": "ward 3", "fax.queue": "a/b", "fax.number": "abc", "fax.dial_prefix": "00000",
           "fax.agreement": "", "kiosk.idle_timeout": "1e3", "document.font": ""}
    app = Host(toml)
    async with app.run_test(size=(100, 60)) as pilot:
        await pilot.pause()
        app.screen.query_one("#set-delivery-mode", Select).value = "fax"
        for key, value in bad.items():
            await type_into(pilot, field_id(key), value)
        await click(pilot, "#save")
        assert status(app) == t("ja", "settings.invalid")
        for key, value in bad.items():
            shown = error_under(app, key)
            assert shown.startswith(t("ja", f"settings.label.{key}") + "："), key
            assert english_words(shown, key, repr(value)) == [], (key, shown)
        await type_into(pilot, "set-kiosk-idle_timeout", "10")
        await click(pilot, "#save")
        assert error_under(app, "kiosk.idle_timeout").endswith("30 秒以上にしてください")


async def test_a_file_that_is_not_toml_is_named_in_japanese_with_its_line(toml: Path) -> None:
    """#14.9: the TOML parser's English ("Invalid value (at line 2, column 9)") reached the operator."""
    toml.write_text("[cups]\nqueue = \n", encoding="utf-8")
    app = Host(toml)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        text = status(app)
        assert text.startswith(t("ja", "settings.load_error", problem=f"{toml}: "))
        assert "2 行目" in text and "TOML として読めません" in text
        assert english_words(text, str(toml)) == []
        # What was typed into the empty form is not dropped on the way out either.
        await type_into(pilot, "set-cups-queue", "ward-3")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.id == "confirm"


async def test_a_settings_path_that_is_a_directory_is_named_in_japanese(tmp_path: Path) -> None:
    app = Host(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        text = status(app)
        assert t("ja", "oserror.EISDIR") in text
        assert english_words(text, str(tmp_path)) == []


async def test_a_save_the_system_refuses_is_said_in_japanese(toml: Path) -> None:
    """A real refusal (the .bak's place holds a directory, so os.replace fails with EISDIR), said in the
    operator's language and naming the file the system refused, not the temporary file."""
    backup_path(toml).mkdir()
    before = toml.read_bytes()
    app = Host(toml)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await type_into(pilot, "set-fax-dial_prefix", "0")
        await click(pilot, "#save")
        text = status(app)
        assert text == t("ja", "settings.write_error",
                         problem=f"{backup_path(toml)}: " + t("ja", "oserror.EISDIR"))
        assert english_words(text, str(backup_path(toml))) == []
    assert toml.read_bytes() == before


@pytest.mark.parametrize("text", ["[cups]\nqueue = \n", "[cups\n", 'a = "x', "[fax]\nnumber = 1 2\n"])
def test_not_toml_names_the_line_in_both_languages(tmp_path: Path, text: str) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        kiosk_config.load(path)
    assert caught.value.code == "not_toml"
    line = caught.value.params["line"]
    assert isinstance(line, int) and 1 <= line <= text.count("\n") + 1
    japanese = caught.value.text("ja")
    assert f"{line} 行目" in japanese and english_words(japanese, str(path)) == []
    assert "not valid TOML" in caught.value.text("en")  # with the parser's own words


# --- the queues are checked against CUPS on save ---------------------------------------------------


def naming_server(toml: Path, server: str) -> Path:
    """The file names its CUPS server, as a site's kiosk.toml does (and a short timeout)."""
    text = toml.read_text(encoding="utf-8").replace('server = ""', f'server = "{server}"')
    toml.write_text(text.replace("timeout = 10.0", "timeout = 5.0"), encoding="utf-8")
    return toml


async def test_a_queue_cups_does_not_have_is_refused_naming_it(toml: Path, private_cups) -> None:
    """#14.9: cups.queue and fax.queue were saved without asking CUPS whether they exist."""
    naming_server(toml, private_cups.server)
    before = toml.read_bytes()
    app = Host(toml)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await type_into(pilot, "set-cups-queue", "no-such-queue")
        await saved_or_refused(pilot, "cups.queue")
        assert error_under(app, "cups.queue") == (
            t("ja", "settings.label.cups.queue") + "："
            + t("ja", "config.no_such_queue", queue="no-such-queue", server=private_cups.server))
        assert "no-such-queue" in status(app)
        assert toml.read_bytes() == before
        # A FAX mode brings the FAX queue into use: it is checked too.
        app.screen.query_one("#set-delivery-mode", Select).value = "print+fax"
        await type_into(pilot, "set-fax-agreement", "UMIN 合意 2026-03")
        await type_into(pilot, "set-fax-queue", "no-fax-here")
        await type_into(pilot, "set-cups-queue", private_cups.queue)
        await saved_or_refused(pilot, "fax.queue")
        assert "no-fax-here" in error_under(app, "fax.queue") and not error_under(app, "cups.queue")
        assert toml.read_bytes() == before
        # The queues CUPS has: saved.
        await type_into(pilot, "set-fax-queue", private_cups.fax_queue)
        await saved_or_refused(pilot)
        assert status(app) == "保存しました（以前の内容は kiosk.toml.bak）"
    config = kiosk_config.load(toml)
    assert (config.cups.queue, config.fax.queue) == (private_cups.queue, private_cups.fax_queue)


async def test_a_queue_saved_while_cups_is_away_is_the_operators_choice(toml: Path) -> None:
    """CUPS cannot be asked: the form says so and saves only if the operator says so."""
    naming_server(toml, "127.0.0.1:9")  # the discard port: refused at once
    before = toml.read_bytes()
    app = Host(toml)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await type_into(pilot, "set-cups-queue", "ward-3")
        await saved_or_refused(pilot)
        assert app.screen.query_one("#confirm-question", Prose).text == t(
            "ja", "settings.confirm.unchecked", server="127.0.0.1:9", queues="ward-3")
        await pilot.press("escape")  # no: nothing is saved, nothing typed is lost
        await pilot.pause()
        assert app.screen.id == "settings" and status(app) == t("ja", "settings.not_saved")
        assert app.screen.query_one("#set-cups-queue", Input).value == "ward-3"
        assert toml.read_bytes() == before
        await saved_or_refused(pilot)
        await click(pilot, "#confirm-yes")
        await wait_for(pilot, lambda: status(app).startswith("保存しました"))
    assert kiosk_config.load(toml).cups.queue == "ward-3"
