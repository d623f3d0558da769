#!/bin/bash
# Headless E2E: cage 0.1.4 -> foot -> Textual app (unprivileged user), keys via TIOCSTI, screenshot via grim, OCR via tesseract.
# Run as root. Prereqs (see FINDINGS.md): apt: cage foot grim xwayland fonts-noto-cjk tesseract-ocr tesseract-ocr-jpn
#   user $U exists; $APP_PY venv has textual; $TOOLS_PY has Pillow.
set -euo pipefail
BASE=${BASE:-/tmp/cage-probe}
U=${U:-cageprobe}
RT=$BASE/rt-e2e                      # private XDG_RUNTIME_DIR
OUT=$BASE/e2e-out                    # screenshots/logs (must be writable by $U for grim)
APP_PY=${APP_PY:-$BASE/venv/bin/python}
TOOLS_PY=${TOOLS_PY:-$BASE/tools-venv/bin/python}
H="$TOOLS_PY $BASE/e2e_helpers.py"
LANG_APP=${LANG_APP:-C.UTF-8}        # ja_JP.UTF-8 works only after locale-gen (foot: "setlocale() failed")

t0=$(date +%s.%N); ts() { printf '%6.2fs' "$(echo "$(date +%s.%N) - $t0" | bc)"; }
log() { echo "[$(ts)] $*"; }

rm -rf "$RT" "$OUT"
install -d -m 0700 -o "$U" -g "$U" "$RT"
install -d -m 0755 -o "$U" -g "$U" "$OUT"
[ -d /tmp/.X11-unix ] || install -d -m 1777 -o root -g root /tmp/.X11-unix   # else wlroots creates it owned by $U

USERENV=(env -i HOME="$(getent passwd "$U" | cut -d: -f6)" USER="$U" LOGNAME="$U" PATH=/usr/bin:/bin
         LANG="$LANG_APP" XDG_RUNTIME_DIR="$RT"
         WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1)
AS_USER=(setpriv --reuid="$U" --regid="$U" --init-groups)
GRIM="${AS_USER[*]} env XDG_RUNTIME_DIR=$RT WAYLAND_DISPLAY=wayland-0 grim"

CAGE_PID=
teardown() {
  set +e
  if [ -n "$CAGE_PID" ] && kill -0 "$CAGE_PID" 2>/dev/null; then
    # NOT SIGTERM to cage: cage 0.1.4 aborts (wl_display_terminate assertion) and leaves /tmp/.X<n>-lock.
    # Ending the primary client (foot) makes cage exit 0 and clean its sockets.
    FOOT=$(pgrep -P "$CAGE_PID" -x foot); [ -n "$FOOT" ] && kill -TERM "$FOOT"
    for i in $(seq 100); do kill -0 "$CAGE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$CAGE_PID" 2>/dev/null && { log "cage still alive -> SIGKILL"; kill -KILL "$CAGE_PID"; }
    wait "$CAGE_PID" 2>/dev/null; log "cage exit status $?"
  fi
  sleep 0.2
  LEFT=$(pgrep -u "$U" -a || true); [ -n "$LEFT" ] && { log "LEFTOVER processes: $LEFT"; kill -KILL $(pgrep -u "$U"); }
  log "runtime dir left: [$(ls -A "$RT" 2>/dev/null | tr '\n' ' ')]"; rm -rf "$RT"
}
trap teardown EXIT

# (1) start cage+foot+app as $U.  No `cage -d`: with -d foot's buffer is exactly 1280x720, cage direct-scans it
#     out, and wlr-screencopy (grim) then returns a stale/black frame.
"${AS_USER[@]}" "${USERENV[@]}" cage -- foot -c "$BASE/foot.ini" -- "$APP_PY" "$BASE/app.py" >"$OUT/cage.log" 2>&1 &
CAGE_PID=$!
log "cage pid $CAGE_PID"
for i in $(seq 100); do [ -S "$RT/wayland-0" ] && break; kill -0 "$CAGE_PID" 2>/dev/null || break; sleep 0.05; done
log "wayland socket up"

# (2) wait for the app's first settled frame (blank foot = 3 colours; Textual UI = many)
w=$($H wait-frame "$GRIM" "$OUT/0-start.png" 30 20 "$CAGE_PID") || { log "no app frame: cage exited early (cage exits 0 even if foot failed):"; grep -E "err:|ERROR" "$OUT/cage.log" | grep -v drmGetDevices2; exit 1; }
log "first stable app frame (waited ${w}s)"

APP_PID=$(pgrep -P "$(pgrep -P "$CAGE_PID" -x foot)" | head -1)
log "app pid $APP_PID tty $(readlink /proc/$APP_PID/fd/0)"

# (3) keys: ASCII, arrows, backspace, UTF-8 Japanese, End, Enter, Tab
${INJECT_WRAP:-} $H inject "$APP_PID" "Yamada" @left @left @bs "山田" @end " 太郎" @enter @tab "abc"
log "keys injected"
w=$($H wait-frame "$GRIM" "$OUT/1-after-keys.png" 10 20); log "settled after keys (${w}s)"

# (4) OCR + assertions
RC=0
$H ocr "$OUT/1-after-keys.png" "受付 山田太郎 さま" "Yam山田da 太郎" "OK:Yam山田da 太郎" "abc" || RC=1
log "OCR done rc=$RC"
exit $RC
