"""Saving kiosk.toml as an operator really is: an unprivileged account of kiosk-console (scripts/test creates
indice-console-test), the directory and file laid out with the commands of docs/deployment.md, section 3
(issue #15, item 3)."""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.privatesshd import CONSOLE

pytestmark = pytest.mark.system

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = '# site settings\n[kiosk]\nlanguage = "ja"  # the first language\nidle_timeout = 180\n'
# Run as the operator: load, change idle_timeout, save; what happened, as JSON.
SAVE = """
import json, sys
from pathlib import Path
from indice_kiosk.core.config import ConfigError
from indice_kiosk.core.settings import SettingsStore
path = Path(sys.argv[1])
store = SettingsStore()
try:
    store.save(path, store.load(path), {"kiosk.idle_timeout": "240"})
except ConfigError as error:
    print(json.dumps({"code": error.code, "ja": error.text("ja"), "en": error.text("en")}))
except OSError as error:
    print(json.dumps({"code": "oserror", "ja": str(error), "en": str(error)}))
else:
    print(json.dumps({"code": "saved"}))
"""


@pytest.fixture
def site() -> Iterator[Path]:
    """An /etc-like place the operator can reach (every parent traversable)."""
    try:
        pwd.getpwnam(CONSOLE)
        grp.getgrnam("kiosk-console")
    except KeyError:
        pytest.fail(f"{CONSOLE} or the group kiosk-console is missing (scripts/test creates them)")
    top = Path(tempfile.mkdtemp(prefix="indice-site-"))
    top.chmod(0o755)
    yield top
    shutil.rmtree(top, ignore_errors=True)


def sh(command: str, cwd: Path) -> None:
    subprocess.run(["sh", "-ec", command], cwd=cwd, check=True)


def save_as_operator(path: Path) -> dict[str, str]:
    result = subprocess.run(["/usr/sbin/runuser", "-u", CONSOLE, "--", sys.executable, "-c", SAVE, str(path)],
                            cwd=ROOT, capture_output=True, text=True, check=False, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
                                 "INDICE_KIOSK_CACHE": "/nonexistent"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def owner_group_mode(path: Path) -> tuple[str, str, str]:
    info = path.stat()
    return (pwd.getpwuid(info.st_uid).pw_name, grp.getgrgid(info.st_gid).gr_name,
            f"{stat.S_IMODE(info.st_mode):04o}")


def test_the_documented_layout_lets_an_operator_save(site: Path) -> None:
    """deployment.md, section 3, as written: a setgid directory of kiosk-console. The save works, the file
    and its .bak stay group kiosk-console mode 0664 (readable by the kiosk account, writable by the next
    operator); the owner becomes the operator who saved (documented)."""
    (site / "kiosk.toml.example").write_text(SETTINGS, encoding="utf-8")
    sh("install -d -m 2775 -o root -g kiosk-console etc-indice-kiosk\n"
       "install -m 0664 -o root -g kiosk-console kiosk.toml.example etc-indice-kiosk/kiosk.toml", site)
    path = site / "etc-indice-kiosk" / "kiosk.toml"
    assert save_as_operator(path) == {"code": "saved"}
    text = path.read_text(encoding="utf-8")
    assert "idle_timeout = 240" in text and "# the first language" in text
    assert owner_group_mode(path) == (CONSOLE, "kiosk-console", "0664")
    assert owner_group_mode(path.with_name("kiosk.toml.bak")) == (CONSOLE, "kiosk-console", "0664")
    assert owner_group_mode(path.with_name("kiosk.toml.lock"))[1] == "kiosk-console"
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []
    # A second operator's save (the same account here) works on what the first left.
    path.write_text(text.replace("240", "300"), encoding="utf-8")
    assert save_as_operator(path) == {"code": "saved"}


def test_the_files_group_is_kept_in_a_directory_without_setgid(site: Path) -> None:
    """A group-writable directory without the setgid bit: the new file would get the operator's own group
    and the rest of kiosk-console could no longer save. Before: it did."""
    (site / "kiosk.toml.example").write_text(SETTINGS, encoding="utf-8")
    sh("install -d -m 0775 -o root -g kiosk-console conf\n"
       "install -m 0664 -o root -g kiosk-console kiosk.toml.example conf/kiosk.toml", site)
    path = site / "conf" / "kiosk.toml"
    assert save_as_operator(path) == {"code": "saved"}
    assert owner_group_mode(path)[1:] == ("kiosk-console", "0664")
    assert owner_group_mode(path.with_name("kiosk.toml.bak"))[1:] == ("kiosk-console", "0664")


def test_a_directory_the_operator_cannot_write_is_named_as_the_reason(site: Path) -> None:
    """The layout deployment.md used to give (directory 0755 root, file root:kiosk-console 0664). Before:
    「保存できませんでした（ファイルは変わっていません）：No such file or directory」."""
    (site / "kiosk.toml.example").write_text(SETTINGS, encoding="utf-8")
    sh("install -d -m 0755 etc-indice-kiosk\n"
       "install -m 0664 -o root -g kiosk-console kiosk.toml.example etc-indice-kiosk/kiosk.toml", site)
    path = site / "etc-indice-kiosk" / "kiosk.toml"
    result = save_as_operator(path)
    assert result["code"] == "dir_not_writable", result
    directory = str(path.parent)
    assert f"{CONSOLE} may not write in the directory {directory} (owner root, group root, mode 0755)" \
        in result["en"]
    expected_ja = (f"{CONSOLE} はディレクトリ {directory}（所有者 root、グループ root、モード 0755）"
                   "に書き込めません")
    assert expected_ja in result["ja"]
    assert "No such file" not in result["ja"]
    assert path.read_text(encoding="utf-8") == SETTINGS
    assert sorted(p.name for p in path.parent.iterdir()) == ["kiosk.toml"]


def test_a_file_the_operator_cannot_write_is_not_replaced(site: Path) -> None:
    """Write access to the directory alone would let os.replace swap a file the operator may not write."""
    (site / "kiosk.toml.example").write_text(SETTINGS, encoding="utf-8")
    sh("install -d -m 2775 -o root -g kiosk-console conf\n"
       "install -m 0644 -o root -g root kiosk.toml.example conf/kiosk.toml", site)
    path = site / "conf" / "kiosk.toml"
    result = save_as_operator(path)
    assert result["code"] == "file_not_writable", result
    assert "(owner root, group root, mode 0644)" in result["en"]
    assert path.read_text(encoding="utf-8") == SETTINGS
    assert os.stat(path).st_uid == 0
