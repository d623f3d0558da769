# Sourced by scripts/kiosk and scripts/test: installs, idempotently, what indice-kiosk needs on Debian 12.
#   APT_EXTRA  - more Debian packages to install (the test script adds its tools)
#   PIP_EXTRAS - the package extras to install into the venv ("test" for the test suite)
# Sets VENV to the virtual environment it made.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${INDICE_KIOSK_VENV:-$ROOT/.venv}"

# libcups2-dev and a compiler build pycups; cups + cups-ipp-utils + dbus give the demo/test CUPS and its
# virtual printer; the font is embedded in every PDF.
# mozc-server + emacs-mozc-bin are the kiosk's own kana-kanji conversion (indice_kiosk/core/ime.py).
APT_PACKAGES="python3 python3-venv python3-dev gcc libcups2-dev cups cups-client cups-filters cups-ipp-utils
dbus fonts-ipaexfont-gothic tzdata mozc-server emacs-mozc-bin ${APT_EXTRA:-}"

missing=""
for pkg in $APT_PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done
if [ -n "$missing" ]; then
    echo "setup: installing Debian packages:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >&2
fi

# mozc refuses to run as root: a kiosk started as root (the demo, the tests) runs it as this user
# (kiosk.toml [input] mozc_user). A site's kiosk runs as its own user and does not need it.
if [ "$(id -u)" = 0 ] && ! getent passwd indice-ime >/dev/null; then
    echo "setup: creating the system user indice-ime (runs mozc for a kiosk started as root)" >&2
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin indice-ime
fi

# Debian's own Python (package python3): the kiosk runs as an unprivileged account, which must be able to
# run the venv's interpreter -- one under /root (pyenv's, say) it cannot even reach.
PYTHON="${PYTHON:-/usr/bin/python3}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating $VENV" >&2
    "$PYTHON" -m venv "$VENV"
fi

stamp="$VENV/.indice-kiosk-installed"
want="$(cat "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)-${PIP_EXTRAS:-none}"
if [ ! -f "$stamp" ] || ! grep -qx -- "$want" "$stamp" 2>/dev/null; then
    echo "setup: installing indice-kiosk into $VENV" >&2
    "$VENV/bin/python" -m pip install -q --upgrade pip >&2
    spec="$ROOT"
    [ -n "${PIP_EXTRAS:-}" ] && spec="$ROOT[${PIP_EXTRAS}]"
    "$VENV/bin/python" -m pip install -q -e "$spec" >&2
    echo "$want" > "$stamp"
fi

# An editable install leaves the project's own modules uncompiled, and a kiosk user usually cannot write
# __pycache__ next to them (nor does it when PYTHONDONTWRITEBYTECODE is set): every start would compile
# them again (~20 ms of the cold start). Compile them now; stale files are recompiled, others skipped.
"$VENV/bin/python" -m compileall -q -j 0 "$ROOT/indice_kiosk" >/dev/null
